//! Extractors shared by every handler: [`ApiJson`], [`ClientInfo`],
//! [`AuthUser`] and [`Idempotency`].

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderName, StatusCode};
use game::api::codes;
use serde::de::DeserializeOwned;

use super::error::Error;
use super::state::AppState;
use crate::accounts::{self, Caller, Origin};
use crate::economy::idempotency::{RequestKey, is_valid_key};

/// `Json<T>` whose rejections speak our error format: 400 malformed JSON,
/// 413 body too large, 415 wrong content type, 422 wrong shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// [`ApiJson`] for a body that may be left out: no body (no content type,
/// no length) is `T::default()`, so the handler can refuse a missing field
/// in its own words instead of a 415.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers();
        let empty = !headers.contains_key(axum::http::header::CONTENT_TYPE)
            && headers
                .get(axum::http::header::CONTENT_LENGTH)
                .is_none_or(|length| length.as_bytes() == b"0");
        if empty {
            return Ok(Self(T::default()));
        }
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|ApiJson(value)| Self(value))
    }
}

pub fn json_rejection(rejection: JsonRejection) -> Error {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            Error::unprocessable(codes::INVALID_REQUEST, e.body_text())
        }
        JsonRejection::JsonSyntaxError(_) => {
            Error::bad_request(codes::MALFORMED_JSON, "request body is not valid JSON")
        }
        JsonRejection::MissingJsonContentType(_) => Error::UnsupportedMediaType {
            code: codes::UNSUPPORTED_MEDIA_TYPE,
            message: "expected `Content-Type: application/json`".to_owned(),
        },
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Error::PayloadTooLarge {
                code: codes::PAYLOAD_TOO_LARGE,
                message: "request body is too large".to_owned(),
            }
        }
        other => Error::bad_request(codes::INVALID_BODY, other.body_text()),
    }
}

/// Who is calling: the client IP (the peer, or with `TRUST_PROXY_HEADERS`
/// the right-most untrusted `X-Forwarded-For` entry, see
/// [`forwarded_client`](super::network::forwarded_client)) and a
/// truncated user agent.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    pub fn ip_string(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }

    /// What the account services record about where a request came from.
    pub fn origin(&self) -> Origin {
        Origin {
            ip: self.ip_string(),
            user_agent: self.user_agent.clone(),
        }
    }
}

const MAX_USER_AGENT: usize = 256;

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let hardening = &state.config.hardening;
        let forwarded = state
            .config
            .http
            .trust_proxy_headers
            .then(|| {
                super::network::forwarded_client(
                    peer,
                    &parts.headers,
                    hardening.trusted_proxy_hops,
                    &hardening.trusted_proxies,
                )
            })
            .flatten();
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
        Ok(Self {
            ip: forwarded.or(peer),
            user_agent,
        })
    }
}

/// The authenticated caller: `Authorization: Bearer <access JWT>`, checked
/// by [`Accounts::authenticate`](crate::accounts::Accounts::authenticate)
/// (signature, expiry, and the live session).
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: String,
    pub session_id: String,
}

impl AuthUser {
    /// The caller as the account services name it.
    pub fn caller(&self) -> Caller {
        Caller {
            user_id: self.user_id.clone(),
            session_id: self.session_id.clone(),
        }
    }
}

/// Longest access token looked at.
pub const MAX_ACCESS_TOKEN_LEN: usize = 4096;

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            Error::unauthorized(
                codes::MISSING_TOKEN,
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
            .filter(|token| !token.is_empty() && token.len() <= MAX_ACCESS_TOKEN_LEN)
            .ok_or_else(|| {
                Error::unauthorized(codes::INVALID_TOKEN, "malformed Authorization header")
            })?;
        let caller = state
            .accounts
            .authenticate(token)
            .await
            .inspect_err(|error| match error {
                accounts::Error::TokenExpired | accounts::Error::InvalidToken => {
                    state.metrics.auth_event("invalid_token");
                }
                accounts::Error::SessionRevoked(_) => state.metrics.auth_event("revoked_session"),
                _ => {}
            })?;
        Ok(Self {
            user_id: caller.user_id,
            session_id: caller.session_id,
        })
    }
}

/// `Option<AuthUser>`: `None` without an `Authorization` header; a header
/// that does not authenticate is refused as for [`AuthUser`].
impl axum::extract::OptionalFromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        if parts.headers.contains_key(AUTHORIZATION) {
            <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    }
}

/// The request header.
pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The request's `Idempotency-Key` (if any) and what identifies the
/// request; [`unit_of_work`](super::unit_of_work::unit_of_work) claims it.
#[derive(Debug, Clone)]
pub struct Idempotency(pub RequestKey);

impl FromRequestParts<AppState> for Idempotency {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Error> {
        let invalid = |message: &str| Error::bad_request(codes::INVALID_IDEMPOTENCY_KEY, message);
        let mut values = parts.headers.get_all(&IDEMPOTENCY_KEY).iter();
        let key = match (values.next(), values.next()) {
            (None, _) => None,
            (Some(value), None) => Some(
                value
                    .to_str()
                    .ok()
                    .filter(|text| is_valid_key(text))
                    .ok_or_else(|| {
                        invalid("Idempotency-Key must be 1-64 printable ASCII characters")
                    })?
                    .to_owned(),
            ),
            (Some(_), Some(_)) => {
                return Err(invalid("send at most one Idempotency-Key header"));
            }
        };
        Ok(Self(RequestKey::new(
            key,
            parts.method.to_string(),
            parts.uri.path().to_owned(),
        )))
    }
}
