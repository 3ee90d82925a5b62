//! Prometheus metrics, one registry per application instance (so tests can
//! run many servers in one process). Served as text at `/metrics`.
//!
//! To add a metric: a field here, registered in [`Metrics::new`], bumped
//! where the event happens (`state.metrics.<field>...`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    /// The route template (`/api/v1/me/sessions/{id}`), never the raw path,
    /// so cardinality stays bounded.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub state: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_request_duration: HistogramFamily<RouteLabels>,
    /// login_failed, locked_out, login_rejected_locked, refresh_reuse,
    /// invalid_token, rate_limited, registered, login_succeeded.
    pub auth_events: Family<EventLabels, Counter>,
    pub db_pool_connections: Family<PoolLabels, Gauge>,
    /// trade_offered, trade_completed, trade_refused (accept failed a
    /// re-check), trade_declined, trade_cancelled, sale, purchase;
    /// gift_offered, gift_completed (trades with an empty `want`).
    pub economy_events: Family<EventLabels, Counter>,
    /// Rows the retention job deleted, by table.
    pub retention_deleted: Family<TableLabels, Counter>,
    /// Retention passes by outcome: `done`, `skipped` (another replica
    /// held the lock), `failed`.
    pub retention_runs: Family<EventLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableLabels {
    pub table: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~16 s
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cots");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            http_requests.clone(),
        );
        let http_request_duration: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template",
            http_request_duration.clone(),
        );
        let auth_events = Family::<EventLabels, Counter>::default();
        registry.register(
            "auth_events",
            "Authentication events (failures, lockouts, refresh reuse, rate limiting)",
            auth_events.clone(),
        );
        let db_pool_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by state (open, idle, max)",
            db_pool_connections.clone(),
        );
        let economy_events = Family::<EventLabels, Counter>::default();
        registry.register(
            "economy_events",
            "Economy events (trades offered, completed, refused, declined, cancelled; sales; purchases)",
            economy_events.clone(),
        );
        let retention_deleted = Family::<TableLabels, Counter>::default();
        registry.register(
            "retention_deleted_rows",
            "Rows deleted by the retention job, by table",
            retention_deleted.clone(),
        );
        let retention_runs = Family::<EventLabels, Counter>::default();
        registry.register(
            "retention_runs",
            "Retention passes by outcome (done, skipped: another replica held the lock, failed)",
            retention_runs.clone(),
        );
        Self {
            registry,
            retention_deleted,
            retention_runs,
            http_requests,
            http_request_duration,
            auth_events,
            db_pool_connections,
            economy_events,
        }
    }

    pub fn auth_event(&self, event: &str) {
        self.auth_events
            .get_or_create(&EventLabels {
                event: event.to_owned(),
            })
            .inc();
    }

    pub fn economy_event(&self, event: &str) {
        self.economy_events
            .get_or_create(&EventLabels {
                event: event.to_owned(),
            })
            .inc();
    }

    pub fn set_pool_usage(&self, open: u32, idle: usize, max: u32) {
        for (state, value) in [
            ("open", i64::from(open)),
            ("idle", idle as i64),
            ("max", i64::from(max)),
        ] {
            self.db_pool_connections
                .get_or_create(&PoolLabels {
                    state: state.to_owned(),
                })
                .set(value);
        }
    }

    /// For metrics kept by other modules (the rate limiter's): register
    /// them before the application starts serving.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
