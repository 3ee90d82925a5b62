## Screenshot of the shipped game's login screen, rendered by the bundle
## itself (scripts/screenshot-bundle.sh, under Xvfb). Not part of the bundle:
## an autoload the script adds to a copy's bin/override.cfg (the release
## template takes no `--script`). Waits for the login screen the game opens,
## lets it settle, saves the window to the PNG named by `--shot=PATH`.
extends Node


func _ready() -> void:
	_shoot.call_deferred()


func _shoot() -> void:
	var out := "bundle-login.png"
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--shot="):
			out = arg.trim_prefix("--shot=")
	var tree := get_tree()
	var deadline := Time.get_ticks_msec() + 60000
	while tree.current_scene == null or tree.current_scene.get_class() != "LoginScreen":
		if Time.get_ticks_msec() > deadline:
			printerr("shoot-login: no login screen")
			tree.quit(1)
			return
		await tree.process_frame
	for i in 60:
		await tree.process_frame
	await RenderingServer.frame_post_draw
	var image := tree.root.get_viewport().get_texture().get_image()
	var err := image.save_png(out)
	if err != OK:
		printerr("shoot-login: cannot write ", out, ": ", error_string(err))
		tree.quit(1)
		return
	print("shoot-login: ", out, " ", image.get_width(), "x", image.get_height())
	tree.quit(0)
