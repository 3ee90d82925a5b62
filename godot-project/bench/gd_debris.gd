## One debris piece the way a typical GDScript game writes it: its own node,
## moved by its own `_process`. `make bench` compares a field of these with
## the Rust `Zone` node (see docs/BENCHMARKS.md). Not used by the game.
extends Sprite2D

var velocity := Vector2.ZERO
var spin := 0.0
var half_size := 3000.0


func _process(delta: float) -> void:
	position += velocity * delta
	rotation += spin * delta
	# Wrap at the zone's edges, as the Rust field does.
	if position.x > half_size:
		position.x -= 2.0 * half_size
	elif position.x < -half_size:
		position.x += 2.0 * half_size
	if position.y > half_size:
		position.y -= 2.0 * half_size
	elif position.y < -half_size:
		position.y += 2.0 * half_size
