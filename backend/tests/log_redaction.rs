//! No password, token, code or hash ever reaches the logs, and every line
//! logged while serving a request carries its request id.
//!
//! Its own test binary: it installs the process-wide subscriber, at the most
//! verbose level, writing into a buffer that is searched afterwards.

#[path = "api/helpers.rs"]
mod helpers;
#[path = "support_oidc/mod.rs"]
mod support_oidc;

use std::io::Write;
use std::sync::{Arc, Mutex};

use helpers::{Backend, PASSWORD, TestApp, Tokens, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Runs every flow that handles a secret; returns the secrets it saw.
async fn exercise(app: &TestApp) -> Vec<String> {
    let mut secrets = vec![PASSWORD.to_owned(), helpers::JWT_SECRET.to_owned()];
    let (user, tokens) = app.signup().await;
    secrets.push(app.mailed_code(&user.email, "confirm").await);
    secrets.extend([tokens.access_token.clone(), tokens.refresh_token.clone()]);
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    secrets.push(hash);

    let rotated: Tokens = app
        .refresh(&tokens.refresh_token)
        .await
        .json()
        .await
        .unwrap();
    secrets.extend([rotated.access_token.clone(), rotated.refresh_token.clone()]);
    // reuse detection logs a warning: still no token in it
    assert_eq!(
        app.refresh(&tokens.refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let wrong = "definitely-wrong-password-xyz";
    secrets.push(wrong.to_owned());
    for _ in 0..6 {
        app.login(&user.username, wrong).await;
    }
    let unknown_login = "secret-typed-into-login-field";
    secrets.push(unknown_login.to_owned());
    app.login(unknown_login, wrong).await;

    let (other, other_tokens) = app.signup().await;
    secrets.extend([
        other_tokens.access_token.clone(),
        other_tokens.refresh_token.clone(),
    ]);
    app.post_json(
        "/api/v1/auth/password-reset/request",
        &json!({ "email": other.email }),
    )
    .await;
    let reset = app.mailed_code(&other.email, "password reset").await;
    secrets.push(reset.clone());
    let new_password = "a-new-and-secret-course";
    secrets.push(new_password.to_owned());
    let confirmed = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({ "token": reset, "new_password": new_password }),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);
    let fresh = app
        .login(&other.username, new_password)
        .await
        .json::<Tokens>()
        .await
        .unwrap();
    secrets.extend([fresh.access_token.clone(), fresh.refresh_token.clone()]);
    let third_password = "yet-another-hidden-route";
    secrets.push(third_password.to_owned());
    let changed = app
        .patch_authed(
            "/api/v1/me",
            &fresh.access_token,
            &json!({ "new_password": third_password, "current_password": new_password }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let deleted = app
        .delete_authed(
            "/api/v1/me",
            &fresh.access_token,
            Some(&json!({ "password": third_password })),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    app.logout(&rotated.refresh_token).await;
    secrets
}

/// A sign-in through a real OpenID provider on loopback (the Google path)
/// and a tampered one: the provider's code, the game's code and verifier,
/// the tokens. Returns the secrets it saw.
async fn exercise_provider(backend: Backend) -> Vec<String> {
    let provider = support_oidc::shared().await;
    let client_id = format!("logs-{}", uuid::Uuid::new_v4().simple());
    let client_secret = "log-test-client-secret-abcdef";
    let Some(app) = spawn_app_with(
        backend,
        &[
            ("OAUTH_PROVIDERS", "google"),
            ("OAUTH_GOOGLE_CLIENT_ID", &client_id),
            ("OAUTH_GOOGLE_CLIENT_SECRET", client_secret),
            ("OAUTH_GOOGLE_ISSUER", &provider.issuer),
        ],
    )
    .await
    else {
        return Vec::new();
    };
    provider
        .register_client(
            &client_id,
            client_secret,
            &app.url("/api/v1/auth/oauth/google/callback"),
            "oidc",
        )
        .await;
    let mut secrets = vec![client_secret.to_owned()];
    for tamper in [None, Some("bad_signature")] {
        let verifier = helpers::random_token();
        let challenge = game::api::oauth::challenge_s256(&verifier);
        let state = helpers::random_token();
        let mut start = reqwest::Url::parse(&app.url("/api/v1/auth/oauth/google/start")).unwrap();
        start
            .query_pairs_mut()
            .append_pair("redirect_uri", "http://127.0.0.1:9/callback")
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let result = provider
            .drive(
                start.as_str(),
                &support_oidc::Identity::random(),
                support_oidc::DriveOptions {
                    tamper,
                    ..Default::default()
                },
            )
            .await;
        // The provider's own code, on its way through the backend's callback.
        for url in &result.visited {
            if let Ok(url) = reqwest::Url::parse(url)
                && url.path().ends_with("/callback")
                && let Some((_, code)) = url.query_pairs().find(|(k, _)| k == "code")
            {
                secrets.push(code.into_owned());
            }
        }
        secrets.extend([verifier.clone(), state.clone()]);
        if let Some(code) = result.query("code") {
            secrets.push(code.clone());
            let outcome: Value = app
                .post_json(
                    "/api/v1/auth/oauth/exchange",
                    &json!({"code": code, "code_verifier": verifier}),
                )
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(outcome["status"], "signed_in", "{outcome}");
            secrets.push(
                outcome["tokens"]["access_token"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
            secrets.push(
                outcome["tokens"]["refresh_token"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        } else {
            assert_eq!(result.query("error").as_deref(), Some("oauth_failed"));
        }
    }
    app.teardown().await;
    secrets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_never_contain_secrets_and_always_the_request_id() {
    let capture = Capture::default();
    backend::telemetry::init_with(
        backend::config::LogFormat::Json,
        "trace,hyper=debug,h2=info,reqwest=info,hyper_util=debug",
        capture.clone(),
    );
    let mut secrets = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app(backend).await else {
            continue;
        };
        secrets.extend(exercise(&app).await);
        app.teardown().await;
        secrets.extend(exercise_provider(backend).await);
    }

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = logs.lines().collect();
    assert!(
        lines.len() > 100,
        "the capture works ({} lines)",
        lines.len()
    );
    for secret in &secrets {
        assert!(!secret.is_empty());
        // also the first half, to catch a truncated token
        let half = &secret[..secret.len() / 2];
        for needle in [secret.as_str(), half] {
            if let Some(line) = lines.iter().find(|line| line.contains(needle)) {
                panic!("a secret reached the logs: {line}");
            }
        }
    }
    assert!(!logs.contains("$argon2id$"), "no password hash in the logs");

    let mut in_requests = 0;
    for line in &lines {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            panic!("not a JSON line: {line}");
        };
        let spans = entry
            .get("spans")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(request) = spans.iter().find(|span| span["name"] == "request") {
            in_requests += 1;
            assert!(
                request["request_id"]
                    .as_str()
                    .is_some_and(|id| id.len() >= 8),
                "{line}"
            );
        }
    }
    assert!(
        in_requests > 50,
        "request lines carry the request span ({in_requests})"
    );
}
