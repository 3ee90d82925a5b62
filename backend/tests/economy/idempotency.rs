//! `Idempotency-Key`: replays return the first answer and change nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_databases;
use crate::econ::{inventory, json_of, pilot};
use crate::helpers::{TestApp, assert_error};

both_databases!(a_replay_returns_the_first_answer);
async fn a_replay_returns_the_first_answer(app: &TestApp) {
    let ada = pilot(app).await;
    let player = app.gather(&ada, 4, false).await;
    let kind = inventory(&player).keys().next().unwrap().clone();
    let body = app.docked(&ada, json!({"items": {&kind: 1}})).await;

    let first = app
        .post_keyed("/api/v1/hub/sell", &ada.token, Some("sell-1"), Some(&body))
        .await;
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = json_of(first, StatusCode::OK).await;
    let ledger = app.ledger_rows().await;
    for _ in 0..2 {
        let again = app
            .post_keyed("/api/v1/hub/sell", &ada.token, Some("sell-1"), Some(&body))
            .await;
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(json_of(again, StatusCode::OK).await, first);
    }
    assert_eq!(app.ledger_rows().await, ledger);
    assert_eq!(app.player(&ada).await, first["player"]);

    // Same key, other request: refused, nothing changes.
    let other = app
        .post_keyed(
            "/api/v1/hub/sell",
            &ada.token,
            Some("sell-1"),
            Some(&app.docked(&ada, json!({"all": true})).await),
        )
        .await;
    assert_error(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    let other_path = app
        .post_keyed(
            "/api/v1/upgrades/speed_boost/purchase",
            &ada.token,
            Some("sell-1"),
            None,
        )
        .await;
    assert_error(
        other_path,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(app.player(&ada).await, first["player"]);

    // Keys are per user.
    let bob = pilot(app).await;
    let bob_run = app
        .post_keyed("/api/v1/zones/1/runs", &bob.token, Some("sell-1"), None)
        .await;
    assert_eq!(bob_run.status(), StatusCode::CREATED);
    assert!(app.audit().await.is_empty());
}

both_databases!(replayed_runs_and_purchases_happen_once);
async fn replayed_runs_and_purchases_happen_once(app: &TestApp) {
    let ada = pilot(app).await;
    let run = json_of(
        app.post_keyed("/api/v1/zones/1/runs", &ada.token, Some("run-a"), None)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let again = json_of(
        app.post_keyed("/api/v1/zones/1/runs", &ada.token, Some("run-a"), None)
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(run, again);
    assert_eq!(app.count("runs").await, 1);

    let dock = json!({"dock": app.dock(&ada).await});
    let bought = json_of(
        app.post_keyed(
            "/api/v1/upgrades/speed_boost/purchase",
            &ada.token,
            Some("buy-1"),
            Some(&dock),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let replay = json_of(
        app.post_keyed(
            "/api/v1/upgrades/speed_boost/purchase",
            &ada.token,
            Some("buy-1"),
            Some(&dock),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(bought, replay);
    let player = app.player(&ada).await;
    assert_eq!(
        (
            player["credits"].as_u64(),
            player["upgrades"]["speed_boost"].as_u64()
        ),
        (Some(0), Some(1))
    );
}

both_databases!(failed_requests_are_not_stored);
async fn failed_requests_are_not_stored(app: &TestApp) {
    let ada = pilot(app).await;
    let sell = app.docked(&ada, json!({"all": true})).await;
    let empty = app
        .post_keyed(
            "/api/v1/hub/sell",
            &ada.token,
            Some("retry-me"),
            Some(&sell),
        )
        .await;
    assert_error(empty, StatusCode::CONFLICT, "insufficient_items").await;
    assert_eq!(app.count("idempotency_keys").await, 0);
    app.gather(&ada, 2, false).await;
    // The ship docks again after collecting; the refused key is free.
    let sell = app.docked(&ada, json!({"all": true})).await;
    let sold = app
        .post_keyed(
            "/api/v1/hub/sell",
            &ada.token,
            Some("retry-me"),
            Some(&sell),
        )
        .await;
    assert_eq!(sold.status(), StatusCode::OK);
}

both_databases!(invalid_keys_are_refused);
async fn invalid_keys_are_refused(app: &TestApp) {
    let ada = pilot(app).await;
    for key in ["x".repeat(65), "tab\tkey".to_owned(), " ".to_owned()] {
        let response = app
            .post_keyed("/api/v1/zones/1/runs", &ada.token, Some(&key), None)
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, "invalid_idempotency_key").await;
    }
    let ok = app
        .post_keyed(
            "/api/v1/zones/1/runs",
            &ada.token,
            Some(&"k".repeat(64)),
            None,
        )
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    assert_eq!(app.count("runs").await, 1);
}

both_databases!(concurrent_requests_with_one_key_apply_once);
async fn concurrent_requests_with_one_key_apply_once(app: &TestApp) {
    let ada = pilot(app).await;
    let player = app.gather(&ada, 6, false).await;
    let kind = inventory(&player).keys().next().unwrap().clone();
    let body = app.docked(&ada, json!({"items": {&kind: 1}})).await;
    let requests = (0..8).map(|_| {
        app.post_keyed(
            "/api/v1/hub/sell",
            &ada.token,
            Some("same-key"),
            Some(&body),
        )
    });
    let responses = futures::future::join_all(requests).await;
    let mut bodies = Vec::new();
    for response in responses {
        bodies.push(json_of(response, StatusCode::OK).await);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "all answers equal");
    let after = app.player(&ada).await;
    assert_eq!(after["hold"]["used"], 5, "sold exactly once");
    assert_eq!(after, bodies[0]["player"]);
    assert!(app.audit().await.is_empty());
}
