//! The maintenance subcommands besides `serve`: `migrate`, `audit`,
//! `outbox`. Each returns the process exit code's meaning as a `Result`, so
//! `main` stays a dispatcher.

use crate::clock::rfc3339;
use crate::config::Config;
use crate::db::{self, Db, consistency};

pub use crate::db::consistency::Finding;

/// Runs every consistency check; an empty list means all is well.
///
/// Add a check: an `async fn(&Db) -> anyhow::Result<Vec<Finding>>` called
/// from here, its SQL in [`crate::db::consistency`] (the economy adds the
/// ledger-equals-balances check).
pub async fn audit(db: &Db) -> anyhow::Result<Vec<Finding>> {
    let mut findings = Vec::new();
    findings.extend(check_migrations(db).await?);
    findings.extend(check_sessions(db).await?);
    findings.extend(check_refresh_families(db).await?);
    findings.extend(check_password_hashes(db).await?);
    findings.extend(crate::economy::audit::check_ledger(db).await?);
    Ok(findings)
}

/// Every migration this binary knows is applied, and nothing unknown is.
async fn check_migrations(db: &Db) -> anyhow::Result<Vec<Finding>> {
    let known: Vec<i64> = db.known_migrations().into_iter().map(|(v, _)| v).collect();
    let applied = db.applied_migrations().await?;
    let mut findings = Vec::new();
    for version in &known {
        if !applied.contains(version) {
            findings.push(Finding {
                check: "migrations",
                detail: format!("migration {version} is not applied (run `backend migrate`)"),
            });
        }
    }
    for version in &applied {
        if !known.contains(version) {
            findings.push(Finding {
                check: "migrations",
                detail: format!("migration {version} is applied but unknown to this binary"),
            });
        }
    }
    Ok(findings)
}

/// Every session belongs to an existing user (SQLite enforces foreign keys
/// per connection only; this catches a connection that had them off).
async fn check_sessions(db: &Db) -> anyhow::Result<Vec<Finding>> {
    let orphans = consistency::orphan_sessions(&mut *db.pool().acquire().await?).await?;
    Ok((orphans > 0)
        .then(|| Finding {
            check: "sessions",
            detail: format!("{orphans} session(s) belong to no user"),
        })
        .into_iter()
        .collect())
}

/// A live session has exactly one current (not rotated) refresh token.
async fn check_refresh_families(db: &Db) -> anyhow::Result<Vec<Finding>> {
    let broken = consistency::broken_refresh_families(&mut *db.pool().acquire().await?).await?;
    Ok(broken
        .into_iter()
        .map(|(session, current)| Finding {
            check: "refresh_tokens",
            detail: format!(
                "live session {session} has {current} current refresh tokens (expected 1)"
            ),
        })
        .collect())
}

/// Every stored password is an argon2id PHC string.
async fn check_password_hashes(db: &Db) -> anyhow::Result<Vec<Finding>> {
    let bad = consistency::non_argon2id_hashes(&mut *db.pool().acquire().await?).await?;
    Ok((bad > 0)
        .then(|| Finding {
            check: "password_hashes",
            detail: format!("{bad} user(s) have a password hash that is not argon2id"),
        })
        .into_iter()
        .collect())
}

/// Prints the newest development-outbox mails.
pub async fn print_outbox(db: &Db, to: Option<&str>, limit: i64) -> anyhow::Result<()> {
    let mut conn = db.pool().acquire().await?;
    let mails = db::outbox::latest(&mut conn, to, limit).await?;
    if mails.is_empty() {
        println!("(the development outbox is empty)");
    }
    for mail in mails {
        println!(
            "--- {} | {} | to {}",
            rfc3339(mail.created_at),
            mail.id,
            mail.to_address
        );
        println!("Subject: {}\n\n{}", mail.subject, mail.body);
    }
    Ok(())
}

/// `check-config`: everything that can be verified without side effects.
pub fn check_config(config: &Config) -> Vec<String> {
    config.warnings()
}

/// `backend admin ...`: one moderation action by the operator at the
/// console (admin powers), printed as JSON. Suspensions reach the lobby
/// sockets of every replica on PostgreSQL (NOTIFY); on SQLite this process
/// cannot reach the server's sockets (their sessions still end at once:
/// use the admin API to close them too).
pub async fn admin(config: &Config, db: &Db, action: AdminAction) -> anyhow::Result<()> {
    use crate::admin::{self, Actor, Role};
    let operator = std::env::var("USER").unwrap_or_else(|_| "console".to_owned());
    let actor = Actor::operator(&operator);
    let catalog = game::Catalog::try_shipped()
        .map_err(|error| anyhow::anyhow!("the shipped catalog is invalid: {error}"))?;
    let json = match action {
        AdminAction::GrantRole { who, role, reason } => {
            let role = Role::parse(&role).map_err(admin_error)?;
            serde_json::to_string_pretty(
                &admin::grant_role(db, &actor, &who, role, &reason)
                    .await
                    .map_err(admin_error)?,
            )?
        }
        AdminAction::Suspend { who, reason, until } => {
            let until = until
                .as_deref()
                .map(crate::http::admin::parse_time)
                .transpose()
                .map_err(admin_error)?;
            let bus = crate::economy::bus::LobbyBus::start(db, &config.database).await?;
            let status = admin::suspend(db, bus.publisher(), &actor, &who, until, &reason)
                .await
                .map_err(admin_error)?;
            serde_json::to_string_pretty(&status)?
        }
        AdminAction::Lift { who, reason } => serde_json::to_string_pretty(
            &admin::lift(db, &actor, &who, &reason)
                .await
                .map_err(admin_error)?,
        )?,
        AdminAction::Show { who, reason } => serde_json::to_string_pretty(
            &admin::inspect(db, catalog, &actor, &who, &reason)
                .await
                .map_err(admin_error)?,
        )?,
        AdminAction::AdjustCredits { who, delta, reason } => serde_json::to_string_pretty(
            &admin::adjust_credits(db, catalog, &actor, &who, delta, &reason)
                .await
                .map_err(admin_error)?,
        )?,
    };
    println!("{json}");
    Ok(())
}

fn admin_error(error: crate::admin::Error) -> anyhow::Error {
    anyhow::anyhow!("{} ({})", error, error.code())
}

/// The `backend admin` actions (parsed by `main`).
#[derive(Debug, clap::Subcommand)]
pub enum AdminAction {
    /// Give a player a role: player, moderator or admin.
    GrantRole {
        /// User id, username or email.
        who: String,
        role: String,
        #[arg(long)]
        reason: String,
    },
    /// Suspend a player: sessions end now, sign-in refused until the end.
    Suspend {
        who: String,
        #[arg(long)]
        reason: String,
        /// RFC 3339 end (e.g. 2030-01-01T00:00:00Z); omitted: until lifted.
        #[arg(long)]
        until: Option<String>,
    },
    /// Lift a player's suspension.
    Lift {
        who: String,
        #[arg(long)]
        reason: String,
    },
    /// Show a player: role, suspension, state, newest ledger rows and runs.
    Show {
        who: String,
        #[arg(long)]
        reason: String,
    },
    /// Add (or, negative, remove) credits with an `adjustment` ledger row.
    AdjustCredits {
        who: String,
        #[arg(allow_negative_numbers = true)]
        delta: i64,
        #[arg(long)]
        reason: String,
    },
}

/// One demo pilot of `backend seed-demo`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoPilot {
    pub username: String,
    pub email: String,
    pub zone: u8,
    pub created: bool,
}

/// Credits each demo pilot gets.
pub const DEMO_CREDITS: u64 = 50_000;

/// `backend seed-demo`: pilots `demo_zone2` .. `demo_zone4`, signed up with
/// a verified address, `DEMO_CREDITS` credits, every upgrade at level 2 (or
/// its max) and `zone_access` for their zone, so a designer can fly zones
/// 2-4 at once against a local backend. Existing demo pilots are left as
/// they are. Refused when `APP_ENV=production`. The changes are ledgered
/// (`adjustment`), so `backend audit` still passes.
pub async fn seed_demo(config: &Config, db: &Db, password: &str) -> anyhow::Result<Vec<DemoPilot>> {
    use crate::db::audit::{self as audit_log, AuditEvent};
    use crate::db::ledger::Reason;
    use crate::domain::{Email, Password, Username};
    use crate::economy::account::{self, Cause};
    use game::UpgradeId;

    anyhow::ensure!(
        config.app_env != crate::config::AppEnv::Production,
        "seed-demo refuses to run with APP_ENV=production: demo pilots with known passwords do not belong there"
    );
    let catalog = game::Catalog::try_shipped()
        .map_err(|error| anyhow::anyhow!("the shipped catalog is invalid: {error}"))?;
    let hasher = crate::auth::password::PasswordHasher::new(1).await?;
    let mut pilots = Vec::new();
    for zone in 2u8..=4 {
        let Some(zone_def) = catalog.zone(zone) else {
            continue;
        };
        let username = Username::parse(&format!("demo_zone{zone}"))
            .map_err(|why| anyhow::anyhow!("demo username: {why}"))?;
        let email = Email::parse(&format!("demo_zone{zone}@demo.invalid"))
            .or_else(|_| Email::parse(&format!("demo_zone{zone}@example.org")))
            .map_err(|why| anyhow::anyhow!("demo email: {why}"))?;
        let mut conn = db.pool().acquire().await?;
        let existing = db::users::find_by_login(&mut conn, username.as_str()).await?;
        drop(conn);
        if existing.is_some() {
            pilots.push(DemoPilot {
                username: username.as_str().to_owned(),
                email: email.as_str().to_owned(),
                zone,
                created: false,
            });
            continue;
        }
        let secret = Password::parse(password, &username)
            .map_err(|why| anyhow::anyhow!("--password: {}", why.message()))?;
        let hash = hasher.hash(&secret).await?;
        let now = crate::clock::now_ms();
        let user_id = db::new_id();
        let mut tx = db.begin_write().await?;
        db::users::insert(
            &mut tx,
            &user_id,
            email.as_str(),
            username.as_str(),
            &hash,
            now,
        )
        .await?;
        db::users::mark_email_verified(&mut tx, &user_id, email.as_str(), now).await?;
        let before = account::lock(&mut tx, db.dialect(), catalog, &user_id, now).await?;
        let mut after = before.state.clone();
        after.credits = DEMO_CREDITS;
        for id in UpgradeId::ALL {
            let max = catalog.upgrade(id).max_level();
            after.upgrades.set(id, max.min(2));
        }
        let access_max = catalog.upgrade(UpgradeId::ZoneAccess).max_level();
        after
            .upgrades
            .set(UpgradeId::ZoneAccess, zone_def.access.min(access_max));
        let entry_id = db::new_id();
        account::save(
            &mut tx,
            &before,
            &after,
            Cause {
                reason: Reason::Adjustment,
                reference: Some("seed-demo"),
                entry_id: &entry_id,
            },
            now,
        )
        .await
        .map_err(|error| anyhow::anyhow!("seeding {}: {error}", username.as_str()))?;
        audit_log::record(
            &mut tx,
            AuditEvent::CreditsAdjusted,
            Some(&user_id),
            None,
            Some(serde_json::json!({ "by": "seed-demo", "reason": "demo pilot", "entry_id": entry_id })),
        )
        .await?;
        tx.commit().await?;
        pilots.push(DemoPilot {
            username: username.as_str().to_owned(),
            email: email.as_str().to_owned(),
            zone,
            created: true,
        });
    }
    Ok(pilots)
}
