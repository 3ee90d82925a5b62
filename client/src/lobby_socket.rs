//! The trading lobby's WebSocket client: plain Rust on the shared tokio
//! runtime, no Godot types.
//!
//! [`LobbySocket::open`] spawns one task per room. It authenticates with
//! `Authorization: Bearer` (the token comes from the [`NetCore`] that the
//! HTTP calls use, so it is refreshed the same way) and offers the
//! subprotocol `cots.v1` ([`game::api::ws`] holds the protocol, its limits
//! and close codes). Server events arrive on a std channel that the
//! owning node polls on the main thread; messages to send go the other way
//! over a tokio channel. A lost connection is retried with exponential
//! backoff, jittered (each wait is 0.5x to 1.5x its step, at random) so the
//! sockets a restarted server lost do not all come back at once; a refusal that cannot heal (not a member, unknown room, session
//! over, the member left) ends the task with [`SocketEvent::Closed`].
//! [`LobbySocket::close`] (also on drop) sends a normal close frame and ends
//! the task; what is still running at engine exit is stopped with the
//! runtime. The token never appears in an event or a log line.
//!
//! The server closes a socket when the access token it was opened with
//! expires (`1008 token_expired`): while connected, the task asks the
//! [`NetCore`] for its token every [`REAUTH_CHECK`] (which refreshes it
//! shortly before it expires, as for an HTTP call) and, when it changed,
//! sends it on the socket (`{"type":"auth","token":...}`).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use game::api::{ErrorBody, LobbyClientMessage, LobbyServerEvent, codes, ws};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::net::NetCore;

/// How often a connected socket checks whether its access token was
/// refreshed (and then re-authenticates on the socket).
pub const REAUTH_CHECK: Duration = Duration::from_secs(10);

/// Reconnection and timeout tuning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SocketConfig {
    /// First wait after a lost connection.
    pub backoff_initial: Duration,
    /// Longest wait between two attempts.
    pub backoff_max: Duration,
    /// Longest wait for the upgrade handshake.
    pub connect_timeout: Duration,
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig {
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl SocketConfig {
    /// Wait before attempt number `attempt` (0-based) after a loss: doubling
    /// from `backoff_initial`, capped at `backoff_max`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(16));
        self.backoff_initial
            .saturating_mul(factor)
            .min(self.backoff_max)
    }

    /// [`Self::backoff`] spread by `unit` (in `0.0..1.0`, drawn at random
    /// for each wait): from half the step to one and a half times it.
    pub fn jittered_backoff(&self, attempt: u32, unit: f64) -> Duration {
        self.backoff(attempt).mul_f64(0.5 + unit.clamp(0.0, 1.0))
    }
}

/// A random number in `0.0..1.0` (from a v4 UUID's random bits).
fn random_unit() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

/// What the socket reports to the node.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketEvent {
    /// Connected (again); a `Snapshot` follows.
    Connected,
    /// An event of the room (boxed: a snapshot or a trade is large).
    Event(Box<LobbyServerEvent>),
    /// The connection was lost or could not be made; next attempt after `retry_in`.
    Disconnected { reason: String, retry_in: Duration },
    /// The task ended for good: `code` is the server's refusal
    /// (`not_a_member`, `unknown_lobby`, a session error),
    /// [`codes::LEFT_LOBBY`] or [`codes::CHANNEL_CLOSED`].
    Closed { code: String, message: String },
}

/// One room's live channel. See the module docs.
#[derive(Debug)]
pub struct LobbySocket {
    outgoing: mpsc::UnboundedSender<LobbyClientMessage>,
    events: Receiver<SocketEvent>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl LobbySocket {
    /// Starts connecting to room `code` on `core`'s backend.
    pub fn open(handle: &Handle, core: Arc<NetCore>, code: &str, config: SocketConfig) -> Self {
        crate::net::install_tls_provider();
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (event_tx, event_rx) = channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let url = socket_url(core.base_url(), code);
        let task = handle.spawn(run(core, url, config, out_rx, event_tx, stop_rx));
        LobbySocket {
            outgoing: out_tx,
            events: event_rx,
            stop: Some(stop_tx),
            task: Some(task),
        }
    }

    /// Queues a message; false when the task has ended.
    pub fn send(&self, message: LobbyClientMessage) -> bool {
        self.outgoing.send(message).is_ok()
    }

    /// Everything reported since the last call.
    pub fn poll(&self) -> Vec<SocketEvent> {
        self.events.try_iter().collect()
    }

    /// Asks the task to close the connection normally and end.
    pub fn close(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for LobbySocket {
    fn drop(&mut self) {
        self.close();
        // The task finishes its close handshake on its own (bounded by a
        // timeout); runtime shutdown stops whatever is left at exit.
        self.task.take();
    }
}

/// `ws://host/api/v1/lobbies/CODE/ws` from the HTTP base URL.
pub fn socket_url(base_url: &str, code: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    format!("{base}/api/v1/lobbies/{code}/ws")
}

/// Why an attempt to connect failed.
enum ConnectError {
    /// The server answered the upgrade with an error status.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// Not reached, timed out, or broke during the handshake.
    Transport(String),
}

/// How a connected session ended.
enum Ended {
    Stopped,
    Closed { code: String, message: String },
    Lost(String),
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    url: &str,
    token: &str,
    timeout: Duration,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<Stream, ConnectError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ConnectError::Transport(format!("bad lobby address: {e}")))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| ConnectError::Transport("the access token is malformed".to_owned()))?;
    request.headers_mut().insert(AUTHORIZATION, bearer);
    request.headers_mut().insert(
        SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(ws::PROTOCOL),
    );
    let connecting = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        false,
        tls.map(tokio_tungstenite::Connector::Rustls),
    );
    match tokio::time::timeout(timeout, connecting).await {
        Err(_) => Err(ConnectError::Transport(
            "the station did not answer in time".to_owned(),
        )),
        Ok(Ok((stream, _response))) => Ok(stream),
        Ok(Err(tungstenite::Error::Http(response))) => {
            let status = response.status().as_u16();
            let body = response.body().clone().unwrap_or_default();
            let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
                Ok(error) => (error.code, error.message),
                Err(_) => (
                    crate::net::fallback_code(status).to_owned(),
                    format!("refused ({status})"),
                ),
            };
            Err(ConnectError::Refused {
                status,
                code,
                message,
            })
        }
        Ok(Err(tungstenite::Error::Io(e))) => Err(ConnectError::Transport(format!(
            "cannot reach the station: {}",
            e.kind()
        ))),
        Ok(Err(tungstenite::Error::Url(e))) => Err(ConnectError::Refused {
            status: 0,
            code: codes::UNSUPPORTED_ADDRESS.to_owned(),
            message: format!("cannot open the lobby channel: {e}"),
        }),
        Ok(Err(e)) => Err(ConnectError::Transport(format!(
            "lobby channel failed: {e}"
        ))),
    }
}

async fn run(
    core: Arc<NetCore>,
    url: String,
    config: SocketConfig,
    mut outgoing: mpsc::UnboundedReceiver<LobbyClientMessage>,
    events: Sender<SocketEvent>,
    mut stop: oneshot::Receiver<()>,
) {
    let emit = |event: SocketEvent| {
        let _ = events.send(event);
    };
    let mut attempt = 0u32;
    let mut retried_token = false;
    loop {
        let reason = match core.bearer_token().await {
            Err(e) if e.is_unreachable() || e.status == 429 || e.status >= 500 => e.message,
            Err(e) => {
                emit(SocketEvent::Closed {
                    code: e.code,
                    message: e.message,
                });
                return;
            }
            Ok(token) => match connect(&url, &token, config.connect_timeout, core.ws_tls()).await {
                Ok(stream) => {
                    attempt = 0;
                    retried_token = false;
                    emit(SocketEvent::Connected);
                    match session(
                        stream,
                        &core,
                        token.clone(),
                        &mut outgoing,
                        &events,
                        &mut stop,
                    )
                    .await
                    {
                        Ended::Stopped => {
                            emit(SocketEvent::Closed {
                                code: codes::CHANNEL_CLOSED.to_owned(),
                                message: "left the channel".to_owned(),
                            });
                            return;
                        }
                        Ended::Closed { code, message } => {
                            emit(SocketEvent::Closed { code, message });
                            return;
                        }
                        Ended::Lost(reason) => reason,
                    }
                }
                Err(ConnectError::Refused { status: 401, .. }) if !retried_token => {
                    // Revoked or expired early: one refresh, then try again at once.
                    retried_token = true;
                    match core.bearer_token_after_rejection(&token).await {
                        Ok(_) => continue,
                        Err(e) if e.is_unreachable() => e.message,
                        Err(e) => {
                            emit(SocketEvent::Closed {
                                code: e.code,
                                message: e.message,
                            });
                            return;
                        }
                    }
                }
                Err(ConnectError::Refused {
                    status,
                    code,
                    message,
                }) if status == 0 || (400..500).contains(&status) && status != 429 => {
                    emit(SocketEvent::Closed { code, message });
                    return;
                }
                Err(ConnectError::Refused { message, .. }) => message,
                Err(ConnectError::Transport(reason)) => reason,
            },
        };
        let retry_in = config.jittered_backoff(attempt, random_unit());
        attempt = attempt.saturating_add(1);
        emit(SocketEvent::Disconnected { reason, retry_in });
        // Nothing sent while away is worth replaying (positions go stale).
        while outgoing.try_recv().is_ok() {}
        tokio::select! {
            _ = tokio::time::sleep(retry_in) => {}
            _ = &mut stop => {
                emit(SocketEvent::Closed {
                    code: codes::CHANNEL_CLOSED.to_owned(),
                    message: "left the channel".to_owned(),
                });
                return;
            }
        }
    }
}

async fn session(
    stream: Stream,
    core: &NetCore,
    mut token: String,
    outgoing: &mut mpsc::UnboundedReceiver<LobbyClientMessage>,
    events: &Sender<SocketEvent>,
    stop: &mut oneshot::Receiver<()>,
) -> Ended {
    let (mut sink, mut source) = stream.split();
    let mut reauth = tokio::time::interval(REAUTH_CHECK);
    reauth.tick().await;
    loop {
        tokio::select! {
            _ = reauth.tick() => {
                // Refreshed shortly before expiry, like for an HTTP call; a
                // session that ended is reported by the server's close.
                if let Ok(fresh) = core.bearer_token().await
                    && fresh != token
                {
                    let message = LobbyClientMessage::Auth { token: fresh.clone() };
                    let Ok(text) = serde_json::to_string(&message) else { continue };
                    if let Err(e) = sink.send(Message::text(text)).await {
                        return Ended::Lost(format!("lobby channel broke: {e}"));
                    }
                    token = fresh;
                }
            }
            _ = &mut *stop => {
                let frame = CloseFrame { code: CloseCode::from(ws::CLOSE_NORMAL), reason: ws::LEAVING_REASON.into() };
                let _ = sink.send(Message::Close(Some(frame))).await;
                // Wait (briefly) for the server's answering close frame.
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    while let Some(Ok(message)) = source.next().await {
                        if matches!(message, Message::Close(_)) {
                            break;
                        }
                    }
                })
                .await;
                return Ended::Stopped;
            }
            message = outgoing.recv() => {
                let Some(message) = message else { return Ended::Stopped };
                let Ok(text) = serde_json::to_string(&message) else { continue };
                // The server closes a socket that sends a larger frame.
                if text.len() > ws::MAX_FRAME_BYTES {
                    continue;
                }
                if let Err(e) = sink.send(Message::text(text)).await {
                    return Ended::Lost(format!("lobby channel broke: {e}"));
                }
            }
            incoming = source.next() => match incoming {
                None => return Ended::Lost("the station closed the channel".to_owned()),
                Some(Err(e)) => return Ended::Lost(format!("lobby channel broke: {e}")),
                Some(Ok(Message::Text(text))) => {
                    if let Ok(event) = serde_json::from_str::<LobbyServerEvent>(text.as_str()) {
                        let _ = events.send(SocketEvent::Event(Box::new(event)));
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return match code {
                        ws::CLOSE_NORMAL => Ended::Closed {
                            code: codes::LEFT_LOBBY.to_owned(),
                            message: if reason.is_empty() { "left the lobby".to_owned() } else { reason },
                        },
                        ws::CLOSE_POLICY => Ended::Closed {
                            code: if reason.is_empty() { codes::POLICY.to_owned() } else { reason.clone() },
                            message: format!("the station closed the channel: {reason}"),
                        },
                        _ => Ended::Lost(format!("the station closed the channel ({code} {reason})")),
                    };
                }
                // Pings are answered by the library; binary frames are not ours.
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_url_follows_the_http_scheme() {
        assert_eq!(
            socket_url("http://127.0.0.1:8080/", "AB2CD9"),
            "ws://127.0.0.1:8080/api/v1/lobbies/AB2CD9/ws"
        );
        assert_eq!(
            socket_url("https://cots.example", "AB2CD9"),
            "wss://cots.example/api/v1/lobbies/AB2CD9/ws"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = SocketConfig {
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(4),
            connect_timeout: Duration::from_secs(5),
        };
        assert_eq!(config.backoff(0), Duration::from_millis(500));
        assert_eq!(config.backoff(1), Duration::from_secs(1));
        assert_eq!(config.backoff(3), Duration::from_secs(4));
        assert_eq!(config.backoff(40), Duration::from_secs(4));
    }

    #[test]
    fn jitter_spreads_each_wait_from_half_to_one_and_a_half() {
        let config = SocketConfig::default();
        assert_eq!(config.jittered_backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(config.jittered_backoff(1, 0.5), Duration::from_secs(1));
        assert_eq!(config.jittered_backoff(1, 1.0), Duration::from_millis(1500));
        let draws: Vec<f64> = (0..200).map(|_| random_unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        let low = draws.iter().filter(|u| **u < 0.5).count();
        assert!(
            (50..150).contains(&low),
            "{low} of 200 draws below one half"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn without_a_session_the_socket_ends_with_the_refusal() {
        let (tx, _rx) = channel();
        let core = NetCore::new(
            "http://127.0.0.1:9",
            Duration::from_secs(1),
            Duration::from_secs(60),
            tx,
        )
        .unwrap();
        // No session: the socket ends at once with the local refusal.
        let mut socket =
            LobbySocket::open(&Handle::current(), core, "AB2CD9", SocketConfig::default());
        let mut seen = Vec::new();
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            seen.extend(socket.poll());
            if socket.is_finished() {
                break;
            }
        }
        seen.extend(socket.poll());
        socket.close();
        assert!(socket.is_finished());
        assert!(matches!(
            seen.last(),
            Some(SocketEvent::Closed { code, .. }) if code == codes::NOT_SIGNED_IN
        ));
    }
}
