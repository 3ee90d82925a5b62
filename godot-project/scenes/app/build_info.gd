## Autoload `BuildInfo`: which build of the game this is.
##
## `make dist` bakes the version (workspace version and git commit, e.g.
## "0.1.0 (3b05231)") into the bundle's `override.cfg` as the standard
## project setting `application/config/version`; a source checkout says
## "dev". Shown in the window title and, as the game's "about" line, in the
## corner of the boot, login and registration screens.
extends CanvasLayer

const VERSION_SETTING := "application/config/version"
## Screens (root classes of the current scene) that show the about line.
const ABOUT_SCREENS := ["Boot", "LoginScreen", "RegisterScreen"]

var _about: Label


## The version string ("dev" when none was baked in).
func version() -> String:
	var v := str(ProjectSettings.get_setting(VERSION_SETTING, ""))
	return v if not v.is_empty() else "dev"


## The about line ("Children of the Singularity 0.1.0 (3b05231)").
func about_text() -> String:
	return "%s %s" % [ProjectSettings.get_setting("application/config/name", ""), version()]


func _ready() -> void:
	layer = 100
	get_window().title = about_text()
	_about = Label.new()
	_about.name = "About"
	_about.text = about_text()
	_about.mouse_filter = Control.MOUSE_FILTER_IGNORE
	_about.modulate = Color(1, 1, 1, 0.45)
	_about.add_theme_font_size_override("font_size", 12)
	_about.horizontal_alignment = HORIZONTAL_ALIGNMENT_RIGHT
	add_child(_about)
	_about.set_anchors_and_offsets_preset(Control.PRESET_BOTTOM_RIGHT, Control.PRESET_MODE_MINSIZE, 10)
	_about.visible = false
	get_tree().scene_changed.connect(_on_scene_changed)
	print("BuildInfo: ", about_text())


func _on_scene_changed() -> void:
	var scene := get_tree().current_scene
	_about.visible = scene != null and scene.get_class() in ABOUT_SCREENS
