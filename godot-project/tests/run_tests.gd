## Headless test entry point: `godot --headless --path godot-project --script res://tests/run_tests.gd`.
##
## Runs the Rust in-engine tests (the extension's `TestRunner`), then every
## GDScript suite in `res://tests/suites/` (files named `test_*.gd`, each a
## `GameTestSuite`), and quits with exit code 1 if anything failed.
## User arguments after `--`: a filter substring that selects tests by name
## (GDScript suites also take several, separated by `|`).
extends SceneTree

const SUITES_DIR := "res://tests/suites"
## A hung test (an await that never resolves) must fail the run, not stall CI.
const WATCHDOG_SECONDS := 600.0

var _failures := 0
var _passed := 0


func _initialize() -> void:
	GameTestSuite.script_errors = preload("res://tests/script_error_counter.gd").new()
	OS.add_logger(GameTestSuite.script_errors)
	create_timer(WATCHDOG_SECONDS).timeout.connect(_on_watchdog)
	_run.call_deferred()


func _on_watchdog() -> void:
	printerr("in-engine tests: watchdog fired after %d s; a test hung" % WATCHDOG_SECONDS)
	quit(2)


func _run() -> void:
	var filter := ""
	var args := OS.get_cmdline_user_args()
	if args.size() > 0:
		filter = args[0]
	# Let the root window and autoloads finish entering the tree.
	await process_frame
	await physics_frame

	var runner := TestRunner.new()
	var rust_failures: int = runner.run_rust_tests(self, filter)
	var gd_failures := 0

	var files := DirAccess.get_files_at(SUITES_DIR)
	files.sort()
	for file in files:
		if not (file.begins_with("test_") and file.ends_with(".gd")):
			continue
		var script: GDScript = load(SUITES_DIR.path_join(file))
		if script == null or not script.can_instantiate():
			printerr("  FAIL  %s: the suite does not load" % file)
			gd_failures += 1
			continue
		var suite: GameTestSuite = script.new()
		suite.name = file.get_basename()
		root.add_child(suite)
		await suite.run_all(filter)
		gd_failures += suite.failed
		_passed += suite.passed
		suite.queue_free()
		await process_frame

	print("gdscript suites: %d passed, %d failed" % [_passed, gd_failures])
	_failures = rust_failures + gd_failures
	print("in-engine tests: %d failed" % _failures)
	OS.remove_logger(GameTestSuite.script_errors)
	GameTestSuite.script_errors = null
	quit(1 if _failures > 0 else 0)
