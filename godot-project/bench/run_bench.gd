## `make bench`, client part: `godot --headless --fixed-fps 60 --path godot-project
## --script res://bench/run_bench.gd -- OUT.json [COUNTS]` (COUNTS: "1000,10000").
## The shipped bundle runs the same measurement from in_bundle.gd; the work is
## in field_bench.gd.
##
## In one headless run, flies the debris field at each count (default 1k and
## 10k pieces) twice:
## our Rust `Zone` node (scenes/zone/zone.tscn, a local run with exactly N pieces,
## a nearest-piece query every frame through `nearest_debris`) and a GDScript
## field with one node per piece (bench/gd_field.gd). `--fixed-fps 60` makes
## every frame one 1/60 s physics tick and one process step, run as fast as
## the machine allows. Per frame: the time from the first to the last node's
## `_physics_process` plus the time from the first to the last node's
## `_process` (two bracket nodes with the lowest and highest priorities;
## Godot's Performance.TIME_PROCESS monitor is not refreshed every frame),
## and the wall time between frames. Also the resident set of this process
## with each field loaded.
## Headless: nothing is drawn, so neither side pays for rendering.
extends SceneTree

const FieldBench := preload("field_bench.gd")


func _initialize() -> void:
	_run.call_deferred()


func _run() -> void:
	var args := OS.get_cmdline_user_args()
	var path: String = args[0] if args.size() > 0 else "user://bench.json"
	var counts := [1000, 10000]
	if args.size() > 1:
		counts = Array(args[1].split(",", false)).map(func(c): return int(c))
	await FieldBench.new().run(self, path, counts)
	quit(0)
