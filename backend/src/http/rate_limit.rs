//! Per-client-IP rate limiting (GCRA from the `governor` crate), answering
//! 429 with `Retry-After`.
//!
//! State is in memory, per replica: with N replicas a client gets at most N
//! times the quota, which is acceptable for brute-force protection because
//! the account lockout (in the database) is shared.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::AppState;
use super::error::Error;
use super::extract::ClientInfo;

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

/// Middleware for the auth routes.
pub async fn limit_auth(
    State(state): State<AppState>,
    client: ClientInfo,
    request: Request,
    next: Next,
) -> Response {
    let key = client.ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    match state.auth_rate_limiter.check(key) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            state.metrics.auth_event("rate_limited");
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Error::too_many_requests(
                "rate_limited",
                "too many requests from this address, slow down",
                secs,
            )
            .into_response()
        }
    }
}
