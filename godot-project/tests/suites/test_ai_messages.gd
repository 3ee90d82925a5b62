## Station AI messages against the real backend: the server unlocks
## first_collection, first_sale and first_upgrade as side effects of the
## economy calls; the overlay shows each exactly once (typewriter, dismissed
## with a key), the log lists them, and after a simulated restart (memory
## wiped, session restored) none shows again.
extends GameTestSuite

const PASSWORD := "orbital-debris-42"

var _client: Node
var _state: Node
var _ready_to_run := false


func before_each() -> void:
	_ready_to_run = false
	if not await BackendHelpers.require(self):
		return
	_client = BackendHelpers.reset_client(get_tree())
	_state = get_tree().root.get_node("GameState")
	var username := BackendHelpers.fresh_username("herald")
	_client.create_account("%s@example.org" % username.to_lower(), username, PASSWORD)
	_ready_to_run = check(await wait_until(func(): return _client.is_signed_in(), 15.0), "signed in")


func after_each() -> void:
	BackendHelpers.release_flight()
	get_tree().paused = false
	if _client:
		BackendHelpers.reset_client(get_tree())


func _start_zone() -> Node:
	var zone: Node = load("res://scenes/zone/zone.tscn").instantiate()
	add_child(zone)
	check(await wait_until(func(): return zone.is_running() and _state.has_player(), 15.0),
		"the server started a run")
	return zone


func _shown(overlay: Node, id: String) -> int:
	return overlay.shown_count(id)


func test_milestone_messages_show_once_and_not_after_a_restart() -> void:
	if not _ready_to_run:
		return
	var zone := await _start_zone()
	var overlay: Node = zone.get_node("Ui/AiOverlay")
	check_eq(overlay.shown_ids().size(), 0, "a new pilot has no messages yet")

	# First collection.
	check(await BackendHelpers.collect_nearest(get_tree(), zone, _state), "collected a piece")
	check(await wait_until(func(): return _shown(overlay, "first_collection") == 1, 10.0),
		"first_collection shown: %s" % [overlay.shown_ids()])
	check(overlay.visible, "the overlay is on screen")
	var full: String = _state.message_list().filter(func(m): return m.id == "first_collection")[0].text
	check(overlay.visible_text().length() < full.length(), "the text types itself out")
	await BackendHelpers.tap(get_tree(), "dismiss")
	check_eq(overlay.current_id(), "", "dismissed with the dismiss key")
	check(not overlay.visible, "the overlay is gone")

	# A second collection does not fire it again.
	check(await BackendHelpers.collect_nearest(get_tree(), zone, _state), "collected another piece")
	check(await wait_until(func(): return _state.pending_collections() == 0, 10.0), "judged")
	await get_tree().create_timer(1.0).timeout
	check_eq(_shown(overlay, "first_collection"), 1, "first_collection still shown once")

	# First sale, then a second sale, each docked at a hub.
	check(await BackendHelpers.dock_at_nearest_hub(get_tree(), zone), "docked for the first sale")
	_state.sell_all()
	check(await wait_until(func(): return _shown(overlay, "first_sale") == 1, 10.0),
		"first_sale shown: %s" % [overlay.shown_ids()])
	overlay.dismiss()
	check(await BackendHelpers.collect_nearest(get_tree(), zone, _state), "collected a third piece")
	check(await BackendHelpers.dock_at_nearest_hub(get_tree(), zone), "docked for the second sale")
	_state.sell_all()
	var answer: Array = await _state.sale_finished
	check(answer[0], "second sale went through")
	await get_tree().create_timer(1.0).timeout
	check_eq(_shown(overlay, "first_sale"), 1, "a second sale does not fire it again")

	# First upgrade: the message times out by itself too.
	overlay.auto_dismiss_s = 0.5
	overlay.chars_per_second = 500.0
	_state.purchase_upgrade("speed_boost")
	var bought: Array = await _state.purchase_finished
	check(bought[1], "the purchase went through: %s" % [bought])
	check(await wait_until(func(): return _shown(overlay, "first_upgrade") == 1, 10.0),
		"first_upgrade shown: %s" % [overlay.shown_ids()])
	check(await wait_until(func(): return overlay.current_id() == "", 5.0), "auto-dismissed")
	for id in ["first_collection", "first_sale", "first_upgrade"]:
		check_eq(_shown(overlay, id), 1, "%s shown exactly once" % id)

	# The log lists them, newest first.
	await BackendHelpers.tap(get_tree(), "message_log")
	var msg_log: Node = zone.get_node("Ui/PauseMenu/MessageLog")
	check(msg_log.is_open(), "M opens the message log")
	check(get_tree().paused, "reading the log holds the game")
	check(await wait_until(func(): return msg_log.entry_count() >= 3, 5.0), "three entries")
	check(msg_log.entry_text(0).begins_with("Hardware modification"), "newest first: %s" % msg_log.entry_text(0))
	await BackendHelpers.tap(get_tree(), "message_log")
	check(not msg_log.is_open(), "M closes it")
	check(not get_tree().paused, "and the game resumes")

	# The server recorded them as seen.
	check(await wait_until(func(): return _state.message_list().size() >= 3, 5.0), "listed")
	_state.fetch_messages()
	await _state.messages_changed
	for m in _state.message_list():
		check(m.seen, "%s recorded as seen on the server" % m.id)

	# Simulated restart: wipe memory, restore the session, fly again.
	zone.queue_free()
	await get_tree().process_frame
	_client.forget_memory()
	_state.reset()
	_client.restore_session()
	check(await wait_until(func(): return _client.is_signed_in(), 15.0), "session restored")
	var again := await _start_zone()
	var overlay2: Node = again.get_node("Ui/AiOverlay")
	check(await wait_until(func(): return _state.message_list().size() >= 3, 10.0),
		"messages fetched after the restart")
	await get_tree().create_timer(1.0).timeout
	check_eq(overlay2.shown_ids().size(), 0, "nothing shows again after a restart")
	again.queue_free()
	await get_tree().process_frame
