//! `POST /api/v1/upgrades/{upgrade}/purchase`: buy the next level at the
//! `game` crate's cost.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ErrorBody, Result};
use super::extract::{AuthUser, Idempotency, OptionalJson};
use super::unit_of_work::{Answer, unit_of_work};
use crate::economy::upgrades;
use game::api::PurchaseRequest;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(purchase))
}

/// Buy the next level of an upgrade, docked at a hub (`dock` as for a sale).
#[utoipa::path(
    post, path = "/api/v1/upgrades/{upgrade}/purchase", tag = "economy", security(("bearer" = [])),
    params(
        ("upgrade" = String, Path, description = "upgrade id, e.g. `speed_boost`"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer"),
    ),
    request_body(content = Object, description = "`{\"dock\":{\"run_id\":\"…\",\"hub\":0,\"at\":42.5}}`"),
    responses(
        (status = 200, description = "`{upgrade, level, cost, player}`", body = Object),
        (status = 404, description = "`unknown_upgrade`, `unknown_run`, `unknown_hub`", body = ErrorBody),
        (status = 409, description = "`insufficient_credits`, `max_level`, `not_docked`", body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`", body = ErrorBody),
    )
)]
async fn purchase(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(upgrade): Path<String>,
    OptionalJson(body): OptionalJson<PurchaseRequest>,
) -> Result<Response> {
    let upgrade = upgrades::upgrade_id(&upgrade)?;
    let (catalog, dialect) = (state.economy.catalog, state.db.dialect());
    let (response, _) = unit_of_work(&state, &auth, &idempotency, Some(&body), async |tx, now| {
        let bought = upgrades::purchase(
            tx,
            dialect,
            catalog,
            &auth.user_id,
            upgrade,
            body.dock.as_ref(),
            now,
        )
        .await?;
        Ok(Answer::new(StatusCode::OK, bought))
    })
    .await?;
    state.metrics.economy_event("purchase");
    Ok(response)
}
