//! Proxy and network details (issue 16, item 7): the client address behind
//! proxies, IPv6 rate limits per /64, `/metrics` never public by accident,
//! plausible request ids only.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, JWT_SECRET, TestApp, spawn_app_with};

async fn app(overrides: &[(&str, &str)]) -> TestApp {
    spawn_app_with(Backend::Sqlite, overrides)
        .await
        .expect("sqlite app")
}

/// Logs in with these `X-Forwarded-For` lines; the address the session
/// recorded.
async fn session_ip(app: &TestApp, forwarded: &[&str]) -> String {
    let user = app.register_user().await;
    let mut request = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"login": user.username, "password": user.password}));
    for line in forwarded {
        request = request.header("x-forwarded-for", *line);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: Value = response.json().await.unwrap();
    let sessions: Value = app
        .get_authed(
            "/api/v1/me/sessions",
            tokens["access_token"].as_str().unwrap(),
        )
        .await
        .json()
        .await
        .unwrap();
    sessions["sessions"][0]["ip"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_is_the_rightmost_untrusted_forwarded_entry() {
    // A client forges a first line; our proxy appends a second.
    let lines = ["6.6.6.6, 198.51.100.1", "203.0.113.9"];
    let one_hop = app(&[("TRUST_PROXY_HEADERS", "true")]).await;
    assert_eq!(session_ip(&one_hop, &lines).await, "203.0.113.9");
    one_hop.teardown().await;

    let two_hops = app(&[("TRUST_PROXY_HEADERS", "true"), ("TRUSTED_PROXY_HOPS", "2")]).await;
    assert_eq!(session_ip(&two_hops, &lines).await, "198.51.100.1");
    two_hops.teardown().await;

    let listed = app(&[
        ("TRUST_PROXY_HEADERS", "true"),
        ("TRUSTED_PROXIES", "127.0.0.1/32, 203.0.113.0/24"),
    ])
    .await;
    assert_eq!(session_ip(&listed, &lines).await, "198.51.100.1");
    listed.teardown().await;

    // Without TRUST_PROXY_HEADERS the header is ignored.
    let direct = app(&[]).await;
    assert_eq!(session_ip(&direct, &lines).await, "127.0.0.1");
    direct.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_clients_are_limited_per_64() {
    let app = app(&[
        ("TRUST_PROXY_HEADERS", "true"),
        ("AUTH_RATE_LIMIT_PER_MINUTE", "1"),
        ("AUTH_RATE_LIMIT_BURST", "2"),
    ])
    .await;
    let attempt = |from: &'static str| {
        let request = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", from)
            .json(&json!({"login": "nobody_here", "password": "not-the-password"}));
        async move { request.send().await.unwrap().status() }
    };
    // Three addresses of one /64 spend from one budget of 2...
    assert_eq!(attempt("2001:db8:1:2::1").await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt("2001:db8:1:2::2").await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        attempt("2001:db8:1:2:ffff::3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...another /64 has its own.
    assert_eq!(attempt("2001:db8:1:3::1").await, StatusCode::UNAUTHORIZED);
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_never_public_by_accident() {
    // A separate listen address: only there.
    let separate = app(&[("METRICS_BIND_ADDR", "127.0.0.1:0")]).await;
    assert_eq!(
        separate.get("/metrics").await.status(),
        StatusCode::NOT_FOUND
    );
    let address = separate.metrics_address.clone().expect("metrics listener");
    let scraped = separate
        .client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(scraped.text().await.unwrap().contains("http_requests"));
    separate.teardown().await;

    // Behind a token on the public listener.
    let token = "a-metrics-scrape-token-0123456789";
    let guarded = app(&[("METRICS_TOKEN", token)]).await;
    assert_eq!(
        guarded.get("/metrics").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        guarded.get_authed("/metrics", "wrong-token").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        guarded.get_authed("/metrics", token).await.status(),
        StatusCode::OK
    );
    guarded.teardown().await;

    // Production with neither: not served at all.
    let production = app(&[
        ("APP_ENV", "production"),
        ("JWT_SECRET", JWT_SECRET),
        ("MAIL_OUTBOX_IN_PRODUCTION", "true"),
    ])
    .await;
    assert_eq!(
        production.get("/metrics").await.status(),
        StatusCode::NOT_FOUND
    );
    production.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_plausible_request_ids_are_kept() {
    let app = app(&[]).await;
    let echo = |id: String| {
        let request = app
            .client
            .get(app.url("/health"))
            .header("x-request-id", id);
        async move {
            let response = request.send().await.unwrap();
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(echo("edge-7f3a.42".into()).await, "edge-7f3a.42");
    for bad in [
        "x".repeat(65),
        "has spaces".into(),
        "a\"b".into(),
        "a/b".into(),
    ] {
        let answered = echo(bad.clone()).await;
        assert_ne!(answered, bad);
        assert!(
            uuid::Uuid::parse_str(&answered).is_ok(),
            "{bad:?} was replaced by a fresh id, got {answered:?}"
        );
    }
    app.teardown().await;
}
