## Counts the script errors the engine reports while the tests run.
##
## A GDScript runtime error (a method called on null, a bad cast) aborts only
## the function it happens in: the awaiting caller goes on as if nothing
## happened. `GameTestSuite` compares this count before and after each test,
## so such a test is reported as failed, not "ok". The engine may log from any
## thread, hence the mutex.
extends Logger

var _mutex := Mutex.new()
var _count := 0


func _log_error(
	_function: String,
	_file: String,
	_line: int,
	_code: String,
	_rationale: String,
	_editor_notify: bool,
	error_type: int,
	_script_backtraces: Array[ScriptBacktrace]
) -> void:
	if error_type != ERROR_TYPE_SCRIPT:
		return
	_mutex.lock()
	_count += 1
	_mutex.unlock()


func count() -> int:
	_mutex.lock()
	var n := _count
	_mutex.unlock()
	return n
