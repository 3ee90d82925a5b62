//! In-engine tests: Rust tests that need a running Godot.
//!
//! `cargo test` cannot touch engine types (the bindings are not initialised
//! outside Godot), so tests that create nodes, load scenes or use the scene
//! tree are registered here and run by `godot-project/tests/run_tests.gd`
//! inside a headless Godot via [`TestRunner`]. Each test runs under
//! `catch_unwind`; the runner returns the number of failures and the script
//! turns that into the process exit code.

use std::panic::{AssertUnwindSafe, catch_unwind};

use godot::classes::{RefCounted, SceneTree};
use godot::prelude::*;

mod client_tests;
mod harness;
mod lobby_tests;
mod runtime_tests;
mod starfield_tests;

use harness::{EngineTest, TestContext};

/// Every in-engine Rust test, in the order they run.
fn all_tests() -> Vec<EngineTest> {
    let mut tests = Vec::new();
    tests.extend(starfield_tests::tests());
    tests.extend(runtime_tests::tests());
    tests.extend(client_tests::tests());
    tests.extend(lobby_tests::tests());
    tests
}

/// Runs the registered Rust tests from GDScript.
#[derive(GodotClass)]
#[class(base = RefCounted, init)]
pub struct TestRunner {
    base: Base<RefCounted>,
}

#[godot_api]
impl TestRunner {
    /// Runs every test whose name contains `filter` (all when empty) and
    /// returns the number of failures. Results are printed one per line.
    #[func]
    fn run_rust_tests(&self, tree: Gd<SceneTree>, filter: GString) -> i64 {
        let filter = filter.to_string();
        let ctx = TestContext { tree };
        let mut failed = 0;
        let mut passed = 0;
        for test in all_tests() {
            if !filter.is_empty() && !test.name.contains(&filter) {
                continue;
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| (test.run)(&ctx)));
            match outcome {
                Ok(()) => {
                    passed += 1;
                    godot_print!("  ok    rust::{}", test.name);
                }
                Err(payload) => {
                    failed += 1;
                    let msg = payload
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panic".to_string());
                    godot_print!("  FAIL  rust::{}: {}", test.name, msg);
                }
            }
        }
        godot_print!("rust in-engine tests: {passed} passed, {failed} failed");
        failed
    }
}
