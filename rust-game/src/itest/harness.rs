//! What every in-engine test is given and how it is registered; the test
//! files and the runner in `mod.rs` both build on this, so neither needs
//! the other.

use godot::classes::{Node, SceneTree};
use godot::prelude::*;

/// What a test gets: the running scene tree, to add nodes to.
pub struct TestContext {
    pub tree: Gd<SceneTree>,
}

impl TestContext {
    /// The root node (a `Window`) of the running tree.
    pub fn root(&self) -> Gd<Node> {
        self.tree
            .get_root()
            .expect("scene tree has a root")
            .upcast()
    }
}

/// A registered in-engine test.
pub struct EngineTest {
    pub name: &'static str,
    pub run: fn(&TestContext),
}
