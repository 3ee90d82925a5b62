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
/// PostgreSQL refuses payloads of 8000 bytes or more.
const MAX_NOTIFY_PAYLOAD: usize = 7900;
/// Events a slow socket may fall behind before it skips some.
const LOCAL_BUFFER: usize = 1024;

/// One event for one room, as it travels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub lobby: String,
    pub event: LobbyServerEvent,
    /// A moderation notice (`AccountSuspended`): the sockets of this
    /// username in the room close with 1008 `account_suspended`; everyone
    /// else receives `event` (their `member_left`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_username: Option<String>,
}

/// Sends events; cheap to clone (background tasks hold one).
#[derive(Clone)]
pub struct Publisher {
    local: broadcast::Sender<Arc<Envelope>>,
    /// Set on PostgreSQL: events go through NOTIFY.
    db: Option<Db>,
}

impl Publisher {
    /// Publishes after the change it reports has committed. Failures are
    /// logged, not returned: the change itself already happened.
    pub async fn publish(&self, lobby: &str, event: LobbyServerEvent) {
        self.send(Envelope {
            lobby: lobby.to_owned(),
            event,
            close_username: None,
        })
        .await;
    }

    /// `AccountSuspended`: the suspended member left `lobby` (their
    /// membership is already deleted); every replica closes their sockets
    /// there with 1008 `account_suspended` and tells the others.
    pub async fn account_suspended(&self, lobby: &str, username: &str) {
        self.send(Envelope {
            lobby: lobby.to_owned(),
            event: LobbyServerEvent::MemberLeft {
                username: username.to_owned(),
            },
            close_username: Some(username.to_owned()),
        })
        .await;
    }

    async fn send(&self, envelope: Envelope) {
        let lobby = envelope.lobby.clone();
        let lobby = lobby.as_str();
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
        let _ = self.local.send(Arc::new(envelope));
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
                let listener = crate::db::listen(config, CHANNEL).await?;
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

    /// Every event of every room from now on (filter by `lobby`).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Envelope>> {
        self.publisher.local.subscribe()
    }
}

async fn listen(mut listener: crate::db::Listener, forward: broadcast::Sender<Arc<Envelope>>) {
    loop {
        match listener.recv().await {
            Ok(notification) => match serde_json::from_str::<Envelope>(notification.payload()) {
                Ok(envelope) => {
                    let _ = forward.send(Arc::new(envelope));
                }
                Err(error) => tracing::warn!(%error, "malformed lobby notification ignored"),
            },
            Err(error) => {
                // recv() reconnects by itself; this is a failed attempt.
                tracing::warn!(%error, "lobby event listener lost its connection; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
