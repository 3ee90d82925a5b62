//! No acknowledged write is lost when the backend dies mid-load: pairs of
//! pilots trade credits as fast as they can (every offer and every accept
//! carries an `Idempotency-Key`) against a real `backend serve` process,
//! which is killed with SIGKILL in the middle. After a restart on the same
//! database, every request that got no answer is replayed with its key;
//! then each pilot's balance must be exactly what the answers said, and
//! `backend audit` must pass. On SQLite (a file) and PostgreSQL.

mod ops_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ops_support::{
    PASSWORD, PgDatabase, STRONG_SECRET, Server, TempDir, base_env, client, confirm_every_address,
    login, postgres_url_or_skip, register, run_backend, send_signal, text,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PAIRS: usize = 4;
const START_CREDITS: i64 = 100;

/// One keyed request: where, what, with which key.
#[derive(Clone, Debug)]
struct Keyed {
    path: String,
    body: Option<Value>,
    key: String,
}

/// What a pair of pilots saw.
#[derive(Default, Debug)]
struct PairLog {
    /// Trades whose accept was answered `completed` (1 credit each).
    completed: i64,
    /// The request that was in flight when the backend died (no answer).
    unanswered: Option<(Keyed, Step)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Offer,
    Accept,
}

async fn send(base: &str, token: &str, request: &Keyed) -> Result<(StatusCode, Value), ()> {
    let mut call = client()
        .post(format!("{base}{}", request.path))
        .bearer_auth(token)
        .header("Idempotency-Key", &request.key);
    if let Some(body) = &request.body {
        call = call.json(body);
    }
    let response = call.send().await.map_err(|_| ())?;
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

struct Pair {
    giver: String,
    taker: String,
    giver_token: String,
    taker_token: String,
    lobby: String,
}

/// Offers and accepts 1 credit at a time until `stop` or the first request
/// without an answer (the backend is gone).
async fn trade_until_dead(base: String, pair: Arc<Pair>, stop: Arc<AtomicBool>) -> PairLog {
    let mut log = PairLog::default();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) && log.completed < START_CREDITS - 1 {
        n += 1;
        let offer = Keyed {
            path: format!("/api/v1/lobbies/{}/trades", pair.lobby),
            body: Some(json!({"to": pair.taker, "give": {"credits": 1}, "want": {}})),
            key: format!("offer-{}-{n}", pair.giver),
        };
        let Ok((status, trade)) = send(&base, &pair.giver_token, &offer).await else {
            log.unanswered = Some((offer, Step::Offer));
            return log;
        };
        assert_eq!(status, StatusCode::CREATED, "offer: {trade}");
        let accept = Keyed {
            path: format!("/api/v1/trades/{}/accept", trade["id"].as_str().unwrap()),
            body: None,
            key: format!("accept-{}-{n}", pair.giver),
        };
        let Ok((status, answer)) = send(&base, &pair.taker_token, &accept).await else {
            log.unanswered = Some((accept, Step::Accept));
            return log;
        };
        assert_eq!(status, StatusCode::OK, "accept: {answer}");
        assert_eq!(answer["trade"]["status"], "completed", "{answer}");
        log.completed += 1;
        // The answer says the taker's balance: it must be the stored one.
        assert_eq!(
            answer["player"]["credits"].as_i64(),
            Some(START_CREDITS + log.completed),
            "{answer}"
        );
    }
    log
}

async fn credits(base: &str, token: &str) -> i64 {
    let player: Value = client()
        .get(format!("{base}/api/v1/player"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    player["credits"]
        .as_i64()
        .unwrap_or_else(|| panic!("{player}"))
}

async fn token(server: &Server, username: &str) -> String {
    let (status, body) = login(server, username, PASSWORD).await;
    assert!(status.is_success(), "{body:?}");
    body.unwrap()["access_token"].as_str().unwrap().to_owned()
}

async fn acknowledged_writes_survive_kill_9(database_url: &str, dir: &TempDir) {
    let mut env = base_env(dir.path(), database_url);
    for (key, value) in [
        ("JWT_SECRET", STRONG_SECRET),
        ("TRADE_OFFERS_PER_MINUTE", "1000000"),
        ("TRADE_OFFER_BURST", "1000000"),
        ("RATE_LIMIT_WRITE_USER_BURST", "1000000"),
        ("RATE_LIMIT_WRITE_IP_BURST", "1000000"),
        ("RATE_LIMIT_READ_USER_BURST", "1000000"),
        ("RATE_LIMIT_READ_IP_BURST", "1000000"),
        ("DB_MAX_CONNECTIONS", "8"),
    ] {
        env.push((key.into(), value.into()));
    }
    let mut server = Server::start(dir.path(), &env);
    let base = server.url("");

    let mut names = Vec::new();
    for i in 0..PAIRS {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let giver = format!("giver{i}_{tag}");
        let taker = format!("taker{i}_{tag}");
        assert!(register(&server, &giver).await.is_success());
        assert!(register(&server, &taker).await.is_success());
        names.push((giver, taker));
    }
    // Start credits are transferable once the address is confirmed.
    confirm_every_address(database_url).await;
    let http = client();
    let mut pairs = Vec::new();
    for (giver, taker) in names {
        let giver_token = token(&server, &giver).await;
        let taker_token = token(&server, &taker).await;
        let lobby: Value = http
            .post(format!("{base}/api/v1/lobbies"))
            .bearer_auth(&giver_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let lobby = lobby["code"].as_str().unwrap().to_owned();
        let joined = http
            .post(format!("{base}/api/v1/lobbies/{lobby}/join"))
            .bearer_auth(&taker_token)
            .send()
            .await
            .unwrap();
        assert!(joined.status().is_success());
        pairs.push(Arc::new(Pair {
            giver,
            taker,
            giver_token,
            taker_token,
            lobby,
        }));
    }

    // Load, then SIGKILL in the middle of it.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = pairs
        .iter()
        .map(|pair| tokio::spawn(trade_until_dead(base.clone(), pair.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    send_signal(server.pid(), "KILL");
    let _ = server.wait(Duration::from_secs(10));
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::new();
    for worker in workers {
        logs.push(worker.await.unwrap());
    }
    let acknowledged: i64 = logs.iter().map(|l| l.completed).sum();
    assert!(
        acknowledged > 0,
        "the load ran before the kill ({acknowledged} trades)"
    );

    // Restart on the same database; replay what got no answer, with its key.
    let server = Server::start(dir.path(), &env);
    let base = server.url("");
    let mut replayed = 0;
    for (pair, log) in pairs.iter().zip(logs.iter_mut()) {
        let Some((request, step)) = log.unanswered.take() else {
            continue;
        };
        replayed += 1;
        match step {
            Step::Accept => {
                let (status, answer) = send(&base, &pair.taker_token, &request).await.unwrap();
                assert_eq!(status, StatusCode::OK, "replayed accept: {answer}");
                assert_eq!(answer["trade"]["status"], "completed", "{answer}");
                log.completed += 1;
                assert_eq!(
                    answer["player"]["credits"].as_i64(),
                    Some(START_CREDITS + log.completed),
                    "the replay answers what was stored: {answer}"
                );
            }
            Step::Offer => {
                let (status, trade) = send(&base, &pair.giver_token, &request).await.unwrap();
                assert_eq!(status, StatusCode::CREATED, "replayed offer: {trade}");
                // The same key again: the stored answer, the same trade.
                let (_, again) = send(&base, &pair.giver_token, &request).await.unwrap();
                assert_eq!(again["id"], trade["id"]);
                let accept = Keyed {
                    path: format!("/api/v1/trades/{}/accept", trade["id"].as_str().unwrap()),
                    body: None,
                    key: format!("accept-after-{}", pair.giver),
                };
                let (status, answer) = send(&base, &pair.taker_token, &accept).await.unwrap();
                assert_eq!(status, StatusCode::OK, "accept after restart: {answer}");
                log.completed += 1;
            }
        }
    }

    // Every balance is what the answers said.
    for (pair, log) in pairs.iter().zip(&logs) {
        let giver = credits(&base, &pair.giver_token).await;
        let taker = credits(&base, &pair.taker_token).await;
        assert_eq!(
            (giver, taker),
            (START_CREDITS - log.completed, START_CREDITS + log.completed),
            "{}: {} trades answered or replayed",
            pair.giver,
            log.completed
        );
    }
    drop(server);
    let pairs_env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let audit = run_backend(dir.path(), &pairs_env, &["audit"], Duration::from_secs(60));
    assert!(
        audit.status.success(),
        "backend audit after the kill:\n{}\n{}",
        text(&audit.stdout),
        text(&audit.stderr)
    );
    println!(
        "kill -9 under write load: {acknowledged} trades acknowledged before the kill, \
         {replayed} unanswered requests replayed, every balance as answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_loses_no_acknowledged_write_to_kill_9() {
    let dir = TempDir::new("durability");
    let url = format!("sqlite://{}/durability.db?mode=rwc", dir.path().display());
    acknowledged_writes_survive_kill_9(&url, &dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_loses_no_acknowledged_write_to_kill_9() {
    let Some(admin) = postgres_url_or_skip("postgres_loses_no_acknowledged_write_to_kill_9") else {
        return;
    };
    let database = PgDatabase::create(&admin, "cots_durability").await;
    let dir = TempDir::new("durability-pg");
    acknowledged_writes_survive_kill_9(&database.url, &dir).await;
}
