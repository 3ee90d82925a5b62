//! Health that tells the truth: `/health` (liveness), `/ready` (the
//! database answers) and `backend healthcheck` (the container's probe).
//!
//! - SQLite: `healthcheck --database-only` fails on a database whose
//!   migrations are not applied and passes once they are; the full probe
//!   fails while no server listens and passes against a live one.
//! - PostgreSQL: a throwaway cluster of this test's own (initdb in a temp
//!   dir with the binaries scripts/ensure-postgres.sh uses; never the shared
//!   one other tests run on) is stopped under a live backend: `/ready`
//!   answers 503, `/health` stays 200, the probe exits 1; started again,
//!   the same backend process becomes ready and serves writes (its pool
//!   recovers without a restart), and the probe exits 0. Runs when
//!   `TEST_POSTGRES_URL` is set (the PostgreSQL tests' switch; the shared
//!   server is not used), else skipped with a note; `REQUIRE_POSTGRES=1`
//!   makes the skip a failure.

mod ops_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ops_support::{
    Server, TempDir, backend_command, base_env, client, postgres_url_or_skip, register,
    send_signal, text,
};

fn healthcheck(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = backend_command(cwd, env);
    command.arg("healthcheck").args(args);
    let started = Instant::now();
    let output = command.output().expect("run backend healthcheck");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the probe must finish well within Docker's timeout: {:?}",
        started.elapsed()
    );
    output
}

fn report(output: &Output) -> String {
    format!("{}{}", text(&output.stdout), text(&output.stderr))
}

#[test]
fn healthcheck_on_sqlite_checks_migrations_and_the_server() {
    let dir = TempDir::new("health-sqlite");
    let data = dir.join("data");
    let url = format!("sqlite://{}?mode=rwc", dir.join("health.db").display());
    let data_str = data.display().to_string();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("DATA_DIR", data_str.as_str()),
    ];

    let fresh = healthcheck(dir.path(), &env, &["--database-only"]);
    assert_eq!(fresh.status.code(), Some(1), "{}", report(&fresh));
    assert!(
        report(&fresh).contains("migrations not applied"),
        "{}",
        report(&fresh)
    );

    let migrate = backend_command(dir.path(), &env)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{}", report(&migrate));
    let migrated = healthcheck(dir.path(), &env, &["--database-only"]);
    assert_eq!(migrated.status.code(), Some(0), "{}", report(&migrated));
    assert!(text(&migrated.stdout).starts_with("healthcheck: ok"));

    // The full probe also asks this container's server: none listens yet.
    let port = ops_support::free_port().to_string();
    let bind = format!("127.0.0.1:{port}");
    let mut with_bind = env.to_vec();
    with_bind.push(("BIND_ADDR", bind.as_str()));
    let no_server = healthcheck(dir.path(), &with_bind, &[]);
    assert_eq!(no_server.status.code(), Some(1), "{}", report(&no_server));
    assert!(report(&no_server).contains("GET /ready"));

    let mut server = Server::start(dir.path(), &base_env(&data, &url));
    let bind = server.addr.to_string();
    let mut with_bind = env.to_vec();
    with_bind.push(("BIND_ADDR", bind.as_str()));
    let healthy = healthcheck(dir.path(), &with_bind, &[]);
    assert_eq!(healthy.status.code(), Some(0), "{}", report(&healthy));
    assert!(server.terminate(Duration::from_secs(30)).success());
}

/// A PostgreSQL cluster of this test's own, stopped on drop.
struct Cluster {
    bindir: PathBuf,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    run_as_postgres: bool,
}

fn find_bindir() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| {
            ["postgres", "initdb", "pg_ctl"]
                .iter()
                .all(|b| bin.join(b).is_file())
        })
        .collect();
    candidates.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    candidates.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| text(&o.stdout).trim() == "0")
}

impl Cluster {
    fn create(dir: &TempDir) -> Self {
        let bindir = find_bindir().expect(
            "PostgreSQL server binaries under /usr/lib/postgresql (scripts/ensure-postgres.sh installs them)",
        );
        let run_as_postgres = is_root();
        if run_as_postgres {
            // initdb and postgres refuse to run as root.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown the cluster directory to postgres");
        }
        let cluster = Self {
            data: dir.join("pgdata"),
            log: dir.join("postgres.log"),
            port: ops_support::free_port(),
            bindir,
            run_as_postgres,
        };
        let initdb = cluster
            .tool("initdb")
            .arg("-D")
            .arg(&cluster.data)
            .args(["-U", "cots", "--auth=trust", "-E", "UTF8", "--locale=C"])
            .output()
            .unwrap();
        assert!(initdb.status.success(), "initdb: {}", report(&initdb));
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 30\n",
            cluster.port,
            dir.path().display()
        );
        let config_file = cluster.data.join("postgresql.conf");
        let mut existing = std::fs::read_to_string(&config_file).unwrap();
        existing.push_str(&conf);
        std::fs::write(&config_file, existing).unwrap();
        cluster.start();
        cluster
    }

    fn tool(&self, name: &str) -> Command {
        let program = self.bindir.join(name);
        if self.run_as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        self.tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .args(args)
            .output()
            .unwrap()
    }

    fn start(&self) {
        let output = self.pg_ctl(&["-w", "-t", "60", "start"]);
        assert!(
            output.status.success(),
            "pg_ctl start: {}\n{}",
            report(&output),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    fn stop(&self) {
        let output = self.pg_ctl(&["-w", "-m", "fast", "stop"]);
        assert!(output.status.success(), "pg_ctl stop: {}", report(&output));
    }

    fn url(&self) -> String {
        format!("postgres://cots@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-w", "-m", "immediate", "stop"]);
    }
}

async fn status_of(server: &Server, path: &str) -> Option<u16> {
    client()
        .get(server.url(path))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

async fn wait_for_status(server: &Server, path: &str, want: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let status = status_of(server, path).await;
        if status == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} did not answer {want} within {limit:?} (last: {status:?})\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_follows_the_database_and_the_pool_recovers_without_a_restart() {
    if postgres_url_or_skip("ready_follows_the_database_and_the_pool_recovers_without_a_restart")
        .is_none()
    {
        return;
    }
    let dir = TempDir::new("health-pg");
    let cluster = Cluster::create(&dir);
    let url = cluster.url();
    let data = dir.join("data");
    let mut env = base_env(&data, &url);
    env.push(("DB_ACQUIRE_TIMEOUT_SECS".into(), "2".into()));
    let server = Server::start(dir.path(), &env);
    let pid = server.pid();
    let bind = server.addr.to_string();
    let data_str = data.display().to_string();
    let probe_env = [
        ("DATABASE_URL", url.as_str()),
        ("DATA_DIR", data_str.as_str()),
        ("BIND_ADDR", bind.as_str()),
    ];

    assert_eq!(status_of(&server, "/ready").await, Some(200));
    assert_eq!(register(&server, "before_outage").await, 201);
    let up = healthcheck(dir.path(), &probe_env, &[]);
    assert_eq!(up.status.code(), Some(0), "{}", report(&up));

    cluster.stop();
    wait_for_status(&server, "/ready", 503, Duration::from_secs(15)).await;
    assert_eq!(
        status_of(&server, "/health").await,
        Some(200),
        "/health is liveness: the process still serves"
    );
    let down = healthcheck(dir.path(), &probe_env, &[]);
    assert_eq!(down.status.code(), Some(1), "{}", report(&down));
    assert!(report(&down).contains("/ready"), "{}", report(&down));
    let down_db = healthcheck(dir.path(), &probe_env, &["--database-only"]);
    assert_eq!(down_db.status.code(), Some(1), "{}", report(&down_db));
    assert!(
        report(&down_db).contains("database"),
        "{}",
        report(&down_db)
    );

    cluster.start();
    wait_for_status(&server, "/ready", 200, Duration::from_secs(30)).await;
    // The same process (never restarted) serves reads and writes again.
    send_signal(pid, "0");
    assert_eq!(server.pid(), pid);
    assert_eq!(register(&server, "after_outage").await, 201);
    let (status, _) = ops_support::login(&server, "before_outage", ops_support::PASSWORD).await;
    assert_eq!(status, 200);
    let back = healthcheck(dir.path(), &probe_env, &[]);
    assert_eq!(back.status.code(), Some(0), "{}", report(&back));

    let mut server = server;
    assert!(
        server.terminate(Duration::from_secs(30)).success(),
        "{}",
        server.logs()
    );
    drop(cluster);
}
