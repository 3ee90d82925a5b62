//! Station AI messages as consequences of economy events: after an event
//! changed a player, the `game` crate says which messages fire and this
//! records them in the same transaction.
//!
//! One-shot messages are kept by the primary key of `player_messages`, so a
//! replayed or racing event cannot unlock one twice. `hold_full` fires once
//! per run: the run row remembers that it fired.

use game::catalog::MessageRepeat;
use game::milestones::{MilestoneEvent, newly_unlocked};
use game::{Catalog, PlayerState};

use super::error::Result;
use crate::db::{Conn, messages, runs};

/// What happened to a player, as milestones see it.
pub struct Happened<'a> {
    pub event: MilestoneEvent,
    pub before: &'a PlayerState,
    pub after: &'a PlayerState,
    /// The run a `HoldFull` event happened in.
    pub run_id: Option<&'a str>,
}

/// Records the messages an event unlocks for `user_id`; returns their ids.
pub async fn record(
    conn: &mut Conn,
    catalog: &Catalog,
    user_id: &str,
    happened: Happened<'_>,
    now: i64,
) -> Result<Vec<String>> {
    let Happened {
        event,
        before,
        after,
        run_id,
    } = happened;
    let already: std::collections::HashSet<String> = messages::unlocked_ids(conn, user_id)
        .await?
        .into_iter()
        .collect();
    let mut unlocked = Vec::new();
    for message in newly_unlocked(catalog, &event, before, after, |id| already.contains(id)) {
        match message.repeat {
            MessageRepeat::Once => {
                if messages::unlock_once(conn, user_id, &message.id, now).await? {
                    unlocked.push(message.id.clone());
                }
            }
            MessageRepeat::PerRun => {
                let Some(run_id) = run_id else { continue };
                if runs::mark_hold_full(conn, run_id, now).await? {
                    messages::unlock_again(conn, user_id, &message.id, now).await?;
                    unlocked.push(message.id.clone());
                }
            }
        }
    }
    Ok(unlocked)
}
