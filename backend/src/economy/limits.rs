//! Per-user game quotas (runs started, lobbies opened, trade offers, chat
//! lines), spent from the shared limiter ([`crate::limits::RateLimiter`]):
//! with `REDIS_URL` every replica spends from the same budget, so N
//! replicas never grant N times the quota.

use crate::limits::{Class, ClientKey, Decision, RateLimiter};

use super::error::{Error, Result};

/// One quota class of the shared limiter, per user. Cheap to clone.
#[derive(Clone)]
pub struct UserQuota {
    limiter: RateLimiter,
    class: Class,
}

impl UserQuota {
    pub fn new(limiter: RateLimiter, class: Class) -> Self {
        Self { limiter, class }
    }

    /// Spends one of `user_id`'s cells; the decision as the limiter gives it
    /// (`Unavailable` when the shared store is down and the limiter fails
    /// closed).
    pub async fn check(&self, user_id: &str) -> Decision {
        self.limiter
            .check(self.class, &ClientKey::User(user_id.to_owned()))
            .await
    }

    /// [`Error::RateLimited`] (with the whole seconds to wait) when over the
    /// quota or when the store cannot tell; `what` names what is limited
    /// ("trade offers").
    pub async fn check_or_refuse(&self, user_id: &str, what: &'static str) -> Result<()> {
        match self.check(user_id).await {
            Decision::Allowed => Ok(()),
            refused => Err(Error::RateLimited {
                what,
                retry_after_secs: refused.retry_after_secs().unwrap_or(1),
            }),
        }
    }
}
