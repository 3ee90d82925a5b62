//! `POST /api/v1/hub/sell`: sell some or all of the hold at a trading hub,
//! at the `game` crate's prices.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use game::api::SellRequest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ErrorBody, Result};
use super::extract::{ApiJson, AuthUser, Idempotency};
use super::unit_of_work::{Answer, unit_of_work};
use crate::economy::hub;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sell))
}

/// Sell `{"items":{"scrap_metal":2}}` or `{"all":true}`, docked at a hub:
/// `dock` names the run, the hub (index in the zone's hubs) and the time on
/// the run clock; it must be plausible for the ship and not older than the
/// player's last collection.
#[utoipa::path(
    post, path = "/api/v1/hub/sell", tag = "economy", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer")),
    request_body(content = Object, description = "`{\"items\":{\"scrap_metal\":2},\"dock\":{\"run_id\":\"…\",\"hub\":0,\"at\":42.5}}` or `{\"all\":true,\"dock\":{…}}`"),
    responses(
        (status = 200, description = "`{sold, credits_gained, player}`", body = Object),
        (status = 404, description = "`unknown_run`, `unknown_hub` (of the dock claim)", body = ErrorBody),
        (status = 409, description = "`insufficient_items`, `not_docked`", body = ErrorBody),
        (status = 422, description = "`invalid_request`, `idempotency_key_reused`", body = ErrorBody),
    )
)]
async fn sell(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    ApiJson(body): ApiJson<SellRequest>,
) -> Result<Response> {
    let order = hub::order(&body)?;
    let (catalog, dialect) = (state.economy.catalog, state.db.dialect());
    let (response, _) = unit_of_work(&state, &auth, &idempotency, Some(&body), async |tx, now| {
        let sold = hub::sell(
            tx,
            dialect,
            catalog,
            &auth.user_id,
            &order,
            body.dock.as_ref(),
            now,
        )
        .await?;
        Ok(Answer::new(StatusCode::OK, sold))
    })
    .await?;
    state.metrics.economy_event("sale");
    Ok(response)
}
