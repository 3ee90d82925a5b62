//! The authoritative economy: players, runs, sales, upgrades, messages,
//! lobbies and trades, on top of the `game` crate's rules. Services with
//! their own [`Error`]; no HTTP here (the `http` layer calls these and maps
//! their errors to statuses), and no SQL (that is `db`'s).
//!
//! - [`account`]: a player's state inside a transaction; the one writer of
//!   balances, which writes the ledger with them;
//! - [`runs`], [`hub`], [`upgrades`], [`messages`], [`lobbies`],
//!   [`trades`]: one service module per resource; a writing service runs
//!   inside the caller's transaction (`&mut Conn`), so the HTTP layer's unit
//!   of work can claim the `Idempotency-Key` before and store the answer
//!   after it;
//! - [`milestones`]: station AI messages unlocked by economy events;
//! - [`idempotency`]: `Idempotency-Key` claims and stored answers;
//! - [`bus`]: lobby events to every replica's sockets;
//! - [`audit`]: ledger-equals-balances, for `backend audit`;
//! - [`export`]: the economy's part of a user's data export.
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
pub mod docking;
pub mod error;
pub mod export;
pub mod hub;
pub mod idempotency;
pub mod limits;
pub mod lobbies;
pub mod messages;
pub mod milestones;
pub mod presence;
pub mod runs;
mod tasks;
pub mod trades;
pub mod upgrades;

use std::sync::Arc;
use std::time::Duration;

use game::Catalog;

pub use error::{Error, Result};
pub use limits::UserQuota;

use crate::config::DatabaseConfig;
use crate::db::Db;
use crate::limits::{Class, RateLimiter};
use tasks::TaskGuard;

/// Shared economy services, part of the HTTP layer's state.
#[derive(Clone)]
pub struct Economy {
    pub catalog: &'static Catalog,
    /// `GET /catalog`'s body, serialised once.
    pub catalog_json: Arc<str>,
    /// Lobby events to every replica's WebSockets.
    pub bus: bus::LobbyBus,
    /// Per-user quotas, spent from the shared limiter (every replica the
    /// same budget; see `crate::limits::config` for the variables).
    /// Trade offers (`TRADE_OFFERS_PER_MINUTE` / `TRADE_OFFER_BURST`).
    pub offer_limiter: UserQuota,
    /// Chat lines (`CHAT_LINES_PER_MINUTE` / `CHAT_LINE_BURST`).
    pub chat_limiter: UserQuota,
    /// Runs started (`RUN_STARTS_PER_MINUTE` / `RUN_START_BURST`).
    pub run_limiter: UserQuota,
    /// Lobbies opened (`LOBBY_OPENS_PER_MINUTE` / `LOBBY_OPEN_BURST`).
    pub lobby_limiter: UserQuota,
    /// Lobby sockets opened (`SOCKET_OPENS_PER_MINUTE` / `SOCKET_OPEN_BURST`).
    pub socket_limiter: UserQuota,
    /// How long a member without a live socket stays in a room
    /// (`LOBBY_PRESENCE_GRACE_SECS`, see [`presence`]).
    pub presence_grace: Duration,
    _tasks: Arc<TaskGuard>,
}

impl Economy {
    /// Loads the catalog, starts the lobby bus (see [`bus::LobbyBus::start`])
    /// and the background tasks: the trade expiry sweep, the presence sweep
    /// (members absent for `presence_grace` leave their rooms) and the
    /// pruning of old idempotency keys. The quotas spend from `limiter`
    /// (pruned by its owner).
    pub async fn start(
        db: &Db,
        database: &DatabaseConfig,
        limiter: &RateLimiter,
        presence_grace: Duration,
    ) -> anyhow::Result<Self> {
        let catalog = Catalog::try_shipped()
            .map_err(|error| anyhow::anyhow!("the shipped catalog is invalid: {error}"))?;
        let catalog_json = serde_json::to_string(catalog)?;
        let quota = |class| UserQuota::new(limiter.clone(), class);
        let offer_limiter = quota(Class::TradeOffer);
        let chat_limiter = quota(Class::Chat);
        let run_limiter = quota(Class::RunStart);
        let lobby_limiter = quota(Class::LobbyOpen);
        let socket_limiter = quota(Class::SocketOpen);
        let keys_db = db.clone();
        let pruner = tokio::spawn(async move {
            // Every ten minutes: forget idempotency keys past retention.
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                prune_idempotency_keys(&keys_db).await;
            }
        });
        let bus = bus::LobbyBus::start(db, database).await?;
        let sweep = tokio::spawn(trades::sweep_expired(db.clone(), bus.publisher().clone()));
        let presence_sweep = tokio::spawn(presence::sweep_absent(
            db.clone(),
            bus.publisher().clone(),
            presence_grace,
        ));
        Ok(Self {
            catalog,
            catalog_json: catalog_json.into(),
            bus,
            offer_limiter,
            chat_limiter,
            run_limiter,
            lobby_limiter,
            socket_limiter,
            presence_grace,
            _tasks: Arc::new(TaskGuard::new(vec![
                pruner.abort_handle(),
                sweep.abort_handle(),
                presence_sweep.abort_handle(),
            ])),
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
