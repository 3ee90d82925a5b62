//! The unit of work of every mutating economy request: begin a writing
//! transaction, claim the `Idempotency-Key` (its first statement), run the
//! work, store the answer (its last statement), commit. A replay of a
//! stored answer returns it and runs nothing; a refusal rolls everything
//! back, key included (see [`crate::economy::idempotency`]).

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{Error, Result};
use super::extract::{AuthUser, Idempotency};
use super::state::AppState;
use crate::clock::now_ms;
use crate::db::Conn;
use crate::economy::idempotency::{Claim, StoredAnswer};

/// Set on an answer that is a replay of a stored one.
pub static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// What the work answers: the status and body to store and send, and
/// whatever the handler does after the commit (`after`, e.g. the events to
/// publish).
pub struct Answer<R, A = ()> {
    pub status: StatusCode,
    pub body: Option<R>,
    pub after: A,
}

impl<R> Answer<R> {
    /// `status` with `body`, nothing to do after the commit.
    pub fn new(status: StatusCode, body: R) -> Self {
        Self {
            status,
            body: Some(body),
            after: (),
        }
    }
}

impl<R, A> Answer<R, A> {
    /// The same answer with something to do after the commit.
    pub fn then<B>(self, after: B) -> Answer<R, B> {
        Answer {
            status: self.status,
            body: self.body,
            after,
        }
    }
}

/// Runs `work(tx, now)` as one unit of work for `auth`'s request with the
/// parsed `request` body (part of the key's fingerprint). Returns the
/// response and, unless it was a replay, the answer's `after`.
pub async fn unit_of_work<B, R, A>(
    state: &AppState,
    auth: &AuthUser,
    idempotency: &Idempotency,
    request: Option<&B>,
    work: impl AsyncFnOnce(&mut Conn, i64) -> Result<Answer<R, A>>,
) -> Result<(Response, Option<A>)>
where
    B: Serialize,
    R: Serialize,
{
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let claimed = match idempotency
        .0
        .claim(&mut tx, &auth.user_id, request, now)
        .await?
    {
        Claim::Replay(stored) => return Ok((replay(stored)?, None)),
        Claim::Fresh(claimed) => claimed,
    };
    let answer = work(&mut *tx, now).await?;
    let text = claimed
        .store(&mut tx, answer.status.as_u16(), answer.body.as_ref())
        .await?;
    tx.commit().await?;
    Ok((respond(answer.status, text), Some(answer.after)))
}

fn respond(status: StatusCode, body: String) -> Response {
    if body.is_empty() {
        status.into_response()
    } else {
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

fn replay(stored: StoredAnswer) -> Result<Response> {
    let status = u16::try_from(stored.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| {
            Error::from(anyhow::anyhow!(
                "stored idempotent status {} is invalid",
                stored.status
            ))
        })?;
    let mut response = respond(status, stored.body);
    response
        .headers_mut()
        .insert(REPLAYED.clone(), HeaderValue::from_static("true"));
    Ok(response)
}
