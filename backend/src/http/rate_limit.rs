//! Per-client-IP rate limiting (GCRA from the `governor` crate); the
//! middleware that answers 429 with `Retry-After` is
//! [`limit_auth`](super::middleware::limit_auth).
//!
//! State is in memory, per replica: with N replicas a client gets at most N
//! times the quota, which is acceptable for brute-force protection because
//! the account lockout (in the database) is shared.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

#[derive(Clone)]
pub struct IpRateLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

impl IpRateLimiter {
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).expect("non-zero");
        let burst = NonZeroU32::new(burst.max(1)).expect("non-zero");
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Self {
            limiter: Arc::new(DefaultKeyedRateLimiter::keyed(quota)),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when the key is over its quota.
    pub fn check(&self, key: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets keys that are back to a full quota (run periodically).
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}
