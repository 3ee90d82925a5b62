//! The retention job (issue 21): aged rows go, fresh rows stay, counts in
//! `/metrics`; and `backend seed-demo`.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_databases;
use crate::econ::{Pilot, json_of, pilot};
use crate::helpers::TestApp;

const DAY_MS: i64 = 24 * 3600 * 1000;

async fn exec(app: &TestApp, sql: &str, binds: &[&str], at: i64) {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
    for bind in binds {
        query = query.bind(*bind);
    }
    query
        .bind(at)
        .execute(app.db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn user_id(app: &TestApp, username: &str) -> String {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn count_where(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

both_databases!(
    aged_rows_go_fresh_rows_stay,
    [("RETENTION_INTERVAL_SECS", "1")]
);
async fn aged_rows_go_fresh_rows_stay(app: &TestApp) {
    let player = pilot(app).await;
    let uid = user_id(app, &player.username).await;
    app.player(&player).await; // creates the player row runs belong to
    let now = backend::clock::now_ms();
    let old = now - 90 * DAY_MS;
    // A session revoked long ago with its refresh token.
    exec(app, "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, revoked_at, revoked_reason) VALUES ('old-session', $1, $2, $2, $2, $2, 'logout')", &[&uid], old).await;
    exec(app, "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES ('old-token', 'old-session', $1, $1)", &[], old).await;
    // Mail codes, a throttle row, an idempotency key, a run, outbox mail.
    exec(app, "INSERT INTO account_tokens (token_hash, user_id, purpose, email, created_at, expires_at) VALUES ('old-code', $1, 'password_reset', 'x@example.org', $2, $2)", &[&uid], old).await;
    exec(
        app,
        "INSERT INTO login_throttle (subject, failures, updated_at) VALUES ('login:old', 3, $1)",
        &[],
        old,
    )
    .await;
    exec(
        app,
        "INSERT INTO login_throttle (subject, failures, updated_at) VALUES ('login:fresh', 3, $1)",
        &[],
        now,
    )
    .await;
    exec(app, "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, body, created_at) VALUES ($1, 'old-key', 'h', 200, '{}', $2)", &[&uid], old).await;
    exec(
        app,
        "INSERT INTO runs (id, user_id, zone, seed, started_at) VALUES ('old-run', $1, 1, '7', $2)",
        &[&uid],
        old,
    )
    .await;
    exec(app, "INSERT INTO run_pieces (run_id, debris_index, claimed_at, kind, collected_at) VALUES ('old-run', 0, 1.0, 'scrap', $1)", &[], old).await;
    exec(app, "INSERT INTO dev_outbox (id, to_address, subject, body, created_at) VALUES ('old-mail', 'x@example.org', 's', 'b', $1)", &[], old).await;
    // A fresh run and the live session must stay.
    let (fresh_run, _) = app.start_run(&player, 1).await;

    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let gone = count_where(app, "SELECT COUNT(*) FROM runs WHERE id = 'old-run'").await == 0
            && count_where(app, "SELECT COUNT(*) FROM dev_outbox WHERE id = 'old-mail'").await == 0;
        if gone {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the retention job did not run"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for (sql, expected) in [
        ("SELECT COUNT(*) FROM sessions WHERE id = 'old-session'", 0),
        (
            "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = 'old-token'",
            0,
        ),
        (
            "SELECT COUNT(*) FROM account_tokens WHERE token_hash = 'old-code'",
            0,
        ),
        (
            "SELECT COUNT(*) FROM login_throttle WHERE subject = 'login:old'",
            0,
        ),
        (
            "SELECT COUNT(*) FROM login_throttle WHERE subject = 'login:fresh'",
            1,
        ),
        (
            "SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = 'old-key'",
            0,
        ),
        (
            "SELECT COUNT(*) FROM run_pieces WHERE run_id = 'old-run'",
            0,
        ),
        ("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL", 1),
    ] {
        assert_eq!(count_where(app, sql).await, expected, "{sql}");
    }
    assert_eq!(
        count_where(
            app,
            &format!("SELECT COUNT(*) FROM runs WHERE id = '{fresh_run}'")
        )
        .await,
        1
    );
    // The player still plays and the audit still balances.
    assert_eq!(
        app.get_authed("/api/v1/player", &player.token)
            .await
            .status(),
        StatusCode::OK
    );
    assert!(app.audit().await.is_empty(), "{:?}", app.audit().await);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for table in [
        "runs",
        "sessions",
        "dev_outbox",
        "idempotency_keys",
        "login_throttle",
        "account_tokens",
        "refresh_tokens",
    ] {
        let line = format!("cots_retention_deleted_rows_total{{table=\"{table}\"}} ");
        let value: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .unwrap_or_else(|| panic!("{line} missing:\n{metrics}"))
            .trim()
            .parse()
            .unwrap();
        assert!(value >= 1, "{table}: {value}");
    }
    assert!(
        metrics.contains("cots_retention_runs_total{event=\"done\"}"),
        "{metrics}"
    );
}

both_databases!(
    retention_is_done_once_under_the_lock,
    // The server's own job is off: its first pass (at start) could take the
    // row before the two passes below.
    [("RETENTION_INTERVAL_SECS", "0")]
);
async fn retention_is_done_once_under_the_lock(app: &TestApp) {
    // Two passes at once (two replicas): on PostgreSQL one may skip, never
    // both fail; the rows go exactly once.
    let config = backend::config::Config::from_lookup(|_| None)
        .unwrap()
        .retention;
    let now = backend::clock::now_ms();
    exec(app, "INSERT INTO dev_outbox (id, to_address, subject, body, created_at) VALUES ('old-mail', 'x@example.org', 's', 'b', $1)", &[], now - 90 * DAY_MS).await;
    let (a, b) = tokio::join!(
        backend::retention::run_once(&app.db, &config, now),
        backend::retention::run_once(&app.db, &config, now)
    );
    let (a, b) = (a.expect("pass a"), b.expect("pass b"));
    assert_eq!(
        a.deleted("dev_outbox") + b.deleted("dev_outbox"),
        1,
        "{a:?} {b:?}"
    );
}

both_databases!(seed_demo_pilots_fly_zones_two_to_four);
async fn seed_demo_pilots_fly_zones_two_to_four(app: &TestApp) {
    let config = backend::config::Config::from_lookup(|_| None).unwrap();
    let pilots = backend::commands::seed_demo(&config, &app.db, "salvage-demo-flight")
        .await
        .expect("seed");
    assert_eq!(pilots.len(), 3);
    assert!(pilots.iter().all(|p| p.created));
    for zone in 2u8..=4 {
        let tokens = json_of(
            app.login(&format!("demo_zone{zone}"), "salvage-demo-flight")
                .await,
            StatusCode::OK,
        )
        .await;
        let demo = Pilot {
            username: format!("demo_zone{zone}"),
            token: tokens["access_token"].as_str().unwrap().to_owned(),
        };
        app.start_run(&demo, zone).await;
        let state = app.player(&demo).await;
        assert!(
            state["credits"].as_u64().unwrap() >= backend::commands::DEMO_CREDITS,
            "{state}"
        );
    }
    // Again: kept, not duplicated; the audit balances.
    let again = backend::commands::seed_demo(&config, &app.db, "salvage-demo-flight")
        .await
        .unwrap();
    assert!(again.iter().all(|p| !p.created));
    assert!(app.audit().await.is_empty(), "{:?}", app.audit().await);

    let production = backend::config::Config::from_lookup(|key| match key {
        "APP_ENV" => Some("production".to_owned()),
        "JWT_SECRET" => Some("q8V3nR1xZp0LwT7mKc2YhB5sJd9FgA4eU6iO".to_owned()),
        "MAIL_OUTBOX_IN_PRODUCTION" => Some("true".to_owned()),
        _ => None,
    })
    .unwrap();
    let refused = backend::commands::seed_demo(&production, &app.db, "salvage-demo-flight")
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("APP_ENV=production"),
        "{refused}"
    );
    let _ = json!({});
}
