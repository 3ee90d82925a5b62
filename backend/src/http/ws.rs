//! `GET /api/v1/lobbies/{code}/ws`: the room's live channel (presence,
//! avatar positions, chat, trade events).
//!
//! Authentication without a token in the URL (URLs end up in logs):
//! `Authorization: Bearer <access token>` where the client can set headers
//! (the Godot client can), else the WebSocket subprotocol list
//! `Sec-WebSocket-Protocol: cots.v1, bearer.<access token>`; the server
//! answers with `cots.v1`. Only members of the room may connect.
//!
//! After the upgrade the server sends a `snapshot`, then every event of the
//! room (trade events only to the two parties). Clients send `position` and
//! `chat`; chat is sanitised and rate limited, positions are clamped to the
//! floor and thinned to 20 a second. A socket whose member leaves the room
//! is closed.
//!
//! A socket lives no longer than its session: when the session ends (log
//! out, log out everywhere, a revoked device, a password change or reset)
//! or the account is deleted, the lobby bus tells every replica and the
//! socket is closed with `1008` and the reason (`session_revoked`,
//! `account_deleted`). It also closes (`1008 token_expired`) when the access
//! token it was opened with expires, unless the client sends a fresh token
//! of the same player first: `{"type":"auth","token":"..."}`.
//!
//! Presence (see `economy::presence`): an open socket marks its member
//! present every third of the grace period; the room hears `presence`
//! `connected` when it opens and `reconnecting` when it closes while its
//! member is still in the room.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use axum::response::Response;
use game::api::ws::{
    BEARER_PROTOCOL_PREFIX, CLOSE_GOING_AWAY, CLOSE_NORMAL, CLOSE_POLICY, MAX_FRAME_BYTES,
    POSITION_INTERVAL, PROTOCOL,
};
use game::api::{LobbyClientMessage, LobbyServerEvent, codes};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::AppState;
use super::error::{Error, ErrorBody, Result};
use super::extract::MAX_ACCESS_TOKEN_LEN;
use crate::accounts;
use crate::clock::{now_ms, rfc3339};
use crate::economy::bus::BusEvent;
use crate::economy::lobbies::{self, lobby_code, sanitise_chat};
use crate::economy::presence;
/// Ping period; a client that stays silent for three of them is dropped.
const PING_EVERY: Duration = Duration::from_secs(20);
/// Messages that break the rules (malformed, over a limit) before the
/// socket is closed.
const MAX_STRIKES: u32 = 20;

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(lobby_socket))
}

/// The access token from `Authorization` or the subprotocol list.
fn token_from(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .find_map(|entry| entry.strip_prefix(BEARER_PROTOCOL_PREFIX))
        .map(str::to_owned)
}

/// Who a socket speaks for, and until when.
struct Identity {
    user_id: String,
    session_id: String,
    username: String,
    /// When the access token expires (Unix seconds).
    expires_at: i64,
}

/// The same checks as [`AuthUser`](super::extract::AuthUser): a valid
/// access token of a live session.
async fn identify(state: &AppState, token: &str) -> accounts::Result<Identity> {
    let (caller, expires_at) = state.accounts.authenticate_until(token).await?;
    let username = state.accounts.username(&caller.user_id).await?;
    Ok(Identity {
        user_id: caller.user_id,
        session_id: caller.session_id,
        username,
        expires_at,
    })
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Identity> {
    let token = token_from(headers)
        .filter(|token| !token.is_empty() && token.len() <= MAX_ACCESS_TOKEN_LEN)
        .ok_or_else(|| {
            Error::unauthorized(
                codes::MISSING_TOKEN,
                "send `Authorization: Bearer <token>` or the subprotocol `bearer.<token>`",
            )
        })?;
    Ok(identify(state, &token).await?)
}

/// The instant an access token expiring at `expires_at` (Unix seconds)
/// stops being good on this socket.
fn deadline(expires_at: i64) -> Instant {
    let left_ms = expires_at.saturating_mul(1000).saturating_sub(now_ms());
    Instant::now() + Duration::from_millis(u64::try_from(left_ms).unwrap_or(0))
}

/// Open the room's live channel (WebSocket upgrade).
#[utoipa::path(
    get, path = "/api/v1/lobbies/{code}/ws", tag = "lobbies", security(("bearer" = [])),
    params(("code" = String, Path, description = "6-character room code")),
    responses(
        (status = 101, description = "switching to the WebSocket protocol: JSON text frames `{\"type\":...}`"),
        (status = 400, description = "`bad_request`: not a WebSocket upgrade request (plain GET, missing `Sec-WebSocket-Key`...)", body = ErrorBody),
        (status = 405, description = "`method_not_allowed`: the upgrade needs GET over HTTP/1.1", body = ErrorBody),
        (status = 426, description = "`error`: the connection cannot be upgraded", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`not_a_member`", body = ErrorBody),
        (status = 404, description = "`unknown_lobby`", body = ErrorBody),
        (status = 429, description = "`rate_limited` (sockets opened per player; `Retry-After`)", body = ErrorBody),
    )
)]
async fn lobby_socket(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    slot: Option<axum::Extension<super::middleware::ConnectionSlot>>,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    let identity = authenticate(&state, &headers).await?;
    let code = lobby_code(state.economy.catalog, &code)?;
    lobbies::check_member(&state.db, &code, &identity.user_id).await?;
    state
        .economy
        .socket_limiter
        .check_or_refuse(&identity.user_id, "lobby sockets opened")
        .await?;
    Ok(upgrade
        .protocols([PROTOCOL])
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            // The socket keeps its connection's slot (HTTP_MAX_CONNECTIONS).
            let _slot = slot;
            let (user_id, username) = (identity.user_id.clone(), identity.username.clone());
            let member = Member {
                identity,
                code: code.clone(),
            };
            if let Err(error) = serve(state.clone(), member, socket).await {
                tracing::debug!(error = %error, "lobby socket ended with an error");
            }
            // Still in the room (it did not leave): the grace period starts.
            let publisher = state.economy.bus.publisher();
            if let Err(error) =
                presence::socket_closed(&state.db, publisher, &code, &user_id, &username).await
            {
                tracing::warn!(error = %error, "presence after a socket closed not recorded");
            }
        }))
}

struct Member {
    identity: Identity,
    code: String,
}

fn event_text(event: &LobbyServerEvent) -> anyhow::Result<Message> {
    Ok(Message::Text(Utf8Bytes::from(serde_json::to_string(
        event,
    )?)))
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
}

async fn serve(state: AppState, mut member: Member, mut socket: WebSocket) -> anyhow::Result<()> {
    // Subscribe before reading the snapshot, so nothing falls in between.
    let mut events = state.economy.bus.subscribe();
    // Checked again now that nothing can be missed: the session may have
    // ended, or the member left, between the upgrade and the subscription.
    if !state
        .accounts
        .session_is_live(&member.identity.user_id, &member.identity.session_id)
        .await?
    {
        close(&mut socket, CLOSE_POLICY, codes::SESSION_REVOKED).await;
        return Ok(());
    }
    if let Err(error) =
        lobbies::check_member(&state.db, &member.code, &member.identity.user_id).await
    {
        close(&mut socket, CLOSE_POLICY, error.code()).await;
        return Ok(());
    }
    let snapshot = lobbies::snapshot(&state.db, &member.code).await?;
    let Some(snapshot) = snapshot else {
        close(&mut socket, CLOSE_POLICY, codes::UNKNOWN_LOBBY).await;
        return Ok(());
    };
    socket
        .send(event_text(&LobbyServerEvent::Snapshot { lobby: snapshot })?)
        .await?;
    let me = &member.identity;
    presence::socket_opened(
        &state.db,
        state.economy.bus.publisher(),
        &member.code,
        &me.user_id,
        &me.username,
    )
    .await?;

    let floor = (
        state.economy.catalog.lobby().floor_width,
        state.economy.catalog.lobby().floor_height,
    );
    let publisher = state.economy.bus.publisher().clone();
    let mut last_position = Instant::now() - POSITION_INTERVAL;
    let mut strikes = 0u32;
    let mut last_heard = Instant::now();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut beat = tokio::time::interval(presence::beat_interval(state.economy.presence_grace));
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    beat.tick().await;
    let expiry = tokio::time::sleep_until(deadline(member.identity.expires_at));
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { return Ok(()) };
                last_heard = Instant::now();
                let text = match message {
                    Message::Text(text) => text,
                    Message::Close(_) => return Ok(()),
                    Message::Ping(_) | Message::Pong(_) => continue,
                    Message::Binary(_) => {
                        strikes += 1;
                        continue;
                    }
                };
                let refused = match serde_json::from_str::<LobbyClientMessage>(text.as_str()) {
                    Ok(LobbyClientMessage::Position { x, y }) => {
                        if !(x.is_finite() && y.is_finite()) {
                            Some((codes::INVALID_MESSAGE, "a position must be two finite numbers"))
                        } else if last_position.elapsed() >= POSITION_INTERVAL {
                            last_position = Instant::now();
                            let event = LobbyServerEvent::Position {
                                username: member.identity.username.clone(),
                                x: x.clamp(0.0, floor.0),
                                y: y.clamp(0.0, floor.1),
                            };
                            publisher.publish(&member.code, event).await;
                            None
                        } else {
                            // Faster than the relay rate: the next one will do.
                            None
                        }
                    }
                    Ok(LobbyClientMessage::Chat { text }) => {
                        match sanitise_chat(&text) {
                            None => Some((codes::INVALID_CHAT, "the line has nothing to say")),
                            Some(text) => match state.economy.chat_limiter.check(&member.identity.user_id).await.is_allowed() {
                                false => Some((
                                    codes::CHAT_RATE_LIMITED,
                                    "too many lines; wait a moment before the next",
                                )),
                                true => {
                                    let event = LobbyServerEvent::Chat {
                                        username: member.identity.username.clone(),
                                        text,
                                        at: rfc3339(now_ms()),
                                    };
                                    publisher.publish(&member.code, event).await;
                                    None
                                }
                            },
                        }
                    }
                    Ok(LobbyClientMessage::Auth { token }) => {
                        if token.is_empty() || token.len() > MAX_ACCESS_TOKEN_LEN {
                            close(&mut socket, CLOSE_POLICY, codes::INVALID_TOKEN).await;
                            return Ok(());
                        }
                        match identify(&state, &token).await {
                            Ok(fresh) if fresh.user_id == member.identity.user_id => {
                                expiry.as_mut().reset(deadline(fresh.expires_at));
                                member.identity = fresh;
                                None
                            }
                            Ok(_) => {
                                // Another player's token: this socket is not theirs.
                                close(&mut socket, CLOSE_POLICY, codes::INVALID_TOKEN).await;
                                return Ok(());
                            }
                            Err(accounts::Error::Database(error)) => return Err(error.into()),
                            Err(accounts::Error::Internal(error)) => return Err(error),
                            Err(error) => {
                                close(&mut socket, CLOSE_POLICY, error.code()).await;
                                return Ok(());
                            }
                        }
                    }
                    Err(_) => Some((codes::INVALID_MESSAGE, "not a lobby client message")),
                };
                if let Some((code, message)) = refused {
                    strikes += 1;
                    let event = LobbyServerEvent::Refused {
                        code: code.to_owned(),
                        message: message.to_owned(),
                    };
                    socket.send(event_text(&event)?).await?;
                }
                if strikes > MAX_STRIKES {
                    close(&mut socket, CLOSE_POLICY, codes::RATE_LIMITED).await;
                    return Ok(());
                }
            }
            event = events.recv() => {
                let event = match event {
                    Ok(event) => event,
                    // A slow socket skips what it missed; the REST endpoints
                    // have the state. A missed session event is caught up
                    // by asking the database.
                    Err(RecvError::Lagged(_)) => {
                        let me = &member.identity;
                        if !state.accounts.session_is_live(&me.user_id, &me.session_id).await? {
                            close(&mut socket, CLOSE_POLICY, codes::SESSION_REVOKED).await;
                            return Ok(());
                        }
                        continue;
                    }
                    Err(RecvError::Closed) => return Ok(()),
                };
                let envelope = match &*event {
                    BusEvent::SessionEnded(ended) => {
                        let me = &member.identity;
                        if ended.ends(&me.user_id, &me.session_id) {
                            let reason = match ended.reason.as_str() {
                                codes::ACCOUNT_DELETED => codes::ACCOUNT_DELETED,
                                codes::ACCOUNT_SUSPENDED => codes::ACCOUNT_SUSPENDED,
                                _ => codes::SESSION_REVOKED,
                            };
                            close(&mut socket, CLOSE_POLICY, reason).await;
                            return Ok(());
                        }
                        continue;
                    }
                    BusEvent::Lobby(envelope) => envelope,
                };
                if envelope.lobby != member.code {
                    continue;
                }
                let me = &member.identity;
                match &envelope.event {
                    LobbyServerEvent::Trade { trade }
                        if trade.from != me.username && trade.to != me.username => continue,
                    // A member knows whether their own link is up.
                    LobbyServerEvent::Presence { username, .. } if *username == me.username => continue,
                    LobbyServerEvent::MemberLeft { username }
                        if envelope.user_id.as_deref().map_or(*username == me.username, |id| id == me.user_id) =>
                    {
                        let _ = socket.send(event_text(&envelope.event)?).await;
                        close(&mut socket, CLOSE_NORMAL, "left the lobby").await;
                        return Ok(());
                    }
                    _ => {}
                }
                socket.send(event_text(&envelope.event)?).await?;
            }
            () = &mut expiry => {
                close(&mut socket, CLOSE_POLICY, codes::TOKEN_EXPIRED).await;
                return Ok(());
            }
            _ = beat.tick() => {
                presence::mark(&state.db, &member.code, &member.identity.user_id).await?;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > PING_EVERY * 3 {
                    close(&mut socket, CLOSE_GOING_AWAY, "idle").await;
                    return Ok(());
                }
                socket.send(Message::Ping(Default::default())).await?;
            }
        }
    }
}
