//! Zone runs: `POST /api/v1/zones/{zone}/runs` hands out a seed, and
//! `POST /api/v1/runs/{run}/collect` judges collection claims against it
//! with the `game` crate's verifier (never trusting the client's kinds,
//! values or positions).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use game::api::CollectRequest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ErrorBody, Result};
use super::extract::{ApiJson, AuthUser, Idempotency};
use super::unit_of_work::{Answer, unit_of_work};
use crate::economy::runs;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_run))
        .routes(routes!(collect))
}

/// Start a run in a zone: answers the run id and the seed of its debris
/// field (a u64 as a decimal string). One ship, one clock: the caller's
/// previous run ends now (its claims count up to this moment).
#[utoipa::path(
    post, path = "/api/v1/zones/{zone}/runs", tag = "economy", security(("bearer" = [])),
    params(
        ("zone" = u8, Path, description = "zone number, 1-4"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer"),
    ),
    responses(
        (status = 201, description = "`{run_id, zone, seed, started_at}`", body = Object),
        (status = 403, description = "`zone_locked`", body = ErrorBody),
        (status = 404, description = "`unknown_zone`", body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`", body = ErrorBody),
        (status = 429, description = "`rate_limited` (runs started per player; `Retry-After`)", body = ErrorBody),
    )
)]
async fn start_run(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(zone): Path<String>,
) -> Result<Response> {
    let (catalog, dialect) = (state.economy.catalog, state.db.dialect());
    let zone = runs::zone_id(catalog, &zone)?;
    let limiter = &state.economy.run_limiter;
    let (response, _) = unit_of_work(&state, &auth, &idempotency, None::<&()>, async |tx, now| {
        let run = runs::start(tx, dialect, catalog, limiter, &auth.user_id, zone, now).await?;
        Ok(Answer::new(StatusCode::CREATED, run))
    })
    .await?;
    Ok(response)
}

/// Claim a batch (at most 64) of collected debris. Each piece is judged on
/// its own; accepted ones go into the hold.
#[utoipa::path(
    post, path = "/api/v1/runs/{run_id}/collect", tag = "economy", security(("bearer" = [])),
    params(
        ("run_id" = String, Path, description = "id from the start-run answer"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer"),
    ),
    request_body(content = Object, description = "`{\"pieces\":[{\"index\":12,\"at\":3.25}]}`"),
    responses(
        (status = 200, description = "`{accepted, rejected:[{index, code}], player}`; codes `unknown_debris`, `already_collected`, `hold_full`, `implausible`, `too_early` (also: after the end of an ended run)", body = Object),
        (status = 403, description = "`zone_locked` (clearance lost since the run started)", body = ErrorBody),
        (status = 404, description = "`unknown_run` (also another player's run)", body = ErrorBody),
        (status = 413, description = "`batch_too_large`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn collect(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(run_id): Path<String>,
    ApiJson(body): ApiJson<CollectRequest>,
) -> Result<Response> {
    runs::check_claim(&run_id, &body)?;
    let (catalog, dialect) = (state.economy.catalog, state.db.dialect());
    let (response, _) = unit_of_work(&state, &auth, &idempotency, Some(&body), async |tx, now| {
        let judged =
            runs::collect(tx, dialect, catalog, &auth.user_id, &run_id, &body, now).await?;
        Ok(Answer::new(StatusCode::OK, judged))
    })
    .await?;
    Ok(response)
}
