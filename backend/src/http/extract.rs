//! Extractors shared by every handler.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::Error;

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

pub fn json_rejection(rejection: JsonRejection) -> Error {
    match rejection {
        JsonRejection::JsonDataError(e) => Error::unprocessable("invalid_request", e.body_text()),
        JsonRejection::JsonSyntaxError(_) => {
            Error::bad_request("malformed_json", "request body is not valid JSON")
        }
        JsonRejection::MissingJsonContentType(_) => Error::UnsupportedMediaType {
            code: "unsupported_media_type",
            message: "expected `Content-Type: application/json`".to_owned(),
        },
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Error::PayloadTooLarge {
                code: "payload_too_large",
                message: "request body is too large".to_owned(),
            }
        }
        other => Error::bad_request("invalid_body", other.body_text()),
    }
}

/// Who is calling: the client IP (the peer, or the last `X-Forwarded-For`
/// hop when `TRUST_PROXY_HEADERS` is on) and a truncated user agent.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    pub fn ip_string(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
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
        let forwarded = state
            .config
            .http
            .trust_proxy_headers
            .then(|| {
                parts
                    .headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|list| list.rsplit(',').next())
                    .and_then(|hop| hop.trim().parse::<IpAddr>().ok())
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
