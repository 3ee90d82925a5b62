//! Trades between lobby members: offer, accept, decline, cancel; the wire
//! view of a stored trade; the expiry sweep.
//!
//! Nothing is held in escrow. An offer checks that the offerer owns what
//! they give; accept locks the trade row, then both players in ascending id
//! order, checks and applies the swap with `game::economy::apply_trade` and
//! writes both sides with their ledger rows under one entry id, or changes
//! nothing (and the trade stays pending). Every status change is
//! `UPDATE ... WHERE status = 'pending'`.

use std::time::Duration;

use game::api::{AcceptTradeResponse, CreateTradeRequest, Trade, TradeStatus};
use game::economy::{TradeError, TradeParty, apply_trade};
use game::milestones::MilestoneEvent;
use game::{Catalog, TradeBundle};

use super::account::{self, Cause};
use super::bus::Publisher;
use super::error::{Error, Result};
use super::limits::UserQuota;
use super::milestones::{self, Happened};
use crate::clock::{duration_ms, now_ms, rfc3339};
use crate::db::trades::{self, NewTrade, TradeRow};
use crate::db::{self, Conn, Db, Dialect, ledger::Reason, lobbies, players};

/// Most units of one debris kind an offer may name (a hold holds 60).
pub const MAX_ITEMS_PER_KIND: u32 = 1000;
/// Most credits an offer may name.
pub const MAX_OFFER_CREDITS: u64 = 1_000_000_000_000;
/// How often each replica expires overdue offers.
const SWEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Checks the shape of one side of an offer: known ids, no zero entries,
/// bounded amounts. Ownership is the `game` crate's question.
pub fn validate_side(catalog: &Catalog, side: &TradeBundle, name: &str) -> Result<()> {
    let invalid = Error::InvalidRequest;
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

/// Checks the shape of an offer before the transaction: both sides, not
/// empty, a plausible receiver name.
pub fn check_offer(catalog: &Catalog, body: &CreateTradeRequest) -> Result<()> {
    validate_side(catalog, &body.give, "give")?;
    validate_side(catalog, &body.want, "want")?;
    if body.give.is_empty() && body.want.is_empty() {
        return Err(Error::InvalidRequest(
            "a trade must give or want something".to_owned(),
        ));
    }
    if body.to.is_empty() || body.to.len() > 64 {
        return Err(Error::NotAMember);
    }
    Ok(())
}

/// Offers a trade (checked by [`check_offer`]) to another member of the
/// room `code` (inside the caller's transaction). `limiter` counts offers
/// that would be made (a refused or replayed offer does not count).
#[allow(clippy::too_many_arguments)]
pub async fn offer(
    conn: &mut Conn,
    dialect: Dialect,
    catalog: &Catalog,
    limiter: &UserQuota,
    code: &str,
    user_id: &str,
    body: &CreateTradeRequest,
    now: i64,
) -> Result<Trade> {
    let rules = catalog.lobby();
    if !lobbies::exists(conn, code).await? {
        return Err(Error::UnknownLobby);
    }
    if !lobbies::is_member(conn, code, user_id).await? {
        return Err(Error::NotAMember);
    }
    // Offering counts as being there (see `presence`).
    lobbies::touch(conn, code, user_id, now).await?;
    let to_user = players::find_id_by_username(conn, &body.to)
        .await?
        .ok_or(Error::NotAMember)?;
    if to_user == user_id {
        return Err(Error::InvalidRequest(
            "a trade needs another player".to_owned(),
        ));
    }
    if !lobbies::is_member(conn, code, &to_user).await? {
        return Err(Error::NotAMember);
    }
    // Locked: the pending-offer count and the ownership check see every
    // earlier offer and sale of this player.
    let offerer = account::lock(conn, dialect, catalog, user_id, now).await?;
    if trades::pending_from(conn, user_id, now).await? >= i64::from(rules.max_pending_offers) {
        return Err(Error::TooManyOffers(rules.max_pending_offers));
    }
    offerer.state.check_can_give(catalog, &body.give)?;
    let verified = players::email_verified(conn, user_id).await?;
    offerer
        .state
        .check_transferable(catalog, &body.give, verified)?;

    limiter.check_or_refuse(user_id, "trade offers").await?;
    let id = db::new_id();
    let give = serde_json::to_string(&body.give).map_err(anyhow::Error::from)?;
    let want = serde_json::to_string(&body.want).map_err(anyhow::Error::from)?;
    let expires_at = now + duration_ms(Duration::from_secs(rules.offer_expiry_seconds));
    trades::insert(
        conn,
        &NewTrade {
            id: &id,
            lobby_code: code,
            from_user: user_id,
            to_user: &to_user,
            give: &give,
            want: &want,
            now,
            expires_at,
        },
    )
    .await?;
    let row = trades::find(conn, &id, None)
        .await?
        .ok_or_else(|| anyhow::anyhow!("trade vanished inside its own transaction"))?;
    view(&row, now)
}

/// Who may change a trade's status.
#[derive(Debug, Clone, Copy)]
pub enum Party {
    /// May cancel.
    Offerer,
    /// May accept or decline.
    Receiver,
}

/// Loads and locks a trade for a status change by `party`.
async fn load_for(
    conn: &mut Conn,
    dialect: Dialect,
    id: &str,
    user_id: &str,
    party: Party,
    now: i64,
) -> Result<TradeRow> {
    if id.len() > 64 {
        return Err(Error::UnknownTrade);
    }
    let row = trades::find(conn, id, Some(dialect))
        .await?
        .ok_or(Error::UnknownTrade)?;
    let (owner, what) = match party {
        Party::Receiver => (&row.to_user, "only the receiver can answer this trade"),
        Party::Offerer => (&row.from_user, "only the offerer can cancel this trade"),
    };
    if owner != user_id {
        return Err(Error::NotYourTrade(what));
    }
    if row.status != "pending" || row.expires_at <= now {
        return Err(Error::TradeNotPending);
    }
    Ok(row)
}

/// Accepts (the receiver): the swap happens entirely or not at all (inside
/// the caller's transaction). A refused swap is [`Error::TradeRefused`].
pub async fn accept(
    conn: &mut Conn,
    dialect: Dialect,
    catalog: &Catalog,
    id: &str,
    user_id: &str,
    now: i64,
) -> Result<AcceptTradeResponse> {
    let row = load_for(conn, dialect, id, user_id, Party::Receiver, now).await?;
    for member in [&row.from_user, &row.to_user] {
        if !lobbies::is_member(conn, &row.lobby_code, member).await? {
            return Err(Error::NotAMember);
        }
    }
    let (give, want) = bundles(&row)?;
    // Fixed order: two accepts between the same players cannot deadlock.
    players::lock_in_order(conn, dialect, &[&row.from_user, &row.to_user]).await?;
    let offerer = account::lock(conn, dialect, catalog, &row.from_user, now).await?;
    let receiver = account::lock(conn, dialect, catalog, &row.to_user, now).await?;
    let mut offerer_next = offerer.state.clone();
    let mut receiver_next = receiver.state.clone();
    apply_trade(catalog, &mut offerer_next, &mut receiver_next, &give, &want)
        .map_err(Error::TradeRefused)?;
    // Start credits stay with their account until it has earned its own (or
    // verified its email): a gift from a throw-away registration is refused.
    for (party, who, bundle) in [
        (TradeParty::Offerer, &offerer, &give),
        (TradeParty::Receiver, &receiver, &want),
    ] {
        let verified = players::email_verified(conn, &who.user_id).await?;
        who.state
            .check_transferable(catalog, bundle, verified)
            .map_err(|error| Error::TradeRefused(TradeError { party, error }))?;
    }
    if !trades::transition(conn, &row.id, "completed", now).await? {
        return Err(Error::TradeNotPending);
    }
    let entry_id = db::new_id();
    let cause = Cause {
        reason: Reason::Trade,
        reference: Some(&row.id),
        entry_id: &entry_id,
    };
    account::save(conn, &offerer, &offerer_next, cause, now).await?;
    let receiver_saved = account::save(conn, &receiver, &receiver_next, cause, now).await?;
    for (before, after) in [(&offerer, &offerer_next), (&receiver, &receiver_next)] {
        milestones::record(
            conn,
            catalog,
            &before.user_id,
            Happened {
                event: MilestoneEvent::TradeCompleted,
                before: &before.state,
                after,
                run_id: None,
            },
            now,
        )
        .await?;
    }
    let done = trades::find(conn, &row.id, None)
        .await?
        .ok_or_else(|| anyhow::anyhow!("trade vanished inside its own transaction"))?;
    Ok(AcceptTradeResponse {
        trade: view(&done, now)?,
        player: receiver_saved.view(catalog),
    })
}

/// Declines (the receiver) or cancels (the offerer): a status change
/// without a swap (inside the caller's transaction).
pub async fn close(
    conn: &mut Conn,
    dialect: Dialect,
    id: &str,
    user_id: &str,
    party: Party,
    status: TradeStatus,
    now: i64,
) -> Result<Trade> {
    let row = load_for(conn, dialect, id, user_id, party, now).await?;
    if !trades::transition(conn, &row.id, status_str(status), now).await? {
        return Err(Error::TradeNotPending);
    }
    let done = trades::find(conn, &row.id, None)
        .await?
        .ok_or_else(|| anyhow::anyhow!("trade vanished inside its own transaction"))?;
    view(&done, now)
}
