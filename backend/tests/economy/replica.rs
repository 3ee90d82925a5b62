//! Two backend processes (the real binary) on one PostgreSQL database: a
//! lobby event caused on one reaches a WebSocket client on the other,
//! through LISTEN/NOTIFY; a session ended on one is refused on the other.

use serde_json::json;

use crate::econ::{WsAuth, expect_event, send_json, ws_connect};
use crate::ops_support::{
    PASSWORD, Replicas, Server, client, confirm_every_address, login, register, two_replicas,
};

async fn token(server: &Server, username: &str) -> String {
    assert!(register(server, username).await.is_success());
    let (status, body) = login(server, username, PASSWORD).await;
    assert!(status.is_success(), "{body:?}");
    body.unwrap()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lobby_events_cross_replicas() {
    // Both replicas accept each other's tokens.
    let Some(Replicas {
        one, two, database, ..
    }) = two_replicas("lobby_events_cross_replicas", "replica").await
    else {
        return;
    };
    let (one_url, two_url) = (one.url(""), two.url(""));

    let ada = token(&one, "replica_ada").await;
    let bob = token(&two, "replica_bob").await;
    // Ada gives credits: her start credits must be transferable.
    confirm_every_address(&database.url).await;
    let http = client();
    let lobby: serde_json::Value = http
        .post(one.url("/api/v1/lobbies"))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = lobby["code"].as_str().unwrap().to_owned();
    let joined = http
        .post(two.url(&format!("/api/v1/lobbies/{code}/join")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert!(joined.status().is_success());

    let mut ada_ws = ws_connect(&one_url, &code, &ada, WsAuth::Header)
        .await
        .unwrap();
    let mut bob_ws = ws_connect(&two_url, &code, &bob, WsAuth::Subprotocol)
        .await
        .unwrap();
    assert_eq!(
        expect_event(&mut bob_ws, "snapshot").await["lobby"]["members"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    expect_event(&mut ada_ws, "snapshot").await;

    // Chat sent to replica one reaches the socket on replica two...
    send_json(
        &mut ada_ws,
        json!({"type": "chat", "text": "hello from one"}),
    )
    .await;
    let chat = expect_event(&mut bob_ws, "chat").await;
    assert_eq!(
        (chat["username"].as_str(), chat["text"].as_str()),
        (Some("replica_ada"), Some("hello from one"))
    );
    // ...and the other way round.
    send_json(
        &mut bob_ws,
        json!({"type": "position", "x": 10.0, "y": 20.0}),
    )
    .await;
    let position = expect_event(&mut ada_ws, "position").await;
    assert_eq!(position["username"], "replica_bob");

    // A REST call on replica one (a trade offer) is seen live on replica two.
    let offer = http
        .post(one.url(&format!("/api/v1/lobbies/{code}/trades")))
        .bearer_auth(&ada)
        .json(&json!({"to": "replica_bob", "give": {"credits": 5}, "want": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(offer.status(), reqwest::StatusCode::CREATED);
    let trade: serde_json::Value = offer.json().await.unwrap();
    let seen = expect_event(&mut bob_ws, "trade").await;
    assert_eq!(seen["trade"], trade);
    // Accepting on replica two completes it for ada on replica one.
    let accepted = http
        .post(two.url(&format!(
            "/api/v1/trades/{}/accept",
            trade["id"].as_str().unwrap()
        )))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert!(accepted.status().is_success());
    loop {
        let event = expect_event(&mut ada_ws, "trade").await;
        if event["trade"]["status"] == "completed" {
            break;
        }
    }
    println!("replica test: chat, position and trade events crossed replicas via LISTEN/NOTIFY");
    drop((one, two));
}

/// A session ended on one replica is refused on the other at once: the
/// next request there, with no wait (the bound is zero: every replica asks
/// the shared database, so nothing stale can answer). Covers the three ways
/// a session ends: logout (refresh token), ending one device from another,
/// and deleting the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_on_one_replica_is_refused_on_the_other_at_once() {
    let Some(Replicas {
        one,
        two,
        dir: _dir,
        database: _database,
    }) = two_replicas(
        "a_session_ended_on_one_replica_is_refused_on_the_other_at_once",
        "revoke",
    )
    .await
    else {
        return;
    };
    let http = client();
    let me_on = |server: &Server, token: &str| {
        http.get(server.url("/api/v1/me"))
            .bearer_auth(token.to_owned())
            .send()
    };
    let refused = |response: reqwest::Response| async move {
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED, "{body}");
        body["code"].as_str().unwrap_or_default().to_owned()
    };

    // Logout on one: the access token is refused on two.
    assert!(register(&one, "revoke_ada").await.is_success());
    let (_, body) = login(&one, "revoke_ada", PASSWORD).await;
    let body = body.unwrap();
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    assert!(me_on(&two, &access).await.unwrap().status().is_success());
    let out = http
        .post(one.url("/api/v1/auth/logout"))
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    assert_eq!(
        refused(me_on(&two, &access).await.unwrap()).await,
        "session_revoked"
    );

    // One device ended from another device on one: refused on two.
    let (_, phone) = login(&one, "revoke_ada", PASSWORD).await;
    let (_, laptop) = login(&two, "revoke_ada", PASSWORD).await;
    let phone = phone.unwrap()["access_token"].as_str().unwrap().to_owned();
    let laptop = laptop.unwrap()["access_token"].as_str().unwrap().to_owned();
    let sessions: serde_json::Value = http
        .get(one.url("/api/v1/me/sessions"))
        .bearer_auth(&phone)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let laptop_session = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .expect("the other device")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(me_on(&two, &laptop).await.unwrap().status().is_success());
    let ended = http
        .delete(one.url(&format!("/api/v1/me/sessions/{laptop_session}")))
        .bearer_auth(&phone)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), reqwest::StatusCode::NO_CONTENT);
    assert_eq!(
        refused(me_on(&two, &laptop).await.unwrap()).await,
        "session_revoked"
    );

    // The account deleted on one: its other session is refused on two.
    let (_, again) = login(&two, "revoke_ada", PASSWORD).await;
    let again = again.unwrap()["access_token"].as_str().unwrap().to_owned();
    let deleted = http
        .delete(one.url("/api/v1/me"))
        .bearer_auth(&phone)
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), reqwest::StatusCode::NO_CONTENT);
    let code = refused(me_on(&two, &again).await.unwrap()).await;
    assert!(
        code == "session_revoked" || code == "account_deleted",
        "{code}"
    );
    drop((one, two));
}
