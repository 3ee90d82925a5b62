//! Account recovery and enumeration (issue 16, item 6): reset codes die
//! with a password or email change and with the use of another code; the
//! reset request answers before any work; notices are mailed; the soft
//! lockout holds back one login from one address with growing delays;
//! sessions end at their absolute lifetime.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection as _;

use crate::both_databases;
use crate::helpers::{Backend, PASSWORD, TestApp, assert_error};

async fn request_reset(app: &TestApp, email: &str) {
    let response = app
        .post_json(
            "/api/v1/auth/password-reset/request",
            &json!({ "email": email }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
}

/// Waits for a reset code newer than `previous`.
async fn new_reset_code(app: &TestApp, email: &str, previous: &[String]) -> String {
    for _ in 0..200 {
        let code = app.mailed_code(email, "password reset").await;
        if !previous.contains(&code) {
            return code;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no new reset code");
}

async fn confirm(app: &TestApp, code: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/password-reset/confirm",
        &json!({"token": code, "new_password": "a-reset-passphrase-for-later"}),
    )
    .await
}

both_databases!(a_reset_code_dies_with_a_change_or_another_code);
async fn a_reset_code_dies_with_a_change_or_another_code(app: &TestApp) {
    let (user, tokens) = app.signup().await;
    let mut seen = Vec::new();

    // A password change ends the pending code.
    request_reset(app, &user.email).await;
    let code = new_reset_code(app, &user.email, &seen).await;
    seen.push(code.clone());
    let changed = app
        .patch_authed(
            "/api/v1/me",
            &tokens.access_token,
            &json!({"new_password": "second-long-passphrase", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_error(
        confirm(app, &code).await,
        StatusCode::BAD_REQUEST,
        "invalid_or_expired_token",
    )
    .await;
    app.mails_to(&user.email, "your password was changed").await;

    // So does an email change (and the old address is told).
    request_reset(app, &user.email).await;
    let code = new_reset_code(app, &user.email, &seen).await;
    seen.push(code.clone());
    let new_email = format!("moved.{}", user.email);
    let moved = app
        .patch_authed(
            "/api/v1/me",
            &tokens.access_token,
            &json!({"email": new_email, "current_password": "second-long-passphrase"}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    assert_error(
        confirm(app, &code).await,
        StatusCode::BAD_REQUEST,
        "invalid_or_expired_token",
    )
    .await;
    let notice = app.mails_to(&user.email, "email address was changed").await;
    assert!(notice[0].body.contains(&new_email));

    // And the use of another mailed code (the new address's verification).
    request_reset(app, &new_email).await;
    let code = new_reset_code(app, &new_email, &seen).await;
    let verification = app.mailed_code(&new_email, "confirm").await;
    let verified = app
        .post_json("/api/v1/auth/verify-email", &json!({"token": verification}))
        .await;
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
    assert_error(
        confirm(app, &code).await,
        StatusCode::BAD_REQUEST,
        "invalid_or_expired_token",
    )
    .await;

    // A code that stays alone still works, and its use is mailed.
    request_reset(app, &new_email).await;
    seen.push(code);
    let code = new_reset_code(app, &new_email, &seen).await;
    assert_eq!(confirm(app, &code).await.status(), StatusCode::NO_CONTENT);
    app.mails_to(&new_email, "your password was reset").await;
}

// The reset request answers at once even while the database cannot take
// the reset code (a writer holds the lock): the work is off the request
// path, so the answer's time says nothing about the address.
both_databases!(the_reset_request_answers_before_doing_the_work);
async fn the_reset_request_answers_before_doing_the_work(app: &TestApp) {
    let user = app.register_user().await;
    app.mailed_code(&user.email, "confirm").await;
    let mut blocker = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    match app.backend {
        Backend::Sqlite => {
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut blocker)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            sqlx::raw_sql("BEGIN; LOCK TABLE account_tokens IN ACCESS EXCLUSIVE MODE")
                .execute(&mut blocker)
                .await
                .unwrap();
        }
    }
    let mut times = Vec::new();
    for email in [user.email.as_str(), "nobody.home@example.org"] {
        let started = Instant::now();
        request_reset(app, email).await;
        times.push(started.elapsed());
    }
    println!(
        "reset request while the database is locked: known {:?}, unknown {:?}",
        times[0], times[1]
    );
    assert!(
        times.iter().all(|t| *t < Duration::from_millis(1500)),
        "{times:?}"
    );
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut blocker)
        .await
        .unwrap();
    drop(blocker);
    // The mail follows once the database takes it.
    app.mails_to(&user.email, "password reset").await;
}

both_databases!(
    sessions_end_at_their_absolute_lifetime,
    [("SESSION_ABSOLUTE_LIFETIME_SECS", "2")]
);
async fn sessions_end_at_their_absolute_lifetime(app: &TestApp) {
    let (_user, tokens) = app.signup().await;
    let refreshed = app.refresh(&tokens.refresh_token).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: crate::helpers::Tokens = refreshed.json().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2300)).await;
    // Refreshing kept it alive until now, but not past its absolute end.
    assert_error(
        app.refresh(&refreshed.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    assert_error(
        app.get_authed("/api/v1/me", &refreshed.access_token).await,
        StatusCode::UNAUTHORIZED,
        "session_revoked",
    )
    .await;
}

async fn login_from(app: &TestApp, ip: &str, login: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
}

both_databases!(
    a_third_party_cannot_lock_the_owner_out,
    [("TRUST_PROXY_HEADERS", "true")]
);
async fn a_third_party_cannot_lock_the_owner_out(app: &TestApp) {
    let user = app.register_user().await;
    for _ in 0..6 {
        login_from(app, "198.51.100.66", &user.username, "guessing-wildly-123").await;
    }
    assert_error(
        login_from(app, "198.51.100.66", &user.username, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "account_locked",
    )
    .await;
    // The owner, elsewhere, signs in as usual.
    assert_eq!(
        login_from(app, "203.0.113.5", &user.username, PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

both_databases!(
    lockout_delays_grow,
    [
        ("LOCKOUT_MAX_FAILURES", "2"),
        ("LOCKOUT_BASE_DELAY_SECS", "1"),
        ("LOCKOUT_DURATION_SECS", "60")
    ]
);
async fn lockout_delays_grow(app: &TestApp) {
    let user = app.register_user().await;
    let fail = || app.login(&user.username, "guessing-wildly-123");
    assert_eq!(fail().await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(fail().await.status(), StatusCode::UNAUTHORIZED);
    let mut waits = Vec::new();
    for _ in 0..3 {
        let held = app.login(&user.username, PASSWORD).await;
        assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
        let secs: u64 = held.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        waits.push(secs);
        tokio::time::sleep(Duration::from_secs(secs) + Duration::from_millis(100)).await;
        assert_eq!(fail().await.status(), StatusCode::UNAUTHORIZED);
    }
    println!("soft lockout: Retry-After {waits:?} s");
    assert_eq!(waits, [1, 2, 4]);
}
