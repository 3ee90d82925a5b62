## The pause menu: Esc pauses the zone simulation and resumes it; log out
## revokes the session on the server (the old refresh token is refused).
extends GameTestSuite

const PASSWORD := "orbital-debris-42"


func after_each() -> void:
	get_tree().paused = false
	BackendHelpers.release_flight()


func test_pause_stops_the_simulation() -> void:
	var zone: Node = load("res://scenes/zone/zone.tscn").instantiate()
	zone.start_on_ready = false
	add_child(zone)
	zone.start_local_run(1, 42)
	for i in 5:
		await get_tree().physics_frame
	var menu: Node = zone.get_node("Ui/PauseMenu")
	await BackendHelpers.tap(get_tree(), "pause")
	check(menu.is_open(), "Esc opens the pause menu")
	check(get_tree().paused, "the tree is paused")
	var clock: float = zone.run_clock()
	for i in 20:
		await get_tree().physics_frame
	check_eq(zone.run_clock(), clock, "the run clock stands still")
	menu.get_node("%LogButton").pressed.emit()
	var msg_log: Node = menu.get_node("%MessageLog")
	check(msg_log.is_open(), "the message log opens from the menu")
	await BackendHelpers.tap(get_tree(), "pause")
	check(not msg_log.is_open(), "Esc closes the log first")
	check(menu.is_open(), "back to the menu")
	check(get_tree().paused, "still paused")
	menu.get_node("%ResumeButton").pressed.emit()
	check(not menu.is_open(), "resume closes the menu")
	check(not get_tree().paused, "and unpauses")
	for i in 10:
		await get_tree().physics_frame
	check(zone.run_clock() > clock, "the run clock moves again")
	zone.queue_free()
	await get_tree().process_frame


func test_log_out_revokes_the_session_on_the_server() -> void:
	if not await BackendHelpers.require(self):
		return
	var client := BackendHelpers.reset_client(get_tree())
	var username := BackendHelpers.fresh_username("leaver")
	client.create_account("%s@example.org" % username.to_lower(), username, PASSWORD)
	if not check(await wait_until(func(): return client.is_signed_in(), 15.0), "signed in"):
		return
	var token := BackendHelpers.stored_refresh_token()
	check(token != "", "a refresh token was stored")
	var menu: Node = load("res://scenes/overlays/pause_menu.tscn").instantiate()
	add_child(menu)
	menu.open()
	check(get_tree().paused, "paused")
	menu.get_node("%LogoutButton").pressed.emit()
	check(not get_tree().paused, "log out unpauses before the scene changes")
	check(await wait_until(func(): return not client.is_signed_in(), 5.0), "signed out here")
	check(await wait_until(func(): return client.requests_in_flight() == 0, 10.0), "logout answered")
	check(not client.has_stored_session(), "the stored session is gone")
	var status := await BackendHelpers.try_refresh(self, BackendHelpers.backend_url(), token)
	check_eq(status, 401, "the server refuses the old refresh token")
	menu.queue_free()
	await get_tree().process_frame
	BackendHelpers.reset_client(get_tree())


func test_log_out_everywhere_revokes_every_session() -> void:
	if not await BackendHelpers.require(self):
		return
	var client := BackendHelpers.reset_client(get_tree())
	var username := BackendHelpers.fresh_username("exodus")
	client.create_account("%s@example.org" % username.to_lower(), username, PASSWORD)
	if not check(await wait_until(func(): return client.is_signed_in(), 15.0), "signed in"):
		return
	var first := BackendHelpers.stored_refresh_token()
	# A second device: another login of the same account.
	client.forget_memory()
	client.sign_in(username, PASSWORD)
	check(await wait_until(func(): return client.is_signed_in(), 15.0), "signed in again")
	var second := BackendHelpers.stored_refresh_token()
	check(first != second and second != "", "two sessions")
	var menu: Node = load("res://scenes/overlays/pause_menu.tscn").instantiate()
	add_child(menu)
	menu.open()
	menu.get_node("%LogoutAllButton").pressed.emit()
	var answer: Array = await client.sign_out_everywhere_finished
	check(answer[0], "log out everywhere answered: %s" % answer[1])
	check(not client.is_signed_in(), "signed out here")
	check(not get_tree().paused, "unpaused")
	check_eq(await BackendHelpers.try_refresh(self, BackendHelpers.backend_url(), first), 401,
		"the first session is revoked")
	check_eq(await BackendHelpers.try_refresh(self, BackendHelpers.backend_url(), second), 401,
		"the second session is revoked")
	menu.queue_free()
	await get_tree().process_frame
	BackendHelpers.reset_client(get_tree())
