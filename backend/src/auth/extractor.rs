//! `AuthUser`: the extractor every authenticated handler takes.
//!
//! It accepts `Authorization: Bearer <access JWT>`, verifies the token with
//! the fixed algorithm and key, then checks the session row, so a token of a
//! logged-out or revoked session is refused at once, not at its expiry.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::auth::jwt::JwtError;
use crate::http::AppState;
use crate::http::error::Error;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: String,
    pub session_id: String,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            Error::unauthorized(
                "missing_token",
                "send `Authorization: Bearer <access_token>`",
            )
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty() && token.len() <= 4096)
            .ok_or_else(|| {
                Error::unauthorized("invalid_token", "malformed Authorization header")
            })?;

        let claims = state.jwt.verify(token).map_err(|error| {
            state.metrics.auth_event("invalid_token");
            match error {
                JwtError::Expired => {
                    Error::unauthorized("token_expired", "access token expired: refresh it")
                }
                JwtError::Invalid => {
                    Error::unauthorized("invalid_token", "access token is not valid")
                }
            }
        })?;

        let mut conn = state.db.pool().acquire().await?;
        let active = crate::db::sessions::is_active(
            &mut conn,
            &claims.sid,
            &claims.sub,
            crate::clock::now_ms(),
        )
        .await?;
        if !active {
            state.metrics.auth_event("revoked_session");
            return Err(Error::unauthorized(
                "session_revoked",
                "this session has ended: log in again",
            ));
        }
        Ok(Self {
            user_id: claims.sub,
            session_id: claims.sid,
        })
    }
}
