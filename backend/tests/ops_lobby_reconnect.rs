//! The trading lobby on a network that fails, end to end with the game's own
//! client code (the `client` crate's `ApiClient` and `LobbySocket`) against
//! a real `backend serve` process:
//!
//! - the backend is killed (SIGKILL) and started again on the same address
//!   mid-room: both sockets reconnect by themselves into the same room with
//!   a fresh snapshot, chat resumes, and an offer made before the crash is
//!   still there to answer, answered once;
//! - only the network path of one player drops (a TCP proxy of the test's
//!   own between that player and the backend is cut, then restored): the
//!   other member sees them `reconnecting`, then `connected` again, and the
//!   dropped player gets a fresh snapshot.

mod ops_support;

use std::sync::Arc;
use std::time::Duration;

use client::api::ApiClient;
use client::lobby_socket::{LobbySocket, SocketConfig, SocketEvent};
use game::api::{
    CreateTradeRequest, LobbyClientMessage, LobbyServerEvent, PresenceState, RegisterRequest,
    TradeStatus,
};
use game::economy::TradeBundle;
use ops_support::{Server, TempDir, base_env, free_port, repo_root, send_signal};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

const PASSWORD: &str = "orbital-Salvage-9931";

/// Reconnects quickly (the defaults wait up to 10 s between attempts).
fn fast() -> SocketConfig {
    SocketConfig {
        backoff_initial: Duration::from_millis(100),
        backoff_max: Duration::from_millis(800),
        connect_timeout: Duration::from_secs(3),
    }
}

async fn pilot(base: &str, prefix: &str) -> (String, ApiClient) {
    let api = ApiClient::new(base).expect("game client");
    let username = ops_support::unique(prefix);
    api.sign_up(&RegisterRequest {
        email: format!("{username}@example.org"),
        username: username.clone(),
        password: PASSWORD.to_owned(),
    })
    .await
    .expect("sign up");
    (username, api)
}

/// Everything the socket reports until `want` matches one (15 s at most).
async fn until(
    socket: &LobbySocket,
    what: &str,
    mut want: impl FnMut(&SocketEvent) -> bool,
) -> Vec<SocketEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    loop {
        for event in socket.poll() {
            if let SocketEvent::Closed { code, message } = &event {
                panic!("socket closed waiting for {what}: {code} {message}");
            }
            let done = want(&event);
            seen.push(event);
            if done {
                return seen;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {what} within 15 s; saw {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn is_event(event: &SocketEvent, test: impl Fn(&LobbyServerEvent) -> bool) -> bool {
    matches!(event, SocketEvent::Event(e) if test(e))
}

fn snapshot_of(events: &[SocketEvent]) -> Vec<String> {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            SocketEvent::Event(event) => match &**event {
                LobbyServerEvent::Snapshot { lobby } => {
                    Some(lobby.members.iter().map(|m| m.username.clone()).collect())
                }
                _ => None,
            },
            _ => None,
        })
        .expect("a snapshot")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_comes_back_after_the_backend_is_killed_and_restarted() {
    let data = TempDir::new("cots-reconnect");
    let url = format!("sqlite://{}?mode=rwc", data.join("game.db").display());
    let port = free_port();
    let mut env = base_env(data.path(), &url);
    env.retain(|(k, _)| k != "BIND_ADDR");
    env.push(("BIND_ADDR".into(), format!("127.0.0.1:{port}")));
    let server = Server::start(&repo_root(), &env);
    let base = format!("http://127.0.0.1:{port}");

    let (ada_name, ada) = pilot(&base, "ada").await;
    let (bob_name, bob) = pilot(&base, "bob").await;
    let lobby = ada.create_lobby().await.expect("create lobby");
    bob.join_lobby(&lobby.code).await.expect("join lobby");
    let handle = tokio::runtime::Handle::current();
    let ada_ws = ada.open_lobby_socket(&handle, &lobby.code, fast());
    let bob_ws = bob.open_lobby_socket(&handle, &lobby.code, fast());
    for ws in [&ada_ws, &bob_ws] {
        until(ws, "snapshot", |e| {
            is_event(e, |e| matches!(e, LobbyServerEvent::Snapshot { .. }))
        })
        .await;
    }
    // An offer made before the crash.
    let offer = ada
        .offer_trade(
            &lobby.code,
            &CreateTradeRequest {
                to: bob_name.clone(),
                give: TradeBundle::default(),
                want: TradeBundle {
                    credits: 5,
                    ..TradeBundle::default()
                },
            },
        )
        .await
        .expect("offer");
    until(&bob_ws, "the offer", |e| {
        is_event(
            e,
            |e| matches!(e, LobbyServerEvent::Trade { trade } if trade.id == offer.id),
        )
    })
    .await;

    // The backend dies without a word.
    send_signal(server.pid(), "KILL");
    drop(server);
    for ws in [&ada_ws, &bob_ws] {
        until(ws, "the loss", |e| {
            matches!(e, SocketEvent::Disconnected { .. })
        })
        .await;
    }
    // It comes back on the same address with the same data.
    let server = Server::start(&repo_root(), &env);
    for (ws, name) in [(&ada_ws, &ada_name), (&bob_ws, &bob_name)] {
        let events = until(ws, "a fresh snapshot", |e| {
            is_event(e, |e| matches!(e, LobbyServerEvent::Snapshot { .. }))
        })
        .await;
        assert!(
            events.iter().any(|e| matches!(e, SocketEvent::Connected)),
            "{name} reconnected by itself: {events:?}"
        );
        let mut members = snapshot_of(&events);
        members.sort();
        let mut expected = vec![ada_name.clone(), bob_name.clone()];
        expected.sort();
        assert_eq!(members, expected, "the same room for {name}");
    }
    // Chat resumes.
    assert!(bob_ws.send(LobbyClientMessage::Chat {
        text: "back after the outage".to_owned(),
    }));
    until(&ada_ws, "bob's line", |e| {
        is_event(
            e,
            |e| matches!(e, LobbyServerEvent::Chat { text, .. } if text == "back after the outage"),
        )
    })
    .await;
    // The offer is still there and is answered once.
    let declined = bob.decline_trade(&offer.id).await.expect("decline");
    assert_eq!(declined.trade.status, TradeStatus::Declined);
    let again = bob.decline_trade(&offer.id).await;
    assert!(again.is_err(), "a second answer is refused: {again:?}");
    let events = until(&ada_ws, "the declined offer", |e| {
        is_event(e, |e| matches!(e, LobbyServerEvent::Trade { trade } if trade.id == offer.id && trade.status == TradeStatus::Declined))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = ada_ws.poll();
    let declined_events = events
        .iter()
        .chain(later.iter())
        .filter(|e| {
            is_event(e, |e| matches!(e, LobbyServerEvent::Trade { trade } if trade.id == offer.id && trade.status == TradeStatus::Declined))
        })
        .count();
    assert_eq!(declined_events, 1, "never duplicated");
    drop(server);
}

/// A TCP proxy that can be cut (every connection dropped, no new ones) and
/// restored on the same port.
struct Proxy {
    port: u16,
    target: std::net::SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Self {
        let mut proxy = Proxy {
            port: free_port(),
            target,
            tasks: Arc::default(),
            acceptor: None,
        };
        proxy.restore().await;
        proxy
    }

    async fn restore(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("proxy port");
        let (target, tasks) = (self.target, self.tasks.clone());
        self.acceptor = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().await.push(task);
            }
        }));
    }

    async fn cut(&mut self) {
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.abort();
            let _ = acceptor.await;
        }
        for task in self.tasks.lock().await.drain(..) {
            task.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_network_path_heals_into_the_same_room() {
    let data = TempDir::new("cots-netcut");
    let url = format!("sqlite://{}?mode=rwc", data.join("game.db").display());
    let server = Server::start(&repo_root(), &base_env(data.path(), &url));
    let direct = format!("http://{}", server.addr);
    let mut proxy = Proxy::start(server.addr).await;
    let through = format!("http://127.0.0.1:{}", proxy.port);

    let (_, ada) = pilot(&direct, "ada").await;
    let (bob_name, bob) = pilot(&through, "bob").await;
    let lobby = ada.create_lobby().await.expect("create lobby");
    bob.join_lobby(&lobby.code)
        .await
        .expect("join through the proxy");
    let handle = tokio::runtime::Handle::current();
    let ada_ws = ada.open_lobby_socket(&handle, &lobby.code, fast());
    until(&ada_ws, "snapshot", |e| {
        is_event(e, |e| matches!(e, LobbyServerEvent::Snapshot { .. }))
    })
    .await;
    let bob_ws = bob.open_lobby_socket(&handle, &lobby.code, fast());
    until(&bob_ws, "snapshot", |e| {
        is_event(e, |e| matches!(e, LobbyServerEvent::Snapshot { .. }))
    })
    .await;
    let presence = |state: PresenceState| {
        let name = bob_name.clone();
        move |e: &SocketEvent| {
            is_event(
                e,
                |e| matches!(e, LobbyServerEvent::Presence { username, state: s } if *username == name && *s == state),
            )
        }
    };
    until(&ada_ws, "bob connected", presence(PresenceState::Connected)).await;

    // The path drops: Bob's socket is lost, Ada sees him reconnecting.
    proxy.cut().await;
    until(&bob_ws, "the loss", |e| {
        matches!(e, SocketEvent::Disconnected { .. })
    })
    .await;
    until(
        &ada_ws,
        "bob reconnecting",
        presence(PresenceState::Reconnecting),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;

    // The path comes back: Bob reconnects by himself into the same room.
    proxy.restore().await;
    let events = until(&bob_ws, "a fresh snapshot", |e| {
        is_event(e, |e| matches!(e, LobbyServerEvent::Snapshot { .. }))
    })
    .await;
    assert_eq!(snapshot_of(&events).len(), 2, "the same two traders");
    until(&ada_ws, "bob back", presence(PresenceState::Connected)).await;
    assert!(ada_ws.send(LobbyClientMessage::Chat {
        text: "welcome back".to_owned(),
    }));
    until(&bob_ws, "ada's line", |e| {
        is_event(
            e,
            |e| matches!(e, LobbyServerEvent::Chat { text, .. } if text == "welcome back"),
        )
    })
    .await;
    proxy.cut().await;
    drop(server);
}
