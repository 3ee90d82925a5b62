//! Station AI messages: `GET /api/v1/messages` (unlocked ones, with seen
//! flags) and `POST /api/v1/messages/{id}/seen`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use game::api::{MessageEntry, MessagesResponse, codes};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Error, ErrorBody, Result};
use crate::auth::AuthUser;
use crate::clock::{now_ms, rfc3339};
use crate::db::messages;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages))
        .routes(routes!(mark_seen))
}

/// Messages the caller has unlocked, oldest first.
#[utoipa::path(
    get, path = "/api/v1/messages", tag = "economy", security(("bearer" = [])),
    responses(
        (status = 200, description = "`{messages:[{id, text, unlocked_at, seen}]}`", body = Object),
        (status = 401, body = ErrorBody),
    )
)]
async fn list_messages(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<MessagesResponse>> {
    let catalog = state.economy.catalog;
    let mut conn = state.db.pool().acquire().await?;
    let rows = messages::list(&mut conn, &auth.user_id).await?;
    let messages = rows
        .into_iter()
        // A message removed from the catalog since it was unlocked has no
        // text any more: leave it out rather than show an empty line.
        .filter_map(|row| {
            let def = catalog.message(&row.message_id)?;
            Some(MessageEntry {
                id: row.message_id,
                text: def.text.clone(),
                unlocked_at: rfc3339(row.unlocked_at),
                seen: row.seen_at.is_some(),
            })
        })
        .collect();
    Ok(Json(MessagesResponse { messages }))
}

/// Mark an unlocked message seen. Repeating it is harmless.
#[utoipa::path(
    post, path = "/api/v1/messages/{id}/seen", tag = "economy", security(("bearer" = [])),
    params(("id" = String, Path, description = "message id")),
    responses(
        (status = 204, description = "marked seen"),
        (status = 404, description = "`unknown_message` (not in the catalog or not unlocked)", body = ErrorBody),
    )
)]
async fn mark_seen(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let unknown = || Error::not_found(codes::UNKNOWN_MESSAGE, "no such unlocked message");
    if state.economy.catalog.message(&id).is_none() {
        return Err(unknown());
    }
    let mut tx = state.db.begin_write().await?;
    let marked = messages::mark_seen(&mut tx, &auth.user_id, &id, now_ms()).await?;
    tx.commit().await?;
    if marked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown())
    }
}
