//! The HTTP API: one module per resource, each exposing its own
//! `router()` (an `OpenApiRouter`, so a route cannot exist without its
//! OpenAPI entry); this module merges them, holds the shared [`AppState`] and
//! wraps everything in the common layers.
//!
//! Adding a resource (e.g. the economy): write `http/economy.rs` with
//! handlers annotated by `#[utoipa::path]`, taking `State<AppState>`,
//! [`AuthUser`](crate::auth::AuthUser) and [`ApiJson`](extract::ApiJson),
//! returning `Result<_, Error>`; merge its `router()` in [`build_router`].

pub mod auth;
pub mod docs;
pub mod error;
pub mod extract;
pub mod health;
pub mod hub;
pub mod lobbies;
pub mod me;
pub mod messages;
mod middleware;
pub mod player;
pub mod rate_limit;
pub mod runs;
pub mod trades;
pub mod upgrades;
pub mod ws;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHasher;
use crate::config::Config;
use crate::db::Db;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use error::error_response;
use rate_limit::IpRateLimiter;

/// Everything a handler may need. Cheap to clone (all shared).
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub jwt: Arc<JwtKeys>,
    pub hasher: PasswordHasher,
    pub mailer: Arc<dyn Mailer>,
    pub metrics: Arc<Metrics>,
    /// Per-IP limiter of the `/api/v1/auth/*` routes.
    pub auth_rate_limiter: IpRateLimiter,
    /// Catalog, lobby event bus and economy rate limiters.
    pub economy: crate::economy::Economy,
    /// Rendered once the router (and so the document) is complete.
    pub openapi_json: Arc<OnceLock<String>>,
}

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The complete application: routes, OpenAPI document and layers.
pub fn build_router(state: AppState) -> Router {
    let (router, openapi) = OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .merge(auth::router(&state))
        .merge(me::router())
        .merge(player::router())
        .merge(runs::router())
        .merge(hub::router())
        .merge(upgrades::router())
        .merge(messages::router())
        .merge(lobbies::router())
        .merge(trades::router())
        .merge(ws::router())
        .merge(health::router())
        .merge(docs::router())
        .split_for_parts();
    let mut openapi = openapi;
    openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let _ = state.openapi_json.set(
        openapi
            .to_pretty_json()
            .expect("the OpenAPI document serialises"),
    );

    let config = state.config.clone();
    let router = router
        .fallback(|| async { error_response(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .method_not_allowed_fallback(|| async {
            error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept that method",
            )
        })
        .with_state(state.clone());

    let trace = TraceLayer::new_for_http()
        .make_span_with(middleware::make_request_span)
        .on_request(())
        .on_response(middleware::log_response)
        .on_failure(());

    // Outermost first. The request id is set before the trace span opens so
    // every log line of the request carries it.
    let layers = ServiceBuilder::new()
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::record_metrics,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            middleware::security_headers,
        ))
        .layer(cors_layer(&config))
        .layer(axum::middleware::from_fn(middleware::json_errors))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.http.request_timeout,
        ))
        .layer(DefaultBodyLimit::max(config.http.body_limit_bytes));
    router.layer(layers)
}

fn cors_layer(config: &Config) -> CorsLayer {
    let origins: Vec<HeaderValue> = config
        .http
        .cors_allowed_origins
        .iter()
        .filter_map(|origin| origin.parse().ok())
        .collect();
    if origins.is_empty() {
        // No cross-origin access at all (the Godot client is not a browser).
        return CorsLayer::new();
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::RETRY_AFTER, REQUEST_ID.clone()])
        .max_age(std::time::Duration::from_secs(600))
}
