## The boot scene loads, enters the tree with its Rust nodes, decides where
## to go (no stored session here: the login screen), and frees cleanly.
extends GameTestSuite


func test_boot_scene_instantiates_with_rust_nodes() -> void:
	var client := BackendHelpers.reset_client(get_tree())
	var scene: PackedScene = load("res://scenes/screens/boot.tscn")
	if not check(scene != null, "boot.tscn loads"):
		return
	var boot := scene.instantiate()
	boot.navigate = false
	add_child(boot)
	await get_tree().process_frame
	var stars := boot.get_node_or_null("Starfield")
	check(stars != null and stars.is_class("Starfield"), "boot has a Rust Starfield")
	if stars:
		check(stars.generated_star_count() > 0, "the starfield generated stars")
	check(not client.has_stored_session(), "no stored session")
	await wait_until(func(): return boot.outcome_name() != "waiting", 5.0)
	check_eq(boot.outcome_name(), "login", "without a session boot goes to login")
	boot.queue_free()
	await get_tree().process_frame
