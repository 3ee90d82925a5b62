//! The rate limits of every API route (in memory, one server): per-route
//! classes, per-user and per-IP budgets, 429 with `Retry-After`; probes are
//! never limited. The shared (Redis) budget of two processes is
//! `tests/ops_limits.rs`.

use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;

use crate::both_databases;
use crate::helpers::{TestApp, assert_error};

fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a 429 carries Retry-After in seconds")
}

both_databases!(
    reads_are_limited_per_user,
    [
        ("RATE_LIMIT_READ_USER_PER_MINUTE", "1"),
        ("RATE_LIMIT_READ_USER_BURST", "3"),
    ]
);
async fn reads_are_limited_per_user(app: &TestApp) {
    let (_, alice) = app.signup().await;
    let (_, bob) = app.signup().await;
    for _ in 0..3 {
        let response = app.get_authed("/api/v1/player", &alice.access_token).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let limited = app.get_authed("/api/v1/me", &alice.access_token).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&limited);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another user from the same address has their own budget.
    let response = app.get_authed("/api/v1/player", &bob.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    // Writes spend from another budget.
    let response = app
        .post_authed("/api/v1/lobbies", &alice.access_token, None)
        .await;
    assert_ne!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // Probes are never limited.
    for path in ["/health", "/ready", "/metrics"] {
        assert_ne!(app.get(path).await.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

both_databases!(
    writes_are_limited_per_user,
    [
        ("RATE_LIMIT_WRITE_USER_PER_MINUTE", "1"),
        ("RATE_LIMIT_WRITE_USER_BURST", "2"),
    ]
);
async fn writes_are_limited_per_user(app: &TestApp) {
    let (_, alice) = app.signup().await;
    for _ in 0..2 {
        let response = app
            .post_authed("/api/v1/zones/1/runs", &alice.access_token, None)
            .await;
        assert_ne!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let limited = app
        .post_authed("/api/v1/hub/sell", &alice.access_token, None)
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    retry_after(&limited);
    // Reads still pass.
    let response = app.get_authed("/api/v1/player", &alice.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
}

both_databases!(
    anonymous_reads_are_limited_per_ip,
    [
        ("RATE_LIMIT_READ_IP_PER_MINUTE", "1"),
        ("RATE_LIMIT_READ_IP_BURST", "2"),
    ]
);
async fn anonymous_reads_are_limited_per_ip(app: &TestApp) {
    for _ in 0..2 {
        assert_eq!(app.get("/api/v1/catalog").await.status(), StatusCode::OK);
    }
    let limited = app.get("/api/v1/catalog").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    retry_after(&limited);
    // A forged token does not buy a user budget past the address's.
    let limited = app.get_authed("/api/v1/catalog", "not-a-token").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.get("/health").await.status(), StatusCode::OK);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            "cots_rate_limit_decisions_total{class=\"read\",scope=\"ip\",outcome=\"limited\"}"
        ),
        "{metrics}"
    );
}
