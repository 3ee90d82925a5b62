## Accounts end to end in the game, against the real backend: a password
## reset finished with the mailed code (read from the backend's development
## outbox), registration with REQUIRE_EMAIL_VERIFICATION on a backend of the
## test's own (register, paste the code, play), and every action of the
## account screen (confirm the address, rename, change the password, end
## the other sessions, export, delete, then fail to sign in); a mistyped
## address corrected before the first sign-in; the preferences kept on the
## server following the pilot to another device, and the HUD saying when
## the address is not confirmed.
extends GameTestSuite

const PASSWORD := "orbital-debris-42"
const NEW_PASSWORD := "a-fresh-salvage-route-7"

var _client: Node
var _available := false
var _own: OwnBackend
var _saved_url := ""


func before_each() -> void:
	_available = await BackendHelpers.require(self)
	if _available:
		_client = BackendHelpers.reset_client(get_tree())


func after_each() -> void:
	if _own:
		_own.stop()
		_own.remove_data()
		_own = null
		OS.set_environment("COTS_BACKEND_URL", _saved_url)
	if _available:
		BackendHelpers.reset_client(get_tree())



func _register(prefix: String) -> Array:
	var username := BackendHelpers.fresh_username(prefix)
	var email := "%s@example.org" % username.to_lower()
	_client.create_account(email, username, PASSWORD)
	await wait_until(func(): return _client.is_signed_in(), 15.0)
	return [username, email]


func _login_screen() -> Node:
	var login: Node = load("res://scenes/screens/login_screen.tscn").instantiate()
	login.navigate = false
	add_child(login)
	return login


func test_a_forgotten_password_is_reset_with_the_mailed_code() -> void:
	if not _available:
		return
	var who := await _register("forgetful")
	if not check(_client.is_signed_in(), "registered"):
		return
	var email: String = who[1]
	_client.sign_out()
	var login := _login_screen()
	login.get_node("%ForgotButton").pressed.emit()
	type_into(login, "%ResetEmailEdit", email)
	login.get_node("%ResetSendButton").pressed.emit()
	await wait_until(func(): return login.status_text().contains("Request filed"), 15.0)
	check(login.status_text().contains("I HAVE A CODE"), "the player is told what comes next (%s)" % login.status_text())
	var code := await BackendHelpers.mailed_code(self, email, "Reset code: ")
	if not check(code != "", "a reset code was mailed"):
		login.queue_free()
		return

	login.get_node("%HaveCodeButton").pressed.emit()
	check(login.get_node("%CodePanel").visible, "the code panel is shown")
	type_into(login, "%ResetCodeEdit", "not-a-code-at-all")
	type_into(login, "%NewPasswordEdit", NEW_PASSWORD)
	check(login.get_node("%SetPasswordButton").disabled, "repeat missing: cannot submit")
	type_into(login, "%NewRepeatEdit", NEW_PASSWORD)
	check(not login.get_node("%SetPasswordButton").disabled, "every rule met: can submit")
	login.get_node("%SetPasswordButton").pressed.emit()
	await wait_until(func(): return login.code_status_text().contains("not a reset code"), 15.0)
	check(login.code_status_text().contains("not a reset code"), "a wrong code has its words (%s)" % login.code_status_text())

	type_into(login, "%ResetCodeEdit", code)
	login.get_node("%SetPasswordButton").pressed.emit()
	var signed_in := await wait_until(func(): return _client.is_signed_in(), 20.0)
	check(signed_in, "the new password signs in at once (status: %s)" % login.status_text())
	login.queue_free()

	# The code works once; the old password no longer does.
	_client.sign_out()
	var again := _login_screen()
	again.open_reset_code()
	type_into(again, "%ResetCodeEdit", code)
	type_into(again, "%NewPasswordEdit", "yet-another-long-passphrase")
	type_into(again, "%NewRepeatEdit", "yet-another-long-passphrase")
	again.get_node("%SetPasswordButton").pressed.emit()
	await wait_until(func(): return again.code_status_text().contains("used already"), 15.0)
	check(again.code_status_text().contains("used already"), "a used code has its words (%s)" % again.code_status_text())
	again.get_node("%CodeBackButton").pressed.emit()
	again.get_node("%ResetBackButton").pressed.emit()
	type_into(again, "%LoginEdit", email)
	type_into(again, "%PasswordEdit", PASSWORD)
	again.get_node("%SignInButton").pressed.emit()
	await wait_until(func(): return not again.is_busy(), 15.0)
	check_eq(again.status_text(), "Wrong login or password.", "the old password is refused")
	again.queue_free()


func test_with_required_verification_a_new_pilot_registers_verifies_and_plays() -> void:
	if not _available:
		return
	_own = OwnBackend.new()
	_own.extra_env = {"REQUIRE_EMAIL_VERIFICATION": "true"}
	if not check(await _own.start(self), "own backend (verification required) on port %d" % _own.port):
		return
	_saved_url = OS.get_environment("COTS_BACKEND_URL")
	OS.set_environment("COTS_BACKEND_URL", _own.url)
	_client = BackendHelpers.reset_client(get_tree())
	check_eq(_client.backend_url(), _own.url, "the client talks to our backend")

	var username := BackendHelpers.fresh_username("careful")
	var email := "%s@example.org" % username.to_lower()
	var register: Node = load("res://scenes/screens/register_screen.tscn").instantiate()
	register.navigate = false
	add_child(register)
	type_into(register, "%EmailEdit", email)
	type_into(register, "%UsernameEdit", username)
	type_into(register, "%PasswordEdit", PASSWORD)
	type_into(register, "%RepeatEdit", PASSWORD)
	register.get_node("%CreateButton").pressed.emit()
	var verification: Node = register.get_node("%Verification")
	check(await wait_until(func(): return verification.is_open(), 15.0),
		"the confirmation screen opens (status: %s)" % register.status_text())
	check(not _client.is_signed_in(), "not signed in before the address is confirmed")
	var code := await BackendHelpers.mailed_code(self, email, "Verification code: ", _own.database_url())
	if not check(code != "", "a verification code was mailed"):
		register.queue_free()
		return
	type_into(verification, "%CodeEdit", "not-the-code")
	verification.verify()
	await wait_until(func(): return verification.status_text().contains("not a verification code"), 15.0)
	check(verification.status_text().contains("not a verification code"), "a wrong code has its words (%s)" % verification.status_text())
	verification.resend()
	await wait_until(func(): return verification.status_text().contains("new one is on its way"), 15.0)
	check(verification.get_node("%ResendButton").disabled, "resending waits")
	# The address was mistyped: CHANGE ADDRESS (with the password) moves the
	# account and the code goes to the new address.
	check(verification.get_node("%ChangeRow").visible, "a refused pilot may change the address")
	var fixed := "fixed.%s" % email
	type_into(verification, "%EmailEdit", fixed)
	verification.change_address()
	check(verification.status_text().contains("needs your password"), "the password is asked for (%s)" % verification.status_text())
	type_into(verification, "%ChangePasswordEdit", "not-my-password-at-all")
	verification.change_address()
	await wait_until(func(): return verification.status_text().contains("Wrong login or password"), 15.0)
	check(verification.status_text().contains("Wrong login or password"), "a wrong password is explained (%s)" % verification.status_text())
	type_into(verification, "%ChangePasswordEdit", PASSWORD)
	verification.change_address()
	await wait_until(func(): return verification.status_text().contains("now uses"), 15.0)
	check(verification.status_text().contains("now uses %s" % fixed), "moved (%s)" % verification.status_text())
	check_eq(verification.get_node("%ChangePasswordEdit").text, "", "the password is not kept in the field")
	code = await BackendHelpers.mailed_code(self, fixed, "Verification code: ", _own.database_url())
	check(code != "", "a code was mailed to the new address")
	type_into(verification, "%CodeEdit", code)
	verification.verify()
	check(await wait_until(func(): return _client.is_signed_in(), 20.0),
		"confirmed, then signed in (status: %s / %s)" % [verification.status_text(), register.status_text()])
	var state := get_tree().root.get_node("GameState")
	state.refresh_player()
	check(await wait_until(func(): return state.has_player(), 15.0), "and plays: the player is loaded")
	register.queue_free()


func _http_login(login: String, password: String) -> int:
	var http := HTTPRequest.new()
	add_child(http)
	http.request(_client.backend_url() + "/api/v1/auth/login", ["Content-Type: application/json"],
		HTTPClient.METHOD_POST, JSON.stringify({"login": login, "password": password}))
	var result: Array = await http.request_completed
	http.queue_free()
	return result[1]


func test_every_account_action_from_the_account_screen() -> void:
	if not _available:
		return
	var who := await _register("filed")
	if not check(_client.is_signed_in(), "registered"):
		return
	var username: String = who[0]
	var email: String = who[1]
	var account: Node = load("res://scenes/overlays/account_screen.tscn").instantiate()
	add_child(account)
	account.open()
	check(await wait_until(func(): return account.shown_email() == email, 15.0), "the profile is shown")
	check(not account.shows_verified(), "the address is not confirmed yet")

	# Confirm the address from the account screen.
	var code := await BackendHelpers.mailed_code(self, email, "Verification code: ")
	account.get_node("%VerifyButton").pressed.emit()
	var verification: Node = account.get_node("%Verification")
	check(verification.is_open(), "the confirmation screen opens")
	type_into(verification, "%CodeEdit", code)
	verification.verify()
	check(await wait_until(func(): return account.shows_verified(), 15.0), "the address is confirmed")

	# A new username.
	var renamed := username.substr(0, 16) + "_r"
	type_into(account, "%UsernameEdit", renamed)
	account.save_profile()
	await wait_until(func(): return not account.is_busy(), 15.0)
	check(account.status_text().begins_with("Saved"), "renamed (%s)" % account.status_text())
	check_eq(account.get_node("%UsernameEdit").text, renamed, "the new name is shown")

	# The password: a wrong current one is refused, the right one works.
	type_into(account, "%CurrentPasswordEdit", "not-my-password-at-all")
	type_into(account, "%NewPasswordEdit", NEW_PASSWORD)
	type_into(account, "%RepeatPasswordEdit", NEW_PASSWORD)
	account.change_password()
	await wait_until(func(): return not account.is_busy(), 15.0)
	check(account.status_text().contains("not your current password"), "wrong current password explained (%s)" % account.status_text())
	type_into(account, "%CurrentPasswordEdit", PASSWORD)
	account.change_password()
	await wait_until(func(): return not account.is_busy(), 15.0)
	check(account.status_text().begins_with("Password changed"), "password changed (%s)" % account.status_text())
	check(_client.is_signed_in(), "this session goes on")

	# Another device signs in; the list shows both; end every other one.
	check_eq(await _http_login(renamed, NEW_PASSWORD), 200, "a second device signs in")
	account.reload()
	check(await wait_until(func(): return account.session_count() == 2, 15.0), "two sessions listed")
	account.revoke_others()
	await wait_until(func(): return not account.is_busy(), 15.0)
	check(account.status_text().contains("Every other session"), "others ended (%s)" % account.status_text())
	check(await wait_until(func(): return account.session_count() == 1, 15.0), "one session left")

	# Export to a file.
	var path := OS.get_user_data_dir().path_join("test-account-export.json")
	DirAccess.remove_absolute(path)
	account.export_to(path)
	await wait_until(func(): return not account.is_busy(), 15.0)
	check(account.status_text().contains(path), "the player is told where the file went (%s)" % account.status_text())
	var exported = JSON.parse_string(FileAccess.get_file_as_string(path))
	check(exported is Dictionary and exported.get("user", {}).get("username", "") == renamed,
		"the export holds the account (%s)" % [exported.keys() if exported is Dictionary else exported])
	DirAccess.remove_absolute(path)

	# Deletion: the typed word is required; then the session ends.
	type_into(account, "%DeletePasswordEdit", NEW_PASSWORD)
	type_into(account, "%DeleteConfirmEdit", "delete please")
	account.delete_account()
	check(account.status_text().contains("Type DELETE"), "the confirmation word is required")
	check(_client.is_signed_in(), "nothing happened")
	type_into(account, "%DeleteConfirmEdit", "DELETE")
	account.delete_account()
	check(await wait_until(func(): return not _client.is_signed_in(), 15.0), "deleted: signed out")
	account.queue_free()
	check_eq(await _http_login(renamed, NEW_PASSWORD), 401, "the deleted account cannot sign in")


## Logs `login` in over HTTP (another device) and returns its access token.
func _http_token(login: String, password: String) -> String:
	var http := HTTPRequest.new()
	add_child(http)
	http.request(_client.backend_url() + "/api/v1/auth/login", ["Content-Type: application/json"],
		HTTPClient.METHOD_POST, JSON.stringify({"login": login, "password": password}))
	var result: Array = await http.request_completed
	http.queue_free()
	var body = JSON.parse_string((result[3] as PackedByteArray).get_string_from_utf8())
	return body.get("access_token", "") if body is Dictionary else ""


func _http_put_preferences(token: String, preferences: Dictionary) -> int:
	var http := HTTPRequest.new()
	add_child(http)
	http.request(_client.backend_url() + "/api/v1/me/preferences",
		["Content-Type: application/json", "Authorization: Bearer %s" % token],
		HTTPClient.METHOD_PUT, JSON.stringify(preferences))
	var result: Array = await http.request_completed
	http.queue_free()
	return result[1]


func test_preferences_follow_the_pilot_to_another_device() -> void:
	if not _available:
		return
	var who := await _register("settled")
	if not check(_client.is_signed_in(), "registered"):
		return
	var username: String = who[0]
	var store := get_tree().root.get_node("SettingsStore")
	var state := get_tree().root.get_node("GameState")

	# The HUD says the address is not confirmed yet.
	var hud: Node = load("res://scenes/zone/hud.tscn").instantiate()
	add_child(hud)
	await wait_until(func(): return hud.status_text().contains("EMAIL NOT CONFIRMED"), 10.0)
	check(hud.status_text().contains("EMAIL NOT CONFIRMED"), "the HUD shows the address is unconfirmed (%s)" % hud.status_text())
	hud.queue_free()

	var account: Node = load("res://scenes/overlays/account_screen.tscn").instantiate()
	add_child(account)
	account.open()
	check(await wait_until(func(): return account.shown_email() != "", 15.0), "the profile is shown")
	check(account.get_node("%HintsCheck").button_pressed, "hints on by default")
	check(account.get_node("%ChatFilterCheck").button_pressed, "chat masked by default")
	check_eq(account.chosen_zone(), 0, "no start zone chosen")
	check(not account.choose_zone(2), "zone 2 is not offered before clearance")
	account.get_node("%HintsCheck").button_pressed = false
	account.get_node("%ChatFilterCheck").button_pressed = false
	account.save_preferences()
	await wait_until(func(): return not account.is_busy(), 15.0)
	check(account.status_text().contains("every device"), "saved (%s)" % account.status_text())
	check(store.hints_dismissed(), "the hints are off here at once")
	check(not _client.masks_chat(), "chat unmasked")
	account.queue_free()

	# Another device chooses zone 2 to start in.
	var token := await _http_token(username, PASSWORD)
	check_eq(await _http_put_preferences(token, {"preferred_zone": 2, "show_hints": false, "chat_filter": "off"}), 200,
		"another device stores a start zone")
	check_eq(await _http_put_preferences(token, {"preferred_zone": 99}), 422, "a zone that does not exist is refused")

	# This device forgets everything local, then signs in again.
	_client.sign_out()
	store.set_hints_dismissed(false)
	store.save()
	await get_tree().process_frame
	check(not store.hints_dismissed(), "locally the hints are back on")
	_client = BackendHelpers.reset_client(get_tree())
	_client.sign_in(username, PASSWORD)
	check(await wait_until(func(): return _client.is_signed_in(), 15.0), "signed in again")
	check(store.hints_dismissed(), "the server's choice turned the hints off")
	check(not _client.masks_chat(), "and the chat filter off")
	check_eq(state.start_zone(), 2, "runs start in the preferred zone")
	var again: Node = load("res://scenes/overlays/account_screen.tscn").instantiate()
	add_child(again)
	again.open()
	check(await wait_until(func(): return again.chosen_zone() == 2, 15.0), "the account screen shows zone 2 chosen")
	again.queue_free()

	# Back to the defaults, for the suites after this one.
	store.restore_hints()
	await wait_until(func(): return _client.wants_hints(), 10.0)
	check(_client.wants_hints(), "turning the hints on here reaches the server")
