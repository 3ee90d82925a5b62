//! Per-user spam limits (trade offers, chat lines).

use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::error::{Error, Result};

/// A per-user GCRA limiter (in memory, per replica: with N replicas a user
/// gets at most N times the quota, which is fine for spam limits).
#[derive(Clone)]
pub struct UserRateLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl UserRateLimiter {
    pub fn new(quota: Quota) -> Self {
        Self {
            limiter: Arc::new(DefaultKeyedRateLimiter::keyed(quota)),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when the user is over the quota.
    pub fn check(&self, user_id: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&user_id.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// [`Error::RateLimited`] (with the whole seconds to wait) when over
    /// the quota; `what` names what is limited ("trade offers").
    pub fn check_or_refuse(&self, user_id: &str, what: &'static str) -> Result<()> {
        self.check(user_id).map_err(|wait| Error::RateLimited {
            what,
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        })
    }

    /// Forgets users who are back to a full quota (run periodically).
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}
