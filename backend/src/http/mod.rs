//! The HTTP API: one module per resource, each exposing its own
//! `router()` (an `OpenApiRouter`, so a route cannot exist without its
//! OpenAPI entry); this module merges them and wraps everything in the
//! common layers.
//!
//! The top layer: it owns the extractors ([`AuthUser`](extract::AuthUser),
//! [`Idempotency`](extract::Idempotency), [`ApiJson`](extract::ApiJson)),
//! the [`Error`](error::Error) type with its statuses, the shared
//! [`AppState`] and the [`unit_of_work`](unit_of_work::unit_of_work) of
//! mutating economy requests. Handlers parse the request, call a service of
//! [`crate::accounts`] or [`crate::economy`] and shape the answer; they hold
//! no SQL and no game rule.
//!
//! Adding a resource: write `http/<resource>.rs` with handlers annotated by
//! `#[utoipa::path]`, taking `State<AppState>`, `AuthUser` and `ApiJson`,
//! returning `Result<_, Error>`; merge its `router()` in [`build_router`].

pub mod admin;
pub mod auth;
pub mod docs;
pub mod error;
pub mod extract;
pub mod health;
pub mod hub;
pub mod lobbies;
pub mod me;
pub mod messages;
pub mod middleware;
pub mod network;
pub mod oauth;
pub mod player;
pub mod runs;
pub mod state;
pub mod trades;
pub mod unit_of_work;
pub mod upgrades;
pub mod ws;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode, header};
use game::api::codes;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::config::Config;
use error::error_response;
use extract::IDEMPOTENCY_KEY;
use middleware::REQUEST_ID;
pub use state::AppState;

/// The complete application: routes, OpenAPI document and layers.
pub fn build_router(state: AppState) -> Router {
    let (router, openapi) = OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .merge(auth::router())
        .merge(oauth::router())
        .merge(me::router())
        .merge(player::router())
        .merge(runs::router())
        .merge(hub::router())
        .merge(upgrades::router())
        .merge(messages::router())
        .merge(lobbies::router())
        .merge(trades::router())
        .merge(admin::router())
        .merge(ws::router())
        .merge(health::router())
        .merge(docs::router())
        .split_for_parts();
    let mut openapi = openapi;
    openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
    docs::document_shared_statuses(&mut openapi);
    let _ = state.openapi_json.set(
        openapi
            .to_pretty_json()
            .expect("the OpenAPI document serialises"),
    );

    let config = state.config.clone();
    let state_for_metrics = state.clone();
    let router = router
        .fallback(|| async {
            error_response(StatusCode::NOT_FOUND, codes::NOT_FOUND, "no such route")
        })
        .method_not_allowed_fallback(|| async {
            error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                codes::METHOD_NOT_ALLOWED,
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
        .layer(axum::middleware::from_fn(middleware::screen_request_id))
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
            state.clone(),
            middleware::security_headers,
        ))
        .layer(cors_layer(&config))
        .layer(axum::middleware::from_fn(middleware::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state_for_metrics,
            middleware::guard_metrics,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::rate_limit,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.http.request_timeout,
        ))
        .layer(DefaultBodyLimit::max(config.http.body_limit_bytes));
    router.layer(layers)
}

/// `/metrics` alone, for the `METRICS_BIND_ADDR` listener.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(health::metrics))
        .fallback(|| async {
            error_response(StatusCode::NOT_FOUND, codes::NOT_FOUND, "no such route")
        })
        .with_state(state)
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
            IDEMPOTENCY_KEY.clone(),
        ])
        .expose_headers([header::RETRY_AFTER, REQUEST_ID.clone()])
        .max_age(std::time::Duration::from_secs(600))
}
