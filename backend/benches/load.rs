//! Load generator for `make bench` (issue 9): drives a real `backend serve`
//! process on loopback from this second process and writes one JSON file of
//! figures.
//!
//! Run through `scripts/bench.sh`; by hand:
//!
//! ```text
//! cargo bench -p backend --bench load -- --backend target/release/backend \
//!     --db sqlite --out target/bench/load-sqlite.json
//! ```
//!
//! Without `--out` it does nothing, so `cargo bench --workspace` and
//! `cargo test --all-targets` stay quick.
//!
//! Everything goes through the public HTTP API, as the game client does:
//! players register and log in (argon2), start zone runs, and collect pieces
//! that really exist — each claim is planned here with the same
//! `game::verify` code the server judges it with (`debris_at`,
//! `ReachLimits`, `judge_batch`), and sent no earlier than the run clock
//! allows. Nothing is written into the database behind the backend's back.
//!
//! Phases, in this order, each with N connections (default 64), one request
//! in flight per connection (closed loop):
//! - `state_read`: `GET /api/v1/player` with a valid token;
//! - `login_storm`: a quarter of the connections log in (argon2id) while the
//!   rest keep reading the player state;
//! - `collect`, `sell`, `purchase`: rounds in which every player fills its
//!   hold one claim per request, sells one item per request, then buys every
//!   upgrade it can afford while keeping a small reserve for the trades
//!   (claims go to the player's run whose next planned claim is due first;
//!   time spent waiting for a run clock is reported, not hidden);
//! - `trades`: players in full lobbies of 8 offer one another 1 credit and
//!   the receiver accepts (two requests per completed trade); then
//!   `backend audit` must pass.
//!
//! Every write carries its own `Idempotency-Key`. The backend's resident set
//! is sampled every 100 ms; `perf record` of the backend runs during the
//! phases listed in `--perf` when a perf output directory is given.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use game::api::{CollectedPiece, Player};
use game::catalog::{Catalog, UpgradeId};
use game::debris::FieldRules;
use game::economy::PlayerState;
use game::verify::{self, ReachLimits, RunContext, Waypoint};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

const PASSWORD: &str = "orbital-salvage-bench-42";
const ZONE: u8 = 1;
/// Credits a player keeps back from purchases, so the trades can pay.
const TRADE_RESERVE: u64 = 40;

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

struct Args {
    backend: PathBuf,
    db: String,
    pg_url: Option<String>,
    out: PathBuf,
    work: PathBuf,
    connections: usize,
    players: usize,
    seconds: f64,
    rounds: usize,
    perf_dir: Option<PathBuf>,
    perf_phases: Vec<String>,
}

fn parse_args() -> Result<Option<Args>> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    let mut argv = std::env::args().skip(1);
    while let Some(arg) = argv.next() {
        if let Some(key) = arg.strip_prefix("--") {
            // `--bench` is what cargo passes; flags without a value are ignored.
            if key == "bench" {
                continue;
            }
            let value = argv
                .next()
                .with_context(|| format!("--{key} needs a value"))?;
            map.insert(key.to_owned(), value);
        }
    }
    let Some(out) = map.get("out") else {
        return Ok(None);
    };
    let get = |k: &str, d: &str| map.get(k).cloned().unwrap_or_else(|| d.to_owned());
    Ok(Some(Args {
        backend: PathBuf::from(get("backend", "target/release/backend")),
        db: get("db", "sqlite"),
        pg_url: map.get("pg-url").cloned(),
        out: PathBuf::from(out),
        work: PathBuf::from(get("work", "target/bench/work")),
        connections: get("connections", "64").parse()?,
        players: get("players", "256").parse()?,
        seconds: get("seconds", "10").parse()?,
        rounds: get("rounds", "4").parse()?,
        perf_dir: map.get("perf-dir").map(PathBuf::from),
        perf_phases: get("perf", "")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    }))
}

fn main() -> Result<()> {
    let Some(args) = parse_args()? else {
        println!("load: no --out given, nothing to do (scripts/bench.sh runs it)");
        return Ok(());
    };
    // One thread: the generator takes at most one core, like a client on the
    // same machine would, and leaves the rest to the backend.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

// ---------------------------------------------------------------------------
// HTTP client: one HTTP/1.1 connection, one request at a time.
// ---------------------------------------------------------------------------

struct Conn {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

struct Reply {
    status: u16,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "status {} body {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        Conn { addr, sender: None }
    }

    async fn connect(&mut self) -> Result<()> {
        let stream = TcpStream::connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        self.sender = Some(sender);
        Ok(())
    }

    async fn call(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        idempotency_key: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            self.connect().await?;
        }
        let sender = self.sender.as_mut().expect("connected");
        if sender.ready().await.is_err() {
            self.connect().await?;
        }
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let bytes = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Bytes::from(serde_json::to_vec(body)?)
            }
            None => Bytes::new(),
        };
        let request = request.body(Full::new(bytes))?;
        let sender = self.sender.as_mut().expect("connected");
        match sender.send_request(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.into_body().collect().await?.to_bytes();
                Ok(Reply { status, body })
            }
            Err(error) => {
                self.sender = None;
                Err(error.into())
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

/// CPU accounting over a window, from /proc: where the time of a request
/// goes (the "profile" next to every figure).
#[derive(Default, Clone, Copy)]
struct Cpu {
    /// Clock ticks (1/100 s) of the backend process, user and system.
    backend_user: f64,
    backend_sys: f64,
    /// The same for this generator.
    generator: f64,
    /// Context switches of all the backend's threads.
    backend_switches: f64,
    /// Whole machine: busy and total ticks (all CPUs, every process).
    machine_busy: f64,
    machine_total: f64,
}

impl Cpu {
    fn snapshot(pid: u32) -> Cpu {
        let stat = |path: &str| -> (f64, f64) {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            // Fields after the command name, which may hold spaces.
            let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
            let f: Vec<f64> = rest
                .split_whitespace()
                .map(|x| x.parse().unwrap_or(0.0))
                .collect();
            (
                f.get(11).copied().unwrap_or(0.0),
                f.get(12).copied().unwrap_or(0.0),
            )
        };
        let (backend_user, backend_sys) = stat(&format!("/proc/{pid}/stat"));
        let (gen_user, gen_sys) = stat("/proc/self/stat");
        let mut backend_switches = 0.0;
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in tasks.flatten() {
                let status =
                    std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
                for line in status.lines() {
                    if line.starts_with("voluntary_ctxt_switches")
                        || line.starts_with("nonvoluntary_ctxt_switches")
                    {
                        backend_switches += line
                            .rsplit(':')
                            .next()
                            .and_then(|v| v.trim().parse::<f64>().ok())
                            .unwrap_or(0.0);
                    }
                }
            }
        }
        let machine = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let ticks: Vec<f64> = machine
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .map(|x| x.parse().unwrap_or(0.0))
            .collect();
        let total: f64 = ticks.iter().sum();
        let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
        Cpu {
            backend_user,
            backend_sys,
            generator: gen_user + gen_sys,
            backend_switches,
            machine_busy: total - idle,
            machine_total: total,
        }
    }

    fn since(self, start: Cpu) -> Cpu {
        Cpu {
            backend_user: self.backend_user - start.backend_user,
            backend_sys: self.backend_sys - start.backend_sys,
            generator: self.generator - start.generator,
            backend_switches: self.backend_switches - start.backend_switches,
            machine_busy: self.machine_busy - start.machine_busy,
            machine_total: self.machine_total - start.machine_total,
        }
    }

    fn add(&mut self, other: Cpu) {
        self.backend_user += other.backend_user;
        self.backend_sys += other.backend_sys;
        self.generator += other.generator;
        self.backend_switches += other.backend_switches;
        self.machine_busy += other.machine_busy;
        self.machine_total += other.machine_total;
    }

    fn json(&self, requests: u64) -> Value {
        let per = |ticks: f64| ticks * 10_000.0 / requests.max(1) as f64; // µs
        let backend = self.backend_user + self.backend_sys;
        json!({
            "backend_cpu_us_per_req": per(backend),
            "backend_kernel_share": if backend > 0.0 { self.backend_sys / backend } else { 0.0 },
            "generator_cpu_us_per_req": per(self.generator),
            "backend_switches_per_req": self.backend_switches / requests.max(1) as f64,
            "machine_busy_share": if self.machine_total > 0.0 { self.machine_busy / self.machine_total } else { 0.0 },
        })
    }
}

#[derive(Default)]
struct Tally {
    ok: u64,
    errors: u64,
    statuses: BTreeMap<String, u64>,
    latencies_us: Vec<u32>,
    /// Connection-seconds spent waiting for the run clock (collect only).
    waited_s: f64,
    cpu: Cpu,
}

impl Tally {
    fn record(&mut self, started: Instant, result: &Result<Reply>) {
        let us = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        self.latencies_us.push(us);
        match result {
            Ok(reply) if reply.ok() => self.ok += 1,
            Ok(reply) => {
                self.errors += 1;
                let code = reply
                    .json()
                    .ok()
                    .and_then(|v| v["code"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                *self
                    .statuses
                    .entry(format!("{} {code}", reply.status))
                    .or_default() += 1;
            }
            Err(error) => {
                self.errors += 1;
                *self.statuses.entry(format!("io: {error}")).or_default() += 1;
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.ok += other.ok;
        self.errors += other.errors;
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.latencies_us.extend(other.latencies_us);
        self.waited_s += other.waited_s;
        self.cpu.add(other.cpu);
    }

    fn summary(&mut self, seconds: f64, rss: &RssWindow) -> Value {
        self.latencies_us.sort_unstable();
        let pct = |p: f64| -> f64 {
            if self.latencies_us.is_empty() {
                return 0.0;
            }
            let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
            f64::from(self.latencies_us[i]) / 1000.0
        };
        let total = self.ok + self.errors;
        json!({
            "requests": total,
            "ok": self.ok,
            "errors": self.errors,
            "error_kinds": self.statuses,
            "seconds": seconds,
            "rps": if seconds > 0.0 { self.ok as f64 / seconds } else { 0.0 },
            "p50_ms": pct(0.50),
            "p90_ms": pct(0.90),
            "p99_ms": pct(0.99),
            "p999_ms": pct(0.999),
            "max_ms": pct(1.0),
            "waited_connection_seconds": self.waited_s,
            "cpu": self.cpu.json(total),
            "rss_max_mb": rss.max_mb,
            "rss_median_mb": rss.median_mb,
        })
    }
}

// ---------------------------------------------------------------------------
// The backend process and its resident set
// ---------------------------------------------------------------------------

struct Backend {
    child: Child,
    addr: SocketAddr,
    database_url: String,
    samples: Arc<Mutex<Vec<(Instant, u64)>>>,
    stop: Arc<AtomicBool>,
}

#[derive(Default, Clone, Copy)]
struct RssWindow {
    max_mb: f64,
    median_mb: f64,
}

impl Backend {
    fn rss_between(&self, from: Instant, to: Instant) -> RssWindow {
        let samples = self.samples.lock().expect("rss samples");
        let mut kb: Vec<u64> = samples
            .iter()
            .filter(|(t, _)| *t >= from && *t <= to)
            .map(|(_, kb)| *kb)
            .collect();
        kb.sort_unstable();
        if kb.is_empty() {
            return RssWindow::default();
        }
        RssWindow {
            max_mb: *kb.last().expect("non-empty") as f64 / 1024.0,
            median_mb: kb[kb.len() / 2] as f64 / 1024.0,
        }
    }
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn start_backend(args: &Args) -> Result<Backend> {
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let dir = args.work.join(format!("{}-{stamp}", args.db));
    std::fs::create_dir_all(&dir)?;
    let dir = std::fs::canonicalize(&dir)?;
    let database_url = match args.db.as_str() {
        "sqlite" => format!("sqlite://{}/bench.db?mode=rwc", dir.display()),
        "postgres" => {
            let admin = args
                .pg_url
                .as_deref()
                .context("--db postgres needs --pg-url")?;
            let name = format!("cots_bench_{stamp}");
            create_pg_database(admin, &name).await?;
            pg_url_with_db(admin, &name)
        }
        other => bail!("unknown --db {other}"),
    };
    let port = free_port()?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let log = std::fs::File::create(dir.join("backend.log"))?;
    let binary = std::fs::canonicalize(&args.backend)
        .with_context(|| format!("no backend binary at {}", args.backend.display()))?;
    let child = Command::new(&binary)
        .arg("serve")
        .current_dir(&dir)
        .env("APP_ENV", "development")
        .env("DATA_DIR", &dir)
        .env("DATABASE_URL", &database_url)
        .env("BIND_ADDR", addr.to_string())
        .env(
            "RUST_LOG",
            std::env::var("BENCH_RUST_LOG").unwrap_or("warn".into()),
        )
        // Every request of the bench comes from 127.0.0.1: the per-IP limit
        // on auth routes would turn the login storm into 429s.
        .env("AUTH_RATE_LIMIT_PER_MINUTE", "1000000")
        .env("AUTH_RATE_LIMIT_BURST", "100000")
        // A few hundred players trading as fast as they can: the shipped
        // spam quota (10 offers per user per minute) would cap the phase at
        // ~43 trades/s, which is not what is measured here.
        .env("TRADE_OFFERS_PER_MINUTE", "1000000")
        .env("TRADE_OFFER_BURST", "100000")
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()
        .with_context(|| format!("starting {}", args.backend.display()))?;
    let pid = child.id();
    let samples: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let samples = samples.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(kb) = rss_kb(pid) {
                    samples.lock().expect("rss").push((Instant::now(), kb));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
    }
    let mut backend = Backend {
        child,
        addr,
        database_url,
        samples,
        stop,
    };
    let mut conn = Conn::new(addr);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(reply) = conn.call(Method::GET, "/health", None, None, None).await
            && reply.ok()
        {
            break;
        }
        if let Some(status) = backend.child.try_wait()? {
            bail!(
                "the backend exited ({status}); log in {}",
                dir.join("backend.log").display()
            );
        }
        if Instant::now() > deadline {
            bail!("the backend did not answer /health within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(backend)
}

fn pg_url_with_db(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    }
}

async fn create_pg_database(admin: &str, name: &str) -> Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::postgres::PgConnection::connect(admin).await?;
    // `name` is made here of digits and letters only.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

async fn drop_pg_database(admin: &str, name: &str) -> Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::postgres::PgConnection::connect(admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(())
}

fn perf_start(args: &Args, backend: &Backend, phase: &str, seconds: f64) -> Option<Child> {
    let dir = args.perf_dir.as_ref()?;
    if !args.perf_phases.iter().any(|p| p == phase) {
        return None;
    }
    std::fs::create_dir_all(dir).ok()?;
    let out = dir.join(format!("perf-{}-{phase}.data", args.db));
    Command::new("perf")
        .args(["record", "-F", "499", "-q", "-o"])
        .arg(&out)
        .arg("-p")
        .arg(backend.child.id().to_string())
        .args(["--", "sleep"])
        .arg(format!("{}", seconds.max(1.0).round()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

// ---------------------------------------------------------------------------
// Players, runs and planned claims
// ---------------------------------------------------------------------------

struct Run {
    id: String,
    /// When the start-run answer arrived here: the server's run clock is at
    /// least this old, so a claim at `at` is safe from `started + at`.
    started: Instant,
    claims: Vec<CollectedPiece>,
    next: usize,
}

struct Pilot {
    username: String,
    token: String,
    player: Option<Player>,
    runs: Vec<Run>,
}

impl Pilot {
    fn hold_free(&self) -> u64 {
        self.player.as_ref().map_or(0, |p| {
            u64::from(p.hold.capacity).saturating_sub(p.hold.used)
        })
    }
}

/// A chain of claims through the run's initial pieces that `judge_batch`
/// accepts for a player with `effects`: nearest piece first, each claimed
/// at the earliest time the ship could have reached it.
fn plan_claims(seed: u64, state: &PlayerState, max_claims: usize) -> Vec<CollectedPiece> {
    let catalog = Catalog::shipped();
    let effects = state.effects(catalog);
    let limits = ReachLimits::from_effects(catalog, &effects);
    let rules = FieldRules::new(catalog, ZONE, seed).expect("zone rules");
    let mut start: Vec<(u32, f64, f64)> = (0..rules.initial)
        .filter_map(|i| {
            verify::debris_at_with(&rules, i, 0.0)
                .ok()
                .map(|d| (i, d.x, d.y))
        })
        .collect();
    let mut here = Waypoint::RUN_START;
    let mut claims = Vec::new();
    while claims.len() < max_claims && !start.is_empty() {
        let (slot, _) = start
            .iter()
            .enumerate()
            .map(|(s, &(_, x, y))| (s, (x - here.x).powi(2) + (y - here.y).powi(2)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("non-empty");
        let (index, _, _) = start.swap_remove(slot);
        let mut at = here.at;
        loop {
            at += 0.05;
            let Ok(found) = verify::debris_at_with(&rules, index, at) else {
                break;
            };
            let next = Waypoint {
                at,
                x: found.x,
                y: found.y,
                exact: false,
            };
            if limits.reachable(here, next) {
                // Round up to ms as JSON carries it; keep a little slack.
                let at = (at * 1000.0).ceil() / 1000.0;
                claims.push(CollectedPiece { index, at });
                here = Waypoint { at, ..next };
                break;
            }
        }
    }
    // The server's own verdict, with the clock far ahead: all or nothing.
    let context = RunContext {
        catalog,
        zone: ZONE,
        seed,
        effects: &effects,
        already_accepted: &[],
        docks: &[],
        hold_free: u64::MAX,
        server_elapsed: 1e9,
        ended: false,
    };
    match verify::judge_batch(&context, &claims) {
        Ok(verdict) if verdict.rejected.is_empty() => claims,
        _ => Vec::new(),
    }
}

fn key(prefix: &str, a: usize, b: u64) -> String {
    format!("{prefix}-{a}-{b}")
}

// ---------------------------------------------------------------------------
// Phases
// ---------------------------------------------------------------------------

struct Phase {
    name: String,
    tally: Tally,
    seconds: f64,
    rss: RssWindow,
}

async fn run(args: Args) -> Result<()> {
    let started_all = Instant::now();
    let mut backend = start_backend(&args).await?;
    let outcome = scenario(&args, &mut backend).await;
    backend.stop.store(true, Ordering::Relaxed);
    // SIGTERM: the backend finishes in-flight requests and closes the pool.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(backend.child.id().to_string())
        .status();
    let _ = backend.child.wait();
    let mut result = outcome?;
    // `backend audit` on the same database, after the server has stopped.
    let audit = Command::new(&args.backend)
        .arg("audit")
        .env("APP_ENV", "development")
        .env("DATABASE_URL", &backend.database_url)
        .env("RUST_LOG", "warn")
        .output()?;
    result["audit"] = json!({
        "passed": audit.status.success(),
        "output": String::from_utf8_lossy(&audit.stdout).lines().rev().take(8).collect::<Vec<_>>(),
        "stderr": String::from_utf8_lossy(&audit.stderr).lines().rev().take(8).collect::<Vec<_>>(),
    });
    if args.db == "postgres"
        && let Some(admin) = &args.pg_url
    {
        let name = backend
            .database_url
            .rsplit_once('/')
            .map(|(_, n)| n.split('?').next().unwrap_or(n).to_owned())
            .unwrap_or_default();
        drop_pg_database(admin, &name).await?;
    }
    result["total_seconds"] = json!(started_all.elapsed().as_secs_f64());
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, serde_json::to_vec_pretty(&result)?)?;
    println!("load: wrote {}", args.out.display());
    Ok(())
}

async fn scenario(args: &Args, backend: &mut Backend) -> Result<Value> {
    let addr = backend.addr;
    let mut phases: Vec<Phase> = Vec::new();
    let catalog = Catalog::shipped();

    // --- Set-up: accounts (argon2 at register and login), runs, claims. ---
    let t = Instant::now();
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() % 1_000_000_000;
    let names: Vec<String> = (0..args.players).map(|i| format!("b{stamp}x{i}")).collect();
    let mut pilots = parallel_map(addr, 8, names, |mut conn, name| async move {
        let body =
            json!({"email": format!("{name}@example.org"), "username": name, "password": PASSWORD});
        let reply = conn
            .call(
                Method::POST,
                "/api/v1/auth/register",
                None,
                None,
                Some(&body),
            )
            .await?;
        if reply.status != 201 {
            bail!(
                "register {name}: {} {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            );
        }
        let token = login(&mut conn, &name)
            .await?
            .context("login after register")?;
        Ok((
            conn,
            Pilot {
                username: name,
                token,
                player: None,
                runs: Vec::new(),
            },
        ))
    })
    .await?;
    let accounts_seconds = t.elapsed().as_secs_f64();
    println!("load: {} accounts in {accounts_seconds:.1} s", pilots.len());

    // Runs: enough planned claims for every round, several runs per player.
    let runs_per_pilot = 16;
    let t = Instant::now();
    let jobs: Vec<(usize, usize)> = (0..pilots.len())
        .flat_map(|p| (0..runs_per_pilot).map(move |r| (p, r)))
        .collect();
    let tokens: Vec<String> = pilots.iter().map(|p| p.token.clone()).collect();
    let tokens = Arc::new(tokens);
    let started = parallel_map(addr, args.connections, jobs, {
        let tokens = tokens.clone();
        move |mut conn, (p, r)| {
            let tokens = tokens.clone();
            async move {
                let reply = conn
                    .call(
                        Method::POST,
                        &format!("/api/v1/zones/{ZONE}/runs"),
                        Some(&tokens[p]),
                        Some(&key("run", p, r as u64)),
                        None,
                    )
                    .await?;
                let at = Instant::now();
                let v = reply.json()?;
                if reply.status != 201 {
                    bail!("start run: {v}");
                }
                let seed: u64 = v["seed"].as_str().context("seed")?.parse()?;
                let id = v["run_id"].as_str().context("run_id")?.to_owned();
                Ok((conn, (p, id, seed, at)))
            }
        }
    })
    .await?;
    let fresh = PlayerState::new_player(catalog);
    let claims_per_run = 24;
    for (p, id, seed, at) in started {
        let claims = plan_claims(seed, &fresh, claims_per_run);
        pilots[p].runs.push(Run {
            id,
            started: at,
            claims,
            next: 0,
        });
    }
    let planned: usize = pilots
        .iter()
        .flat_map(|p| &p.runs)
        .map(|r| r.claims.len())
        .sum();
    println!(
        "load: {} runs, {planned} claims planned in {:.1} s",
        pilots.len() * runs_per_pilot,
        t.elapsed().as_secs_f64()
    );
    // Everyone's current state.
    for pilot in &mut pilots {
        let mut conn = Conn::new(addr);
        let reply = conn
            .call(
                Method::GET,
                "/api/v1/player",
                Some(&pilot.token),
                None,
                None,
            )
            .await?;
        pilot.player = Some(serde_json::from_slice(&reply.body)?);
    }

    // --- State reads. ---
    let (reads, _) = read_phase(
        args,
        backend,
        "state_read",
        &tokens,
        args.connections,
        0,
        None,
    )
    .await?;
    phases.push(reads);

    // Before the economy: the runs' clocks advance meanwhile, so the
    // planned claims are due when the collects start.
    // --- Login storm while state reads go on. ---
    let storm_logins = (args.connections / 4).max(1);
    let reads = args.connections - storm_logins;
    let names: Arc<Vec<String>> = Arc::new(pilots.iter().map(|p| p.username.clone()).collect());
    let (storm_reads, storm_logins) = read_phase(
        args,
        backend,
        "login_storm",
        &tokens,
        reads,
        storm_logins,
        Some(names),
    )
    .await?;
    phases.push(storm_reads);
    phases.extend(storm_logins);

    // --- Economy writes in rounds: collect, sell, purchase. ---
    // One tally and one measured time per step, in the order of a round.
    let mut steps = [
        ("collect", Step::Collect, Tally::default(), 0.0),
        ("sell", Step::Sell, Tally::default(), 0.0),
        ("purchase", Step::Purchase, Tally::default(), 0.0),
    ];
    let econ_start = Instant::now();
    let mut perf = None;
    for round in 0..args.rounds {
        if round == 0 {
            perf = perf_start(args, backend, "collect", args.seconds);
        }
        for (_, step, tally, seconds) in steps.iter_mut() {
            let (t, s, back) = econ_step(
                addr,
                backend.child.id(),
                args.connections,
                pilots,
                round,
                *step,
            )
            .await?;
            pilots = back;
            tally.merge(t);
            *seconds += s;
        }
        println!(
            "load: economy round {round}: {} collects, {} sells, {} purchases so far",
            steps[0].2.ok, steps[1].2.ok, steps[2].2.ok
        );
    }
    if let Some(mut perf) = perf {
        let _ = perf.wait();
    }
    let econ_rss = backend.rss_between(econ_start, Instant::now());
    let writes: u64 = steps.iter().map(|(_, _, tally, _)| tally.ok).sum();
    let writes_seconds: f64 = steps.iter().map(|(_, _, _, seconds)| seconds).sum();
    for (name, _, tally, seconds) in steps {
        phases.push(Phase {
            name: name.into(),
            tally,
            seconds,
            rss: econ_rss,
        });
    }

    // --- Trades between many players in full lobbies. ---
    let trades = trade_phase(args, backend, &pilots).await?;
    phases.extend(trades);

    let mut out = serde_json::Map::new();
    out.insert("db".into(), json!(args.db));
    out.insert("connections".into(), json!(args.connections));
    out.insert("players".into(), json!(args.players));
    out.insert("accounts_setup_seconds".into(), json!(accounts_seconds));
    out.insert("claims_planned".into(), json!(planned));
    out.insert(
        "economy_writes".into(),
        json!({
            "ok": writes,
            "seconds": writes_seconds,
            "rps": writes as f64 / writes_seconds.max(1e-9),
        }),
    );
    let mut list = serde_json::Map::new();
    for mut phase in phases {
        list.insert(
            phase.name.clone(),
            phase.tally.summary(phase.seconds, &phase.rss),
        );
    }
    out.insert("phases".into(), Value::Object(list));
    Ok(Value::Object(out))
}

async fn login(conn: &mut Conn, name: &str) -> Result<Option<String>> {
    let body = json!({"login": name, "password": PASSWORD});
    let reply = conn
        .call(Method::POST, "/api/v1/auth/login", None, None, Some(&body))
        .await?;
    if reply.status != 200 {
        return Ok(None);
    }
    Ok(reply.json()?["access_token"].as_str().map(str::to_owned))
}

/// Runs `f` over `items` on `workers` connections; keeps the order of results
/// unspecified.
async fn parallel_map<T, R, F, Fut>(
    addr: SocketAddr,
    workers: usize,
    items: Vec<T>,
    f: F,
) -> Result<Vec<R>>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(Conn, T) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(Conn, R)>> + Send + 'static,
{
    let queue = Arc::new(Mutex::new(items));
    let mut set = JoinSet::new();
    for _ in 0..workers {
        let queue = queue.clone();
        let f = f.clone();
        set.spawn(async move {
            let mut conn = Conn::new(addr);
            let mut out = Vec::new();
            loop {
                let item = queue.lock().expect("queue").pop();
                let Some(item) = item else { break };
                let (back, r) = f(conn, item).await?;
                conn = back;
                out.push(r);
            }
            Ok::<_, anyhow::Error>(out)
        });
    }
    let mut all = Vec::new();
    while let Some(done) = set.join_next().await {
        all.extend(done??);
    }
    Ok(all)
}

/// `readers` connections read the player state for `args.seconds` (after
/// one second of warm-up); `loggers` connections log in meanwhile. The
/// second phase returned is the logins, when there are any.
async fn read_phase(
    args: &Args,
    backend: &Backend,
    name: &str,
    tokens: &Arc<Vec<String>>,
    readers: usize,
    loggers: usize,
    names: Option<Arc<Vec<String>>>,
) -> Result<(Phase, Option<Phase>)> {
    let addr = backend.addr;
    let warmup = Duration::from_secs(1);
    let measure = Duration::from_secs_f64(args.seconds);
    let begin = Instant::now();
    let from = begin + warmup;
    let until = from + measure;
    let mut set = JoinSet::new();
    for w in 0..readers {
        let token = tokens[w % tokens.len()].clone();
        set.spawn(async move {
            let mut conn = Conn::new(addr);
            let mut tally = Tally::default();
            loop {
                let t = Instant::now();
                if t >= until {
                    break;
                }
                let result = conn
                    .call(Method::GET, "/api/v1/player", Some(&token), None, None)
                    .await;
                if t >= from {
                    tally.record(t, &result);
                }
            }
            (false, tally)
        });
    }
    for w in 0..loggers {
        let names = names.clone().expect("names for logins");
        set.spawn(async move {
            let mut conn = Conn::new(addr);
            let mut tally = Tally::default();
            let mut i = w;
            loop {
                let t = Instant::now();
                if t >= until {
                    break;
                }
                let body = json!({"login": names[i % names.len()], "password": PASSWORD});
                i += 7;
                let result = conn
                    .call(Method::POST, "/api/v1/auth/login", None, None, Some(&body))
                    .await;
                if t >= from {
                    tally.record(t, &result);
                }
            }
            (true, tally)
        });
    }
    tokio::time::sleep_until(from.into()).await;
    let perf = perf_start(args, backend, name, args.seconds);
    let cpu_start = Cpu::snapshot(backend.child.id());
    let mut reads = Tally::default();
    let mut logins = Tally::default();
    while let Some(done) = set.join_next().await {
        let (is_login, tally) = done?;
        if is_login {
            logins.merge(tally);
        } else {
            reads.merge(tally);
        }
    }
    let cpu = Cpu::snapshot(backend.child.id()).since(cpu_start);
    reads.cpu = cpu;
    logins.cpu = cpu;
    let seconds = from
        .elapsed()
        .as_secs_f64()
        .min(measure.as_secs_f64() + 5.0);
    if let Some(mut perf) = perf {
        let _ = perf.wait();
    }
    let rss = backend.rss_between(from, Instant::now());
    let storm = (loggers > 0).then(|| Phase {
        name: format!("{name}_logins"),
        tally: logins,
        seconds,
        rss,
    });
    Ok((
        Phase {
            name: name.into(),
            tally: reads,
            seconds,
            rss,
        },
        storm,
    ))
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Collect,
    Sell,
    Purchase,
}

/// One step of an economy round for every pilot, pilots spread over the
/// connections. Returns the tally, the wall time and the pilots.
async fn econ_step(
    addr: SocketAddr,
    pid: u32,
    connections: usize,
    pilots: Vec<Pilot>,
    round: usize,
    step: Step,
) -> Result<(Tally, f64, Vec<Pilot>)> {
    let mut groups: Vec<Vec<Pilot>> = (0..connections).map(|_| Vec::new()).collect();
    for (i, pilot) in pilots.into_iter().enumerate() {
        groups[i % connections].push(pilot);
    }
    let begin = Instant::now();
    let cpu_start = Cpu::snapshot(pid);
    let mut set = JoinSet::new();
    for (w, mut group) in groups.into_iter().enumerate() {
        set.spawn(async move {
            let mut conn = Conn::new(addr);
            let mut tally = Tally::default();
            let mut n = 0u64;
            let mut waited = 0.0;
            for pilot in &mut group {
                match step {
                    Step::Collect => {
                        collect_until_full(
                            &mut conn,
                            pilot,
                            &mut tally,
                            w,
                            round,
                            &mut n,
                            &mut waited,
                        )
                        .await?
                    }
                    Step::Sell => {
                        sell_everything(&mut conn, pilot, &mut tally, w, round, &mut n).await?
                    }
                    Step::Purchase => {
                        purchase_affordable(&mut conn, pilot, &mut tally, w, round, &mut n).await?
                    }
                }
            }
            tally.waited_s = waited;
            Ok::<_, anyhow::Error>((tally, group))
        });
    }
    let mut tally = Tally::default();
    let mut back = Vec::new();
    while let Some(done) = set.join_next().await {
        let (t, group) = done??;
        tally.merge(t);
        back.extend(group);
    }
    tally.cpu = Cpu::snapshot(pid).since(cpu_start);
    Ok((tally, begin.elapsed().as_secs_f64(), back))
}

fn update_player(pilot: &mut Pilot, reply: &Result<Reply>) {
    if let Ok(reply) = reply
        && reply.ok()
        && let Ok(v) = reply.json()
        && let Ok(player) = serde_json::from_value::<Player>(v["player"].clone())
    {
        pilot.player = Some(player);
    }
}

async fn collect_until_full(
    conn: &mut Conn,
    pilot: &mut Pilot,
    tally: &mut Tally,
    w: usize,
    round: usize,
    n: &mut u64,
    waited: &mut f64,
) -> Result<()> {
    while pilot.hold_free() > 0 {
        // The run whose next planned claim the server's clock allows first.
        let Some(run) = pilot
            .runs
            .iter_mut()
            .filter(|r| r.next < r.claims.len())
            .min_by_key(|r| r.started + Duration::from_secs_f64(r.claims[r.next].at))
        else {
            break;
        };
        let claim = run.claims[run.next];
        run.next += 1;
        // Never ahead of the server's run clock.
        let ready = run.started + Duration::from_secs_f64(claim.at + 0.05);
        let now = Instant::now();
        if ready > now {
            *waited += (ready - now).as_secs_f64();
            tokio::time::sleep_until(ready.into()).await;
        }
        let path = format!("/api/v1/runs/{}/collect", run.id);
        let body = json!({"pieces": [{"index": claim.index, "at": claim.at}]});
        *n += 1;
        let k = key(&format!("c{round}"), w, *n);
        let t = Instant::now();
        let reply = conn
            .call(
                Method::POST,
                &path,
                Some(&pilot.token),
                Some(&k),
                Some(&body),
            )
            .await;
        tally.record(t, &reply);
        update_player(pilot, &reply);
    }
    Ok(())
}

async fn sell_everything(
    conn: &mut Conn,
    pilot: &mut Pilot,
    tally: &mut Tally,
    w: usize,
    round: usize,
    n: &mut u64,
) -> Result<()> {
    while let Some(kind) = pilot.player.as_ref().and_then(|p| {
        p.inventory
            .iter()
            .find(|(_, c)| **c > 0)
            .map(|(k, _)| k.clone())
    }) {
        let body = json!({"items": {kind.clone(): 1}});
        *n += 1;
        let k = key(&format!("s{round}"), w, *n);
        let t = Instant::now();
        let reply = conn
            .call(
                Method::POST,
                "/api/v1/hub/sell",
                Some(&pilot.token),
                Some(&k),
                Some(&body),
            )
            .await;
        tally.record(t, &reply);
        if !matches!(&reply, Ok(r) if r.ok()) {
            break;
        }
        update_player(pilot, &reply);
    }
    Ok(())
}

async fn purchase_affordable(
    conn: &mut Conn,
    pilot: &mut Pilot,
    tally: &mut Tally,
    w: usize,
    round: usize,
    n: &mut u64,
) -> Result<()> {
    let catalog = Catalog::shipped();
    while let Some(player) = pilot.player.as_ref() {
        let cheapest = UpgradeId::ALL
            .iter()
            .filter_map(|&id| {
                catalog
                    .upgrade(id)
                    .next_cost(player.upgrades.get(id))
                    .map(|cost| (cost, id))
            })
            .min();
        let Some((cost, id)) = cheapest else { break };
        if player.credits < cost + TRADE_RESERVE {
            break;
        }
        *n += 1;
        let k = key(&format!("p{round}"), w, *n);
        let path = format!("/api/v1/upgrades/{}/purchase", id.as_str());
        let t = Instant::now();
        let reply = conn
            .call(Method::POST, &path, Some(&pilot.token), Some(&k), None)
            .await;
        tally.record(t, &reply);
        if !matches!(&reply, Ok(r) if r.ok()) {
            break;
        }
        update_player(pilot, &reply);
    }
    Ok(())
}

/// Lobbies of 8; two connections per lobby trade between random members:
/// offer 1 credit, the receiver accepts. A completed trade counts once.
async fn trade_phase(args: &Args, backend: &Backend, pilots: &[Pilot]) -> Result<Vec<Phase>> {
    let addr = backend.addr;
    let capacity = Catalog::shipped().lobby().capacity as usize;
    let mut lobbies: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut conn = Conn::new(addr);
    for group in pilots.chunks(capacity) {
        if group.len() < 2 {
            break;
        }
        let reply = conn
            .call(
                Method::POST,
                "/api/v1/lobbies",
                Some(&group[0].token),
                Some(&format!("lobby-{}", group[0].username)),
                None,
            )
            .await?;
        let v = reply.json()?;
        let code = v["code"]
            .as_str()
            .with_context(|| format!("lobby: {v}"))?
            .to_owned();
        for member in &group[1..] {
            let reply = conn
                .call(
                    Method::POST,
                    &format!("/api/v1/lobbies/{code}/join"),
                    Some(&member.token),
                    None,
                    None,
                )
                .await?;
            if !reply.ok() {
                bail!("join {code}: {}", String::from_utf8_lossy(&reply.body));
            }
        }
        let members = group
            .iter()
            .map(|p| (p.username.clone(), p.token.clone()))
            .collect();
        lobbies.push((code, members));
    }
    let lobbies = Arc::new(lobbies);
    let warmup = Duration::from_secs(1);
    let from = Instant::now() + warmup;
    let until = from + Duration::from_secs_f64(args.seconds);
    let mut set = JoinSet::new();
    for w in 0..args.connections {
        let lobbies = lobbies.clone();
        set.spawn(async move {
            let (code, members) = &lobbies[w % lobbies.len()];
            let mut conn = Conn::new(addr);
            let mut trades = Tally::default();
            let mut offers = Tally::default();
            let mut accepts = Tally::default();
            let mut rng =
                0x9E37_79B9_7F4A_7C15_u64 ^ (w as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            let mut n = 0u64;
            loop {
                let t = Instant::now();
                if t >= until {
                    break;
                }
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let a = (rng % members.len() as u64) as usize;
                let b = (a + 1 + (rng >> 32) as usize % (members.len() - 1)) % members.len();
                let body = json!({
                    "to": members[b].0,
                    "give": {"credits": 1, "items": {}, "upgrades": {}},
                    "want": {"credits": 0, "items": {}, "upgrades": {}},
                });
                n += 1;
                let offer = conn
                    .call(
                        Method::POST,
                        &format!("/api/v1/lobbies/{code}/trades"),
                        Some(&members[a].1),
                        Some(&key("to", w, n)),
                        Some(&body),
                    )
                    .await;
                let measuring = t >= from;
                if measuring {
                    offers.record(t, &offer);
                }
                let id = match &offer {
                    Ok(r) if r.status == 201 => r
                        .json()
                        .ok()
                        .and_then(|v| v["id"].as_str().map(str::to_owned)),
                    _ => None,
                };
                let Some(id) = id else {
                    if measuring {
                        trades.record(t, &offer);
                    }
                    continue;
                };
                let t2 = Instant::now();
                let accept = conn
                    .call(
                        Method::POST,
                        &format!("/api/v1/trades/{id}/accept"),
                        Some(&members[b].1),
                        Some(&key("ta", w, n)),
                        None,
                    )
                    .await;
                if measuring {
                    accepts.record(t2, &accept);
                    trades.record(t, &accept);
                }
            }
            (trades, offers, accepts)
        });
    }
    tokio::time::sleep_until(from.into()).await;
    let perf = perf_start(args, backend, "trades", args.seconds);
    let cpu_start = Cpu::snapshot(backend.child.id());
    let mut trades = Tally::default();
    let mut offers = Tally::default();
    let mut accepts = Tally::default();
    while let Some(done) = set.join_next().await {
        let (t, o, a) = done?;
        trades.merge(t);
        offers.merge(o);
        accepts.merge(a);
    }
    let cpu = Cpu::snapshot(backend.child.id()).since(cpu_start);
    trades.cpu = cpu;
    offers.cpu = cpu;
    accepts.cpu = cpu;
    let seconds = from.elapsed().as_secs_f64();
    if let Some(mut perf) = perf {
        let _ = perf.wait();
    }
    let rss = backend.rss_between(from, Instant::now());
    Ok(vec![
        Phase {
            name: "trades".into(),
            tally: trades,
            seconds,
            rss,
        },
        Phase {
            name: "trade_offer".into(),
            tally: offers,
            seconds,
            rss,
        },
        Phase {
            name: "trade_accept".into(),
            tally: accepts,
            seconds,
            rss,
        },
    ])
}
