//! What an account service can refuse, in its own words.
//!
//! Each refusal knows its API code (from [`game::api::codes`]); the HTTP
//! status that goes with it is the HTTP layer's business
//! (`crate::http::error`).

use game::api::codes;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidEmail(&'static str),
    #[error("{0}")]
    InvalidUsername(&'static str),
    #[error("{0}")]
    InvalidPassword(&'static str),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("this username is taken")]
    UsernameTaken,
    #[error("login or password is wrong")]
    InvalidCredentials,
    /// Too many failed password checks; `message` says which (login or a
    /// sensitive change).
    #[error("{message}")]
    Locked {
        message: &'static str,
        retry_after_secs: u64,
    },
    #[error("confirm your email address first (see the verification mail)")]
    EmailNotVerified,
    #[error("this address is confirmed already: change it in ACCOUNT after signing in")]
    AlreadyVerified,
    #[error("refresh token is not valid: log in again")]
    InvalidRefreshToken,
    #[error("this refresh token was already used: the session has been ended, log in again")]
    RefreshTokenReused,
    /// A mailed code that does not work (any more); the message names it.
    #[error("{0}")]
    InvalidOrExpiredToken(&'static str),
    #[error("access token expired: refresh it")]
    TokenExpired,
    #[error("access token is not valid")]
    InvalidToken,
    /// The session ended or the account is gone; the message says which.
    #[error("{0}")]
    SessionRevoked(&'static str),
    #[error("send `current_password` to change this")]
    CurrentPasswordRequired,
    #[error("the current password is wrong")]
    InvalidCurrentPassword,
    #[error("no such live session")]
    SessionNotFound,
    #[error("no such user")]
    UserNotFound,
    /// Sign-in refused: the account is suspended; `until` is the end
    /// (RFC 3339) or `None` (until lifted).
    #[error("{}", match until {
        Some(until) => format!("this account is suspended until {until}"),
        None => "this account is suspended until a moderator lifts it".to_owned(),
    })]
    Suspended { until: Option<String> },
    /// A provider sign-in request the backend cannot take (bad redirect
    /// address, state, challenge); the message says which.
    #[error("{0}")]
    InvalidOAuthRequest(&'static str),
    #[error("no such sign-in provider")]
    UnknownProvider,
    #[error("the sign-in provider cannot be reached right now: try again later")]
    ProviderUnavailable,
    #[error(
        "this sign-in code is unknown, used or expired, or was not made for this game: start again"
    )]
    InvalidOAuthCode,
    #[error("this sign-in step expired: start again from the sign-in screen")]
    InvalidOAuthTicket,
    #[error("that provider account is linked to another pilot")]
    OAuthIdentityTaken,
    #[error("this pilot already has a link with that provider: unlink it first")]
    OAuthAlreadyLinked,
    #[error(
        "the provider did not share a confirmed email address: confirm one there, or register with a password"
    )]
    OAuthEmailRequired,
    #[error("that provider is not linked to this pilot")]
    OAuthNotLinked,
    #[error(
        "this is the pilot's only way to sign in: set a password (reset it by mail) or link another provider first"
    )]
    LastSignInMethod,
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// The API code (`game::api::codes`). Database and internal errors have
    /// none of their own: the HTTP layer answers them as an opaque 500.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEmail(_) => codes::INVALID_EMAIL,
            Self::InvalidUsername(_) => codes::INVALID_USERNAME,
            Self::InvalidPassword(_) => codes::INVALID_PASSWORD,
            Self::EmailTaken => codes::EMAIL_TAKEN,
            Self::UsernameTaken => codes::USERNAME_TAKEN,
            Self::InvalidCredentials => codes::INVALID_CREDENTIALS,
            Self::Locked { .. } => codes::ACCOUNT_LOCKED,
            Self::EmailNotVerified => codes::EMAIL_NOT_VERIFIED,
            Self::AlreadyVerified => codes::ALREADY_VERIFIED,
            Self::InvalidRefreshToken => codes::INVALID_REFRESH_TOKEN,
            Self::RefreshTokenReused => codes::REFRESH_TOKEN_REUSED,
            Self::InvalidOrExpiredToken(_) => codes::INVALID_OR_EXPIRED_TOKEN,
            Self::TokenExpired => codes::TOKEN_EXPIRED,
            Self::InvalidToken => codes::INVALID_TOKEN,
            Self::SessionRevoked(_) => codes::SESSION_REVOKED,
            Self::CurrentPasswordRequired => codes::CURRENT_PASSWORD_REQUIRED,
            Self::InvalidCurrentPassword => codes::INVALID_CURRENT_PASSWORD,
            Self::SessionNotFound => codes::SESSION_NOT_FOUND,
            Self::UserNotFound => codes::USER_NOT_FOUND,
            Self::Suspended { .. } => codes::ACCOUNT_SUSPENDED,
            Self::InvalidOAuthRequest(_) => codes::INVALID_REQUEST,
            Self::UnknownProvider | Self::OAuthNotLinked => codes::NOT_FOUND,
            Self::ProviderUnavailable => codes::PROVIDER_UNAVAILABLE,
            Self::InvalidOAuthCode => codes::INVALID_OAUTH_CODE,
            Self::InvalidOAuthTicket => codes::INVALID_OAUTH_TICKET,
            Self::OAuthIdentityTaken => codes::OAUTH_IDENTITY_TAKEN,
            Self::OAuthAlreadyLinked => codes::OAUTH_ALREADY_LINKED,
            Self::OAuthEmailRequired => codes::OAUTH_EMAIL_REQUIRED,
            Self::LastSignInMethod => codes::LAST_SIGN_IN_METHOD,
            Self::Database(_) | Self::Internal(_) => codes::INTERNAL_ERROR,
        }
    }
}

/// Maps a unique violation to a refusal, like realworld-axum-sqlx's
/// `on_constraint`: `name_part` is looked for in the PostgreSQL constraint
/// name or the SQLite message.
pub(super) trait ResultExt<T> {
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
