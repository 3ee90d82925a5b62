//! Registration, login, refresh, logout, lockout, rate limits, password
//! reset and email verification.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_databases;
use crate::helpers::{PASSWORD, TestApp, TestUser, Tokens, assert_error};

both_databases!(register_creates_an_account);
async fn register_creates_an_account(app: &TestApp) {
    let user = TestUser::random();
    let response = app
        .register(&user.email.to_uppercase(), &user.username, PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["email"], user.email,
        "email is normalised to lower case"
    );
    assert_eq!(body["username"], user.username);
    assert_eq!(body["email_verified"], false);
    assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(body.get("password_hash").is_none() && body.get("password").is_none());

    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = $1")
        .bind(&user.email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert_eq!(app.count_events("registered").await, 1);
    // the verification mail went to the outbox
    assert!(!app.mailed_code(&user.email, "confirm").await.is_empty());
}

both_databases!(register_rejects_invalid_input_and_stores_nothing);
async fn register_rejects_invalid_input_and_stores_nothing(app: &TestApp) {
    let cases = [
        (
            json!({"email": "not-an-email", "username": "valid_name", "password": PASSWORD}),
            "invalid_email",
        ),
        (
            json!({"email": "a@example.org", "username": "no", "password": PASSWORD}),
            "invalid_username",
        ),
        (
            json!({"email": "a@example.org", "username": "bad name!", "password": PASSWORD}),
            "invalid_username",
        ),
        (
            json!({"email": "a@example.org", "username": "x".repeat(25), "password": PASSWORD}),
            "invalid_username",
        ),
        (
            json!({"email": "a@example.org", "username": "valid_name", "password": "short-pw"}),
            "invalid_password",
        ),
        (
            json!({"email": "a@example.org", "username": "valid_name", "password": "x1-".repeat(43)}),
            "invalid_password",
        ),
        (
            json!({"email": "a@example.org", "username": "valid_name", "password": "password1234"}),
            "invalid_password",
        ),
        (
            json!({"email": "a@example.org", "username": "valid_name", "password": "Password2024!!"}),
            "invalid_password",
        ),
        (
            json!({"email": "a@example.org", "username": "valid_name", "password": "my valid_name is great"}),
            "invalid_password",
        ),
        (
            json!({"email": "a@example.org", "username": "valid_name"}),
            "invalid_request",
        ),
        (
            json!({"email": 5, "username": "valid_name", "password": PASSWORD}),
            "invalid_request",
        ),
    ];
    for (body, code) in cases {
        let response = app.post_json("/api/v1/auth/register", &body).await;
        assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, code).await;
    }
    assert_eq!(app.count("users").await, 0);
    assert_eq!(app.count("audit_log").await, 0);
}

both_databases!(duplicates_are_409_case_insensitively);
async fn duplicates_are_409_case_insensitively(app: &TestApp) {
    let user = app.register_user().await;
    let other = TestUser::random();
    // A taken address is not revealed (issue 16, item 6): the same 201 as a
    // free one, nothing is created, and the owner is told by mail.
    let response = app
        .register(&user.email.to_uppercase(), &other.username, PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let echoed: Value = response.json().await.unwrap();
    let fresh = app
        .register(
            &TestUser::random().email,
            &TestUser::random().username,
            PASSWORD,
        )
        .await;
    assert_eq!(fresh.status(), StatusCode::CREATED);
    let fresh: Value = fresh.json().await.unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&echoed), keys(&fresh), "the same shape");
    assert_eq!(echoed["email_verified"], false);
    assert_eq!(app.count("users").await, 2, "no second account");
    let notice = app.mails_to(&user.email, "tried to sign up").await;
    assert!(
        notice[0].body.contains(&user.username),
        "{}",
        notice[0].body
    );
    // Usernames are public (rooms show them): a taken one is said.
    let response = app
        .register(&other.email, &user.username.to_uppercase(), PASSWORD)
        .await;
    assert_error(response, StatusCode::CONFLICT, "username_taken").await;
    assert_eq!(app.count("users").await, 2);
}

both_databases!(login_with_username_or_email);
async fn login_with_username_or_email(app: &TestApp) {
    let user = app.register_user().await;
    for login in [
        user.username.clone(),
        user.email.clone(),
        user.email.to_uppercase(),
    ] {
        let response = app.login(&login, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let tokens: Tokens = response.json().await.unwrap();
        assert_eq!(tokens.token_type, "Bearer");
        assert_eq!(tokens.expires_in, 900);
        assert_eq!(tokens.access_token.split('.').count(), 3);
        assert!(tokens.refresh_token.len() >= 43, "256-bit refresh token");
        let me = app.get_authed("/api/v1/me", &tokens.access_token).await;
        assert_eq!(me.status(), StatusCode::OK);
    }
    assert_eq!(app.count("sessions").await, 3);
    // only hashes of refresh tokens are stored
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM refresh_tokens")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(stored.iter().all(|h| h.len() == 64));
}

both_databases!(wrong_password_and_unknown_user_look_the_same);
async fn wrong_password_and_unknown_user_look_the_same(app: &TestApp) {
    let user = app.register_user().await;
    let wrong = app.login(&user.username, "not-the-password-at-all").await;
    let wrong = assert_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = app.login("nobody_here", "not-the-password-at-all").await;
    let unknown = assert_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(wrong, unknown);
    assert_eq!(app.count("sessions").await, 0);
    assert_eq!(app.count_events("login_failed").await, 2);
}

both_databases!(refresh_rotates_and_reuse_revokes_the_family);
async fn refresh_rotates_and_reuse_revokes_the_family(app: &TestApp) {
    let (_, first) = app.signup().await;
    let response = app.refresh(&first.refresh_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Tokens = response.json().await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(
        app.get_authed("/api/v1/me", &second.access_token)
            .await
            .status(),
        StatusCode::OK
    );

    // the rotated-out token comes back: the whole family dies
    let replay = app.refresh(&first.refresh_token).await;
    assert_error(replay, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;
    assert_eq!(app.count_events("refresh_reuse").await, 1);
    let successor = app.refresh(&second.refresh_token).await;
    assert_error(successor, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    let me = app.get_authed("/api/v1/me", &second.access_token).await;
    assert_error(me, StatusCode::UNAUTHORIZED, "session_revoked").await;

    // garbage tokens are plain 401s
    for junk in ["", "abc", &"A".repeat(43), &"x".repeat(500)] {
        let response = app.refresh(junk).await;
        assert_error(response, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    }
}

both_databases!(concurrent_refreshes_of_one_token_keep_the_session);
/// Two refreshes of the same token in flight at once (two tabs, a client
/// retry) both succeed with the same successor, and the session lives on.
/// The test holds the token's row (PostgreSQL) or the write lock (SQLite) so
/// both requests are really in flight before either commits.
async fn concurrent_refreshes_of_one_token_keep_the_session(app: &TestApp) {
    let (_, tokens) = app.signup().await;
    let mut blocker = app.db.begin_write().await.unwrap();
    if app.dialect() == backend::db::Dialect::Postgres {
        sqlx::query("SELECT token_hash FROM refresh_tokens FOR UPDATE")
            .fetch_all(&mut *blocker)
            .await
            .unwrap();
    }
    let spawn_refresh = || {
        let client = app.client.clone();
        let url = app.url("/api/v1/auth/refresh");
        let token = tokens.refresh_token.clone();
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({ "refresh_token": token }))
                .send()
                .await
                .unwrap()
        })
    };
    let (first, second) = (spawn_refresh(), spawn_refresh());
    tokio::time::sleep(Duration::from_millis(400)).await;
    blocker.rollback().await.unwrap();
    let (a, b) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!(a.status(), StatusCode::OK);
    assert_eq!(b.status(), StatusCode::OK);
    let a: Tokens = a.json().await.unwrap();
    let b: Tokens = b.json().await.unwrap();
    assert_eq!(a.refresh_token, b.refresh_token, "same successor for both");
    assert_eq!(app.count_events("refresh_reuse").await, 0);
    assert_eq!(
        app.get_authed("/api/v1/me", &a.access_token).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.refresh(&a.refresh_token).await.status(), StatusCode::OK);
}

both_databases!(
    a_configured_grace_window_tolerates_a_quick_replay,
    [("REFRESH_RACE_GRACE_MS", "60000")]
);
async fn a_configured_grace_window_tolerates_a_quick_replay(app: &TestApp) {
    let (_, tokens) = app.signup().await;
    let first: Tokens = app
        .refresh(&tokens.refresh_token)
        .await
        .json()
        .await
        .unwrap();
    let again = app.refresh(&tokens.refresh_token).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Tokens = again.json().await.unwrap();
    assert_eq!(again.refresh_token, first.refresh_token);
    // once the successor has been used, the old token is a replay again
    assert_eq!(
        app.refresh(&first.refresh_token).await.status(),
        StatusCode::OK
    );
    let replay = app.refresh(&tokens.refresh_token).await;
    assert_error(replay, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;
}

both_databases!(logout_ends_the_session_at_once);
async fn logout_ends_the_session_at_once(app: &TestApp) {
    let (user, tokens) = app.signup().await;
    let other = app.login_user(&user).await;
    assert_eq!(
        app.logout(&tokens.refresh_token).await.status(),
        StatusCode::NO_CONTENT
    );
    // the access token of the logged-out session stops working immediately
    let me = app.get_authed("/api/v1/me", &tokens.access_token).await;
    assert_error(me, StatusCode::UNAUTHORIZED, "session_revoked").await;
    let refresh = app.refresh(&tokens.refresh_token).await;
    assert_error(refresh, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    // the other device is untouched
    assert_eq!(
        app.get_authed("/api/v1/me", &other.access_token)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.count_events("logout").await, 1);
    // logging out twice is harmless; an unknown token is a 401
    assert_eq!(
        app.logout(&tokens.refresh_token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.logout("nope").await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
}

both_databases!(logout_all_ends_every_session);
async fn logout_all_ends_every_session(app: &TestApp) {
    let (user, a) = app.signup().await;
    let b = app.login_user(&user).await;
    let (_, stranger) = app.signup().await;
    let response = app
        .post_authed("/api/v1/auth/logout-all", &a.access_token, None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for tokens in [&a, &b] {
        let me = app.get_authed("/api/v1/me", &tokens.access_token).await;
        assert_error(me, StatusCode::UNAUTHORIZED, "session_revoked").await;
        assert_eq!(
            app.refresh(&tokens.refresh_token).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.get_authed("/api/v1/me", &stranger.access_token)
            .await
            .status(),
        StatusCode::OK
    );
    let anonymous = app.post_json("/api/v1/auth/logout-all", &json!({})).await;
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "missing_token").await;
}

both_databases!(brute_force_locks_the_account);
async fn brute_force_locks_the_account(app: &TestApp) {
    let user = app.register_user().await;
    for _ in 0..5 {
        let response = app.login(&user.username, "wrong-password-guess").await;
        assert_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    // held back: even the right password is refused for that login from
    // this address...
    let response = app.login(&user.username, PASSWORD).await;
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "account_locked").await;
    assert_eq!(app.count("sessions").await, 0);
    assert_eq!(app.count_events("locked_out").await, 1);
    // ...but the email is its own counter: a lockout through the username
    // says nothing about which address belongs to it (issue 16, item 6).
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK
    );

    // unknown logins lock the same way (no account enumeration)
    for _ in 0..5 {
        let response = app.login("ghost_pilot", "wrong-password-guess").await;
        assert_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let response = app.login("ghost_pilot", "wrong-password-guess").await;
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "account_locked").await;
}

both_databases!(
    lockout_expires,
    [
        ("LOCKOUT_MAX_FAILURES", "2"),
        ("LOCKOUT_DURATION_SECS", "1")
    ]
);
async fn lockout_expires(app: &TestApp) {
    let user = app.register_user().await;
    for _ in 0..2 {
        assert_eq!(
            app.login(&user.username, "wrong-password-guess")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.login(&user.username, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.login_user(&user).await;
    // a success clears the counter
    assert_eq!(app.count("login_throttle").await, 0);
}

both_databases!(
    auth_routes_are_rate_limited_per_ip,
    [
        ("AUTH_RATE_LIMIT_PER_MINUTE", "3"),
        ("AUTH_RATE_LIMIT_BURST", "3")
    ]
);
async fn auth_routes_are_rate_limited_per_ip(app: &TestApp) {
    for _ in 0..3 {
        let response = app.login("someone", "some-password-here").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = app.login("someone", "some-password-here").await;
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let response = app.post_json("/api/v1/auth/register", &json!({})).await;
    assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // other routes are not affected
    assert_eq!(app.get("/health").await.status(), StatusCode::OK);
}

both_databases!(password_reset_flow);
async fn password_reset_flow(app: &TestApp) {
    let (user, tokens) = app.signup().await;
    // unknown, malformed and known addresses get the same answer
    for email in ["nobody@example.org", "not an email", user.email.as_str()] {
        let response = app
            .post_json(
                "/api/v1/auth/password-reset/request",
                &json!({ "email": email }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    assert_eq!(
        app.wait_for_count("dev_outbox", 2).await,
        2,
        "verification + one reset mail"
    );
    let code = app.mailed_code(&user.email, "password reset").await;
    // the code is only in the outbox as sent, never stored in clear
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM account_tokens WHERE token_hash = $1")
            .bind(&code)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(stored, 0);

    let new_password = "brand-new-salvage-route";
    // a weak password is refused and the code stays usable
    let weak = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({ "token": code, "new_password": "password1234" }),
        )
        .await;
    assert_error(weak, StatusCode::UNPROCESSABLE_ENTITY, "invalid_password").await;
    let confirm = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({ "token": code, "new_password": new_password }),
        )
        .await;
    assert_eq!(confirm.status(), StatusCode::NO_CONTENT);
    // single use
    let again = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({ "token": code, "new_password": "another-new-route-xyz" }),
        )
        .await;
    assert_error(again, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
    // every session ended; old password dead, new one works
    let me = app.get_authed("/api/v1/me", &tokens.access_token).await;
    assert_error(me, StatusCode::UNAUTHORIZED, "session_revoked").await;
    assert_eq!(
        app.login(&user.username, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&user.username, new_password).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.count_events("password_reset").await, 1);
}

both_databases!(expired_reset_codes_are_refused);
async fn expired_reset_codes_are_refused(app: &TestApp) {
    let user = app.register_user().await;
    app.post_json(
        "/api/v1/auth/password-reset/request",
        &json!({ "email": user.email }),
    )
    .await;
    let code = app.mailed_code(&user.email, "password reset").await;
    // 30 minutes later...
    sqlx::query("UPDATE account_tokens SET expires_at = expires_at - 1800001 WHERE purpose = 'password_reset'")
        .execute(app.db.pool())
        .await
        .unwrap();
    let response = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({ "token": code, "new_password": "brand-new-salvage-route" }),
        )
        .await;
    let body = assert_error(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_or_expired_token",
    )
    .await;
    // Expired, used and unknown codes each have their own words.
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    app.login_user(&user).await;
}

both_databases!(
    email_verification_gates_login_when_required,
    [("REQUIRE_EMAIL_VERIFICATION", "true")]
);
async fn email_verification_gates_login_when_required(app: &TestApp) {
    let user = app.register_user().await;
    let response = app.login(&user.username, PASSWORD).await;
    assert_error(response, StatusCode::FORBIDDEN, "email_not_verified").await;
    assert_eq!(app.count("sessions").await, 0);
    // a wrong password still says wrong password (no verification oracle)
    let response = app.login(&user.username, "wrong-password-guess").await;
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    let code = app.mailed_code(&user.email, "confirm").await;
    let bad = app
        .post_json(
            "/api/v1/auth/verify-email",
            &json!({ "token": "forged-code" }),
        )
        .await;
    let body = assert_error(bad, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not a verification code"),
        "{body}"
    );
    let ok = app
        .post_json("/api/v1/auth/verify-email", &json!({ "token": code }))
        .await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let twice = app
        .post_json("/api/v1/auth/verify-email", &json!({ "token": code }))
        .await;
    let body = assert_error(twice, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
    assert!(
        body["message"].as_str().unwrap().contains("used already"),
        "{body}"
    );
    let tokens = app.login_user(&user).await;
    let me: Value = app
        .get_authed("/api/v1/me", &tokens.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], true);
    assert_eq!(app.count_events("email_verified").await, 1);
}

both_databases!(
    an_unconfirmed_address_can_be_corrected_before_sign_in,
    [("REQUIRE_EMAIL_VERIFICATION", "true")]
);
async fn an_unconfirmed_address_can_be_corrected_before_sign_in(app: &TestApp) {
    let user = app.register_user().await;
    let other = app.register_user().await;
    let old_code = app.mailed_code(&user.email, "confirm").await;
    let path = "/api/v1/auth/verify-email/change-address";
    let fixed = format!("fixed.{}", user.email);
    let change = |password: &str, new_email: &str| json!({"login": user.username, "password": password, "new_email": new_email});

    // Refused, each in its own words, and nothing changes.
    let wrong = app
        .post_json(path, &change("wrong-password-guess", &fixed))
        .await;
    assert_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let bad = app
        .post_json(path, &change(PASSWORD, "not-an-address"))
        .await;
    assert_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_email").await;
    // A taken address: answered like a free one (no address oracle),
    // nothing moves, its owner is told.
    let taken = app.post_json(path, &change(PASSWORD, &other.email)).await;
    assert_eq!(taken.status(), StatusCode::ACCEPTED);
    app.mails_to(&other.email, "someone tried to use your address")
        .await;
    let unknown = app
        .post_json(
            path,
            &json!({"login": "nobody_here", "password": PASSWORD, "new_email": fixed}),
        )
        .await;
    assert_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(app.count_events("email_changed").await, 0);
    assert_error(
        app.login(&user.username, PASSWORD).await,
        StatusCode::FORBIDDEN,
        "email_not_verified",
    )
    .await;

    // Moved: the old code is dead, the new address gets its own.
    let moved = app.post_json(path, &change(PASSWORD, &fixed)).await;
    assert_eq!(moved.status(), StatusCode::ACCEPTED);
    let new_code = app.mailed_code(&fixed, "confirm").await;
    let old = app
        .post_json("/api/v1/auth/verify-email", &json!({ "token": old_code }))
        .await;
    assert_error(old, StatusCode::BAD_REQUEST, "invalid_or_expired_token").await;
    let login = app.login(&fixed, PASSWORD).await;
    assert_error(login, StatusCode::FORBIDDEN, "email_not_verified").await;
    let ok = app
        .post_json("/api/v1/auth/verify-email", &json!({ "token": new_code }))
        .await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.login(&fixed, PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A confirmed address is changed from the account screen instead.
    let again = app
        .post_json(path, &change(PASSWORD, &format!("again.{}", user.email)))
        .await;
    assert_error(again, StatusCode::CONFLICT, "already_verified").await;
}

both_databases!(verification_can_be_resent);
async fn verification_can_be_resent(app: &TestApp) {
    let user = app.register_user().await;
    let first = app.mailed_code(&user.email, "confirm").await;
    let response = app
        .post_json(
            "/api/v1/auth/verify-email/resend",
            &json!({ "email": user.email }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let second = app.next_mailed_code(&user.email, "confirm", &first).await;
    assert_ne!(first, second);
    // the newest code supersedes the old one
    let old = app
        .post_json("/api/v1/auth/verify-email", &json!({ "token": first }))
        .await;
    assert_eq!(old.status(), StatusCode::BAD_REQUEST);
    let new = app
        .post_json("/api/v1/auth/verify-email", &json!({ "token": second }))
        .await;
    assert_eq!(new.status(), StatusCode::NO_CONTENT);
}
