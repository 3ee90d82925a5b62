//! Profile, preferences, sessions, export and deletion.

use reqwest::StatusCode;
use serde_json::{Value, json};

use game::account::{ChatFilter, Preferences};

use crate::both_databases;
use crate::helpers::{PASSWORD, TestApp, TestUser, assert_error};

both_databases!(profile_can_be_read_and_renamed);
async fn profile_can_be_read_and_renamed(app: &TestApp) {
    let (user, tokens) = app.signup().await;
    let me: Value = app
        .get_authed("/api/v1/me", &tokens.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], user.username);
    assert_eq!(me["email"], user.email);

    // a username change needs no password
    let renamed = app
        .patch_authed(
            "/api/v1/me",
            &tokens.access_token,
            &json!({ "username": "Renamed_Pilot" }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(renamed["username"], "Renamed_Pilot");
    assert_eq!(
        app.login("renamed_pilot", PASSWORD).await.status(),
        StatusCode::OK
    );

    let (other, other_tokens) = app.signup().await;
    let taken = app
        .patch_authed(
            "/api/v1/me",
            &other_tokens.access_token,
            &json!({ "username": "RENAMED_pilot" }),
        )
        .await;
    assert_error(taken, StatusCode::CONFLICT, "username_taken").await;
    let invalid = app
        .patch_authed(
            "/api/v1/me",
            &other_tokens.access_token,
            &json!({ "username": "a b" }),
        )
        .await;
    assert_error(
        invalid,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_username",
    )
    .await;
    let _ = other;
}

both_databases!(email_change_needs_the_current_password);
async fn email_change_needs_the_current_password(app: &TestApp) {
    let (user, tokens) = app.signup().await;
    let (other, _) = app.signup().await;
    let path = "/api/v1/me";
    let missing = app
        .patch_authed(
            path,
            &tokens.access_token,
            &json!({ "email": "new@example.org" }),
        )
        .await;
    assert_error(
        missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "current_password_required",
    )
    .await;
    let wrong = app
        .patch_authed(
            path,
            &tokens.access_token,
            &json!({ "email": "new@example.org", "current_password": "not-my-password" }),
        )
        .await;
    assert_error(wrong, StatusCode::FORBIDDEN, "invalid_current_password").await;
    let taken = app
        .patch_authed(
            path,
            &tokens.access_token,
            &json!({ "email": other.email, "current_password": PASSWORD }),
        )
        .await;
    assert_error(taken, StatusCode::CONFLICT, "email_taken").await;
    let me: Value = app
        .get_authed(path, &tokens.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], user.email, "nothing changed");

    let ok = app
        .patch_authed(
            path,
            &tokens.access_token,
            &json!({ "email": "New@Example.org", "current_password": PASSWORD }),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let me: Value = ok.json().await.unwrap();
    assert_eq!(me["email"], "new@example.org");
    assert_eq!(me["email_verified"], false);
    // a verification mail went to the new address
    let code = app.mailed_code("new@example.org", "confirm").await;
    let verify = app
        .post_json("/api/v1/auth/verify-email", &json!({ "token": code }))
        .await;
    assert_eq!(verify.status(), StatusCode::NO_CONTENT);
}

both_databases!(password_change_ends_other_sessions);
async fn password_change_ends_other_sessions(app: &TestApp) {
    let (user, here) = app.signup().await;
    let elsewhere = app.login_user(&user).await;
    let new_password = "a-completely-new-course";
    let weak = app
        .patch_authed(
            "/api/v1/me",
            &here.access_token,
            &json!({ "new_password": "short", "current_password": PASSWORD }),
        )
        .await;
    assert_error(weak, StatusCode::UNPROCESSABLE_ENTITY, "invalid_password").await;
    let changed = app
        .patch_authed(
            "/api/v1/me",
            &here.access_token,
            &json!({ "new_password": new_password, "current_password": PASSWORD }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(
        app.get_authed("/api/v1/me", &here.access_token)
            .await
            .status(),
        StatusCode::OK
    );
    let other = app.get_authed("/api/v1/me", &elsewhere.access_token).await;
    assert_error(other, StatusCode::UNAUTHORIZED, "session_revoked").await;
    assert_eq!(
        app.login(&user.username, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&user.username, new_password).await.status(),
        StatusCode::OK
    );
}

both_databases!(wrong_current_passwords_count_towards_lockout);
async fn wrong_current_passwords_count_towards_lockout(app: &TestApp) {
    let (_, tokens) = app.signup().await;
    for _ in 0..5 {
        let response = app
            .delete_authed(
                "/api/v1/me",
                &tokens.access_token,
                Some(&json!({ "password": "guessing-again" })),
            )
            .await;
        assert_error(response, StatusCode::FORBIDDEN, "invalid_current_password").await;
    }
    let response = app
        .delete_authed(
            "/api/v1/me",
            &tokens.access_token,
            Some(&json!({ "password": PASSWORD })),
        )
        .await;
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "account_locked").await;
    assert_eq!(app.count("users").await, 1);
}

both_databases!(sessions_can_be_listed_and_revoked);
async fn sessions_can_be_listed_and_revoked(app: &TestApp) {
    let (user, a) = app.signup().await;
    let b = app.login_user(&user).await;
    let (_, stranger) = app.signup().await;
    let list: Value = app
        .get_authed("/api/v1/me/sessions", &a.access_token)
        .await
        .json()
        .await
        .unwrap();
    // The answer is the contract `game::api::SessionsResponse` the game reads.
    let typed: game::api::SessionsResponse = serde_json::from_value(list.clone()).unwrap();
    assert_eq!(typed.sessions.len(), 2);
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    for session in sessions {
        assert_eq!(session["ip"], "127.0.0.1");
        assert!(session["created_at"].is_string() && session["last_used_at"].is_string());
        assert!(session.get("user_agent").is_some());
    }
    let other_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // a stranger cannot end my session
    let path = format!("/api/v1/me/sessions/{other_id}");
    let foreign = app.delete_authed(&path, &stranger.access_token, None).await;
    assert_error(foreign, StatusCode::NOT_FOUND, "session_not_found").await;

    assert_eq!(
        app.delete_authed(&path, &a.access_token, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let revoked = app.get_authed("/api/v1/me", &b.access_token).await;
    assert_error(revoked, StatusCode::UNAUTHORIZED, "session_revoked").await;
    let again = app.delete_authed(&path, &a.access_token, None).await;
    assert_error(again, StatusCode::NOT_FOUND, "session_not_found").await;
    let list: Value = app
        .get_authed("/api/v1/me/sessions", &a.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);
}

both_databases!(export_contains_the_users_data);
async fn export_contains_the_users_data(app: &TestApp) {
    let (user, tokens) = app.signup().await;
    let export = app
        .get_authed("/api/v1/me/export", &tokens.access_token)
        .await;
    assert_eq!(export.status(), StatusCode::OK);
    let text = export.text().await.unwrap();
    let export: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["user"]["email"], user.email);
    assert_eq!(export["sessions"].as_array().unwrap().len(), 1);
    let events: Vec<&str> = export["audit_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["registered", "login_succeeded"]);
    assert_eq!(export["mail_tokens"].as_array().unwrap().len(), 1);
    assert!(!text.contains("argon2"), "no password hash in the export");
    assert!(!text.contains(&tokens.refresh_token));
}

both_databases!(deleting_the_account_removes_everything);
async fn deleting_the_account_removes_everything(app: &TestApp) {
    let (user, tokens) = app.signup().await;
    let (_, survivor) = app.signup().await;
    let missing = app
        .delete_authed("/api/v1/me", &tokens.access_token, None)
        .await;
    assert_eq!(missing.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let wrong = app
        .delete_authed(
            "/api/v1/me",
            &tokens.access_token,
            Some(&json!({ "password": "not-the-password" })),
        )
        .await;
    assert_error(wrong, StatusCode::FORBIDDEN, "invalid_current_password").await;
    assert_eq!(app.count("users").await, 2);

    let gone = app
        .delete_authed(
            "/api/v1/me",
            &tokens.access_token,
            Some(&json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("sessions").await, 1, "only the survivor's");
    assert_eq!(app.count("account_tokens").await, 1, "only the survivor's");
    let mails: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dev_outbox WHERE to_address = $1")
        .bind(&user.email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(mails, 0);
    let identifying: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE ip IS NOT NULL AND user_id NOT IN (SELECT id FROM users)")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        identifying, 0,
        "audit rows of the deleted user are anonymised"
    );
    assert_eq!(app.count_events("account_deleted").await, 1);

    let me = app.get_authed("/api/v1/me", &tokens.access_token).await;
    assert_error(me, StatusCode::UNAUTHORIZED, "session_revoked").await;
    assert_eq!(
        app.login(&user.username, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_authed("/api/v1/me", &survivor.access_token)
            .await
            .status(),
        StatusCode::OK
    );
    // the name is free again
    let again = TestUser { ..user };
    assert_eq!(
        app.register(&again.email, &again.username, PASSWORD)
            .await
            .status(),
        StatusCode::CREATED
    );
}

both_databases!(preferences_follow_the_player_and_bad_ones_change_nothing);
async fn preferences_follow_the_player_and_bad_ones_change_nothing(app: &TestApp) {
    let (user, tokens) = app.signup().await;
    let me = |access: String| async move {
        let body: Value = app
            .get_authed("/api/v1/me", &access)
            .await
            .json()
            .await
            .unwrap();
        serde_json::from_value::<game::api::Profile>(body).expect("a Profile")
    };
    // Defaults before anything is saved.
    let profile = me(tokens.access_token.clone()).await;
    assert_eq!(profile.preferences, Preferences::default());

    let chosen =
        json!({"preferred_zone": 2, "show_hints": false, "chat_filter": "off", "language": "en"});
    let saved = app
        .put_authed("/api/v1/me/preferences", &tokens.access_token, &chosen)
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["preferences"], chosen);

    // Another device (a second sign-in) reads the same.
    let other_device = app.login_user(&user).await;
    let expected = Preferences {
        preferred_zone: Some(2),
        show_hints: false,
        chat_filter: ChatFilter::Off,
        language: "en".into(),
    };
    assert_eq!(
        me(other_device.access_token.clone()).await.preferences,
        expected
    );

    // Refused, each with its code, and nothing changes.
    for (body, status, code) in [
        (
            json!({"preferred_zone": 99}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_preferences",
        ),
        (
            json!({"language": "tlh"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_preferences",
        ),
        (
            json!({"theme": "dark"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            json!({"chat_filter": "loud"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            json!({"preferred_zone": -1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            json!([1, 2]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
    ] {
        let refused = app
            .put_authed("/api/v1/me/preferences", &tokens.access_token, &body)
            .await;
        assert_error(refused, status, code).await;
    }
    assert_eq!(me(tokens.access_token.clone()).await.preferences, expected);

    // Fields left out take their defaults (the object is replaced whole).
    let partial = app
        .put_authed(
            "/api/v1/me/preferences",
            &tokens.access_token,
            &json!({"show_hints": false}),
        )
        .await;
    assert_eq!(partial.status(), StatusCode::OK);
    let now = me(tokens.access_token.clone()).await.preferences;
    assert_eq!(
        now,
        Preferences {
            show_hints: false,
            ..Preferences::default()
        }
    );

    // The export carries them.
    let export: Value = app
        .get_authed("/api/v1/me/export", &tokens.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(export["user"]["preferences"]["show_hints"], false);
    assert_eq!(export["user"]["preferences"]["chat_filter"], "mask");

    // Not without a session.
    let anonymous = app
        .client
        .put(app.url("/api/v1/me/preferences"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
