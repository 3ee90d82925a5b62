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
//! Checked: a client without the test CA is refused; sign-up, sign-in,
//! `/api/v1/player` and the sessions list over https; the client address the
//! backend records is the one nginx saw, not an `X-Forwarded-For` the client
//! made up; `/metrics` is not served publicly; HSTS is set; two pilots open
//! the lobby WebSocket over wss:// and a chat line crosses.
//! (To be switched to the game's client crate.)

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

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

struct Pilot {
    username: String,
    token: String,
}

async fn expect_json(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let body = response.text().await.expect("body");
    assert_eq!(actual, status, "body: {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

async fn sign_up_and_in(http: &reqwest::Client, base: &str, prefix: &str) -> Pilot {
    let username = unique(prefix);
    let registered = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({
            "email": format!("{username}@example.org"),
            "username": username,
            "password": PASSWORD,
        }))
        .send()
        .await
        .expect("register through the proxy");
    expect_json(registered, 201).await;
    // A made-up X-Forwarded-For: the proxy must replace it.
    let login = http
        .post(format!("{base}/api/v1/auth/login"))
        .header("X-Forwarded-For", "203.0.113.9")
        .json(&json!({"login": username, "password": PASSWORD}))
        .send()
        .await
        .expect("login through the proxy");
    let body = expect_json(login, 200).await;
    Pilot {
        username,
        token: body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned(),
    }
}

async fn wss_connect(
    base: &str,
    code: &str,
    token: &str,
    tls: Arc<rustls::ClientConfig>,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!(
        "{}/api/v1/lobbies/{code}/ws",
        base.replacen("https://", "wss://", 1)
    );
    let mut request = url.into_client_request().expect("ws request");
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (socket, response) = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        false,
        Some(tokio_tungstenite::Connector::Rustls(tls)),
    )
    .await
    .expect("wss:// upgrade through the proxy");
    assert_eq!(response.status().as_u16(), 101);
    socket
}

async fn next_event(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    kind: &str,
) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} event within 10 s"))
            .expect("socket open")
            .expect("frame");
        if let Message::Text(text) = message {
            let event: Value = serde_json::from_str(&text).expect("JSON event");
            if event["type"] == kind {
                return event;
            }
        }
    }
}

#[tokio::test]
async fn game_traffic_goes_through_the_tls_proxy() {
    let Some((base, ca_path)) = settings() else {
        return;
    };
    assert!(base.starts_with("https://"), "{base}");
    let ca_pem = std::fs::read(&ca_path)
        .unwrap_or_else(|e| panic!("TEST_TLS_CA {}: {e}", ca_path.display()));

    // Verification is on: without the test CA the proxy's certificate is
    // refused.
    let stranger = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let refused = stranger.get(format!("{base}/health")).send().await;
    assert!(
        refused.is_err(),
        "a certificate from an unknown CA must be refused"
    );

    let http = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).expect("CA PEM"))
        .https_only(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let health = http
        .get(format!("{base}/health"))
        .send()
        .await
        .expect("GET /health");
    assert_eq!(health.status(), 200);
    assert!(
        health.headers().contains_key("strict-transport-security"),
        "HSTS: {:?}",
        health.headers()
    );
    let ready = http.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(
        metrics.status(),
        404,
        "/metrics is not served on the public listener"
    );

    let ada = sign_up_and_in(&http, &base, "ada").await;
    let bob = sign_up_and_in(&http, &base, "bob").await;

    let player = http
        .get(format!("{base}/api/v1/player"))
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    let player = expect_json(player, 200).await;
    assert!(player.is_object(), "{player}");

    // The backend trusts the last X-Forwarded-For hop: the proxy wrote it
    // (the loopback address it saw), replacing the one the client sent.
    let sessions = http
        .get(format!("{base}/api/v1/me/sessions"))
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    let sessions = expect_json(sessions, 200).await;
    let ips: Vec<&str> = sessions["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| s["ip"].as_str())
        .collect();
    assert_eq!(
        ips,
        ["127.0.0.1"],
        "the client address as nginx saw it: {sessions}"
    );

    // A lobby exchange over wss://.
    let lobby = http
        .post(format!("{base}/api/v1/lobbies"))
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    let code = expect_json(lobby, 201).await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let joined = http
        .post(format!("{base}/api/v1/lobbies/{code}/join"))
        .bearer_auth(&bob.token)
        .send()
        .await
        .unwrap();
    expect_json(joined, 200).await;

    let mut roots = rustls::RootCertStore::empty();
    let mut reader = std::io::BufReader::new(ca_pem.as_slice());
    for cert in rustls_pemfile_certs(&mut reader) {
        roots.add(cert).expect("test CA");
    }
    let tls = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    let mut ada_ws = wss_connect(&base, &code, &ada.token, tls.clone()).await;
    let mut bob_ws = wss_connect(&base, &code, &bob.token, tls).await;
    let snapshot = next_event(&mut ada_ws, "snapshot").await;
    assert_eq!(
        snapshot["lobby"]["members"].as_array().map(Vec::len),
        Some(2)
    );
    next_event(&mut bob_ws, "snapshot").await;
    bob_ws
        .send(Message::text(
            json!({"type": "chat", "text": "hello through TLS"}).to_string(),
        ))
        .await
        .unwrap();
    let chat = next_event(&mut ada_ws, "chat").await;
    assert_eq!(chat["username"], bob.username.as_str());
    assert_eq!(chat["text"], "hello through TLS");
    let _ = ada_ws.close(None).await;
    let _ = bob_ws.close(None).await;
    println!(
        "ops_tls_proxy: https and wss through {base} OK (pilots {} and {})",
        ada.username, bob.username
    );
}

/// The certificates of a PEM file (rustls-pki-types' own PEM reader).
fn rustls_pemfile_certs(
    reader: &mut dyn std::io::BufRead,
) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject as _;
    let mut pem = Vec::new();
    reader.read_to_end(&mut pem).unwrap();
    rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .expect("PEM certificates")
}
