//! Zone runs: a run hands out the seed of its debris field, and collection
//! claims are judged against it with the `game` crate's verifier (never
//! trusting the client's kinds, values or positions).

use game::api::{
    CollectRequest, CollectResponse, CollectedPiece, MAX_COLLECT_BATCH, RejectCode, RejectedPiece,
    StartRunResponse,
};
use game::milestones::MilestoneEvent;
use game::verify::{DockClaim, RunClock, RunContext, judge_batch};
use game::{Catalog, EconomyError, ZoneId};

use super::account::{self, Cause};
use super::error::{Error, Result};
use super::limits::UserQuota;
use super::milestones::{self, Happened};
use crate::clock::rfc3339;
use crate::db::ledger::Reason;
use crate::db::{self, Conn, Dialect, runs};

/// The zone a path names, if the catalog has it.
pub fn zone_id(catalog: &Catalog, zone: &str) -> Result<ZoneId> {
    zone.parse()
        .ok()
        .filter(|&id| catalog.zone(id).is_some())
        .ok_or_else(|| Error::UnknownZone(zone.to_owned()))
}

/// Checks what can be checked before the transaction: the batch size and
/// the shape of the run id.
pub fn check_claim(run_id: &str, body: &CollectRequest) -> Result<()> {
    if body.pieces.len() > MAX_COLLECT_BATCH {
        return Err(Error::BatchTooLarge(body.pieces.len()));
    }
    if run_id.len() > 64 {
        return Err(Error::UnknownRun);
    }
    Ok(())
}

/// Starts a run in `zone` for the caller (inside the caller's transaction).
/// One ship, one clock: the caller's active run ends now. `limiter` counts
/// runs that would start (a refused or replayed start does not count).
#[allow(clippy::too_many_arguments)]
pub async fn start(
    conn: &mut Conn,
    dialect: Dialect,
    catalog: &Catalog,
    limiter: &UserQuota,
    user_id: &str,
    zone: ZoneId,
    now: i64,
) -> Result<StartRunResponse> {
    let player = account::lock(conn, dialect, catalog, user_id, now).await?;
    player.state.check_zone_access(catalog, zone)?;
    limiter.check_or_refuse(user_id, "runs started").await?;
    let seed = getrandom::u64().map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
    let run_id = db::new_id();
    runs::end_active(conn, user_id, now, RunClock::horizon_ms()).await?;
    runs::insert(conn, &run_id, user_id, i64::from(zone), seed, now).await?;
    Ok(StartRunResponse {
        run_id,
        zone,
        seed,
        started_at: rfc3339(now),
    })
}

/// The zone and seed of a stored run.
pub fn zone_and_seed(run: &runs::RunRow) -> Result<(ZoneId, u64)> {
    let zone = ZoneId::try_from(run.zone)
        .map_err(|_| anyhow::anyhow!("run {} has zone {}", run.id, run.zone))?;
    let seed: u64 = run
        .seed
        .parse()
        .map_err(|_| anyhow::anyhow!("run {} has a corrupt seed", run.id))?;
    Ok((zone, seed))
}

/// What a run has accepted so far: its pieces and its docks.
pub struct Known {
    pub pieces: Vec<CollectedPiece>,
    pub docks: Vec<DockClaim>,
}

impl Known {
    pub async fn load(conn: &mut Conn, run_id: &str) -> Result<Known> {
        let pieces = runs::pieces(conn, run_id)
            .await?
            .into_iter()
            .filter_map(|(index, at)| {
                u32::try_from(index)
                    .ok()
                    .map(|index| CollectedPiece { index, at })
            })
            .collect();
        let docks = runs::docks(conn, run_id)
            .await?
            .into_iter()
            .filter_map(|(hub, at)| u32::try_from(hub).ok().map(|hub| DockClaim { hub, at }))
            .collect();
        Ok(Known { pieces, docks })
    }
}

/// Judges a batch of collection claims (checked by [`check_claim`]) and
/// puts the accepted pieces into the hold (inside the caller's
/// transaction).
pub async fn collect(
    conn: &mut Conn,
    dialect: Dialect,
    catalog: &Catalog,
    user_id: &str,
    run_id: &str,
    body: &CollectRequest,
    now: i64,
) -> Result<CollectResponse> {
    let player = account::lock(conn, dialect, catalog, user_id, now).await?;
    let run = runs::find_owned(conn, run_id, user_id)
        .await?
        .ok_or(Error::UnknownRun)?;
    let (zone, seed) = zone_and_seed(&run)?;
    // Clearance traded away since the run started: the zone is closed now.
    player.state.check_zone_access(catalog, zone)?;

    let known = Known::load(conn, &run.id).await?;
    let effects = player.state.effects(catalog);
    let hold_free = u64::from(effects.hold_capacity).saturating_sub(player.state.hold_used());
    let clock = RunClock::at(run.started_at, run.ended_at, now);
    let context = RunContext {
        catalog,
        zone,
        seed,
        effects: &effects,
        already_accepted: &known.pieces,
        docks: &known.docks,
        hold_free,
        server_elapsed: clock.elapsed,
        ended: clock.ended,
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
                    conn,
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
            Err(other) => return Err(other.into()),
        }
    }

    let saved = if accepted.is_empty() {
        player.clone()
    } else {
        let entry_id = db::new_id();
        account::save(
            conn,
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
            conn,
            catalog,
            user_id,
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
            conn,
            catalog,
            user_id,
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
    Ok(CollectResponse {
        accepted,
        rejected,
        player: saved.view(catalog),
    })
}
