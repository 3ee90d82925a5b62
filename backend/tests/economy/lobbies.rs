//! Lobbies: create, join, leave, view; capacity; membership rules.

use reqwest::StatusCode;
use serde_json::Value;

use crate::both_databases;
use crate::econ::{json_of, pilot};
use crate::helpers::{TestApp, assert_error};

fn usernames(lobby: &Value) -> Vec<String> {
    lobby["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap().to_owned())
        .collect()
}

both_databases!(create_join_view_leave);
async fn create_join_view_leave(app: &TestApp) {
    let ada = pilot(app).await;
    let bob = pilot(app).await;
    let created = json_of(
        app.post_authed("/api/v1/lobbies", &ada.token, None).await,
        StatusCode::CREATED,
    )
    .await;
    let code = created["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert!(
        code.chars()
            .all(|c| "ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(c)),
        "{code}"
    );
    assert_eq!(created["capacity"], 8);
    assert_eq!(usernames(&created), vec![ada.username.clone()]);
    assert!(
        created["members"][0]["joined_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let joined = json_of(app.join(&bob, &code.to_lowercase()).await, StatusCode::OK).await;
    assert_eq!(
        usernames(&joined),
        [ada.username.clone(), bob.username.clone()]
    );
    let again = json_of(app.join(&bob, &code).await, StatusCode::OK).await;
    assert_eq!(again, joined, "joining twice changes nothing");
    let viewed = json_of(
        app.get_authed(&format!("/api/v1/lobbies/{code}"), &bob.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(viewed, joined);
    assert_eq!(app.count("lobby_members").await, 2);
    let messages = json_of(
        app.get_authed("/api/v1/messages", &bob.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        messages["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "first_lobby")
    );

    let left = app
        .post_authed(&format!("/api/v1/lobbies/{code}/leave"), &bob.token, None)
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    let twice = app
        .post_authed(&format!("/api/v1/lobbies/{code}/leave"), &bob.token, None)
        .await;
    assert_error(twice, StatusCode::FORBIDDEN, "not_a_member").await;
    let viewed = json_of(
        app.get_authed(&format!("/api/v1/lobbies/{code}"), &ada.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(usernames(&viewed), vec![ada.username.clone()]);
    assert!(app.audit().await.is_empty());
}

both_databases!(unknown_lobbies);
async fn unknown_lobbies(app: &TestApp) {
    let ada = pilot(app).await;
    app.create_lobby(&ada).await;
    for code in ["ZZZZZZ", "abc", "0OOOOO", "ABCDEFGH", "%20"] {
        assert_error(
            app.join(&ada, code).await,
            StatusCode::NOT_FOUND,
            "unknown_lobby",
        )
        .await;
        assert_error(
            app.get_authed(&format!("/api/v1/lobbies/{code}"), &ada.token)
                .await,
            StatusCode::NOT_FOUND,
            "unknown_lobby",
        )
        .await;
        assert_error(
            app.post_authed(&format!("/api/v1/lobbies/{code}/leave"), &ada.token, None)
                .await,
            StatusCode::NOT_FOUND,
            "unknown_lobby",
        )
        .await;
    }
    assert_eq!(
        app.get("/api/v1/lobbies/ZZZZZZ").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

both_databases!(a_full_lobby_refuses_joins);
async fn a_full_lobby_refuses_joins(app: &TestApp) {
    let host = pilot(app).await;
    let code = app.create_lobby(&host).await;
    let mut guests = Vec::new();
    for _ in 0..8 {
        guests.push(pilot(app).await);
    }
    // Seven places left, eight guests racing for them.
    let joins = futures::future::join_all(guests.iter().map(|g| app.join(g, &code))).await;
    let mut ok = 0;
    for response in joins {
        match response.status() {
            StatusCode::OK => ok += 1,
            _ => {
                assert_error(response, StatusCode::CONFLICT, "lobby_full").await;
            }
        }
    }
    assert_eq!(ok, 7);
    let lobby = json_of(
        app.get_authed(&format!("/api/v1/lobbies/{code}"), &host.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(lobby["members"].as_array().unwrap().len(), 8);
}
