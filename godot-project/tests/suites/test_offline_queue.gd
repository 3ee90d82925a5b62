## Offline play against a backend of the test's own (OwnBackend): kill it
## mid-run, keep flying, collect and sell while offline (queued, persisted to
## disk), simulate a restart of the game, restart the backend on the same
## database and port; the queue replays and the server equals the client,
## nothing lost or doubled. A replay the server refuses for good is dropped
## with an explanation.
extends GameTestSuite

const PASSWORD := "orbital-debris-42"

var _own: OwnBackend
var _saved_url := ""
var _client: Node
var _state: Node
var _ready_to_run := false
var _username := ""


func before_each() -> void:
	_ready_to_run = false
	if not OwnBackend.available():
		# The harness that promised a backend also exports its binary.
		if not check(BackendHelpers.backend_url() == "",
				"COTS_BACKEND_URL is set, so COTS_BACKEND_BIN must be too"):
			return
		print("        SKIPPED %s: COTS_BACKEND_BIN not set" % _current)
		return
	_own = OwnBackend.new()
	if not check(await _own.start(self), "own backend started on port %d" % _own.port):
		return
	_saved_url = OS.get_environment("COTS_BACKEND_URL")
	OS.set_environment("COTS_BACKEND_URL", _own.url)
	_client = BackendHelpers.reset_client(get_tree())
	check_eq(_client.backend_url(), _own.url, "the client talks to our backend")
	_state = get_tree().root.get_node("GameState")
	_state.retry_base_s = 0.2
	_state.retry_max_s = 1.0
	_client.offline_probe_s = 0.5
	_username = BackendHelpers.fresh_username("drifter")
	_client.create_account("%s@example.org" % _username.to_lower(), _username, PASSWORD)
	_ready_to_run = check(await wait_until(func(): return _client.is_signed_in(), 20.0), "signed in")


func after_each() -> void:
	BackendHelpers.release_flight()
	get_tree().paused = false
	if _own:
		_own.stop()
		_own.remove_data()
		_own = null
	if _state:
		_state.retry_base_s = 1.0
		_state.retry_max_s = 30.0
	if _client:
		_client.offline_probe_s = 3.0
	if _saved_url != "":
		OS.set_environment("COTS_BACKEND_URL", _saved_url)
	if _client:
		BackendHelpers.reset_client(get_tree())


func _read_queue() -> Dictionary:
	var path: String = _state.queue_file_path()
	if path == "" or not FileAccess.file_exists(path):
		return {}
	var data = JSON.parse_string(FileAccess.get_file_as_string(path))
	return data if data is Dictionary else {}


func _queued_pieces(queue: Dictionary) -> int:
	var n := 0
	for op in queue.get("ops", []):
		if op.op == "collect":
			n += op.pieces.size()
	return n + queue.get("unsent", []).size()


func test_offline_collect_and_sell_replay_after_restart() -> void:
	if not _ready_to_run:
		return
	var zone: Node = load("res://scenes/zone/zone.tscn").instantiate()
	add_child(zone)
	if not check(await wait_until(func(): return zone.is_running() and _state.has_player(), 15.0), "run started"):
		zone.queue_free()
		return
	var values: Array[int] = []
	zone.collected.connect(func(_i, _k, v): values.append(v))
	var hud: Node = zone.get_node("Ui/Hud")
	check(hud.status_text().contains("ONLINE"), "online: %s" % hud.status_text())
	check(hud.status_text().contains("SIGNED IN AS %s" % _username), "names the pilot: %s" % hud.status_text())

	# One piece while online.
	check(await BackendHelpers.collect_nearest(get_tree(), zone, _state), "collected online")
	check(await wait_until(func(): return _state.pending_collections() == 0, 10.0), "judged online")
	var online_n := values.size()

	# The backend dies mid-run.
	_own.stop()
	var run_id: String = zone.run_id()
	check(await BackendHelpers.collect_nearest(get_tree(), zone, _state), "collected offline (1)")
	check(await BackendHelpers.collect_nearest(get_tree(), zone, _state), "collected offline (2)")
	check(await wait_until(func(): return not _client.is_online(), 10.0), "the client noticed")
	check(zone.is_running(), "the game keeps running")
	check(await wait_until(func(): return hud.status_text().contains("OFFLINE — "), 3.0),
		"HUD says offline: %s" % hud.status_text())
	check(hud.status_text().contains("QUEUED"), "and queued: %s" % hud.status_text())

	# A zone change needs the station: refused with a message, run kept.
	zone.get_node("Ui/HubPanel").travel_requested.emit(1)
	await get_tree().process_frame
	check(hud.notice_text().contains("REQUIRES THE STATION LINK"), "transit refused: %s" % hud.notice_text())
	check_eq(zone.run_id(), run_id, "still flying the same run")

	# Sell everything while offline, docked at a hub (the sale carries the
	# dock claim, in the file too): predicted at once, queued.
	check(await BackendHelpers.dock_at_nearest_hub(get_tree(), zone), "docked at a hub while offline")
	var expected_credits := 100
	for v in values:
		expected_credits += v
	_state.sell_all()
	var answer: Array = await _state.sale_finished
	check_eq(answer[2], "queued", "the sale is queued")
	check_eq(_state.hold_used(), 0, "the hold shows empty at once")
	check_eq(_state.credits(), expected_credits, "credits predicted with the shared rules")
	check(_state.queued_operations() >= 2, "collections and the sale wait: %d" % _state.queued_operations())

	# Persisted to disk, atomically (no temporary file left).
	_state.save_queue_now()
	var queue := _read_queue()
	check_eq(queue.get("username", ""), _username, "the queue file names the account")
	check_eq(_queued_pieces(queue), values.size() - online_n, "every offline piece is in the file")
	var kinds := (queue.get("ops", []) as Array).map(func(op): return op.op)
	check(kinds.has("sell"), "the sale is in the file: %s" % [kinds])
	check_eq(kinds.back(), "sell", "the sale comes after the collections")
	var sale: Dictionary = (queue.get("ops", []) as Array).back()
	var dock = sale.get("request", {}).get("dock")
	check(dock is Dictionary and dock.get("run_id", "") == run_id and int(dock.get("hub", -1)) >= 0,
		"the queued sale carries its dock claim: %s" % [dock])
	for op in queue.get("ops", []):
		check(String(op.key).length() == 36, "every op has an Idempotency-Key")
	check(not FileAccess.file_exists(String(_state.queue_file_path()) + ".tmp"), "no temporary file")

	# Simulated restart of the game while offline: memory gone, file stays.
	zone.queue_free()
	await get_tree().process_frame
	_client.forget_memory()
	_state.reset()
	check_eq(_state.queued_operations(), 0, "memory wiped")

	# The backend comes back on the same database and port.
	check(await _own.start(self), "backend restarted")
	_client.restore_session()
	check(await wait_until(func(): return _client.is_signed_in(), 15.0), "session restored")
	check(await wait_until(func(): return _state.queued_operations() == 0 and _state.has_player(), 20.0),
		"the queue replayed (%d left)" % _state.queued_operations())
	check_eq(_state.pending_collections(), 0, "every piece judged")
	_state.verify_against_server()
	var verdict: Array = await _state.server_check_finished
	check(verdict[0], "server state equals client state: %s" % verdict[1])
	check_eq(_state.credits(), expected_credits, "paid exactly once for %d pieces" % values.size())
	check_eq(_state.debris_collected(), values.size(), "every piece on the server, none lost or doubled")
	check_eq(_state.hold_used(), 0, "nothing left in the hold")
	check_eq(_queued_pieces(_read_queue()), 0, "the file is empty again")
	check_eq((_read_queue().get("ops", []) as Array).size(), 0, "no ops left in the file")


func test_a_refused_replay_is_dropped_with_an_explanation() -> void:
	if not _ready_to_run:
		return
	_state.refresh_player()
	check(await wait_until(func(): return _state.has_player(), 10.0), "player loaded")
	# Buying needs the ship docked at a hub.
	var zone: Node = load("res://scenes/zone/zone.tscn").instantiate()
	add_child(zone)
	check(await wait_until(func(): return zone.is_running(), 15.0), "run started")
	check(await BackendHelpers.dock_at_nearest_hub(get_tree(), zone), "docked at a hub")
	_own.stop()
	# 100 CR cannot pay for Deep Space Clearance (500 CR): the server will say 409.
	_state.purchase_upgrade("zone_access")
	var answer: Array = await _state.purchase_finished
	check_eq(answer[3], "queued", "queued while offline")
	var dropped := []
	_state.queued_operation_dropped.connect(func(what, code, message): dropped.append([what, code, message]))
	check(await _own.start(self), "backend restarted")
	check(await wait_until(func(): return dropped.size() == 1, 15.0), "dropped with an explanation")
	if dropped.size() == 1:
		check_eq(dropped[0][1], "insufficient_credits", "the server's code")
		check(String(dropped[0][0]).contains("zone_access"), "says what: %s" % dropped[0][0])
	check_eq(_state.queued_operations(), 0, "not retried forever")
	check_eq(_state.upgrade_level("zone_access"), 0, "the prediction is undone")
	check_eq(_state.credits(), 100, "credits back to the server's")
	zone.queue_free()
