//! The extension's background tokio runtime (HTTP, WebSocket).
//!
//! Godot unloads the extension library at exit. A runtime kept in a plain
//! `static` would still have worker threads running at that moment and crash
//! the engine, so the runtime lives in a `Mutex<Option<_>>` that
//! [`shutdown`] empties from `ExtensionLibrary::on_stage_deinit`, joining the
//! workers before the library goes away. A call after shutdown starts nothing.

use std::sync::Mutex;
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);
static SHUT_DOWN: Mutex<bool> = Mutex::new(false);

/// How long outstanding tasks get to finish when the game quits.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A handle to the shared runtime, starting it on first use.
///
/// Returns `None` once the extension is shutting down.
pub fn handle() -> Option<Handle> {
    if *SHUT_DOWN.lock().unwrap_or_else(|e| e.into_inner()) {
        return None;
    }
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if slot.is_none() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cots-net")
            .enable_all()
            .build()
            .ok()?;
        *slot = Some(rt);
    }
    slot.as_ref().map(|rt| rt.handle().clone())
}

/// Whether the runtime has been started and not yet shut down.
pub fn is_running() -> bool {
    RUNTIME.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

/// Stops the runtime and joins its threads. Idempotent.
pub fn shutdown() {
    *SHUT_DOWN.lock().unwrap_or_else(|e| e.into_inner()) = true;
    let rt = RUNTIME.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(rt) = rt {
        rt.shutdown_timeout(SHUTDOWN_GRACE);
    }
}
