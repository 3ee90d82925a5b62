## `make bench`, client part: `godot --headless --fixed-fps 60 --path godot-project
## --script res://bench/run_bench.gd -- OUT.json`.
##
## In one headless run, flies the debris field at 1k and 10k pieces twice:
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

const WARMUP_FRAMES := 60
const FRAMES := 600
const SEED := 20240917

var _out := {}


## Runs first (`start`) or last in both the physics and the process pass.
class Bracket:
	extends Node
	var start: Bracket
	var t_physics := 0
	var t_process := 0
	var physics_us := []
	var process_us := []
	var recording := false

	func _physics_process(_delta: float) -> void:
		if start == null:
			t_physics = Time.get_ticks_usec()
		elif recording:
			physics_us.append(Time.get_ticks_usec() - start.t_physics)

	func _process(_delta: float) -> void:
		if start == null:
			t_process = Time.get_ticks_usec()
		elif recording:
			process_us.append(Time.get_ticks_usec() - start.t_process)


func _initialize() -> void:
	_run.call_deferred()


func _run() -> void:
	var args := OS.get_cmdline_user_args()
	var path: String = args[0] if args.size() > 0 else "user://bench.json"
	await process_frame
	await physics_frame
	_out["engine"] = Engine.get_version_info()["string"]
	_out["debug_build"] = OS.is_debug_build()
	_out["rss_idle_mb"] = _rss_mb()
	var results := []
	for n in [1000, 10000]:
		results.append(await _measure("rust", n))
		results.append(await _measure("gdscript", n))
	_out["fields"] = results
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_string(JSON.stringify(_out, "  "))
	file.close()
	print("bench: wrote ", path)
	quit(0)


func _measure(kind: String, n: int) -> Dictionary:
	var node: Node
	if kind == "rust":
		node = load("res://scenes/zone/zone.tscn").instantiate()
		node.start_on_ready = false
		root.add_child(node)
		await process_frame
		node.start_local_run_with_debris(1, SEED, n)
	else:
		node = load("res://bench/gd_field.gd").new()
		node.count = n
		root.add_child(node)
	var first := Bracket.new()
	first.process_priority = -1000000
	first.process_physics_priority = -1000000
	var last_node := Bracket.new()
	last_node.start = first
	last_node.process_priority = 1000000
	last_node.process_physics_priority = 1000000
	root.add_child(first)
	root.add_child(last_node)
	var frame_ms := []
	var last := Time.get_ticks_usec()
	for frame in WARMUP_FRAMES + FRAMES:
		last_node.recording = frame >= WARMUP_FRAMES
		if kind == "rust":
			# The same per-frame query the GDScript field makes.
			node.nearest_debris(node.ship_position(), 400.0)
		await process_frame
		var now := Time.get_ticks_usec()
		if frame > WARMUP_FRAMES:
			frame_ms.append((now - last) / 1000.0)
		last = now
	await process_frame
	last_node.recording = false
	var rss := _rss_mb()
	var process_ms := last_node.process_us.map(func(us): return us / 1000.0)
	var physics_ms := last_node.physics_us.map(func(us): return us / 1000.0)
	node.queue_free()
	first.queue_free()
	last_node.queue_free()
	for i in 5:
		await process_frame
	var total := []
	for i in mini(process_ms.size(), physics_ms.size()):
		total.append(process_ms[i] + physics_ms[i])
	var result := {
		"kind": kind,
		"debris": n,
		"frames": FRAMES,
		"process_ms": _stats(process_ms),
		"physics_ms": _stats(physics_ms),
		"process_plus_physics_ms": _stats(total),
		"frame_wall_ms": _stats(frame_ms),
		"rss_mb": rss,
	}
	print("bench: ", kind, " ", n, ": process+physics median ", result["process_plus_physics_ms"]["median"], " ms, rss ", rss, " MB")
	return result


func _stats(values: Array) -> Dictionary:
	var v := values.duplicate()
	v.sort()
	var n := v.size()
	return {
		"min": v[0],
		"median": v[n / 2],
		"p99": v[mini(n - 1, int(round((n - 1) * 0.99)))],
		"max": v[n - 1],
		"mean": v.reduce(func(a, b): return a + b, 0.0) / n,
	}


func _rss_mb() -> float:
	var out := []
	OS.execute("grep", ["VmRSS", "/proc/%d/status" % OS.get_process_id()], out)
	if out.is_empty():
		return -1.0
	var fields: PackedStringArray = (out[0] as String).split(" ", false)
	return float(fields[1]) / 1024.0 if fields.size() >= 2 else -1.0
