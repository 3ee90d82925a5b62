//! `sessions` (one per login; the refresh-token family) and `refresh_tokens`.

use super::Conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_reason: Option<String>,
}

pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert(conn: &mut Conn, session: &NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, user_agent, ip, created_at, last_used_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(session.id)
    .bind(session.user_id)
    .bind(session.user_agent)
    .bind(session.ip)
    .bind(session.now)
    .bind(session.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Is the session live and does it belong to `user_id`? Called on every
/// authenticated request, so a logout takes effect at once.
pub async fn is_active(
    conn: &mut Conn,
    session_id: &str,
    user_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sessions
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3",
    )
    .bind(session_id)
    .bind(user_id)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

pub async fn list_active(
    conn: &mut Conn,
    user_id: &str,
    now: i64,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, user_agent, ip, created_at, last_used_at, expires_at, revoked_at, revoked_reason
         FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
         ORDER BY last_used_at DESC, id",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Every session, revoked ones included (data export).
pub async fn list_all(conn: &mut Conn, user_id: &str) -> Result<Vec<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, user_agent, ip, created_at, last_used_at, expires_at, revoked_at, revoked_reason
         FROM sessions WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// Revokes one live session of `user_id`; false if there was none.
pub async fn revoke(
    conn: &mut Conn,
    session_id: &str,
    user_id: &str,
    reason: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE sessions SET revoked_at = $4, revoked_reason = $3
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(session_id)
    .bind(user_id)
    .bind(reason)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes every live session of the user except `keep` (if given).
pub async fn revoke_all(
    conn: &mut Conn,
    user_id: &str,
    reason: &str,
    now: i64,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE sessions SET revoked_at = $3, revoked_reason = $2
         WHERE user_id = $1 AND revoked_at IS NULL AND id <> $4",
    )
    .bind(user_id)
    .bind(reason)
    .bind(now)
    .bind(keep.unwrap_or(""))
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

/// Records use of the session at a refresh: sliding expiry, latest address.
pub async fn touch(
    conn: &mut Conn,
    session_id: &str,
    now: i64,
    expires_at: i64,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions
         SET last_used_at = $2, expires_at = $3,
             ip = COALESCE($4, ip), user_agent = COALESCE($5, user_agent)
         WHERE id = $1",
    )
    .bind(session_id)
    .bind(now)
    .bind(expires_at)
    .bind(ip)
    .bind(user_agent)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, session_id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, user_agent, ip, created_at, last_used_at, expires_at, revoked_at, revoked_reason
         FROM sessions WHERE id = $1",
    )
    .bind(session_id)
    .fetch_optional(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub session_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub rotated_at_us: Option<i64>,
    pub successor_hash: Option<String>,
    pub successor_sealed: Option<String>,
}

pub async fn insert_refresh_token(
    conn: &mut Conn,
    token_hash: &str,
    session_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(session_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Atomically marks a current, unexpired token of a live session as rotated
/// and records its successor. Returns the session id when this call won; None
/// when the token is unknown, expired, already rotated or its session revoked
/// (the caller then looks closer with [`find_refresh_token`]).
///
/// A write as the first statement: on PostgreSQL the row lock makes a racing
/// second request wait here and then see the first one's result.
pub async fn claim_refresh_token(
    conn: &mut Conn,
    token_hash: &str,
    now_ms: i64,
    now_us: i64,
    successor_hash: &str,
    successor_sealed: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE refresh_tokens
         SET rotated_at_us = $3, successor_hash = $4, successor_sealed = $5
         WHERE token_hash = $1 AND rotated_at_us IS NULL AND expires_at > $2
           AND EXISTS (SELECT 1 FROM sessions s
                       WHERE s.id = refresh_tokens.session_id
                         AND s.revoked_at IS NULL AND s.expires_at > $2)
         RETURNING session_id",
    )
    .bind(token_hash)
    .bind(now_ms)
    .bind(now_us)
    .bind(successor_hash)
    .bind(successor_sealed)
    .fetch_optional(conn)
    .await
}

/// Moves the rotation instant to "now", just before the commit (see the
/// `rotated_at_us` column comment).
pub async fn stamp_rotation(
    conn: &mut Conn,
    token_hash: &str,
    now_us: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE refresh_tokens SET rotated_at_us = $2 WHERE token_hash = $1")
        .bind(token_hash)
        .bind(now_us)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find_refresh_token(
    conn: &mut Conn,
    token_hash: &str,
) -> Result<Option<RefreshTokenRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT token_hash, session_id, issued_at, expires_at, rotated_at_us, successor_hash, successor_sealed
         FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(conn)
    .await
}
