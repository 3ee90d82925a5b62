//! `users.role` and the suspension columns (migration 20261201000400).

use super::Conn;

/// What moderation needs to know about an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ModerationRow {
    pub id: String,
    pub username: String,
    pub email: String,
    pub role: String,
    pub created_at: i64,
    pub suspended_at: Option<i64>,
    pub suspended_until: Option<i64>,
    pub suspension_reason: Option<String>,
    pub suspended_by: Option<String>,
}

impl ModerationRow {
    /// Suspended at `now`: `Some(until)` (`None` inside: until lifted).
    pub fn suspension_at(&self, now: i64) -> Option<Option<i64>> {
        self.suspended_at?;
        match self.suspended_until {
            Some(until) if until <= now => None,
            until => Some(until),
        }
    }
}

const COLUMNS: &str = "id, username, email, role, created_at, suspended_at, suspended_until, suspension_reason, suspended_by";

/// By id, username (case-insensitive) or email.
pub async fn find(conn: &mut Conn, who: &str) -> Result<Option<ModerationRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users
         WHERE id = $1 OR lower(username) = lower($1) OR email = lower($1)
         ORDER BY id LIMIT 1"
    )))
    .bind(who)
    .fetch_optional(conn)
    .await
}

pub async fn set_role(
    conn: &mut Conn,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id)
        .bind(role)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn suspend(
    conn: &mut Conn,
    user_id: &str,
    until: Option<i64>,
    reason: &str,
    by: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE users SET suspended_at = $2, suspended_until = $3, suspension_reason = $4,
                suspended_by = $5, updated_at = $2
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(now)
    .bind(until)
    .bind(reason)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn lift(conn: &mut Conn, user_id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE users SET suspended_at = NULL, suspended_until = NULL, suspension_reason = NULL,
                suspended_by = NULL, updated_at = $2
         WHERE id = $1 AND suspended_at IS NOT NULL",
    )
    .bind(user_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The account's role (`None`: no such account).
pub async fn role(conn: &mut Conn, user_id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await
}
