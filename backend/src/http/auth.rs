//! `/api/v1/auth/*`: registration, login, token refresh, logout, password
//! reset and email verification. All routes here spend from the per-IP `auth` budget (the tightest).

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
use super::error::{ErrorBody, Result};
use super::extract::{ApiJson, AuthUser, ClientInfo};
use crate::accounts::{Registration, TokenPair, UserProfile};

pub fn router() -> OpenApiRouter<AppState> {
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
        .routes(routes!(change_unverified_address))
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

#[derive(Deserialize, ToSchema)]
pub struct ChangeAddressRequest {
    /// Email or username, as at sign-in.
    #[schema(example = "salvager_42")]
    pub login: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// Where the new code goes.
    #[schema(example = "pilot@example.org")]
    pub new_email: String,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub message: &'static str,
}

impl From<TokenPair> for TokenResponse {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: "Bearer",
            expires_in: pair.expires_in,
        }
    }
}

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
    let form = Registration {
        email: &body.email,
        username: &body.username,
        password: &body.password,
    };
    let profile = state.accounts.register(form, &client.origin()).await?;
    Ok((StatusCode::CREATED, Json(profile)))
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
    let pair = state
        .accounts
        .login(&body.login, &body.password, &client.origin())
        .await?;
    Ok(Json(pair.into()))
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
    let pair = state
        .accounts
        .refresh(&body.refresh_token, &client.origin())
        .await?;
    Ok(Json(pair.into()))
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
    state
        .accounts
        .logout(&body.refresh_token, &client.origin())
        .await?;
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
    state
        .accounts
        .logout_all(&auth.caller(), &client.origin())
        .await?;
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
    state
        .accounts
        .request_password_reset(&body.email, &client.origin())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: RESET_ACCEPTED,
        }),
    ))
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
    state
        .accounts
        .confirm_password_reset(&body.token, &body.new_password, &client.origin())
        .await?;
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
    state
        .accounts
        .verify_email(&body.token, &client.origin())
        .await?;
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
    state.accounts.resend_verification(&body.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: "if the address belongs to an unverified account, a new code is on its way",
        }),
    ))
}

/// Move an account whose address is not confirmed yet to another address
/// and mail a new code there (sign-in is refused until the address is
/// confirmed, so this is the way out of a mistyped address).
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email/change-address", tag = "auth",
    request_body = ChangeAddressRequest,
    responses(
        (status = 202, body = Accepted),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 409, description = "`already_verified` (a taken address is answered 202 like a free one, nothing changes and its owner is told)", body = ErrorBody),
        (status = 422, description = "`invalid_email`", body = ErrorBody),
        (status = 429, description = "`account_locked` (after failed passwords), `rate_limited`", body = ErrorBody),
    )
)]
async fn change_unverified_address(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<ChangeAddressRequest>,
) -> Result<(StatusCode, Json<Accepted>)> {
    state
        .accounts
        .change_unverified_address(
            &body.login,
            &body.password,
            &body.new_email,
            &client.origin(),
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: "address changed: a new code is on its way there",
        }),
    ))
}
