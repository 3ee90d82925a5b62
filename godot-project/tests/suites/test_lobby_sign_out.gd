## Signing out while a member of a trading room leaves the room on the
## server first (while the session still counts), so the pilot is not left
## listed: the room is asked again after signing in, against the real backend.
extends GameTestSuite

const PASSWORD := "orbital-debris-42"

var _client: Node
var _available := false


func before_each() -> void:
	_available = await BackendHelpers.require(self)
	if _available:
		_client = BackendHelpers.reset_client(get_tree())


func after_each() -> void:
	if _available:
		BackendHelpers.reset_client(get_tree())


func _request(method: int, path: String, token: String, body := "") -> Array:
	var http := HTTPRequest.new()
	add_child(http)
	var headers := ["Content-Type: application/json"]
	if token != "":
		headers.append("Authorization: Bearer " + token)
	http.request(_client.backend_url() + path, headers, method, body)
	var result: Array = await http.request_completed
	http.queue_free()
	return [result[1], (result[3] as PackedByteArray).get_string_from_utf8()]


func test_signing_out_leaves_the_room_first() -> void:
	if not _available:
		return
	var username := BackendHelpers.fresh_username("leaver")
	if not check(await LobbyHelpers.sign_up(get_tree(), _client, username, PASSWORD, 60.0), "signed up"):
		return
	var floor: Node = load("res://scenes/lobby/trading_floor.tscn").instantiate()
	add_child(floor)
	floor.create_room()
	if not check(await wait_until(func(): return floor.room_code() != "" and floor.is_linked(), 15.0),
			"room opened (%s)" % floor.entry_status()):
		floor.queue_free()
		return
	var code: String = floor.room_code()
	# Back to the zone (the membership stays on the server), then sign out.
	floor.queue_free()
	await get_tree().process_frame
	_client.sign_out()
	check(not _client.is_signed_in(), "signed out")
	# Let the farewell and the logout reach the server.
	await wait_until(func(): return _client.requests_in_flight() == 0, 10.0)
	await get_tree().create_timer(0.5).timeout

	var login: Array = await _request(HTTPClient.METHOD_POST, "/api/v1/auth/login", "",
		JSON.stringify({"login": username, "password": PASSWORD}))
	if not check_eq(login[0], 200, "signed in again over HTTP"):
		return
	var token: String = JSON.parse_string(login[1])["access_token"]
	var room: Array = await _request(HTTPClient.METHOD_GET, "/api/v1/lobbies/" + code, token)
	var listed := false
	if room[0] == 200:
		for member in JSON.parse_string(room[1]).get("members", []):
			listed = listed or member.get("username", "") == username
	check(not listed, "the pilot is no longer listed in room %s (status %d: %s)" % [code, room[0], room[1]])
