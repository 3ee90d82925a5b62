use std::time::Duration;

use super::{EngineTest, TestContext};
use crate::app::runtime;

pub fn tests() -> Vec<EngineTest> {
    vec![EngineTest {
        name: "runtime_runs_tasks_and_is_left_running_for_deinit",
        run: runs_tasks,
    }]
}

/// Starts the shared runtime and leaves a task sleeping on it: the engine must
/// still exit cleanly (the harness fails on a crash at exit), which proves the
/// runtime is joined at extension deinit.
fn runs_tasks(_ctx: &TestContext) {
    let handle = runtime::handle().expect("runtime starts");
    let (tx, rx) = std::sync::mpsc::channel();
    handle.spawn(async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let _ = tx.send(42);
    });
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(42));
    handle.spawn(async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    assert!(runtime::is_running());
}
