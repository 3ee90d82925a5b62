//! `login_throttle`: failed-login counters behind the account lockout.

use sha2::{Digest as _, Sha256};

use super::Conn;

/// The throttle key: the account when it exists, otherwise a hash of the
/// normalised login so unknown names lock out the same way.
pub fn subject(user_id: Option<&str>, login: &str) -> String {
    match user_id {
        Some(id) => format!("user:{id}"),
        None => format!(
            "login:{}",
            hex::encode(Sha256::digest(login.trim().to_lowercase().as_bytes()))
        ),
    }
}

/// Until when the subject is locked out, if it is now.
pub async fn locked_until(
    conn: &mut Conn,
    subject: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let until: Option<Option<i64>> =
        sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE subject = $1")
            .bind(subject)
            .fetch_optional(conn)
            .await?;
    Ok(until.flatten().filter(|until| *until > now))
}

/// Counts a failure and returns the failures in the current window. Failures
/// older than `window_start` no longer count.
pub async fn record_failure(
    conn: &mut Conn,
    subject: &str,
    now: i64,
    window_start: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO login_throttle (subject, failures, locked_until, updated_at)
         VALUES ($1, 1, NULL, $2)
         ON CONFLICT (subject) DO UPDATE SET
             failures = CASE WHEN login_throttle.updated_at < $3 THEN 1
                             ELSE login_throttle.failures + 1 END,
             updated_at = $2
         RETURNING failures",
    )
    .bind(subject)
    .bind(now)
    .bind(window_start)
    .fetch_one(conn)
    .await
}

/// Locks the subject and starts counting afresh.
pub async fn lock(conn: &mut Conn, subject: &str, until: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_throttle SET locked_until = $2, failures = 0 WHERE subject = $1")
        .bind(subject)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn clear(conn: &mut Conn, subject: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE subject = $1")
        .bind(subject)
        .execute(conn)
        .await?;
    Ok(())
}

/// (failures, locked_until) of a subject, for the data export.
pub async fn find(
    conn: &mut Conn,
    subject: &str,
) -> Result<Option<(i64, Option<i64>)>, sqlx::Error> {
    sqlx::query_as("SELECT failures, locked_until FROM login_throttle WHERE subject = $1")
        .bind(subject)
        .fetch_optional(conn)
        .await
}

/// Holds the subject back until `until`, keeping its failure count (the
/// soft lockout: each further failure doubles the delay).
pub async fn hold(conn: &mut Conn, subject: &str, until: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_throttle SET locked_until = $2 WHERE subject = $1")
        .bind(subject)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(())
}
