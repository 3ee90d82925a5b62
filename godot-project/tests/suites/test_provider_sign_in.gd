## "Sign in with Google / Discord" end to end in the game: a real OpenID
## provider on loopback (`OidcTestProvider`: scripts/oidc-test-provider,
## set up by scripts/ensure-oidc-provider.sh), a backend of the suite's own
## configured with it as Google (OpenID Connect) and as Discord (plain OAuth
## 2.0), and the login screen's provider buttons. The game never opens a
## browser here (`BackendClient.open_system_browser` off): the start address
## comes out of `provider_browser_url`, and the provider's `/test/drive`
## plays the player's browser all the way back to the game's loopback
## listener. Cases: first sign-in through Google and through Discord (the
## pilot is created), a returning pilot, a taken name (choose another), an
## address that belongs to a password pilot (prove it), cancel while
## waiting (the port closes), a denial at the provider (in words), and
## linking / unlinking from the account screen.
## SKIPPED without a provider directory (COTS_OIDC_PROVIDER_DIR) or a
## backend binary; FAILED when the promised ones do not come up.
extends GameTestSuite

const PASSWORD := "orbital-debris-42"
const GOOGLE_ID := "cots-google-client"
const GOOGLE_SECRET := "google-test-secret-not-a-real-one"
const DISCORD_ID := "cots-discord-client"
const DISCORD_SECRET := "discord-test-secret-not-a-real-one"

var _client: Node
var _available := false
## Started once, for every test of the suite; stopped in _exit_tree.
var _provider: OidcTestProvider
var _own: OwnBackend
var _setup_failed := ""
var _saved_url := ""
var _urls: Array[String] = []


func before_each() -> void:
	_available = false
	if OidcTestProvider.directory() == "" or not OwnBackend.available():
		print("        SKIPPED %s: no OpenID test provider (COTS_OIDC_PROVIDER_DIR) or backend binary (COTS_BACKEND_BIN)" % _current)
		return
	if _own == null and _setup_failed == "":
		await _start_everything()
	if _setup_failed != "":
		fail(_setup_failed)
		return
	_client = BackendHelpers.reset_client(get_tree())
	_client.open_system_browser = false
	_urls.clear()
	if not _client.provider_browser_url.is_connected(_on_browser_url):
		_client.provider_browser_url.connect(_on_browser_url)
	_available = check_eq(_client.backend_url(), _own.url, "the client talks to the suite's backend")


func after_each() -> void:
	if _client:
		if _client.provider_browser_url.is_connected(_on_browser_url):
			_client.provider_browser_url.disconnect(_on_browser_url)
		_client.cancel_provider_sign_in()
		_client.open_system_browser = true
		BackendHelpers.reset_client(get_tree())


func _exit_tree() -> void:
	if _provider:
		_provider.stop()
		_provider = null
	if _own:
		_own.stop()
		_own.remove_data()
		_own = null
		OS.set_environment("COTS_BACKEND_URL", _saved_url)
		if _client:
			BackendHelpers.reset_client(get_tree())


func _on_browser_url(_provider_name: String, url: String) -> void:
	_urls.append(url)


## The provider, then a backend that knows it as Google and as Discord.
func _start_everything() -> void:
	_provider = OidcTestProvider.new()
	if not await _provider.start(self):
		_setup_failed = "the OpenID test provider did not start: %s" % _provider.log_tail()
		return
	_own = OwnBackend.new()
	var google_callback := "%s/api/v1/auth/oauth/google/callback" % _own.url
	var discord_callback := "%s/api/v1/auth/oauth/discord/callback" % _own.url
	if not await _provider.register_client(self, GOOGLE_ID, GOOGLE_SECRET, [google_callback], "oidc") \
			or not await _provider.register_client(self, DISCORD_ID, DISCORD_SECRET, [discord_callback], "oauth2"):
		_setup_failed = "the provider refused the clients: %s" % _provider.log_tail()
		return
	var issuer := _provider.issuer
	_own.extra_env = {
		"PUBLIC_URL": _own.url,
		"OAUTH_GOOGLE_CLIENT_ID": GOOGLE_ID,
		"OAUTH_GOOGLE_CLIENT_SECRET": GOOGLE_SECRET,
		"OAUTH_GOOGLE_ISSUER": issuer,
		"OAUTH_DISCORD_CLIENT_ID": DISCORD_ID,
		"OAUTH_DISCORD_CLIENT_SECRET": DISCORD_SECRET,
		"OAUTH_DISCORD_AUTH_URL": issuer + "/auth",
		"OAUTH_DISCORD_TOKEN_URL": issuer + "/token",
		"OAUTH_DISCORD_USERINFO_URL": issuer + "/users/@me",
	}
	if not await _own.start(self):
		_setup_failed = "the suite's backend (with the providers) did not start on port %d" % _own.port
		return
	_saved_url = OS.get_environment("COTS_BACKEND_URL")
	OS.set_environment("COTS_BACKEND_URL", _own.url)


func _login_screen() -> Node:
	var login: Node = load("res://scenes/screens/login_screen.tscn").instantiate()
	login.navigate = false
	add_child(login)
	return login


## A provider identity nobody used yet; `name` is what the provider calls
## the player (the pilot name the station suggests).
func _identity(name: String, email := "") -> Dictionary:
	var sub := "sub-%d-%d" % [Time.get_ticks_usec(), randi() % 1000000]
	return {
		"sub": sub,
		"email": email if email != "" else "%s@example.org" % sub,
		"email_verified": true,
		"name": name,
		"username": name,
	}


## Waits for the login screen's provider buttons (both providers).
func _buttons_ready(login: Node) -> bool:
	return await wait_until(func(): return login.provider_button_count() == 2, 10.0)


## Presses the provider's button and returns the start address the game
## would have opened in the browser ("" when none came).
func _press(login: Node, provider: String) -> String:
	var before := _urls.size()
	var button: Button = login.get_node("%ProviderButtons/Provider_" + provider)
	button.pressed.emit()
	await wait_until(func(): return _urls.size() > before, 5.0)
	return _urls[-1] if _urls.size() > before else ""


## The loopback port named in a start address.
func _redirect_port(url: String) -> int:
	var query := url.split("?", true, 1)[1] if url.contains("?") else ""
	for pair in query.split("&"):
		if pair.begins_with("redirect_uri="):
			var redirect := pair.substr("redirect_uri=".length()).uri_decode()
			return int(redirect.trim_prefix("http://127.0.0.1:").trim_suffix("/callback"))
	return 0


## Whether something accepts TCP connections on 127.0.0.1:`port`.
func _port_open(port: int) -> bool:
	var peer := StreamPeerTCP.new()
	if peer.connect_to_host("127.0.0.1", port) != OK:
		return false
	var deadline := Time.get_ticks_msec() + 2000
	while peer.get_status() == StreamPeerTCP.STATUS_CONNECTING and Time.get_ticks_msec() < deadline:
		await get_tree().process_frame
		peer.poll()
	var open := peer.get_status() == StreamPeerTCP.STATUS_CONNECTED
	peer.disconnect_from_host()
	return open


## First sign-in through `provider`: the pilot is created and signed in;
## the same person again signs in as the same pilot, with no step.
func _first_sign_in(provider: String, display: String) -> void:
	var login := _login_screen()
	if not check(await _buttons_ready(login), "both provider buttons are shown"):
		login.queue_free()
		return
	var button: Button = login.get_node("%ProviderButtons/Provider_" + provider)
	check_eq(button.text, "SIGN IN WITH %s" % display.to_upper(), "the button's words")
	check(not button.disabled, "an available provider's button can be pressed")
	var url := await _press(login, provider)
	if not check(url != "", "the start address came out of the test hook"):
		login.queue_free()
		return
	check(url.begins_with("%s/api/v1/auth/oauth/%s/start?" % [_own.url, provider]),
		"the station's start address: %s" % url.split("?")[0])
	check(url.contains("code_challenge_method=S256") and url.contains("code_challenge=") and url.contains("state="),
		"PKCE and state in the start address")
	check_eq(login.provider_stage(), "waiting", "the screen waits for the browser")
	check(login.get_node("%ProviderPanel").visible and not login.get_node("%LoginPanel").visible,
		"the waiting panel replaces the form")
	check(_client.is_waiting_for_browser(), "the client listens for the browser")

	var name := BackendHelpers.fresh_username(provider.substr(0, 3))
	var who := _identity(name)
	var drive: Dictionary = await _provider.drive(self, url, who)
	check_eq(drive.get("status"), 200, "the loopback page answered the browser (%s)" % str(drive.get("error", "")))
	check(str(drive.get("body", "")).contains("Signed in: you can close this tab"),
		"the browser reads that it may close the tab")
	var signed_in := await wait_until(func(): return _client.is_signed_in(), 15.0)
	if check(signed_in, "signed in through %s (status: %s)" % [display, login.status_text()]):
		check_eq(_client.signed_in_username(), name, "the new pilot has the provider's name")
		check(_client.has_stored_session(), "the session is stored like a password login's")
		check_eq(login.provider_stage(), "idle", "the flow is over")
	check(not _client.is_waiting_for_browser(), "nothing listens any more")
	login.queue_free()

	_client.sign_out()
	var again := _login_screen()
	await _buttons_ready(again)
	var url2 := await _press(again, provider)
	await _provider.drive(self, url2, who)
	check(await wait_until(func(): return _client.is_signed_in(), 15.0),
		"a returning pilot signs in (status: %s)" % again.status_text())
	check_eq(_client.signed_in_username(), name, "as the same pilot")
	again.queue_free()


func test_google_first_sign_in_creates_the_pilot_and_signs_in() -> void:
	if not _available:
		return
	await _first_sign_in("google", "Google")


func test_discord_first_sign_in_creates_the_pilot_and_signs_in() -> void:
	if not _available:
		return
	await _first_sign_in("discord", "Discord")


func test_a_taken_name_asks_for_another_then_signs_in() -> void:
	if not _available:
		return
	# A password pilot holds the name the provider will suggest.
	var taken := BackendHelpers.fresh_username("taken")
	_client.create_account("%s@example.org" % taken.to_lower(), taken, PASSWORD)
	if not check(await wait_until(func(): return _client.is_signed_in(), 15.0), "the name's owner registered"):
		return
	_client.sign_out()
	var login := _login_screen()
	await _buttons_ready(login)
	var url := await _press(login, "google")
	await _provider.drive(self, url, _identity(taken))
	var asked := await wait_until(func(): return login.provider_stage() == "choose_username", 15.0)
	if not check(asked, "the station asks for another name (status: %s)" % login.status_text()):
		login.queue_free()
		return
	check(login.get_node("%ChooseNameBox").visible, "the name field is shown")
	check(not _client.is_signed_in(), "not signed in yet")
	check_eq(login.get_node("%ChooseNameEdit").text, taken, "the provider's name is offered as it is")

	# The taken name again: refused in words, the step stays.
	login.get_node("%ChooseNameButton").pressed.emit()
	await wait_until(func(): return login.provider_status_text().contains("taken"), 15.0)
	check(login.provider_status_text().contains("taken"), "a taken name has its words (%s)" % login.provider_status_text())
	check_eq(login.provider_stage(), "choose_username", "still choosing")
	# Not a name at all: refused before anything is sent.
	type_into(login, "%ChooseNameEdit", "no spaces allowed")
	login.get_node("%ChooseNameButton").pressed.emit()
	check(login.provider_status_text().contains("3-24"), "the name rules are said (%s)" % login.provider_status_text())

	var chosen := BackendHelpers.fresh_username("chosen")
	type_into(login, "%ChooseNameEdit", chosen)
	login.get_node("%ChooseNameButton").pressed.emit()
	check(await wait_until(func(): return _client.is_signed_in(), 15.0),
		"signed in with the chosen name (status: %s)" % login.provider_status_text())
	check_eq(_client.signed_in_username(), chosen, "the pilot has the chosen name")
	check_eq(login.provider_stage(), "idle", "the flow is over")
	login.queue_free()


func test_an_address_that_belongs_to_a_pilot_needs_its_password() -> void:
	if not _available:
		return
	var owner := BackendHelpers.fresh_username("owner")
	var email := "%s@example.org" % owner.to_lower()
	_client.create_account(email, owner, PASSWORD)
	if not check(await wait_until(func(): return _client.is_signed_in(), 15.0), "the address's owner registered"):
		return
	_client.sign_out()
	var login := _login_screen()
	await _buttons_ready(login)
	var url := await _press(login, "discord")
	await _provider.drive(self, url, _identity(BackendHelpers.fresh_username("dc"), email))
	var asked := await wait_until(func(): return login.provider_stage() == "prove_account", 15.0)
	if not check(asked, "the station asks for the owner's password (status: %s)" % login.status_text()):
		login.queue_free()
		return
	var explain: String = login.get_node("%ProveExplain").text
	check(explain.contains(owner) and explain.contains("password"), "the owner is named: %s" % explain)
	type_into(login, "%ProvePasswordEdit", "not-the-password-at-all")
	login.get_node("%ProveButton").pressed.emit()
	await wait_until(func(): return login.provider_stage() == "prove_account" and login.provider_status_text() != "", 15.0)
	check_eq(login.provider_status_text(), "Wrong password for that pilot.", "a wrong password has its words")
	type_into(login, "%ProvePasswordEdit", PASSWORD)
	login.get_node("%ProveButton").pressed.emit()
	check(await wait_until(func(): return _client.is_signed_in(), 15.0),
		"signed in as the owner (status: %s)" % login.provider_status_text())
	check_eq(_client.signed_in_username(), owner, "the provider now leads to the owner's pilot")
	login.queue_free()


func test_cancel_while_waiting_closes_the_listener() -> void:
	if not _available:
		return
	var login := _login_screen()
	await _buttons_ready(login)
	var url := await _press(login, "google")
	var port := _redirect_port(url)
	if not check(port > 0, "the start address names a loopback port"):
		login.queue_free()
		return
	check(await _port_open(port), "the game listens on 127.0.0.1:%d while waiting" % port)
	login.get_node("%ProviderCancelButton").pressed.emit()
	check_eq(login.provider_stage(), "idle", "back to the form")
	check(login.get_node("%LoginPanel").visible and not login.get_node("%ProviderPanel").visible,
		"the login form is shown again")
	check(login.status_text().contains("cancelled"), "the player reads that it was cancelled (%s)" % login.status_text())
	check(not _client.is_waiting_for_browser(), "the client no longer waits")
	var closed := false
	for attempt in 40:
		if not await _port_open(port):
			closed = true
			break
		await get_tree().create_timer(0.1).timeout
	check(closed, "the loopback port is closed")
	var button: Button = login.get_node("%ProviderButtons/Provider_google")
	check(not button.disabled, "the provider can be tried again")
	# The browser coming back late finds nobody: the game stays signed out.
	var drive: Dictionary = await _provider.drive(self, url, _identity(BackendHelpers.fresh_username("late")))
	check_eq(drive.get("status"), 0, "nothing answers the late browser (%s)" % str(drive))
	check(not _client.is_signed_in(), "still signed out")
	login.queue_free()


func test_a_denial_at_the_provider_is_said_in_words() -> void:
	if not _available:
		return
	var login := _login_screen()
	await _buttons_ready(login)
	var url := await _press(login, "discord")
	var drive: Dictionary = await _provider.drive(self, url, _identity(BackendHelpers.fresh_username("no")), true)
	check(str(drive.get("body", "")).contains("declined"), "the browser page says it too (%s)" % str(drive.get("body", drive)))
	await wait_until(func(): return login.provider_stage() == "idle", 15.0)
	check_eq(login.provider_stage(), "idle", "back to the form")
	check(login.status_text().contains("You declined at the provider"), "the denial in words: %s" % login.status_text())
	check(not _client.is_signed_in(), "not signed in")
	check(not _client.is_waiting_for_browser(), "nothing listens any more")
	login.queue_free()


func test_the_account_screen_links_and_unlinks_a_provider() -> void:
	if not _available:
		return
	var pilot := BackendHelpers.fresh_username("linker")
	_client.create_account("%s@example.org" % pilot.to_lower(), pilot, PASSWORD)
	if not check(await wait_until(func(): return _client.is_signed_in(), 15.0), "a password pilot signed in"):
		return
	var account: Node = load("res://scenes/overlays/account_screen.tscn").instantiate()
	add_child(account)
	account.open()
	var list: Node = account.get_node("%SignInList")
	var offered := await wait_until(func(): return list.find_child("Link_discord", true, false) != null, 10.0)
	if not check(offered, "DISCORD can be linked"):
		account.queue_free()
		return
	check(account.get_node("%SignInBox").visible, "the sign-in methods are listed")
	var before := _urls.size()
	(list.find_child("Link_discord", true, false) as Button).pressed.emit()
	await wait_until(func(): return _urls.size() > before, 5.0)
	if not check(_urls.size() > before, "the link's start address came out of the test hook"):
		account.queue_free()
		return
	check(account.get_node("%LinkWaitRow").visible, "the account screen waits for the browser")
	await _provider.drive(self, _urls[-1], _identity(BackendHelpers.fresh_username("dl")))
	await wait_until(func(): return account.status_text().begins_with("Linked"), 15.0)
	check(account.status_text().begins_with("Linked"), "linked in words (%s)" % account.status_text())
	check(await wait_until(func(): return "discord" in account.linked_provider_names(), 10.0), "DISCORD is listed as linked")
	check(not account.get_node("%LinkWaitRow").visible, "no longer waiting")
	check(_client.signed_in_username() == pilot, "still the same pilot")

	var unlink := await wait_until(func(): return list.find_child("Unlink_discord", true, false) != null, 10.0)
	if check(unlink, "DISCORD can be unlinked"):
		(list.find_child("Unlink_discord", true, false) as Button).pressed.emit()
		await wait_until(func(): return account.status_text().begins_with("Unlinked"), 15.0)
		check(account.status_text().begins_with("Unlinked"), "unlinked in words (%s)" % account.status_text())
		check(await wait_until(func(): return not ("discord" in account.linked_provider_names()), 10.0), "DISCORD is no longer linked")
	account.queue_free()
