//! The game's traffic through the shipped TLS proxy (deploy/nginx), with
//! certificate verification on: the test CA is trusted by configuration,
//! never by turning checks off.
//!
//! `scripts/test-tls-proxy.sh` (`make test-ops`) installs nginx from Debian
//! when missing, makes a CA and a server certificate, starts a backend on a
//! temporary SQLite (`TRUST_PROXY_HEADERS=true`) and nginx with
//! deploy/nginx/cots.conf.template on a loopback port, and runs this test
//! with `TEST_TLS_PROXY_URL` (https://localhost:PORT) and `TEST_TLS_CA` (the
//! CA's PEM). Without them it is skipped with a note (as in a plain `cargo
//! test`), unless `REQUIRE_TLS_PROXY=1`.
//!
//! The game's own client code does the talking: the `client` crate's
//! [`ApiClient`] (HTTPS) and [`LobbySocket`] (`wss://`), given the test CA
//! with [`ApiClient::with_root_ca`] (added to the system's roots;
//! verification is never turned off).
//!
//! Checked: the game client without the test CA is refused; sign-up,
//! sign-in, `/api/v1/player` and the sessions list over https; two pilots
//! open the lobby socket over wss:// and a chat line crosses. Besides the
//! game client, one plain HTTPS client (trusting only the test CA) checks
//! what the game client cannot express: HSTS on the answer, `/metrics` not
//! served publicly, and that the client address the backend records is the
//! one nginx saw, not an `X-Forwarded-For` the client made up.

use std::path::PathBuf;
use std::time::Duration;

use client::api::ApiClient;
use client::lobby_socket::{SocketConfig, SocketEvent};
use client::net::Call;
use game::api::{LobbyClientMessage, LobbyServerEvent, RegisterRequest};
use serde_json::{Value, json};

const PASSWORD: &str = "orbital-Salvage-9931";

fn settings() -> Option<(String, PathBuf)> {
    let url = std::env::var("TEST_TLS_PROXY_URL")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let ca = std::env::var("TEST_TLS_CA")
        .ok()
        .filter(|v| !v.trim().is_empty());
    match (url, ca) {
        (Some(url), Some(ca)) => Some((url.trim_end_matches('/').to_owned(), PathBuf::from(ca))),
        _ => {
            assert!(
                std::env::var("REQUIRE_TLS_PROXY").as_deref() != Ok("1"),
                "REQUIRE_TLS_PROXY=1 but TEST_TLS_PROXY_URL / TEST_TLS_CA are not set \
                 (scripts/test-tls-proxy.sh sets them)"
            );
            eprintln!(
                "note: ops_tls_proxy skipped: TEST_TLS_PROXY_URL and TEST_TLS_CA are not set \
                 (run scripts/test-tls-proxy.sh, or make test-ops)"
            );
            None
        }
    }
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}{}{nanos}", std::process::id() % 1000)
}

/// Signs up and in with the game client; `(username, client)`.
async fn pilot(base: &str, ca_pem: &[u8], prefix: &str) -> (String, ApiClient) {
    let api = ApiClient::with_root_ca(base, ca_pem).expect("game client with the test CA");
    let username = unique(prefix);
    api.sign_up(&RegisterRequest {
        email: format!("{username}@example.org"),
        username: username.clone(),
        password: PASSWORD.to_owned(),
    })
    .await
    .expect("sign up through the proxy");
    (username, api)
}

/// The next lobby event of `kind` from a game lobby socket.
async fn next_event(socket: &client::lobby_socket::LobbySocket, kind: &str) -> LobbyServerEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        for event in socket.poll() {
            match event {
                SocketEvent::Event(event) => {
                    let value = serde_json::to_value(&*event).expect("event serialises");
                    if value["type"] == kind {
                        return *event;
                    }
                }
                SocketEvent::Closed { code, message } => {
                    panic!("lobby socket closed waiting for {kind}: {code} {message}")
                }
                SocketEvent::Disconnected { reason, .. } => {
                    eprintln!("lobby socket: disconnected ({reason}), retrying")
                }
                SocketEvent::Connected => {}
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {kind} event within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn game_traffic_goes_through_the_tls_proxy() {
    let Some((base, ca_path)) = settings() else {
        return;
    };
    assert!(base.starts_with("https://"), "{base}");
    let ca_pem = std::fs::read(&ca_path)
        .unwrap_or_else(|e| panic!("TEST_TLS_CA {}: {e}", ca_path.display()));

    // Verification is on: the game client without the test CA is refused.
    let stranger = ApiClient::new(&base).expect("game client");
    let refused = stranger.health().await;
    assert!(
        refused.as_ref().is_err_and(|e| e.is_unreachable()),
        "a certificate from an unknown CA must be refused: {refused:?}"
    );
    // A bad CA file is refused at construction, not ignored.
    assert!(ApiClient::with_root_ca(&base, b"not a certificate").is_err());

    let game = ApiClient::with_root_ca(&base, &ca_pem).expect("game client with the test CA");
    let health = game.health().await.expect("GET /health through the proxy");
    let _ = health;

    // What the game client does not expose: headers and a spoofed
    // X-Forwarded-For, with a plain client trusting only the test CA.
    let probe = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).expect("CA PEM"))
        .https_only(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let health = probe.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        health.headers().contains_key("strict-transport-security"),
        "HSTS: {:?}",
        health.headers()
    );
    let ready = probe.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = probe.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(
        metrics.status(),
        404,
        "/metrics is not served on the public listener"
    );

    let (ada_name, ada) = pilot(&base, &ca_pem, "ada").await;
    let (bob_name, bob) = pilot(&base, &ca_pem, "bob").await;
    let player = ada.player().await.expect("GET /api/v1/player");
    let _ = player;

    // A login with a made-up X-Forwarded-For: the proxy replaces it, and
    // the backend records the address nginx saw.
    let spoofed = probe
        .post(format!("{base}/api/v1/auth/login"))
        .header("X-Forwarded-For", "203.0.113.9")
        .json(&json!({"login": ada_name, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 200);
    let sessions: Value = ada
        .send_json(Call::get("/api/v1/me/sessions"))
        .await
        .expect("sessions list");
    let ips: Vec<&str> = sessions["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| s["ip"].as_str())
        .collect();
    assert_eq!(
        ips,
        ["127.0.0.1", "127.0.0.1"],
        "the client address as nginx saw it: {sessions}"
    );

    // A lobby exchange over wss:// with the game's lobby socket.
    let lobby = ada.create_lobby().await.expect("create lobby");
    bob.join_lobby(&lobby.code).await.expect("join lobby");
    let handle = tokio::runtime::Handle::current();
    let mut ada_ws = ada.open_lobby_socket(&handle, &lobby.code, SocketConfig::default());
    let mut bob_ws = bob.open_lobby_socket(&handle, &lobby.code, SocketConfig::default());
    let LobbyServerEvent::Snapshot { lobby: snapshot } = next_event(&ada_ws, "snapshot").await
    else {
        unreachable!()
    };
    assert_eq!(snapshot.members.len(), 2);
    next_event(&bob_ws, "snapshot").await;
    assert!(bob_ws.send(LobbyClientMessage::Chat {
        text: "hello through TLS".to_owned(),
    }));
    let LobbyServerEvent::Chat { username, text, .. } = next_event(&ada_ws, "chat").await else {
        unreachable!()
    };
    assert_eq!(username, bob_name);
    assert_eq!(text, "hello through TLS");
    ada_ws.close();
    bob_ws.close();
    println!(
        "ops_tls_proxy: the game client over https and wss through {base} OK (pilots {ada_name} and {bob_name})"
    );
}
