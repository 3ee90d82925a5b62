## A real OpenID Connect provider on loopback for the provider sign-in
## suites: `node provider.mjs --port 0` from `COTS_OIDC_PROVIDER_DIR` (set up
## and exported by scripts/godot-project.sh through
## scripts/ensure-oidc-provider.sh). Its issuer is `http://127.0.0.1:<port>`
## (read from the `LISTENING` line it prints); `register_client` and `drive`
## call its test API (`POST /test/clients`, `POST /test/drive`: the provider
## plays the player's browser). Started with pipes: the provider exits when
## its stdin closes, so it cannot outlive this Godot; its pid also goes to
## `$COTS_GODOT_DATA/spawned-providers.pid` for the harness. Tests only.
class_name OidcTestProvider
extends RefCounted

const START_TIMEOUT_S := 30.0

var pid := -1
var issuer := ""
var _stdio: FileAccess
var _stderr: FileAccess
var _out := ""
var _log := ""


## The provider's directory, or "" when the harness promised none.
static func directory() -> String:
	return OS.get_environment("COTS_OIDC_PROVIDER_DIR")


## Starts the process and waits for its `LISTENING` line and /test/health;
## false when it did not come up (see `log_tail()`).
func start(host: Node) -> bool:
	var script := directory().path_join("provider.mjs")
	if not FileAccess.file_exists(script):
		_log = "no provider.mjs in %s" % directory()
		return false
	var node := _node_binary()
	if node == "":
		_log = "no `node` on PATH"
		return false
	var pipes := OS.execute_with_pipe(node, PackedStringArray([script, "--port", "0"]), false)
	if pipes.is_empty():
		_log = "cannot start %s" % node
		return false
	pid = pipes["pid"]
	_stdio = pipes["stdio"]
	_stderr = pipes["stderr"]
	_record_pid()
	var deadline := Time.get_ticks_msec() + int(START_TIMEOUT_S * 1000.0)
	while Time.get_ticks_msec() < deadline and issuer == "":
		drain()
		var at := _out.find("LISTENING ")
		if at >= 0 and _out.find("\n", at) > at:
			issuer = _out.substr(at + "LISTENING ".length(), _out.find("\n", at) - at - "LISTENING ".length()).strip_edges()
			break
		if not OS.is_process_running(pid):
			break
		await host.get_tree().create_timer(0.1).timeout
	if issuer == "":
		return false
	while Time.get_ticks_msec() < deadline:
		var health: Array = await request(host, HTTPClient.METHOD_GET, "/test/health")
		if health[0] == 200:
			return true
		await host.get_tree().create_timer(0.1).timeout
	return false


## Registers (or replaces) a confidential client: `kind` "oidc" (Google) or
## "oauth2" (Discord).
func register_client(host: Node, client_id: String, secret: String, redirect_uris: Array, kind: String) -> bool:
	var answer: Array = await request(host, HTTPClient.METHOD_POST, "/test/clients", {
		"client_id": client_id, "client_secret": secret,
		"redirect_uris": redirect_uris, "kind": kind,
	})
	return answer[0] == 204 or answer[0] == 200


## Plays the player's browser from `url` (the game's start address): signs
## in as `identity` (or denies), and with `follow_loopback` requests the
## game's loopback address at the end. Returns the provider's report
## {"final_url", "status", "body", "visited"} (empty on failure, with
## "error").
func drive(host: Node, url: String, identity: Dictionary, deny := false, follow_loopback := true) -> Dictionary:
	var answer: Array = await request(host, HTTPClient.METHOD_POST, "/test/drive", {
		"url": url, "identity": identity, "deny": deny, "follow_loopback": follow_loopback,
	}, 60.0)
	if answer[0] != 200 or not answer[1] is Dictionary:
		return {"error": "drive answered %d: %s" % [answer[0], str(answer[1])]}
	return answer[1]


## `[status, parsed JSON or text]` of a call to the provider (status 0: no answer).
func request(host: Node, method: int, path: String, body: Variant = null, timeout_s := 10.0) -> Array:
	var http := HTTPRequest.new()
	http.timeout = timeout_s
	host.add_child(http)
	var headers := PackedStringArray()
	var data := ""
	if body != null:
		headers.append("Content-Type: application/json")
		data = JSON.stringify(body)
	if http.request(issuer + path, headers, method, data) != OK:
		http.queue_free()
		return [0, null]
	var result: Array = await http.request_completed
	http.queue_free()
	drain()
	if result[0] != HTTPRequest.RESULT_SUCCESS:
		return [0, null]
	var text: String = (result[3] as PackedByteArray).get_string_from_utf8()
	var parsed = JSON.parse_string(text) if text.begins_with("{") else null
	return [result[1], parsed if parsed != null else text]


## Reads what the process printed so far (its pipes must not fill up).
func drain() -> void:
	if _stdio:
		_out += _stdio.get_buffer(65536).get_string_from_utf8()
	if _stderr:
		_log += _stderr.get_buffer(65536).get_string_from_utf8()
		if _log.length() > 20000:
			_log = _log.substr(_log.length() - 20000)


## The end of the provider's diagnostics (stderr), for failure messages.
func log_tail() -> String:
	drain()
	return _log.substr(maxi(0, _log.length() - 2000))


## Ends the process (its stdin closes too).
func stop() -> void:
	drain()
	if pid > 0 and OS.is_process_running(pid):
		OS.kill(pid)
	if _stdio:
		_stdio.close()
	if _stderr:
		_stderr.close()
	_stdio = null
	_stderr = null
	pid = -1


static func _node_binary() -> String:
	var explicit := OS.get_environment("COTS_NODE_BIN")
	if explicit != "":
		return explicit
	var output := []
	if OS.execute("/bin/sh", ["-c", "command -v node"], output) != 0 or output.is_empty():
		return ""
	return (output[0] as String).strip_edges()


func _record_pid() -> void:
	var root := OS.get_environment("COTS_GODOT_DATA")
	if root == "" or pid <= 0:
		return
	var path := root.path_join("spawned-providers.pid")
	var file := FileAccess.open(path, FileAccess.READ_WRITE if FileAccess.file_exists(path) else FileAccess.WRITE)
	if file:
		file.seek_end()
		file.store_line(str(pid))
		file.close()
