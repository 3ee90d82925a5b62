//! Rate limits shared by every replica: per-user and per-IP budgets, counted
//! with GCRA (the generic cell rate algorithm: a "theoretical arrival time"
//! per key, no background refill), in memory or in Redis.
//!
//! - [`LimitsConfig`] reads the budgets, `REDIS_URL` and the failure mode
//!   from the environment and validates them ([`LimitsConfig::from_env`]).
//! - [`RateLimiter::connect`] builds the limiter: in memory (one process;
//!   the `governor` crate's keyed limiters) without `REDIS_URL`, in Redis
//!   with it (one Lua script per check, atomic on the server, using the
//!   server's clock, so every replica spends from one budget).
//! - [`RateLimiter::check`] / [`RateLimiter::check_request`] answer
//!   [`Decision::Allowed`], [`Decision::Limited`] (429 with `Retry-After`)
//!   or, when Redis does not answer and the limiter fails closed,
//!   [`Decision::Unavailable`] (503). Failing open lets the request through.
//!   Either way the failure is counted
//!   (`cots_rate_limit_store_errors_total`) and logged (at most every ten
//!   seconds).
//!
//! Keys: a user id, or a client IP: IPv4 per address, IPv6 per /64 (one
//! customer's allocation: a client could otherwise walk through 2^64
//! addresses), IPv4-mapped IPv6 as IPv4.
//!
//! Wired into the router by `http::middleware::rate_limit` (one layer over
//! every `/api/` route; health, readiness, metrics and docs are exempt).

mod config;
mod key;
mod memory;
mod redis_store;
mod types;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

pub use config::{ConfigError, FailMode, LimitsConfig, Quota};
pub use key::{ClientKey, ip_key};
pub use types::{Class, Decision, Scope};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    pub class: &'static str,
    pub scope: &'static str,
    /// `allowed`, `limited`, `unavailable`, `failed_open`.
    pub outcome: &'static str,
}

/// The limiter's counters; [`LimitsMetrics::register`] adds them to the
/// application's registry (prefix `cots`).
#[derive(Clone, Default)]
pub struct LimitsMetrics {
    /// Redis errors and timeouts (each one a check that was not counted).
    pub store_errors: Counter,
    pub decisions: Family<DecisionLabels, Counter>,
}

impl LimitsMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "rate_limit_store_errors",
            "Rate-limit checks the shared store (Redis) did not answer (errors and timeouts)",
            self.store_errors.clone(),
        );
        registry.register(
            "rate_limit_decisions",
            "Rate-limit decisions by route class, key scope and outcome",
            self.decisions.clone(),
        );
    }

    fn count(&self, class: Class, scope: Scope, outcome: &'static str) {
        self.decisions
            .get_or_create(&DecisionLabels {
                class: class.as_str(),
                scope: scope.as_str(),
                outcome,
            })
            .inc();
    }
}

enum Store {
    Memory(memory::MemoryStore),
    Redis(redis_store::RedisStore),
}

/// Per-key budgets, in memory or in Redis. Cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: LimitsConfig,
    metrics: LimitsMetrics,
    /// Unix seconds of the last "store unavailable" warning.
    last_warning: AtomicU64,
}

impl RateLimiter {
    /// Redis when `REDIS_URL` is set (checked with a PING, a few attempts:
    /// a wrong address fails the start with a clear message), else memory.
    pub async fn connect(config: &LimitsConfig) -> anyhow::Result<Self> {
        let store = match &config.redis_url {
            Some(url) => Store::Redis(redis_store::RedisStore::connect(url, config).await?),
            None => Store::Memory(memory::MemoryStore::new(config)),
        };
        Ok(Self::with_store(store, config))
    }

    /// Always in memory, whatever `REDIS_URL` says.
    pub fn in_memory(config: &LimitsConfig) -> Self {
        Self::with_store(Store::Memory(memory::MemoryStore::new(config)), config)
    }

    fn with_store(store: Store, config: &LimitsConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                config: config.clone(),
                metrics: LimitsMetrics::default(),
                last_warning: AtomicU64::new(0),
            }),
        }
    }

    /// `"memory"` or `"redis"`.
    pub fn store_kind(&self) -> &'static str {
        match self.inner.store {
            Store::Memory(_) => "memory",
            Store::Redis(_) => "redis",
        }
    }

    pub fn metrics(&self) -> &LimitsMetrics {
        &self.inner.metrics
    }

    pub fn config(&self) -> &LimitsConfig {
        &self.inner.config
    }

    /// Spends one cell of `key`'s budget for `class`.
    pub async fn check(&self, class: Class, key: &ClientKey) -> Decision {
        let scope = key.scope();
        let Some(quota) = self.inner.config.quota(class, scope) else {
            return Decision::Allowed;
        };
        let result = match &self.inner.store {
            Store::Memory(store) => Ok(store.check(class, scope, &key.to_key())),
            Store::Redis(store) => {
                store
                    .check(&self.inner.config.redis_key(class, key), quota)
                    .await
            }
        };
        let metrics = &self.inner.metrics;
        match result {
            Ok(decision) => {
                let outcome = if decision.is_allowed() {
                    "allowed"
                } else {
                    "limited"
                };
                metrics.count(class, scope, outcome);
                decision
            }
            Err(error) => {
                metrics.store_errors.inc();
                self.warn_store_error(&error);
                match self.inner.config.fail_mode {
                    FailMode::Open => {
                        metrics.count(class, scope, "failed_open");
                        Decision::Allowed
                    }
                    FailMode::Closed => {
                        metrics.count(class, scope, "unavailable");
                        Decision::Unavailable
                    }
                }
            }
        }
    }

    /// A request's checks: its address's budget, then (when signed in) its
    /// user's. The first refusal wins.
    pub async fn check_request(
        &self,
        class: Class,
        user_id: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Decision {
        if let Some(ip) = ip {
            let decision = self.check(class, &ClientKey::Ip(ip)).await;
            if !decision.is_allowed() {
                return decision;
            }
        }
        if let Some(user_id) = user_id {
            return self
                .check(class, &ClientKey::User(user_id.to_owned()))
                .await;
        }
        Decision::Allowed
    }

    /// Forgets in-memory keys that are back to a full budget (run it every
    /// minute or so; Redis keys expire by themselves).
    pub fn prune(&self) {
        if let Store::Memory(store) = &self.inner.store {
            store.prune();
        }
    }

    fn warn_store_error(&self, error: &anyhow::Error) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let last = self.inner.last_warning.load(Ordering::Relaxed);
        if now >= last + 10
            && self
                .inner
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                error = format!("{error:#}"),
                fail_mode = self.inner.config.fail_mode.as_str(),
                errors_so_far = self.inner.metrics.store_errors.get(),
                "rate-limit store (Redis) unavailable"
            );
        }
    }
}

#[cfg(test)]
mod tests;
