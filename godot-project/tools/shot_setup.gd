## Fixture set-ups for `screenshot.gd`: puts the real Rust nodes into the
## state a screenshot needs (a player with cargo and upgrades, a local run
## from a fixed seed, a panel open on a tab). Tools only: no game logic.
class_name ShotSetup
extends RefCounted

## A mid-game player: some cargo, a few upgrades (scanner maxed, so the
## radar shows values), clearance for zone 2.
const FIXTURE_PLAYER := {
	"username": "Salvager_42",
	"credits": 640,
	"inventory": {"scrap_metal": 6, "bio_waste": 4, "broken_satellite": 2, "ai_component": 1},
	"hold": {"used": 13, "capacity": 15},
	"upgrades": {
		"speed_boost": 2, "inventory_expansion": 1, "collection_efficiency": 0,
		"cargo_magnet": 0, "zone_access": 1, "debris_scanner": 3,
	},
	"zone_access": 2,
	"stats": {"debris_collected": 57, "credits_earned": 2310, "trades_completed": 0},
	"version": 12,
}


## The station AI's log for the message fixtures (texts from the catalog).
const FIXTURE_MESSAGES := [
	["first_collection", "2026-11-20T08:14:03.000Z"],
	["first_sale", "2026-11-20T08:31:47.000Z"],
	["first_upgrade", "2026-11-20T08:33:12.000Z"],
	["zone_2_unlocked", "2026-11-21T19:02:55.000Z"],
	["hold_full", "2026-11-22T11:40:09.000Z"],
	["first_legendary", "2026-11-23T22:17:30.000Z"],
]


## What `GET /auth/providers` answers for the login fixtures: Google
## signs in, Discord cannot be reached just now.
const FIXTURE_PROVIDERS := {"providers": [
	{"name": "google", "display_name": "Google", "available": true},
	{"name": "discord", "display_name": "Discord", "available": false},
]}


## Called before the scene enters the tree.
static func before_enter(setup: String, node: Node) -> void:
	if setup == "":
		return
	if node.has_method("start_local_run"):
		node.start_on_ready = false
		# No backend while rendering: nothing to fetch.
		node.get_node("Ui/AiOverlay").fetch_on_ready = false


## Called once the scene is in the tree; may await frames.
static func after_enter(setup: String, node: Node, tree: SceneTree) -> void:
	if setup == "":
		return
	if setup == "register_typing":
		# Half-filled: some rules ticked, the password still contains the name.
		for field in [["%EmailEdit", "voyager@example.org"], ["%UsernameEdit", "Voyager"],
				["%PasswordEdit", "voyager-in-orbit"], ["%RepeatEdit", "voyager-in-orbit"]]:
			var edit: LineEdit = node.get_node(field[0])
			edit.text = field[1]
			edit.text_changed.emit(field[1])
		return
	if setup == "settings":
		node.open_settings()
		var settings: Node = node.get_node("%Settings")
		settings.get_node("%UrlEdit").text = "https://salvage.example.org"
		settings.begin_rebind("collect", "key")
		return
	if setup == "reset_code":
		node.get_node("%ResetEmailEdit").text = "salvager42@example.org"
		node.open_reset_code()
		for field in [["%ResetCodeEdit", "Xk2v9QmP0aLr7wT4yN1cB8dF6hJ3sE5u"], ["%NewPasswordEdit", "a-fresh-salvage-route"],
				["%NewRepeatEdit", "a-fresh-salvage-rout"]]:
			var edit: LineEdit = node.get_node(field[0])
			edit.text = field[1]
			edit.text_changed.emit(field[1])
		return
	if setup == "verify":
		node.get_node("%Verification").open_signed_out("Salvager_42", "salvager42@example.org",
			"The station needs your address confirmed before you sign in. Wrong address? Type the right one, your password, CHANGE ADDRESS.")
		return
	if setup == "login_providers" or setup == "login_waiting":
		await _login_providers(setup, node, tree)
		return
	if setup == "login_error":
		node.get_node("%LoginEdit").text = "Salvager_42"
		node.get_node("%PasswordEdit").text = "************"
		# As the backend answers a locked account: 429 with Retry-After.
		tree.root.get_node("BackendClient").sign_in_failed.emit("account_locked", "too many failed attempts", 270)
		return
	var state: Node = tree.root.get_node("GameState")
	var client: Node = tree.root.get_node("BackendClient")
	client.offline_probe_s = 120.0
	state.apply_fixture_json(JSON.stringify(FIXTURE_PLAYER))
	client.apply_fixture_identity(FIXTURE_PLAYER.username, true)
	var messages := []
	for m in FIXTURE_MESSAGES:
		messages.append({"id": m[0], "text": state.catalog_message_text(m[0]), "unlocked_at": m[1], "seen": true})
	state.apply_fixture_messages(JSON.stringify({"messages": messages}))
	await tree.process_frame
	if setup in ["lobby", "trade_window", "lobby_reconnecting", "trade_declined", "trade_expired"]:
		await _lobby(setup, node, tree)
		return
	if setup == "lobby_entry":
		# A code with a zero in it: refused before anything is sent.
		var entry: Node = node.get_node("%LobbyEntry")
		entry.type_code("K7QX20")
		entry.submit()
		return
	if not node.has_method("start_local_run"):
		return
	# A mid-game player has put the first-flight hints away.
	var hints: Node = node.get_node("Ui/FlightHints")
	tree.root.get_node("SettingsStore").set_hints_dismissed(setup != "first_flight")
	if setup == "first_flight":
		hints.show_from_start()
	else:
		hints.refresh()
	node.start_local_run(1, 20261124)
	# Let the field drift and the effects settle.
	for i in 20:
		await tree.physics_frame
	match setup:
		"zone":
			# Software rendering is slow: keep the flash long enough to be seen.
			var effects: Node = node.get_node("CollectEffects")
			effects.lifetime = 60.0
			effects.burst(Vector2(110, -60), 150, Color(0.78, 0.8, 0.83))
		"inventory":
			node.get_node("Ui/InventoryPanel").toggle()
		"hub_sell":
			node.dock(0)
		"hub_upgrades":
			node.dock(0)
			node.get_node("Ui/HubPanel").show_tab(1)
		"confirm":
			node.dock(0)
			node.get_node("Ui/HubPanel").show_tab(1)
			node.get_node("Ui/HubPanel").ask_purchase("speed_boost")
		"zone_select":
			node.dock(0)
			node.get_node("Ui/HubPanel").show_tab(2)
		"ai_overlay":
			var overlay: Node = node.get_node("Ui/AiOverlay")
			overlay.auto_dismiss_s = 60.0
			overlay.announce("first_sale", state.catalog_message_text("first_sale"))
			overlay.announce("first_upgrade", state.catalog_message_text("first_upgrade"))
			await tree.process_frame
			overlay.finish_typing()
		"message_log":
			node.get_node("Ui/PauseMenu/MessageLog").open()
		"pause_menu":
			node.get_node("Ui/PauseMenu").open()
		"account":
			var menu: Node = node.get_node("Ui/PauseMenu")
			menu.open()
			menu.open_account()
			# What the station would answer (no backend while rendering).
			for i in 10:
				await tree.process_frame
			client.profile_loaded.emit(FIXTURE_PLAYER.username, "salvager42@example.org", false)
			client.providers_loaded.emit(JSON.stringify(FIXTURE_PROVIDERS))
			client.linked_providers_loaded.emit(JSON.stringify({"linked": [
				{"provider": "google", "linked_at": "2026-11-20T08:12:44Z"}], "has_password": true}))
			client.sessions_loaded.emit(JSON.stringify({"sessions": [
				{"id": "s1", "user_agent": "Children of the Singularity 0.1.0 (Linux)", "ip": "203.0.113.7",
					"created_at": "2026-11-20T08:10:00Z", "last_used_at": "2026-11-24T21:14:09Z",
					"expires_at": "2026-12-20T08:10:00Z", "current": true},
				{"id": "s2", "user_agent": "Children of the Singularity 0.1.0 (Linux)", "ip": "198.51.100.23",
					"created_at": "2026-11-22T17:02:00Z", "last_used_at": "2026-11-23T09:47:31Z",
					"expires_at": "2026-12-22T17:02:00Z", "current": false},
			]}))
		"zone_offline":
			# Sales and a purchase filed while the link is down: queued, predicted.
			state.sell_items({"scrap_metal": 2})
			state.sell_items({"bio_waste": 1})
			state.purchase_upgrade("collection_efficiency")
			for i in 3:
				await tree.process_frame
			client.apply_fixture_identity(FIXTURE_PLAYER.username, false)
			node.get_node("Ui/Hud").notify("ZONE TRANSIT REQUIRES THE STATION LINK · STAYING IN THIS ZONE",
				Color(0.95, 0.82, 0.3, 1.0))


## The trading floor as the server's events would fill it: three traders,
## positions, chat; `trade_window` adds an offer received from Vex_Orlov.
static func _lobby(setup: String, node: Node, tree: SceneTree) -> void:
	var lobby := {"code": "K7QX2M", "capacity": 8, "members": [
		{"username": "Salvager_42", "joined_at": "2026-11-24T05:02:00Z"},
		{"username": "Vex_Orlov", "joined_at": "2026-11-24T05:04:00Z"},
		{"username": "Mira_Tanaka", "joined_at": "2026-11-24T05:07:00Z"},
	]}
	node.enter_fixture(JSON.stringify(lobby), "Salvager_42")
	node.place_self(Vector2(760, 470))
	var events := [
		{"type": "position", "username": "Vex_Orlov", "x": 800.0, "y": 385.0},
		{"type": "position", "username": "Mira_Tanaka", "x": 520.0, "y": 300.0},
		{"type": "chat", "username": "Vex_Orlov", "text": "anyone holding energy cells?", "at": "2026-11-24T05:09:12Z"},
		{"type": "chat", "username": "Salvager_42", "text": "four scrap and an AI core, what do you give", "at": "2026-11-24T05:09:40Z"},
		{"type": "chat", "username": "Mira_Tanaka", "text": "buying thrusters, paying well", "at": "2026-11-24T05:10:05Z"},
		{"type": "chat", "username": "Vex_Orlov", "text": "sending you an offer now", "at": "2026-11-24T05:10:31Z"},
	]
	for event in events:
		node.apply_event_json(JSON.stringify(event))
	for i in 5:
		await tree.physics_frame
	node.get_node("Camera").reset_smoothing()
	if setup == "lobby_reconnecting":
		# Mira's link dropped: dimmed, tagged, listed as reconnecting.
		node.apply_event_json(JSON.stringify({"type": "presence", "username": "Mira_Tanaka", "state": "reconnecting"}))
	if setup == "trade_declined" or setup == "trade_expired":
		# The player's own offer, answered: declined by Vex, or left to expire.
		var own := {
			"id": "9a1e", "lobby": "K7QX2M", "from": "Salvager_42", "to": "Vex_Orlov",
			"give": {"credits": 0, "items": {"scrap_metal": 4}, "upgrades": {}},
			"want": {"credits": 180, "items": {}, "upgrades": {}},
			"status": "pending", "created_at": "2026-11-24T05:11:02Z", "expires_at": "2026-11-24T05:16:02Z",
		}
		node.apply_event_json(JSON.stringify({"type": "trade", "trade": own}))
		node.open_trade_with("Vex_Orlov")
		own["status"] = "declined" if setup == "trade_declined" else "expired"
		node.apply_event_json(JSON.stringify({"type": "trade", "trade": own}))
	if setup == "trade_window":
		var trade := {
			"id": "7f3c", "lobby": "K7QX2M", "from": "Vex_Orlov", "to": "Salvager_42",
			"give": {"credits": 250, "items": {"energy_cell": 2}, "upgrades": {}},
			"want": {"credits": 0, "items": {"scrap_metal": 4, "ai_component": 1}, "upgrades": {"speed_boost": 1}},
			"status": "pending", "created_at": "2026-11-24T05:10:31Z", "expires_at": "2026-11-24T05:15:31Z",
		}
		node.apply_event_json(JSON.stringify({"type": "trade", "trade": trade}))


## The login screen with the station's provider buttons; `login_waiting`
## then presses SIGN IN WITH GOOGLE for real (a loopback port is bound and
## the start address made; no browser is opened while rendering).
static func _login_providers(setup: String, node: Node, tree: SceneTree) -> void:
	var client: Node = tree.root.get_node("BackendClient")
	client.open_system_browser = false
	# The screen asked the (absent) station first: let that answer land.
	for i in 120:
		if client.requests_in_flight() == 0:
			break
		await tree.process_frame
	await tree.process_frame
	client.providers_loaded.emit(JSON.stringify(FIXTURE_PROVIDERS))
	if setup == "login_waiting":
		node.sign_in_with("google")
