//! `player_messages`: station AI messages a player has unlocked.

use super::Conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub message_id: String,
    pub unlocked_at: i64,
    pub seen_at: Option<i64>,
}

pub async fn list(conn: &mut Conn, user_id: &str) -> Result<Vec<MessageRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT message_id, unlocked_at, seen_at FROM player_messages
         WHERE user_id = $1 ORDER BY unlocked_at, message_id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

pub async fn unlocked_ids(conn: &mut Conn, user_id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT message_id FROM player_messages WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(conn)
        .await
}

/// Unlocks a one-shot message; false if the player already had it.
pub async fn unlock_once(
    conn: &mut Conn,
    user_id: &str,
    message_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO player_messages (user_id, message_id, unlocked_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, message_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(message_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Unlocks a per-run message again: it becomes new and unseen.
pub async fn unlock_again(
    conn: &mut Conn,
    user_id: &str,
    message_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO player_messages (user_id, message_id, unlocked_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, message_id) DO UPDATE SET unlocked_at = excluded.unlocked_at, seen_at = NULL",
    )
    .bind(user_id)
    .bind(message_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks an unlocked message seen (keeps the first time). False when the
/// player has not unlocked it.
pub async fn mark_seen(
    conn: &mut Conn,
    user_id: &str,
    message_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE player_messages SET seen_at = COALESCE(seen_at, $3)
         WHERE user_id = $1 AND message_id = $2",
    )
    .bind(user_id)
    .bind(message_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}
