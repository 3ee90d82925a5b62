//! The one error type of the HTTP layer.
//!
//! Every variant maps to exactly one status. The body is always
//! `{"code": "snake_case", "message": "..."}`. Database and unexpected errors
//! become an opaque 500: their cause is logged (with the request id), never
//! sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The error body every failing endpoint answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    #[schema(example = "invalid_credentials")]
    pub code: String,
    /// Human-readable explanation; may change between versions.
    pub message: String,
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
            Self::Database(_) | Self::Internal(_) => "internal_error",
        }
    }
}

/// A JSON error response outside the `Error` type (used by middleware that
/// rewrites framework-generated errors).
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        code: code.to_owned(),
        message: message.to_owned(),
    };
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

/// Maps a unique violation to a client error, like realworld-axum-sqlx's
/// `on_constraint`: `name_part` is looked for in the PostgreSQL constraint
/// name or the SQLite message.
pub trait ResultExt<T> {
    fn on_unique_violation(self, name_part: &str, map: impl FnOnce() -> Error) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn on_unique_violation(self, name_part: &str, map: impl FnOnce() -> Error) -> Result<T> {
        self.map_err(|error| match error.into() {
            Error::Database(db_error)
                if crate::db::unique_violation(&db_error)
                    .is_some_and(|what| what.contains(name_part)) =>
            {
                map()
            }
            other => other,
        })
    }
}
