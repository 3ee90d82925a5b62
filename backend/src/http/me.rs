//! `/api/v1/me`: the caller's profile, sessions and data export.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Error, ErrorBody, Result};
use super::extract::{ApiJson, AuthUser, ClientInfo};
use crate::accounts::{self, ProfileChanges, SessionView, UserProfile};
use crate::db::Conn;
use crate::economy;
use game::account::Preferences;
use game::api::codes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, update_me, delete_me))
        .routes(routes!(put_preferences))
        .routes(routes!(export_me))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
}

/// Any subset of fields. Changing `email` or setting `new_password` needs
/// `current_password`.
#[derive(Deserialize, ToSchema)]
pub struct UpdateMe {
    pub username: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = Option<String>, format = Password)]
    pub new_password: Option<SecretString>,
    #[schema(value_type = Option<String>, format = Password)]
    pub current_password: Option<SecretString>,
}

#[derive(Deserialize, ToSchema)]
pub struct DeleteMe {
    /// The current password, to confirm.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
}

/// The caller's profile.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = UserProfile), (status = 401, body = ErrorBody))
)]
async fn get_me(State(state): State<AppState>, auth: AuthUser) -> Result<Json<UserProfile>> {
    Ok(Json(state.accounts.profile(&auth.caller()).await?))
}

/// Change username, email or password.
#[utoipa::path(
    patch, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    request_body = UpdateMe,
    responses(
        (status = 200, body = UserProfile),
        (status = 403, description = "`invalid_current_password`", body = ErrorBody),
        (status = 409, description = "`email_taken`, `username_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "`account_locked`", body = ErrorBody),
    )
)]
async fn update_me(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    ApiJson(body): ApiJson<UpdateMe>,
) -> Result<Json<UserProfile>> {
    let changes = ProfileChanges {
        username: body.username.as_deref(),
        email: body.email.as_deref(),
        new_password: body.new_password.as_ref(),
        current_password: body.current_password.as_ref(),
    };
    let profile = state
        .accounts
        .update_profile(&auth.caller(), changes, &client.origin())
        .await?;
    Ok(Json(profile))
}

/// Replace the caller's preferences (they follow the player to every
/// device; fields left out take their defaults).
#[utoipa::path(
    put, path = "/api/v1/me/preferences", tag = "me", security(("bearer" = [])),
    request_body(content = Object, description = "`{\"preferred_zone\":2,\"show_hints\":false,\"chat_filter\":\"mask\"|\"off\",\"language\":\"en\"}`"),
    responses(
        (status = 200, body = UserProfile),
        (status = 401, body = ErrorBody),
        (status = 422, description = "`invalid_preferences` (no such zone or language), `invalid_request` (unknown field, wrong type)", body = ErrorBody),
    )
)]
async fn put_preferences(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<Preferences>,
) -> Result<Json<UserProfile>> {
    body.check(state.economy.catalog)
        .map_err(|e| Error::unprocessable(codes::INVALID_PREFERENCES, e.to_string()))?;
    let profile = state
        .accounts
        .set_preferences(&auth.caller(), &body)
        .await?;
    Ok(Json(profile))
}

/// Delete the account and everything stored about it.
#[utoipa::path(
    delete, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    request_body = DeleteMe,
    responses(
        (status = 204, description = "account deleted"),
        (status = 403, description = "`invalid_current_password`", body = ErrorBody),
        (status = 429, description = "`account_locked`", body = ErrorBody),
    )
)]
async fn delete_me(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    ApiJson(body): ApiJson<DeleteMe>,
) -> Result<StatusCode> {
    state
        .accounts
        .delete_account(&auth.caller(), &body.password, &client.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything stored about the caller, as JSON.
///
/// Sections are JSON objects keyed by topic; the economy adds its own
/// (player, ledger, trades) in [`export_sections`].
#[utoipa::path(
    get, path = "/api/v1/me/export", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "all data about the user", body = Object), (status = 401, body = ErrorBody))
)]
async fn export_me(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<serde_json::Value>> {
    let mut tx = state.db.begin_read().await?;
    let export = export_sections(&mut tx, state.economy.catalog, &auth.user_id).await?;
    tx.commit().await?;
    Ok(Json(export))
}

/// Builds the export document in one read transaction: the account's
/// sections ([`accounts::export_sections`]) and the game's under `game`
/// ([`economy::export::sections`]).
async fn export_sections(
    conn: &mut Conn,
    catalog: &game::Catalog,
    user_id: &str,
) -> Result<serde_json::Value> {
    let mut export = accounts::export_sections(conn, user_id).await?;
    export["game"] = economy::export::sections(conn, catalog, user_id).await?;
    Ok(export)
}

/// Live sessions (devices) of the caller.
#[utoipa::path(
    get, path = "/api/v1/me/sessions", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody))
)]
async fn list_sessions(State(state): State<AppState>, auth: AuthUser) -> Result<Json<SessionList>> {
    let sessions = state.accounts.live_sessions(&auth.caller()).await?;
    Ok(Json(SessionList { sessions }))
}

/// End one session of the caller (e.g. a lost device).
#[utoipa::path(
    delete, path = "/api/v1/me/sessions/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 204, description = "session ended"),
        (status = 404, description = "`session_not_found`", body = ErrorBody),
    )
)]
async fn revoke_session(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state
        .accounts
        .revoke_session(&auth.caller(), &id, &client.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
