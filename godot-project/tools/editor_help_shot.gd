## Editor plugin that opens the class reference of the Rust node classes in
## the editor's help and saves a PNG of each page: proof that the `///`
## docs of their exported properties reach the editor (`register-docs`).
##
## Never enabled in the project itself: scripts/editor-help-shots.sh copies
## the project to a temporary folder, installs this file there as
## `addons/cots_help_shot/plugin.gd`, enables it and opens the editor under
## Xvfb with
##
##   COTS_HELP_SHOTS="Zone=/abs/zone.png;PlayerShip=/abs/ship.png"
##
## For each class the page is opened (`ScriptEditor.goto_help`), scrolled to
## its "Property Descriptions" and the editor's window saved. The editor
## quits when done (exit code 0, or 1 when a class is unknown or a file
## could not be written).
@tool
extends EditorPlugin

## Seconds the editor gets to settle (first scan, import, layout) before the
## first page is opened.
const SETTLE_S := 6.0
## Seconds a help page gets to lay out before it is scrolled and shot.
const PAGE_S := 2.0


func _enter_tree() -> void:
	var spec := OS.get_environment("COTS_HELP_SHOTS")
	if spec.is_empty():
		return
	_run.call_deferred(spec)


func _wait(seconds: float) -> void:
	await get_tree().create_timer(seconds).timeout


func _run(spec: String) -> void:
	await _wait(SETTLE_S)
	var fs := EditorInterface.get_resource_filesystem()
	while fs.is_scanning():
		await _wait(0.5)
	# Docks and bottom panel out of the way: the help page gets the window.
	EditorInterface.distraction_free_mode = true
	EditorInterface.set_main_screen_editor("Script")
	await _wait(1.0)
	var failures := 0
	for entry in spec.split(";", false):
		var parts := entry.split("=", false, 1)
		if parts.size() != 2:
			printerr("editor-help-shot: bad entry ", entry)
			failures += 1
			continue
		var cls := parts[0]
		var out := parts[1]
		if not ClassDB.class_exists(cls):
			printerr("editor-help-shot: class ", cls, " is not registered")
			failures += 1
			continue
		EditorInterface.get_script_editor().goto_help("class_name:" + cls)
		await _wait(PAGE_S)
		var where := _scroll_to_property_descriptions()
		print("editor-help-shot: ", cls, ": ", where)
		await _wait(PAGE_S)
		await RenderingServer.frame_post_draw
		var image := EditorInterface.get_base_control().get_viewport().get_texture().get_image()
		var err := image.save_png(out)
		if err != OK:
			printerr("editor-help-shot: cannot write ", out, " (error ", err, ")")
			failures += 1
		else:
			print("editor-help-shot: wrote ", out)
	get_tree().quit(1 if failures > 0 else 0)


## Scrolls the visible help page so its "Property Descriptions" heading is
## at the top. Returns what it did, for the log.
func _scroll_to_property_descriptions() -> String:
	var page := _visible_help_text(EditorInterface.get_script_editor())
	if page == null:
		return "no help page found"
	var text := page.get_parsed_text()
	var at := text.find("Property Descriptions")
	if at < 0:
		return "page has no Property Descriptions section"
	# A paragraph per line of the parsed text.
	var paragraph := text.substr(0, at).count("\n")
	page.scroll_to_paragraph(paragraph)
	return "scrolled to Property Descriptions (paragraph %d)" % paragraph


func _visible_help_text(node: Node) -> RichTextLabel:
	for child in node.get_children():
		if child is CanvasItem and not (child as CanvasItem).is_visible_in_tree():
			continue
		if child is RichTextLabel and (child as RichTextLabel).get_parsed_text().contains("Inherits:"):
			return child
		var found := _visible_help_text(child)
		if found != null:
			return found
	return null
