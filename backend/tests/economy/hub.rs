//! `POST /hub/sell`.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_databases;
use crate::econ::{catalog, inventory, json_of, pilot};
use crate::helpers::{TestApp, assert_error};

fn value_of(items: &std::collections::BTreeMap<String, u64>) -> u64 {
    items
        .iter()
        .map(|(kind, n)| catalog().kind_by_id(kind).unwrap().value * n)
        .sum()
}

both_databases!(sell_some_then_all);
async fn sell_some_then_all(app: &TestApp) {
    let ada = pilot(app).await;
    let player = app.gather(&ada, 6, false).await;
    let held = inventory(&player);
    let (kind, &have) = held.iter().next().unwrap();

    let body = json_of(
        app.post_authed(
            "/api/v1/hub/sell",
            &ada.token,
            Some(&app.docked(&ada, json!({"items": {kind: 1}})).await),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let price = catalog().kind_by_id(kind).unwrap().value;
    assert_eq!(body["sold"], json!({kind: 1}));
    assert_eq!(body["credits_gained"], price);
    assert_eq!(body["player"]["credits"], 100 + price);
    assert_eq!(
        inventory(&body["player"]).get(kind).copied().unwrap_or(0),
        have - 1
    );
    assert_eq!(body["player"]["stats"]["credits_earned"], price);

    let rest = inventory(&body["player"]);
    let body = json_of(
        app.post_authed(
            "/api/v1/hub/sell",
            &ada.token,
            Some(&app.docked(&ada, json!({"all": true})).await),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["sold"], json!(rest));
    assert_eq!(body["credits_gained"], value_of(&rest));
    assert_eq!(body["player"]["credits"], 100 + value_of(&held));
    assert_eq!(body["player"]["hold"]["used"], 0);
    assert!(app.audit().await.is_empty());

    let messages = json_of(
        app.get_authed("/api/v1/messages", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        messages["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "first_sale")
    );
}

both_databases!(sell_errors_change_nothing);
async fn sell_errors_change_nothing(app: &TestApp) {
    let ada = pilot(app).await;
    let player = app.gather(&ada, 3, false).await;
    let ledger = app.ledger_rows().await;
    let held = inventory(&player);
    let (kind, &have) = held.iter().next().unwrap();

    let too_many = app
        .post_authed(
            "/api/v1/hub/sell",
            &ada.token,
            Some(&app.docked(&ada, json!({"items": {kind: have + 1}})).await),
        )
        .await;
    assert_error(too_many, StatusCode::CONFLICT, "insufficient_items").await;
    let not_held = if kind == "quantum_core" {
        "scrap_metal"
    } else {
        "quantum_core"
    };
    let mixed = app
        .post_authed(
            "/api/v1/hub/sell",
            &ada.token,
            Some(
                &app.docked(&ada, json!({"items": {kind: 1, not_held: 1}}))
                    .await,
            ),
        )
        .await;
    assert_error(mixed, StatusCode::CONFLICT, "insufficient_items").await;
    for bad in [
        json!({}),
        json!({"all": false}),
        json!({"items": {}}),
        json!({"items": {kind: 1}, "all": true}),
        json!({"items": {"moon_rock": 1}}),
        json!({"items": {kind: 0}}),
        json!({"items": {kind: -1}}),
    ] {
        let bad = app.docked(&ada, bad).await;
        let response = app
            .post_authed("/api/v1/hub/sell", &ada.token, Some(&bad))
            .await;
        assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        )
        .await;
    }
    let malformed = app
        .client
        .post(app.url("/api/v1/hub/sell"))
        .bearer_auth(&ada.token)
        .header("content-type", "application/json")
        .body("{\"all\":")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.player(&ada).await, player);
    assert_eq!(app.ledger_rows().await, ledger);

    // An empty hold has nothing to sell.
    app.sell_all(&ada).await;
    let all = app.docked(&ada, json!({"all": true})).await;
    let empty = app
        .post_authed("/api/v1/hub/sell", &ada.token, Some(&all))
        .await;
    assert_error(empty, StatusCode::CONFLICT, "insufficient_items").await;
}
