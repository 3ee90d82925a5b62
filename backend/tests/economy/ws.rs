//! The lobby WebSocket: authentication, membership, events.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_databases;
use crate::econ::{
    WsAuth, expect_event, json_of, next_event, send_json, verified_pilot, ws_connect,
};
use crate::helpers::TestApp;

both_databases!(sockets_need_a_member_token);
async fn sockets_need_a_member_token(app: &TestApp) {
    let ada = verified_pilot(app).await;
    let bob = verified_pilot(app).await;
    let code = app.create_lobby(&ada).await;
    let refuse = |auth, token: String, code: String| async move {
        ws_connect(&app.address, &code, &token, auth).await.err()
    };
    assert_eq!(
        refuse(WsAuth::None, String::new(), code.clone()).await,
        Some(401)
    );
    assert_eq!(
        refuse(WsAuth::Subprotocol, "forged".into(), code.clone()).await,
        Some(401)
    );
    assert_eq!(
        refuse(WsAuth::Header, bob.token.clone(), code.clone()).await,
        Some(403)
    );
    assert_eq!(
        refuse(WsAuth::Header, ada.token.clone(), "ZZZZZZ".into()).await,
        Some(404)
    );
    // The token is never accepted from the URL query.
    let url = format!(
        "{}/api/v1/lobbies/{code}/ws?token={}",
        app.address.replacen("http", "ws", 1),
        ada.token
    );
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
}

both_databases!(room_events_reach_the_members);
async fn room_events_reach_the_members(app: &TestApp) {
    let ada = verified_pilot(app).await;
    let bob = verified_pilot(app).await;
    let carol = verified_pilot(app).await;
    let code = app.create_lobby(&ada).await;
    json_of(app.join(&bob, &code).await, StatusCode::OK).await;
    let mut ada_ws = ws_connect(&app.address, &code, &ada.token, WsAuth::Header)
        .await
        .unwrap();
    let mut bob_ws = ws_connect(&app.address, &code, &bob.token, WsAuth::Subprotocol)
        .await
        .unwrap();
    let snapshot = expect_event(&mut ada_ws, "snapshot").await;
    assert_eq!(snapshot["lobby"]["members"].as_array().unwrap().len(), 2);
    expect_event(&mut bob_ws, "snapshot").await;

    send_json(
        &mut bob_ws,
        json!({"type": "chat", "text": "  hello\u{202E} \n there\u{0007} "}),
    )
    .await;
    let chat = expect_event(&mut ada_ws, "chat").await;
    assert_eq!(chat["username"], bob.username.as_str());
    assert_eq!(chat["text"], "hello there");
    assert!(chat["at"].as_str().unwrap().ends_with('Z'));

    send_json(
        &mut bob_ws,
        json!({"type": "position", "x": 5000.0, "y": -3.0}),
    )
    .await;
    let position = expect_event(&mut ada_ws, "position").await;
    assert_eq!(
        position,
        json!({"type": "position", "username": bob.username, "x": 1600.0, "y": 0.0})
    );

    json_of(app.join(&carol, &code).await, StatusCode::OK).await;
    let joined = expect_event(&mut ada_ws, "member_joined").await;
    assert_eq!(joined["username"], carol.username.as_str());
    let mut carol_ws = ws_connect(&app.address, &code, &carol.token, WsAuth::Header)
        .await
        .unwrap();
    expect_event(&mut carol_ws, "snapshot").await;

    // A trade is seen live by its two parties only.
    let trade = json_of(
        app.offer(&ada, &code, &bob.username, json!({"credits": 3}), json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let seen = expect_event(&mut bob_ws, "trade").await;
    assert_eq!(seen["trade"], trade);
    assert_eq!(
        expect_event(&mut ada_ws, "trade").await["trade"]["status"],
        "pending"
    );
    json_of(
        app.trade_action(&bob, trade["id"].as_str().unwrap(), "accept")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        expect_event(&mut ada_ws, "trade").await["trade"]["status"],
        "completed"
    );
    send_json(&mut ada_ws, json!({"type": "chat", "text": "done"})).await;
    let next = next_event(&mut carol_ws, 10.0).await.unwrap();
    assert_eq!(next["type"], "chat", "carol sees no trade event: {next}");

    // Leaving closes the leaver's socket and tells the others.
    let left = app
        .post_authed(&format!("/api/v1/lobbies/{code}/leave"), &bob.token, None)
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        expect_event(&mut ada_ws, "member_left").await["username"],
        bob.username.as_str()
    );
    let mut last = None;
    while let Some(event) = next_event(&mut bob_ws, 10.0).await {
        last = Some(event);
    }
    let last = last.expect("bob heard that he left");
    assert_eq!(
        (last["type"].as_str(), last["username"].as_str()),
        (Some("member_left"), Some(bob.username.as_str()))
    );
}

both_databases!(chat_is_limited_and_abuse_closes);
async fn chat_is_limited_and_abuse_closes(app: &TestApp) {
    let ada = verified_pilot(app).await;
    let bob = verified_pilot(app).await;
    let code = app.create_lobby(&ada).await;
    json_of(app.join(&bob, &code).await, StatusCode::OK).await;
    let mut ada_ws = ws_connect(&app.address, &code, &ada.token, WsAuth::Header)
        .await
        .unwrap();
    let mut bob_ws = ws_connect(&app.address, &code, &bob.token, WsAuth::Header)
        .await
        .unwrap();
    expect_event(&mut ada_ws, "snapshot").await;
    expect_event(&mut bob_ws, "snapshot").await;
    for i in 0..40 {
        send_json(
            &mut bob_ws,
            json!({"type": "chat", "text": format!("spam {i}")}),
        )
        .await;
    }
    let mut delivered = 0;
    while let Some(event) = next_event(&mut ada_ws, 1.5).await {
        if event["type"] == "chat" {
            delivered += 1;
        }
    }
    assert!(
        (1..=7).contains(&delivered),
        "{delivered} chat lines got through"
    );
    // Bob is told why each refused line went nowhere, and after breaking the
    // limit often enough he is disconnected.
    let mut closed = false;
    let mut refusals = 0;
    for _ in 0..100 {
        match next_event(&mut bob_ws, 2.0).await {
            None => {
                closed = true;
                break;
            }
            Some(event) if event["type"] == "refused" => {
                assert_eq!(event["code"], "chat_rate_limited", "{event}");
                assert!(event["message"].as_str().is_some_and(|m| !m.is_empty()));
                refusals += 1;
            }
            Some(_) => {}
        }
    }
    assert!(closed);
    // Each refusal is a strike; the 21st (more than 20) closes the socket.
    assert_eq!(refusals, 21, "one refusal per line until the socket closed");
    // An over-long line is cut, not refused.
    let mut ada_ws2 = ws_connect(&app.address, &code, &ada.token, WsAuth::Header)
        .await
        .unwrap();
    expect_event(&mut ada_ws2, "snapshot").await;
    let _ = ada_ws;
    let mut carol_view = ws_connect(&app.address, &code, &ada.token, WsAuth::Header)
        .await
        .unwrap();
    expect_event(&mut carol_view, "snapshot").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    send_json(
        &mut ada_ws2,
        json!({"type": "chat", "text": "y".repeat(1000)}),
    )
    .await;
    let long = expect_event(&mut carol_view, "chat").await;
    assert_eq!(long["text"].as_str().unwrap().chars().count(), 200);
}

both_databases!(
    a_dropped_member_is_reconnecting_then_gone,
    [("LOBBY_PRESENCE_GRACE_SECS", "2")]
);
async fn a_dropped_member_is_reconnecting_then_gone(app: &TestApp) {
    let ada = verified_pilot(app).await;
    let bob = verified_pilot(app).await;
    let code = app.create_lobby(&ada).await;
    json_of(app.join(&bob, &code).await, StatusCode::OK).await;
    let mut ada_ws = ws_connect(&app.address, &code, &ada.token, WsAuth::Header)
        .await
        .unwrap();
    expect_event(&mut ada_ws, "snapshot").await;
    let bob_ws = ws_connect(&app.address, &code, &bob.token, WsAuth::Header)
        .await
        .unwrap();
    let presence =
        |state: &str| json!({"type": "presence", "username": bob.username, "state": state});
    assert_eq!(
        expect_event(&mut ada_ws, "presence").await,
        presence("connected")
    );
    // An offer pending when Bob is removed is cancelled with him.
    let offer = json_of(
        app.offer(&bob, &code, &ada.username, json!({}), json!({"credits": 1}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    expect_event(&mut ada_ws, "trade").await;

    // The link drops: reconnecting; it comes back within the grace: connected.
    drop(bob_ws);
    assert_eq!(
        expect_event(&mut ada_ws, "presence").await,
        presence("reconnecting")
    );
    let mut bob_ws = ws_connect(&app.address, &code, &bob.token, WsAuth::Subprotocol)
        .await
        .unwrap();
    let snapshot = expect_event(&mut bob_ws, "snapshot").await;
    assert_eq!(snapshot["lobby"]["members"].as_array().unwrap().len(), 2);
    assert_eq!(
        expect_event(&mut ada_ws, "presence").await,
        presence("connected")
    );
    // A member is not told about their own link.
    send_json(&mut ada_ws, json!({"type": "chat", "text": "still there?"})).await;
    let next = next_event(&mut bob_ws, 5.0).await.unwrap();
    assert_eq!(next["type"], "chat", "{next}");

    // It drops for good: after the grace period Bob is removed, his offer
    // cancelled, and Ada (whose socket beats) stays.
    drop(bob_ws);
    assert_eq!(
        expect_event(&mut ada_ws, "presence").await,
        presence("reconnecting")
    );
    let cancelled = expect_event(&mut ada_ws, "trade").await;
    assert_eq!(cancelled["trade"]["id"], offer["id"]);
    assert_eq!(cancelled["trade"]["status"], "cancelled");
    let left = expect_event(&mut ada_ws, "member_left").await;
    assert_eq!(left["username"], bob.username.as_str());
    let lobby = json_of(
        app.get_authed(&format!("/api/v1/lobbies/{code}"), &ada.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let members: Vec<&str> = lobby["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert_eq!(members, [ada.username.as_str()]);
    assert_eq!(
        ws_connect(&app.address, &code, &bob.token, WsAuth::Header)
            .await
            .err(),
        Some(403),
        "a removed member's socket is refused"
    );
}
