//! The lobby socket lives no longer than its session (issue 16, item 4):
//! log out (everywhere), a password reset or change, a revoked device and
//! account deletion close it with 1008 and the reason, on every replica;
//! an expired access token closes it unless the client re-authenticates on
//! the socket.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_databases;
use crate::econ::{Pilot, WsAuth, expect_event, json_of, send_json, ws_connect};
use crate::helpers::{PASSWORD, TestApp, TestUser, Tokens};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads until the server's close frame: `(code, reason)`; None when the
/// socket stays open for `secs` (or drops without a close frame).
pub async fn close_of(socket: &mut Socket, secs: f64) -> Option<(u16, String)> {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(secs);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        match message.ok()? {
            Message::Close(Some(frame)) => {
                return Some((u16::from(frame.code), frame.reason.to_string()));
            }
            Message::Close(None) => return Some((1005, String::new())),
            _ => continue,
        }
    }
}

/// A new account, its login and a room it created, with an open socket.
async fn member_in_room(app: &TestApp) -> (TestUser, Tokens, String, Socket) {
    let (user, tokens) = app.signup().await;
    let pilot = Pilot {
        username: user.username.clone(),
        token: tokens.access_token.clone(),
    };
    let code = app.create_lobby(&pilot).await;
    let mut socket = ws_connect(&app.address, &code, &tokens.access_token, WsAuth::Header)
        .await
        .expect("socket");
    expect_event(&mut socket, "snapshot").await;
    (user, tokens, code, socket)
}

fn policy(reason: &str) -> Option<(u16, String)> {
    Some((game::api::ws::CLOSE_POLICY, reason.to_owned()))
}

both_databases!(logging_out_closes_the_sessions_sockets);
async fn logging_out_closes_the_sessions_sockets(app: &TestApp) {
    let (user, first, code, mut first_ws) = member_in_room(app).await;
    // A second device of the same player, in the same room.
    let second = app.login_user(&user).await;
    let mut second_ws = ws_connect(&app.address, &code, &second.access_token, WsAuth::Header)
        .await
        .unwrap();
    expect_event(&mut second_ws, "snapshot").await;

    // Logging out on the second device ends that socket only.
    assert_eq!(
        app.logout(&second.refresh_token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        close_of(&mut second_ws, 5.0).await,
        policy("session_revoked")
    );
    assert_eq!(
        close_of(&mut first_ws, 0.5).await,
        None,
        "other session untouched"
    );

    // Log out everywhere ends the rest.
    let third = app.login_user(&user).await;
    let everywhere = app
        .post_authed("/api/v1/auth/logout-all", &third.access_token, None)
        .await;
    assert_eq!(everywhere.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        close_of(&mut first_ws, 5.0).await,
        policy("session_revoked")
    );
    let _ = first;
}

both_databases!(a_revoked_device_and_a_password_change_close_sockets);
async fn a_revoked_device_and_a_password_change_close_sockets(app: &TestApp) {
    let (user, tokens, code, mut ws) = member_in_room(app).await;
    let other = app.login_user(&user).await;
    let mut other_ws = ws_connect(&app.address, &code, &other.access_token, WsAuth::Header)
        .await
        .unwrap();
    expect_event(&mut other_ws, "snapshot").await;
    // Revoke the other device by id.
    let sessions = json_of(
        app.get_authed("/api/v1/me/sessions", &tokens.access_token)
            .await,
        StatusCode::OK,
    )
    .await;
    let other_id = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = app
        .delete_authed(
            &format!("/api/v1/me/sessions/{other_id}"),
            &tokens.access_token,
            None,
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        close_of(&mut other_ws, 5.0).await,
        policy("session_revoked")
    );

    // A password change keeps the caller's session (and socket), ends the others.
    let third = app.login_user(&user).await;
    let mut third_ws = ws_connect(&app.address, &code, &third.access_token, WsAuth::Header)
        .await
        .unwrap();
    expect_event(&mut third_ws, "snapshot").await;
    let changed = app
        .patch_authed(
            "/api/v1/me",
            &tokens.access_token,
            &json!({"new_password": "a-brand-new-long-passphrase", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(
        close_of(&mut third_ws, 5.0).await,
        policy("session_revoked")
    );
    assert_eq!(
        close_of(&mut ws, 0.5).await,
        None,
        "the caller's socket stays"
    );
}

both_databases!(a_password_reset_closes_the_socket);
async fn a_password_reset_closes_the_socket(app: &TestApp) {
    let (user, _tokens, _code, mut ws) = member_in_room(app).await;
    let requested = app
        .post_json(
            "/api/v1/auth/password-reset/request",
            &json!({"email": user.email}),
        )
        .await;
    assert_eq!(requested.status(), StatusCode::ACCEPTED);
    let code = mailed_code_eventually(app, &user.email, "password reset").await;
    let confirmed = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({"token": code, "new_password": "another-long-passphrase-42"}),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);
    assert_eq!(close_of(&mut ws, 5.0).await, policy("session_revoked"));
}

/// The newest code mailed to `to` about `subject`, waiting for the mail
/// (mail is sent off the request path).
pub async fn mailed_code_eventually(app: &TestApp, to: &str, subject: &str) -> String {
    for _ in 0..100 {
        let mut conn = app.db.pool().acquire().await.expect("conn");
        let mails = backend::db::outbox::latest(&mut conn, Some(to), 20)
            .await
            .expect("outbox");
        if mails.iter().any(|m| m.subject.contains(subject)) {
            return app.mailed_code(to, subject).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail about {subject:?} to {to}");
}

both_databases!(deleting_the_account_closes_its_socket_and_leaves_the_room);
async fn deleting_the_account_closes_its_socket_and_leaves_the_room(app: &TestApp) {
    let (_ada, ada_tokens, code, mut ada_ws) = member_in_room(app).await;
    let (bob, bob_tokens) = app.signup().await;
    let bob_pilot = Pilot {
        username: bob.username.clone(),
        token: bob_tokens.access_token.clone(),
    };
    json_of(app.join(&bob_pilot, &code).await, StatusCode::OK).await;
    expect_event(&mut ada_ws, "member_joined").await;
    let mut bob_ws = ws_connect(
        &app.address,
        &code,
        &bob_tokens.access_token,
        WsAuth::Header,
    )
    .await
    .unwrap();
    expect_event(&mut bob_ws, "snapshot").await;

    let deleted = app
        .delete_authed(
            "/api/v1/me",
            &bob_tokens.access_token,
            Some(&json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(close_of(&mut bob_ws, 5.0).await, policy("account_deleted"));
    // The room hears the member leave; the deleted name chats no more.
    let left = expect_event(&mut ada_ws, "member_left").await;
    assert_eq!(left["username"], bob.username.as_str());
    let room = json_of(
        app.get_authed(&format!("/api/v1/lobbies/{code}"), &ada_tokens.access_token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(room["members"].as_array().unwrap().len(), 1, "{room}");
}

// JWT expiry is in whole seconds: a 3 s token lives between 2 and 3 s.
both_databases!(
    an_expired_token_closes_the_socket_unless_renewed,
    [("ACCESS_TOKEN_TTL_SECS", "3")]
);
async fn an_expired_token_closes_the_socket_unless_renewed(app: &TestApp) {
    let (user, tokens, code, mut ws) = member_in_room(app).await;
    // Renewed on the socket, it outlives its first token...
    let mut refresh = tokens.refresh_token.clone();
    let started = std::time::Instant::now();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let fresh: Tokens = app.refresh(&refresh).await.json().await.unwrap();
        refresh = fresh.refresh_token.clone();
        send_json(
            &mut ws,
            json!({"type": "auth", "token": fresh.access_token}),
        )
        .await;
    }
    send_json(&mut ws, json!({"type": "chat", "text": "still here"})).await;
    let chat = expect_event(&mut ws, "chat").await;
    assert_eq!(chat["text"], "still here");
    assert!(started.elapsed() > Duration::from_secs(4));
    // ...then, left alone, it closes when the last token expires.
    assert_eq!(close_of(&mut ws, 6.0).await, policy("token_expired"));

    // Another player's token is not accepted on this player's socket.
    let mut again = ws_connect(
        &app.address,
        &code,
        &app.login_user(&user).await.access_token,
        WsAuth::Header,
    )
    .await
    .unwrap();
    expect_event(&mut again, "snapshot").await;
    let (_, stranger) = app.signup().await;
    send_json(
        &mut again,
        json!({"type": "auth", "token": stranger.access_token}),
    )
    .await;
    assert_eq!(close_of(&mut again, 3.0).await, policy("invalid_token"));
}

/// Two backend processes on one PostgreSQL database: a log-out-everywhere
/// on replica one closes the socket held by replica two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_on_one_replica_closes_the_socket_on_the_other() {
    use crate::ops_support::{Replicas, client, login, register, two_replicas};
    let Some(Replicas {
        one,
        two,
        dir: _dir,
        database: _database,
    }) = two_replicas(
        "revoking_on_one_replica_closes_the_socket_on_the_other",
        "revoke",
    )
    .await
    else {
        return;
    };
    assert!(register(&one, "revoke_ada").await.is_success());
    let (status, body) = login(&two, "revoke_ada", crate::ops_support::PASSWORD).await;
    assert!(status.is_success());
    let body: Value = body.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let lobby: Value = client()
        .post(two.url("/api/v1/lobbies"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = lobby["code"].as_str().unwrap();
    let mut ws = ws_connect(&two.url(""), code, &token, WsAuth::Header)
        .await
        .unwrap();
    expect_event(&mut ws, "snapshot").await;
    let revoked = client()
        .post(one.url("/api/v1/auth/logout-all"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let started = std::time::Instant::now();
    assert_eq!(close_of(&mut ws, 5.0).await, policy("session_revoked"));
    println!(
        "replica revoke: the socket on replica two closed {:?} after the revoke on replica one",
        started.elapsed()
    );
    drop((one, two));
}
