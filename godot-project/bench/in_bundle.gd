## `make bench` inside the shipped bundle (scripts/bench-shipped.sh). The
## release template takes no `--script`, so this runs as an extra autoload that
## the benchmark adds to its unpacked copy's bin/override.cfg:
##   [autoload] BundleBench="*/abs/path/godot-project/bench/in_bundle.gd"
## The game starts as a player starts it (main scene, boot screen, login). User
## arguments (after `--`) pick the measurement:
##   --bench-boot                  print `BOOT_PROBE login_unix_usec=.. engine_ms=..`
##                                 when the login screen is the current scene, quit
##   --bench-field=OUT.json[:COUNTS]   then, with the login screen unloaded, the
##                                 debris field of field_bench.gd ("1000,10000,100000")
extends Node

const FieldBench := preload("field_bench.gd")
const TIMEOUT_MS := 60000


func _ready() -> void:
	_run.call_deferred()


func _run() -> void:
	var tree := get_tree()
	var field := ""
	var boot := false
	for arg in OS.get_cmdline_user_args():
		if arg == "--bench-boot":
			boot = true
		elif arg.begins_with("--bench-field="):
			field = arg.trim_prefix("--bench-field=")
	if not boot and field.is_empty():
		return
	while tree.current_scene == null or tree.current_scene.get_class() != "LoginScreen":
		if Time.get_ticks_msec() > TIMEOUT_MS:
			printerr("in_bundle: no login screen after %d ms" % TIMEOUT_MS)
			tree.quit(1)
			return
		await tree.process_frame
	var usec := int(Time.get_unix_time_from_system() * 1000000.0)
	print("BOOT_PROBE login_unix_usec=%d engine_ms=%d" % [usec, Time.get_ticks_msec()])
	if not field.is_empty():
		tree.unload_current_scene()
		var parts := field.split(":")
		var counts := [1000, 10000, 100000]
		if parts.size() > 1:
			counts = Array(parts[1].split(",", false)).map(func(c): return int(c))
		await FieldBench.new().run(tree, parts[0], counts)
	tree.quit(0)
