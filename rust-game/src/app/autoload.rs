//! Finding the autoload singletons (`BackendClient`, `GameState`) from any
//! node. Autoloads are direct children of the root window, named in
//! `project.godot`'s `[autoload]` section.

use godot::classes::Node;
use godot::prelude::*;

/// Name of the backend client autoload.
pub const BACKEND_CLIENT: &str = "BackendClient";
/// Name of the game state autoload.
pub const GAME_STATE: &str = "GameState";

/// The autoload `name` of class `T`, if `from` is in a tree that has it.
pub fn find<T>(from: &Gd<Node>, name: &str) -> Option<Gd<T>>
where
    T: GodotClass + Inherits<Node>,
{
    let tree = from.get_tree_or_null()?;
    let root = tree.get_root()?;
    root.get_node_or_null(name)?.try_cast::<T>().ok()
}
