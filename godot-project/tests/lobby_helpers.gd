## Helpers shared by the lobby's two-process test (`suites/test_lobby_flow.gd`)
## and its peer (`peer/lobby_peer.gd`). Tests only: no game logic here.
class_name LobbyHelpers
extends RefCounted


## Creates the account `username` and signs in, waiting out the auth routes'
## per-IP rate limit (the suites before this one use it up from the same
## loopback address). Returns whether a session is active.
static func sign_up(tree: SceneTree, client: Node, username: String, password: String,
		timeout_s: float = 120.0) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	var registered := [false]
	var on_registered := func(_name: String) -> void: registered[0] = true
	client.registered.connect(on_registered)
	while Time.get_ticks_msec() < deadline and not client.is_signed_in():
		var failure := []
		var on_failed := func(code: String, _message: String, wait: int) -> void: failure.append([code, wait])
		client.register_failed.connect(on_failed)
		client.sign_in_failed.connect(on_failed)
		if registered[0]:
			client.sign_in(username, password)
		else:
			client.create_account("%s@example.org" % username.to_lower(), username, password)
		while Time.get_ticks_msec() < deadline and not client.is_signed_in() and failure.is_empty():
			await tree.process_frame
		client.register_failed.disconnect(on_failed)
		client.sign_in_failed.disconnect(on_failed)
		if client.is_signed_in() or failure.is_empty():
			break
		if failure[0][0] != "rate_limited":
			printerr("lobby sign-up refused: ", failure[0][0])
			break
		await tree.create_timer(maxf(float(failure[0][1]), 2.0)).timeout
	client.registered.disconnect(on_registered)
	return client.is_signed_in()
