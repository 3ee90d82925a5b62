//! Helpers shared by the operations tests (`ops_*.rs`): the real `backend`
//! binary as a child process, temporary directories, a PostgreSQL database
//! per test, and table snapshots for "nothing was lost" comparisons.
//!
//! Each `ops_*.rs` file includes this with `mod ops_support;`; not every file
//! uses every helper.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The backend binary cargo built for these tests.
pub const BACKEND: &str = env!("CARGO_BIN_EXE_backend");

/// A secret that passes the production check.
pub const STRONG_SECRET: &str = "Vx3kP9qLm2Zr7TtB8wYc4NhD6sJf1GaE5uRo0iKe";

/// A password the registration rules accept.
pub const PASSWORD: &str = "orbital-Salvage-9931";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("backend/ has a parent")
        .to_path_buf()
}

/// A unique name fragment: process id plus a counter plus the clock.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(unique(&format!("cots-ops-{prefix}")));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A command for the backend binary with a clean environment (only PATH and
/// what the test sets) in `cwd`, so neither the developer's environment nor
/// a `.env` in the repository leaks in.
pub fn backend_command(cwd: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BACKEND);
    command.env_clear().current_dir(cwd);
    if let Ok(path) = std::env::var("PATH") {
        command.env("PATH", path);
    }
    command.env("RUST_LOG", "info,sqlx=warn");
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// Runs the backend to completion with a time limit.
pub fn run_backend(cwd: &Path, env: &[(&str, &str)], args: &[&str], limit: Duration) -> Output {
    let child = backend_command(cwd, env)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the backend binary");
    wait_output(child, limit, &format!("backend {}", args.join(" ")))
}

/// Waits for a child with piped stdout/stderr, killing it after `limit`.
pub fn wait_output(mut child: Child, limit: Duration, what: &str) -> Output {
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let status = wait_with_limit(&mut child, limit)
        .unwrap_or_else(|| panic!("{what} still running after {limit:?}"));
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// `None` (after killing it) when the child outlives `limit`.
pub fn wait_with_limit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Sends a signal with the system's `kill` (the tests have no libc binding).
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// A `backend serve` child process, its JSON log lines collected.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
    lines: mpsc::Receiver<String>,
}

/// The environment every served test backend gets besides its own: JSON
/// logs, generous auth rate limits (the tests log in many times from one IP).
pub fn base_env(data_dir: &Path, database_url: &str) -> Vec<(String, String)> {
    vec![
        ("DATABASE_URL".into(), database_url.into()),
        ("DATA_DIR".into(), data_dir.display().to_string()),
        ("BIND_ADDR".into(), "127.0.0.1:0".into()),
        ("LOG_FORMAT".into(), "json".into()),
        ("AUTH_RATE_LIMIT_PER_MINUTE".into(), "10000".into()),
        ("AUTH_RATE_LIMIT_BURST".into(), "10000".into()),
        ("DB_CONNECT_ATTEMPTS".into(), "3".into()),
        ("DB_MAX_CONNECTIONS".into(), "4".into()),
    ]
}

impl Server {
    /// Starts `backend serve` and waits for its `listening` log line.
    pub fn start(cwd: &Path, env: &[(String, String)]) -> Self {
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut command = backend_command(cwd, &pairs);
        command.arg("serve");
        Self::spawn(command)
    }

    /// Starts a prepared command that runs `backend serve` (possibly through
    /// a wrapper such as chroot, which must exec it) and waits for its
    /// `listening` log line.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start backend serve");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let logs = logs.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    logs.lock().expect("logs").push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(remaining.max(Duration::from_millis(1))) {
                Ok(line) => {
                    if let Some(addr) = listening_address(&line) {
                        break addr;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    std::thread::sleep(Duration::from_millis(100));
                    panic!(
                        "backend did not report `listening` (exit: {status:?}); output:\n{}",
                        logs.lock().expect("logs").join("\n")
                    );
                }
            }
        };
        Self {
            child: Some(child),
            addr,
            logs,
            lines,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn logs(&self) -> String {
        self.logs.lock().expect("logs").join("\n")
    }

    /// Waits until a log line contains `needle`.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        if self.logs().contains(needle) {
            return;
        }
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            assert!(
                !remaining.is_zero(),
                "no log line with {needle:?} within {limit:?}:\n{}",
                self.logs()
            );
            if let Ok(line) = self.lines.recv_timeout(remaining)
                && line.contains(needle)
            {
                return;
            }
        }
    }

    /// SIGTERM, then the exit status (panics if it does not exit in time).
    pub fn terminate(&mut self, limit: Duration) -> ExitStatus {
        send_signal(self.pid(), "TERM");
        self.wait(limit)
    }

    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        match wait_with_limit(&mut child, limit) {
            Some(status) => {
                // Let the reader threads drain the last lines.
                std::thread::sleep(Duration::from_millis(100));
                status
            }
            None => panic!("backend did not exit within {limit:?}:\n{}", self.logs()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn listening_address(line: &str) -> Option<SocketAddr> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value.get("message")?.as_str()? != "listening" {
        return None;
    }
    value.get("address")?.as_str()?.parse().ok()
}

/// A free loopback port (bound and released: good enough for a test that
/// only needs a port nothing listens on).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind port 0")
        .port()
}

// --- HTTP ------------------------------------------------------------------

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

pub async fn register(server: &Server, username: &str) -> reqwest::StatusCode {
    client()
        .post(server.url("/api/v1/auth/register"))
        .json(&serde_json::json!({
            "email": format!("{username}@example.org"),
            "username": username,
            "password": PASSWORD,
        }))
        .send()
        .await
        .expect("register")
        .status()
}

/// Logs in; `Some(refresh_token)` on success.
pub async fn login(
    server: &Server,
    login: &str,
    password: &str,
) -> (reqwest::StatusCode, Option<serde_json::Value>) {
    let response = client()
        .post(server.url("/api/v1/auth/login"))
        .json(&serde_json::json!({ "login": login, "password": password }))
        .send()
        .await
        .expect("login");
    let status = response.status();
    let body = response.json::<serde_json::Value>().await.ok();
    (status, body)
}

// --- PostgreSQL -------------------------------------------------------------

/// `TEST_POSTGRES_URL`, or `None` after printing why the test is skipped;
/// with `REQUIRE_POSTGRES=1` a missing URL fails the test instead.
pub fn postgres_url_or_skip(test: &str) -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "{test}: REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set (scripts/ensure-postgres.sh prints one)"
            );
            eprintln!(
                "note: {test} skipped on PostgreSQL: TEST_POSTGRES_URL is not set \
                 (export TEST_POSTGRES_URL=\"$(scripts/ensure-postgres.sh)\")"
            );
            None
        }
    }
}

/// The same server URL with another database name (query string kept).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A fresh database on the test server, dropped on drop.
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str, prefix: &str) -> Self {
        let name = unique(prefix).to_lowercase();
        let mut conn = pg_connect(admin_url).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        use sqlx::Connection as _;
        conn.close().await.ok();
        Self {
            admin_url: admin_url.to_owned(),
            url: with_database(admin_url, &name),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside any runtime guarantee: use a small one of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let mut conn = pg_connect(&admin_url).await;
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await;
            });
        })
        .join();
    }
}

pub async fn pg_connect(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection as _;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to PostgreSQL: {e}"))
}

// --- Snapshots --------------------------------------------------------------

/// Every table's rows, each row rendered as text, sorted: equal snapshots
/// mean equal contents.
pub type Snapshot = BTreeMap<String, Vec<String>>;

pub async fn snapshot_sqlite(file: &Path) -> Snapshot {
    use sqlx::Connection as _;
    let url = format!("sqlite://{}?mode=ro", file.display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", file.display()));
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .expect("list tables");
    let mut snapshot = Snapshot::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        )))
        .fetch_all(&mut conn)
        .await
        .expect("list columns");
        // quote() renders every storage class exactly (NULL, integers,
        // reals, text, blobs as X'..').
        let expr = columns
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let mut rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {expr} FROM \"{table}\""
        )))
        .fetch_all(&mut conn)
        .await
        .expect("read rows");
        rows.sort();
        snapshot.insert(table, rows);
    }
    conn.close().await.ok();
    snapshot
}

pub async fn snapshot_postgres(url: &str) -> Snapshot {
    let mut conn = pg_connect(url).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .expect("list tables");
    let mut snapshot = Snapshot::new();
    for table in tables {
        let mut rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT row_to_json(t)::text FROM \"{table}\" t"
        )))
        .fetch_all(&mut conn)
        .await
        .expect("read rows");
        rows.sort();
        snapshot.insert(table, rows);
    }
    use sqlx::Connection as _;
    conn.close().await.ok();
    snapshot
}

/// Panics with the first difference, naming the table.
pub fn assert_same(expected: &Snapshot, actual: &Snapshot, what: &str) {
    let expected_tables: Vec<&String> = expected.keys().collect();
    let actual_tables: Vec<&String> = actual.keys().collect();
    assert_eq!(expected_tables, actual_tables, "{what}: the tables differ");
    for (table, rows) in expected {
        let other = &actual[table];
        let missing: Vec<&String> = rows.iter().filter(|r| !other.contains(r)).collect();
        let extra: Vec<&String> = other.iter().filter(|r| !rows.contains(r)).collect();
        assert!(
            missing.is_empty() && extra.is_empty() && rows.len() == other.len(),
            "{what}: table {table} differs\n  missing: {missing:?}\n  extra: {extra:?}"
        );
    }
}

/// Runs a repository script, returning its output.
pub fn run_script(script: &str, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(repo_root().join(script));
    command.args(args).current_dir(cwd).stdin(Stdio::null());
    command.env_remove("DATABASE_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("run {script}: {e}"))
}

// --- Replicas ----------------------------------------------------------------

/// Two `backend serve` processes on one fresh PostgreSQL database, with the
/// same JWT secret (each accepts the other's tokens). Fields drop in order:
/// the servers stop before the database goes. Bind every field when
/// destructuring (`dir: _dir`): a field left to `..` is dropped at once.
pub struct Replicas {
    pub one: Server,
    pub two: Server,
    pub dir: TempDir,
    pub database: PgDatabase,
}

/// `None` (the test is skipped, see [`postgres_url_or_skip`]) without
/// PostgreSQL.
pub async fn two_replicas(test: &str, prefix: &str) -> Option<Replicas> {
    let admin = postgres_url_or_skip(test)?;
    let database = PgDatabase::create(&admin, &format!("cots_{prefix}")).await;
    let dir = TempDir::new(prefix);
    let mut env = base_env(dir.path(), &database.url);
    env.push(("JWT_SECRET".into(), STRONG_SECRET.into()));
    let one = Server::start(dir.path(), &env);
    let two = Server::start(dir.path(), &env);
    Some(Replicas {
        one,
        two,
        dir,
        database,
    })
}

/// Marks every account's address confirmed, behind the backend's back (start
/// credits become transferable): `database_url` is SQLite or PostgreSQL.
pub async fn confirm_every_address(database_url: &str) {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(database_url)
        .await
        .expect("connect to the test database");
    sqlx::query("UPDATE users SET email_verified_at = created_at")
        .execute(&mut conn)
        .await
        .expect("confirm addresses");
    conn.close().await.ok();
}
