//! Selling and buying need the ship docked: the request carries a dock
//! claim (`game::api::Dock`: run, hub, run-clock time) that the server
//! judges with `game::verify::judge_dock` against that run's accepted pieces
//! and docks, and stores when accepted (it then bounds later claims).
//!
//! One more rule, the server's own: the ship sells where it is now, so the
//! dock must come after everything the player has collected (a dock claim
//! of an old run, or from before the last pieces, is stale).

use game::Catalog;
use game::api::Dock;
use game::verify::{DockClaim, RunClock, RunContext, judge_dock};

use super::account::Account;
use super::error::{Error, Result};
use super::runs::{Known, zone_and_seed};
use crate::db::{Conn, runs};

/// Judges `dock` for `player` (locked in this transaction) and records it.
pub async fn require_docked(
    conn: &mut Conn,
    catalog: &Catalog,
    player: &Account,
    dock: Option<&Dock>,
    now: i64,
) -> Result<()> {
    let dock = dock.ok_or(Error::NotDocked(
        "selling and buying need the ship docked at a hub: send `dock`",
    ))?;
    if dock.run_id.len() > 64 {
        return Err(Error::UnknownRun);
    }
    let run = runs::find_owned(conn, &dock.run_id, &player.user_id)
        .await?
        .ok_or(Error::UnknownRun)?;
    let (zone, seed) = zone_and_seed(&run)?;
    let known = Known::load(conn, &run.id).await?;
    let effects = player.state.effects(catalog);
    let clock = RunClock::at(run.started_at, run.ended_at, now);
    let context = RunContext {
        catalog,
        zone,
        seed,
        effects: &effects,
        already_accepted: &known.pieces,
        docks: &known.docks,
        hold_free: 0,
        server_elapsed: clock.elapsed,
        ended: clock.ended,
    };
    judge_dock(&context, DockClaim::from(dock)).map_err(Error::Dock)?;
    // Docked after the last collection, in this run or a later one.
    if let Some((last_run, last_started, last_at)) =
        runs::latest_collection(conn, &player.user_id).await?
    {
        let stale = if last_run == run.id {
            dock.at < last_at
        } else {
            last_started > run.started_at
        };
        if stale {
            return Err(Error::NotDocked(
                "this dock claim is older than the last collection: dock again",
            ));
        }
    }
    runs::insert_dock(conn, &run.id, i64::from(dock.hub), dock.at, now).await?;
    Ok(())
}
