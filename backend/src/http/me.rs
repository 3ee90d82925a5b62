//! `/api/v1/me`: the caller's profile, sessions and data export.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Error, ErrorBody, Result, ResultExt as _};
use super::extract::{ApiJson, ClientInfo};
use crate::auth::AuthUser;
use crate::clock::{now_ms, rfc3339};
use crate::db::audit::{self, AuditEvent};
use crate::db::users::UserRow;
use crate::db::{self, sessions, throttle, users};
use crate::domain::{Email, Password, Username};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, update_me, delete_me))
        .routes(routes!(export_me))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
}

#[derive(Serialize, ToSchema)]
pub struct UserProfile {
    pub id: String,
    pub email: String,
    pub username: String,
    pub email_verified: bool,
    /// RFC 3339
    pub created_at: String,
}

impl From<&UserRow> for UserProfile {
    fn from(user: &UserRow) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            username: user.username.clone(),
            email_verified: user.email_verified_at.is_some(),
            created_at: rfc3339(user.created_at),
        }
    }
}

/// Any subset of fields. Changing `email` or setting `new_password` needs
/// `current_password`.
#[derive(Deserialize, ToSchema)]
pub struct UpdateMe {
    pub username: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = Option<String>, format = Password)]
    pub new_password: Option<SecretString>,
    #[schema(value_type = Option<String>, format = Password)]
    pub current_password: Option<SecretString>,
}

#[derive(Deserialize, ToSchema)]
pub struct DeleteMe {
    /// The current password, to confirm.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    /// The session of the access token making this request.
    pub current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
}

async fn load_user(state: &AppState, user_id: &str) -> Result<UserRow> {
    let mut conn = state.db.pool().acquire().await?;
    // The session check passed, so the account exists unless it was deleted
    // a moment ago.
    users::find_by_id(&mut conn, user_id)
        .await?
        .ok_or_else(|| Error::unauthorized("session_revoked", "this account no longer exists"))
}

/// Checks the current password for a sensitive change, with the same lockout
/// as login (a stolen access token must not become a password oracle).
async fn confirm_password(
    state: &AppState,
    user: &UserRow,
    candidate: Option<&SecretString>,
    client: &ClientInfo,
) -> Result<()> {
    let candidate = candidate.ok_or_else(|| {
        Error::unprocessable(
            "current_password_required",
            "send `current_password` to change this",
        )
    })?;
    let subject = throttle::subject(Some(&user.id), "");
    {
        let mut conn = state.db.pool().acquire().await?;
        let now = now_ms();
        if let Some(until) = throttle::locked_until(&mut conn, &subject, now).await? {
            let secs = u64::try_from((until - now + 999) / 1000).unwrap_or(1);
            return Err(Error::too_many_requests(
                "account_locked",
                "too many failed attempts: try again later",
                secs,
            ));
        }
    }
    if state
        .hasher
        .verify(candidate, Some(&user.password_hash))
        .await?
    {
        return Ok(());
    }
    super::auth::record_failed_login(
        state,
        &subject,
        Some(&user.id),
        client.ip_string().as_deref(),
    )
    .await?;
    Err(Error::forbidden(
        "invalid_current_password",
        "the current password is wrong",
    ))
}

/// The caller's profile.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = UserProfile), (status = 401, body = ErrorBody))
)]
async fn get_me(State(state): State<AppState>, auth: AuthUser) -> Result<Json<UserProfile>> {
    Ok(Json(UserProfile::from(
        &load_user(&state, &auth.user_id).await?,
    )))
}

/// Change username, email or password.
#[utoipa::path(
    patch, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    request_body = UpdateMe,
    responses(
        (status = 200, body = UserProfile),
        (status = 403, description = "`invalid_current_password`", body = ErrorBody),
        (status = 409, description = "`email_taken`, `username_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "`account_locked`", body = ErrorBody),
    )
)]
async fn update_me(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    ApiJson(body): ApiJson<UpdateMe>,
) -> Result<Json<UserProfile>> {
    use secrecy::ExposeSecret as _;
    let user = load_user(&state, &auth.user_id).await?;
    let username = body
        .username
        .as_deref()
        .map(Username::parse)
        .transpose()
        .map_err(|m| Error::unprocessable("invalid_username", m))?
        .filter(|name| name.as_str() != user.username);
    let email = body
        .email
        .as_deref()
        .map(Email::parse)
        .transpose()
        .map_err(|m| Error::unprocessable("invalid_email", m))?
        .filter(|email| email.as_str() != user.email);
    let effective_username = match &username {
        Some(name) => name.clone(),
        None => Username::parse(&user.username)
            .map_err(|m| anyhow::anyhow!("stored username is invalid: {m}"))?,
    };
    let new_password = body
        .new_password
        .as_ref()
        .map(|p| Password::parse(p.expose_secret(), &effective_username))
        .transpose()
        .map_err(|e| Error::unprocessable("invalid_password", e.message()))?;
    if email.is_some() || new_password.is_some() {
        confirm_password(&state, &user, body.current_password.as_ref(), &client).await?;
    }
    let new_hash = match &new_password {
        Some(password) => Some(state.hasher.hash(password).await?),
        None => None,
    };

    let now = now_ms();
    let ip = client.ip_string();
    let mut tx = state.db.begin_write().await?;
    if let Some(name) = &username {
        users::update_username(&mut tx, &user.id, name.as_str(), now)
            .await
            .on_unique_violation("username", || {
                Error::conflict("username_taken", "this username is taken")
            })?;
        audit::record(
            &mut tx,
            AuditEvent::UsernameChanged,
            Some(&user.id),
            ip.as_deref(),
            None,
        )
        .await?;
    }
    if let Some(email) = &email {
        users::update_email(&mut tx, &user.id, email.as_str(), now)
            .await
            .on_unique_violation("email", || {
                Error::conflict("email_taken", "an account with this email already exists")
            })?;
        audit::record(
            &mut tx,
            AuditEvent::EmailChanged,
            Some(&user.id),
            ip.as_deref(),
            None,
        )
        .await?;
    }
    if let Some(hash) = &new_hash {
        users::update_password_hash(&mut tx, &user.id, hash, now).await?;
        // Other devices must log in with the new password.
        sessions::revoke_all(
            &mut tx,
            &user.id,
            "password_changed",
            now,
            Some(&auth.session_id),
        )
        .await?;
        audit::record(
            &mut tx,
            AuditEvent::PasswordChanged,
            Some(&user.id),
            ip.as_deref(),
            None,
        )
        .await?;
    }
    let updated = users::find_by_id(&mut tx, &user.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user vanished inside its own transaction"))?;
    tx.commit().await?;
    if let Some(email) = email {
        super::auth::issue_verification(&state, &user.id, email).await?;
    }
    Ok(Json(UserProfile::from(&updated)))
}

/// Delete the account and everything stored about it.
#[utoipa::path(
    delete, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    request_body = DeleteMe,
    responses(
        (status = 204, description = "account deleted"),
        (status = 403, description = "`invalid_current_password`", body = ErrorBody),
        (status = 429, description = "`account_locked`", body = ErrorBody),
    )
)]
async fn delete_me(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    ApiJson(body): ApiJson<DeleteMe>,
) -> Result<StatusCode> {
    let user = load_user(&state, &auth.user_id).await?;
    confirm_password(&state, &user, Some(&body.password), &client).await?;
    let mut tx = state.db.begin_write().await?;
    audit::anonymise_user(&mut tx, &user.id).await?;
    audit::record(
        &mut tx,
        AuditEvent::AccountDeleted,
        Some(&user.id),
        None,
        None,
    )
    .await?;
    db::outbox::delete_for_address(&mut tx, &user.email).await?;
    throttle::clear(&mut tx, &throttle::subject(Some(&user.id), "")).await?;
    // sessions, refresh tokens and mail tokens go by ON DELETE CASCADE
    users::delete(&mut tx, &user.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything stored about the caller, as JSON.
///
/// Sections are JSON objects keyed by topic; the economy adds its own
/// (player, ledger, trades) in [`export_sections`].
#[utoipa::path(
    get, path = "/api/v1/me/export", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "all data about the user", body = Object), (status = 401, body = ErrorBody))
)]
async fn export_me(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<serde_json::Value>> {
    let mut tx = state.db.begin_read().await?;
    let export = export_sections(&mut tx, &auth.user_id).await?;
    tx.commit().await?;
    Ok(Json(export))
}

/// Builds the export document. New tables holding user data add a section
/// here.
pub async fn export_sections(conn: &mut db::Conn, user_id: &str) -> Result<serde_json::Value> {
    use serde_json::json;
    let user = users::find_by_id(conn, user_id)
        .await?
        .ok_or_else(|| Error::not_found("user_not_found", "no such user"))?;
    let sessions: Vec<_> = sessions::list_all(conn, user_id)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id, "user_agent": s.user_agent, "ip": s.ip,
                "created_at": rfc3339(s.created_at), "last_used_at": rfc3339(s.last_used_at),
                "expires_at": rfc3339(s.expires_at),
                "revoked_at": s.revoked_at.map(rfc3339), "revoked_reason": s.revoked_reason,
            })
        })
        .collect();
    let audit: Vec<_> = audit::list_for_user(conn, user_id)
        .await?
        .into_iter()
        .map(|a| {
            json!({
                "event": a.event, "at": rfc3339(a.occurred_at), "ip": a.ip,
                "detail": a.detail.and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok()),
            })
        })
        .collect();
    let mail_tokens: Vec<(String, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT purpose, created_at, expires_at, used_at FROM account_tokens
         WHERE user_id = $1 ORDER BY created_at",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    let mail_tokens: Vec<_> = mail_tokens
        .into_iter()
        .map(|(purpose, created, expires, used)| {
            json!({"purpose": purpose, "created_at": rfc3339(created),
                   "expires_at": rfc3339(expires), "used_at": used.map(rfc3339)})
        })
        .collect();
    let throttle: Option<(i64, Option<i64>)> =
        sqlx::query_as("SELECT failures, locked_until FROM login_throttle WHERE subject = $1")
            .bind(throttle::subject(Some(user_id), ""))
            .fetch_optional(&mut *conn)
            .await?;
    Ok(json!({
        "exported_at": rfc3339(now_ms()),
        "user": {
            "id": user.id, "email": user.email, "username": user.username,
            "email_verified_at": user.email_verified_at.map(rfc3339),
            "created_at": rfc3339(user.created_at), "updated_at": rfc3339(user.updated_at),
        },
        "sessions": sessions,
        "mail_tokens": mail_tokens,
        "login_throttle": throttle.map(|(failures, until)| json!({
            "failures": failures, "locked_until": until.map(rfc3339)
        })),
        "audit_log": audit,
        "game": crate::economy::export::sections(conn, game::Catalog::shipped(), user_id).await?,
    }))
}

/// Live sessions (devices) of the caller.
#[utoipa::path(
    get, path = "/api/v1/me/sessions", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody))
)]
async fn list_sessions(State(state): State<AppState>, auth: AuthUser) -> Result<Json<SessionList>> {
    let mut conn = state.db.pool().acquire().await?;
    let sessions = sessions::list_active(&mut conn, &auth.user_id, now_ms())
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: s.id == auth.session_id,
            id: s.id,
            user_agent: s.user_agent,
            ip: s.ip,
            created_at: rfc3339(s.created_at),
            last_used_at: rfc3339(s.last_used_at),
            expires_at: rfc3339(s.expires_at),
        })
        .collect();
    Ok(Json(SessionList { sessions }))
}

/// End one session of the caller (e.g. a lost device).
#[utoipa::path(
    delete, path = "/api/v1/me/sessions/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 204, description = "session ended"),
        (status = 404, description = "`session_not_found`", body = ErrorBody),
    )
)]
async fn revoke_session(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    if !sessions::revoke(&mut tx, &id, &auth.user_id, "revoked", now_ms()).await? {
        return Err(Error::not_found(
            "session_not_found",
            "no such live session",
        ));
    }
    audit::record(
        &mut tx,
        AuditEvent::SessionRevoked,
        Some(&auth.user_id),
        client.ip_string().as_deref(),
        Some(serde_json::json!({ "session_id": id })),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
