## The player of scripts/test-dist.sh: drives the shipped game through its own
## screens, the way a person would. Not part of the bundle: the release
## template takes no `--script`, so the test adds this file as an autoload to
## its unpacked copy's bin/override.cfg; the pack, engine and extension under
## test are the shipped ones, unchanged, and the game starts as usual (main
## scene, boot screen).
##
## Waits for the login screen, types the credentials from COTS_TEST_LOGIN and the file
## named by COTS_TEST_PASSWORD_FILE into its fields (the password is never
## printed), presses SIGN IN, waits for the zone run the game starts after
## signing in, and quits with 0. Prints one `PLAYER <step>` line per step;
## any failure prints `PLAYER FAILED: ...` and quits with 1.
extends Node

const STEP_TIMEOUT_MS := 60000

var _deadline := 0


func _ready() -> void:
	_play.call_deferred()


func _play() -> void:
	var login := OS.get_environment("COTS_TEST_LOGIN")
	var password := FileAccess.get_file_as_string(OS.get_environment("COTS_TEST_PASSWORD_FILE")).strip_edges()
	if login.is_empty() or password.is_empty():
		_fail("COTS_TEST_LOGIN and COTS_TEST_PASSWORD_FILE must name the account")
		return
	print("PLAYER start debug_build=%s version=%s" % [OS.is_debug_build(), ProjectSettings.get_setting("application/config/version", "")])

	var screen: Node = await _scene_of_class("LoginScreen")
	if screen == null:
		_fail("no login screen")
		return
	print("PLAYER login_screen after %d ms" % Time.get_ticks_msec())
	var login_edit: LineEdit = screen.get_node("%LoginEdit")
	var password_edit: LineEdit = screen.get_node("%PasswordEdit")
	var sign_in: Button = screen.get_node("%SignInButton")
	login_edit.text = login
	login_edit.text_changed.emit(login)
	password_edit.text = password
	password_edit.text_changed.emit(password)
	await get_tree().process_frame
	if sign_in.disabled:
		_fail("SIGN IN stays disabled with the credentials typed in")
		return
	sign_in.pressed.emit()
	print("PLAYER signing_in as ", login)

	var zone: Node = await _scene_of_class("Zone")
	if zone == null:
		var status: String = screen.status_text() if is_instance_valid(screen) else "?"
		_fail("no zone after signing in; login status: '%s'" % status)
		return
	_deadline = Time.get_ticks_msec() + STEP_TIMEOUT_MS
	while not (zone.is_running() and not String(zone.run_id()).is_empty()):
		if Time.get_ticks_msec() > _deadline:
			_fail("the zone never started a run")
			return
		await get_tree().process_frame
	print("PLAYER run_started zone=%d run_id=%s" % [zone.zone_id(), zone.run_id()])
	# A few more frames of flying in the zone before leaving.
	for i in 30:
		await get_tree().process_frame
	print("PLAYER quit")
	get_tree().quit(0)


func _scene_of_class(cls: String) -> Node:
	_deadline = Time.get_ticks_msec() + STEP_TIMEOUT_MS
	while Time.get_ticks_msec() < _deadline:
		await get_tree().process_frame
		var scene := get_tree().current_scene
		if scene != null and scene.get_class() == cls:
			return scene
	return null


func _fail(why: String) -> void:
	printerr("PLAYER FAILED: ", why)
	get_tree().quit(1)
