//! Trades between lobby members: `POST /api/v1/lobbies/{code}/trades`
//! (offer), `POST /api/v1/trades/{id}/accept`, `/decline`, `/cancel`. The
//! rules of a trade are [`crate::economy::trades`]'; here each change is
//! one unit of work, and the room hears about it after the commit.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use game::api::{CreateTradeRequest, TradeResponse, TradeStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ErrorBody, Result};
use super::extract::{ApiJson, AuthUser, Idempotency};
use super::unit_of_work::{Answer, unit_of_work};
use crate::economy::Error as Refusal;
use crate::economy::lobbies::lobby_code;
use crate::economy::trades::{self, Party};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(offer_trade))
        .routes(routes!(accept_trade))
        .routes(routes!(decline_trade))
        .routes(routes!(cancel_trade))
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
        (status = 409, description = "`insufficient_credits`, `insufficient_items`, `insufficient_upgrades`, `too_many_offers`, `start_credits_locked` (start credits or levels bought with them, before the account earned its own or verified its email)", body = ErrorBody),
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
    let (catalog, dialect) = (state.economy.catalog, state.db.dialect());
    let code = lobby_code(catalog, &code)?;
    trades::check_offer(catalog, &body)?;
    trades::expire_now(&state.db, state.economy.bus.publisher()).await?;
    let limiter = &state.economy.offer_limiter;
    let (response, after) =
        unit_of_work(&state, &auth, &idempotency, Some(&body), async |tx, now| {
            let trade = trades::offer(
                tx,
                dialect,
                catalog,
                limiter,
                &code,
                &auth.user_id,
                &body,
                now,
            )
            .await?;
            Ok(Answer::new(StatusCode::CREATED, trade.clone()).then(trade))
        })
        .await?;
    if let Some(trade) = after {
        state.metrics.economy_event("trade_offered");
        if trade.want.is_empty() {
            state.metrics.economy_event("gift_offered");
        }
        state.economy.bus.publisher().trade(trade).await;
    }
    Ok(response)
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
        (status = 409, description = "`trade_not_pending`, or the failing side's `insufficient_*`, `hold_full`, `max_level`, `upgrade_not_transferable`, `start_credits_locked`", body = ErrorBody),
    )
)]
async fn accept_trade(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(id): Path<String>,
) -> Result<Response> {
    let (catalog, dialect) = (state.economy.catalog, state.db.dialect());
    trades::expire_now(&state.db, state.economy.bus.publisher()).await?;
    let (response, after) =
        unit_of_work(&state, &auth, &idempotency, None::<&()>, async |tx, now| {
            let accepted = trades::accept(tx, dialect, catalog, &id, &auth.user_id, now)
                .await
                .inspect_err(|error| {
                    if let Refusal::TradeRefused(_) = error {
                        state.metrics.economy_event("trade_refused");
                    }
                })?;
            let trade = accepted.trade.clone();
            Ok(Answer::new(StatusCode::OK, accepted).then(trade))
        })
        .await?;
    if let Some(trade) = after {
        state.metrics.economy_event("trade_completed");
        if trade.want.is_empty() {
            // A gift: something for nothing (counted to watch funnelling).
            state.metrics.economy_event("gift_completed");
        }
        state.economy.bus.publisher().trade(trade).await;
    }
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
    let dialect = state.db.dialect();
    trades::expire_now(&state.db, state.economy.bus.publisher()).await?;
    let (response, after) =
        unit_of_work(&state, &auth, &idempotency, None::<&()>, async |tx, now| {
            let trade = trades::close(tx, dialect, &id, &auth.user_id, party, status, now).await?;
            Ok(Answer::new(
                StatusCode::OK,
                TradeResponse {
                    trade: trade.clone(),
                },
            )
            .then(trade))
        })
        .await?;
    if let Some(trade) = after {
        state
            .metrics
            .economy_event(&format!("trade_{}", trades::status_str(status)));
        state.economy.bus.publisher().trade(trade).await;
    }
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
