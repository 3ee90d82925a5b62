//! The in-memory store, keys and configuration. The Redis store is tested
//! against a real redis-server in `tests/limits_redis.rs`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use super::*;

fn config(pairs: &[(&str, &str)]) -> Result<LimitsConfig, super::ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    LimitsConfig::from_lookup(|key| map.get(key).cloned())
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn ipv6_is_keyed_per_64_and_mapped_ipv4_as_ipv4() {
    assert_eq!(ip_key(ip("203.0.113.7")), "203.0.113.7");
    assert_eq!(ip_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
    assert_eq!(
        ip_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
        ip_key(ip("2001:db8:1:2::5"))
    );
    assert_ne!(ip_key(ip("2001:db8:1:2::1")), ip_key(ip("2001:db8:1:3::1")));
    assert_eq!(ip_key(ip("::ffff:198.51.100.4")), "198.51.100.4");
}

#[tokio::test]
async fn memory_store_spends_a_burst_then_limits_with_a_wait() {
    let config = config(&[
        ("RATE_LIMIT_WRITE_USER_PER_MINUTE", "60"),
        ("RATE_LIMIT_WRITE_USER_BURST", "3"),
    ])
    .unwrap();
    let limiter = RateLimiter::connect(&config).await.unwrap();
    assert_eq!(limiter.store_kind(), "memory");
    let ada = ClientKey::User("ada".into());
    for n in 0..3 {
        assert_eq!(
            limiter.check(Class::Write, &ada).await,
            Decision::Allowed,
            "cell {n}"
        );
    }
    let limited = limiter.check(Class::Write, &ada).await;
    let Decision::Limited { retry_after } = limited else {
        panic!("the fourth write is over the burst: {limited:?}");
    };
    assert!(
        retry_after > Duration::from_millis(900) && retry_after <= Duration::from_secs(1),
        "one cell a second: {retry_after:?}"
    );
    assert_eq!(limited.retry_after_secs(), Some(1));
    // Another user, and another class, have budgets of their own.
    let bob = ClientKey::User("bob".into());
    assert!(limiter.check(Class::Write, &bob).await.is_allowed());
    assert!(limiter.check(Class::Read, &ada).await.is_allowed());
    let decisions = limiter
        .metrics()
        .decisions
        .get_or_create(&DecisionLabels {
            class: "write",
            scope: "user",
            outcome: "limited",
        })
        .get();
    assert_eq!(decisions, 1);
}

#[tokio::test]
async fn one_ipv6_64_shares_a_budget() {
    let config = config(&[
        ("RATE_LIMIT_READ_IP_PER_MINUTE", "1"),
        ("RATE_LIMIT_READ_IP_BURST", "2"),
    ])
    .unwrap();
    let limiter = RateLimiter::in_memory(&config);
    let a = ClientKey::Ip(ip("2001:db8:5:6::1"));
    let b = ClientKey::Ip(ip("2001:db8:5:6:dead:beef::2"));
    assert!(limiter.check(Class::Read, &a).await.is_allowed());
    assert!(limiter.check(Class::Read, &b).await.is_allowed());
    assert!(!limiter.check(Class::Read, &a).await.is_allowed());
    assert!(
        !limiter.check(Class::Read, &b).await.is_allowed(),
        "a new address in the same /64 does not reset the budget"
    );
    let elsewhere = ClientKey::Ip(ip("2001:db8:5:7::1"));
    assert!(limiter.check(Class::Read, &elsewhere).await.is_allowed());
}

#[tokio::test]
async fn a_request_spends_from_its_ip_and_its_user() {
    let config = config(&[
        ("RATE_LIMIT_WRITE_IP_PER_MINUTE", "1"),
        ("RATE_LIMIT_WRITE_IP_BURST", "3"),
        ("RATE_LIMIT_WRITE_USER_PER_MINUTE", "1"),
        ("RATE_LIMIT_WRITE_USER_BURST", "1"),
    ])
    .unwrap();
    let limiter = RateLimiter::in_memory(&config);
    let home = Some(ip("192.0.2.10"));
    assert!(
        limiter
            .check_request(Class::Write, Some("ada"), home)
            .await
            .is_allowed()
    );
    // Ada's own budget is spent; Bob behind the same address still passes.
    assert!(
        !limiter
            .check_request(Class::Write, Some("ada"), home)
            .await
            .is_allowed()
    );
    assert!(
        limiter
            .check_request(Class::Write, Some("bob"), home)
            .await
            .is_allowed()
    );
    // ...until the address's budget (3) is spent too.
    assert!(
        !limiter
            .check_request(Class::Write, Some("carol"), home)
            .await
            .is_allowed()
    );
    // No user, no address: nothing to count.
    assert!(
        limiter
            .check_request(Class::Write, None, None)
            .await
            .is_allowed()
    );
}

#[test]
fn defaults_are_valid_and_auth_is_tightest() {
    let config = LimitsConfig::default();
    assert!(config.redis_url.is_none());
    assert_eq!(config.fail_mode, FailMode::Open);
    let auth = config.quota(Class::Auth, Scope::Ip).unwrap();
    let read = config.quota(Class::Read, Scope::User).unwrap();
    let write = config.quota(Class::Write, Scope::User).unwrap();
    assert!(auth.per_minute < write.per_minute && write.per_minute < read.per_minute);
    assert!(config.summary().contains("memory"));
}

#[test]
fn bad_settings_are_all_reported() {
    let error = config(&[
        ("REDIS_URL", "localhost:6379"),
        ("RATE_LIMIT_FAIL_MODE", "sometimes"),
        ("RATE_LIMIT_READ_USER_PER_MINUTE", "0"),
        ("RATE_LIMIT_WRITE_IP_BURST", "many"),
    ])
    .unwrap_err();
    let text = error.to_string();
    for needle in [
        "REDIS_URL `localhost:6379` is not a URL",
        "RATE_LIMIT_FAIL_MODE must be `open` or `closed`",
        "RATE_LIMIT_READ_USER_PER_MINUTE must be between 1 and",
        "RATE_LIMIT_WRITE_IP_BURST: cannot understand `many`",
    ] {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }
}

#[test]
fn redis_urls_are_checked_and_never_shown_with_their_password() {
    for bad in [
        "rediss://:hunter2@cache.internal:6380",
        "http://cache.internal:6379",
        "redis://:hunter2@cache.internal:99999/0",
        "redis://:hunter2@:6379",
    ] {
        let text = config(&[("REDIS_URL", bad)]).unwrap_err().to_string();
        assert!(text.contains("REDIS_URL"), "{bad}: {text}");
        assert!(!text.contains("hunter2"), "password leaked: {text}");
    }
    for good in [
        "redis://127.0.0.1:6379",
        "redis://:hunter2@cache.internal:6379/2",
        "redis://cots:hunter2@[::1]:6379/0",
        "unix:///run/redis/redis.sock",
    ] {
        let config = config(&[("REDIS_URL", good), ("RATE_LIMIT_FAIL_MODE", "closed")])
            .unwrap_or_else(|e| panic!("{good}: {e}"));
        assert_eq!(config.fail_mode, FailMode::Closed);
        let summary = config.summary();
        assert!(!summary.contains("hunter2"), "{summary}");
    }
    assert_eq!(
        config::redact_redis_url("redis://cots:hunter2@cache:6379/0"),
        "redis://cots:***@cache:6379/0"
    );
}

#[tokio::test]
async fn an_unreachable_redis_stops_the_start_with_a_clear_message() {
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = config(&[
        ("REDIS_URL", &format!("redis://:hunter2@127.0.0.1:{port}/0")),
        ("RATE_LIMIT_REDIS_CONNECT_ATTEMPTS", "2"),
        ("RATE_LIMIT_REDIS_TIMEOUT_MS", "100"),
    ])
    .unwrap();
    let error = match RateLimiter::connect(&config).await {
        Ok(_) => panic!("nothing listens on {port}"),
        Err(error) => format!("{error:#}"),
    };
    assert!(
        error.contains(&format!("REDIS_URL redis://:***@127.0.0.1:{port}/0"))
            && error.contains("does not answer"),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "{error}");
}
