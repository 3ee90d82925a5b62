## The game loop against the real backend: start a seeded run, fly with the
## InputMap actions to a known piece, collect it (HUD changes), fill the hold,
## fly to a hub, sell through the panel, buy upgrades through the panel
## (confirm dialog), measure the effect, and compare with the server.
## SKIPPED without a backend; FAILED when the promised one does not answer.
extends GameTestSuite

const PASSWORD := "orbital-debris-42"

var _client: Node
var _state: Node
var _ready_to_run := false


func before_each() -> void:
	_ready_to_run = false
	if not await BackendHelpers.require(self):
		return
	# 401 = the route exists and wants a token; 404 = not served: a failure.
	var player_status := await BackendHelpers.probe(self, "/api/v1/player")
	var runs_status := await BackendHelpers.probe(self, "/api/v1/zones/1/runs", HTTPClient.METHOD_POST)
	if not check(player_status != 404 and runs_status != 404,
			"the backend serves the economy endpoints (player %d, runs %d)"
			% [player_status, runs_status]):
		return
	_client = BackendHelpers.reset_client(get_tree())
	_state = get_tree().root.get_node("GameState")
	var username := BackendHelpers.fresh_username("salvor")
	_client.create_account("%s@example.org" % username.to_lower(), username, PASSWORD)
	if not check(await wait_until(func(): return _client.is_signed_in(), 15.0), "signed in"):
		return
	_ready_to_run = true


func after_each() -> void:
	BackendHelpers.release_flight()
	if _client:
		BackendHelpers.reset_client(get_tree())


func _start_zone() -> Node:
	var zone: Node = load("res://scenes/zone/zone.tscn").instantiate()
	add_child(zone)
	var running := await wait_until(func(): return zone.is_running() and _state.has_player(), 15.0)
	check(running, "the server started a run and sent the player")
	return zone


## Flies to the nearest piece and collects it; returns whether the hold grew.
func _collect_nearest(zone: Node, timeout_s: float) -> bool:
	var before: int = _state.hold_used()
	var index: int = zone.nearest_debris(zone.ship_position(), 4000.0)
	if index < 0:
		return false
	await BackendHelpers.fly_to(get_tree(), zone, func(): return zone.debris_position(index),
		20.0, timeout_s, true)
	# The piece is gone once collected; give the cooldown a moment.
	await wait_until(func(): return _state.hold_used() > before, 1.5)
	BackendHelpers.release_flight()
	return _state.hold_used() > before


func test_collect_sell_upgrade_round_trip() -> void:
	if not _ready_to_run:
		return
	var zone := await _start_zone()
	if not zone.is_running():
		zone.queue_free()
		return
	var hud: Node = zone.get_node("Ui/Hud")
	check(zone.run_id() != "", "a server run id")
	check_eq(hud.hold_text(), "0/10", "empty hold on the HUD")
	check_eq(hud.credits_text(), "CR 100", "starting credits on the HUD")
	check(hud.status_text().contains("SIGNED IN AS"), "HUD names the pilot: %s" % hud.status_text())

	# A known piece of the seeded run: the nearest one at the start.
	var first: int = zone.nearest_debris(zone.ship_position(), 4000.0)
	check(first >= 0, "the seeded field has a piece near the spawn")
	var effects: Node = zone.get_node("CollectEffects")
	var arrived := await BackendHelpers.fly_to(get_tree(), zone,
		func(): return zone.debris_position(first), 20.0, 30.0, true)
	await wait_until(func(): return zone.collected_count() >= 1, 2.0)
	check(arrived or zone.collected_count() >= 1, "flew to piece %d" % first)
	check(zone.debris_position(first) == null, "piece %d left the field" % first)
	check_eq(hud.hold_text(), "1/10", "HUD counts the piece at once (prediction)")
	check(effects.sounds_played() >= 1, "a blip played")
	check(await wait_until(func(): return _state.pending_collections() == 0, 10.0),
		"the server judged the collection")
	check_eq(_state.hold_used(), 1, "the server accepted the piece")

	# Fill the hold.
	var deadline := Time.get_ticks_msec() + 240_000
	while _state.hold_used() < _state.hold_capacity() and Time.get_ticks_msec() < deadline:
		await _collect_nearest(zone, 25.0)
	check_eq(_state.hold_used(), 10, "the hold is full")
	check_eq(hud.hold_text(), "10/10", "HUD shows a full hold")
	check_eq(hud.hold_bar_colour(), Color(0.95, 0.38, 0.35, 1.0), "the hold bar is red")
	check(await wait_until(func(): return _state.pending_collections() == 0, 10.0),
		"every collection judged")

	# Fly to the nearest hub and dock with F.
	await BackendHelpers.fly_to(get_tree(), zone, func(): return zone.hub_position(0), 60.0, 60.0)
	check_eq(zone.hub_in_range(), 0, "in range of hub 0")
	await BackendHelpers.tap(get_tree(), "interact")
	check(zone.is_docked(), "docked with F")
	var panel: Node = zone.get_node("Ui/HubPanel")
	check(panel.is_open(), "the hub panel is open")

	# Sell everything through the panel.
	var credits_before: int = _state.credits()
	panel.get_node("%SellAllButton").pressed.emit()
	check(await wait_until(func(): return _state.hold_used() == 0, 10.0), "sold: the hold is empty")
	check(_state.credits() > credits_before, "credits went up (%d -> %d)" % [credits_before, _state.credits()])
	# The state predicts at once; wait for the server's answer, and for the
	# HUD, which redraws on the next frame's player_changed.
	check(await wait_until(func(): return _state.queued_operations() == 0, 10.0), "the sale answered")
	await get_tree().process_frame
	check_eq(hud.credits_text().replace(" ", ""), "CR%d" % _state.credits(), "HUD shows the new credits")
	check_eq(hud.hold_text(), "0/10", "HUD shows the empty hold")

	# Buy Thrusters through the upgrades tab and its confirm dialog.
	panel.show_tab(1)
	var buy: Button = panel.buy_button("speed_boost")
	check(not buy.disabled, "thrusters affordable")
	buy.pressed.emit()
	check(panel.confirm_visible(), "a confirm dialog")
	check(panel.confirm_body().contains("100 CR"), "it shows the cost: %s" % panel.confirm_body())
	check(panel.confirm_body().contains("max speed 280 px/s"), "and the new effect")
	panel.get_node("%ConfirmButton").pressed.emit()
	check(await wait_until(func(): return _state.upgrade_level("speed_boost") == 1, 10.0), "thrusters level 1")
	check(await wait_until(func(): return _state.player_version() > 0 and _state.queued_operations() == 0, 10.0),
		"the purchase answered")
	await get_tree().process_frame
	check_eq(zone.max_speed(), 280.0, "max speed follows at once")

	# A bigger hold if the sale paid for it.
	if _state.credits() >= 200:
		panel.get_node("%Tabs").current_tab = 1
		panel.buy_button("inventory_expansion").pressed.emit()
		panel.get_node("%ConfirmButton").pressed.emit()
		check(await wait_until(func(): return _state.hold_capacity() == 15, 10.0), "cargo bay level 1")
		await get_tree().process_frame
		check_eq(zone.sim_hold_capacity(), 15, "the simulation's hold grew")
		await get_tree().process_frame
		check_eq(hud.hold_text(), "0/15", "HUD shows the bigger hold")

	# Undock and measure the new top speed in flight.
	await BackendHelpers.tap(get_tree(), "interact")
	check(not zone.is_docked(), "undocked with F")
	var top := 0.0
	Input.action_press("move_up")
	var until := Time.get_ticks_msec() + 2500
	while Time.get_ticks_msec() < until:
		await get_tree().physics_frame
		top = maxf(top, zone.ship_speed())
	BackendHelpers.release_flight()
	check(top > 245.0, "faster than the base 240 px/s: %.1f" % top)
	print("        zone flow: %d pieces, %d CR after sale and purchases, top speed %.0f px/s, hold %d"
		% [zone.collected_count(), _state.credits(), top, _state.hold_capacity()])

	# The server agrees with the client.
	_state.verify_against_server()
	var answer: Array = await _state.server_check_finished
	check(answer[0], "server state equals client state: %s" % answer[1])
	zone.queue_free()
	await get_tree().process_frame
