//! `GET /messages` and `POST /messages/{id}/seen`.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_databases;
use crate::econ::{catalog, json_of, pilot};
use crate::helpers::{TestApp, assert_error};

both_databases!(messages_unlock_once_and_are_marked_seen);
async fn messages_unlock_once_and_are_marked_seen(app: &TestApp) {
    let ada = pilot(app).await;
    let empty = json_of(
        app.get_authed("/api/v1/messages", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(empty, json!({"messages": []}));

    app.gather(&ada, 1, false).await;
    app.gather(&ada, 1, false).await;
    let body = json_of(
        app.get_authed("/api/v1/messages", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    let list = body["messages"].as_array().unwrap();
    let first: Vec<_> = list
        .iter()
        .filter(|m| m["id"] == "first_collection")
        .collect();
    assert_eq!(first.len(), 1, "one-shot: {list:?}");
    let message = first[0];
    assert_eq!(
        message["text"],
        catalog().message("first_collection").unwrap().text
    );
    assert_eq!(message["seen"], false);
    assert!(message["unlocked_at"].as_str().unwrap().ends_with('Z'));

    for _ in 0..2 {
        let seen = app
            .post_authed("/api/v1/messages/first_collection/seen", &ada.token, None)
            .await;
        assert_eq!(seen.status(), StatusCode::NO_CONTENT);
    }
    let body = json_of(
        app.get_authed("/api/v1/messages", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["messages"][0]["seen"], true);

    // Not unlocked, unknown, or someone else's.
    let bob = pilot(app).await;
    for (who, id) in [
        (&ada, "first_trade"),
        (&ada, "no_such_message"),
        (&bob, "first_collection"),
    ] {
        let response = app
            .post_authed(&format!("/api/v1/messages/{id}/seen"), &who.token, None)
            .await;
        assert_error(response, StatusCode::NOT_FOUND, "unknown_message").await;
    }
}
