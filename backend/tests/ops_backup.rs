//! Backup and restore round trips with `scripts/db-backup.sh`, on SQLite and
//! on PostgreSQL, that lose nothing:
//!
//! 1. the real backend writes data through the API (accounts, sessions,
//!    rotated refresh tokens, a logout, failed logins, audit rows, mail);
//! 2. every table is snapshotted and a backup taken while the server runs;
//! 3. more changes are made (a new account, a lockout, logout-all);
//! 4. the server is stopped and the backup restored over the live database,
//!    and separately into a fresh one;
//! 5. every table of both equals the snapshot row for row, the old accounts
//!    log in again, the new one is gone, and `backend audit` is clean.
//!
//! PostgreSQL needs TEST_POSTGRES_URL (`scripts/ensure-postgres.sh` prints
//! one) and pg_dump/pg_restore; without the URL the PostgreSQL test is
//! skipped with a note, unless REQUIRE_POSTGRES=1.

mod ops_support;

use std::path::Path;
use std::time::Duration;

use ops_support::{
    PASSWORD, PgDatabase, STRONG_SECRET, Server, Snapshot, TempDir, assert_same, base_env, client,
    login, postgres_url_or_skip, register, run_backend, run_script, snapshot_postgres,
    snapshot_sqlite, text,
};

const PILOTS: [&str; 3] = ["vesna_k", "ore_hauler", "drift-9"];

fn server_env(dir: &TempDir, url: &str) -> Vec<(String, String)> {
    let mut env = base_env(&dir.join("data"), url);
    env.push(("APP_ENV".into(), "production".into()));
    env.push(("JWT_SECRET".into(), STRONG_SECRET.into()));
    // Mail stays in the outbox table (production refuses that unless told).
    env.push(("MAIL_OUTBOX_IN_PRODUCTION".into(), "true".into()));
    env.push(("LOCKOUT_MAX_FAILURES".into(), "3".into()));
    env
}

/// Step 1: data of every kind the backend stores today.
async fn populate(server: &Server) {
    for pilot in PILOTS {
        assert_eq!(register(server, pilot).await, 201, "register {pilot}");
    }
    let http = client();
    for pilot in PILOTS {
        let (status, body) = login(server, pilot, PASSWORD).await;
        assert_eq!(status, 200, "login {pilot}");
        let body = body.expect("token body");
        // Rotate the refresh token once (a rotated-out row plus its successor).
        let refresh = http
            .post(server.url("/api/v1/auth/refresh"))
            .json(&serde_json::json!({ "refresh_token": body["refresh_token"] }))
            .send()
            .await
            .expect("refresh");
        assert_eq!(refresh.status(), 200, "refresh {pilot}");
    }
    // A second session for the first pilot, logged out (a revoked session).
    let (_, body) = login(server, PILOTS[0], PASSWORD).await;
    let body = body.expect("token body");
    let logout = http
        .post(server.url("/api/v1/auth/logout"))
        .bearer_auth(body["access_token"].as_str().expect("access token"))
        .json(&serde_json::json!({ "refresh_token": body["refresh_token"] }))
        .send()
        .await
        .expect("logout");
    assert!(logout.status().is_success(), "logout: {}", logout.status());
    // Failed logins (throttle counters and audit rows).
    let (status, _) = login(server, PILOTS[1], "not-the-password-at-all").await;
    assert_eq!(status, 401);
}

/// Step 3: changes the restore must undo.
async fn change_after_backup(server: &Server) {
    assert_eq!(register(server, "latecomer").await, 201);
    for _ in 0..3 {
        let _ = login(server, PILOTS[2], "wrong-password-attempt").await;
    }
    let (status, _) = login(server, PILOTS[2], PASSWORD).await;
    assert_ne!(status, 200, "{} should be locked out now", PILOTS[2]);
}

/// Step 5: the restored database behaves like the original.
async fn check_restored_behaviour(dir: &TempDir, url: &str) {
    let env = server_env(dir, url);
    let server = Server::start(dir.path(), &env);
    for pilot in PILOTS {
        let (status, _) = login(&server, pilot, PASSWORD).await;
        assert_eq!(status, 200, "{pilot} logs in after the restore");
    }
    let (status, _) = login(&server, "latecomer", PASSWORD).await;
    assert_eq!(status, 401, "an account created after the backup is gone");
    drop(server);

    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let audit = run_backend(dir.path(), &pairs, &["audit"], Duration::from_secs(60));
    assert!(
        audit.status.success(),
        "backend audit after the restore:\n{}\n{}",
        text(&audit.stdout),
        text(&audit.stderr)
    );
}

fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let credentials = rest.split_once('@')?.0;
    credentials.split_once(':').map(|(_, password)| password)
}

fn script_ok(args: &[&str], cwd: &Path) -> String {
    let output = run_script("scripts/db-backup.sh", args, cwd, &[]);
    let stderr = text(&output.stderr);
    assert!(
        output.status.success(),
        "scripts/db-backup.sh {}:\nstdout: {}\nstderr: {stderr}",
        args.join(" "),
        text(&output.stdout)
    );
    stderr
}

fn assert_nonempty(snapshot: &Snapshot) {
    for table in [
        "users",
        "sessions",
        "refresh_tokens",
        "audit_log",
        "_sqlx_migrations",
    ] {
        assert!(
            snapshot.get(table).is_some_and(|rows| !rows.is_empty()),
            "the test data should fill {table}: {snapshot:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backup_and_restore_lose_nothing() {
    if std::process::Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_err()
    {
        panic!("sqlite3 is needed (apt-get install sqlite3)");
    }
    let dir = TempDir::new("backup-sqlite");
    let db = dir.join("live.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let backup = dir.join("backup.sqlite");
    let backup_arg = backup.display().to_string();

    let mut server = Server::start(dir.path(), &server_env(&dir, &url));
    populate(&server).await;
    let before = snapshot_sqlite(&db).await;
    assert_nonempty(&before);
    // Online backup: the server is running.
    script_ok(&["backup", "--url", &url, &backup_arg], dir.path());
    change_after_backup(&server).await;
    assert_ne!(snapshot_sqlite(&db).await, before, "the changes must show");
    assert!(server.terminate(Duration::from_secs(30)).success());

    // Backup files are private.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&backup)
        .expect("backup file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "backup readable by others: {mode:o}");

    // Restore over the live database (its -wal/-shm files included).
    script_ok(
        &["restore", "--yes", "--url", &url, &backup_arg],
        dir.path(),
    );
    assert_same(
        &before,
        &snapshot_sqlite(&db).await,
        "SQLite restored over the live database",
    );

    // Restore into a database that does not exist yet.
    let fresh = dir.join("restored/fresh.db");
    let fresh_url = format!("sqlite://{}?mode=rwc", fresh.display());
    script_ok(
        &["restore", "--yes", "--url", &fresh_url, &backup_arg],
        dir.path(),
    );
    assert_same(
        &before,
        &snapshot_sqlite(&fresh).await,
        "SQLite restored into a new file",
    );

    check_restored_behaviour(&dir, &url).await;
}

#[test]
fn restore_refuses_without_confirmation_and_rejects_garbage() {
    let dir = TempDir::new("backup-refuse");
    let url = format!("sqlite://{}?mode=rwc", dir.join("x.db").display());
    let garbage = dir.join("garbage.sqlite");
    std::fs::write(&garbage, b"this is not a database").expect("write");
    let garbage_arg = garbage.display().to_string();

    let output = run_script(
        "scripts/db-backup.sh",
        &["restore", "--url", &url, &garbage_arg],
        dir.path(),
        &[],
    );
    assert!(!output.status.success(), "a broken backup must be refused");
    assert!(!dir.join("x.db").exists(), "nothing may be written");

    // A sound backup, but no --yes and no terminal to ask on: refused.
    let source = dir.join("source.db");
    let made = std::process::Command::new("sqlite3")
        .arg(&source)
        .arg("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        .status()
        .expect("sqlite3");
    assert!(made.success());
    let source_arg = source.display().to_string();
    let output = run_script(
        "scripts/db-backup.sh",
        &["restore", "--url", &url, &source_arg],
        dir.path(),
        &[],
    );
    assert!(
        !output.status.success(),
        "restore without --yes must not proceed"
    );
    assert!(
        text(&output.stderr).contains("--yes"),
        "{}",
        text(&output.stderr)
    );
    assert!(!dir.join("x.db").exists(), "nothing may be written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backup_and_restore_lose_nothing() {
    let Some(admin_url) = postgres_url_or_skip("postgres_backup_and_restore_lose_nothing") else {
        return;
    };
    for tool in ["pg_dump", "pg_restore"] {
        assert!(
            std::process::Command::new(tool)
                .arg("--version")
                .output()
                .is_ok(),
            "{tool} is needed (apt-get install postgresql-client)"
        );
    }
    let dir = TempDir::new("backup-pg");
    let live = PgDatabase::create(&admin_url, "cots_ops_backup").await;
    let fresh = PgDatabase::create(&admin_url, "cots_ops_restore").await;
    let backup = dir.join("backup.dump");
    let backup_arg = backup.display().to_string();

    let mut server = Server::start(dir.path(), &server_env(&dir, &live.url));
    populate(&server).await;
    let before = snapshot_postgres(&live.url).await;
    assert_nonempty(&before);
    let log = script_ok(&["backup", "--url", &live.url, &backup_arg], dir.path());
    if let Some(password) = url_password(&live.url) {
        assert!(
            !log.contains(&format!(":{password}@")),
            "the password must not be logged: {log}"
        );
    }
    change_after_backup(&server).await;
    assert_ne!(
        snapshot_postgres(&live.url).await,
        before,
        "the changes must show"
    );
    assert!(server.terminate(Duration::from_secs(30)).success());

    script_ok(
        &["restore", "--yes", "--url", &live.url, &backup_arg],
        dir.path(),
    );
    assert_same(
        &before,
        &snapshot_postgres(&live.url).await,
        "PostgreSQL restored over the live database",
    );

    script_ok(
        &["restore", "--yes", "--url", &fresh.url, &backup_arg],
        dir.path(),
    );
    assert_same(
        &before,
        &snapshot_postgres(&fresh.url).await,
        "PostgreSQL restored into an empty database",
    );

    check_restored_behaviour(&dir, &live.url).await;
    check_restored_behaviour(&dir, &fresh.url).await;
}
