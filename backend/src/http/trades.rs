//! Trades between lobby members: `POST /api/v1/lobbies/{code}/trades`
//! (offer), `POST /api/v1/trades/{id}/accept`, `/decline`, `/cancel`.
//!
//! Nothing is held in escrow. An offer checks that the offerer owns what
//! they give; accept locks the trade row, then both players in ascending id
//! order, checks and applies the swap with `game::economy::apply_trade` and
//! writes both sides with their ledger rows under one entry id, or changes
//! nothing (and the trade stays pending). Every status change is
//! `UPDATE ... WHERE status = 'pending'`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use game::api::{AcceptTradeResponse, CreateTradeRequest, TradeResponse, TradeStatus, codes};
use game::economy::apply_trade;
use game::milestones::MilestoneEvent;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Error, ErrorBody, Result};
use super::extract::ApiJson;
use super::lobbies::{lobby_code, not_a_member, unknown_lobby};
use crate::auth::AuthUser;
use crate::clock::{duration_ms, now_ms};
use crate::db::trades::{NewTrade, TradeRow};
use crate::db::{self, ledger::Reason, lobbies, players, trades as trade_rows};
use crate::economy::account::{self, Cause};
use crate::economy::idempotency::{Begin, Idempotency};
use crate::economy::milestones::{self, Happened};
use crate::economy::{rule_error, trades};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(offer_trade))
        .routes(routes!(accept_trade))
        .routes(routes!(decline_trade))
        .routes(routes!(cancel_trade))
}

fn unknown_trade() -> Error {
    Error::not_found(codes::UNKNOWN_TRADE, "no such trade")
}

fn not_pending() -> Error {
    Error::conflict(
        codes::TRADE_NOT_PENDING,
        "this trade was already accepted, declined, cancelled or expired",
    )
}

/// Offer a trade to another member of the room.
#[utoipa::path(
    post, path = "/api/v1/lobbies/{code}/trades", tag = "trades", security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "6-character room code"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer"),
    ),
    request_body(content = Object, description = "`{\"to\":\"<username>\",\"give\":{\"credits\",\"items\",\"upgrades\"},\"want\":{...}}`"),
    responses(
        (status = 201, description = "the trade `{id, lobby, from, to, give, want, status, created_at, expires_at}`", body = Object),
        (status = 403, description = "`not_a_member`", body = ErrorBody),
        (status = 404, description = "`unknown_lobby`", body = ErrorBody),
        (status = 409, description = "`insufficient_credits`, `insufficient_items`, `insufficient_upgrades`, `too_many_offers`", body = ErrorBody),
        (status = 422, description = "`invalid_request`, `idempotency_key_reused`", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
async fn offer_trade(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<CreateTradeRequest>,
) -> Result<Response> {
    let catalog = state.economy.catalog;
    let code = lobby_code(&state, &code)?;
    trades::validate_side(catalog, &body.give, "give")?;
    trades::validate_side(catalog, &body.want, "want")?;
    if body.give.is_empty() && body.want.is_empty() {
        return Err(Error::unprocessable(
            codes::INVALID_REQUEST,
            "a trade must give or want something",
        ));
    }
    if body.to.is_empty() || body.to.len() > 64 {
        return Err(not_a_member());
    }
    let rules = catalog.lobby();
    let now = now_ms();
    trades::expire_now(&state.db, state.economy.bus.publisher()).await?;

    let mut tx = state.db.begin_write().await?;
    let request = match idempotency
        .begin(&mut tx, &auth.user_id, Some(&body), now)
        .await?
    {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(request) => request,
    };
    if !lobbies::exists(&mut tx, &code).await? {
        return Err(unknown_lobby());
    }
    if !lobbies::is_member(&mut tx, &code, &auth.user_id).await? {
        return Err(not_a_member());
    }
    let to_user = players::find_id_by_username(&mut tx, &body.to)
        .await?
        .ok_or_else(not_a_member)?;
    if to_user == auth.user_id {
        return Err(Error::unprocessable(
            codes::INVALID_REQUEST,
            "a trade needs another player",
        ));
    }
    if !lobbies::is_member(&mut tx, &code, &to_user).await? {
        return Err(not_a_member());
    }
    // Locked: the pending-offer count and the ownership check see every
    // earlier offer and sale of this player.
    let offerer = account::lock(&mut tx, state.db.dialect(), catalog, &auth.user_id, now).await?;
    if trade_rows::pending_from(&mut tx, &auth.user_id, now).await?
        >= i64::from(rules.max_pending_offers)
    {
        return Err(Error::conflict(
            codes::TOO_MANY_OFFERS,
            format!(
                "at most {} pending offers: cancel one or wait for answers",
                rules.max_pending_offers
            ),
        ));
    }
    offerer
        .state
        .check_can_give(catalog, &body.give)
        .map_err(|error| rule_error(&error))?;

    // Spam limit on offers that would be made (a refused or replayed offer
    // does not count).
    state
        .economy
        .offer_limiter
        .check_or_429(&auth.user_id, "trade offers")?;
    let id = db::new_id();
    let give = serde_json::to_string(&body.give).map_err(anyhow::Error::from)?;
    let want = serde_json::to_string(&body.want).map_err(anyhow::Error::from)?;
    let expires_at = now + duration_ms(std::time::Duration::from_secs(rules.offer_expiry_seconds));
    trade_rows::insert(
        &mut tx,
        &NewTrade {
            id: &id,
            lobby_code: &code,
            from_user: &auth.user_id,
            to_user: &to_user,
            give: &give,
            want: &want,
            now,
            expires_at,
        },
    )
    .await?;
    let row = trade_rows::find(&mut tx, &id, None)
        .await?
        .ok_or_else(|| anyhow::anyhow!("trade vanished inside its own transaction"))?;
    let trade = trades::view(&row, now)?;
    let response = request
        .finish(&mut tx, StatusCode::CREATED, Some(&trade))
        .await?;
    tx.commit().await?;
    state.metrics.economy_event("trade_offered");
    state.economy.bus.publisher().trade(trade).await;
    Ok(response)
}

/// Loads and locks a trade for a status change by `party`.
async fn load_for(
    tx: &mut db::Conn,
    state: &AppState,
    id: &str,
    user_id: &str,
    party: Party,
    now: i64,
) -> Result<TradeRow> {
    if id.len() > 64 {
        return Err(unknown_trade());
    }
    let row = trade_rows::find(tx, id, Some(state.db.dialect()))
        .await?
        .ok_or_else(unknown_trade)?;
    let (owner, what) = match party {
        Party::Receiver => (&row.to_user, "only the receiver can answer this trade"),
        Party::Offerer => (&row.from_user, "only the offerer can cancel this trade"),
    };
    if owner != user_id {
        return Err(Error::forbidden(codes::FORBIDDEN, what));
    }
    if row.status != "pending" || row.expires_at <= now {
        return Err(not_pending());
    }
    Ok(row)
}

#[derive(Clone, Copy)]
enum Party {
    Offerer,
    Receiver,
}

/// Accept (the receiver): the swap happens entirely or not at all.
#[utoipa::path(
    post, path = "/api/v1/trades/{id}/accept", tag = "trades", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "trade id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer"),
    ),
    responses(
        (status = 200, description = "`{trade, player}`", body = Object),
        (status = 403, description = "`forbidden` (not the receiver), `not_a_member`", body = ErrorBody),
        (status = 404, description = "`unknown_trade`", body = ErrorBody),
        (status = 409, description = "`trade_not_pending`, or the failing side's `insufficient_*`, `hold_full`, `max_level`", body = ErrorBody),
    )
)]
async fn accept_trade(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(id): Path<String>,
) -> Result<Response> {
    let catalog = state.economy.catalog;
    let dialect = state.db.dialect();
    trades::expire_now(&state.db, state.economy.bus.publisher()).await?;
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let request = match idempotency
        .begin(&mut tx, &auth.user_id, None::<&()>, now)
        .await?
    {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(request) => request,
    };
    let row = load_for(&mut tx, &state, &id, &auth.user_id, Party::Receiver, now).await?;
    for member in [&row.from_user, &row.to_user] {
        if !lobbies::is_member(&mut tx, &row.lobby_code, member).await? {
            return Err(not_a_member());
        }
    }
    let (give, want) = trades::bundles(&row)?;
    // Fixed order: two accepts between the same players cannot deadlock.
    players::lock_in_order(&mut tx, dialect, &[&row.from_user, &row.to_user]).await?;
    let offerer = account::lock(&mut tx, dialect, catalog, &row.from_user, now).await?;
    let receiver = account::lock(&mut tx, dialect, catalog, &row.to_user, now).await?;
    let mut offerer_next = offerer.state.clone();
    let mut receiver_next = receiver.state.clone();
    apply_trade(catalog, &mut offerer_next, &mut receiver_next, &give, &want).map_err(|error| {
        state.metrics.economy_event("trade_refused");
        let body = game::api::ErrorBody::from(&error);
        match rule_error(&error.error) {
            Error::Forbidden { code, .. } => Error::forbidden(code, body.message),
            Error::NotFound { code, .. } => Error::not_found(code, body.message),
            Error::Unprocessable { code, .. } => Error::unprocessable(code, body.message),
            other => Error::conflict(other.code(), body.message),
        }
    })?;
    if !trade_rows::transition(&mut tx, &row.id, "completed", now).await? {
        return Err(not_pending());
    }
    let entry_id = db::new_id();
    let cause = Cause {
        reason: Reason::Trade,
        reference: Some(&row.id),
        entry_id: &entry_id,
    };
    account::save(&mut tx, &offerer, &offerer_next, cause, now).await?;
    let receiver_saved = account::save(&mut tx, &receiver, &receiver_next, cause, now).await?;
    for (before, after) in [(&offerer, &offerer_next), (&receiver, &receiver_next)] {
        milestones::record(
            &mut tx,
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
    let done = trade_rows::find(&mut tx, &row.id, None)
        .await?
        .ok_or_else(|| anyhow::anyhow!("trade vanished inside its own transaction"))?;
    let trade = trades::view(&done, now)?;
    let body = AcceptTradeResponse {
        trade: trade.clone(),
        player: receiver_saved.view(catalog),
    };
    let response = request.finish(&mut tx, StatusCode::OK, Some(&body)).await?;
    tx.commit().await?;
    state.metrics.economy_event("trade_completed");
    state.economy.bus.publisher().trade(trade).await;
    Ok(response)
}

/// Shared by decline and cancel: a status change without a swap.
async fn close_trade(
    state: AppState,
    auth: AuthUser,
    idempotency: Idempotency,
    id: String,
    party: Party,
    status: TradeStatus,
) -> Result<Response> {
    trades::expire_now(&state.db, state.economy.bus.publisher()).await?;
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let request = match idempotency
        .begin(&mut tx, &auth.user_id, None::<&()>, now)
        .await?
    {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(request) => request,
    };
    let row = load_for(&mut tx, &state, &id, &auth.user_id, party, now).await?;
    if !trade_rows::transition(&mut tx, &row.id, trades::status_str(status), now).await? {
        return Err(not_pending());
    }
    let done = trade_rows::find(&mut tx, &row.id, None)
        .await?
        .ok_or_else(|| anyhow::anyhow!("trade vanished inside its own transaction"))?;
    let trade = trades::view(&done, now)?;
    let body = TradeResponse {
        trade: trade.clone(),
    };
    let response = request.finish(&mut tx, StatusCode::OK, Some(&body)).await?;
    tx.commit().await?;
    state
        .metrics
        .economy_event(&format!("trade_{}", trades::status_str(status)));
    state.economy.bus.publisher().trade(trade).await;
    Ok(response)
}

/// Decline (the receiver).
#[utoipa::path(
    post, path = "/api/v1/trades/{id}/decline", tag = "trades", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "trade id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer"),
    ),
    responses(
        (status = 200, description = "`{trade}`", body = Object),
        (status = 403, description = "`forbidden` (not the receiver)", body = ErrorBody),
        (status = 404, description = "`unknown_trade`", body = ErrorBody),
        (status = 409, description = "`trade_not_pending`", body = ErrorBody),
    )
)]
async fn decline_trade(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(id): Path<String>,
) -> Result<Response> {
    close_trade(
        state,
        auth,
        idempotency,
        id,
        Party::Receiver,
        TradeStatus::Declined,
    )
    .await
}

/// Cancel (the offerer).
#[utoipa::path(
    post, path = "/api/v1/trades/{id}/cancel", tag = "trades", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "trade id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer"),
    ),
    responses(
        (status = 200, description = "`{trade}`", body = Object),
        (status = 403, description = "`forbidden` (not the offerer)", body = ErrorBody),
        (status = 404, description = "`unknown_trade`", body = ErrorBody),
        (status = 409, description = "`trade_not_pending`", body = ErrorBody),
    )
)]
async fn cancel_trade(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(id): Path<String>,
) -> Result<Response> {
    close_trade(
        state,
        auth,
        idempotency,
        id,
        Party::Offerer,
        TradeStatus::Cancelled,
    )
    .await
}
