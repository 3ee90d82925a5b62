//! Zone runs: `POST /api/v1/zones/{zone}/runs` hands out a seed, and
//! `POST /api/v1/runs/{run}/collect` judges collection claims against it
//! with the `game` crate's verifier (never trusting the client's kinds,
//! values or positions).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use game::api::{
    CollectRequest, CollectResponse, CollectedPiece, MAX_COLLECT_BATCH, RejectCode, RejectedPiece,
    StartRunResponse, codes,
};
use game::milestones::MilestoneEvent;
use game::verify::{RunContext, judge_batch};
use game::{EconomyError, ZoneId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Error, ErrorBody, Result};
use super::extract::ApiJson;
use crate::auth::AuthUser;
use crate::clock::{now_ms, rfc3339};
use crate::db::ledger::Reason;
use crate::db::{self, runs};
use crate::economy::account::{self, Cause};
use crate::economy::idempotency::{Begin, Idempotency};
use crate::economy::milestones::{self, Happened};
use crate::economy::rule_error;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_run))
        .routes(routes!(collect))
}

fn unknown_zone(zone: &str) -> Error {
    Error::not_found(codes::UNKNOWN_ZONE, format!("there is no zone `{zone}`"))
}

fn unknown_run() -> Error {
    Error::not_found(codes::UNKNOWN_RUN, "no such run")
}

/// Start a run in a zone: answers the run id and the seed of its debris
/// field (a u64 as a decimal string).
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
    )
)]
async fn start_run(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(zone): Path<String>,
) -> Result<Response> {
    let catalog = state.economy.catalog;
    let zone_id: ZoneId = zone
        .parse()
        .ok()
        .filter(|&id| catalog.zone(id).is_some())
        .ok_or_else(|| unknown_zone(&zone))?;
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
    player
        .state
        .check_zone_access(catalog, zone_id)
        .map_err(|error| rule_error(&error))?;
    let seed = getrandom::u64().map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
    let run_id = db::new_id();
    runs::insert(
        &mut tx,
        &run_id,
        &auth.user_id,
        i64::from(zone_id),
        seed,
        now,
    )
    .await?;
    let body = StartRunResponse {
        run_id,
        zone: zone_id,
        seed,
        started_at: rfc3339(now),
    };
    let response = request
        .finish(&mut tx, StatusCode::CREATED, Some(&body))
        .await?;
    tx.commit().await?;
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
        (status = 200, description = "`{accepted, rejected:[{index, code}], player}`; codes `unknown_debris`, `already_collected`, `hold_full`, `implausible`, `too_early`", body = Object),
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
    if body.pieces.len() > MAX_COLLECT_BATCH {
        return Err(Error::PayloadTooLarge {
            code: codes::BATCH_TOO_LARGE,
            message: format!(
                "at most {MAX_COLLECT_BATCH} pieces per batch (got {})",
                body.pieces.len()
            ),
        });
    }
    if run_id.len() > 64 {
        return Err(unknown_run());
    }
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
    let run = runs::find_owned(&mut tx, &run_id, &auth.user_id)
        .await?
        .ok_or_else(unknown_run)?;
    let zone = ZoneId::try_from(run.zone)
        .map_err(|_| anyhow::anyhow!("run {} has zone {}", run.id, run.zone))?;
    let seed: u64 = run
        .seed
        .parse()
        .map_err(|_| anyhow::anyhow!("run {} has a corrupt seed", run.id))?;
    // Clearance traded away since the run started: the zone is closed now.
    player
        .state
        .check_zone_access(catalog, zone)
        .map_err(|error| rule_error(&error))?;

    let already: Vec<CollectedPiece> = runs::pieces(&mut tx, &run.id)
        .await?
        .into_iter()
        .filter_map(|(index, at)| {
            u32::try_from(index)
                .ok()
                .map(|index| CollectedPiece { index, at })
        })
        .collect();
    let effects = player.state.effects(catalog);
    let hold_free = u64::from(effects.hold_capacity).saturating_sub(player.state.hold_used());
    let context = RunContext {
        catalog,
        zone,
        seed,
        effects: &effects,
        already_accepted: &already,
        docks: &[],
        hold_free,
        server_elapsed: (now - run.started_at).max(0) as f64 / 1000.0,
    };
    let verdict = judge_batch(&context, &body.pieces)
        .map_err(|error| anyhow::anyhow!("judging run {}: {error}", run.id))?;

    let mut next = player.state.clone();
    let mut accepted = Vec::new();
    let mut kinds = Vec::new();
    let mut rejected: Vec<RejectedPiece> = verdict.rejected;
    for piece in verdict.accepted {
        let kind = catalog
            .kind(piece.kind)
            .ok_or_else(|| anyhow::anyhow!("verifier returned an unknown kind"))?;
        match next.collect(catalog, &kind.id, 1) {
            Ok(_) => {
                runs::insert_piece(
                    &mut tx,
                    &run.id,
                    i64::from(piece.index),
                    piece.at,
                    &kind.id,
                    now,
                )
                .await?;
                accepted.push(piece.index);
                kinds.push(piece.kind);
            }
            Err(EconomyError::HoldFull { .. }) => rejected.push(RejectedPiece {
                index: piece.index,
                code: RejectCode::HoldFull,
            }),
            Err(other) => return Err(rule_error(&other)),
        }
    }

    let saved = if accepted.is_empty() {
        player.clone()
    } else {
        let entry_id = db::new_id();
        account::save(
            &mut tx,
            &player,
            &next,
            Cause {
                reason: Reason::Collect,
                reference: Some(&run.id),
                entry_id: &entry_id,
            },
            now,
        )
        .await?
    };
    if !accepted.is_empty() {
        milestones::record(
            &mut tx,
            catalog,
            &auth.user_id,
            Happened {
                event: MilestoneEvent::Collected { kinds },
                before: &player.state,
                after: &next,
                run_id: Some(&run.id),
            },
            now,
        )
        .await?;
    }
    let hold_full = rejected.iter().any(|r| r.code == RejectCode::HoldFull)
        || (!accepted.is_empty() && next.hold_used() >= u64::from(next.hold_capacity(catalog)));
    if hold_full {
        milestones::record(
            &mut tx,
            catalog,
            &auth.user_id,
            Happened {
                event: MilestoneEvent::HoldFull,
                before: &next,
                after: &next,
                run_id: Some(&run.id),
            },
            now,
        )
        .await?;
    }
    let body = CollectResponse {
        accepted,
        rejected,
        player: saved.view(catalog),
    };
    let response = request.finish(&mut tx, StatusCode::OK, Some(&body)).await?;
    tx.commit().await?;
    Ok(response)
}
