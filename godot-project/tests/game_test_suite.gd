## Base class of the GDScript test suites under `res://tests/suites/`.
##
## Every method whose name starts with `test_` is a test; it may `await`
## (frames, signals, timers). A failed `check*` marks the current test failed
## and the runner reports it; the suite goes on with the next test.
class_name GameTestSuite
extends Node

## Set by the runner: counts script errors, so a test that hits one fails.
static var script_errors: Logger

var passed := 0
var failed := 0
var _current_ok := true
var _current := ""


func run_all(filter: String) -> void:
	for method in get_method_list():
		var test_name: String = method.name
		if not test_name.begins_with("test_"):
			continue
		if filter != "" and not _matches(name + "::" + test_name, filter):
			continue
		_current = test_name
		_current_ok = true
		var errors_before := _script_error_count()
		await before_each()
		await call(test_name)
		await after_each()
		if _script_error_count() != errors_before:
			fail("a script error was reported during the test (see the log above)")
		if _current_ok:
			passed += 1
			print("  ok    %s::%s" % [name, test_name])
		else:
			failed += 1
			print("  FAIL  %s::%s" % [name, test_name])


func _script_error_count() -> int:
	return script_errors.count() if script_errors != null else 0


## `filter` is one substring or several separated by `|`.
static func _matches(full_name: String, filter: String) -> bool:
	for part in filter.split("|", false):
		if full_name.contains(part):
			return true
	return false


## Override for per-test set-up.
func before_each() -> void:
	pass


## Override for per-test tear-down.
func after_each() -> void:
	pass


func fail(message: String) -> void:
	_current_ok = false
	print("        %s::%s: %s" % [name, _current, message])


func check(condition: bool, message: String) -> bool:
	if not condition:
		fail(message)
	return condition


func check_eq(actual: Variant, expected: Variant, message: String = "") -> bool:
	if actual != expected:
		fail("%s: expected %s, got %s" % [message, str(expected), str(actual)])
		return false
	return true


## Waits until `predicate` returns true or `timeout_s` passes; returns whether it held.
func wait_until(predicate: Callable, timeout_s: float = 5.0) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while Time.get_ticks_msec() < deadline:
		if predicate.call():
			return true
		await get_tree().process_frame
	return predicate.call()


## Types `text` into the LineEdit `field` of `screen` as a player would
## (the screen hears `text_changed`).
func type_into(screen: Node, field: String, text: String) -> void:
	var edit: LineEdit = screen.get_node(field)
	edit.text = text
	edit.text_changed.emit(text)
