//! Rate limits shared by two backend PROCESSES (replicas) through a real
//! redis-server, and the start-up refusals of a wrong limits configuration.
//!
//! Needs `TEST_REDIS_URL` (`scripts/ensure-redis.sh`; `make test-rust` sets
//! it); skipped with a note without it unless `REQUIRE_REDIS=1`. The
//! replicas share one SQLite file here (the limiter, not the database, is
//! under test; the PostgreSQL replicas of the economy are
//! `tests/economy/replica.rs`).

mod ops_support;

use std::time::Duration;

use ops_support::{Server, TempDir, base_env, client, free_port, run_backend, text};

fn redis_url_or_skip(test: &str) -> Option<String> {
    match std::env::var("TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("REQUIRE_REDIS").as_deref() != Ok("1"),
                "{test}: REQUIRE_REDIS=1 but TEST_REDIS_URL is not set"
            );
            eprintln!("note: {test} skipped: TEST_REDIS_URL is not set");
            None
        }
    }
}

#[tokio::test]
async fn two_backend_processes_share_one_budget() {
    let Some(redis) = redis_url_or_skip("two_backend_processes_share_one_budget") else {
        return;
    };
    let dir = TempDir::new("limits");
    let database = format!("sqlite://{}/shared.db?mode=rwc", dir.path().display());
    let prefix = ops_support::unique("cots-test-rl");
    let mut env = base_env(&dir.join("data"), &database);
    env.extend([
        ("REDIS_URL".to_owned(), redis.clone()),
        ("RATE_LIMIT_REDIS_PREFIX".to_owned(), prefix.clone()),
        ("RATE_LIMIT_READ_IP_PER_MINUTE".to_owned(), "1".to_owned()),
        ("RATE_LIMIT_READ_IP_BURST".to_owned(), "6".to_owned()),
        (
            "JWT_SECRET".to_owned(),
            ops_support::STRONG_SECRET.to_owned(),
        ),
    ]);
    let replica_a = Server::start(dir.path(), &env);
    let replica_b = Server::start(dir.path(), &env);
    assert!(replica_a.logs().contains("redis"), "{}", replica_a.logs());

    let http = client();
    // Six cells of one address's read budget, spent alternately.
    for n in 0..6 {
        let replica = if n % 2 == 0 { &replica_a } else { &replica_b };
        let response = http
            .get(replica.url("/api/v1/catalog"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "cell {n}");
    }
    // The seventh is refused by whichever replica it reaches.
    for replica in [&replica_a, &replica_b] {
        let response = http
            .get(replica.url("/api/v1/catalog"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429);
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "Retry-After {wait}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "rate_limited");
    }
    // Probes stay open.
    for replica in [&replica_a, &replica_b] {
        let response = http.get(replica.url("/ready")).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
}

/// The game quotas (here: zone runs started) are classes of the same shared
/// limiter: a player who alternates replicas gets the quota once, not once
/// per replica.
#[tokio::test]
async fn two_backend_processes_share_one_run_start_quota() {
    let Some(redis) = redis_url_or_skip("two_backend_processes_share_one_run_start_quota") else {
        return;
    };
    let dir = TempDir::new("quotas");
    let database = format!("sqlite://{}/shared.db?mode=rwc", dir.path().display());
    let prefix = ops_support::unique("cots-test-quota");
    let mut env = base_env(&dir.join("data"), &database);
    env.extend([
        ("REDIS_URL".to_owned(), redis.clone()),
        ("RATE_LIMIT_REDIS_PREFIX".to_owned(), prefix.clone()),
        ("RUN_STARTS_PER_MINUTE".to_owned(), "1".to_owned()),
        ("RUN_START_BURST".to_owned(), "2".to_owned()),
        (
            "JWT_SECRET".to_owned(),
            ops_support::STRONG_SECRET.to_owned(),
        ),
    ]);
    let replica_a = Server::start(dir.path(), &env);
    let replica_b = Server::start(dir.path(), &env);

    let http = client();
    let name = ops_support::unique("quota").replace(['-', ':'], "_");
    let name: String = name.chars().take(24).collect();
    let password = "orbital-debris-42";
    let registered = http
        .post(replica_a.url("/api/v1/auth/register"))
        .json(&serde_json::json!({
            "email": format!("{name}@example.org"), "username": name, "password": password,
        }))
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success(), "{}", registered.status());
    let login: serde_json::Value = http
        .post(replica_b.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"login": name, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().expect("a token").to_owned();
    let start = |replica: &Server| {
        http.post(replica.url("/api/v1/zones/1/runs"))
            .bearer_auth(&token)
            .send()
    };
    // The burst of two, one on each replica.
    assert_eq!(start(&replica_a).await.unwrap().status(), 201);
    assert_eq!(start(&replica_b).await.unwrap().status(), 201);
    // Each replica alone has seen one start; together the budget is spent.
    for replica in [&replica_a, &replica_b] {
        let refused = start(replica).await.unwrap();
        assert_eq!(refused.status(), 429);
        assert!(refused.headers().get("retry-after").is_some());
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "rate_limited");
    }
}

#[test]
fn unreachable_redis_fails_the_start_with_a_clear_message() {
    let dir = TempDir::new("limits-bad");
    let database = format!("sqlite://{}/db.db?mode=rwc", dir.path().display());
    let port = free_port();
    let url = format!("redis://:hunter2@127.0.0.1:{port}/0");
    let mut env: Vec<(String, String)> = base_env(&dir.join("data"), &database);
    env.extend([
        ("REDIS_URL".to_owned(), url),
        (
            "RATE_LIMIT_REDIS_CONNECT_ATTEMPTS".to_owned(),
            "2".to_owned(),
        ),
    ]);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let output = run_backend(dir.path(), &pairs, &["serve"], Duration::from_secs(60));
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("REDIS_URL") || stderr.contains("Redis"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
}

#[test]
fn check_config_lists_limits_problems() {
    let dir = TempDir::new("limits-config");
    let output = run_backend(
        dir.path(),
        &[
            ("RATE_LIMIT_FAIL_MODE", "sometimes"),
            ("RATE_LIMIT_READ_USER_PER_MINUTE", "0"),
            ("REDIS_URL", "rediss://cache.example:6380"),
            ("RETENTION_RUNS_AFTER_SECS", "60"),
        ],
        &["check-config"],
        Duration::from_secs(30),
    );
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    for needle in [
        "RATE_LIMIT_FAIL_MODE",
        "RATE_LIMIT_READ_USER_PER_MINUTE",
        "rediss://",
        "RETENTION_RUNS_AFTER_SECS",
    ] {
        assert!(stderr.contains(needle), "{needle} missing from:\n{stderr}");
    }
    // A valid configuration names the store in its summary.
    let output = run_backend(dir.path(), &[], &["check-config"], Duration::from_secs(30));
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("rate limits: store=memory"));
}
