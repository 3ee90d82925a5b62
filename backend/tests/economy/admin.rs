//! Moderation (issue 21): roles, suspensions, a player's file and credit
//! corrections through `/api/v1/admin/*`, authorised by role and audited.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_databases;
use crate::econ::{Pilot, WsAuth, expect_event, json_of, pilot, ws_connect};
use crate::helpers::{TestApp, assert_error};

async fn set_role(app: &TestApp, username: &str, role: &str) {
    sqlx::query("UPDATE users SET role = $1 WHERE username = $2")
        .bind(role)
        .bind(username)
        .execute(app.db.pool())
        .await
        .unwrap();
}

/// Every admin route of the OpenAPI document, with a sample path and body.
async fn admin_routes(app: &TestApp, target: &str) -> Vec<(String, String, Value)> {
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/admin/") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{who}", target);
            let body = json!({ "reason": "test", "role": "admin", "delta": 5, "until": null });
            routes.push((method.clone(), concrete, body));
        }
    }
    routes
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let url = app.url(path);
    let mut request = match method {
        "get" => app.client.get(format!("{url}?reason=test")),
        "post" => app.client.post(url).json(body),
        other => panic!("unexpected method {other}"),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

both_databases!(no_admin_route_is_reachable_by_a_player);
async fn no_admin_route_is_reachable_by_a_player(app: &TestApp) {
    let player = pilot(app).await;
    let victim = pilot(app).await;
    let routes = admin_routes(app, &victim.username).await;
    assert_eq!(routes.len(), 5, "{routes:?}");
    for (method, path, body) in &routes {
        let response = call(app, method, path, Some(&player.token), body).await;
        assert_error(response, StatusCode::FORBIDDEN, "role_required").await;
        let response = call(app, method, path, None, body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
    // Nothing happened to the victim, and no moderation event was written.
    let response = app.login(&victim.username, crate::helpers::PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    for event in [
        "role_granted",
        "suspended",
        "credits_adjusted",
        "player_inspected",
        "suspension_lifted",
    ] {
        assert_eq!(app.count_events(event).await, 0, "{event}");
    }
    // A moderator reaches them (credits: admins only).
    set_role(app, &player.username, "moderator").await;
    for (method, path, body) in &routes {
        let response = call(app, method, path, Some(&player.token), body).await;
        if path.ends_with("/credits") || path.ends_with("/role") {
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        } else {
            assert_eq!(response.status(), StatusCode::OK, "{method} {path}");
        }
    }
}

both_databases!(suspension_ends_sessions_sockets_and_sign_in);
async fn suspension_ends_sessions_sockets_and_sign_in(app: &TestApp) {
    let moderator = pilot(app).await;
    set_role(app, &moderator.username, "moderator").await;
    let (cheater_user, cheater_tokens) = app.signup().await;
    let cheater = Pilot {
        username: cheater_user.username.clone(),
        token: cheater_tokens.access_token.clone(),
    };
    let witness = pilot(app).await;
    let code = app.create_lobby(&witness).await;
    assert_eq!(app.join(&cheater, &code).await.status(), StatusCode::OK);
    let mut cheater_socket = ws_connect(&app.address, &code, &cheater.token, WsAuth::Header)
        .await
        .expect("socket");
    expect_event(&mut cheater_socket, "snapshot").await;
    let mut witness_socket = ws_connect(&app.address, &code, &witness.token, WsAuth::Header)
        .await
        .expect("socket");
    expect_event(&mut witness_socket, "snapshot").await;

    // Bad input first.
    let path = |who: &str| format!("/api/v1/admin/players/{who}/suspend");
    let response = app
        .post_authed(
            &path("nobody_at_all"),
            &moderator.token,
            Some(&json!({"reason": "x"})),
        )
        .await;
    assert_error(response, StatusCode::NOT_FOUND, "user_not_found").await;
    let response = app
        .post_authed(
            &path(&cheater.username),
            &moderator.token,
            Some(&json!({"reason": "x", "until": "2001-01-01T00:00:00Z"})),
        )
        .await;
    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_suspension_end",
    )
    .await;
    let response = app
        .post_authed(
            &path(&cheater.username),
            &moderator.token,
            Some(&json!({"reason": "  "})),
        )
        .await;
    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_reason").await;
    let response = app
        .post_authed(
            &path(&moderator.username),
            &moderator.token,
            Some(&json!({"reason": "me"})),
        )
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "role_too_high").await;

    let status = json_of(
        app.post_authed(
            &path(&cheater.username),
            &moderator.token,
            Some(&json!({"reason": "speed hack", "until": "2099-01-01T00:00:00Z"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(status["suspended"], true);
    assert_eq!(status["suspended_until"], "2099-01-01T00:00:00Z");

    // The socket closes with 1008 account_suspended; the witness sees them go.
    let close = wait_close(&mut cheater_socket).await;
    assert_eq!(close, Some((1008, "account_suspended".to_owned())));
    let left = expect_event(&mut witness_socket, "member_left").await;
    assert_eq!(left["username"], cheater.username);

    // Sessions ended at once; sign-in refused with the end time.
    let response = app.get_authed("/api/v1/player", &cheater.token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app.refresh(&cheater_tokens.refresh_token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app.login(&cheater.username, crate::helpers::PASSWORD).await;
    let body = assert_error(response, StatusCode::FORBIDDEN, "account_suspended").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("2099-01-01T00:00:00Z"),
        "{body}"
    );
    // A wrong password learns nothing about the suspension.
    let response = app
        .login(&cheater.username, "not-the-password-at-all")
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Recorded with who and why.
    let detail: String =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE event = 'suspended'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(
        detail.contains("speed hack") && detail.contains("user:"),
        "{detail}"
    );

    // Lifted: sign-in works again.
    json_of(
        app.post_authed(
            &format!("/api/v1/admin/players/{}/lift", cheater.username),
            &moderator.token,
            Some(&json!({"reason": "appeal granted"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let response = app.login(&cheater.username, crate::helpers::PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn wait_close(socket: &mut crate::econ::Socket) -> Option<(u16, String)> {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        if let Ok(Message::Close(frame)) = message {
            return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
        }
    }
}

both_databases!(roles_and_credit_corrections);
async fn roles_and_credit_corrections(app: &TestApp) {
    let moderator = pilot(app).await;
    let admin = pilot(app).await;
    let player = pilot(app).await;
    set_role(app, &moderator.username, "moderator").await;
    set_role(app, &admin.username, "admin").await;
    let role = |who: &str| format!("/api/v1/admin/players/{who}/role");

    // A moderator cannot raise their own role, nor grant admin.
    let response = app
        .post_authed(
            &role(&moderator.username),
            &moderator.token,
            Some(&json!({"role": "admin", "reason": "promote me"})),
        )
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "role_too_high").await;
    let response = app
        .post_authed(
            &role(&player.username),
            &moderator.token,
            Some(&json!({"role": "admin", "reason": "x"})),
        )
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "role_too_high").await;
    let response = app
        .post_authed(
            &role(&player.username),
            &admin.token,
            Some(&json!({"role": "emperor", "reason": "x"})),
        )
        .await;
    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_role").await;
    let response = app
        .post_authed(
            &role("no_such_pilot"),
            &admin.token,
            Some(&json!({"role": "moderator", "reason": "x"})),
        )
        .await;
    assert_error(response, StatusCode::NOT_FOUND, "user_not_found").await;
    let granted = json_of(
        app.post_authed(
            &role(&player.username),
            &admin.token,
            Some(&json!({"role": "moderator", "reason": "trusted"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(granted["role"], "moderator");

    // Credits: admins only, a ledger row and an audit event, audit still clean.
    let credits = format!("/api/v1/admin/players/{}/credits", player.username);
    let response = app
        .post_authed(
            &credits,
            &moderator.token,
            Some(&json!({"delta": 100, "reason": "x"})),
        )
        .await;
    assert_error(response, StatusCode::FORBIDDEN, "role_required").await;
    let response = app
        .post_authed(
            &credits,
            &admin.token,
            Some(&json!({"delta": 0, "reason": "x"})),
        )
        .await;
    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount").await;
    let response = app
        .post_authed(
            &credits,
            &admin.token,
            Some(&json!({"delta": -1_000_000_000, "reason": "x"})),
        )
        .await;
    assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount").await;
    let before = app.player(&player).await["credits"].as_u64().unwrap();
    let after = json_of(
        app.post_authed(
            &credits,
            &admin.token,
            Some(&json!({"delta": 750, "reason": "lost to a bug"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["credits"].as_u64().unwrap(), before + 750);
    let rows: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ledger WHERE reason = 'adjustment' AND delta = 750",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(rows, 1);
    assert_eq!(app.count_events("credits_adjusted").await, 1);
    assert!(app.audit().await.is_empty(), "{:?}", app.audit().await);

    // The file shows it.
    let file = json_of(
        app.get_authed(
            &format!(
                "/api/v1/admin/players/{}?reason=ticket%2042",
                player.username
            ),
            &moderator.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(file["status"]["role"], "moderator");
    assert_eq!(file["ledger"][0]["reason"], "adjustment");
    assert_eq!(app.count_events("player_inspected").await, 1);
}
