//! `lobbies` and `lobby_members`: trading rooms, in the database so every
//! replica serves the same room.

use super::{Conn, Dialect};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LobbyRow {
    pub code: String,
    pub capacity: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: String,
    pub username: String,
    pub joined_at: i64,
}

pub async fn exists(conn: &mut Conn, code: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM lobbies WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

pub async fn insert(
    conn: &mut Conn,
    code: &str,
    capacity: i64,
    created_by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO lobbies (code, capacity, created_by, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(code)
    .bind(capacity)
    .bind(created_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The lobby; locked until commit on PostgreSQL when `lock` says so, which
/// serialises joins (the capacity check) and leaves of one room.
pub async fn find(
    conn: &mut Conn,
    code: &str,
    lock: Option<Dialect>,
) -> Result<Option<LobbyRow>, sqlx::Error> {
    let query = match lock {
        Some(Dialect::Postgres) => {
            sqlx::query_as("SELECT code, capacity FROM lobbies WHERE code = $1 FOR NO KEY UPDATE")
        }
        _ => sqlx::query_as("SELECT code, capacity FROM lobbies WHERE code = $1"),
    };
    query.bind(code).fetch_optional(conn).await
}

/// Members, first joined first.
pub async fn members(conn: &mut Conn, code: &str) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.user_id, u.username, m.joined_at FROM lobby_members m
         JOIN users u ON u.id = m.user_id
         WHERE m.lobby_code = $1 ORDER BY m.joined_at, u.username",
    )
    .bind(code)
    .fetch_all(conn)
    .await
}

pub async fn is_member(conn: &mut Conn, code: &str, user_id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM lobby_members WHERE lobby_code = $1 AND user_id = $2")
            .bind(code)
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

pub async fn add_member(
    conn: &mut Conn,
    code: &str,
    user_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO lobby_members (lobby_code, user_id, joined_at, seen_at) VALUES ($1, $2, $3, $3)",
    )
        .bind(code)
        .bind(user_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// False when the user was not a member.
pub async fn remove_member(
    conn: &mut Conn,
    code: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM lobby_members WHERE lobby_code = $1 AND user_id = $2")
        .bind(code)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Removes the member only if not seen since `before` (the presence
/// sweep; a socket that came back in between keeps them). False otherwise.
pub async fn remove_member_if_absent(
    conn: &mut Conn,
    code: &str,
    user_id: &str,
    before: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "DELETE FROM lobby_members WHERE lobby_code = $1 AND user_id = $2 AND seen_at < $3",
    )
    .bind(code)
    .bind(user_id)
    .bind(before)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// `(lobby code, joined_at)` of every room a user is in.
pub async fn memberships(
    conn: &mut Conn,
    user_id: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT lobby_code, joined_at FROM lobby_members WHERE user_id = $1 ORDER BY joined_at",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// The member was present at `now` (a socket opened, beat or closed, or
/// they acted in the room). False when they are not a member.
pub async fn touch(
    conn: &mut Conn,
    code: &str,
    user_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("UPDATE lobby_members SET seen_at = $3 WHERE lobby_code = $1 AND user_id = $2")
            .bind(code)
            .bind(user_id)
            .bind(now)
            .execute(conn)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// `(lobby code, user id)` of members not seen since `before`, oldest
/// first, at most `limit`.
pub async fn absent_since(
    conn: &mut Conn,
    before: i64,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT lobby_code, user_id FROM lobby_members WHERE seen_at < $1
         ORDER BY seen_at LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await
}
