## `make bench`, client part: how long a headless game takes from process
## start to the login screen. Opens the main scene (boot) as the game does,
## with no stored session, and prints the wall-clock moment the login
## screen is the current scene, then quits:
##   BOOT_PROBE login_unix_usec=<µs since the epoch> engine_ms=<ms since engine start>
extends SceneTree

const TIMEOUT_MS := 60000


func _initialize() -> void:
	_run.call_deferred()


func _run() -> void:
	change_scene_to_file(ProjectSettings.get_setting("application/run/main_scene"))
	while true:
		await process_frame
		var scene := current_scene
		if scene != null and scene.scene_file_path == "res://scenes/screens/login_screen.tscn":
			break
		if Time.get_ticks_msec() > TIMEOUT_MS:
			printerr("boot_probe: no login screen after %d ms" % TIMEOUT_MS)
			quit(1)
			return
	var usec := int(Time.get_unix_time_from_system() * 1000000.0)
	print("BOOT_PROBE login_unix_usec=%d engine_ms=%d" % [usec, Time.get_ticks_msec()])
	quit(0)
