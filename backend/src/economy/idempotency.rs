//! `Idempotency-Key` on mutating economy and trade requests, the
//! zero-to-production way: the key is claimed by the first statement after
//! `BEGIN` of the request's own transaction and the answer is stored by the
//! last one before `COMMIT`, so the effect and its stored answer exist
//! together or not at all. The HTTP layer's unit of work
//! (`crate::http::unit_of_work`) drives it; nothing here knows HTTP.
//!
//! - A replay (same user, key, method, path and body) returns the stored
//!   status and body and changes nothing.
//! - The same key with another request is refused:
//!   [`Error::IdempotencyKeyReused`].
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

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::{Error, Result};
use crate::db::{Conn, idempotency};

/// How long a key is remembered.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// A valid key: 1-64 printable ASCII characters, not all blank.
pub fn is_valid_key(text: &str) -> bool {
    (1..=game::api::MAX_IDEMPOTENCY_KEY_LEN).contains(&text.len())
        && text.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && !text.trim().is_empty()
}

/// The request's key (if it sent one) and what identifies the request.
#[derive(Debug, Clone)]
pub struct RequestKey {
    key: Option<String>,
    method: String,
    path: String,
}

/// The outcome of [`RequestKey::claim`].
pub enum Claim {
    /// Run the request, then [`Claimed::store`] its answer.
    Fresh(Claimed),
    /// The stored answer of the first request with this key.
    Replay(StoredAnswer),
}

/// A request that may store its answer.
pub struct Claimed {
    key: Option<String>,
    user_id: String,
}

/// An answer as stored: status and body text (empty for no body).
pub struct StoredAnswer {
    pub status: i64,
    pub body: String,
}

impl RequestKey {
    /// `key` must be valid ([`is_valid_key`]); `method` and `path` are the
    /// request's.
    pub fn new(key: Option<String>, method: String, path: String) -> Self {
        Self { key, method, path }
    }

    /// Claims the key inside `conn`'s transaction (the first statement after
    /// BEGIN). `body` is the parsed request body, if the request has one.
    pub async fn claim<B: Serialize>(
        &self,
        conn: &mut Conn,
        user_id: &str,
        body: Option<&B>,
        now: i64,
    ) -> Result<Claim> {
        let Some(key) = &self.key else {
            return Ok(Claim::Fresh(Claimed {
                key: None,
                user_id: user_id.to_owned(),
            }));
        };
        let hash = self.fingerprint(body)?;
        if idempotency::claim(conn, user_id, key, &hash, now).await? {
            return Ok(Claim::Fresh(Claimed {
                key: Some(key.clone()),
                user_id: user_id.to_owned(),
            }));
        }
        let (stored_hash, status, body) = idempotency::find(conn, user_id, key)
            .await?
            .ok_or_else(|| anyhow::anyhow!("idempotency key vanished after a conflict"))?;
        if stored_hash != hash {
            return Err(Error::IdempotencyKeyReused);
        }
        Ok(Claim::Replay(StoredAnswer { status, body }))
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

impl Claimed {
    /// Stores the answer (the last statement before COMMIT); returns the
    /// body text as stored.
    pub async fn store<T: Serialize>(
        self,
        conn: &mut Conn,
        status: u16,
        body: Option<&T>,
    ) -> Result<String> {
        let text = match body {
            Some(body) => serde_json::to_string(body).map_err(anyhow::Error::from)?,
            None => String::new(),
        };
        if let Some(key) = &self.key {
            idempotency::store(conn, &self.user_id, key, i64::from(status), &text).await?;
        }
        Ok(text)
    }
}
