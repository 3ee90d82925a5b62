//! Trading lobbies: `POST /api/v1/lobbies` (create, the creator joins),
//! `POST /api/v1/lobbies/{code}/join`, `/leave`, `GET /api/v1/lobbies/{code}`.
//! Rooms and members live in the database; the room's WebSockets hear about
//! joins and leaves through the lobby bus.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use game::api::{LobbyServerEvent, codes};
use game::milestones::MilestoneEvent;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Error, ErrorBody, Result};
use crate::auth::AuthUser;
use crate::clock::{now_ms, rfc3339};
use crate::db::{self, Conn, ledger::Reason, lobbies, trades as trade_rows};
use crate::economy::account::{self, Cause};
use crate::economy::idempotency::{Begin, Idempotency};
use crate::economy::lobbies::{new_code, normalise_code, view};
use crate::economy::milestones::{self, Happened};
use crate::economy::trades;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_lobby))
        .routes(routes!(get_lobby))
        .routes(routes!(join_lobby))
        .routes(routes!(leave_lobby))
}

pub fn unknown_lobby() -> Error {
    Error::not_found(codes::UNKNOWN_LOBBY, "no lobby with this code")
}

pub fn not_a_member() -> Error {
    Error::forbidden(codes::NOT_A_MEMBER, "not a member of this lobby")
}

/// The code as stored, or 404 for anything that cannot be a code.
pub fn lobby_code(state: &AppState, code: &str) -> Result<String> {
    normalise_code(state.economy.catalog, code).ok_or_else(unknown_lobby)
}

/// Adds the caller to the room, counting the join in their stats (and its
/// milestone). The caller's player row is locked after the lobby's.
async fn add_member(
    conn: &mut Conn,
    state: &AppState,
    code: &str,
    user_id: &str,
    now: i64,
) -> Result<()> {
    let catalog = state.economy.catalog;
    let player = account::lock(conn, state.db.dialect(), catalog, user_id, now).await?;
    lobbies::add_member(conn, code, user_id, now).await?;
    let mut next = player.state.clone();
    next.stats.lobbies_joined += 1;
    let entry_id = db::new_id();
    // A stats-only change: no balance moves, so no ledger row is written.
    account::save(
        conn,
        &player,
        &next,
        Cause {
            reason: Reason::Trade,
            reference: Some(code),
            entry_id: &entry_id,
        },
        now,
    )
    .await?;
    milestones::record(
        conn,
        catalog,
        user_id,
        Happened {
            event: MilestoneEvent::LobbyJoined,
            before: &player.state,
            after: &next,
            run_id: None,
        },
        now,
    )
    .await?;
    Ok(())
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

async fn username_of(conn: &mut Conn, user_id: &str) -> Result<String> {
    Ok(db::users::find_by_id(conn, user_id)
        .await?
        .ok_or_else(|| Error::unauthorized("session_revoked", "this account no longer exists"))?
        .username)
}

/// Create a room; the creator is its first member.
#[utoipa::path(
    post, path = "/api/v1/lobbies", tag = "lobbies", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1-64 printable characters; a replay returns the first answer")),
    responses(
        (status = 201, description = "`{code, capacity, members:[{username, joined_at}]}`", body = Object),
        (status = 401, body = ErrorBody),
    )
)]
async fn create_lobby(
    State(state): State<AppState>,
    auth: AuthUser,
    idempotency: Idempotency,
) -> Result<Response> {
    let catalog = state.economy.catalog;
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let request = match idempotency
        .begin(&mut tx, &auth.user_id, None::<&()>, now)
        .await?
    {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(request) => request,
    };
    // 32^6 codes: a collision is rare; checked before inserting because a
    // failed INSERT would abort the whole PostgreSQL transaction.
    let mut code = new_code(catalog)?;
    let mut attempts = 1;
    while lobbies::exists(&mut tx, &code).await? {
        attempts += 1;
        if attempts > 10 {
            return Err(anyhow::anyhow!("no free lobby code after 10 attempts").into());
        }
        code = new_code(catalog)?;
    }
    let capacity = i64::from(catalog.lobby().capacity);
    lobbies::insert(&mut tx, &code, capacity, &auth.user_id, now).await?;
    add_member(&mut tx, &state, &code, &auth.user_id, now).await?;
    let lobby = view(&mut tx, &code, capacity).await?;
    let response = request
        .finish(&mut tx, StatusCode::CREATED, Some(&lobby))
        .await?;
    tx.commit().await?;
    if let Some(me) = lobby.members.first() {
        publish_joined(&state, &code, &me.username, now).await;
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
    let code = lobby_code(&state, &code)?;
    let mut tx = state.db.begin_read().await?;
    let lobby = lobbies::find(&mut tx, &code, None)
        .await?
        .ok_or_else(unknown_lobby)?;
    let lobby = view(&mut tx, &lobby.code, lobby.capacity).await?;
    tx.commit().await?;
    Ok(Json(lobby))
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
    let code = lobby_code(&state, &code)?;
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let request = match idempotency
        .begin(&mut tx, &auth.user_id, None::<&()>, now)
        .await?
    {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(request) => request,
    };
    // Locked: two joins racing for the last place run one after the other.
    let lobby = lobbies::find(&mut tx, &code, Some(state.db.dialect()))
        .await?
        .ok_or_else(unknown_lobby)?;
    let joined = if lobbies::is_member(&mut tx, &code, &auth.user_id).await? {
        false
    } else {
        let members = lobbies::members(&mut tx, &code).await?.len();
        if i64::try_from(members).unwrap_or(i64::MAX) >= lobby.capacity {
            return Err(Error::conflict(codes::LOBBY_FULL, "this lobby is full"));
        }
        add_member(&mut tx, &state, &code, &auth.user_id, now).await?;
        true
    };
    let view = view(&mut tx, &code, lobby.capacity).await?;
    let username = username_of(&mut tx, &auth.user_id).await?;
    let response = request.finish(&mut tx, StatusCode::OK, Some(&view)).await?;
    tx.commit().await?;
    if joined {
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
    let code = lobby_code(&state, &code)?;
    let now = now_ms();
    let mut tx = state.db.begin_write().await?;
    let request = match idempotency
        .begin(&mut tx, &auth.user_id, None::<&()>, now)
        .await?
    {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(request) => request,
    };
    lobbies::find(&mut tx, &code, Some(state.db.dialect()))
        .await?
        .ok_or_else(unknown_lobby)?;
    if !lobbies::remove_member(&mut tx, &code, &auth.user_id).await? {
        return Err(not_a_member());
    }
    let cancelled = trade_rows::cancel_for_member(&mut tx, &code, &auth.user_id, now).await?;
    let cancelled = trades::views(&mut tx, &cancelled, now).await?;
    let username = username_of(&mut tx, &auth.user_id).await?;
    let response = request
        .finish(&mut tx, StatusCode::NO_CONTENT, None::<&()>)
        .await?;
    tx.commit().await?;
    let publisher = state.economy.bus.publisher();
    for trade in cancelled {
        publisher.trade(trade).await;
    }
    publisher
        .publish(&code, LobbyServerEvent::MemberLeft { username })
        .await;
    Ok(response)
}
