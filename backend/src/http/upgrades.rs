//! `POST /api/v1/upgrades/{upgrade}/purchase`: buy the next level at the
//! `game` crate's cost.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use game::UpgradeId;
use game::api::{PurchaseResponse, codes};
use game::milestones::MilestoneEvent;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Error, ErrorBody, Result};
use crate::auth::AuthUser;
use crate::clock::now_ms;
use crate::db::{self, ledger::Reason};
use crate::economy::account::{self, Cause};
use crate::economy::idempotency::{Begin, Idempotency};
use crate::economy::milestones::{self, Happened};
use crate::economy::rule_error;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(purchase))
}

/// Buy the next level of an upgrade (no body).
#[utoipa::path(
    post, path = "/api/v1/upgrades/{upgrade}/purchase", tag = "economy", security(("bearer" = [])),
    params(
        ("upgrade" = String, Path, description = "upgrade id, e.g. `speed_boost`"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer"),
    ),
    responses(
        (status = 200, description = "`{upgrade, level, cost, player}`", body = Object),
        (status = 404, description = "`unknown_upgrade`", body = ErrorBody),
        (status = 409, description = "`insufficient_credits`, `max_level`", body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`", body = ErrorBody),
    )
)]
async fn purchase(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(upgrade): Path<String>,
) -> Result<Response> {
    let upgrade: UpgradeId = upgrade.parse().map_err(|_| {
        Error::not_found(
            codes::UNKNOWN_UPGRADE,
            format!(
                "there is no upgrade `{}`",
                upgrade.chars().take(64).collect::<String>()
            ),
        )
    })?;
    let catalog = state.economy.catalog;
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let request = match idempotency
        .begin(&mut tx, &auth.user_id, None::<&()>, now)
        .await?
    {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(request) => request,
    };
    let player = account::lock(&mut tx, state.db.dialect(), catalog, &auth.user_id, now).await?;
    let mut next = player.state.clone();
    let receipt = next
        .purchase(catalog, upgrade)
        .map_err(|error| rule_error(&error))?;
    let entry_id = db::new_id();
    let saved = account::save(
        &mut tx,
        &player,
        &next,
        Cause {
            reason: Reason::Purchase,
            reference: Some(upgrade.as_str()),
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
            event: MilestoneEvent::UpgradePurchased { upgrade },
            before: &player.state,
            after: &next,
            run_id: None,
        },
        now,
    )
    .await?;
    let body = PurchaseResponse {
        upgrade: receipt.upgrade,
        level: receipt.level,
        cost: receipt.cost,
        player: saved.view(catalog),
    };
    let response = request.finish(&mut tx, StatusCode::OK, Some(&body)).await?;
    tx.commit().await?;
    state.metrics.economy_event("purchase");
    Ok(response)
}
