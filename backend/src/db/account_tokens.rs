//! `account_tokens`: single-use tokens sent by mail.

use super::Conn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    PasswordReset,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
        }
    }
}

pub async fn insert(
    conn: &mut Conn,
    token_hash: &str,
    user_id: &str,
    purpose: Purpose,
    email: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO account_tokens (token_hash, user_id, purpose, email, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(email)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Uses a token: succeeds once, while unexpired. Returns (user id, email).
pub async fn consume(
    conn: &mut Conn,
    token_hash: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE account_tokens SET used_at = $3
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
         RETURNING user_id, email",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Makes every outstanding token of that purpose worthless (after a reset,
/// or when a new one supersedes them).
pub async fn invalidate_all(
    conn: &mut Conn,
    user_id: &str,
    purpose: Purpose,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE account_tokens SET used_at = $3
         WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Why a token cannot be used (or that it can).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// No such token of this purpose (never mailed, mistyped, or deleted by
    /// the retention job).
    Unknown,
    Used,
    Expired,
    Usable,
}

/// The state of a token of `purpose`, for the words of a refusal.
pub async fn state(
    conn: &mut Conn,
    token_hash: &str,
    purpose: Purpose,
    now: i64,
) -> Result<TokenState, sqlx::Error> {
    let row: Option<(Option<i64>, i64)> = sqlx::query_as(
        "SELECT used_at, expires_at FROM account_tokens WHERE token_hash = $1 AND purpose = $2",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        None => TokenState::Unknown,
        Some((Some(_), _)) => TokenState::Used,
        Some((None, expires_at)) if expires_at <= now => TokenState::Expired,
        Some(_) => TokenState::Usable,
    })
}

/// The owner of a usable (unused, unexpired) token, without using it.
pub async fn find_owner(
    conn: &mut Conn,
    token_hash: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT user_id FROM account_tokens
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Every mail token of a user, oldest first, for the data export:
/// (purpose, created_at, expires_at, used_at). Never the hash.
pub async fn list_for_user(
    conn: &mut Conn,
    user_id: &str,
) -> Result<Vec<(String, i64, i64, Option<i64>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT purpose, created_at, expires_at, used_at FROM account_tokens
         WHERE user_id = $1 ORDER BY created_at",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}
