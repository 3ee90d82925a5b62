## The trading floor when the station goes down mid-room: a backend of the
## test's own is killed (SIGKILL) and started again on the same address and
## data. The floor shows the link lost, comes back into the same room by
## itself with a fresh snapshot (both traders listed), chat goes through
## again, and an offer made before the crash is still there and is answered
## once. The other trader is played over HTTP.
extends GameTestSuite

const PASSWORD := "orbital-debris-42"

var _client: Node
var _own: OwnBackend
var _saved_url := ""
var _available := false


func before_each() -> void:
	_available = await BackendHelpers.require(self)
	if not _available:
		return
	_own = OwnBackend.new()
	if not check(await _own.start(self), "own backend on port %d" % _own.port):
		_available = false
		return
	_saved_url = OS.get_environment("COTS_BACKEND_URL")
	OS.set_environment("COTS_BACKEND_URL", _own.url)
	_client = BackendHelpers.reset_client(get_tree())


func after_each() -> void:
	if _own:
		_own.stop()
		_own.remove_data()
		_own = null
		OS.set_environment("COTS_BACKEND_URL", _saved_url)
	if _available:
		BackendHelpers.reset_client(get_tree())


func _request(method: int, path: String, token: String, body := "", keyed := false) -> Array:
	var http := HTTPRequest.new()
	add_child(http)
	var headers := ["Content-Type: application/json"]
	if token != "":
		headers.append("Authorization: Bearer " + token)
	if keyed:
		headers.append("Idempotency-Key: gd-%d-%d" % [Time.get_ticks_usec(), randi()])
	http.request(_own.url + path, headers, method, body)
	var result: Array = await http.request_completed
	http.queue_free()
	var parsed = JSON.parse_string((result[3] as PackedByteArray).get_string_from_utf8())
	return [result[1], parsed if parsed != null else {}]


func _has_line(floor: Node, text: String) -> bool:
	for line in floor.chat_lines():
		if String(line).contains(text):
			return true
	return false


func test_the_floor_comes_back_after_the_backend_restarts() -> void:
	if not _available:
		return
	check_eq(_client.backend_url(), _own.url, "the game talks to our backend")
	var ada := BackendHelpers.fresh_username("steady")
	if not check(await LobbyHelpers.sign_up(get_tree(), _client, ada, PASSWORD, 60.0), "the player signed up"):
		return
	var bob := BackendHelpers.fresh_username("other")
	var registered: Array = await _request(HTTPClient.METHOD_POST, "/api/v1/auth/register", "",
		JSON.stringify({"email": "%s@example.org" % bob.to_lower(), "username": bob, "password": PASSWORD}))
	check_eq(registered[0], 201, "the other trader registered")
	var login: Array = await _request(HTTPClient.METHOD_POST, "/api/v1/auth/login", "",
		JSON.stringify({"login": bob, "password": PASSWORD}))
	var token: String = login[1].get("access_token", "")
	if not check(token != "", "the other trader signed in"):
		return

	var floor: Node = load("res://scenes/lobby/trading_floor.tscn").instantiate()
	add_child(floor)
	floor.create_room()
	if not check(await wait_until(func(): return floor.room_code() != "" and floor.is_linked(), 15.0),
			"room opened (%s)" % floor.entry_status()):
		floor.queue_free()
		return
	var code: String = floor.room_code()
	check_eq((await _request(HTTPClient.METHOD_POST, "/api/v1/lobbies/%s/join" % code, token, "", true))[0], 200,
		"the other trader joins")
	check(await wait_until(func(): return floor.member_names().size() == 2, 10.0), "both listed")
	var offered: Array = await _request(HTTPClient.METHOD_POST, "/api/v1/lobbies/%s/trades" % code, token,
		JSON.stringify({"to": ada, "give": {}, "want": {"credits": 5}}), true)
	check_eq(offered[0], 201, "an offer before the crash")
	var trade_id: String = offered[1].get("id", "")
	var window: Node = floor.get_node("Ui/Terminal/TradeWindow")
	check(await wait_until(func(): return window.shown_trade_id() == trade_id, 10.0), "it shows in the window")
	floor.send_chat("before the outage")
	check(await wait_until(func(): return _has_line(floor, "before the outage"), 10.0), "chat goes through")

	# The station dies without a word.
	_own.stop()
	check(await wait_until(func(): return not floor.is_linked(), 15.0), "the floor shows the link lost")
	await get_tree().create_timer(1.0).timeout
	if not check(await _own.start(self), "the backend came back on the same address"):
		floor.queue_free()
		return
	check(await wait_until(func(): return floor.is_linked(), 30.0), "the floor reconnected by itself")
	check_eq(floor.room_code(), code, "into the same room")
	check_eq(floor.member_names().size(), 2, "with a fresh snapshot: both traders")
	floor.send_chat("after the outage")
	check(await wait_until(func(): return _has_line(floor, "after the outage"), 10.0), "chat goes through again")

	# The offer survived and is answered once.
	check_eq((await _request(HTTPClient.METHOD_POST, "/api/v1/trades/%s/cancel" % trade_id, token, "", true))[0], 200,
		"the other trader withdraws the offer made before the crash")
	check(await wait_until(func(): return window.shown_status() == "cancelled", 10.0),
		"the window shows it withdrawn (%s)" % window.status_text())
	var again: Array = await _request(HTTPClient.METHOD_POST, "/api/v1/trades/%s/cancel" % trade_id, token, "", true)
	check_eq(again[1].get("code", ""), "trade_not_pending", "a second answer is refused")
	floor.queue_free()
