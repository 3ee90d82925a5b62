## A backend process of a test's own, for tests that stop and restart it
## (offline queue). Started from `COTS_BACKEND_BIN` (exported by
## scripts/godot-project.sh) on a SQLite file under user:// and a free
## loopback port; restarted on the same database and port. Every pid is also
## written to `$COTS_GODOT_DATA/spawned-backends.pid` so the harness kills a
## leftover one even when Godot crashes. Tests only.
class_name OwnBackend
extends RefCounted

var pid := -1
var port := 0
var data_dir := ""
var url := ""
## More environment for the process (e.g. REQUIRE_EMAIL_VERIFICATION).
var extra_env := {}


static func available() -> bool:
	var bin := OS.get_environment("COTS_BACKEND_BIN")
	return bin != "" and FileAccess.file_exists(bin)


func _init() -> void:
	data_dir = OS.get_user_data_dir().path_join("own-backend-%d-%d" % [Time.get_ticks_msec(), randi() % 100000])
	DirAccess.make_dir_recursive_absolute(data_dir)
	var server := TCPServer.new()
	if server.listen(0, "127.0.0.1") == OK:
		port = server.get_local_port()
	server.stop()
	url = "http://127.0.0.1:%d" % port


## Starts the process and waits for /health; false when it did not come up.
func start(host: Node, timeout_s := 30.0) -> bool:
	if port == 0:
		return false
	var env := {
		"APP_ENV": "development",
		"DATABASE_URL": "sqlite://%s/x.db?mode=rwc" % data_dir,
		"BIND_ADDR": "127.0.0.1:%d" % port,
		"DATA_DIR": data_dir,
		"RUST_LOG": "warn",
		"AUTH_RATE_LIMIT_PER_MINUTE": "600",
		"AUTH_RATE_LIMIT_BURST": "200",
	}
	env.merge(extra_env, true)
	var saved := {}
	for key in env:
		saved[key] = OS.get_environment(key)
		OS.set_environment(key, env[key])
	pid = OS.create_process(OS.get_environment("COTS_BACKEND_BIN"), PackedStringArray(["serve"]))
	for key in saved:
		if saved[key] == "":
			OS.unset_environment(key)
		else:
			OS.set_environment(key, saved[key])
	if pid <= 0:
		return false
	_record_pid()
	var deadline := Time.get_ticks_msec() + int(timeout_s * 1000.0)
	while Time.get_ticks_msec() < deadline:
		if await _health(host) == 200:
			return true
		await host.get_tree().create_timer(0.2).timeout
	return false


## The database URL of this backend (for `backend outbox`).
func database_url() -> String:
	return "sqlite://%s/x.db?mode=rwc" % data_dir


## Kills the process (SIGKILL: as abrupt as a crash or a pulled cable).
func stop() -> void:
	if pid > 0:
		# SIGKILL; Godot reaps the child itself (polling it afterwards logs ECHILD).
		OS.kill(pid)
		OS.delay_msec(200)
	pid = -1


## Deletes the database folder (after stop).
func remove_data() -> void:
	if data_dir == "":
		return
	for file in DirAccess.get_files_at(data_dir):
		DirAccess.remove_absolute(data_dir.path_join(file))
	DirAccess.remove_absolute(data_dir)


func _record_pid() -> void:
	var root := OS.get_environment("COTS_GODOT_DATA")
	if root == "":
		return
	var path := root.path_join("spawned-backends.pid")
	var file := FileAccess.open(path, FileAccess.READ_WRITE if FileAccess.file_exists(path) else FileAccess.WRITE)
	if file:
		file.seek_end()
		file.store_line(str(pid))
		file.close()


func _health(host: Node) -> int:
	var request := HTTPRequest.new()
	request.timeout = 2.0
	host.add_child(request)
	if request.request(url + "/health") != OK:
		request.queue_free()
		return 0
	var result: Array = await request.request_completed
	request.queue_free()
	return result[1] if result[0] == HTTPRequest.RESULT_SUCCESS else 0
