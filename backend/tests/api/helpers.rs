#![allow(dead_code)] // a shared harness: not every test binary uses every helper

//! Test harness: a real server on port 0 with a fresh database per test,
//! on SQLite (a temporary file) or PostgreSQL (a new database on the server
//! named by `TEST_POSTGRES_URL`), plus typed helpers for the common calls.
//!
//! Economy tests reuse this: `spawn_app(Backend::Sqlite)`, `app.signup()`
//! for a logged-in player, `app.get_authed` / `app.post_authed`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Once;

use backend::Application;
use backend::config::Config;
use backend::db::{Db, Dialect};
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{AnyConnection, Connection as _};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The password every helper-made account uses.
pub const PASSWORD: &str = "orbital-debris-collector";
/// HS256 key of every test server (tests forge tokens with it).
pub const JWT_SECRET: &str = "test-only-jwt-key-0123456789-abcdefghijklmnop";

pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub port: u16,
    /// `http://<METRICS_BIND_ADDR>` when the test set one.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    /// A separate pool on the same database, for assertions.
    pub db: Db,
    pub backend: Backend,
    pub database_url: String,
    server: tokio::task::JoinHandle<()>,
    postgres_db: Option<String>,
    dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: u64,
}

/// A registered account.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub email: String,
    pub username: String,
    pub password: String,
}

impl TestUser {
    pub fn random() -> Self {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
        Self {
            email: format!("pilot.{tag}@example.org"),
            username: format!("pilot_{tag}"),
            password: PASSWORD.to_owned(),
        }
    }
}

/// Skips (returns None) or fails when PostgreSQL is not configured.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var("REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!(
                    "REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set (run scripts/ensure-postgres.sh)"
                );
            }
            static NOTE: Once = Once::new();
            NOTE.call_once(|| {
                eprintln!(
                    "note: TEST_POSTGRES_URL not set: PostgreSQL variants of the tests are skipped"
                );
            });
            None
        }
    }
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

/// `overrides` are environment-style settings (`("LOCKOUT_MAX_FAILURES", "3")`).
/// None when the backend is PostgreSQL and none is configured.
pub async fn spawn_app_with(backend: Backend, overrides: &[(&str, &str)]) -> Option<TestApp> {
    sqlx::any::install_default_drivers();
    if std::env::var("TEST_LOG").is_ok() {
        backend::telemetry::init(backend::config::LogFormat::Json);
    }
    let dir = std::env::temp_dir().join(format!("cots-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    let (database_url, postgres_db) = match backend {
        Backend::Sqlite => (format!("sqlite://{}/test.db?mode=rwc", dir.display()), None),
        Backend::Postgres => {
            let admin = postgres_admin_url()?;
            let name = format!("cots_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = AnyConnection::connect(&admin)
                .await
                .expect("connect to TEST_POSTGRES_URL");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            conn.close().await.ok();
            (with_database(&admin, &name), Some(name))
        }
    };

    let mut env: HashMap<String, String> = [
        ("BIND_ADDR", "127.0.0.1:0"),
        ("JWT_SECRET", JWT_SECRET),
        ("AUTH_RATE_LIMIT_PER_MINUTE", "100000"),
        ("AUTH_RATE_LIMIT_BURST", "100000"),
        ("DB_MAX_CONNECTIONS", "5"),
        ("DB_CONNECT_ATTEMPTS", "3"),
        ("SHUTDOWN_GRACE_SECS", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.insert("DATABASE_URL".into(), database_url.clone());
    env.insert("DATA_DIR".into(), dir.join("data").display().to_string());
    for (key, value) in overrides {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    let config = Config::from_lookup(|key| env.get(key).cloned()).expect("test configuration");
    let application = Application::build(config.clone())
        .await
        .expect("build application");
    let port = application.port();
    let metrics_address = application
        .metrics_addr()
        .map(|addr| format!("http://{addr}"));
    let server = tokio::spawn(async move {
        application
            .run_until(std::future::pending())
            .await
            .expect("server");
    });
    let mut db_config = config.database.clone();
    db_config.max_connections = 3;
    let db = Db::connect(&db_config).await.expect("assertion pool");

    Some(TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        metrics_address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        db,
        backend,
        database_url,
        server,
        postgres_db,
        dir,
    })
}

/// `postgres://u:p@h:port/db?x` with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Stops the server and deletes the database.
    pub async fn teardown(self) {
        self.server.abort();
        let _ = self.server.await;
        self.db.close().await;
        if let (Some(name), Some(admin)) = (&self.postgres_db, postgres_admin_url())
            && let Ok(mut conn) = AnyConnection::connect(&admin).await
        {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    // ---- raw requests -----------------------------------------------------

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_authed(&self, path: &str, access_token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_authed(
        &self,
        path: &str,
        access_token: &str,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.client.post(self.url(path)).bearer_auth(access_token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request")
    }

    pub async fn put_authed(&self, path: &str, access_token: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .bearer_auth(access_token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn patch_authed(&self, path: &str, access_token: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(access_token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete_authed(
        &self,
        path: &str,
        access_token: &str,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.client.delete(self.url(path)).bearer_auth(access_token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request")
    }

    // ---- typed helpers ----------------------------------------------------

    pub async fn register(&self, email: &str, username: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/register",
            &json!({ "email": email, "username": username, "password": password }),
        )
        .await
    }

    pub async fn login(&self, login: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/login",
            &json!({ "login": login, "password": password }),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    pub async fn logout(&self, refresh_token: &str) -> Response {
        self.post_json(
            "/api/v1/auth/logout",
            &json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    /// Registers a new random account (asserting 201).
    pub async fn register_user(&self) -> TestUser {
        let user = TestUser::random();
        let response = self
            .register(&user.email, &user.username, &user.password)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap_or_default()
        );
        user
    }

    /// Logs in (asserting 200).
    pub async fn login_user(&self, user: &TestUser) -> Tokens {
        let response = self.login(&user.username, &user.password).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        response.json().await.expect("token body")
    }

    /// A new account, logged in.
    pub async fn signup(&self) -> (TestUser, Tokens) {
        let user = self.register_user().await;
        let tokens = self.login_user(&user).await;
        (user, tokens)
    }

    // ---- database assertions ------------------------------------------------

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(self.db.pool())
            .await
            .expect("count")
    }

    pub async fn count_events(&self, event: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE event = $1")
            .bind(event)
            .fetch_one(self.db.pool())
            .await
            .expect("count events")
    }

    /// A snapshot of every table's row count: "changed nothing" checks.
    pub async fn row_counts(&self) -> Vec<(&'static str, i64)> {
        let mut counts = Vec::new();
        for table in [
            "users",
            "sessions",
            "refresh_tokens",
            "account_tokens",
            "login_throttle",
            "audit_log",
            "dev_outbox",
        ] {
            counts.push((table, self.count(table).await));
        }
        counts
    }

    /// Waits (at most 10 s) until `table` holds `expected` rows; the count
    /// then. Mail is sent off the request path, so its rows come a moment
    /// after the answer.
    pub async fn wait_for_count(&self, table: &str, expected: i64) -> i64 {
        for _ in 0..200 {
            let count = self.count(table).await;
            if count == expected {
                return count;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.count(table).await
    }

    /// The mails to `to` whose subject contains `subject_part` (newest
    /// first), waiting at most 10 s for one: mail is sent off the request
    /// path.
    pub async fn mails_to(
        &self,
        to: &str,
        subject_part: &str,
    ) -> Vec<backend::db::outbox::OutboxRow> {
        for _ in 0..200 {
            let mut conn = self.db.pool().acquire().await.expect("conn");
            let mails = backend::db::outbox::latest(&mut conn, Some(to), 20)
                .await
                .expect("outbox");
            let about: Vec<_> = mails
                .into_iter()
                .filter(|m| m.subject.contains(subject_part))
                .collect();
            if !about.is_empty() {
                // Only the mails about it, newest first: mail is sent off
                // the request path, so another mail may have landed later.
                return about;
            }
            drop(conn);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no mail about {subject_part:?} to {to}");
    }

    /// The newest code about `subject_part` once it is not `previous`
    /// (waiting at most 10 s for the new mail).
    pub async fn next_mailed_code(&self, to: &str, subject_part: &str, previous: &str) -> String {
        for _ in 0..200 {
            let code = self.mailed_code(to, subject_part).await;
            if code != previous {
                return code;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no new code about {subject_part:?} to {to}");
    }

    /// The newest code mailed to `to` whose subject contains `subject_part`.
    pub async fn mailed_code(&self, to: &str, subject_part: &str) -> String {
        let mails = self.mails_to(to, subject_part).await;
        let mail = mails
            .iter()
            .find(|m| m.subject.contains(subject_part))
            .unwrap_or_else(|| panic!("no mail about {subject_part:?} to {to}"));
        mail.body
            .lines()
            .find_map(|line| {
                line.split_once("code: ")
                    .map(|(_, code)| code.trim().to_owned())
            })
            .expect("a code line in the mail")
    }

    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }
}

/// Reads an error body, asserting its status and code.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    let actual = response.status();
    let retry_after = response.headers().get("retry-after").cloned();
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(actual, status, "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert!(body["message"].is_string(), "body: {body}");
    if status == StatusCode::TOO_MANY_REQUESTS {
        let secs: u64 = retry_after
            .expect("429 carries Retry-After")
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(secs >= 1);
    }
    body
}

/// Runs a test body on SQLite and on PostgreSQL (when configured):
/// `both_databases!(name);` or `both_databases!(name, [("KEY", "value")]);`
/// for `async fn name(app: &TestApp)`.
#[macro_export]
macro_rules! both_databases {
    ($name:ident) => {
        $crate::both_databases!($name, []);
    };
    ($name:ident, [$($override:expr),* $(,)?]) => {
        mod $name {
            use $crate::helpers::{spawn_app_with, Backend};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = spawn_app_with(Backend::Sqlite, &[$($override),*]).await.expect("sqlite app");
                super::$name(&app).await;
                app.teardown().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = spawn_app_with(Backend::Postgres, &[$($override),*]).await else {
                    return;
                };
                super::$name(&app).await;
                app.teardown().await;
            }
        }
    };
}

/// 32 random bytes, base64url without padding (a PKCE verifier, a `state`).
pub fn random_token() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("OS randomness");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
