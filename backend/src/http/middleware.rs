//! Cross-cutting middleware: request ids and spans, metrics, security
//! headers, the rate limits of every API route and JSON bodies for errors
//! produced outside the handlers; who may read `/metrics`; the connection
//! slot a request (and a lobby socket) holds.

use std::any::Any;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Response, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use game::api::codes;
use tracing::Span;

use super::error::{Error, error_response};
use super::extract::ClientInfo;
use super::network::is_plausible_request_id;
use super::state::AppState;
use crate::config::{AppEnv, MetricsAccess};
use crate::limits::{Class, Decision};

/// The request id header: set (or kept) on the way in, echoed on the way
/// out.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn make_request_span(request: &Request<Body>) -> Span {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    // The route template, not the raw URI: ids and tokens in paths or query
    // strings stay out of the logs.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        route = %route,
    )
}

pub fn log_response<B>(response: &Response<B>, latency: Duration, _span: &Span) {
    tracing::info!(
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request finished"
    );
}

pub async fn record_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    let labels = crate::metrics::RouteLabels { method, route };
    state
        .metrics
        .http_request_duration
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    state
        .metrics
        .http_requests
        .get_or_create(&crate::metrics::HttpLabels {
            method: labels.method,
            route: labels.route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// Conservative headers for a JSON API. A handler that needs another policy
/// (the `/docs` page) sets its own and is left alone.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (header::CACHE_CONTROL, "no-store"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if state.config.app_env == AppEnv::Production {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static(
                "max-age=31536000; includeSubDomains",
            ));
    }
    response
}

/// Rewrites bodiless or plain-text error responses made by the framework or
/// tower layers (timeout, extractor rejections outside `ApiJson`) into the
/// `{"code","message"}` shape. HTML pages (the browser's provider sign-in
/// steps, `http::oauth`) are meant for a person and pass unchanged.
pub async fn json_errors(request: Request, next: Next) -> axum::response::Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"));
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::REQUEST_TIMEOUT => (codes::REQUEST_TIMEOUT, "the request took too long"),
        StatusCode::PAYLOAD_TOO_LARGE => (codes::PAYLOAD_TOO_LARGE, "request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            (codes::UNSUPPORTED_MEDIA_TYPE, "unsupported content type")
        }
        StatusCode::BAD_REQUEST => (codes::BAD_REQUEST, "the request is malformed"),
        StatusCode::NOT_FOUND => (codes::NOT_FOUND, "not found"),
        StatusCode::METHOD_NOT_ALLOWED => (codes::METHOD_NOT_ALLOWED, "method not allowed"),
        StatusCode::UNPROCESSABLE_ENTITY => (codes::INVALID_REQUEST, "the request is invalid"),
        s if s.is_server_error() => (codes::INTERNAL_ERROR, "internal server error"),
        _ => (codes::REQUEST_FAILED, "the request failed"),
    };
    let mut rewritten = error_response(status, code, message);
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> axum::response::Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        codes::INTERNAL_ERROR,
        "internal server error",
    )
    .into_response()
}

/// The connection slot of the request's connection (see
/// `crate::startup`): a lobby socket keeps it while it is open, so open
/// sockets count towards `HTTP_MAX_CONNECTIONS`.
#[derive(Clone)]
pub struct ConnectionSlot(#[allow(dead_code)] Arc<tokio::sync::OwnedSemaphorePermit>);

impl ConnectionSlot {
    pub fn new(permit: tokio::sync::OwnedSemaphorePermit) -> Self {
        Self(Arc::new(permit))
    }
}

/// Drops a client's `X-Request-Id` unless it is exactly one plausible
/// value; the request-id layer inside then makes a fresh one.
pub async fn screen_request_id(mut request: Request, next: Next) -> axum::response::Response {
    let headers = request.headers_mut();
    let mut values = headers.get_all(&REQUEST_ID).iter();
    let keep = match (values.next(), values.next()) {
        (None, _) => true,
        (Some(value), None) => is_plausible_request_id(value.as_bytes()),
        (Some(_), Some(_)) => false,
    };
    if !keep {
        headers.remove(&REQUEST_ID);
    }
    next.run(request).await
}

/// `/metrics` on the public listener: open (development), behind
/// `METRICS_TOKEN`, or not there at all (`METRICS_BIND_ADDR`, or production
/// without either setting): 404 as for any unknown route.
pub async fn guard_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    if request.uri().path() != "/metrics" {
        return next.run(request).await;
    }
    match state
        .config
        .hardening
        .metrics_on_main_listener(state.config.app_env)
    {
        MetricsAccess::Open => next.run(request).await,
        MetricsAccess::NotHere => {
            error_response(StatusCode::NOT_FOUND, codes::NOT_FOUND, "no such route")
        }
        MetricsAccess::Token(token) => {
            use secrecy::ExposeSecret as _;
            use subtle::ConstantTimeEq as _;
            let presented = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim().as_bytes().to_vec())
                .unwrap_or_default();
            let expected = token.expose_secret().as_bytes();
            if presented.len() == expected.len() && bool::from(presented.ct_eq(expected)) {
                next.run(request).await
            } else {
                Error::unauthorized(
                    codes::UNAUTHORIZED,
                    "send `Authorization: Bearer <METRICS_TOKEN>`",
                )
                .into_response()
            }
        }
    }
}

/// The route class of a request, or `None` for what is not rate limited
/// (health, readiness, metrics and the documentation: probes must never be
/// refused).
pub fn route_class(method: &axum::http::Method, path: &str) -> Option<Class> {
    let api = path.strip_prefix("/api/")?;
    if api.starts_with("v1/auth/") {
        return Some(Class::Auth);
    }
    if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
        Some(Class::Read)
    } else {
        Some(Class::Write)
    }
}

/// Every API route: the client address's budget for the route's class, then
/// the signed-in user's (the bearer token's subject, signature and expiry
/// checked, no database). Over budget: 429 `rate_limited` with
/// `Retry-After`; the shared store down with `RATE_LIMIT_FAIL_MODE=closed`:
/// 503 `rate_limit_unavailable`.
pub async fn rate_limit(
    State(state): State<AppState>,
    client: ClientInfo,
    request: Request,
    next: Next,
) -> axum::response::Response {
    let Some(class) = route_class(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let user_id = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .and_then(|(_, token)| state.accounts.token_subject(token.trim()));
    let key = client.ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let decision = state
        .limiter
        .check_request(class, user_id.as_deref(), Some(key))
        .await;
    match decision {
        Decision::Allowed => next.run(request).await,
        Decision::Limited { .. } => {
            if class == Class::Auth {
                state.metrics.auth_event("rate_limited");
            }
            Error::too_many_requests(
                codes::RATE_LIMITED,
                "too many requests, slow down",
                decision.retry_after_secs().unwrap_or(1),
            )
            .into_response()
        }
        Decision::Unavailable => {
            let mut response = Error::Unavailable {
                code: codes::RATE_LIMIT_UNAVAILABLE,
                message: "the rate limiter is unavailable: try again shortly".to_owned(),
            }
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(1u64));
            response
        }
    }
}
