//! Station AI messages a player has unlocked, and marking them seen.

use game::Catalog;
use game::api::{MessageEntry, MessagesResponse};

use super::error::{Error, Result};
use crate::clock::{now_ms, rfc3339};
use crate::db::{Db, messages};

/// Messages the player has unlocked, oldest first, with seen flags.
pub async fn list(db: &Db, catalog: &Catalog, user_id: &str) -> Result<MessagesResponse> {
    let mut conn = db.pool().acquire().await?;
    let rows = messages::list(&mut conn, user_id).await?;
    let messages = rows
        .into_iter()
        // A message removed from the catalog since it was unlocked has no
        // text any more: leave it out rather than show an empty line.
        .filter_map(|row| {
            let def = catalog.message(&row.message_id)?;
            Some(MessageEntry {
                id: row.message_id,
                text: def.text.clone(),
                unlocked_at: rfc3339(row.unlocked_at),
                seen: row.seen_at.is_some(),
            })
        })
        .collect();
    Ok(MessagesResponse { messages })
}

/// Marks an unlocked message seen. Repeating it is harmless.
pub async fn mark_seen(db: &Db, catalog: &Catalog, user_id: &str, id: &str) -> Result<()> {
    if catalog.message(id).is_none() {
        return Err(Error::UnknownMessage);
    }
    let mut tx = db.begin_write().await?;
    let marked = messages::mark_seen(&mut tx, user_id, id, now_ms()).await?;
    tx.commit().await?;
    if marked {
        Ok(())
    } else {
        Err(Error::UnknownMessage)
    }
}
