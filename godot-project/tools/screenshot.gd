## Renders one scene off-screen and saves a PNG of the viewport.
##
##   godot --path godot-project --rendering-driver opengl3 \
##       --script res://tools/screenshot.gd -- SCENE OUT.png [FRAMES] [SETUP]
##
## SETUP names a fixture of `shot_setup.gd` (login_providers, login_waiting,
## zone, inventory, hub_sell,
## hub_upgrades, confirm, zone_select, ai_overlay, message_log, pause_menu,
## zone_offline). Run under Xvfb (see
## scripts/screenshots.sh); headless mode has no renderer.
extends SceneTree


func _initialize() -> void:
	_shoot.call_deferred()


func _shoot() -> void:
	var args := OS.get_cmdline_user_args()
	if args.size() < 2:
		printerr("usage: -- SCENE OUT.png [FRAMES] [SETUP]")
		quit(2)
		return
	var scene: PackedScene = load(args[0])
	if scene == null:
		printerr("screenshot: cannot load ", args[0])
		quit(1)
		return
	var frames := int(args[2]) if args.size() > 2 else 30
	var setup := args[3] if args.size() > 3 else ""
	var node := scene.instantiate()
	# Screens that navigate on their own (boot, login) stay put for the picture.
	if "navigate" in node:
		node.navigate = false
	ShotSetup.before_enter(setup, node)
	root.add_child(node)
	await ShotSetup.after_enter(setup, node, self)
	for i in frames:
		await process_frame
	await RenderingServer.frame_post_draw
	var image := root.get_viewport().get_texture().get_image()
	var err := image.save_png(args[1])
	if err != OK:
		printerr("screenshot: cannot write ", args[1], ": ", error_string(err))
		quit(1)
		return
	print("screenshot: ", args[1], " ", image.get_width(), "x", image.get_height())
	node.queue_free()
	await process_frame
	quit(0)
