//! Trade offers: validation of what an offer may name, the wire view of a
//! stored trade, and the expiry sweep.

use std::time::Duration;

use game::api::{Trade, TradeStatus};
use game::{Catalog, TradeBundle};

use super::bus::Publisher;
use crate::clock::{now_ms, rfc3339};
use crate::db::trades::{self, TradeRow};
use crate::db::{Conn, Db};
use crate::http::error::{Error, Result};

/// Most units of one debris kind an offer may name (a hold holds 60).
pub const MAX_ITEMS_PER_KIND: u32 = 1000;
/// Most credits an offer may name.
pub const MAX_OFFER_CREDITS: u64 = 1_000_000_000_000;
/// How often each replica expires overdue offers.
const SWEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Checks the shape of one side of an offer: known ids, no zero entries,
/// bounded amounts. Ownership is the `game` crate's question.
pub fn validate_side(catalog: &Catalog, side: &TradeBundle, name: &str) -> Result<()> {
    let invalid =
        |message: String| Error::unprocessable(game::api::codes::INVALID_REQUEST, message);
    if side.credits > MAX_OFFER_CREDITS {
        return Err(invalid(format!(
            "`{name}.credits` is above {MAX_OFFER_CREDITS}"
        )));
    }
    for (kind, &count) in &side.items {
        if catalog.kind_by_id(kind).is_none() {
            return Err(invalid(format!(
                "`{name}.items` names an unknown debris kind `{}`",
                kind.chars().take(40).collect::<String>()
            )));
        }
        if count == 0 || count > MAX_ITEMS_PER_KIND {
            return Err(invalid(format!(
                "`{name}.items.{kind}` must be 1-{MAX_ITEMS_PER_KIND}"
            )));
        }
    }
    for (&upgrade, &levels) in &side.upgrades {
        let max = catalog.upgrade(upgrade).max_level();
        if levels == 0 || levels > max {
            return Err(invalid(format!(
                "`{name}.upgrades.{upgrade}` must be 1-{max}"
            )));
        }
    }
    Ok(())
}

fn status_of(text: &str) -> Result<TradeStatus> {
    Ok(match text {
        "pending" => TradeStatus::Pending,
        "completed" => TradeStatus::Completed,
        "declined" => TradeStatus::Declined,
        "cancelled" => TradeStatus::Cancelled,
        "expired" => TradeStatus::Expired,
        other => return Err(anyhow::anyhow!("stored trade status `{other}`").into()),
    })
}

pub fn status_str(status: TradeStatus) -> &'static str {
    match status {
        TradeStatus::Pending => "pending",
        TradeStatus::Completed => "completed",
        TradeStatus::Declined => "declined",
        TradeStatus::Cancelled => "cancelled",
        TradeStatus::Expired => "expired",
    }
}

/// The bundles of a stored trade.
pub fn bundles(row: &TradeRow) -> Result<(TradeBundle, TradeBundle)> {
    let parse = |text: &str| {
        serde_json::from_str::<TradeBundle>(text)
            .map_err(|error| Error::from(anyhow::anyhow!("trade {} bundle: {error}", row.id)))
    };
    Ok((parse(&row.give)?, parse(&row.want)?))
}

/// The API's trade object. A pending trade past its expiry shows as
/// `expired` even before the sweep has written it.
pub fn view(row: &TradeRow, now: i64) -> Result<Trade> {
    let (give, want) = bundles(row)?;
    let mut status = status_of(&row.status)?;
    if status == TradeStatus::Pending && row.expires_at <= now {
        status = TradeStatus::Expired;
    }
    Ok(Trade {
        id: row.id.clone(),
        lobby: row.lobby_code.clone(),
        from: row.from_username.clone(),
        to: row.to_username.clone(),
        give,
        want,
        status,
        created_at: rfc3339(row.created_at),
        expires_at: rfc3339(row.expires_at),
    })
}

/// Loads trades by id and returns their views (for events after commit).
pub async fn views(conn: &mut Conn, ids: &[String], now: i64) -> Result<Vec<Trade>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(row) = trades::find(conn, id, None).await? {
            out.push(view(&row, now)?);
        }
    }
    Ok(out)
}

/// Expires overdue offers now (one short transaction) and tells their rooms.
pub async fn expire_now(db: &Db, publisher: &Publisher) -> Result<()> {
    let now = now_ms();
    // A read first: the sweep must not take SQLite's write lock for nothing.
    if !trades::any_due(&mut *db.pool().acquire().await?, now).await? {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    let ids = trades::expire_due(&mut tx, now).await?;
    let expired = views(&mut tx, &ids, now).await?;
    tx.commit().await?;
    for trade in expired {
        publisher.trade(trade).await;
    }
    Ok(())
}

/// Background task: expires overdue offers every few seconds, so rooms see
/// an offer go away even if nobody touches it. Every replica runs it; the
/// conditional UPDATE makes each offer expire once.
pub async fn sweep_expired(db: Db, publisher: Publisher) {
    let mut tick = tokio::time::interval(SWEEP_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = expire_now(&db, &publisher).await {
            tracing::warn!(error = %error, "trade expiry sweep failed");
        }
    }
}
