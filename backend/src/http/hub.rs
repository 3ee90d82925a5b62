//! `POST /api/v1/hub/sell`: sell some or all of the hold at a trading hub,
//! at the `game` crate's prices.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use game::api::{SellOrder, SellRequest, SellResponse};
use game::milestones::MilestoneEvent;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Error, ErrorBody, Result};
use super::extract::ApiJson;
use crate::auth::AuthUser;
use crate::clock::now_ms;
use crate::db::{self, ledger::Reason};
use crate::economy::account::{self, Cause};
use crate::economy::idempotency::{Begin, Idempotency};
use crate::economy::milestones::{self, Happened};
use crate::economy::rule_error;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sell))
}

/// Sell `{"items":{"scrap_metal":2}}` or `{"all":true}`.
#[utoipa::path(
    post, path = "/api/v1/hub/sell", tag = "economy", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer")),
    request_body(content = Object, description = "`{\"items\":{\"scrap_metal\":2}}` or `{\"all\":true}`"),
    responses(
        (status = 200, description = "`{sold, credits_gained, player}`", body = Object),
        (status = 409, description = "`insufficient_items`", body = ErrorBody),
        (status = 422, description = "`invalid_request`, `idempotency_key_reused`", body = ErrorBody),
    )
)]
async fn sell(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    ApiJson(body): ApiJson<SellRequest>,
) -> Result<Response> {
    let order = body
        .order()
        .map_err(|error| Error::unprocessable(game::api::codes::INVALID_REQUEST, error.message))?;
    let catalog = state.economy.catalog;
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let request = match idempotency
        .begin(&mut tx, &auth.user_id, Some(&body), now)
        .await?
    {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(request) => request,
    };
    let player = account::lock(&mut tx, state.db.dialect(), catalog, &auth.user_id, now).await?;
    let mut next = player.state.clone();
    let receipt = match &order {
        SellOrder::Items(items) => next.sell(catalog, items),
        SellOrder::All => next.sell_all(catalog),
    }
    .map_err(|error| rule_error(&error))?;
    let entry_id = db::new_id();
    let saved = account::save(
        &mut tx,
        &player,
        &next,
        Cause {
            reason: Reason::Sell,
            reference: None,
            entry_id: &entry_id,
        },
        now,
    )
    .await?;
    milestones::record(
        &mut tx,
        catalog,
        &auth.user_id,
        Happened {
            event: MilestoneEvent::Sold,
            before: &player.state,
            after: &next,
            run_id: None,
        },
        now,
    )
    .await?;
    let body = SellResponse {
        sold: receipt.sold,
        credits_gained: receipt.credits_gained,
        player: saved.view(catalog),
    };
    let response = request.finish(&mut tx, StatusCode::OK, Some(&body)).await?;
    tx.commit().await?;
    state.metrics.economy_event("sale");
    Ok(response)
}
