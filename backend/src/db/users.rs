//! `users`: one row per account.

use std::fmt;

use super::Conn;

#[derive(Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub username: String,
    pub password_hash: String,
    pub email_verified_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// `game::account::Preferences` as JSON (`{}` until the player saves some).
    pub preferences: String,
}

impl fmt::Debug for UserRow {
    // The hash and the address stay out of logs even if someone `{:?}`s a row.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

pub async fn insert(
    conn: &mut Conn,
    id: &str,
    email: &str,
    username: &str,
    password_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, email, username, password_hash, email_verified_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, NULL, $5, $5)",
    )
    .bind(id)
    .bind(email)
    .bind(username)
    .bind(password_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_by_id(conn: &mut Conn, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, email, username, password_hash, email_verified_at, created_at, updated_at,
                preferences
         FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// `login` is an email (contains `@`, compared lower-cased) or a username
/// (case-insensitive).
pub async fn find_by_login(conn: &mut Conn, login: &str) -> Result<Option<UserRow>, sqlx::Error> {
    if login.contains('@') {
        sqlx::query_as(
            "SELECT id, email, username, password_hash, email_verified_at, created_at, updated_at,
                preferences
             FROM users WHERE email = $1",
        )
        .bind(login.to_lowercase())
        .fetch_optional(conn)
        .await
    } else {
        sqlx::query_as(
            "SELECT id, email, username, password_hash, email_verified_at, created_at, updated_at,
                preferences
             FROM users WHERE lower(username) = lower($1)",
        )
        .bind(login)
        .fetch_optional(conn)
        .await
    }
}

pub async fn update_username(
    conn: &mut Conn,
    id: &str,
    username: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET username = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(username)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the stored preferences (JSON of `game::account::Preferences`,
/// checked by the caller).
pub async fn update_preferences(
    conn: &mut Conn,
    id: &str,
    preferences: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET preferences = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(preferences)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// A new address is unverified until its own verification mail is used.
pub async fn update_email(
    conn: &mut Conn,
    id: &str,
    email: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET email = $2, email_verified_at = NULL, updated_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(email)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_password_hash(
    conn: &mut Conn,
    id: &str,
    password_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks `email` verified if it is still the account's address.
pub async fn mark_email_verified(
    conn: &mut Conn,
    id: &str,
    email: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE users SET email_verified_at = $3, updated_at = $3
         WHERE id = $1 AND email = $2 AND email_verified_at IS NULL",
    )
    .bind(id)
    .bind(email)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Deletes the account; sessions, refresh and mail tokens go with it
/// (`ON DELETE CASCADE`).
pub async fn delete(conn: &mut Conn, id: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn count(conn: &mut Conn) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(conn)
        .await
}
