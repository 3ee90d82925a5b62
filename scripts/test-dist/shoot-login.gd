## Screenshot of the shipped game's login screen, rendered by the bundle
## itself (scripts/screenshot-bundle.sh, under Xvfb). Not part of the bundle:
## given with `--script`. Opens the main scene as the game does, waits for the
## login screen, lets it settle, saves the window to the PNG named after `--`.
extends SceneTree


func _initialize() -> void:
	_shoot.call_deferred()


func _shoot() -> void:
	var args := OS.get_cmdline_user_args()
	var out: String = args[0] if args.size() > 0 else "bundle-login.png"
	change_scene_to_file(ProjectSettings.get_setting("application/run/main_scene"))
	var deadline := Time.get_ticks_msec() + 60000
	while current_scene == null or current_scene.get_class() != "LoginScreen":
		if Time.get_ticks_msec() > deadline:
			printerr("shoot-login: no login screen")
			quit(1)
			return
		await process_frame
	for i in 60:
		await process_frame
	await RenderingServer.frame_post_draw
	var image := root.get_viewport().get_texture().get_image()
	var err := image.save_png(out)
	if err != OK:
		printerr("shoot-login: cannot write ", out, ": ", error_string(err))
		quit(1)
		return
	print("shoot-login: ", out, " ", image.get_width(), "x", image.get_height())
	quit(0)
