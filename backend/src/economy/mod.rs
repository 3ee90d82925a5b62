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
pub mod idempotency;
pub mod milestones;

use std::sync::Arc;

use game::{Catalog, EconomyError};

use crate::http::error::Error;

/// Shared economy services, part of [`AppState`](crate::http::AppState).
#[derive(Clone)]
pub struct Economy {
    pub catalog: &'static Catalog,
    /// `GET /catalog`'s body, serialised once.
    pub catalog_json: Arc<str>,
}

impl Economy {
    pub fn new() -> anyhow::Result<Self> {
        let catalog = Catalog::try_shipped()
            .map_err(|error| anyhow::anyhow!("the shipped catalog is invalid: {error}"))?;
        let catalog_json = serde_json::to_string(catalog)?;
        Ok(Self {
            catalog,
            catalog_json: catalog_json.into(),
        })
    }
}

/// An economy rule refused the operation: the `game` crate's code and
/// status, nothing changed.
pub fn rule_error(error: &EconomyError) -> Error {
    let code = error.code();
    let message = error.to_string();
    match error.http_status() {
        403 => Error::forbidden(code, message),
        404 => Error::not_found(code, message),
        422 => Error::unprocessable(code, message),
        _ => Error::conflict(code, message),
    }
}
