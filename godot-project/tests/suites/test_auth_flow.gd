## Register, log in, "quit", boot again: the session is restored. Against the
## real backend the harness starts (COTS_TEST_BACKEND=1); SKIPPED without one,
## FAILED when the promised backend does not answer.
extends GameTestSuite

const PASSWORD := "orbital-debris-42"

var _client: Node
var _available := false


func before_each() -> void:
	_available = await BackendHelpers.require(self)
	if not _available:
		return
	_client = BackendHelpers.reset_client(get_tree())


func after_each() -> void:
	if _available:
		BackendHelpers.reset_client(get_tree())



func test_register_login_quit_and_boot_restores_the_session() -> void:
	if not _available:
		return
	var username := BackendHelpers.fresh_username("pilot")
	var email := "%s@example.org" % username.to_lower()

	# Register through the screen: rules tick as we type, the button opens last.
	var register: Node = load("res://scenes/screens/register_screen.tscn").instantiate()
	register.navigate = false
	add_child(register)
	type_into(register, "%EmailEdit", email)
	type_into(register, "%UsernameEdit", username)
	type_into(register, "%PasswordEdit", PASSWORD)
	check(not register.can_submit(), "repeat not typed yet: cannot submit")
	type_into(register, "%RepeatEdit", PASSWORD)
	check(register.can_submit(), "every rule met: can submit")
	register.get_node("%CreateButton").pressed.emit()
	var signed_in := await wait_until(func(): return _client.is_signed_in(), 15.0)
	if not check(signed_in, "registered and signed in (status: %s)" % register.status_text()):
		register.queue_free()
		return
	check_eq(_client.signed_in_username(), username, "signed in as the new user")
	check(_client.has_stored_session(), "the refresh token is stored")
	register.queue_free()

	# The same name again is refused with the server's code, explained.
	_client.sign_out()
	var again: Node = load("res://scenes/screens/register_screen.tscn").instantiate()
	again.navigate = false
	add_child(again)
	type_into(again, "%EmailEdit", "other." + email)
	type_into(again, "%UsernameEdit", username)
	type_into(again, "%PasswordEdit", PASSWORD)
	type_into(again, "%RepeatEdit", PASSWORD)
	again.get_node("%CreateButton").pressed.emit()
	await wait_until(func(): return again.status_text().contains("taken"), 15.0)
	check(again.status_text().contains("taken"), "taken username explained: %s" % again.status_text())
	again.queue_free()

	# A wrong password is explained; the right one signs in.
	var login: Node = load("res://scenes/screens/login_screen.tscn").instantiate()
	login.navigate = false
	add_child(login)
	type_into(login, "%LoginEdit", username)
	type_into(login, "%PasswordEdit", "not-the-password-at-all")
	login.get_node("%SignInButton").pressed.emit()
	await wait_until(func(): return not login.is_busy(), 15.0)
	check_eq(login.status_text(), "Wrong login or password.", "wrong password explained")
	check(not _client.is_signed_in(), "still signed out")
	type_into(login, "%PasswordEdit", PASSWORD)
	login.get_node("%SignInButton").pressed.emit()
	check(await wait_until(func(): return _client.is_signed_in(), 15.0), "signed in with the right password")
	login.queue_free()

	# "Quit": everything in memory is gone, only the encrypted session file stays.
	_client.forget_memory()
	get_tree().root.get_node("GameState").reset()
	check(not _client.is_signed_in(), "nothing in memory after the restart")
	check(_client.has_stored_session(), "the session file survived")
	var raw := FileAccess.get_file_as_bytes(BackendHelpers.SESSION_FILE).hex_encode()
	check(raw != "" and not raw.contains(username.to_utf8_buffer().hex_encode()),
		"the session file is not plain text")

	# Boot again: the stored session is restored and boot heads for the zone.
	var boot: Node = load("res://scenes/screens/boot.tscn").instantiate()
	boot.navigate = false
	add_child(boot)
	await wait_until(func(): return boot.outcome_name() != "waiting", 15.0)
	check_eq(boot.outcome_name(), "zone", "boot restored the session")
	check_eq(_client.signed_in_username(), username, "signed in again as the same user")
	boot.queue_free()

	# Without a stored session boot goes to the login screen.
	_client.clear_stored_session()
	_client.forget_memory()
	var boot2: Node = load("res://scenes/screens/boot.tscn").instantiate()
	boot2.navigate = false
	add_child(boot2)
	await wait_until(func(): return boot2.outcome_name() != "waiting", 5.0)
	check_eq(boot2.outcome_name(), "login", "no session: login")
	boot2.queue_free()
