//! `Idempotency-Key` on mutating economy and trade requests, the
//! zero-to-production way: the key is claimed by the first statement after
//! `BEGIN` of the request's own transaction and the answer is stored by the
//! last one before `COMMIT`, so the effect and its stored answer exist
//! together or not at all.
//!
//! - A replay (same user, key, method, path and body) returns the stored
//!   status and body and changes nothing.
//! - The same key with another request is refused: 422
//!   `idempotency_key_reused`.
//! - Two requests with one key at the same time: on PostgreSQL the second
//!   `INSERT` waits for the first transaction and then sees its row (and
//!   replays it); on SQLite `BEGIN IMMEDIATE` already runs them one after
//!   the other.
//! - A request that fails (4xx) rolls back, key included: retrying it runs
//!   it again, which is what a client retrying after "insufficient credits"
//!   wants.
//!
//! Keys are per user and kept for [`RETENTION`].

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{Conn, idempotency};
use crate::http::AppState;
use crate::http::error::{Error, Result};

/// The request header.
pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer that is a replay of a stored one.
pub static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// How long a key is remembered.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// The request's `Idempotency-Key` (if any) and what identifies the request.
#[derive(Debug, Clone)]
pub struct Idempotency {
    key: Option<String>,
    method: String,
    path: String,
}

/// A valid key: 1-64 printable ASCII characters.
fn parse_key(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let ok = (1..=game::api::MAX_IDEMPOTENCY_KEY_LEN).contains(&text.len())
        && text.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && !text.trim().is_empty();
    ok.then(|| text.to_owned())
}

impl FromRequestParts<AppState> for Idempotency {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self> {
        let mut values = parts.headers.get_all(&IDEMPOTENCY_KEY).iter();
        let key = match (values.next(), values.next()) {
            (None, _) => None,
            (Some(value), None) => Some(parse_key(value).ok_or_else(|| {
                Error::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1-64 printable ASCII characters",
                )
            })?),
            (Some(_), Some(_)) => {
                return Err(Error::bad_request(
                    "invalid_idempotency_key",
                    "send at most one Idempotency-Key header",
                ));
            }
        };
        Ok(Self {
            key,
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
        })
    }
}

/// The outcome of [`Idempotency::begin`].
pub enum Begin {
    /// Run the request (and end it with [`Idempotency::finish`]).
    Fresh(Request),
    /// The stored answer of the first request with this key.
    Replay(Response),
}

/// A request that may store its answer.
pub struct Request {
    key: Option<String>,
    user_id: String,
}

impl Idempotency {
    /// Claims the key inside `conn`'s transaction (the first statement after
    /// BEGIN). `body` is the parsed request body, if the request has one.
    pub async fn begin<B: Serialize>(
        &self,
        conn: &mut Conn,
        user_id: &str,
        body: Option<&B>,
        now: i64,
    ) -> Result<Begin> {
        let Some(key) = &self.key else {
            return Ok(Begin::Fresh(Request {
                key: None,
                user_id: user_id.to_owned(),
            }));
        };
        let hash = self.fingerprint(body)?;
        if idempotency::claim(conn, user_id, key, &hash, now).await? {
            return Ok(Begin::Fresh(Request {
                key: Some(key.clone()),
                user_id: user_id.to_owned(),
            }));
        }
        let (stored_hash, status, stored_body) = idempotency::find(conn, user_id, key)
            .await?
            .ok_or_else(|| anyhow::anyhow!("idempotency key vanished after a conflict"))?;
        if stored_hash != hash {
            return Err(Error::unprocessable(
                game::api::codes::IDEMPOTENCY_KEY_REUSED,
                "this Idempotency-Key was used for a different request",
            ));
        }
        let status = u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .ok_or_else(|| anyhow::anyhow!("stored idempotent status {status} is invalid"))?;
        let mut response = if stored_body.is_empty() {
            status.into_response()
        } else {
            (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                stored_body,
            )
                .into_response()
        };
        response
            .headers_mut()
            .insert(REPLAYED.clone(), HeaderValue::from_static("true"));
        Ok(Begin::Replay(response))
    }

    /// SHA-256 of method, path and the canonical JSON of the body.
    fn fingerprint<B: Serialize>(&self, body: Option<&B>) -> Result<String> {
        let body = match body {
            Some(body) => serde_json::to_string(body).map_err(anyhow::Error::from)?,
            None => String::new(),
        };
        let mut hasher = Sha256::new();
        for part in [self.method.as_str(), self.path.as_str(), body.as_str()] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        Ok(hex::encode(hasher.finalize()))
    }
}

impl Request {
    /// Stores the answer (the last statement before COMMIT) and builds it.
    pub async fn finish<T: Serialize>(
        self,
        conn: &mut Conn,
        status: StatusCode,
        body: Option<&T>,
    ) -> Result<Response> {
        let text = match body {
            Some(body) => serde_json::to_string(body).map_err(anyhow::Error::from)?,
            None => String::new(),
        };
        if let Some(key) = &self.key {
            idempotency::store(conn, &self.user_id, key, i64::from(status.as_u16()), &text).await?;
        }
        Ok(if text.is_empty() {
            status.into_response()
        } else {
            (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
        })
    }
}
