## The trade window's paths against the real backend. The player is the
## game (BackendClient, the trading floor and its socket); the other trader
## is played over HTTP. An offer arrives live and is declined from the
## window; an offer made from the window is cancelled; an offer the player
## cannot pay is refused in the window with the shared rule (nothing is sent;
## it stays open on the server); the other trader offering debris he has not
## got is refused by the server. Every answer is checked on the server too.
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


func _request(method: int, path: String, token: String, body := "", keyed := false) -> Array:
	var http := HTTPRequest.new()
	add_child(http)
	var headers := ["Content-Type: application/json"]
	if token != "":
		headers.append("Authorization: Bearer " + token)
	if keyed:
		headers.append("Idempotency-Key: gd-%d-%d" % [Time.get_ticks_usec(), randi()])
	http.request(_client.backend_url() + path, headers, method, body)
	var result: Array = await http.request_completed
	http.queue_free()
	var parsed = JSON.parse_string((result[3] as PackedByteArray).get_string_from_utf8())
	return [result[1], parsed if parsed != null else {}]


## The other trader: registered and signed in over HTTP; returns the token.
func _other_trader(username: String) -> String:
	var registered: Array = await _request(HTTPClient.METHOD_POST, "/api/v1/auth/register", "",
		JSON.stringify({"email": "%s@example.org" % username.to_lower(), "username": username, "password": PASSWORD}))
	if registered[0] != 201:
		printerr("register: ", registered)
		return ""
	var login: Array = await _request(HTTPClient.METHOD_POST, "/api/v1/auth/login", "",
		JSON.stringify({"login": username, "password": PASSWORD}))
	return login[1].get("access_token", "") if login[0] == 200 else ""


func _offer(token: String, code: String, to: String, give: Dictionary, want: Dictionary) -> Array:
	return await _request(HTTPClient.METHOD_POST, "/api/v1/lobbies/%s/trades" % code, token,
		JSON.stringify({"to": to, "give": give, "want": want}), true)


func _answer(token: String, trade_id: String, action: String) -> Array:
	return await _request(HTTPClient.METHOD_POST, "/api/v1/trades/%s/%s" % [trade_id, action], token, "", true)


func test_every_trade_path_of_the_window_against_the_backend() -> void:
	if not _available:
		return
	var ada := BackendHelpers.fresh_username("trader")
	if not check(await LobbyHelpers.sign_up(get_tree(), _client, ada, PASSWORD, 60.0), "the player signed up"):
		return
	var bob := BackendHelpers.fresh_username("counter")
	var token := await _other_trader(bob)
	if not check(token != "", "the other trader signed up over HTTP"):
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
	check(await wait_until(func(): return floor.member_names().size() == 2, 10.0), "the floor lists both")
	var window: Node = floor.get_node("Ui/Terminal/TradeWindow")

	# 1. An offer arrives live; the player declines it in the window.
	var offered: Array = await _offer(token, code, ada, {}, {"credits": 5})
	if not check_eq(offered[0], 201, "the other trader offers (%s)" % [offered[1]]):
		floor.queue_free()
		return
	var first: String = offered[1]["id"]
	check(await wait_until(func(): return window.is_open() and window.shown_trade_id() == first, 10.0),
		"the offer shows in the window as it arrives")
	check(window.visible_actions().has("decline"), "the receiver may decline (%s)" % [window.visible_actions()])
	window.decline()
	check(await wait_until(func(): return window.shown_status() == "declined", 10.0),
		"declined (%s)" % window.status_text())
	var late: Array = await _answer(token, first, "cancel")
	check_eq(late[1].get("code", ""), "trade_not_pending", "the server has it declined")
	window.close()

	# 2. The player offers from the window, then cancels.
	check(floor.open_trade_with(bob), "a trade window with the other trader")
	window.compose()
	check(window.set_amount("want", "credits", 3), "asks 3 credits")
	window.offer()
	check(await wait_until(func(): return window.shown_status() == "pending", 10.0),
		"offered (%s)" % window.status_text())
	var second: String = window.shown_trade_id()
	check(second != "" and second != first, "a new offer on show")
	check(window.visible_actions().has("cancel"), "the offerer may cancel (%s)" % [window.visible_actions()])
	window.cancel()
	check(await wait_until(func(): return window.shown_status() == "cancelled", 10.0),
		"cancelled (%s)" % window.status_text())
	var too_late: Array = await _answer(token, second, "accept")
	check_eq(too_late[1].get("code", ""), "trade_not_pending", "the server has it cancelled")
	window.close()

	# 3. An offer the player cannot pay: refused in words by the window (the
	#    rule the server applies), nothing sent, the offer still open.
	var wants_debris: Array = await _offer(token, code, ada, {}, {"items": {"scrap_metal": 4}})
	check_eq(wants_debris[0], 201, "the other trader asks for debris the player has not got")
	var third: String = wants_debris[1].get("id", "")
	check(await wait_until(func(): return window.is_open() and window.shown_trade_id() == third, 10.0),
		"it shows in the window")
	window.accept()
	check(window.status_text().to_lower().contains("debris"),
		"the refusal is shown in words (%s)" % window.status_text())
	check_eq(window.shown_status(), "pending", "and the offer stays open")
	var still: Array = await _answer(token, third, "cancel")
	check_eq(still[0], 200, "the server still had it pending (the other side cancels it)")
	window.close()

	# 4. The other trader offers debris he has not got: the server refuses it.
	var empty_hold: Array = await _offer(token, code, ada, {"items": {"scrap_metal": 2}}, {})
	check_eq(empty_hold[1].get("code", ""), "insufficient_items",
		"refused for lack of debris on the offerer's side (%d %s)" % [empty_hold[0], empty_hold[1]])
	await get_tree().create_timer(0.5).timeout
	check(not window.is_open(), "and nothing reaches the player's window")
	floor.queue_free()
