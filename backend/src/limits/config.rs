//! The limits' configuration, read from the environment and validated as a
//! whole (every problem listed, merged into [`crate::config::Config::from_env`]'s list).
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `REDIS_URL` | unset: memory | `redis://[user:password@]host[:port][/db]` or `unix:///path/redis.sock` |
//! | `RATE_LIMIT_FAIL_MODE` | `open` | when Redis does not answer: `open` lets requests through, `closed` answers 503 |
//! | `RATE_LIMIT_REDIS_TIMEOUT_MS` | 250 | per check (and per connection attempt) |
//! | `RATE_LIMIT_REDIS_CONNECT_ATTEMPTS` | 5 | PINGs at start before giving up |
//! | `RATE_LIMIT_REDIS_PREFIX` | `cots:rl` | key prefix (several deployments on one Redis) |
//! | `AUTH_RATE_LIMIT_PER_MINUTE` / `AUTH_RATE_LIMIT_BURST` | 30 / 10 | auth routes, per IP |
//! | `RATE_LIMIT_READ_USER_PER_MINUTE` / `_BURST` | 1200 / 300 | reads, per user |
//! | `RATE_LIMIT_READ_IP_PER_MINUTE` / `_BURST` | 6000 / 1500 | reads, per IP (/64: many players may share a NAT) |
//! | `RATE_LIMIT_WRITE_USER_PER_MINUTE` / `_BURST` | 600 / 150 | writes, per user |
//! | `RATE_LIMIT_WRITE_IP_PER_MINUTE` / `_BURST` | 3000 / 750 | writes, per IP (/64) |
//! | `RUN_STARTS_PER_MINUTE` / `RUN_START_BURST` | 30 / 60 | zone runs started, per user |
//! | `LOBBY_OPENS_PER_MINUTE` / `LOBBY_OPEN_BURST` | 10 / 10 | lobbies opened, per user |
//! | `TRADE_OFFERS_PER_MINUTE` / `TRADE_OFFER_BURST` | 10 / 5 | trade offers, per user |
//! | `CHAT_LINES_PER_MINUTE` / `CHAT_LINE_BURST` | 60 / 5 | lobby chat lines, per user |
//! | `SOCKET_OPENS_PER_MINUTE` / `SOCKET_OPEN_BURST` | 30 / 10 | lobby sockets opened, per user |
//!
//! Every budget lives in the one store: with `REDIS_URL` all replicas spend
//! from the same budgets.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};

use super::key::ClientKey;
use super::types::{Class, Scope};

/// Everything wrong with a section of the configuration, one problem per
/// line; [`crate::config::Config::from_env`] merges them into its own list
/// (this module does not import `config`: `config` holds this section).
#[derive(Debug)]
pub struct ConfigError(pub Vec<String>);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Cells per minute and how many may be spent at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub per_minute: u32,
    pub burst: u32,
}

impl Quota {
    /// Microseconds between two cells.
    pub fn interval_micros(self) -> u64 {
        60_000_000 / u64::from(self.per_minute.max(1))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// Redis down: requests pass unlimited (availability first).
    Open,
    /// Redis down: requests are refused with 503 (protection first).
    Closed,
}

impl FailMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FailMode::Open => "open",
            FailMode::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LimitsConfig {
    pub redis_url: Option<SecretString>,
    pub fail_mode: FailMode,
    pub redis_timeout: Duration,
    pub redis_connect_attempts: u32,
    pub redis_prefix: String,
    pub budgets: BTreeMap<(Class, Scope), Quota>,
}

/// The largest budget accepted (a typo guard: 1 000 000 a minute is more
/// than any client needs).
const MAX_PER_MINUTE: u32 = 1_000_000;

/// (class, scope, per-minute variable, burst variable, default per
/// minute, default burst).
const BUDGETS: [(Class, Scope, &str, &str, u32, u32); 10] = [
    (
        Class::Auth,
        Scope::Ip,
        "AUTH_RATE_LIMIT_PER_MINUTE",
        "AUTH_RATE_LIMIT_BURST",
        30,
        10,
    ),
    (
        Class::Read,
        Scope::User,
        "RATE_LIMIT_READ_USER_PER_MINUTE",
        "RATE_LIMIT_READ_USER_BURST",
        1200,
        300,
    ),
    (
        Class::Read,
        Scope::Ip,
        "RATE_LIMIT_READ_IP_PER_MINUTE",
        "RATE_LIMIT_READ_IP_BURST",
        6000,
        1500,
    ),
    (
        Class::Write,
        Scope::User,
        "RATE_LIMIT_WRITE_USER_PER_MINUTE",
        "RATE_LIMIT_WRITE_USER_BURST",
        600,
        150,
    ),
    (
        Class::Write,
        Scope::Ip,
        "RATE_LIMIT_WRITE_IP_PER_MINUTE",
        "RATE_LIMIT_WRITE_IP_BURST",
        3000,
        750,
    ),
    (
        Class::RunStart,
        Scope::User,
        "RUN_STARTS_PER_MINUTE",
        "RUN_START_BURST",
        30,
        60,
    ),
    (
        Class::LobbyOpen,
        Scope::User,
        "LOBBY_OPENS_PER_MINUTE",
        "LOBBY_OPEN_BURST",
        10,
        10,
    ),
    (
        Class::TradeOffer,
        Scope::User,
        "TRADE_OFFERS_PER_MINUTE",
        "TRADE_OFFER_BURST",
        10,
        5,
    ),
    (
        Class::Chat,
        Scope::User,
        "CHAT_LINES_PER_MINUTE",
        "CHAT_LINE_BURST",
        60,
        5,
    ),
    (
        Class::SocketOpen,
        Scope::User,
        "SOCKET_OPENS_PER_MINUTE",
        "SOCKET_OPEN_BURST",
        30,
        10,
    ),
];

impl Default for LimitsConfig {
    fn default() -> Self {
        Self::from_lookup(|_| None).expect("the defaults are valid")
    }
}

impl LimitsConfig {
    /// Reads the process environment (after `dotenvy::dotenv()`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Same with a custom source (tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut problems = Vec::new();
        let mut number = |key: &str, default: u64, min: u64, max: u64| -> u64 {
            match get(key) {
                None => default,
                Some(raw) => match raw.parse::<u64>() {
                    Ok(value) if (min..=max).contains(&value) => value,
                    Ok(value) => {
                        problems.push(format!(
                            "{key} must be between {min} and {max}, got {value}"
                        ));
                        default
                    }
                    Err(_) => {
                        problems.push(format!("{key}: cannot understand `{raw}` (a whole number)"));
                        default
                    }
                },
            }
        };

        let mut budgets = BTreeMap::new();
        for (class, scope, rate_var, burst_var, per_minute, burst) in BUDGETS {
            let per_minute = number(
                rate_var,
                u64::from(per_minute),
                1,
                u64::from(MAX_PER_MINUTE),
            );
            let burst = number(burst_var, u64::from(burst), 1, u64::from(MAX_PER_MINUTE));
            budgets.insert(
                (class, scope),
                Quota {
                    per_minute: per_minute as u32,
                    burst: burst as u32,
                },
            );
        }
        let redis_timeout =
            Duration::from_millis(number("RATE_LIMIT_REDIS_TIMEOUT_MS", 250, 10, 10_000));
        let redis_connect_attempts = number("RATE_LIMIT_REDIS_CONNECT_ATTEMPTS", 5, 1, 100) as u32;

        let fail_mode = match get("RATE_LIMIT_FAIL_MODE").as_deref() {
            None | Some("open") => FailMode::Open,
            Some("closed") => FailMode::Closed,
            Some(other) => {
                problems.push(format!(
                    "RATE_LIMIT_FAIL_MODE must be `open` or `closed`, got `{other}`"
                ));
                FailMode::Open
            }
        };
        let redis_prefix = get("RATE_LIMIT_REDIS_PREFIX").unwrap_or_else(|| "cots:rl".to_owned());
        if redis_prefix.len() > 64
            || redis_prefix
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            problems.push(
                "RATE_LIMIT_REDIS_PREFIX must be at most 64 characters without spaces".to_owned(),
            );
        }

        let redis_url = get("REDIS_URL");
        if let Some(url) = &redis_url
            && let Err(problem) = validate_redis_url(url)
        {
            problems.push(problem);
        }

        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        Ok(Self {
            redis_url: redis_url.map(SecretString::from),
            fail_mode,
            redis_timeout,
            redis_connect_attempts,
            redis_prefix,
            budgets,
        })
    }

    pub fn quota(&self, class: Class, scope: Scope) -> Option<Quota> {
        self.budgets.get(&(class, scope)).copied()
    }

    pub fn quotas(&self) -> impl Iterator<Item = ((Class, Scope), Quota)> + '_ {
        self.budgets.iter().map(|(k, q)| (*k, *q))
    }

    /// `prefix:class:scope:key`.
    pub fn redis_key(&self, class: Class, key: &ClientKey) -> String {
        format!(
            "{}:{}:{}:{}",
            self.redis_prefix,
            class.as_str(),
            key.scope().as_str(),
            key.to_key()
        )
    }

    /// One line for start-up logs and `check-config`: no password.
    pub fn summary(&self) -> String {
        let store = match &self.redis_url {
            Some(url) => format!("redis {}", redact_redis_url(url.expose_secret())),
            None => "memory (this replica only)".to_owned(),
        };
        let budgets: Vec<String> = self
            .budgets
            .iter()
            .map(|((class, scope), q)| {
                format!(
                    "{}/{}={}/min burst {}",
                    class.as_str(),
                    scope.as_str(),
                    q.per_minute,
                    q.burst
                )
            })
            .collect();
        format!(
            "rate limits: store={store}, fail {}, {}",
            self.fail_mode.as_str(),
            budgets.join(", ")
        )
    }
}

/// A clear message for each way `REDIS_URL` can be wrong.
fn validate_redis_url(url: &str) -> Result<(), String> {
    let shown = redact_redis_url(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "REDIS_URL `{shown}` is not a URL: expected redis://[user:password@]host[:port][/db] or unix:///path/to/redis.sock"
        ));
    };
    match scheme {
        "redis" | "unix" | "redis+unix" => {}
        "rediss" => {
            return Err(format!(
                "REDIS_URL `{shown}`: TLS to Redis (rediss://) is not built into this backend; \
                 reach Redis over a private network (redis://) or through a local TLS tunnel"
            ));
        }
        other => {
            return Err(format!(
                "REDIS_URL `{shown}`: unsupported scheme `{other}` (use redis:// or unix://)"
            ));
        }
    }
    if scheme == "redis" {
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if host_port.is_empty() || host_port.starts_with(':') {
            return Err(format!("REDIS_URL `{shown}`: no host"));
        }
        let port = match host_port.strip_prefix('[') {
            Some(v6) => v6
                .split_once(']')
                .and_then(|(_, after)| after.strip_prefix(':')),
            None => host_port.rsplit_once(':').map(|(_, port)| port),
        };
        if let Some(port) = port
            && port.parse::<u16>().map_or(true, |p| p == 0)
        {
            return Err(format!("REDIS_URL `{shown}`: `{port}` is not a port"));
        }
    }
    redis::Client::open(url)
        .map(|_| ())
        .map_err(|error| format!("REDIS_URL `{shown}` is not valid: {error}"))
}

/// `redis://user:***@host:6379/0`: the password replaced.
pub fn redact_redis_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Not a URL: shown as is, unless it might hold a password.
        return if url.contains('@') || url.contains(':') && url.matches(':').count() > 1 {
            "<hidden>".to_owned()
        } else {
            url.to_owned()
        };
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or("", |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}
