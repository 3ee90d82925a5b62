//! Health, readiness, metrics, OpenAPI, headers, migrations, the CLI.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::both_databases;
use crate::helpers::{Backend, TestApp, spawn_app};

both_databases!(health_ready_and_metrics);
async fn health_ready_and_metrics(app: &TestApp) {
    let health = app.get("/health").await;
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.get("/ready").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");

    app.login("nobody_at_all", "wrong-password-here").await;
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text().await.unwrap();
    for needle in [
        "cots_http_requests_total{method=\"GET\",route=\"/ready\",status=\"200\"} 1",
        "cots_http_request_duration_seconds_bucket",
        "cots_auth_events_total{event=\"login_failed\"} 1",
        "cots_db_pool_connections{state=\"max\"}",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

both_databases!(responses_carry_security_headers_and_a_request_id);
async fn responses_carry_security_headers_and_a_request_id(app: &TestApp) {
    for path in ["/health", "/api/v1/me", "/no/such/route"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(headers.contains_key("content-security-policy"));
        assert!(headers.contains_key("x-request-id"));
        assert_eq!(headers["cache-control"], "no-store");
    }
    let response = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    let missing = app.get("/no/such/route").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.json::<Value>().await.unwrap()["code"], "not_found");
}

both_databases!(
    cors_allows_only_configured_origins,
    [("CORS_ALLOWED_ORIGINS", "https://play.example.org")]
);
async fn cors_allows_only_configured_origins(app: &TestApp) {
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };
    let allowed = preflight("https://play.example.org").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://play.example.org"
    );
    let denied = preflight("https://evil.example.com").await.unwrap();
    assert!(!denied.headers().contains_key("access-control-allow-origin"));
}

/// Every route of the API is in the OpenAPI document (the router is built
/// from the same annotations, so this guards the list below too).
#[tokio::test]
async fn openapi_lists_every_route() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let expected = [
        ("post", "/api/v1/auth/register"),
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/refresh"),
        ("post", "/api/v1/auth/logout"),
        ("post", "/api/v1/auth/logout-all"),
        ("post", "/api/v1/auth/password-reset/request"),
        ("post", "/api/v1/auth/password-reset/confirm"),
        ("post", "/api/v1/auth/verify-email"),
        ("post", "/api/v1/auth/verify-email/resend"),
        ("get", "/api/v1/me"),
        ("patch", "/api/v1/me"),
        ("delete", "/api/v1/me"),
        ("get", "/api/v1/me/export"),
        ("get", "/api/v1/me/sessions"),
        ("delete", "/api/v1/me/sessions/{id}"),
        ("get", "/health"),
        ("get", "/ready"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
        ("get", "/docs"),
    ];
    for (method, path) in expected {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from /openapi.json"
        );
    }
    // and each documented route is really served (not 404)
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "00000000-0000-0000-0000-000000000000");
            let response = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let code = response
                .json::<Value>()
                .await
                .ok()
                .map(|b| b["code"].clone());
            assert!(
                !(status == StatusCode::NOT_FOUND && code == Some(Value::from("not_found"))),
                "{method} {path} is documented but not routed"
            );
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.unwrap();
    assert!(html.contains("/openapi.json") && html.contains("/docs/app.js"));
    assert!(!html.contains("https://"), "no external assets");
    assert_eq!(app.get("/docs/app.js").await.status(), StatusCode::OK);
    app.teardown().await;
}

both_databases!(migrations_go_down_and_up_again);
async fn migrations_go_down_and_up_again(app: &TestApp) {
    app.register_user().await;
    let known = app.db.known_migrations();
    assert!(!known.is_empty());
    assert_eq!(
        app.db.applied_migrations().await.unwrap().len(),
        known.len()
    );
    app.db.migrate_down(0).await.unwrap();
    assert!(app.db.applied_migrations().await.unwrap().is_empty());
    let users = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
        .fetch_one(app.db.pool())
        .await;
    assert!(users.is_err(), "tables are gone after the down migration");
    app.db.migrate().await.unwrap();
    assert_eq!(app.count("users").await, 0);
    assert!(backend::commands::audit(&app.db).await.unwrap().is_empty());
}

both_databases!(audit_finds_inconsistencies);
async fn audit_finds_inconsistencies(app: &TestApp) {
    app.signup().await;
    assert_eq!(backend::commands::audit(&app.db).await.unwrap(), vec![]);
    sqlx::query("DELETE FROM refresh_tokens")
        .execute(app.db.pool())
        .await
        .unwrap();
    let findings = backend::commands::audit(&app.db).await.unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].check, "refresh_tokens");
}

/// PostgreSQL over TLS (`sslmode=require`): the cluster of
/// `scripts/ensure-postgres.sh` has a certificate; a whole server runs on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls() {
    let Some(admin) = crate::helpers::postgres_admin_url() else {
        return;
    };
    let tls_admin = if admin.contains('?') {
        format!("{admin}&sslmode=require")
    } else {
        format!("{admin}?sslmode=require")
    };
    sqlx::any::install_default_drivers();
    use sqlx::Connection as _;
    let mut conn = sqlx::AnyConnection::connect(&tls_admin)
        .await
        .expect("TLS connection");
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(ssl, "the connection is encrypted");
    conn.close().await.unwrap();

    // a server whose pool connects with sslmode=require
    let app = spawn_app(Backend::Postgres).await.unwrap();
    let url = format!("{}?sslmode=require", app.database_url);
    let tls_app =
        crate::helpers::spawn_app_with(Backend::Sqlite, &[("DATABASE_URL", url.as_str())])
            .await
            .unwrap();
    tls_app.register_user().await;
    assert_eq!(tls_app.get("/ready").await.status(), StatusCode::OK);
    let encrypted: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE s.ssl AND a.datname = current_database()",
    )
    .fetch_one(tls_app.db.pool())
    .await
    .unwrap();
    assert!(encrypted >= 1);
    tls_app.teardown().await;
    app.teardown().await;
}

fn backend_bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backend"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

#[test]
fn check_config_refuses_weak_production_secrets() {
    let dir = std::env::temp_dir().join(format!("cots-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    for secret in [
        None,
        Some("short"),
        Some("changeme-changeme-changeme-changeme"),
    ] {
        let mut command = backend_bin();
        command
            .current_dir(&dir)
            .arg("check-config")
            .env("APP_ENV", "production");
        if let Some(secret) = secret {
            command.env("JWT_SECRET", secret);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success(), "{secret:?} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("JWT_SECRET"), "{stderr}");
    }
    let output = backend_bin()
        .current_dir(&dir)
        .args(["check-config"])
        .env("APP_ENV", "production")
        .env("SMTP_HOST", "smtp.example.org")
        .env(
            "JWT_SECRET",
            "Qm9vdHN0cmFwLXNlY3JldC1mb3ItdGVzdHMtb25seS0xMjM0NTY3",
        )
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("configuration OK"));
    assert!(
        !stdout.contains("Qm9vdHN0cmFw"),
        "the secret is not printed"
    );
    let bad = backend_bin()
        .current_dir(&dir)
        .arg("check-config")
        .env("BIND_ADDR", "nowhere")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn migrate_and_audit_commands_on_a_fresh_sqlite_file() {
    let dir = std::env::temp_dir().join(format!("cots-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        let output = backend_bin()
            .current_dir(&dir)
            .args(args)
            .env("LOG_FORMAT", "json")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (ok, out) = run(&["migrate"]);
    assert!(ok, "{out}");
    assert!(
        dir.join("data/backend.db").exists(),
        "default SQLite file under data/"
    );
    let (ok, out) = run(&["audit"]);
    assert!(ok && out.contains("OK"), "{out}");
    let (ok, out) = run(&["migrate", "--down"]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["audit"]);
    assert!(!ok, "audit fails with migrations missing: {out}");
    let (ok, _) = run(&["migrate"]);
    assert!(ok);
    let (ok, out) = run(&["outbox"]);
    assert!(ok && out.contains("empty"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A fresh checkout with no configuration: `backend serve` creates the
/// SQLite file under data/, generates a development secret and answers
/// /ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_starts_with_no_configuration() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("cots-serve-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = backend_bin()
        .current_dir(&dir)
        .arg("serve")
        .env("BIND_ADDR", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let address = tokio::task::spawn_blocking(move || {
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let entry: Value = serde_json::from_str(&line).expect("JSON log line");
            if entry["message"] == "listening" {
                return entry["address"].as_str().unwrap().to_owned();
            }
        }
        panic!("the server never said it was listening");
    })
    .await
    .unwrap();
    let ready = reqwest::get(format!("http://{address}/ready"))
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert!(dir.join("data/backend.db").exists());
    assert!(dir.join("data/jwt_secret").exists());
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

/// Start-up retries an unreachable database with backoff, then gives up
/// with a clear error.
#[tokio::test]
async fn startup_retries_the_database_then_fails_clearly() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener); // nothing listens there now
    let url = format!("postgres://cots:secret-pw@127.0.0.1:{port}/nothing");
    let env: std::collections::HashMap<&str, String> = [
        ("DATABASE_URL", url),
        ("DB_CONNECT_ATTEMPTS", "3".to_owned()),
        ("DB_CONNECT_BACKOFF_MS", "100".to_owned()),
        ("DB_ACQUIRE_TIMEOUT_SECS", "1".to_owned()),
        ("JWT_SECRET", crate::helpers::JWT_SECRET.to_owned()),
    ]
    .into_iter()
    .collect();
    let config = backend::Config::from_lookup(|key| env.get(key).cloned()).unwrap();
    let started = std::time::Instant::now();
    let error = match backend::Application::build(config).await {
        Ok(_) => panic!("connected to nothing"),
        Err(error) => format!("{error:#}"),
    };
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(300),
        "backed off 100 + 200 ms"
    );
    assert!(error.contains("after 3 attempts"), "{error}");
    assert!(
        !error.contains("secret-pw"),
        "the password is redacted: {error}"
    );
}
