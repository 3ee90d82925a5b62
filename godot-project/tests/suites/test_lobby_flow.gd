## The trading lobby with two game instances against the real backend: this
## process opens a room through the lobby scene, starts a second headless
## Godot (`tests/peer/lobby_peer.gd`, its own user:// and account) that joins
## by code; chat and positions cross over the WebSocket; this side offers
## Thrusters level 1 for 60 credits, the peer accepts with the trade
## window's button and then tries again (refused, shown as an error). Both
## states change exactly once and match the server's /player; the peer
## reports its own checks in a result file and its exit code, and its log
## must be as clean as this one's.
extends GameTestSuite

const PASSWORD := "orbital-debris-42"
const PEER_SPOT := Vector2(1234, 321)
const LOG_FAILURES := ["SCRIPT ERROR", "ERROR: [panic", "panicked at",
	"ObjectDB instances leaked at exit", "Parse Error", "Segmentation fault"]

var _client: Node
var _state: Node
var _floor: Node
var _peer_pid := -1
var _ready_to_run := false
var _username := ""


func before_each() -> void:
	_ready_to_run = false
	_peer_pid = -1
	if not await BackendHelpers.require(self):
		return
	if not check(OS.get_environment("COTS_GODOT_BIN") != "" and OS.get_environment("COTS_GODOT_PROJECT") != "",
			"scripts/godot-project.sh exports COTS_GODOT_BIN and COTS_GODOT_PROJECT"):
		return
	_client = BackendHelpers.reset_client(get_tree())
	_state = get_tree().root.get_node("GameState")
	_username = BackendHelpers.fresh_username("broker")
	if not check(await LobbyHelpers.sign_up(get_tree(), _client, _username, PASSWORD), "signed in"):
		return
	_state.refresh_player()
	if not check(await wait_until(func(): return _state.has_player(), 10.0), "player loaded"):
		return
	_ready_to_run = true


func after_each() -> void:
	_stop_peer()
	if _floor and is_instance_valid(_floor):
		_floor.queue_free()
		await get_tree().process_frame
	_floor = null
	if _client:
		BackendHelpers.reset_client(get_tree())


func _stop_peer() -> void:
	if _peer_pid > 0 and OS.is_process_running(_peer_pid):
		OS.kill(_peer_pid)
	_peer_pid = -1


func _start_peer(code: String, result_path: String, log_path: String) -> int:
	var data := OS.get_environment("COTS_GODOT_DATA")
	var peer_data := (data if data != "" else OS.get_user_data_dir()).path_join("lobby-peer")
	DirAccess.make_dir_recursive_absolute(peer_data)
	# The wrapper reads COTS_GODOT_DATA at start: the peer gets its own user://.
	OS.set_environment("COTS_GODOT_DATA", peer_data)
	var args := PackedStringArray([
		"-c", 'log="$1"; shift; exec "$0" "$@" >"$log" 2>&1',
		OS.get_environment("COTS_GODOT_BIN"), log_path,
		"--headless", "--audio-driver", "Dummy",
		"--path", OS.get_environment("COTS_GODOT_PROJECT"),
		"--script", "res://tests/peer/lobby_peer.gd",
		"--", "--lobby=%s" % code, "--result=%s" % result_path, "--main=%s" % _username,
	])
	var pid := OS.create_process("bash", args)
	OS.set_environment("COTS_GODOT_DATA", data)
	return pid


## Presses Esc (the `pause` action) and waits until `done` holds.
func _press_pause(done: Callable) -> bool:
	for pressed in [true, false]:
		var esc := InputEventAction.new()
		esc.action = "pause"
		esc.pressed = pressed
		Input.parse_input_event(esc)
		await get_tree().process_frame
	return await wait_until(done, 5.0)


## Dismisses whatever the overlay shows (so the queue moves on) until `id` was shown.
func _overlay_has_shown(overlay: Node, id: String) -> bool:
	if overlay.shown_count(id) > 0:
		return true
	if overlay.current_id() != "":
		overlay.dismiss()
	return false


func _has_line(fragment: String) -> bool:
	for line in _floor.chat_lines():
		if line.contains(fragment):
			return true
	return false


func test_two_players_chat_walk_and_trade() -> void:
	if not _ready_to_run:
		return
	# Something to trade: Thrusters level 1 for the 100 starting credits,
	# bought docked at a hub of a zone run.
	var zone: Node = load("res://scenes/zone/zone.tscn").instantiate()
	add_child(zone)
	check(await wait_until(func(): return zone.is_running(), 15.0), "the server started a run")
	check(await BackendHelpers.dock_at_nearest_hub(get_tree(), zone), "docked at a hub")
	_state.purchase_upgrade("speed_boost")
	check(await wait_until(func(): return _state.upgrade_level("speed_boost") == 1 and _state.credits() == 0, 10.0),
		"bought Thrusters 1 (level %d, %d CR)" % [_state.upgrade_level("speed_boost"), _state.credits()])
	zone.queue_free()
	await get_tree().process_frame

	_floor = load("res://scenes/lobby/trading_floor.tscn").instantiate()
	add_child(_floor)
	_floor.create_room()
	if not check(await wait_until(func(): return _floor.room_code() != "" and _floor.is_linked(), 15.0),
			"room opened and its channel is up (%s)" % _floor.entry_status()):
		return
	var code: String = _floor.room_code()
	check(_floor.room_label_text().contains(code), "the room code is shown")

	var data := OS.get_environment("COTS_GODOT_DATA")
	var base := data if data != "" else OS.get_user_data_dir()
	var result_path := base.path_join("lobby-peer-result.json")
	var log_dir := OS.get_environment("COTS_GODOT_LOG_DIR")
	var log_path := (log_dir if log_dir != "" else base).path_join("lobby-peer.log")
	DirAccess.remove_absolute(result_path)
	_peer_pid = _start_peer(code, result_path, log_path)
	if not check(_peer_pid > 0, "the peer process started"):
		return

	# The peer joins: it shows up in the member list with an avatar.
	# (Up to two minutes: the peer may wait out the auth rate limit.)
	if not check(await wait_until(func(): return _floor.member_names().size() == 2, 150.0),
			"the peer joined the room (members: %s)" % str(_floor.member_names())):
		return
	var peer_name: String = ""
	for name in _floor.member_names():
		if name != _username:
			peer_name = name
	var avatar: Node = _floor.avatar(peer_name)
	check(avatar != null and avatar.name_tag_text() == peer_name, "the peer's avatar carries its name tag")

	# Chat both ways (the peer says when its channel is up).
	check(await wait_until(func(): return _has_line("%s: peer linked" % peer_name), 30.0),
		"the peer's first chat line arrived: %s" % str(_floor.chat_lines()))
	_floor.send_chat("hello from main")
	check(await wait_until(func(): return _has_line("%s: hello from peer" % peer_name), 30.0),
		"the peer's chat line arrived: %s" % str(_floor.chat_lines()))
	# The peer walked to a known spot: its avatar follows here.
	check(await wait_until(func(): return avatar.position.distance_to(PEER_SPOT) < 2.0, 10.0),
		"the peer's position update moved its avatar (at %s)" % str(avatar.position))

	# Offer Thrusters 1 for 60 credits through the trade window.
	check(_floor.open_trade_with(peer_name), "the trade window opens from the member list")
	var window: Node = _floor.get_node("%TradeWindow")
	window.set_amount("give", "speed_boost", 1)
	window.set_amount("want", "credits", 60)
	window.get_node("%OfferButton").pressed.emit()
	check(await wait_until(func(): return window.shown_status() == "pending", 10.0),
		"the offer is pending (%s)" % window.status_text())
	# The peer accepts; this side sees it live over the channel.
	check(await wait_until(func(): return window.shown_status() == "completed", 60.0),
		"the completion reached this side live (%s)" % window.status_text())
	check(await wait_until(func(): return _state.credits() == 60 and _state.upgrade_level("speed_boost") == 0, 10.0),
		"this side after the trade: 60 CR, Thrusters 0 (got %d CR, level %d)"
		% [_state.credits(), _state.upgrade_level("speed_boost")])
	_state.verify_against_server()
	var answer: Array = await _state.server_check_finished
	check(answer[0], "client state equals the server's /player: %s" % answer[1])
	# The station AI speaks on the floor too: the first room joined and the
	# first completed trade, each once.
	var overlay: Node = _floor.get_node("Overlays/AiOverlay")
	check(await wait_until(func(): return _overlay_has_shown(overlay, "first_trade"), 30.0),
		"the first-trade message was shown (shown: %s)" % str(overlay.shown_ids()))
	check_eq(overlay.shown_count("first_lobby"), 1, "the first-lobby message shown once")
	check_eq(overlay.shown_count("first_trade"), 1, "the first-trade message shown once")
	var menu: Node = _floor.get_node("Overlays/PauseMenu")
	check(window.is_visible(), "the trade window still shows the completed offer")
	# Esc closes the trade window first; on the bare floor it opens the pause
	# menu, which holds the floor.
	check(await _press_pause(func(): return not window.is_visible()), "Esc closed the trade window")
	check(not menu.is_open(), "... and did not open the pause menu")
	check(await _press_pause(func(): return menu.is_open() and get_tree().paused),
		"the pause menu opened over the floor and paused it")
	menu.resume()
	check(not get_tree().paused, "resume unpauses the floor")

	# The peer's own checks, exit code and log.
	check(await wait_until(func(): return FileAccess.file_exists(result_path), 40.0), "the peer wrote its result")
	var report = JSON.parse_string(FileAccess.get_file_as_string(result_path))
	if check(report is Dictionary, "the peer's result is JSON"):
		check(report.get("ok", false), "the peer's checks held: %s" % str(report.get("failures")))
		# Conserved across both players: 100 CR left after the purchase, one level.
		check_eq(int(report.get("credits", -1)) + _state.credits(), 100, "credits conserved")
		check_eq(int(report.get("speed_boost", -1)) + _state.upgrade_level("speed_boost"), 1,
			"upgrade levels conserved")
		check(str(report.get("second_accept_status", "")).contains("no longer open"),
			"the second accept was refused on the peer's screen")
	check(await wait_until(func(): return not OS.is_process_running(_peer_pid), 30.0), "the peer quit")
	check_eq(OS.get_process_exit_code(_peer_pid), 0, "peer exit code")
	var peer_log := FileAccess.get_file_as_string(log_path)
	check(peer_log.contains("Initialize godot-rust"), "the peer loaded the extension")
	for pattern in LOG_FAILURES:
		check(not peer_log.contains(pattern), "the peer's log has no '%s' (%s)" % [pattern, log_path])
	# Still here and still linked; nothing else changed.
	check(_floor.is_linked(), "this side's channel stayed up")
