## A debris field in plain GDScript, for `make bench` only: `count` Sprite2D
## children (one node per piece, each moving in its own `_process`), and a
## ship that flies a circle and asks every frame for the nearest piece in
## range by scanning all of them — what the Rust `Zone` does with a spatial
## grid. Same zone size and drift speeds as zone 1 of the catalog.
extends Node2D

const DEBRIS_SCRIPT := preload("gd_debris.gd")

@export var count := 1000
@export var half_size := 3000.0
@export var max_drift := 20.0
@export var query_radius := 400.0

var ship := Vector2.ZERO
var nearest_index := -1
var _t := 0.0


func _ready() -> void:
	var rng := RandomNumberGenerator.new()
	rng.seed = 12345
	var texture := PlaceholderTexture2D.new()
	texture.size = Vector2(16, 16)
	for i in count:
		var piece: Sprite2D = DEBRIS_SCRIPT.new()
		piece.texture = texture
		piece.half_size = half_size
		piece.position = Vector2(rng.randf_range(-half_size, half_size), rng.randf_range(-half_size, half_size))
		piece.velocity = Vector2.from_angle(rng.randf() * TAU) * rng.randf_range(0.0, max_drift)
		piece.spin = rng.randf_range(-1.0, 1.0)
		add_child(piece)


func _process(delta: float) -> void:
	_t += delta
	ship = Vector2(cos(_t * 0.3), sin(_t * 0.3)) * 1500.0
	nearest_index = nearest(ship, query_radius)


## Index of the nearest piece within `radius` of `point`, -1 if none.
func nearest(point: Vector2, radius: float) -> int:
	var best := -1
	var best_d2 := radius * radius
	var i := 0
	for piece in get_children():
		var d2 := point.distance_squared_to((piece as Node2D).position)
		if d2 < best_d2:
			best_d2 = d2
			best = i
		i += 1
	return best
