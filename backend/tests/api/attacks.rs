//! The attacks of issue 4: each gets its documented status and changes
//! nothing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_databases;
use crate::helpers::{JWT_SECRET, PASSWORD, TestApp, assert_error};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(claims: &Value, secret: &str, alg: Algorithm) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

both_databases!(forged_access_tokens_are_refused);
async fn forged_access_tokens_are_refused(app: &TestApp) {
    let (_, victim) = app.signup().await;
    let (_, attacker) = app.signup().await;
    let victim_claims = claims_of(&victim.access_token);
    let before = app.row_counts().await;

    // tampered payload: attacker's token claiming to be the victim
    let parts: Vec<&str> = attacker.access_token.split('.').collect();
    let mut forged = claims_of(&attacker.access_token);
    forged["sub"] = victim_claims["sub"].clone();
    forged["sid"] = victim_claims["sid"].clone();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged.to_string()),
        parts[2]
    );
    // tampered signature
    let mut bad_sig = victim.access_token.clone();
    let last = bad_sig.pop().unwrap();
    bad_sig.push(if last == 'A' { 'B' } else { 'A' });
    // alg none
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(victim_claims.to_string())
    );
    // wrong key, and a different HMAC algorithm with the right key
    let wrong_key = sign(
        &victim_claims,
        "an-entirely-different-secret-key-0123456789",
        Algorithm::HS256,
    );
    let hs512 = sign(&victim_claims, JWT_SECRET, Algorithm::HS512);
    // right key, other audience/issuer
    let mut foreign = victim_claims.clone();
    foreign["aud"] = json!("someone-else");
    let foreign_aud = sign(&foreign, JWT_SECRET, Algorithm::HS256);

    for token in [
        tampered,
        bad_sig,
        none,
        wrong_key,
        hs512,
        foreign_aud,
        "garbage".to_owned(),
        String::new(),
    ] {
        let response = app.get_authed("/api/v1/me", &token).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}: {body}");
        assert!(
            body["code"] == "invalid_token" || body["code"] == "missing_token",
            "{body}"
        );
    }
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let response = app.get("/api/v1/me").await;
    assert!(response.headers().get("www-authenticate").is_some());
    assert_error(response, StatusCode::UNAUTHORIZED, "missing_token").await;

    // a correctly signed token works: the key in the test is the real one
    let genuine = sign(&victim_claims, JWT_SECRET, Algorithm::HS256);
    assert_eq!(
        app.get_authed("/api/v1/me", &genuine).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.row_counts().await, before);
}

both_databases!(expired_access_tokens_are_refused);
async fn expired_access_tokens_are_refused(app: &TestApp) {
    let (_, tokens) = app.signup().await;
    let mut claims = claims_of(&tokens.access_token);
    let now = claims["iat"].as_i64().unwrap();
    claims["iat"] = json!(now - 3600);
    claims["exp"] = json!(now - 1800);
    let expired = sign(&claims, JWT_SECRET, Algorithm::HS256);
    let response = app.get_authed("/api/v1/me", &expired).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "token_expired").await;
}

both_databases!(tokens_of_logged_out_sessions_are_dead);
async fn tokens_of_logged_out_sessions_are_dead(app: &TestApp) {
    let (_, tokens) = app.signup().await;
    app.logout(&tokens.refresh_token).await;
    let before = app.row_counts().await;
    for (path, method) in [
        ("/api/v1/me", "GET"),
        ("/api/v1/me/sessions", "GET"),
        ("/api/v1/me/export", "GET"),
    ] {
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(&tokens.access_token)
            .send()
            .await
            .unwrap();
        assert_error(response, StatusCode::UNAUTHORIZED, "session_revoked").await;
    }
    let response = app
        .post_authed("/api/v1/auth/logout-all", &tokens.access_token, None)
        .await;
    assert_error(response, StatusCode::UNAUTHORIZED, "session_revoked").await;
    let response = app
        .patch_authed(
            "/api/v1/me",
            &tokens.access_token,
            &json!({"username": "hijacked"}),
        )
        .await;
    assert_error(response, StatusCode::UNAUTHORIZED, "session_revoked").await;
    assert_error(
        app.refresh(&tokens.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    assert_eq!(app.row_counts().await, before);
}

const INJECTIONS: &[&str] = &[
    "' OR '1'='1",
    "admin'--",
    "x'); DROP TABLE users;--",
    "\" OR \"\"=\"",
    "1; DELETE FROM sessions",
    "$1",
    "%' UNION SELECT password_hash FROM users --",
    "\\'; SELECT pg_sleep(5); --",
];

both_databases!(
    sql_injection_strings_change_nothing,
    [("LOCKOUT_MAX_FAILURES", "1000")]
);
async fn sql_injection_strings_change_nothing(app: &TestApp) {
    let (user, tokens) = app.signup().await;
    let before = app.row_counts().await;
    let mut created = 0;
    for evil in INJECTIONS {
        let evil_email = format!("{evil}@example.org");
        // registration: a username with SQL is refused; an address may be
        // valid (quotes and dashes are legal in the local part) and is then
        // stored literally, as a string, nothing else
        let response = app
            .post_json(
                "/api/v1/auth/register",
                &json!({"email": "fine@example.org", "username": evil, "password": PASSWORD}),
            )
            .await;
        assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_username",
        )
        .await;
        let response = app
            .post_json("/api/v1/auth/register", &json!({"email": evil_email, "username": format!("u{created}_x"), "password": "injected-account-pass-77"}))
            .await;
        let valid_address = response.status() == StatusCode::CREATED;
        match response.status() {
            StatusCode::CREATED => {
                created += 1;
                let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = $1")
                    .bind(evil_email.to_lowercase())
                    .fetch_one(app.db.pool())
                    .await
                    .unwrap();
                assert_eq!(stored, 1, "{evil_email} stored literally");
            }
            status => assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{evil_email}"),
        }
        // login: both fields
        assert_error(
            app.login(evil, PASSWORD).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
        assert_error(
            app.login(&evil_email, PASSWORD).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
        assert_error(
            app.login(&user.username, evil).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
        // token fields
        assert_error(
            app.refresh(evil).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
        assert_error(
            app.logout(evil).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
        let response = app
            .post_json("/api/v1/auth/verify-email", &json!({"token": evil}))
            .await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_or_expired_token",
        )
        .await;
        let response = app
            .post_json(
                "/api/v1/auth/password-reset/confirm",
                &json!({"token": evil, "new_password": "brand-new-salvage-route"}),
            )
            .await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_or_expired_token",
        )
        .await;
        let response = app
            .post_json(
                "/api/v1/auth/password-reset/request",
                &json!({"email": evil_email}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        // authenticated fields and the path parameter
        let response = app
            .patch_authed(
                "/api/v1/me",
                &tokens.access_token,
                &json!({"username": evil}),
            )
            .await;
        assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_username",
        )
        .await;
        let response = app
            .patch_authed(
                "/api/v1/me",
                &tokens.access_token,
                &json!({"email": evil_email, "current_password": PASSWORD}),
            )
            .await;
        if valid_address {
            assert_error(response, StatusCode::CONFLICT, "email_taken").await;
        } else {
            assert_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_email").await;
        }
        let path = format!("/api/v1/me/sessions/{}", urlencode(evil));
        let response = app.delete_authed(&path, &tokens.access_token, None).await;
        assert_error(response, StatusCode::NOT_FOUND, "session_not_found").await;
        let response = app.get_authed("/api/v1/me", evil).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // failed logins were counted (that is their documented effect) but
    // nothing else moved; the tables are intact and the account still works
    let after = app.row_counts().await;
    for ((table, b), (_, a)) in before.iter().zip(after.iter()) {
        match *table {
            "login_throttle" | "audit_log" => {}
            // per account registered with a literal address: the user, and a
            // verification plus a reset mail (with their tokens)
            "users" => assert_eq!(*a, b + created, "{table}"),
            "account_tokens" | "dev_outbox" => assert_eq!(*a, b + 2 * created, "{table}"),
            _ => assert_eq!(a, b, "{table} changed"),
        }
    }
    assert!(created > 0, "some injection strings are valid addresses");
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_authed("/api/v1/me", &tokens.access_token)
            .await
            .status(),
        StatusCode::OK
    );
}

both_databases!(a_password_made_of_sql_is_just_a_password);
async fn a_password_made_of_sql_is_just_a_password(app: &TestApp) {
    let password = "x'); DROP TABLE users;-- and more";
    let response = app
        .register("quoted@example.org", "quoted_user", password)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        app.login("quoted_user", password).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.count("users").await, 1);
}

fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

both_databases!(oversized_and_malformed_bodies_are_refused);
async fn oversized_and_malformed_bodies_are_refused(app: &TestApp) {
    let (_, tokens) = app.signup().await;
    let before = app.row_counts().await;
    let huge = "a".repeat(200 * 1024);
    let response = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "big@example.org", "username": "big_one", "password": huge}),
        )
        .await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let response = app
        .patch_authed(
            "/api/v1/me",
            &tokens.access_token,
            &json!({"username": huge}),
        )
        .await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let response = app.login("someone", &"p".repeat(60 * 1024)).await;
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"login\": ")
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::BAD_REQUEST, "malformed_json").await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .body("login=a&password=b")
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let response = app
        .post_json("/api/v1/auth/login", &json!({"login": "only"}))
        .await;
    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    )
    .await;
    let response = app
        .client
        .put(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;

    let after = app.row_counts().await;
    for ((table, b), (_, a)) in before.iter().zip(after.iter()) {
        match *table {
            "login_throttle" | "audit_log" => {}
            _ => assert_eq!(a, b, "{table} changed"),
        }
    }
}
