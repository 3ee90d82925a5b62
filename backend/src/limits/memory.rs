//! One process: a `governor` keyed limiter (GCRA) per budget.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota as GovernorQuota};

use super::config::{LimitsConfig, Quota};
use super::types::{Class, Decision, Scope};

pub(super) struct MemoryStore {
    limiters: BTreeMap<(Class, Scope), DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl MemoryStore {
    pub(super) fn new(config: &LimitsConfig) -> Self {
        let limiters = config
            .quotas()
            .map(|((class, scope), quota)| {
                (
                    (class, scope),
                    DefaultKeyedRateLimiter::keyed(governor_quota(quota)),
                )
            })
            .collect();
        Self {
            limiters,
            clock: DefaultClock::default(),
        }
    }

    pub(super) fn check(&self, class: Class, scope: Scope, key: &str) -> Decision {
        let Some(limiter) = self.limiters.get(&(class, scope)) else {
            // No budget for this pair: nothing to spend.
            return Decision::Allowed;
        };
        match limiter.check_key(&key.to_owned()) {
            Ok(()) => Decision::Allowed,
            Err(not_until) => Decision::Limited {
                retry_after: not_until.wait_time_from(self.clock.now()),
            },
        }
    }

    pub(super) fn prune(&self) {
        for limiter in self.limiters.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

fn governor_quota(quota: Quota) -> GovernorQuota {
    let period = Duration::from_micros(quota.interval_micros().max(1));
    let burst = NonZeroU32::new(quota.burst.max(1)).expect("non-zero");
    GovernorQuota::with_period(period)
        .expect("non-zero period")
        .allow_burst(burst)
}
