## Helpers for suites that talk to the real backend the harness starts
## (`COTS_TEST_BACKEND=1 scripts/godot-project.sh test`, which exports
## COTS_BACKEND_URL). Tests only: no game logic here.
class_name BackendHelpers
extends RefCounted

const SESSION_FILE := "user://test-session.dat"


## The backend URL the harness exported, or "" when none.
static func backend_url() -> String:
	return OS.get_environment("COTS_BACKEND_URL")


## HTTP status of `method path` without credentials (0 when unreachable).
## Used to tell whether an endpoint exists yet (404 from the router = not yet).
static func probe(host: Node, path: String, method := HTTPClient.METHOD_GET) -> int:
	var url := backend_url()
	if url == "":
		return 0
	var request := HTTPRequest.new()
	request.timeout = 5.0
	host.add_child(request)
	var err := request.request(url + path, PackedStringArray(), method, "")
	if err != OK:
		request.queue_free()
		return 0
	var result: Array = await request.request_completed
	request.queue_free()
	if result[0] != HTTPRequest.RESULT_SUCCESS:
		return 0
	return result[1]


## Whether the backend the harness promised answers. Without a promise
## (COTS_BACKEND_URL unset) the test is SKIPPED and this is false; a promised
## backend that does not answer FAILS the test instead of skipping it.
static func require(suite: GameTestSuite) -> bool:
	if backend_url() == "":
		print("        SKIPPED %s: no backend (run with COTS_TEST_BACKEND=1)" % suite._current)
		return false
	if await probe(suite, "/health") != 200:
		suite.fail("the backend promised at %s (COTS_BACKEND_URL) does not answer /health"
			% backend_url())
		return false
	return true


## A username nobody has used yet (3-24 characters of [A-Za-z0-9_-]).
static func fresh_username(prefix: String) -> String:
	return "%s_%d_%d" % [prefix, Time.get_unix_time_from_system() as int % 100000, randi() % 10000]


## Points the client at a test session file and forgets everything held.
static func reset_client(tree: SceneTree) -> Node:
	var client := tree.root.get_node("BackendClient")
	client.session_file = SESSION_FILE
	client.clear_stored_session()
	client.forget_memory()
	tree.root.get_node("GameState").reset()
	return client


## Presses `action` for one frame through the input pipeline (like a key).
static func tap(tree: SceneTree, action: String) -> void:
	var down := InputEventAction.new()
	down.action = action
	down.pressed = true
	Input.parse_input_event(down)
	await tree.process_frame
	await tree.process_frame
	var up := InputEventAction.new()
	up.action = action
	up.pressed = false
	Input.parse_input_event(up)
	await tree.process_frame


## Releases every flight action.
static func release_flight() -> void:
	for action in ["move_up", "move_down", "turn_left", "turn_right", "collect"]:
		Input.action_release(action)


## Flies the zone's ship to `target()` (a Callable returning a Vector2, or
## null when the target is gone) with the real InputMap actions, arriving
## slowly within `arrive` px. Returns true on arrival, false on timeout or
## when the target vanished. `collect` keeps the collect action held.
static func fly_to(tree: SceneTree, zone: Node, target: Callable, arrive: float,
		timeout_s: float, collect := false) -> bool:
	var braking := 540.0
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while Time.get_ticks_msec() < deadline:
		var goal = target.call()
		if goal == null:
			release_flight()
			return false
		var pos: Vector2 = zone.ship_position()
		var delta: Vector2 = goal - pos
		var dist := delta.length()
		var speed: float = zone.ship_speed()
		if dist < arrive and absf(speed) < 60.0:
			if collect:
				# Arrived at once (a piece by the spawn point): the collect
				# action must still be held through a few ticks.
				release_flight()
				_hold_action(true, "collect")
				for i in 6:
					await tree.physics_frame
			release_flight()
			return true
		var diff := wrapf(delta.angle() - zone.ship_heading(), -PI, PI)
		_hold_action(diff > 0.06, "turn_right")
		_hold_action(diff < -0.06, "turn_left")
		# Speed we can still brake from before arriving.
		var allowed := sqrt(2.0 * braking * maxf(dist - arrive * 0.5, 0.0)) * 0.7
		var aligned := absf(diff) < 0.35
		_hold_action(aligned and speed < minf(allowed, zone.max_speed()), "move_up")
		_hold_action(speed > allowed + 10.0 or (not aligned and speed > 80.0), "move_down")
		_hold_action(collect, "collect")
		await tree.physics_frame
	release_flight()
	return false


## Flies the zone's ship into docking range of its nearest trading hub:
## the zone then holds the dock claim (hub, run clock) that sales and
## purchases carry, and the server judges. True once in range.
static func dock_at_nearest_hub(tree: SceneTree, zone: Node, timeout_s := 60.0) -> bool:
	var here: Vector2 = zone.ship_position()
	var best := 0
	for i in zone.hub_count():
		if zone.hub_position(i).distance_to(here) < zone.hub_position(best).distance_to(here):
			best = i
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	# A try may end just outside the range (it arrived fast and drifted out
	# while braking, or a slow machine ran out of frames): fly in again.
	for attempt in 3:
		var left := (deadline - Time.get_ticks_msec()) / 1000.0
		if left <= 0.0:
			break
		if zone.hub_in_range() != best:
			await fly_to(tree, zone, func(): return zone.hub_position(best), 60.0, left)
		release_flight()
		await stop_ship(tree, zone)
		if zone.hub_in_range() == best:
			return true
	return zone.hub_in_range() == best


## Brakes the ship to a stand (it arrives slow, not still: left alone it
## drifts out of a hub's range and the dock claim ends).
static func stop_ship(tree: SceneTree, zone: Node, timeout_s := 5.0) -> void:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while absf(zone.ship_speed()) > 2.0 and Time.get_ticks_msec() < deadline:
		var forward: bool = zone.ship_speed() > 0.0
		_hold_action(forward, "move_down")
		_hold_action(not forward, "move_up")
		await tree.physics_frame
	release_flight()


static func _hold_action(pressed: bool, action: String) -> void:
	if pressed:
		Input.action_press(action)
	else:
		Input.action_release(action)


## The refresh token the client stored (encrypted) in SESSION_FILE, or "".
## Tests use it to check that a session was revoked; never print it.
static func stored_refresh_token() -> String:
	var key := "cots-session-v1:%s" % OS.get_unique_id()
	var file := FileAccess.open_encrypted_with_pass(SESSION_FILE, FileAccess.READ, key)
	if file == null:
		return ""
	var data = JSON.parse_string(file.get_as_text())
	return data.get("refresh_token", "") if data is Dictionary else ""


## Status of `POST /api/v1/auth/refresh` with `token` at `url` (0 = no answer).
static func try_refresh(host: Node, url: String, token: String) -> int:
	var request := HTTPRequest.new()
	request.timeout = 5.0
	host.add_child(request)
	var body := JSON.stringify({"refresh_token": token})
	var err := request.request(url + "/api/v1/auth/refresh",
		PackedStringArray(["Content-Type: application/json"]), HTTPClient.METHOD_POST, body)
	if err != OK:
		request.queue_free()
		return 0
	var result: Array = await request.request_completed
	request.queue_free()
	return result[1] if result[0] == HTTPRequest.RESULT_SUCCESS else 0


## Flies to the piece nearest the ship and collects it; true when the hold grew.
static func collect_nearest(tree: SceneTree, zone: Node, state: Node, timeout_s := 25.0) -> bool:
	var before: int = state.hold_used()
	var index: int = zone.nearest_debris(zone.ship_position(), 4000.0)
	if index < 0:
		return false
	await fly_to(tree, zone, func(): return zone.debris_position(index), 20.0, timeout_s, true)
	var deadline := Time.get_ticks_msec() + 1500
	while state.hold_used() <= before and Time.get_ticks_msec() < deadline:
		await tree.process_frame
	release_flight()
	return state.hold_used() > before


## The newest code mailed to `email` after `label` (e.g. "Reset code: "),
## read from the development outbox with `backend outbox` (COTS_BACKEND_BIN)
## on `database_url` (default: the harness's backend). "" when none came.
static func mailed_code(host: Node, email: String, label: String, database_url := "") -> String:
	var bin := OS.get_environment("COTS_BACKEND_BIN")
	var database := database_url if database_url != "" else OS.get_environment("COTS_BACKEND_DATABASE_URL")
	if bin == "" or database == "":
		return ""
	var saved := {}
	var env := {"DATABASE_URL": database, "RUST_LOG": "error",
		"DATA_DIR": OS.get_user_data_dir().path_join("outbox-cli")}
	for key in env:
		saved[key] = OS.get_environment(key)
		OS.set_environment(key, env[key])
	var code := ""
	for attempt in 40:
		var output := []
		OS.execute(bin, ["outbox", "--to", email, "--limit", "5"], output, true)
		for line in "\n".join(output).split("\n"):
			var at := line.find(label)
			if at >= 0:
				code = line.substr(at + label.length()).strip_edges()
				break
		if code != "":
			break
		await host.get_tree().create_timer(0.25).timeout
	for key in saved:
		if saved[key] == "":
			OS.unset_environment(key)
		else:
			OS.set_environment(key, saved[key])
	return code
