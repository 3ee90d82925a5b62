//! Station AI messages: `GET /api/v1/messages` (unlocked ones, with seen
//! flags) and `POST /api/v1/messages/{id}/seen`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use game::api::MessagesResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ErrorBody, Result};
use super::extract::AuthUser;
use crate::economy::messages;

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
    let messages = messages::list(&state.db, state.economy.catalog, &auth.user_id).await?;
    Ok(Json(messages))
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
    messages::mark_seen(&state.db, state.economy.catalog, &auth.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
