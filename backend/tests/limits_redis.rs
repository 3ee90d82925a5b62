//! The shared rate limiter against a real redis-server.
//!
//! - Two limiters on one Redis (two replicas) spend from one budget.
//! - Keys expire once their budget is full again.
//! - Redis going away mid-flight: a fail-open limiter lets requests through,
//!   a fail-closed one answers `Unavailable`, both count the errors; when
//!   Redis comes back on the same address they count again, without a new
//!   limiter.
//!
//! Needs `TEST_REDIS_URL` (`scripts/ensure-redis.sh` starts one and prints
//! it; `make test-rust` sets it). Without it the tests are skipped with a
//! note, unless `REQUIRE_REDIS=1`, which makes that a failure. The
//! outage test starts a throwaway redis-server of its own (the same binary),
//! never stopping the shared one.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use backend::limits::{Class, ClientKey, Decision, LimitsConfig, RateLimiter};

fn redis_url_or_skip(test: &str) -> Option<String> {
    match std::env::var("TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("REQUIRE_REDIS").as_deref() != Ok("1"),
                "{test}: REQUIRE_REDIS=1 but TEST_REDIS_URL is not set (scripts/ensure-redis.sh prints one)"
            );
            eprintln!(
                "note: {test} skipped: TEST_REDIS_URL is not set \
                 (export TEST_REDIS_URL=\"$(scripts/ensure-redis.sh)\")"
            );
            None
        }
    }
}

fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("cots-test:{test}:{}:{nanos}", std::process::id())
}

fn config(url: &str, prefix: &str, extra: &[(&str, &str)]) -> LimitsConfig {
    let mut pairs: Vec<(String, String)> = vec![
        ("REDIS_URL".into(), url.into()),
        ("RATE_LIMIT_REDIS_PREFIX".into(), prefix.into()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    LimitsConfig::from_lookup(|key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
        .expect("valid limits config")
}

#[tokio::test]
async fn two_replicas_share_one_budget() {
    let Some(url) = redis_url_or_skip("two_replicas_share_one_budget") else {
        return;
    };
    let prefix = unique_prefix("shared");
    let config = config(
        &url,
        &prefix,
        &[
            ("RATE_LIMIT_WRITE_USER_PER_MINUTE", "60"),
            ("RATE_LIMIT_WRITE_USER_BURST", "6"),
            ("RATE_LIMIT_WRITE_IP_PER_MINUTE", "60"),
            ("RATE_LIMIT_WRITE_IP_BURST", "4"),
        ],
    );
    let replica_a = RateLimiter::connect(&config).await.expect("replica A");
    let replica_b = RateLimiter::connect(&config).await.expect("replica B");
    assert_eq!(replica_a.store_kind(), "redis");

    // Six cells, spent alternately on the two replicas; the seventh is
    // refused by whichever replica it reaches.
    let ada = ClientKey::User("ada".into());
    for n in 0..6 {
        let replica = if n % 2 == 0 { &replica_a } else { &replica_b };
        assert_eq!(
            replica.check(Class::Write, &ada).await,
            Decision::Allowed,
            "cell {n}"
        );
    }
    for replica in [&replica_a, &replica_b] {
        let decision = replica.check(Class::Write, &ada).await;
        let Decision::Limited { retry_after } = decision else {
            panic!("over the shared budget: {decision:?}");
        };
        assert!(
            retry_after > Duration::from_millis(500) && retry_after <= Duration::from_secs(1),
            "one cell a second: {retry_after:?}"
        );
        assert_eq!(decision.retry_after_secs(), Some(1));
    }
    // Budgets are per key and per class.
    assert!(
        replica_b
            .check(Class::Write, &ClientKey::User("bob".into()))
            .await
            .is_allowed()
    );
    assert!(replica_b.check(Class::Read, &ada).await.is_allowed());

    // IPv6 per /64, across replicas, through check_request.
    let first: std::net::IpAddr = "2001:db8:42:1::10".parse().unwrap();
    let second: std::net::IpAddr = "2001:db8:42:1:ffff::99".parse().unwrap();
    for (n, (replica, ip)) in [
        (&replica_a, first),
        (&replica_b, second),
        (&replica_a, second),
        (&replica_b, first),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(
            replica
                .check_request(Class::Write, None, Some(ip))
                .await
                .is_allowed(),
            "address cell {n}"
        );
    }
    assert!(
        !replica_a
            .check_request(Class::Write, Some("carol"), Some(second))
            .await
            .is_allowed(),
        "the /64's budget of 4 is spent, whichever address and replica"
    );

    // After a cell's interval, exactly one more passes.
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert!(replica_b.check(Class::Write, &ada).await.is_allowed());
    assert!(!replica_a.check(Class::Write, &ada).await.is_allowed());
    assert_eq!(replica_a.metrics().store_errors.get(), 0);
    assert_eq!(replica_b.metrics().store_errors.get(), 0);

    // The key expires once the budget is full again (here: within 7 s),
    // so idle clients cost Redis nothing.
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = config.redis_key(Class::Write, &ada);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 7_100, "{key}: PTTL {ttl}");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        keys.contains(&format!("{prefix}:write:ip:2001:db8:42:1::/64")),
        "{keys:?}"
    );
    let _: () = redis::cmd("DEL")
        .arg(keys)
        .query_async(&mut conn)
        .await
        .unwrap();
}

/// A redis-server of this test's own, on a fixed port, to be stopped and
/// started again.
struct ThrowawayRedis {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl ThrowawayRedis {
    fn start(port: u16) -> Self {
        let binary = [
            "redis-server",
            "/usr/bin/redis-server",
            "/usr/sbin/redis-server",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|candidate| {
            Command::new(candidate)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect("redis-server (installed by scripts/ensure-redis.sh)");
        let mut redis = Self {
            binary,
            port,
            child: None,
        };
        redis.restart();
        redis
    }

    fn restart(&mut self) {
        let dir = std::env::temp_dir();
        let child = Command::new(&self.binary)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ThrowawayRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn redis_outage_fails_open_or_closed_as_configured_and_recovers() {
    if redis_url_or_skip("redis_outage_fails_open_or_closed_as_configured_and_recovers").is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = ThrowawayRedis::start(port);
    let url = format!("redis://127.0.0.1:{port}/0");
    let prefix = unique_prefix("outage");
    let budget = [
        ("RATE_LIMIT_READ_USER_PER_MINUTE", "60"),
        ("RATE_LIMIT_READ_USER_BURST", "2"),
        ("RATE_LIMIT_REDIS_TIMEOUT_MS", "200"),
    ];
    let open = RateLimiter::connect(&config(&url, &prefix, &budget))
        .await
        .expect("fail-open limiter");
    let mut closed_settings = budget.to_vec();
    closed_settings.push(("RATE_LIMIT_FAIL_MODE", "closed"));
    let closed = RateLimiter::connect(&config(&url, &prefix, &closed_settings))
        .await
        .expect("fail-closed limiter");
    let ada = ClientKey::User("ada".into());
    let bob = ClientKey::User("bob".into());
    assert!(open.check(Class::Read, &ada).await.is_allowed());
    assert!(closed.check(Class::Read, &bob).await.is_allowed());

    redis.stop();
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(
            open.check(Class::Read, &ada).await,
            Decision::Allowed,
            "fail open: requests pass while Redis is down"
        );
        assert_eq!(
            closed.check(Class::Read, &bob).await,
            Decision::Unavailable,
            "fail closed: requests are refused while Redis is down"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a check never waits much longer than RATE_LIMIT_REDIS_TIMEOUT_MS: {:?}",
            started.elapsed()
        );
    }
    assert!(open.metrics().store_errors.get() >= 5);
    assert!(closed.metrics().store_errors.get() >= 5);
    assert_eq!(Decision::Unavailable.retry_after_secs(), Some(1));

    // Back on the same address (empty: it kept nothing): both limiters
    // count again by themselves.
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let errors = closed.metrics().store_errors.get();
        let decision = closed.check(Class::Read, &bob).await;
        if decision.is_allowed() && closed.metrics().store_errors.get() == errors {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the fail-closed limiter did not reconnect: {decision:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Counting for real again: bob's second cell passes, the third is over.
    assert!(closed.check(Class::Read, &bob).await.is_allowed());
    assert!(matches!(
        closed.check(Class::Read, &bob).await,
        Decision::Limited { .. }
    ));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let errors = open.metrics().store_errors.get();
        open.check(Class::Read, &ada).await;
        if open.metrics().store_errors.get() == errors {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the fail-open limiter did not reconnect"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(open.check(Class::Read, &ada).await.is_allowed());
    assert!(!open.check(Class::Read, &ada).await.is_allowed());
}
