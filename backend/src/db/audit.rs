//! `audit_log`: security events, with ip and time. Never a secret.

use super::Conn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    Registered,
    LoginSucceeded,
    LoginFailed,
    LockedOut,
    RefreshReuse,
    Logout,
    LogoutAll,
    SessionRevoked,
    PasswordResetRequested,
    PasswordReset,
    PasswordChanged,
    EmailChanged,
    UsernameChanged,
    EmailVerified,
    AccountDeleted,
    RoleGranted,
    Suspended,
    SuspensionLifted,
    CreditsAdjusted,
    PlayerInspected,
    ProviderSignIn,
    ProviderLinked,
    ProviderUnlinked,
}

impl AuditEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::LockedOut => "locked_out",
            Self::RefreshReuse => "refresh_reuse",
            Self::Logout => "logout",
            Self::LogoutAll => "logout_all",
            Self::SessionRevoked => "session_revoked",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::EmailChanged => "email_changed",
            Self::UsernameChanged => "username_changed",
            Self::EmailVerified => "email_verified",
            Self::AccountDeleted => "account_deleted",
            Self::ProviderSignIn => "provider_sign_in",
            Self::ProviderLinked => "provider_linked",
            Self::ProviderUnlinked => "provider_unlinked",
            Self::RoleGranted => "role_granted",
            Self::Suspended => "suspended",
            Self::SuspensionLifted => "suspension_lifted",
            Self::CreditsAdjusted => "credits_adjusted",
            Self::PlayerInspected => "player_inspected",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: i64,
    pub user_id: Option<String>,
    pub event: String,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

pub async fn record(
    conn: &mut Conn,
    event: AuditEvent,
    user_id: Option<&str>,
    ip: Option<&str>,
    detail: Option<serde_json::Value>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, occurred_at, user_id, event, ip, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(super::new_id())
    .bind(crate::clock::now_ms())
    .bind(user_id)
    .bind(event.as_str())
    .bind(ip)
    .bind(detail.map(|d| d.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_for_user(conn: &mut Conn, user_id: &str) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, occurred_at, user_id, event, ip, detail FROM audit_log
         WHERE user_id = $1 ORDER BY occurred_at, id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// After an account deletion: the events stay (counts, security forensics)
/// but nothing in them points at a person any more.
pub async fn anonymise_user(conn: &mut Conn, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE audit_log SET ip = NULL, detail = NULL WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn count_events(conn: &mut Conn, event: AuditEvent) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE event = $1")
        .bind(event.as_str())
        .fetch_one(conn)
        .await
}
