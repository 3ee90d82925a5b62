//! The one error type of the HTTP layer, and the statuses of the services'
//! refusals.
//!
//! Every variant maps to exactly one status. The body is always
//! [`game::api::ErrorBody`], `{"code": "snake_case", "message": "..."}`,
//! its code one of [`game::api::codes`]. Database and unexpected errors
//! become an opaque 500: their cause is logged (with the request id), never
//! sent. [`accounts::Error`] and [`economy::Error`] become an `Error` here,
//! which is where their statuses are chosen.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use game::EconomyError;
use game::api::codes;
use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::{accounts, economy};

/// The error body every failing endpoint answers with: the `game` crate's
/// [`game::api::ErrorBody`] (one definition, shared with the client), with
/// the OpenAPI schema the API documents for it.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct ErrorBody(pub game::api::ErrorBody);

impl utoipa::PartialSchema for ErrorBody {
    #[allow(deprecated)] // `example`: the OpenAPI 3.0 keyword the rest of the document uses
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some("The error body every failing endpoint answers with."))
            .property(
                "code",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(
                        "Stable machine-readable code, e.g. `invalid_credentials`.",
                    ))
                    .example(Some(serde_json::json!(codes::INVALID_CREDENTIALS))),
            )
            .required("code")
            .property(
                "message",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(
                        "Human-readable explanation; may change between versions.",
                    )),
            )
            .required("message")
            .into()
    }
}

impl utoipa::ToSchema for ErrorBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorBody")
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the request cannot be understood (malformed JSON, bad token).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: missing, invalid or expired credentials.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 403: authenticated but not allowed.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// 409: conflicts with the current state (duplicate, insufficient...).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413
    #[error("{message}")]
    PayloadTooLarge { code: &'static str, message: String },
    /// 415
    #[error("{message}")]
    UnsupportedMediaType { code: &'static str, message: String },
    /// 422: well-formed but invalid values.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// 429 with `Retry-After` (seconds).
    #[error("{message}")]
    TooManyRequests {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    /// 503
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// 500, cause logged.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// 500, cause logged.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            message: message.into(),
        }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable {
            code,
            message: message.into(),
        }
    }
    pub fn too_many_requests(
        code: &'static str,
        message: impl Into<String>,
        retry_after_secs: u64,
    ) -> Self {
        Self::TooManyRequests {
            code,
            message: message.into(),
            retry_after_secs: retry_after_secs.max(1),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::PayloadTooLarge { code, .. }
            | Self::UnsupportedMediaType { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::TooManyRequests { code, .. }
            | Self::Unavailable { code, .. } => code,
            Self::Database(_) | Self::Internal(_) => codes::INTERNAL_ERROR,
        }
    }
}

/// A JSON error response outside the `Error` type (used by middleware that
/// rewrites framework-generated errors).
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody(game::api::ErrorBody::new(code, message));
    (status, Json(body)).into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Self::Database(cause) => {
                tracing::error!(error = %cause, "database error");
                "internal server error".to_owned()
            }
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                "internal server error".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = error_response(status, self.code(), &message);
        match &self {
            Self::TooManyRequests {
                retry_after_secs, ..
            } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            Self::Unauthorized { .. } => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

/// The status of a `game` rule's refusal: statuses are HTTP's business, so
/// they live here, not in the rules.
pub fn rule_status(error: &EconomyError) -> StatusCode {
    match error {
        EconomyError::UnknownKind(_) | EconomyError::InvalidRequest(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        EconomyError::UnknownZone(_) => StatusCode::NOT_FOUND,
        EconomyError::ZoneLocked { .. } => StatusCode::FORBIDDEN,
        _ => StatusCode::CONFLICT,
    }
}

impl Error {
    /// The variant for `status`, for a refusal whose status is chosen by a
    /// mapping (no `Retry-After`).
    pub(super) fn with_status(status: StatusCode, code: &'static str, message: String) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::BadRequest { code, message },
            StatusCode::UNAUTHORIZED => Self::Unauthorized { code, message },
            StatusCode::FORBIDDEN => Self::Forbidden { code, message },
            StatusCode::NOT_FOUND => Self::NotFound { code, message },
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge { code, message },
            StatusCode::UNPROCESSABLE_ENTITY => Self::Unprocessable { code, message },
            _ => Self::Conflict { code, message },
        }
    }
}

impl From<economy::Error> for Error {
    fn from(error: economy::Error) -> Self {
        use economy::Error as E;
        let status = match &error {
            E::Database(_) | E::Internal(_) => {
                return match error {
                    E::Database(cause) => Self::Database(cause),
                    E::Internal(cause) => Self::Internal(cause),
                    _ => unreachable!(),
                };
            }
            E::RateLimited {
                retry_after_secs, ..
            } => {
                return Self::too_many_requests(error.code(), error.to_string(), *retry_after_secs);
            }
            E::Rule(rule) => rule_status(rule),
            E::TradeRefused(refused) => rule_status(&refused.error),
            E::UnknownZone(_)
            | E::UnknownRun
            | E::UnknownUpgrade(_)
            | E::UnknownMessage
            | E::UnknownLobby
            | E::UnknownTrade => StatusCode::NOT_FOUND,
            E::NotAMember | E::NotYourTrade(_) => StatusCode::FORBIDDEN,
            E::NotDocked(_) => StatusCode::CONFLICT,
            E::Dock(game::verify::DockRefusal::UnknownHub) => StatusCode::NOT_FOUND,
            E::Dock(_) => StatusCode::CONFLICT,
            E::BatchTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            E::InvalidRequest(_) | E::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            E::AccountGone => StatusCode::UNAUTHORIZED,
            E::LobbyFull | E::TradeNotPending | E::TooManyOffers(_) | E::CreditsOverflow => {
                StatusCode::CONFLICT
            }
        };
        Self::with_status(status, error.code(), error.to_string())
    }
}

impl From<accounts::Error> for Error {
    fn from(error: accounts::Error) -> Self {
        use accounts::Error as E;
        let status = match &error {
            E::Database(_) | E::Internal(_) => {
                return match error {
                    E::Database(cause) => Self::Database(cause),
                    E::Internal(cause) => Self::Internal(cause),
                    _ => unreachable!(),
                };
            }
            E::Locked {
                retry_after_secs, ..
            } => {
                return Self::too_many_requests(error.code(), error.to_string(), *retry_after_secs);
            }
            E::InvalidOrExpiredToken(_) => StatusCode::BAD_REQUEST,
            E::InvalidCredentials
            | E::InvalidRefreshToken
            | E::RefreshTokenReused
            | E::TokenExpired
            | E::InvalidToken
            | E::SessionRevoked(_) => StatusCode::UNAUTHORIZED,
            E::EmailNotVerified | E::InvalidCurrentPassword | E::Suspended { .. } => {
                StatusCode::FORBIDDEN
            }
            E::SessionNotFound | E::UserNotFound => StatusCode::NOT_FOUND,
            E::EmailTaken
            | E::UsernameTaken
            | E::AlreadyVerified
            | E::OAuthIdentityTaken
            | E::OAuthAlreadyLinked
            | E::LastSignInMethod => StatusCode::CONFLICT,
            E::InvalidOAuthRequest(_) | E::InvalidOAuthCode | E::InvalidOAuthTicket => {
                StatusCode::BAD_REQUEST
            }
            E::UnknownProvider | E::OAuthNotLinked => StatusCode::NOT_FOUND,
            E::ProviderUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            E::OAuthEmailRequired => StatusCode::UNPROCESSABLE_ENTITY,
            E::InvalidEmail(_)
            | E::InvalidUsername(_)
            | E::InvalidPassword(_)
            | E::CurrentPasswordRequired => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Self::with_status(status, error.code(), error.to_string())
    }
}
