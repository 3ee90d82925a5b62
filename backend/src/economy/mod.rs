//! The authoritative economy: players, runs, sales, upgrades, messages,
//! lobbies and trades, on top of the `game` crate's rules.
//!
//! - [`account`]: a player's state inside a transaction; the one writer of
//!   balances, which writes the ledger with them;
//! - [`milestones`]: station AI messages unlocked by economy events;
//! - [`idempotency`]: `Idempotency-Key` handling inside the effect's
//!   transaction;
//! - [`audit`]: ledger-equals-balances, for `backend audit`.
//!
//! Must not: compute a price, a cost, a capacity or a plausibility bound
//! itself (the `game` crate does); change a balance outside
//! [`account::save`]; hold anything in memory that correctness needs (a
//! second replica must see the same world).
//!
//! Concurrency: every writing request is one transaction started with
//! [`Db::begin_write`](crate::db::Db::begin_write). On SQLite that is
//! `BEGIN IMMEDIATE` (one writer at a time, no deferred-lock upgrade
//! deadlocks). On PostgreSQL the player rows are locked `FOR UPDATE`, several
//! players always in ascending id order, after any lobby or trade row the
//! request locks (order: lobby, trade, players), so lock waits cannot form
//! a cycle; trade status changes are `UPDATE ... WHERE status = 'pending'`.

pub mod account;
pub mod audit;
pub mod bus;
pub mod export;
pub mod idempotency;
pub mod lobbies;
pub mod milestones;
pub mod trades;

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use game::{Catalog, EconomyError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use tokio::task::AbortHandle;

use crate::config::{DatabaseConfig, EconomyConfig};
use crate::db::Db;
use crate::http::error::Error;

/// Shared economy services, part of [`AppState`](crate::http::AppState).
#[derive(Clone)]
pub struct Economy {
    pub catalog: &'static Catalog,
    /// `GET /catalog`'s body, serialised once.
    pub catalog_json: Arc<str>,
    /// Lobby events to every replica's WebSockets.
    pub bus: bus::LobbyBus,
    /// Trade offers per user: a burst of 5, then 10 a minute.
    pub offer_limiter: UserRateLimiter,
    /// Chat lines per user: a burst of 5, then one a second.
    pub chat_limiter: UserRateLimiter,
    _tasks: Arc<TaskGuard>,
}

impl Economy {
    /// Loads the catalog and starts the lobby bus (see [`bus::LobbyBus::start`]).
    pub async fn start(
        db: &Db,
        database: &DatabaseConfig,
        limits: &EconomyConfig,
    ) -> anyhow::Result<Self> {
        let catalog = Catalog::try_shipped()
            .map_err(|error| anyhow::anyhow!("the shipped catalog is invalid: {error}"))?;
        let catalog_json = serde_json::to_string(catalog)?;
        let offer_limiter = UserRateLimiter::new(
            Quota::per_minute(
                NonZeroU32::new(limits.trade_offers_per_minute).unwrap_or(NonZeroU32::MIN),
            )
            .allow_burst(NonZeroU32::new(limits.trade_offer_burst).unwrap_or(NonZeroU32::MIN)),
        );
        let chat_limiter = UserRateLimiter::new(
            Quota::per_second(NonZeroU32::new(1).expect("non-zero"))
                .allow_burst(NonZeroU32::new(5).expect("non-zero")),
        );
        let prune = [offer_limiter.clone(), chat_limiter.clone()];
        let keys_db = db.clone();
        let pruner = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            let mut minutes = 0u64;
            loop {
                tick.tick().await;
                for limiter in &prune {
                    limiter.prune();
                }
                // Every ten minutes: forget idempotency keys past retention.
                if minutes.is_multiple_of(10) {
                    prune_idempotency_keys(&keys_db).await;
                }
                minutes += 1;
            }
        });
        Ok(Self {
            catalog,
            catalog_json: catalog_json.into(),
            bus: bus::LobbyBus::start(db, database).await?,
            offer_limiter,
            chat_limiter,
            _tasks: Arc::new(TaskGuard::new(vec![pruner.abort_handle()])),
        })
    }
}

async fn prune_idempotency_keys(db: &Db) {
    let before = crate::clock::now_ms() - crate::clock::duration_ms(idempotency::RETENTION);
    let pruned = async {
        let mut tx = db.begin_write().await?;
        let pruned = crate::db::idempotency::prune(&mut tx, before).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(pruned)
    };
    match pruned.await {
        Ok(0) => {}
        Ok(pruned) => tracing::info!(pruned, "forgot old idempotency keys"),
        Err(error) => tracing::warn!(%error, "pruning idempotency keys failed"),
    }
}

/// A per-user GCRA limiter (in memory, per replica: with N replicas a user
/// gets at most N times the quota, which is fine for spam limits).
#[derive(Clone)]
pub struct UserRateLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl UserRateLimiter {
    pub fn new(quota: Quota) -> Self {
        Self {
            limiter: Arc::new(DefaultKeyedRateLimiter::keyed(quota)),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when the user is over the quota.
    pub fn check(&self, user_id: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&user_id.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// 429 `rate_limited` with Retry-After when over the quota.
    pub fn check_or_429(&self, user_id: &str, what: &str) -> Result<(), Error> {
        self.check(user_id).map_err(|wait| {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Error::too_many_requests(
                game::api::codes::RATE_LIMITED,
                format!("too many {what}: slow down"),
                secs,
            )
        })
    }

    fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

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

/// An economy rule refused the operation: the `game` crate's code, the
/// status the API gives it (statuses are HTTP's business, so they live
/// here, not in the rules), nothing changed.
pub fn rule_error(error: &EconomyError) -> Error {
    let code = error.code();
    let message = error.to_string();
    match error {
        EconomyError::UnknownKind(_) | EconomyError::InvalidRequest(_) => {
            Error::unprocessable(code, message)
        }
        EconomyError::UnknownZone(_) => Error::not_found(code, message),
        EconomyError::ZoneLocked { .. } => Error::forbidden(code, message),
        _ => Error::conflict(code, message),
    }
}
