//! Moderation: roles, suspensions, a player's file, credit corrections.
//! Called by the admin API (`http::admin`, for moderators and admins) and
//! the `backend admin` subcommands (the operator, with admin powers); every
//! action is one transaction that also writes an audit event naming who
//! did it and why.
//!
//! Rules:
//! - roles rank `player` < `moderator` < `admin`; the admin routes need
//!   `moderator` at least, credit corrections need `admin`;
//! - nobody grants a role above their own, raises their own role, or acts
//!   on someone who outranks them (or on themselves, for suspensions);
//! - a suspension has a reason and an end in the future, or none (until
//!   lifted); it revokes every session at once (access tokens stop working
//!   at their next request), removes the player from their lobbies and
//!   closes their sockets on every replica (the bus' `SessionEnded`:
//!   1008 `account_suspended`); sign-in is refused
//!   with `account_suspended` and the end until it ends or is lifted.
//!
//! Must not: know HTTP; hold SQL (that is `db`'s).

use game::Catalog;
use game::api::codes;
use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::{now_ms, rfc3339};
use crate::db::audit::{self, AuditEvent};
use crate::db::ledger::{self, Reason};
use crate::db::moderation::{self, ModerationRow};
use crate::db::{self, Db, lobbies, runs, sessions};
use crate::economy::account::{self, Cause};
use crate::economy::bus::{Publisher, SessionEnded};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest reason accepted (characters).
pub const MAX_REASON: usize = 500;
/// Ledger rows and runs shown by [`inspect`].
pub const RECENT: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Player,
    Moderator,
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "player" => Ok(Self::Player),
            "moderator" => Ok(Self::Moderator),
            "admin" => Ok(Self::Admin),
            _ => Err(Error::InvalidRole),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Player => "player",
            Self::Moderator => "moderator",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no such player")]
    UnknownPlayer,
    #[error("this needs the `{0}` role")]
    RoleRequired(&'static str),
    #[error("{0}")]
    RoleTooHigh(&'static str),
    #[error("role must be `player`, `moderator` or `admin`")]
    InvalidRole,
    #[error("give a reason of 1-{MAX_REASON} characters")]
    InvalidReason,
    #[error("{0}")]
    InvalidSuspensionEnd(&'static str),
    #[error("{0}")]
    InvalidAmount(&'static str),
    #[error(transparent)]
    Economy(#[from] crate::economy::Error),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownPlayer => codes::USER_NOT_FOUND,
            Self::RoleRequired(_) => codes::ROLE_REQUIRED,
            Self::RoleTooHigh(_) => codes::ROLE_TOO_HIGH,
            Self::InvalidRole => codes::INVALID_ROLE,
            Self::InvalidReason => codes::INVALID_REASON,
            Self::InvalidSuspensionEnd(_) => codes::INVALID_SUSPENSION_END,
            Self::InvalidAmount(_) => codes::INVALID_AMOUNT,
            Self::Economy(error) => error.code(),
            Self::Database(_) | Self::Internal(_) => codes::INTERNAL_ERROR,
        }
    }
}

/// Who acts: a signed-in moderator or admin, or the operator at the
/// console (`backend admin`, admin powers, no account).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<String>,
    pub role: Role,
    /// `user:<id>` or `operator:<name>`: what the audit log records.
    pub label: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn operator(name: &str) -> Self {
        Self {
            user_id: None,
            role: Role::Admin,
            label: format!("operator:{name}"),
            ip: None,
        }
    }

    /// A signed-in caller with their stored role; refused below
    /// `moderator`.
    pub async fn user(db: &Db, user_id: &str, ip: Option<String>) -> Result<Self> {
        let mut conn = db.pool().acquire().await?;
        let role = moderation::role(&mut conn, user_id)
            .await?
            .ok_or(Error::RoleRequired("moderator"))?;
        let role = Role::parse(&role)?;
        if role < Role::Moderator {
            return Err(Error::RoleRequired("moderator"));
        }
        Ok(Self {
            user_id: Some(user_id.to_owned()),
            role,
            label: format!("user:{user_id}"),
            ip,
        })
    }

    fn require(&self, role: Role) -> Result<()> {
        if self.role < role {
            return Err(Error::RoleRequired(role.as_str()));
        }
        Ok(())
    }

    fn is(&self, user_id: &str) -> bool {
        self.user_id.as_deref() == Some(user_id)
    }
}

fn reason(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_REASON || text.chars().any(char::is_control) {
        return Err(Error::InvalidReason);
    }
    Ok(text.to_owned())
}

async fn target(conn: &mut db::Conn, who: &str) -> Result<ModerationRow> {
    let who = who.trim();
    if who.is_empty() || who.len() > 254 {
        return Err(Error::UnknownPlayer);
    }
    moderation::find(conn, who)
        .await?
        .ok_or(Error::UnknownPlayer)
}

fn role_of(row: &ModerationRow) -> Result<Role> {
    Role::parse(&row.role)
}

/// A player's moderation status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlayerStatus {
    pub user_id: String,
    pub username: String,
    pub role: Role,
    pub created_at: String,
    pub suspended: bool,
    /// RFC 3339; absent while suspended: until lifted.
    pub suspended_until: Option<String>,
    pub suspension_reason: Option<String>,
}

impl PlayerStatus {
    fn from_row(row: &ModerationRow, now: i64) -> Result<Self> {
        let suspension = row.suspension_at(now);
        Ok(Self {
            user_id: row.id.clone(),
            username: row.username.clone(),
            role: role_of(row)?,
            created_at: rfc3339(row.created_at),
            suspended: suspension.is_some(),
            suspended_until: suspension.flatten().map(rfc3339),
            suspension_reason: suspension.and(row.suspension_reason.clone()),
        })
    }
}

/// Gives `who` the role `role`.
pub async fn grant_role(
    db: &Db,
    actor: &Actor,
    who: &str,
    role: Role,
    why: &str,
) -> Result<PlayerStatus> {
    actor.require(Role::Moderator)?;
    let why = reason(why)?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let row = target(&mut tx, who).await?;
    let current = role_of(&row)?;
    if role > actor.role {
        return Err(Error::RoleTooHigh("nobody grants a role above their own"));
    }
    if actor.is(&row.id) && role > current {
        return Err(Error::RoleTooHigh("nobody raises their own role"));
    }
    if current > actor.role {
        return Err(Error::RoleTooHigh("this account outranks you"));
    }
    moderation::set_role(&mut tx, &row.id, role.as_str(), now).await?;
    audit::record(
        &mut tx,
        AuditEvent::RoleGranted,
        Some(&row.id),
        actor.ip.as_deref(),
        Some(serde_json::json!({
            "by": actor.label, "reason": why, "from": current.as_str(), "to": role.as_str(),
        })),
    )
    .await?;
    let row = target(&mut tx, &row.id).await?;
    tx.commit().await?;
    PlayerStatus::from_row(&row, now)
}

/// Suspends `who` until `until` (ms; `None`: until lifted).
pub async fn suspend(
    db: &Db,
    bus: &Publisher,
    actor: &Actor,
    who: &str,
    until: Option<i64>,
    why: &str,
) -> Result<PlayerStatus> {
    actor.require(Role::Moderator)?;
    let why = reason(why)?;
    let now = now_ms();
    if let Some(until) = until
        && until <= now
    {
        return Err(Error::InvalidSuspensionEnd(
            "the suspension end must be in the future",
        ));
    }
    let mut tx = db.begin_write().await?;
    let row = target(&mut tx, who).await?;
    if actor.is(&row.id) {
        return Err(Error::RoleTooHigh("nobody suspends themselves"));
    }
    if role_of(&row)? >= actor.role {
        return Err(Error::RoleTooHigh(
            "only someone of a higher role suspends this account",
        ));
    }
    moderation::suspend(&mut tx, &row.id, until, &why, &actor.label, now).await?;
    let ended = sessions::revoke_all(&mut tx, &row.id, "suspended", now, None).await?;
    let rooms = lobbies::memberships(&mut tx, &row.id).await?;
    for (code, _) in &rooms {
        lobbies::remove_member(&mut tx, code, &row.id).await?;
    }
    audit::record(
        &mut tx,
        AuditEvent::Suspended,
        Some(&row.id),
        actor.ip.as_deref(),
        Some(serde_json::json!({
            "by": actor.label, "reason": why, "until": until.map(rfc3339),
            "sessions_ended": ended, "lobbies_left": rooms.len(),
        })),
    )
    .await?;
    let row = target(&mut tx, &row.id).await?;
    tx.commit().await?;
    // After the commit: every replica closes the sockets.
    // Sessions first, so the player's own sockets close with
    // `account_suspended` before the room hears `member_left`.
    bus.session_ended(SessionEnded {
        user_id: row.id.clone(),
        session_id: None,
        except: None,
        reason: codes::ACCOUNT_SUSPENDED.to_owned(),
    })
    .await;
    for (code, _) in &rooms {
        bus.member_left(code, &row.id, row.username.clone()).await;
    }
    tracing::info!(user_id = %row.id, by = %actor.label, "account suspended");
    PlayerStatus::from_row(&row, now)
}

/// Lifts `who`'s suspension (not suspended: unchanged, still recorded).
pub async fn lift(db: &Db, actor: &Actor, who: &str, why: &str) -> Result<PlayerStatus> {
    actor.require(Role::Moderator)?;
    let why = reason(why)?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let row = target(&mut tx, who).await?;
    if actor.is(&row.id) {
        return Err(Error::RoleTooHigh("nobody lifts their own suspension"));
    }
    let lifted = moderation::lift(&mut tx, &row.id, now).await?;
    audit::record(
        &mut tx,
        AuditEvent::SuspensionLifted,
        Some(&row.id),
        actor.ip.as_deref(),
        Some(serde_json::json!({ "by": actor.label, "reason": why, "was_suspended": lifted })),
    )
    .await?;
    let row = target(&mut tx, &row.id).await?;
    tx.commit().await?;
    PlayerStatus::from_row(&row, now)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerLine {
    pub reason: String,
    pub reference: Option<String>,
    pub asset: String,
    pub delta: i64,
    pub balance_after: i64,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunLine {
    pub run_id: String,
    pub zone: i64,
    pub started_at: String,
    pub pieces: i64,
}

/// A player's file: status, economic state, the newest ledger rows and
/// runs (at most [`RECENT`] each, newest first).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlayerReport {
    pub status: PlayerStatus,
    #[schema(value_type = Option<Object>)]
    pub player: Option<game::api::Player>,
    pub ledger: Vec<LedgerLine>,
    pub runs: Vec<RunLine>,
}

/// Reads `who`'s file (recorded in the audit log: who looked and why).
pub async fn inspect(
    db: &Db,
    catalog: &Catalog,
    actor: &Actor,
    who: &str,
    why: &str,
) -> Result<PlayerReport> {
    actor.require(Role::Moderator)?;
    let why = reason(why)?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let row = target(&mut tx, who).await?;
    let player = account::load(&mut tx, None, &row.id)
        .await?
        .map(|found| found.view(catalog));
    let ledger = ledger::list_for_user(&mut tx, &row.id)
        .await?
        .into_iter()
        .rev()
        .take(RECENT)
        .map(|l| LedgerLine {
            reason: l.reason,
            reference: l.reference,
            asset: l.asset,
            delta: l.delta,
            balance_after: l.balance_after,
            at: rfc3339(l.created_at),
        })
        .collect();
    let runs = runs::list_for_user(&mut tx, &row.id)
        .await?
        .into_iter()
        .rev()
        .take(RECENT)
        .map(|(run_id, zone, _seed, started_at, pieces)| RunLine {
            run_id,
            zone,
            started_at: rfc3339(started_at),
            pieces,
        })
        .collect();
    audit::record(
        &mut tx,
        AuditEvent::PlayerInspected,
        Some(&row.id),
        actor.ip.as_deref(),
        Some(serde_json::json!({ "by": actor.label, "reason": why })),
    )
    .await?;
    tx.commit().await?;
    Ok(PlayerReport {
        status: PlayerStatus::from_row(&row, now)?,
        player,
        ledger,
        runs,
    })
}

/// Adds `delta` credits (negative: removes) to `who`'s balance with an
/// `adjustment` ledger row, so `backend audit` still balances. Admins only.
pub async fn adjust_credits(
    db: &Db,
    catalog: &Catalog,
    actor: &Actor,
    who: &str,
    delta: i64,
    why: &str,
) -> Result<game::api::Player> {
    actor.require(Role::Admin)?;
    let why = reason(why)?;
    if delta == 0 {
        return Err(Error::InvalidAmount("a credit adjustment cannot be zero"));
    }
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let row = target(&mut tx, who).await?;
    let before = account::lock(&mut tx, db.dialect(), catalog, &row.id, now).await?;
    let mut after = before.state.clone();
    after.credits = if delta > 0 {
        after
            .credits
            .checked_add(delta.unsigned_abs())
            .filter(|c| i64::try_from(*c).is_ok())
            .ok_or(Error::InvalidAmount("the balance would overflow"))?
    } else {
        after
            .credits
            .checked_sub(delta.unsigned_abs())
            .ok_or(Error::InvalidAmount("the balance cannot go below zero"))?
    };
    let entry_id = db::new_id();
    let saved = account::save(
        &mut tx,
        &before,
        &after,
        Cause {
            reason: Reason::Adjustment,
            reference: Some(&actor.label),
            entry_id: &entry_id,
        },
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEvent::CreditsAdjusted,
        Some(&row.id),
        actor.ip.as_deref(),
        Some(serde_json::json!({
            "by": actor.label, "reason": why, "delta": delta, "entry_id": entry_id,
            "balance_after": saved.state.credits,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(saved.view(catalog))
}

/// The status of `who` without recording anything (for the CLI's echo).
pub async fn status(db: &Db, who: &str) -> Result<PlayerStatus> {
    let mut conn = db.pool().acquire().await?;
    let row = target(&mut conn, who).await?;
    PlayerStatus::from_row(&row, now_ms())
}
