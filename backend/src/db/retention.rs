//! The retention job's statements: each deletes what is past its age and
//! answers how many rows went. Cut-offs are milliseconds since the epoch.

use super::Conn;

async fn delete(conn: &mut Conn, sql: &'static str, cutoff: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(sql)
        .bind(cutoff)
        .execute(conn)
        .await?
        .rows_affected())
}

/// PostgreSQL: takes the transaction-scoped advisory lock of the retention
/// job if free (released at commit or rollback). `false`: another replica
/// is at it.
pub async fn try_lock_postgres(conn: &mut Conn, key: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(key)
        .fetch_one(conn)
        .await
}

/// Refresh tokens of sessions that ended (revoked or expired) before
/// `cutoff`, and any refresh token that expired before it.
pub async fn refresh_tokens(conn: &mut Conn, cutoff: i64) -> Result<u64, sqlx::Error> {
    delete(
        conn,
        "DELETE FROM refresh_tokens WHERE expires_at < $1 OR session_id IN (
             SELECT id FROM sessions WHERE revoked_at < $1 OR expires_at < $1)",
        cutoff,
    )
    .await
}

/// Sessions that ended before `cutoff` (their refresh tokens first:
/// [`refresh_tokens`]).
pub async fn sessions(conn: &mut Conn, cutoff: i64) -> Result<u64, sqlx::Error> {
    delete(
        conn,
        "DELETE FROM sessions WHERE revoked_at < $1 OR expires_at < $1",
        cutoff,
    )
    .await
}

/// Verification and reset codes that expired or were used before `cutoff`.
pub async fn account_tokens(conn: &mut Conn, cutoff: i64) -> Result<u64, sqlx::Error> {
    delete(
        conn,
        "DELETE FROM account_tokens WHERE expires_at < $1 OR used_at < $1",
        cutoff,
    )
    .await
}

/// Login-throttle rows untouched since `cutoff` (the lockout window ago,
/// so their failures no longer count) whose lock, if any, ended before it.
pub async fn login_throttle(conn: &mut Conn, cutoff: i64) -> Result<u64, sqlx::Error> {
    delete(
        conn,
        "DELETE FROM login_throttle
         WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $1)",
        cutoff,
    )
    .await
}

pub async fn idempotency_keys(conn: &mut Conn, cutoff: i64) -> Result<u64, sqlx::Error> {
    delete(
        conn,
        "DELETE FROM idempotency_keys WHERE created_at < $1",
        cutoff,
    )
    .await
}

/// Runs started before `cutoff`, their pieces first. The ledger keeps its
/// rows (their `reference` is text, not a foreign key): `backend audit`
/// compares ledger sums with balances and never reads runs.
pub async fn runs(conn: &mut Conn, cutoff: i64) -> Result<u64, sqlx::Error> {
    delete(
        conn,
        "DELETE FROM run_pieces WHERE run_id IN (SELECT id FROM runs WHERE started_at < $1)",
        cutoff,
    )
    .await?;
    delete(conn, "DELETE FROM runs WHERE started_at < $1", cutoff).await
}

/// Development-outbox mail written before `cutoff`.
pub async fn outbox(conn: &mut Conn, cutoff: i64) -> Result<u64, sqlx::Error> {
    delete(conn, "DELETE FROM dev_outbox WHERE created_at < $1", cutoff).await
}
