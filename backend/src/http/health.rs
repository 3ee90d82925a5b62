//! Liveness, readiness and metrics.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Error, ErrorBody, Result};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up (no dependency checked).
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Status)))]
async fn health() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// The database answers.
#[utoipa::path(
    get, path = "/ready", tag = "operations",
    responses((status = 200, body = Status), (status = 503, description = "`database_unavailable`", body = ErrorBody))
)]
async fn ready(State(state): State<AppState>) -> Result<Json<Status>> {
    if state.db.ping(Duration::from_secs(2)).await {
        Ok(Json(Status { status: "ready" }))
    } else {
        Err(Error::Unavailable {
            code: game::api::codes::DATABASE_UNAVAILABLE,
            message: "the database does not answer".to_owned(),
        })
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"))
)]
pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (open, idle) = state.db.pool_usage();
    state
        .metrics
        .set_pool_usage(open, idle, state.config.database.max_connections);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
