//! `trades`: offers between two lobby members and their status.

use super::{Conn, Dialect};

/// A trade with both usernames.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TradeRow {
    pub id: String,
    pub lobby_code: String,
    pub from_user: String,
    pub to_user: String,
    pub from_username: String,
    pub to_username: String,
    /// JSON of `game::TradeBundle`.
    pub give: String,
    pub want: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
}

const SELECT_TRADE: &str = "SELECT t.id, t.lobby_code, t.from_user, t.to_user,
        f.username AS from_username, r.username AS to_username,
        t.give, t.want, t.status, t.created_at, t.expires_at
     FROM trades t
     JOIN users f ON f.id = t.from_user
     JOIN users r ON r.id = t.to_user";

pub struct NewTrade<'a> {
    pub id: &'a str,
    pub lobby_code: &'a str,
    pub from_user: &'a str,
    pub to_user: &'a str,
    pub give: &'a str,
    pub want: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert(conn: &mut Conn, trade: &NewTrade<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO trades (id, lobby_code, from_user, to_user, give, want, status, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)",
    )
    .bind(trade.id)
    .bind(trade.lobby_code)
    .bind(trade.from_user)
    .bind(trade.to_user)
    .bind(trade.give)
    .bind(trade.want)
    .bind(trade.now)
    .bind(trade.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The trade; its row locked until commit on PostgreSQL when `lock` says so
/// (accept, decline and cancel of one trade then run one after the other).
pub async fn find(
    conn: &mut Conn,
    id: &str,
    lock: Option<Dialect>,
) -> Result<Option<TradeRow>, sqlx::Error> {
    if lock == Some(Dialect::Postgres) {
        sqlx::query("SELECT id FROM trades WHERE id = $1 FOR NO KEY UPDATE")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_TRADE} WHERE t.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Moves a pending, unexpired trade to `status`. False (nothing changed)
/// when it is no longer pending: the guard that makes two racing
/// transitions impossible.
pub async fn transition(
    conn: &mut Conn,
    id: &str,
    status: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE trades SET status = $2, resolved_at = $3
         WHERE id = $1 AND status = 'pending' AND expires_at > $3",
    )
    .bind(id)
    .bind(status)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Marks every pending trade past its expiry as expired; returns their ids.
pub async fn expire_due(conn: &mut Conn, now: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE trades SET status = 'expired', resolved_at = $1
         WHERE status = 'pending' AND expires_at <= $1 RETURNING id",
    )
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Whether some pending trade is past its expiry.
pub async fn any_due(conn: &mut Conn, now: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM trades WHERE status = 'pending' AND expires_at <= $1 LIMIT 1",
    )
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Cancels a leaving member's pending trades in a lobby; returns their ids.
pub async fn cancel_for_member(
    conn: &mut Conn,
    lobby_code: &str,
    user_id: &str,
    now: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE trades SET status = 'cancelled', resolved_at = $3
         WHERE lobby_code = $1 AND status = 'pending' AND (from_user = $2 OR to_user = $2)
         RETURNING id",
    )
    .bind(lobby_code)
    .bind(user_id)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Pending, unexpired offers made by a user.
pub async fn pending_from(conn: &mut Conn, user_id: &str, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM trades WHERE from_user = $1 AND status = 'pending' AND expires_at > $2",
    )
    .bind(user_id)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Every trade a user took part in, oldest first (for the data export).
pub async fn list_for_user(conn: &mut Conn, user_id: &str) -> Result<Vec<TradeRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_TRADE} WHERE t.from_user = $1 OR t.to_user = $1 ORDER BY t.created_at, t.id"
    )))
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// Before an account is deleted: its completed trades (which go with it, ON
/// DELETE CASCADE) are recorded as retired, so the audit accepts the
/// partner's half of their ledger entries.
pub async fn retire_for_user(conn: &mut Conn, user_id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO retired_trades (trade_id, retired_at)
         SELECT id, $2 FROM trades
         WHERE status = 'completed' AND (from_user = $1 OR to_user = $1)
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// `(id, from_user, to_user, status)` of every trade, for the audit.
pub async fn all_parties(
    conn: &mut Conn,
) -> Result<Vec<(String, String, String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, from_user, to_user, status FROM trades")
        .fetch_all(conn)
        .await
}

/// Ids of trades retired with a deleted account (see [`retire_for_user`]).
pub async fn retired_ids(conn: &mut Conn) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT trade_id FROM retired_trades")
        .fetch_all(conn)
        .await
}
