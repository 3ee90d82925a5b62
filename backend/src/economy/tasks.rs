//! Background tasks that live as long as their owner.

use std::sync::Mutex;

use tokio::task::AbortHandle;

/// Aborts background tasks when the last handle of their owner goes.
pub(crate) struct TaskGuard(Mutex<Vec<AbortHandle>>);

impl TaskGuard {
    pub(crate) fn new(tasks: Vec<AbortHandle>) -> Self {
        Self(Mutex::new(tasks))
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if let Ok(tasks) = self.0.lock() {
            for task in tasks.iter() {
                task.abort();
            }
        }
    }
}
