//! Reconnect storm: N players sit in trading rooms with the game's own lobby
//! socket (the `client` crate, shipped backoff with jitter), the backend is
//! killed (SIGKILL) and started again on the same address, and every socket
//! finds its way back by itself. Measured from the restarted backend's
//! `listening` line: when each socket has its fresh snapshot (p50, p95, all
//! back), how many attempts each needed, and how long the restart itself
//! took.
//!
//!     cargo bench -p backend --bench reconnect_storm -- \
//!         [--sockets 200] [--db sqlite|postgres --pg-url URL] [--out FILE]
//!
//! `make bench` runs it on both databases (part 8) and reports it in
//! docs/BENCHMARKS.md.

#[path = "../tests/ops_support/mod.rs"]
mod ops_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use client::api::ApiClient;
use client::lobby_socket::{LobbySocket, SocketConfig, SocketEvent};
use game::api::{LobbyServerEvent, RegisterRequest};
use ops_support::{PgDatabase, Server, TempDir, base_env, free_port, repo_root, send_signal};
use serde_json::json;
use tokio::sync::Semaphore;

struct Args {
    sockets: usize,
    db: String,
    pg_url: Option<String>,
    out: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        sockets: 200,
        db: "sqlite".into(),
        pg_url: None,
        out: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--sockets" => args.sockets = it.next().and_then(|v| v.parse().ok()).unwrap_or(200),
            "--db" => args.db = it.next().unwrap_or_default(),
            "--pg-url" => args.pg_url = it.next(),
            "--out" => args.out = it.next(),
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    args
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn pilot(base: &str, index: usize) -> (String, ApiClient) {
    let api = ApiClient::new(base).expect("client");
    let username = format!("storm_{}_{index}", std::process::id() % 10_000);
    api.sign_up(&RegisterRequest {
        email: format!("{username}@example.org"),
        username: username.clone(),
        password: ops_support::PASSWORD.to_owned(),
    })
    .await
    .expect("sign up");
    (username, api)
}

/// Polls every socket until each has produced a snapshot; returns, per
/// socket, when (since `since`) and how many `Disconnected` it saw.
async fn until_all_back(
    sockets: &[LobbySocket],
    since: Instant,
    limit: Duration,
) -> Vec<Option<(f64, u32)>> {
    let mut back: Vec<Option<(f64, u32)>> = vec![None; sockets.len()];
    let mut attempts = vec![0u32; sockets.len()];
    let deadline = Instant::now() + limit;
    while back.iter().any(Option::is_none) && Instant::now() < deadline {
        for (i, socket) in sockets.iter().enumerate() {
            for event in socket.poll() {
                match event {
                    SocketEvent::Disconnected { .. } => attempts[i] += 1,
                    SocketEvent::Event(event)
                        if back[i].is_none()
                            && matches!(*event, LobbyServerEvent::Snapshot { .. }) =>
                    {
                        back[i] = Some((since.elapsed().as_secs_f64(), attempts[i]));
                    }
                    SocketEvent::Closed { code, message } => {
                        panic!("socket {i} closed for good: {code} {message}")
                    }
                    _ => {}
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    back
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let data = TempDir::new("cots-storm");
    let pg = match args.db.as_str() {
        "postgres" => {
            let admin = args.pg_url.clone().expect("--db postgres needs --pg-url");
            Some(PgDatabase::create(&admin, "storm").await)
        }
        _ => None,
    };
    let url = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}?mode=rwc", data.join("game.db").display()),
    };
    let port = free_port();
    let mut env = base_env(data.path(), &url);
    env.retain(|(k, _)| k != "BIND_ADDR" && k != "DB_MAX_CONNECTIONS");
    env.extend(
        [
            ("BIND_ADDR", format!("127.0.0.1:{port}")),
            // Every player comes from 127.0.0.1.
            ("RATE_LIMIT_READ_IP_PER_MINUTE", "1000000".to_owned()),
            ("RATE_LIMIT_READ_IP_BURST", "100000".to_owned()),
            ("RATE_LIMIT_WRITE_IP_PER_MINUTE", "1000000".to_owned()),
            ("RATE_LIMIT_WRITE_IP_BURST", "100000".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let server = Server::start(&repo_root(), &env);
    let base = format!("http://127.0.0.1:{port}");

    // Players, eight to a room.
    eprintln!("storm: signing up {} players", args.sockets);
    let gate = Arc::new(Semaphore::new(8));
    let mut joins = Vec::new();
    for index in 0..args.sockets {
        let (gate, base) = (gate.clone(), base.clone());
        joins.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            pilot(&base, index).await
        }));
    }
    let mut players = Vec::new();
    for join in joins {
        players.push(join.await.expect("sign-up task"));
    }
    let mut codes = Vec::new();
    for (index, (_, api)) in players.iter().enumerate() {
        if index % 8 == 0 {
            codes.push(api.create_lobby().await.expect("lobby").code);
        } else {
            api.join_lobby(codes.last().expect("a room"))
                .await
                .expect("join");
        }
    }
    let handle = tokio::runtime::Handle::current();
    let opened = Instant::now();
    let sockets: Vec<LobbySocket> = players
        .iter()
        .enumerate()
        .map(|(index, (_, api))| {
            api.open_lobby_socket(&handle, &codes[index / 8], SocketConfig::default())
        })
        .collect();
    let first = until_all_back(&sockets, opened, Duration::from_secs(120)).await;
    assert!(first.iter().all(Option::is_some), "every socket connected");
    let connect_all = first.iter().flatten().map(|(t, _)| *t).fold(0.0, f64::max);
    eprintln!(
        "storm: {} sockets in {} rooms connected in {connect_all:.2} s",
        sockets.len(),
        codes.len()
    );

    // The crash.
    send_signal(server.pid(), "KILL");
    drop(server);
    let lost = Instant::now();
    let mut seen_loss = vec![false; sockets.len()];
    while seen_loss.iter().any(|s| !s) && lost.elapsed() < Duration::from_secs(30) {
        for (i, socket) in sockets.iter().enumerate() {
            for event in socket.poll() {
                if matches!(event, SocketEvent::Disconnected { .. }) {
                    seen_loss[i] = true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let noticed = lost.elapsed().as_secs_f64();
    // Down for a moment, as a real restart is.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let restart = Instant::now();
    let server = Server::start(&repo_root(), &env);
    let listening = Instant::now();
    let restart_s = (listening - restart).as_secs_f64();
    let back = until_all_back(&sockets, listening, Duration::from_secs(120)).await;
    let returned: Vec<(f64, u32)> = back.iter().flatten().copied().collect();
    let mut times: Vec<f64> = returned.iter().map(|(t, _)| *t).collect();
    times.sort_by(f64::total_cmp);
    let attempts: Vec<u32> = returned.iter().map(|(_, a)| *a).collect();
    let report = json!({
        "db": args.db,
        "sockets": sockets.len(),
        "rooms": codes.len(),
        "first_connect_all_s": connect_all,
        "loss_noticed_by_all_s": noticed,
        "restart_to_listening_s": restart_s,
        "back": returned.len(),
        "back_p50_s": percentile(&times, 0.5),
        "back_p95_s": percentile(&times, 0.95),
        "all_back_s": times.last().copied().unwrap_or(f64::NAN),
        "attempts_mean": attempts.iter().map(|&a| f64::from(a)).sum::<f64>() / attempts.len().max(1) as f64,
        "attempts_max": attempts.iter().copied().max().unwrap_or(0),
    });
    println!(
        "reconnect storm ({}): {} of {} sockets back after the restart; p50 {:.2} s, p95 {:.2} s, all {:.2} s after `listening` (restart itself {:.2} s); attempts per socket mean {:.1}, max {}",
        args.db,
        returned.len(),
        sockets.len(),
        report["back_p50_s"].as_f64().unwrap_or(f64::NAN),
        report["back_p95_s"].as_f64().unwrap_or(f64::NAN),
        report["all_back_s"].as_f64().unwrap_or(f64::NAN),
        restart_s,
        report["attempts_mean"].as_f64().unwrap_or(f64::NAN),
        report["attempts_max"],
    );
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_string_pretty(&report).expect("json")).expect("write");
    }
    drop(sockets);
    drop(server);
    drop(pg);
    assert_eq!(returned.len(), players.len(), "every socket came back");
}
