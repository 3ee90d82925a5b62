//! The retention job: deletes what no one needs any more, on every replica,
//! done once per period.
//!
//! What goes (ages in [`RetentionConfig`], `RETENTION_*` variables):
//! sessions that ended (revoked or expired) and their refresh tokens, expired
//! refresh tokens, verification and reset codes expired or used, login
//! throttle rows past the lockout window and not locked, idempotency keys
//! past their retention, runs older than the offline horizon (with their
//! pieces; the ledger keeps every row, which is all `backend audit` reads),
//! development-outbox mail, provider sign-ins (flows, codes, tickets) past
//! their end.
//!
//! Coordination: PostgreSQL: one transaction under a transaction-scoped
//! advisory lock ([`LOCK_KEY`]); a replica that finds it taken skips the
//! pass (counted as `skipped`). SQLite: a single process; the pass is one
//! `BEGIN IMMEDIATE` transaction.
//!
//! Counts: `cots_retention_deleted_rows_total{table}` and
//! `cots_retention_runs_total{event}` in `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{duration_ms, now_ms};
use crate::config::RetentionConfig;
use crate::db::{self, Db, Dialect};
use crate::metrics::{EventLabels, Metrics, TableLabels};

/// `pg_try_advisory_xact_lock` key of the job ("cots" "ret" in ASCII).
pub const LOCK_KEY: i64 = 0x0063_6f74_7372_6574;

/// Rows deleted by one pass, by table (empty when skipped).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    pub skipped: bool,
    pub deleted: Vec<(&'static str, u64)>,
}

impl Pass {
    pub fn deleted(&self, table: &str) -> u64 {
        self.deleted
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| *n)
    }
}

/// One pass at `now` (ms).
pub async fn run_once(db: &Db, config: &RetentionConfig, now: i64) -> Result<Pass, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    if db.dialect() == Dialect::Postgres
        && !db::retention::try_lock_postgres(&mut tx, LOCK_KEY).await?
    {
        tx.rollback().await?;
        return Ok(Pass {
            skipped: true,
            deleted: Vec::new(),
        });
    }
    let before = |age: Duration| now - duration_ms(age);
    let mut deleted = Vec::new();
    deleted.push((
        "refresh_tokens",
        db::retention::refresh_tokens(&mut tx, before(config.ended_sessions_after)).await?,
    ));
    deleted.push((
        "sessions",
        db::retention::sessions(&mut tx, before(config.ended_sessions_after)).await?,
    ));
    deleted.push((
        "account_tokens",
        db::retention::account_tokens(&mut tx, before(config.mail_tokens_after)).await?,
    ));
    deleted.push((
        "login_throttle",
        db::retention::login_throttle(&mut tx, before(config.throttle_window)).await?,
    ));
    deleted.push((
        "idempotency_keys",
        db::retention::idempotency_keys(&mut tx, before(config.idempotency_after)).await?,
    ));
    deleted.push((
        "runs",
        db::retention::runs(&mut tx, before(config.runs_after)).await?,
    ));
    deleted.push((
        "dev_outbox",
        db::retention::outbox(&mut tx, before(config.outbox_after)).await?,
    ));
    deleted.push((
        "oauth_flows_and_grants",
        db::oauth::purge_expired(&mut tx, now).await?,
    ));
    tx.commit().await?;
    Ok(Pass {
        skipped: false,
        deleted,
    })
}

/// The job on this replica: a pass at start, then every `interval` (none
/// when the interval is 0). Abort the handle to stop it.
pub fn spawn(
    db: Db,
    config: RetentionConfig,
    metrics: Arc<Metrics>,
) -> Option<tokio::task::JoinHandle<()>> {
    if config.interval.is_zero() {
        tracing::info!("retention job off (RETENTION_INTERVAL_SECS=0)");
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(config.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let outcome = match run_once(&db, &config, now_ms()).await {
                Ok(pass) if pass.skipped => "skipped",
                Ok(pass) => {
                    let total: u64 = pass.deleted.iter().map(|(_, n)| n).sum();
                    for (table, n) in &pass.deleted {
                        metrics
                            .retention_deleted
                            .get_or_create(&TableLabels {
                                table: (*table).to_owned(),
                            })
                            .inc_by(*n);
                    }
                    if total > 0 {
                        tracing::info!(deleted = ?pass.deleted, "retention pass");
                    }
                    "done"
                }
                Err(error) => {
                    tracing::warn!(%error, "retention pass failed");
                    "failed"
                }
            };
            metrics
                .retention_runs
                .get_or_create(&EventLabels {
                    event: outcome.to_owned(),
                })
                .inc();
        }
    }))
}
