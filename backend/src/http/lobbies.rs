//! Trading lobbies: `POST /api/v1/lobbies` (create, the creator joins),
//! `POST /api/v1/lobbies/{code}/join`, `/leave`, `GET /api/v1/lobbies/{code}`.
//! Rooms and members live in the database; the room's WebSockets hear about
//! joins and leaves through the lobby bus.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use game::api::LobbyServerEvent;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ErrorBody, Result};
use super::extract::{AuthUser, Idempotency};
use super::unit_of_work::{Answer, unit_of_work};
use crate::clock::rfc3339;
use crate::economy::lobbies::{self, lobby_code};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_lobby))
        .routes(routes!(get_lobby))
        .routes(routes!(join_lobby))
        .routes(routes!(leave_lobby))
}

async fn publish_joined(state: &AppState, code: &str, username: &str, now: i64) {
    state
        .economy
        .bus
        .publisher()
        .publish(
            code,
            LobbyServerEvent::MemberJoined {
                username: username.to_owned(),
                joined_at: rfc3339(now),
            },
        )
        .await;
}

/// Create a room; the creator is its first member.
#[utoipa::path(
    post, path = "/api/v1/lobbies", tag = "lobbies", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer")),
    responses(
        (status = 201, description = "`{code, capacity, members:[{username, joined_at}]}`", body = Object),
        (status = 401, body = ErrorBody),
        (status = 429, description = "`rate_limited` (lobbies opened per player; `Retry-After`)", body = ErrorBody),
    )
)]
async fn create_lobby(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
) -> Result<Response> {
    let (catalog, dialect) = (state.economy.catalog, state.db.dialect());
    let (response, after) =
        unit_of_work(&state, &auth, &idempotency, None::<&()>, async |tx, now| {
            state
                .economy
                .lobby_limiter
                .check_or_refuse(&auth.user_id, "lobbies opened")
                .await?;
            let lobby = lobbies::create(tx, dialect, catalog, &auth.user_id, now).await?;
            let first = lobby.members.first().map(|me| me.username.clone());
            let code = lobby.code.clone();
            Ok(Answer::new(StatusCode::CREATED, lobby).then((code, first, now)))
        })
        .await?;
    if let Some((code, Some(me), now)) = after {
        publish_joined(&state, &code, &me, now).await;
    }
    Ok(response)
}

/// The room and its members.
#[utoipa::path(
    get, path = "/api/v1/lobbies/{code}", tag = "lobbies", security(("bearer" = [])),
    params(("code" = String, Path, description = "6-character room code")),
    responses(
        (status = 200, description = "`{code, capacity, members}`", body = Object),
        (status = 404, description = "`unknown_lobby`", body = ErrorBody),
    )
)]
async fn get_lobby(
    State(state): State<AppState>,
    _auth: AuthUser,
    Path(code): Path<String>,
) -> Result<Json<game::api::Lobby>> {
    let code = lobby_code(state.economy.catalog, &code)?;
    Ok(Json(lobbies::get(&state.db, &code).await?))
}

/// Join a room by code (joining a room one is in changes nothing).
#[utoipa::path(
    post, path = "/api/v1/lobbies/{code}/join", tag = "lobbies", security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "6-character room code"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer"),
    ),
    responses(
        (status = 200, description = "the lobby", body = Object),
        (status = 404, description = "`unknown_lobby`", body = ErrorBody),
        (status = 409, description = "`lobby_full`", body = ErrorBody),
    )
)]
async fn join_lobby(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(code): Path<String>,
) -> Result<Response> {
    let (catalog, dialect) = (state.economy.catalog, state.db.dialect());
    let code = lobby_code(catalog, &code)?;
    let (response, after) =
        unit_of_work(&state, &auth, &idempotency, None::<&()>, async |tx, now| {
            let (lobby, joined) =
                lobbies::join(tx, dialect, catalog, &code, &auth.user_id, now).await?;
            Ok(Answer::new(StatusCode::OK, lobby).then((joined, now)))
        })
        .await?;
    if let Some((Some(username), now)) = after {
        publish_joined(&state, &code, &username, now).await;
    }
    Ok(response)
}

/// Leave a room. The leaver's pending trades there are cancelled.
#[utoipa::path(
    post, path = "/api/v1/lobbies/{code}/leave", tag = "lobbies", security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "6-character room code"),
        ("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer"),
    ),
    responses(
        (status = 204, description = "left"),
        (status = 403, description = "`not_a_member`", body = ErrorBody),
        (status = 404, description = "`unknown_lobby`", body = ErrorBody),
    )
)]
async fn leave_lobby(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
    Path(code): Path<String>,
) -> Result<Response> {
    let dialect = state.db.dialect();
    let code = lobby_code(state.economy.catalog, &code)?;
    let (response, after) =
        unit_of_work(&state, &auth, &idempotency, None::<&()>, async |tx, now| {
            let left = lobbies::leave(tx, dialect, &code, &auth.user_id, now).await?;
            Ok(Answer {
                status: StatusCode::NO_CONTENT,
                body: None::<()>,
                after: left,
            })
        })
        .await?;
    if let Some((cancelled, username)) = after {
        let publisher = state.economy.bus.publisher();
        for trade in cancelled {
            publisher.trade(trade).await;
        }
        publisher.member_left(&code, &auth.user_id, username).await;
    }
    Ok(response)
}
