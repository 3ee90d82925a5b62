//! [`AppState`]: everything a handler may need.

use std::sync::{Arc, OnceLock};

use crate::accounts::Accounts;
use crate::config::Config;
use crate::db::Db;
use crate::economy::Economy;
use crate::limits::RateLimiter;
use crate::metrics::Metrics;

/// Everything a handler may need. Cheap to clone (all shared).
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    /// Registration, login, sessions, profile.
    pub accounts: Accounts,
    pub metrics: Arc<Metrics>,
    /// Per-user and per-IP budgets of every API route (memory or Redis).
    pub limiter: RateLimiter,
    /// Catalog, lobby event bus and economy rate limiters.
    pub economy: Economy,
    /// Rendered once the router (and so the document) is complete.
    pub openapi_json: Arc<OnceLock<String>>,
}
