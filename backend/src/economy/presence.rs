//! Who in a room is really there. A member's sockets mark them present when
//! they open, every few seconds while open, and when they close; any
//! replica may do it, the mark is `lobby_members.seen_at`. A socket that
//! closes while its owner is still a member tells the room the member is
//! `reconnecting`; one that opens, `connected`. A member not seen for the
//! grace period (`LOBBY_PRESENCE_GRACE_SECS`: no socket, no offer) is
//! removed from the room by [`sweep_absent`], which every replica runs (the
//! conditional delete removes each member once): their pending offers are
//! cancelled and the room hears `member_left`, as after LEAVE.

use std::time::Duration;

use game::api::{LobbyServerEvent, PresenceState};

use super::bus::Publisher;
use super::error::Result;
use super::lobbies::username_of;
use super::trades;
use crate::clock::{duration_ms, now_ms};
use crate::db::{Db, lobbies, trades as trade_rows};

/// Members removed per sweep at most (the next sweep takes the rest).
const SWEEP_BATCH: i64 = 100;

/// How often a live socket marks its member present: three marks per
/// grace period, so one late mark never costs a member the room.
pub fn beat_interval(grace: Duration) -> Duration {
    (grace / 3).max(Duration::from_millis(250))
}

/// Marks the member present now; false when they are not a member (any
/// more).
pub async fn mark(db: &Db, code: &str, user_id: &str) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let member = lobbies::touch(&mut tx, code, user_id, now_ms()).await?;
    tx.commit().await?;
    Ok(member)
}

/// A socket of the member opened: present, and the room is told.
pub async fn socket_opened(
    db: &Db,
    publisher: &Publisher,
    code: &str,
    user_id: &str,
    username: &str,
) -> Result<()> {
    if mark(db, code, user_id).await? {
        publish(publisher, code, username, PresenceState::Connected).await;
    }
    Ok(())
}

/// A socket of the member closed without their leaving: the grace period
/// starts now, and the room sees them reconnecting.
pub async fn socket_closed(
    db: &Db,
    publisher: &Publisher,
    code: &str,
    user_id: &str,
    username: &str,
) -> Result<()> {
    if mark(db, code, user_id).await? {
        publish(publisher, code, username, PresenceState::Reconnecting).await;
    }
    Ok(())
}

async fn publish(publisher: &Publisher, code: &str, username: &str, state: PresenceState) {
    let event = LobbyServerEvent::Presence {
        username: username.to_owned(),
        state,
    };
    publisher.publish(code, event).await;
}

/// Removes the members not seen for `grace`; returns how many.
pub async fn remove_absent(db: &Db, publisher: &Publisher, grace: Duration) -> Result<usize> {
    let before = now_ms() - duration_ms(grace);
    // A read first: the sweep must not take SQLite's write lock for nothing.
    let absent = {
        let mut conn = db.pool().acquire().await?;
        lobbies::absent_since(&mut conn, before, SWEEP_BATCH).await?
    };
    let mut removed = 0;
    for (code, user_id) in absent {
        let now = now_ms();
        let mut tx = db.begin_write().await?;
        // The room's lock orders this with joins and leaves (PostgreSQL).
        if lobbies::find(&mut tx, &code, Some(db.dialect()))
            .await?
            .is_none()
            || !lobbies::remove_member_if_absent(&mut tx, &code, &user_id, before).await?
        {
            // Gone already, or a socket came back meanwhile.
            tx.rollback().await?;
            continue;
        }
        let cancelled = trade_rows::cancel_for_member(&mut tx, &code, &user_id, now).await?;
        let cancelled = trades::views(&mut tx, &cancelled, now).await?;
        let username = username_of(&mut tx, &user_id).await?;
        tx.commit().await?;
        for trade in cancelled {
            publisher.trade(trade).await;
        }
        publisher.member_left(&code, &user_id, username).await;
        removed += 1;
    }
    Ok(removed)
}

/// Background task: removes absent members every beat of the grace period.
pub async fn sweep_absent(db: Db, publisher: Publisher, grace: Duration) {
    let mut tick = tokio::time::interval(beat_interval(grace));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = remove_absent(&db, &publisher, grace).await {
            tracing::warn!(error = %error, "lobby presence sweep failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_beats_per_grace_period() {
        assert_eq!(
            beat_interval(Duration::from_secs(45)),
            Duration::from_secs(15)
        );
        assert_eq!(
            beat_interval(Duration::from_millis(300)),
            Duration::from_millis(250)
        );
    }
}
