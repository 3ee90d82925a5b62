//! `/api/v1/auth/*`: registration, login, token refresh, logout, password
//! reset and email verification. All routes here are rate limited per IP.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Error, ErrorBody, Result, ResultExt as _};
use super::extract::{ApiJson, ClientInfo};
use super::me::UserProfile;
use crate::auth::AuthUser;
use crate::auth::tokens::{self, hash_token, new_opaque_token};
use crate::clock::{duration_ms, now_ms, now_us};
use crate::db::account_tokens::{self, Purpose};
use crate::db::audit::{self, AuditEvent};
use crate::db::{self, sessions, throttle, users};
use crate::domain::{Email, Password, Username};
use crate::mail::OutgoingMail;

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(logout_all))
        .routes(routes!(password_reset_request))
        .routes(routes!(password_reset_confirm))
        .routes(routes!(verify_email))
        .routes(routes!(verify_email_resend))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::rate_limit::limit_auth,
        ))
}

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(example = "pilot@example.org")]
    pub email: String,
    /// 3-24 characters of `[A-Za-z0-9_-]`.
    #[schema(example = "salvager_42")]
    pub username: String,
    /// 12-128 characters, not common, not containing the username.
    #[schema(example = "orbital-debris-collector")]
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Email or username.
    #[serde(alias = "email", alias = "username")]
    #[schema(example = "salvager_42")]
    pub login: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque; send to `/auth/refresh` for a new pair. Single use.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
}

#[derive(Deserialize, ToSchema)]
pub struct EmailRequest {
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordResetConfirm {
    /// The code from the reset mail.
    pub token: String,
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    /// The code from the verification mail.
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub message: &'static str,
}

fn invalid_credentials() -> Error {
    Error::unauthorized("invalid_credentials", "login or password is wrong")
}

fn invalid_refresh_token() -> Error {
    Error::unauthorized(
        "invalid_refresh_token",
        "refresh token is not valid: log in again",
    )
}

/// Longest opaque token we even look at.
const MAX_TOKEN_LEN: usize = 128;

/// Create an account. A verification code is mailed to the address.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "account created", body = UserProfile),
        (status = 409, description = "`email_taken` or `username_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_email`, `invalid_username`, `invalid_password`", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody),
    )
)]
async fn register(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<impl IntoResponse> {
    use secrecy::ExposeSecret as _;
    let email = Email::parse(&body.email).map_err(|m| Error::unprocessable("invalid_email", m))?;
    let username =
        Username::parse(&body.username).map_err(|m| Error::unprocessable("invalid_username", m))?;
    let password = Password::parse(body.password.expose_secret(), &username)
        .map_err(|e| Error::unprocessable("invalid_password", e.message()))?;
    let password_hash = state.hasher.hash(&password).await?;

    let user_id = db::new_id();
    let now = now_ms();
    let ip = client.ip_string();
    let mut tx = state.db.begin_write().await?;
    users::insert(
        &mut tx,
        &user_id,
        email.as_str(),
        username.as_str(),
        &password_hash,
        now,
    )
    .await
    .on_unique_violation("email", || {
        Error::conflict("email_taken", "an account with this email already exists")
    })
    .on_unique_violation("username", || {
        Error::conflict("username_taken", "this username is taken")
    })?;
    let verification = new_opaque_token();
    account_tokens::insert(
        &mut tx,
        &hash_token(&verification),
        &user_id,
        Purpose::VerifyEmail,
        email.as_str(),
        now,
        now + duration_ms(state.config.auth.email_verification_ttl),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEvent::Registered,
        Some(&user_id),
        ip.as_deref(),
        None,
    )
    .await?;
    let user = users::find_by_id(&mut tx, &user_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user vanished inside its own transaction"))?;
    tx.commit().await?;

    state.metrics.auth_event("registered");
    send_verification_mail(&state, email, &verification).await;
    Ok((StatusCode::CREATED, Json(UserProfile::from(&user))))
}

/// Log in with email or username. Answers a token pair.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 403, description = "`email_not_verified` (when REQUIRE_EMAIL_VERIFICATION)", body = ErrorBody),
        (status = 429, description = "`account_locked` or `rate_limited`, with Retry-After", body = ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>> {
    let login = body.login.trim();
    if login.is_empty() || login.len() > Email::MAX_LEN {
        return Err(invalid_credentials());
    }
    let ip = client.ip_string();
    let user = {
        let mut conn = state.db.pool().acquire().await?;
        let user = users::find_by_login(&mut conn, login).await?;
        let subject = throttle::subject(user.as_ref().map(|u| u.id.as_str()), login);
        check_not_locked(&state, &mut conn, &subject).await?;
        user
    };
    let subject = throttle::subject(user.as_ref().map(|u| u.id.as_str()), login);

    let matches = state
        .hasher
        .verify(
            &body.password,
            user.as_ref().map(|u| u.password_hash.as_str()),
        )
        .await?;
    let user = match (matches, user) {
        (true, Some(user)) => user,
        (_, user) => {
            record_failed_login(
                &state,
                &subject,
                user.as_ref().map(|u| u.id.as_str()),
                ip.as_deref(),
            )
            .await?;
            return Err(invalid_credentials());
        }
    };

    let mut tx = state.db.begin_write().await?;
    // Re-checked under the write lock: parallel guesses cannot slip a correct
    // password in after the lock was set.
    check_not_locked(&state, &mut tx, &subject).await?;
    if state.config.auth.require_email_verification && user.email_verified_at.is_none() {
        return Err(Error::forbidden(
            "email_not_verified",
            "confirm your email address first (see the verification mail)",
        ));
    }
    throttle::clear(&mut tx, &subject).await?;
    let tokens = start_session(&state, &mut tx, &user.id, &client).await?;
    audit::record(
        &mut tx,
        AuditEvent::LoginSucceeded,
        Some(&user.id),
        ip.as_deref(),
        None,
    )
    .await?;
    tx.commit().await?;
    state.metrics.auth_event("login_succeeded");
    Ok(Json(tokens))
}

async fn check_not_locked(state: &AppState, conn: &mut db::Conn, subject: &str) -> Result<()> {
    let now = now_ms();
    if let Some(until) = throttle::locked_until(conn, subject, now).await? {
        state.metrics.auth_event("login_rejected_locked");
        let secs = u64::try_from((until - now + 999) / 1000).unwrap_or(1);
        return Err(Error::too_many_requests(
            "account_locked",
            "too many failed logins: try again later",
            secs,
        ));
    }
    Ok(())
}

/// Counts a failed password check towards the lockout. Also used by `/me`
/// when the current password is wrong.
pub(super) async fn record_failed_login(
    state: &AppState,
    subject: &str,
    user_id: Option<&str>,
    ip: Option<&str>,
) -> Result<()> {
    let auth = &state.config.auth;
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let failures = throttle::record_failure(
        &mut tx,
        subject,
        now,
        now - duration_ms(auth.lockout_duration),
    )
    .await?;
    audit::record(&mut tx, AuditEvent::LoginFailed, user_id, ip, None).await?;
    state.metrics.auth_event("login_failed");
    if failures >= i64::from(auth.lockout_max_failures) {
        throttle::lock(&mut tx, subject, now + duration_ms(auth.lockout_duration)).await?;
        audit::record(&mut tx, AuditEvent::LockedOut, user_id, ip, None).await?;
        state.metrics.auth_event("locked_out");
        tracing::warn!(user_id, "login locked out after repeated failures");
    }
    tx.commit().await?;
    Ok(())
}

/// Creates a session with its first refresh token; answers the token pair.
async fn start_session(
    state: &AppState,
    tx: &mut db::Tx,
    user_id: &str,
    client: &ClientInfo,
) -> Result<TokenResponse> {
    let now = now_ms();
    let expires_at = now + duration_ms(state.config.auth.refresh_token_ttl);
    let session_id = db::new_id();
    let ip = client.ip_string();
    sessions::insert(
        tx,
        &sessions::NewSession {
            id: &session_id,
            user_id,
            user_agent: client.user_agent.as_deref(),
            ip: ip.as_deref(),
            now,
            expires_at,
        },
    )
    .await?;
    let refresh_token = new_opaque_token();
    sessions::insert_refresh_token(
        tx,
        &hash_token(&refresh_token),
        &session_id,
        now,
        expires_at,
    )
    .await?;
    token_response(state, user_id, &session_id, refresh_token)
}

fn token_response(
    state: &AppState,
    user_id: &str,
    session_id: &str,
    refresh_token: String,
) -> Result<TokenResponse> {
    Ok(TokenResponse {
        access_token: state.jwt.issue(user_id, session_id)?,
        refresh_token,
        token_type: "Bearer",
        expires_in: state.jwt.ttl().as_secs(),
    })
}

/// Rotate a refresh token: answers a new pair; the old token stops working.
///
/// Presenting a rotated-out token again revokes the whole session (token
/// family) and is audited. A request that was already in flight when its
/// token was rotated by a parallel request (two tabs, a retry) is not a
/// replay: it receives the same successor.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "`invalid_refresh_token` or `refresh_token_reused`", body = ErrorBody),
    )
)]
async fn refresh(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>> {
    let arrived_us = now_us();
    let presented = body.refresh_token.trim();
    if presented.is_empty() || presented.len() > MAX_TOKEN_LEN {
        return Err(invalid_refresh_token());
    }
    let presented_hash = hash_token(presented);
    let successor = new_opaque_token();
    let sealed = tokens::seal_successor(presented, &successor).ok_or_else(invalid_refresh_token)?;
    let successor_hash = hash_token(&successor);
    let ip = client.ip_string();

    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let claimed = sessions::claim_refresh_token(
        &mut tx,
        &presented_hash,
        now,
        now_us(),
        &successor_hash,
        &sealed,
    )
    .await?;
    if let Some(session_id) = claimed {
        let expires_at = now + duration_ms(state.config.auth.refresh_token_ttl);
        sessions::insert_refresh_token(&mut tx, &successor_hash, &session_id, now, expires_at)
            .await?;
        sessions::touch(
            &mut tx,
            &session_id,
            now,
            expires_at,
            ip.as_deref(),
            client.user_agent.as_deref(),
        )
        .await?;
        let session = sessions::find(&mut tx, &session_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("session vanished inside its own transaction"))?;
        sessions::stamp_rotation(&mut tx, &presented_hash, now_us()).await?;
        tx.commit().await?;
        return Ok(Json(token_response(
            &state,
            &session.user_id,
            &session_id,
            successor,
        )?));
    }

    // Not claimable: unknown, expired, revoked, or already rotated.
    let Some(row) = sessions::find_refresh_token(&mut tx, &presented_hash).await? else {
        return Err(invalid_refresh_token());
    };
    let Some(session) = sessions::find(&mut tx, &row.session_id).await? else {
        return Err(invalid_refresh_token());
    };
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(invalid_refresh_token());
    }
    let Some(rotated_at_us) = row.rotated_at_us else {
        // expired but never rotated
        return Err(invalid_refresh_token());
    };

    let grace_us =
        i64::try_from(state.config.auth.refresh_race_grace.as_micros()).unwrap_or(i64::MAX);
    let racing = arrived_us < rotated_at_us.saturating_add(grace_us);
    if racing
        && let (Some(next_hash), Some(next_sealed)) = (&row.successor_hash, &row.successor_sealed)
        && let Some(next) = sessions::find_refresh_token(&mut tx, next_hash).await?
        && next.rotated_at_us.is_none()
        && next.expires_at > now
        && let Some(next_token) = tokens::open_successor(presented, next_sealed)
        && hash_token(&next_token) == *next_hash
    {
        tx.commit().await?;
        tracing::info!(session_id = %session.id, "concurrent refresh answered with the same successor");
        return Ok(Json(token_response(
            &state,
            &session.user_id,
            &session.id,
            next_token,
        )?));
    }

    // A replay of a rotated-out token: someone else may hold the family.
    sessions::revoke(&mut tx, &session.id, &session.user_id, "refresh_reuse", now).await?;
    audit::record(
        &mut tx,
        AuditEvent::RefreshReuse,
        Some(&session.user_id),
        ip.as_deref(),
        Some(serde_json::json!({ "session_id": session.id })),
    )
    .await?;
    tx.commit().await?;
    state.metrics.auth_event("refresh_reuse");
    tracing::warn!(session_id = %session.id, "refresh token reuse: session revoked");
    Err(Error::unauthorized(
        "refresh_token_reused",
        "this refresh token was already used: the session has been ended, log in again",
    ))
}

/// End the session the refresh token belongs to. Its access tokens stop
/// working immediately.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "session ended"),
        (status = 401, description = "`invalid_refresh_token`", body = ErrorBody),
    )
)]
async fn logout(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<StatusCode> {
    let presented = body.refresh_token.trim();
    if presented.is_empty() || presented.len() > MAX_TOKEN_LEN {
        return Err(invalid_refresh_token());
    }
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let Some(row) = sessions::find_refresh_token(&mut tx, &hash_token(presented)).await? else {
        return Err(invalid_refresh_token());
    };
    let Some(session) = sessions::find(&mut tx, &row.session_id).await? else {
        return Err(invalid_refresh_token());
    };
    if sessions::revoke(&mut tx, &session.id, &session.user_id, "logout", now).await? {
        audit::record(
            &mut tx,
            AuditEvent::Logout,
            Some(&session.user_id),
            client.ip_string().as_deref(),
            Some(serde_json::json!({ "session_id": session.id })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End every session of the caller (all devices).
#[utoipa::path(
    post, path = "/api/v1/auth/logout-all", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "all sessions ended"),
        (status = 401, body = ErrorBody),
    )
)]
async fn logout_all(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
) -> Result<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    let ended = sessions::revoke_all(&mut tx, &auth.user_id, "logout_all", now_ms(), None).await?;
    audit::record(
        &mut tx,
        AuditEvent::LogoutAll,
        Some(&auth.user_id),
        client.ip_string().as_deref(),
        Some(serde_json::json!({ "sessions": ended })),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

const RESET_ACCEPTED: &str = "if the address belongs to an account, a reset code is on its way";

/// Ask for a password-reset code by mail. Always 202, whether or not the
/// address has an account.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset/request", tag = "auth",
    request_body = EmailRequest,
    responses((status = 202, body = Accepted), (status = 429, body = ErrorBody))
)]
async fn password_reset_request(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<EmailRequest>,
) -> Result<(StatusCode, Json<Accepted>)> {
    let accepted = (
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: RESET_ACCEPTED,
        }),
    );
    let Ok(email) = Email::parse(&body.email) else {
        return Ok(accepted);
    };
    let user = {
        let mut conn = state.db.pool().acquire().await?;
        users::find_by_login(&mut conn, email.as_str()).await?
    };
    let Some(user) = user else {
        return Ok(accepted);
    };
    let token = new_opaque_token();
    let now = now_ms();
    let ttl = state.config.auth.password_reset_ttl;
    let mut tx = state.db.begin_write().await?;
    // Only the newest code works.
    account_tokens::invalidate_all(&mut tx, &user.id, Purpose::PasswordReset, now).await?;
    account_tokens::insert(
        &mut tx,
        &hash_token(&token),
        &user.id,
        Purpose::PasswordReset,
        &user.email,
        now,
        now + duration_ms(ttl),
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEvent::PasswordResetRequested,
        Some(&user.id),
        client.ip_string().as_deref(),
        None,
    )
    .await?;
    tx.commit().await?;

    let mail = OutgoingMail {
        to: email,
        subject: "Children of the Singularity: password reset".to_owned(),
        body: format!(
            "Someone (hopefully you) asked to reset the password of {}.\n\n\
             Reset code: {token}\n{}\n\
             The code works once and expires in {} minutes. If you did not ask, ignore this mail.\n",
            user.username,
            link(&state, "reset-password", &token),
            ttl.as_secs() / 60
        ),
    };
    if let Err(error) = state.mailer.send(mail).await {
        tracing::error!(
            error = format!("{error:#}"),
            "could not send the password-reset mail"
        );
    }
    Ok(accepted)
}

/// Set a new password with the mailed code. Ends every session.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset/confirm", tag = "auth",
    request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "password changed, all sessions ended"),
        (status = 400, description = "`invalid_or_expired_token`", body = ErrorBody),
        (status = 422, description = "`invalid_password`", body = ErrorBody),
    )
)]
async fn password_reset_confirm(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<PasswordResetConfirm>,
) -> Result<StatusCode> {
    use secrecy::ExposeSecret as _;
    let bad_token = || {
        Error::bad_request(
            "invalid_or_expired_token",
            "the reset code is not valid (any more)",
        )
    };
    let token = body.token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(bad_token());
    }
    let token_hash = hash_token(token);
    // Find the account first (read-only) so the new password can be checked
    // and hashed before the write transaction.
    let user = {
        let mut conn = state.db.pool().acquire().await?;
        let owner: Option<String> = sqlx::query_scalar(
            "SELECT user_id FROM account_tokens
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(&token_hash)
        .bind(Purpose::PasswordReset.as_str())
        .bind(now_ms())
        .fetch_optional(&mut *conn)
        .await?;
        match owner {
            Some(id) => users::find_by_id(&mut conn, &id)
                .await?
                .ok_or_else(bad_token)?,
            None => return Err(bad_token()),
        }
    };
    let username = Username::parse(&user.username)
        .map_err(|m| anyhow::anyhow!("stored username is invalid: {m}"))?;
    let password = Password::parse(body.new_password.expose_secret(), &username)
        .map_err(|e| Error::unprocessable("invalid_password", e.message()))?;
    let hash = state.hasher.hash(&password).await?;

    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let Some((user_id, email)) =
        account_tokens::consume(&mut tx, &token_hash, Purpose::PasswordReset, now).await?
    else {
        return Err(bad_token());
    };
    users::update_password_hash(&mut tx, &user_id, &hash, now).await?;
    // The mail reached its owner, so the address is proven too.
    users::mark_email_verified(&mut tx, &user_id, &email, now).await?;
    sessions::revoke_all(&mut tx, &user_id, "password_reset", now, None).await?;
    account_tokens::invalidate_all(&mut tx, &user_id, Purpose::PasswordReset, now).await?;
    throttle::clear(&mut tx, &throttle::subject(Some(&user_id), "")).await?;
    audit::record(
        &mut tx,
        AuditEvent::PasswordReset,
        Some(&user_id),
        client.ip_string().as_deref(),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirm the email address with the code mailed at registration (or after
/// an email change).
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 204, description = "address verified"),
        (status = 400, description = "`invalid_or_expired_token`", body = ErrorBody),
    )
)]
async fn verify_email(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<StatusCode> {
    let bad_token = || {
        Error::bad_request(
            "invalid_or_expired_token",
            "the verification code is not valid (any more)",
        )
    };
    let token = body.token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(bad_token());
    }
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let Some((user_id, email)) =
        account_tokens::consume(&mut tx, &hash_token(token), Purpose::VerifyEmail, now).await?
    else {
        return Err(bad_token());
    };
    if !users::mark_email_verified(&mut tx, &user_id, &email, now).await? {
        // the address changed since, or it was verified already
        return Err(bad_token());
    }
    audit::record(
        &mut tx,
        AuditEvent::EmailVerified,
        Some(&user_id),
        client.ip_string().as_deref(),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mail a new verification code. Always 202.
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email/resend", tag = "auth",
    request_body = EmailRequest,
    responses((status = 202, body = Accepted), (status = 429, body = ErrorBody))
)]
async fn verify_email_resend(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EmailRequest>,
) -> Result<(StatusCode, Json<Accepted>)> {
    let accepted = (
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: "if the address belongs to an unverified account, a new code is on its way",
        }),
    );
    let Ok(email) = Email::parse(&body.email) else {
        return Ok(accepted);
    };
    let user = {
        let mut conn = state.db.pool().acquire().await?;
        users::find_by_login(&mut conn, email.as_str()).await?
    };
    let Some(user) = user.filter(|u| u.email_verified_at.is_none()) else {
        return Ok(accepted);
    };
    issue_verification(&state, &user.id, email).await?;
    Ok(accepted)
}

/// Stores a fresh verification code for `email` and mails it. Used by
/// resend and by an email change in `/me`.
pub(super) async fn issue_verification(
    state: &AppState,
    user_id: &str,
    email: Email,
) -> Result<()> {
    let token = new_opaque_token();
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    account_tokens::invalidate_all(&mut tx, user_id, Purpose::VerifyEmail, now).await?;
    account_tokens::insert(
        &mut tx,
        &hash_token(&token),
        user_id,
        Purpose::VerifyEmail,
        email.as_str(),
        now,
        now + duration_ms(state.config.auth.email_verification_ttl),
    )
    .await?;
    tx.commit().await?;
    send_verification_mail(state, email, &token).await;
    Ok(())
}

async fn send_verification_mail(state: &AppState, to: Email, token: &str) {
    let mail = OutgoingMail {
        to,
        subject: "Children of the Singularity: confirm your email".to_owned(),
        body: format!(
            "Welcome, salvager.\n\nVerification code: {token}\n{}\n\
             The code expires in {} hours.\n",
            link(state, "verify-email", token),
            state.config.auth.email_verification_ttl.as_secs() / 3600
        ),
    };
    if let Err(error) = state.mailer.send(mail).await {
        tracing::error!(
            error = format!("{error:#}"),
            "could not send the verification mail"
        );
    }
}

fn link(state: &AppState, page: &str, token: &str) -> String {
    state
        .config
        .http
        .public_base_url
        .as_ref()
        .map(|base| {
            format!(
                "Or open {}/{page}?token={token}\n",
                base.trim_end_matches('/')
            )
        })
        .unwrap_or_default()
}
