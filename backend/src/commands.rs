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
