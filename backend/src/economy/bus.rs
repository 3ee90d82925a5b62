//! Lobby events (presence, positions, chat, trades) from whoever causes
//! them to every WebSocket of the room, on any replica.
//!
//! - SQLite (one process): an in-process broadcast channel.
//! - PostgreSQL: `pg_notify` on [`CHANNEL`]; every replica keeps one
//!   `LISTEN` connection and forwards what arrives to its own broadcast
//!   channel, including its own events, so there is one delivery path and
//!   nothing is delivered twice. A notification sent inside a transaction is
//!   delivered at commit, never for a rolled-back change.
//!
//! Events are ephemeral (a client that was offline reads the state through
//! the REST endpoints); losing one while a listener reconnects is
//! acceptable, losing an economic fact is not, and none lives here.
//!
//! Besides room events the bus carries [`SessionEnded`]: a session (or every
//! session of an account) ended, so every replica closes the sockets opened
//! with it at once (PostgreSQL: on [`SESSION_CHANNEL`], the same `LISTEN`
//! connection).
//!
//! The background listener ends when the last handle of the bus is dropped.

use std::sync::Arc;
use std::time::Duration;

use game::api::{LobbyServerEvent, Trade};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::tasks::TaskGuard;
use crate::config::DatabaseConfig;
use crate::db::{Db, Dialect};

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "cots_lobby_events";
/// The PostgreSQL channel of [`SessionEnded`] events.
pub const SESSION_CHANNEL: &str = "cots_session_events";
/// PostgreSQL refuses payloads of 8000 bytes or more.
const MAX_NOTIFY_PAYLOAD: usize = 7900;
/// Events a slow socket may fall behind before it skips some.
const LOCAL_BUFFER: usize = 1024;

/// One event for one room, as it travels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub lobby: String,
    pub event: LobbyServerEvent,
    /// The user the event is about, by id (`member_left`: the member whose
    /// own sockets close). Usernames change; ids do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// Sessions of one account ended: sockets opened with them close with
/// `1008` and `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEnded {
    pub user_id: String,
    /// Only this session (a logout, a revoked device); None: every session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Every session but this one (a password change keeps the caller's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except: Option<String>,
    /// A `game::api::codes` value (`session_revoked`, `account_deleted`).
    pub reason: String,
}

impl SessionEnded {
    /// Does this end the session `session_id` of `user_id`?
    pub fn ends(&self, user_id: &str, session_id: &str) -> bool {
        self.user_id == user_id
            && self
                .session_id
                .as_deref()
                .is_none_or(|only| only == session_id)
            && self.except.as_deref() != Some(session_id)
    }
}

/// What travels on the bus.
#[derive(Debug, Clone)]
pub enum BusEvent {
    Lobby(Box<Envelope>),
    SessionEnded(SessionEnded),
}

/// Sends events; cheap to clone (background tasks hold one).
#[derive(Clone)]
pub struct Publisher {
    local: broadcast::Sender<Arc<BusEvent>>,
    /// Set on PostgreSQL: events go through NOTIFY.
    db: Option<Db>,
}

impl Publisher {
    /// Publishes after the change it reports has committed. Failures are
    /// logged, not returned: the change itself already happened.
    pub async fn publish(&self, lobby: &str, event: LobbyServerEvent) {
        self.send_envelope(Envelope {
            lobby: lobby.to_owned(),
            event,
            user_id: None,
        })
        .await;
    }

    /// `member_left` for the member `user_id`: the room hears it, and that
    /// member's own sockets in the room close.
    pub async fn member_left(&self, lobby: &str, user_id: &str, username: String) {
        self.send_envelope(Envelope {
            lobby: lobby.to_owned(),
            event: LobbyServerEvent::MemberLeft { username },
            user_id: Some(user_id.to_owned()),
        })
        .await;
    }

    /// Sessions ended: every replica closes the sockets opened with them.
    pub async fn session_ended(&self, ended: SessionEnded) {
        if let Some(db) = &self.db {
            match serde_json::to_string(&ended) {
                Ok(payload) => match db.notify(SESSION_CHANNEL, &payload).await {
                    Ok(_) => return,
                    Err(error) => {
                        tracing::warn!(%error, "pg_notify failed: ending local sockets only");
                    }
                },
                Err(error) => {
                    tracing::error!(%error, "session event does not serialise");
                    return;
                }
            }
        }
        let _ = self.local.send(Arc::new(BusEvent::SessionEnded(ended)));
    }

    async fn send_envelope(&self, envelope: Envelope) {
        let lobby = envelope.lobby.as_str();
        if let Some(db) = &self.db {
            match serde_json::to_string(&envelope) {
                Ok(payload) if payload.len() <= MAX_NOTIFY_PAYLOAD => {
                    match db.notify(CHANNEL, &payload).await {
                        Ok(_) => return,
                        Err(error) => {
                            tracing::warn!(%error, lobby, "pg_notify failed: delivering locally only");
                        }
                    }
                }
                Ok(payload) => {
                    tracing::warn!(
                        bytes = payload.len(),
                        lobby,
                        "lobby event too large for NOTIFY: delivering locally only"
                    );
                }
                Err(error) => {
                    tracing::error!(%error, "lobby event does not serialise");
                    return;
                }
            }
        }
        // No receivers is fine: nobody is connected to any room.
        let _ = self
            .local
            .send(Arc::new(BusEvent::Lobby(Box::new(envelope))));
    }

    /// Publishes a trade's new state to its room.
    pub async fn trade(&self, trade: Trade) {
        let lobby = trade.lobby.clone();
        self.publish(&lobby, LobbyServerEvent::Trade { trade })
            .await;
    }
}

/// The bus of one replica.
#[derive(Clone)]
pub struct LobbyBus {
    publisher: Publisher,
    _tasks: Arc<TaskGuard>,
}

impl LobbyBus {
    /// Starts the bus. On PostgreSQL the `LISTEN` is established before this
    /// returns, so the replica hears every event published after it serves.
    pub async fn start(db: &Db, config: &DatabaseConfig) -> anyhow::Result<Self> {
        let (local, _) = broadcast::channel(LOCAL_BUFFER);
        let mut tasks = Vec::new();
        let publisher = match db.dialect() {
            Dialect::Sqlite => Publisher { local, db: None },
            Dialect::Postgres => {
                let mut listener = crate::db::listen(config, CHANNEL).await?;
                listener.listen(SESSION_CHANNEL).await?;
                let forward = local.clone();
                tasks.push(tokio::spawn(listen(listener, forward)).abort_handle());
                Publisher {
                    local,
                    db: Some(db.clone()),
                }
            }
        };
        Ok(Self {
            publisher,
            _tasks: Arc::new(TaskGuard::new(tasks)),
        })
    }

    pub fn publisher(&self) -> &Publisher {
        &self.publisher
    }

    /// Every event of every room, and every ended session, from now on
    /// (filter by `lobby` and user).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BusEvent>> {
        self.publisher.local.subscribe()
    }
}

async fn listen(mut listener: crate::db::Listener, forward: broadcast::Sender<Arc<BusEvent>>) {
    loop {
        match listener.recv().await {
            Ok(notification) => {
                let event = if notification.channel() == SESSION_CHANNEL {
                    serde_json::from_str::<SessionEnded>(notification.payload())
                        .map(BusEvent::SessionEnded)
                } else {
                    serde_json::from_str::<Envelope>(notification.payload())
                        .map(|e| BusEvent::Lobby(Box::new(e)))
                };
                match event {
                    Ok(event) => {
                        let _ = forward.send(Arc::new(event));
                    }
                    Err(error) => tracing::warn!(%error, "malformed bus notification ignored"),
                }
            }
            Err(error) => {
                // recv() reconnects by itself; this is a failed attempt.
                tracing::warn!(%error, "lobby event listener lost its connection; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_event_names_the_sessions_it_ends() {
        let all = SessionEnded {
            user_id: "u".into(),
            session_id: None,
            except: None,
            reason: "session_revoked".into(),
        };
        assert!(all.ends("u", "s1") && all.ends("u", "s2"));
        assert!(!all.ends("v", "s1"));
        let one = SessionEnded {
            session_id: Some("s1".into()),
            ..all.clone()
        };
        assert!(one.ends("u", "s1") && !one.ends("u", "s2"));
        let but = SessionEnded {
            except: Some("s1".into()),
            ..all
        };
        assert!(!but.ends("u", "s1") && but.ends("u", "s2"));
    }
}
