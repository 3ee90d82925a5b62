//! `/api/v1/admin/*`: moderation for moderators and admins (roles,
//! suspensions, a player's file, credit corrections). The role is read from
//! the database on every request; a player's token gets 403
//! `role_required`. Every action is recorded in the audit log with the
//! caller and the `reason` (see [`crate::admin`]).
//!
//! `{who}` is a user id, a username or an email address.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{Error, ErrorBody, Result};
use super::extract::{ApiJson, AuthUser, ClientInfo};
use crate::admin::{self, Actor, PlayerReport, PlayerStatus, Role};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inspect_player))
        .routes(routes!(grant_role))
        .routes(routes!(suspend_player))
        .routes(routes!(lift_suspension))
        .routes(routes!(adjust_credits))
}

impl From<admin::Error> for Error {
    fn from(error: admin::Error) -> Self {
        use admin::Error as E;
        let status = match &error {
            E::Economy(_) => match error {
                E::Economy(inner) => return inner.into(),
                _ => unreachable!(),
            },
            E::Database(_) | E::Internal(_) => {
                return match error {
                    E::Database(cause) => Self::Database(cause),
                    E::Internal(cause) => Self::Internal(cause),
                    _ => unreachable!(),
                };
            }
            E::UnknownPlayer => StatusCode::NOT_FOUND,
            E::RoleRequired(_) | E::RoleTooHigh(_) => StatusCode::FORBIDDEN,
            E::InvalidRole
            | E::InvalidReason
            | E::InvalidSuspensionEnd(_)
            | E::InvalidAmount(_) => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Self::with_status(status, error.code(), error.to_string())
    }
}

async fn actor(state: &AppState, user: &AuthUser, client: &ClientInfo) -> Result<Actor> {
    Ok(Actor::user(&state.db, &user.user_id, client.ip_string()).await?)
}

#[derive(Deserialize, IntoParams)]
pub struct ReasonQuery {
    /// Why you look (recorded in the audit log), 1-500 characters.
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RoleRequest {
    /// `player`, `moderator` or `admin`.
    #[schema(example = "moderator")]
    pub role: String,
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SuspendRequest {
    pub reason: String,
    /// RFC 3339 end, in the future; absent or null: until lifted.
    #[schema(example = "2030-01-01T00:00:00Z")]
    pub until: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LiftRequest {
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CreditsRequest {
    /// Credits to add (negative: to remove); not zero.
    #[schema(example = 500)]
    pub delta: i64,
    pub reason: String,
}

/// A player's file: role, suspension, state, newest ledger rows and runs.
#[utoipa::path(
    get, path = "/api/v1/admin/players/{who}", tag = "admin", security(("bearer" = [])),
    params(("who" = String, Path, description = "user id, username or email"), ReasonQuery),
    responses(
        (status = 200, body = PlayerReport),
        (status = 403, description = "`role_required`", body = ErrorBody),
        (status = 404, description = "`user_not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_reason`", body = ErrorBody),
    )
)]
async fn inspect_player(
    State(state): State<AppState>,
    user: AuthUser,
    client: ClientInfo,
    Path(who): Path<String>,
    Query(query): Query<ReasonQuery>,
) -> Result<Json<PlayerReport>> {
    let actor = actor(&state, &user, &client).await?;
    Ok(Json(
        admin::inspect(
            &state.db,
            state.economy.catalog,
            &actor,
            &who,
            &query.reason,
        )
        .await?,
    ))
}

/// Give a player a role (never above your own, never raising your own).
#[utoipa::path(
    post, path = "/api/v1/admin/players/{who}/role", tag = "admin", security(("bearer" = [])),
    params(("who" = String, Path, description = "user id, username or email")),
    request_body = RoleRequest,
    responses(
        (status = 200, body = PlayerStatus),
        (status = 403, description = "`role_required`, `role_too_high`", body = ErrorBody),
        (status = 404, description = "`user_not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_role`, `invalid_reason`", body = ErrorBody),
    )
)]
async fn grant_role(
    State(state): State<AppState>,
    user: AuthUser,
    client: ClientInfo,
    Path(who): Path<String>,
    ApiJson(body): ApiJson<RoleRequest>,
) -> Result<Json<PlayerStatus>> {
    let actor = actor(&state, &user, &client).await?;
    let role = Role::parse(&body.role)?;
    Ok(Json(
        admin::grant_role(&state.db, &actor, &who, role, &body.reason).await?,
    ))
}

/// Suspend a player: sessions end, lobby sockets close (1008
/// `account_suspended`) on every replica, sign-in is refused until the end.
#[utoipa::path(
    post, path = "/api/v1/admin/players/{who}/suspend", tag = "admin", security(("bearer" = [])),
    params(("who" = String, Path, description = "user id, username or email")),
    request_body = SuspendRequest,
    responses(
        (status = 200, body = PlayerStatus),
        (status = 403, description = "`role_required`, `role_too_high`", body = ErrorBody),
        (status = 404, description = "`user_not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_reason`, `invalid_suspension_end`", body = ErrorBody),
    )
)]
async fn suspend_player(
    State(state): State<AppState>,
    user: AuthUser,
    client: ClientInfo,
    Path(who): Path<String>,
    ApiJson(body): ApiJson<SuspendRequest>,
) -> Result<Json<PlayerStatus>> {
    let actor = actor(&state, &user, &client).await?;
    let until = match body.until.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(parse_time(text)?),
    };
    Ok(Json(
        admin::suspend(
            &state.db,
            state.economy.bus.publisher(),
            &actor,
            &who,
            until,
            &body.reason,
        )
        .await?,
    ))
}

/// Lift a player's suspension.
#[utoipa::path(
    post, path = "/api/v1/admin/players/{who}/lift", tag = "admin", security(("bearer" = [])),
    params(("who" = String, Path, description = "user id, username or email")),
    request_body = LiftRequest,
    responses(
        (status = 200, body = PlayerStatus),
        (status = 403, description = "`role_required`", body = ErrorBody),
        (status = 404, description = "`user_not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_reason`", body = ErrorBody),
    )
)]
async fn lift_suspension(
    State(state): State<AppState>,
    user: AuthUser,
    client: ClientInfo,
    Path(who): Path<String>,
    ApiJson(body): ApiJson<LiftRequest>,
) -> Result<Json<PlayerStatus>> {
    let actor = actor(&state, &user, &client).await?;
    Ok(Json(
        admin::lift(&state.db, &actor, &who, &body.reason).await?,
    ))
}

/// Correct a player's credits (admins only): an `adjustment` ledger row.
#[utoipa::path(
    post, path = "/api/v1/admin/players/{who}/credits", tag = "admin", security(("bearer" = [])),
    params(("who" = String, Path, description = "user id, username or email")),
    request_body = CreditsRequest,
    responses(
        (status = 200, description = "the player after the correction", body = Object),
        (status = 403, description = "`role_required` (admin)", body = ErrorBody),
        (status = 404, description = "`user_not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_amount`, `invalid_reason`", body = ErrorBody),
    )
)]
async fn adjust_credits(
    State(state): State<AppState>,
    user: AuthUser,
    client: ClientInfo,
    Path(who): Path<String>,
    ApiJson(body): ApiJson<CreditsRequest>,
) -> Result<Json<game::api::Player>> {
    let actor = actor(&state, &user, &client).await?;
    Ok(Json(
        admin::adjust_credits(
            &state.db,
            state.economy.catalog,
            &actor,
            &who,
            body.delta,
            &body.reason,
        )
        .await?,
    ))
}

/// An RFC 3339 time (`2030-01-01T12:00:00Z`, optional fraction, `Z` or
/// `±hh:mm`) as milliseconds since the epoch.
pub fn parse_time(text: &str) -> Result<i64, admin::Error> {
    let bad = || admin::Error::InvalidSuspensionEnd("`until` must be an RFC 3339 time");
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, admin::Error> {
        let part = text.get(range).ok_or_else(bad)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    if b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let month = time::Month::try_from(num(5..7)? as u8).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(num(0..4)? as i32, month, num(8..10)? as u8)
        .map_err(|_| bad())?;
    let clock = time::Time::from_hms(num(11..13)? as u8, num(14..16)? as u8, num(17..19)? as u8)
        .map_err(|_| bad())?;
    let mut rest = &text[19..];
    let mut millis = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = padded.parse().map_err(|_| bad())?;
        rest = &fraction[digits..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let hours: i64 = rest[1..3].parse().map_err(|_| bad())?;
            let minutes: i64 = rest[4..6].parse().map_err(|_| bad())?;
            let secs = hours * 3600 + minutes * 60;
            if rest.starts_with('-') { -secs } else { secs }
        }
        _ => return Err(bad()),
    };
    let local = time::PrimitiveDateTime::new(date, clock)
        .assume_utc()
        .unix_timestamp();
    Ok((local - offset_secs) * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn parses_rfc3339() {
        assert_eq!(parse_time("1970-01-01T00:00:01Z").unwrap(), 1000);
        assert_eq!(parse_time("1970-01-01T01:00:00.5+01:00").unwrap(), 500);
        assert_eq!(
            parse_time("2030-06-01T00:00:00Z").unwrap(),
            1_906_502_400_000
        );
        for bad in [
            "tomorrow",
            "2030-13-01T00:00:00Z",
            "2030-01-01T00:00:00",
            "2030-01-01",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
