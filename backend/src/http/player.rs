//! `GET /api/v1/player` (the caller's economic state) and
//! `GET /api/v1/catalog` (the `game` crate's catalog, so the client never
//! hard-codes a price).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ErrorBody, Result};
use super::extract::AuthUser;
use crate::economy::account;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_player))
        .routes(routes!(get_catalog))
}

/// The caller's credits, hold, upgrades, zone access, stats and version.
/// The first call creates the player with the starting state.
#[utoipa::path(
    get, path = "/api/v1/player", tag = "economy", security(("bearer" = [])),
    responses(
        (status = 200, description = "`{username, credits, inventory, hold, upgrades, zone_access, stats, version}`", body = Object),
        (status = 401, body = ErrorBody),
    )
)]
async fn get_player(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<game::api::Player>> {
    let player = account::current(&state.db, state.economy.catalog, &auth.user_id).await?;
    Ok(Json(player))
}

/// Debris kinds, upgrades (costs per level), zones, hubs, ship and lobby
/// rules, AI messages: the data file the rules are computed from.
#[utoipa::path(
    get, path = "/api/v1/catalog", tag = "economy",
    responses((status = 200, description = "the catalog", body = Object))
)]
async fn get_catalog(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        state.economy.catalog_json.to_string(),
    )
}
