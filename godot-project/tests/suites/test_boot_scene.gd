## The boot scene loads, enters the tree with its Rust nodes, and frees cleanly.
extends GameTestSuite


func test_boot_scene_instantiates_with_rust_nodes() -> void:
	var scene: PackedScene = load("res://scenes/boot.tscn")
	if not check(scene != null, "boot.tscn loads"):
		return
	var boot := scene.instantiate()
	add_child(boot)
	await get_tree().process_frame
	var stars := boot.get_node_or_null("Starfield")
	check(stars != null and stars.is_class("Starfield"), "boot has a Rust Starfield")
	if stars:
		check(stars.generated_star_count() > 0, "the starfield generated stars")
	boot.queue_free()
	await get_tree().process_frame
