//! The queries behind `backend audit`, and its [`Finding`] type: the stored
//! data checked against itself (sessions against users, refresh-token
//! families, password-hash format). The economy's ledger checks use
//! [`crate::db::ledger`] and [`crate::db::players`].

use super::Conn;

/// One failed check of `backend audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub detail: String,
}

/// Sessions whose user does not exist (SQLite enforces foreign keys per
/// connection only; this catches a connection that had them off).
pub async fn orphan_sessions(conn: &mut Conn) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id)",
    )
    .fetch_one(conn)
    .await
}

/// Live sessions without exactly one current (not rotated) refresh token:
/// (session id, current tokens).
pub async fn broken_refresh_families(conn: &mut Conn) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, COUNT(t.token_hash) FROM sessions s
         LEFT JOIN refresh_tokens t ON t.session_id = s.id AND t.rotated_at_us IS NULL
         WHERE s.revoked_at IS NULL
         GROUP BY s.id
         HAVING COUNT(t.token_hash) <> 1",
    )
    .fetch_all(conn)
    .await
}

/// Users whose stored password is not an argon2id PHC string (accounts made
/// through a provider store `auth::password::NO_PASSWORD`, the empty string).
pub async fn non_argon2id_hashes(conn: &mut Conn) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE password_hash NOT LIKE '$argon2id$%' AND password_hash <> ''")
        .fetch_one(conn)
        .await
}
