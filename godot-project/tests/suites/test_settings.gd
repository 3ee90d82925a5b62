## The settings screen and store: a station address is checked and pinged
## before it is saved (a dead one is refused, the harness's backend is
## accepted), volumes reach the audio buses, a key rebinding reaches the
## InputMap (conflicts refused, reset restores the project's), a corrupt
## file gives the defaults, and the first-flight hints follow the InputMap
## and go away for good when dismissed.
extends GameTestSuite

const TEST_FILE := "user://test-settings.json"

var _store: Node
var _saved_file: String


func before_each() -> void:
	_store = get_tree().root.get_node("SettingsStore")
	_saved_file = _store.settings_file
	_store.settings_file = TEST_FILE
	DirAccess.remove_absolute(ProjectSettings.globalize_path(TEST_FILE))
	_store.reload()


func after_each() -> void:
	get_tree().paused = false
	DirAccess.remove_absolute(ProjectSettings.globalize_path(TEST_FILE))
	_store.settings_file = _saved_file
	_store.reload()


func _key(physical: Key) -> InputEventKey:
	var event := InputEventKey.new()
	event.physical_keycode = physical
	event.pressed = true
	return event


func _action_has_key(action: String, physical: Key) -> bool:
	for event in InputMap.action_get_events(action):
		if event is InputEventKey and event.physical_keycode == physical:
			return true
	return false


func _screen() -> Node:
	var screen: Node = load("res://scenes/overlays/settings_screen.tscn").instantiate()
	add_child(screen)
	screen.open()
	return screen


func test_a_station_address_is_checked_and_pinged_before_it_is_saved() -> void:
	var screen := _screen()
	var url_edit: LineEdit = screen.get_node("%UrlEdit")

	url_edit.text = "ftp://station.example.org"
	screen.save()
	check(screen.url_status_text().contains("http"), "not http: explained (%s)" % screen.url_status_text())
	check(not FileAccess.file_exists(TEST_FILE), "nothing saved")

	url_edit.text = "https://me:hunter2@station.example.org"
	screen.save()
	check(screen.url_status_text().contains("password"), "credentials refused (%s)" % screen.url_status_text())

	# Port 9 (discard) answers nobody here.
	url_edit.text = "http://127.0.0.1:9"
	screen.save()
	check(screen.is_busy(), "the address is pinged first")
	await wait_until(func(): return not screen.is_busy(), 20.0)
	check(screen.url_status_text().contains("No station answers"), "dead address explained (%s)" % screen.url_status_text())
	check(screen.status_text().contains("Not saved"), "and not saved (%s)" % screen.status_text())
	check_eq(_store.station_url(), "", "the store still has the default")
	check(not FileAccess.file_exists(TEST_FILE), "no file written")

	if await BackendHelpers.require(self):
		url_edit.text = BackendHelpers.backend_url() + "/"
		screen.save()
		await wait_until(func(): return not screen.is_busy(), 20.0)
		check(screen.status_text().begins_with("Saved"), "a live station is saved (%s)" % screen.status_text())
		check_eq(_store.station_url(), BackendHelpers.backend_url(), "saved without the trailing /")
		_store.reload()
		check_eq(_store.station_url(), BackendHelpers.backend_url(), "and read back from the file")
	screen.queue_free()


func test_volumes_reach_the_audio_buses() -> void:
	for bus in ["Master", "Effects", "UI"]:
		check(AudioServer.get_bus_index(bus) >= 0, "bus %s exists" % bus)
	var screen := _screen()
	var slider: HSlider = screen.get_node("%EffectsSlider")
	slider.value = 0.5
	var effects := AudioServer.get_bus_index("Effects")
	check(absf(AudioServer.get_bus_volume_db(effects) - linear_to_db(0.5)) < 0.01, "effects at half volume")
	# Close without saving: back to what was saved.
	screen.close()
	check(absf(AudioServer.get_bus_volume_db(effects) - linear_to_db(0.8)) < 0.01, "unsaved volume put back")
	screen.open()
	slider.value = 0.25
	screen.save()
	_store.reload()
	check(absf(_store.volume("Effects") - 0.25) < 0.001, "saved volume read back")
	screen.queue_free()


func test_a_key_is_rebound_conflicts_refused_and_reset() -> void:
	var screen := _screen()
	check(_action_has_key("collect", KEY_E), "collect starts on E")
	# F is interact's: refused, nothing changes.
	screen.begin_rebind("collect", "key")
	check(screen.is_capturing(), "waiting for a key")
	Input.parse_input_event(_key(KEY_F))
	await get_tree().process_frame
	check(not screen.is_capturing(), "the key was taken")
	check(screen.status_text().contains("interact"), "conflict named (%s)" % screen.status_text())
	check(_action_has_key("collect", KEY_E), "collect still on E")
	# G is free.
	screen.begin_rebind("collect", "key")
	Input.parse_input_event(_key(KEY_G))
	await get_tree().process_frame
	check(_action_has_key("collect", KEY_G), "collect now on G")
	check(not _action_has_key("collect", KEY_E), "and no longer on E")
	var button: Button = screen.get_node("%BindingsGrid").get_node("collect_key")
	check_eq(button.text, "G", "the row shows G")
	screen.save()
	# A fresh start (the store reads the file again) keeps it.
	_store.reload()
	check(_action_has_key("collect", KEY_G), "rebinding read back from the file")
	screen.reset_bindings()
	check(_action_has_key("collect", KEY_E), "reset: E again")
	check(_action_has_key("move_up", KEY_W) and _action_has_key("move_up", KEY_UP), "reset keeps the project's two thrust keys")
	screen.queue_free()


func test_a_corrupt_file_gives_the_defaults() -> void:
	var file := FileAccess.open(TEST_FILE, FileAccess.WRITE)
	file.store_string("{ this is not json")
	file.close()
	_store.reload()
	check(_store.load_problem() != "", "the problem is known (%s)" % _store.load_problem())
	check_eq(_store.station_url(), "", "default station")
	check(_action_has_key("collect", KEY_E), "default bindings")
	check(absf(_store.volume("Master") - 1.0) < 0.001, "default volume")
	# Saving replaces the corrupt file with a good one.
	check(_store.save(), "saved")
	_store.reload()
	check_eq(_store.load_problem(), "", "the file reads now")


func test_the_pause_menu_opens_the_settings() -> void:
	var menu: Node = load("res://scenes/overlays/pause_menu.tscn").instantiate()
	add_child(menu)
	menu.open()
	menu.get_node("%SettingsButton").pressed.emit()
	var settings: Node = menu.get_node("%Settings")
	check(settings.is_open(), "settings open from the pause menu")
	check(not menu.is_open(), "over the menu")
	await BackendHelpers.tap(get_tree(), "pause")
	await get_tree().process_frame
	check(not settings.is_open(), "Esc closes the settings")
	check(menu.is_open(), "back to the menu")
	menu.resume()
	menu.queue_free()
	await get_tree().process_frame


func test_first_flight_hints_follow_the_controls_and_go_away_for_good() -> void:
	var zone: Node = load("res://scenes/zone/zone.tscn").instantiate()
	zone.start_on_ready = false
	add_child(zone)
	zone.start_local_run(1, 42)
	for i in 5:
		await get_tree().physics_frame
	var hints: Node = zone.get_node("Ui/FlightHints")
	check(hints.is_showing(), "a new pilot sees the hints")
	check_eq(hints.goal(), "collect", "first: collect")
	check(hints.controls_text().contains("COLLECT E"), "controls from the InputMap (%s)" % hints.controls_text())
	check(hints.target() != null, "the arrow points at debris")
	if hints.target() != null:
		var index: int = zone.nearest_debris(zone.ship_position(), 6000.0)
		var piece = zone.debris_position(index)
		# The field drifts between the hint's frame and this one: a few px.
		check(piece != null and (hints.target() as Vector2).distance_to(piece) < 40.0,
			"at the nearest debris (%s vs %s)" % [hints.target(), piece])
	# A rebinding shows at once.
	check(_store.rebind("collect", _key(KEY_G)) == "", "collect rebound to G")
	_store.save()
	await get_tree().process_frame
	check(hints.controls_text().contains("COLLECT G"), "rebound key shown (%s)" % hints.controls_text())
	# The first piece: now the hub.
	zone.collected.emit(0, "scrap_metal", 5)
	check_eq(hints.goal(), "sell", "then: sell")
	await get_tree().physics_frame
	check(hints.target() != null, "the arrow points at a hub")
	if hints.target() != null:
		var ship: Vector2 = zone.ship_position()
		var nearest: Vector2 = zone.hub_position(0)
		for i in zone.hub_count():
			if ship.distance_to(zone.hub_position(i)) < ship.distance_to(nearest):
				nearest = zone.hub_position(i)
		check_eq(hints.target(), nearest, "at the nearest hub")
	hints.get_node("%DismissButton").pressed.emit()
	check(not hints.is_showing(), "dismissed")
	check(_store.hints_dismissed(), "for good (saved)")
	zone.queue_free()
	await get_tree().process_frame
	var again: Node = load("res://scenes/zone/zone.tscn").instantiate()
	again.start_on_ready = false
	add_child(again)
	await get_tree().process_frame
	check(not again.get_node("Ui/FlightHints").is_showing(), "a later flight has no hints")
	again.queue_free()
	await get_tree().process_frame
