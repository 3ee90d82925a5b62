//! `idempotency_keys`: stored first answers of mutating requests.

use super::Conn;

/// Claims `(user, key)` for this transaction. True when the key is new (the
/// caller runs the effect and then [`store`]s the answer); false when a
/// committed request already used it. On PostgreSQL a concurrent claim of
/// the same key waits here until the first transaction ends.
pub async fn claim(
    conn: &mut Conn,
    user_id: &str,
    key: &str,
    request_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, body, created_at)
         VALUES ($1, $2, $3, 0, '', $4)
         ON CONFLICT (user_id, idem_key) DO NOTHING",
    )
    .bind(user_id)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// `(request_hash, status, body)` of a used key.
pub async fn find(
    conn: &mut Conn,
    user_id: &str,
    key: &str,
) -> Result<Option<(String, i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// Stores the answer of a claimed key (same transaction as the effect).
pub async fn store(
    conn: &mut Conn,
    user_id: &str,
    key: &str,
    status: i64,
    body: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $3, body = $4 WHERE user_id = $1 AND idem_key = $2",
    )
    .bind(user_id)
    .bind(key)
    .bind(status)
    .bind(body)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets keys older than `before` (a retry comes within minutes).
pub async fn prune(conn: &mut Conn, before: i64) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(result.rows_affected())
}
