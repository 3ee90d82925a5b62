## The second player of `tests/suites/test_lobby_flow.gd`, run as its own
## Godot process (own user:// through COTS_GODOT_DATA, same backend):
##
##   godot --headless --path godot-project --script res://tests/peer/lobby_peer.gd \
##       -- --lobby=CODE --result=/abs/path.json
##
## Signs up, joins room CODE through the real lobby scene, answers the main
## player's chat line, walks to a known spot, waits for their offer, accepts
## it with the trade window's button, checks its own state against the
## server, then accepts again and expects the refusal on screen. Writes what
## it saw to the result file and exits 0 only if every check held.
## Tests only: no game logic here.
extends SceneTree

const PASSWORD := "orbital-debris-42"
const WATCHDOG_SECONDS := 240.0
const PEER_SPOT := Vector2(1234, 321)

var _failures: PackedStringArray = []
var _result_path := ""
var _report := {}
var _floor: Node


func _initialize() -> void:
	create_timer(WATCHDOG_SECONDS).timeout.connect(_on_watchdog)
	_run.call_deferred()


func _arg(prefix: String) -> String:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with(prefix):
			return arg.substr(prefix.length())
	return ""


func _check(condition: bool, what: String) -> bool:
	if not condition:
		_failures.append(what)
		printerr("lobby peer: FAILED: ", what)
	return condition


func _wait_until(predicate: Callable, timeout_s: float) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while Time.get_ticks_msec() < deadline:
		if predicate.call():
			return true
		await process_frame
	return predicate.call()


func _on_watchdog() -> void:
	_failures.append("the peer's watchdog fired after %d s" % WATCHDOG_SECONDS)
	await _finish()


func _run() -> void:
	_result_path = _arg("--result=")
	var code := _arg("--lobby=")
	var main_name := _arg("--main=")
	await process_frame
	if not _check(code != "" and _result_path != "", "arguments --lobby= and --result= given"):
		await _finish()
		return
	var client := root.get_node("BackendClient")
	var state := root.get_node("GameState")
	client.session_file = "user://peer-session.dat"
	var username := "peer_%d_%d" % [Time.get_unix_time_from_system() as int % 100000, randi() % 10000]
	_report["username"] = username
	if not _check(await LobbyHelpers.sign_up(self, client, username, PASSWORD, 100.0), "peer signed in"):
		await _finish()
		return
	state.refresh_player()
	_check(await _wait_until(func(): return state.has_player(), 15.0), "peer has its player")
	# Start credits are not transferable before the account has earned its
	# own or verified its email: the peer confirms its address with the code
	# the station mailed (the test backend's development outbox).
	_check(await _verify_email(client.backend_url(), "%s@example.org" % username.to_lower()),
		"peer verified its email (its start credits may pay for the trade)")

	_floor = load("res://scenes/lobby/trading_floor.tscn").instantiate()
	root.add_child(_floor)
	_floor.join_room(code)
	if not _check(await _wait_until(func(): return _floor.room_code() == code and _floor.is_linked(), 20.0),
			"peer joined room %s and its channel is up (entry says: %s)" % [code, _floor.entry_status()]):
		await _finish()
		return

	# Chat both ways: say when listening, then wait for the main player's line.
	_floor.send_chat("peer linked")
	_check(await _wait_until(func(): return _has_line("hello from main"), 30.0),
		"the main player's chat line reached the peer")
	_floor.place_self(PEER_SPOT)
	_floor.send_chat("hello from peer")

	# The offer arrives live and opens the trade window.
	var window: Node = _floor.get_node("%TradeWindow")
	if not _check(await _wait_until(func(): return window.is_open() and window.shown_status() == "pending", 40.0),
			"the main player's offer reached the peer's trade window"):
		await _finish()
		return
	_check(window.partner() == main_name, "the offer comes from %s (got %s)" % [main_name, window.partner()])
	_report["offer_summary"] = window.summary_text()
	_check("accept" in window.visible_actions(), "the receiver sees ACCEPT")
	window.get_node("%AcceptButton").pressed.emit()
	_check(await _wait_until(func(): return window.shown_status() == "completed", 20.0),
		"the accept completed the trade (status: %s)" % window.status_text())
	_check(await _wait_until(func(): return state.credits() == 40 and state.upgrade_level("speed_boost") == 1, 10.0),
		"peer state after the trade: 40 CR and Thrusters 1 (got %d CR, level %d)"
		% [state.credits(), state.upgrade_level("speed_boost")])
	state.verify_against_server()
	var answer: Array = await state.server_check_finished
	_check(answer[0], "peer client state equals the server's /player: %s" % answer[1])

	# A second accept is refused by the server and explained on screen.
	window.accept()
	var refused := await _wait_until(func(): return window.status_text().contains("no longer open"), 15.0)
	_check(refused, "a second accept is shown as refused (status: %s)" % window.status_text())
	_report["second_accept_status"] = window.status_text()
	for i in 30:
		await process_frame
	_check(state.credits() == 40 and state.upgrade_level("speed_boost") == 1,
		"nothing changed after the refused second accept")
	_report["credits"] = state.credits()
	_report["speed_boost"] = state.upgrade_level("speed_boost")
	await _finish()


## Reads the confirmation code from the test backend's development outbox
## (`backend outbox`, COTS_BACKEND_BIN on COTS_BACKEND_DATABASE_URL) and
## posts it to /auth/verify-email. True on 204.
func _verify_email(url: String, email: String) -> bool:
	var bin := OS.get_environment("COTS_BACKEND_BIN")
	var database := OS.get_environment("COTS_BACKEND_DATABASE_URL")
	if not _check(bin != "" and database != "", "COTS_BACKEND_BIN and COTS_BACKEND_DATABASE_URL are set"):
		return false
	OS.set_environment("DATABASE_URL", database)
	OS.set_environment("DATA_DIR", OS.get_user_data_dir().path_join("outbox-cli"))
	OS.set_environment("RUST_LOG", "error")
	var code := ""
	for attempt in 40:
		var output := []
		OS.execute(bin, ["outbox", "--to", email, "--limit", "5"], output, true)
		for line in "\n".join(output).split("\n"):
			var at := line.find("code: ")
			if at >= 0 and code == "":
				code = line.substr(at + 6).strip_edges()
		if code != "":
			break
		await create_timer(0.25).timeout
	if not _check(code != "", "a confirmation code was mailed to %s" % email):
		return false
	var http := HTTPRequest.new()
	root.add_child(http)
	http.request(url + "/api/v1/auth/verify-email", ["Content-Type: application/json"],
		HTTPClient.METHOD_POST, JSON.stringify({"token": code}))
	var result: Array = await http.request_completed
	http.queue_free()
	return result[1] == 204


func _has_line(fragment: String) -> bool:
	for line in _floor.chat_lines():
		if line.contains(fragment):
			return true
	return false


func _finish() -> void:
	_report["ok"] = _failures.is_empty()
	_report["failures"] = _failures
	if _result_path != "":
		# Written aside, then renamed: the main test never reads half a file.
		var partial := _result_path + ".partial"
		var file := FileAccess.open(partial, FileAccess.WRITE)
		if file:
			file.store_string(JSON.stringify(_report))
			file.close()
			DirAccess.rename_absolute(partial, _result_path)
	if _floor and is_instance_valid(_floor):
		_floor.queue_free()
	root.get_node("BackendClient").clear_stored_session()
	# Let the socket close and the freed nodes go before quitting.
	for i in 10:
		await process_frame
	quit(0 if _failures.is_empty() else 1)
