//! [`Accounts`]: what the account services need (database, hasher, token
//! keys, mailer, settings), and the pieces several of them share: the
//! lockout, sessions and token pairs, the verification mail.

use std::sync::Arc;

use super::error::{Error, Result};
use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHasher;
use crate::auth::tokens::{hash_token, new_opaque_token};
use crate::clock::{duration_ms, now_ms};
use crate::config::Config;
use crate::db::account_tokens::{self, Purpose};
use crate::db::audit::{self, AuditEvent};
use crate::db::{self, Db, sessions, throttle};
use crate::domain::Email;
use crate::mail::{Mailer, OutgoingMail};
use crate::metrics::Metrics;

/// The account services. Cheap to clone (all shared).
#[derive(Clone)]
pub struct Accounts {
    pub(super) db: Db,
    pub(super) config: Arc<Config>,
    pub(super) jwt: Arc<JwtKeys>,
    pub(super) hasher: PasswordHasher,
    pub(super) mailer: Arc<dyn Mailer>,
    pub(super) metrics: Arc<Metrics>,
}

/// The caller of an authenticated request (see
/// [`Accounts::authenticate`]).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub session_id: String,
}

/// Where a request comes from, for sessions and the audit log.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A new access token and refresh token.
#[derive(Debug)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl Accounts {
    pub fn new(
        db: Db,
        config: Arc<Config>,
        jwt: Arc<JwtKeys>,
        hasher: PasswordHasher,
        mailer: Arc<dyn Mailer>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            db,
            config,
            jwt,
            hasher,
            mailer,
            metrics,
        }
    }

    /// The user id of a well-signed, unexpired access token, without the
    /// session check (no database): who a request's rate limit is charged
    /// to. Authorisation still goes through [`Accounts::authenticate`].
    pub fn token_subject(&self, token: &str) -> Option<String> {
        self.jwt.verify(token).ok().map(|claims| claims.sub)
    }

    /// [`Error::Locked`] while `subject` is locked out.
    pub(super) async fn check_not_locked(
        &self,
        conn: &mut db::Conn,
        subject: &str,
        message: &'static str,
    ) -> Result<()> {
        let now = now_ms();
        if let Some(until) = throttle::locked_until(conn, subject, now).await? {
            let retry_after_secs = u64::try_from((until - now + 999) / 1000).unwrap_or(1);
            return Err(Error::Locked {
                message,
                retry_after_secs,
            });
        }
        Ok(())
    }

    /// Counts a failed password check towards the lockout (login, and a
    /// sensitive change with a wrong current password).
    pub(super) async fn record_failed_login(
        &self,
        subject: &str,
        user_id: Option<&str>,
        ip: Option<&str>,
    ) -> Result<()> {
        let auth = &self.config.auth;
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let failures = throttle::record_failure(
            &mut tx,
            subject,
            now,
            now - duration_ms(auth.lockout_duration),
        )
        .await?;
        audit::record(&mut tx, AuditEvent::LoginFailed, user_id, ip, None).await?;
        self.metrics.auth_event("login_failed");
        if failures >= i64::from(auth.lockout_max_failures) {
            throttle::lock(&mut tx, subject, now + duration_ms(auth.lockout_duration)).await?;
            audit::record(&mut tx, AuditEvent::LockedOut, user_id, ip, None).await?;
            self.metrics.auth_event("locked_out");
            tracing::warn!(user_id, "login locked out after repeated failures");
        }
        tx.commit().await?;
        Ok(())
    }

    /// Creates a session with its first refresh token; answers the pair.
    pub(super) async fn start_session(
        &self,
        tx: &mut db::Tx,
        user_id: &str,
        origin: &Origin,
    ) -> Result<TokenPair> {
        let now = now_ms();
        let expires_at = now + duration_ms(self.config.auth.refresh_token_ttl);
        let session_id = db::new_id();
        sessions::insert(
            tx,
            &sessions::NewSession {
                id: &session_id,
                user_id,
                user_agent: origin.user_agent.as_deref(),
                ip: origin.ip.as_deref(),
                now,
                expires_at,
            },
        )
        .await?;
        let refresh_token = new_opaque_token();
        sessions::insert_refresh_token(
            tx,
            &hash_token(&refresh_token),
            &session_id,
            now,
            expires_at,
        )
        .await?;
        self.token_pair(user_id, &session_id, refresh_token)
    }

    pub(super) fn token_pair(
        &self,
        user_id: &str,
        session_id: &str,
        refresh_token: String,
    ) -> Result<TokenPair> {
        Ok(TokenPair {
            access_token: self.jwt.issue(user_id, session_id)?,
            refresh_token,
            expires_in: self.jwt.ttl().as_secs(),
        })
    }

    /// Stores a fresh verification code for `email` and mails it (resend,
    /// and an email change).
    pub(super) async fn issue_verification(&self, user_id: &str, email: Email) -> Result<()> {
        let token = new_opaque_token();
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        account_tokens::invalidate_all(&mut tx, user_id, Purpose::VerifyEmail, now).await?;
        account_tokens::insert(
            &mut tx,
            &hash_token(&token),
            user_id,
            Purpose::VerifyEmail,
            email.as_str(),
            now,
            now + duration_ms(self.config.auth.email_verification_ttl),
        )
        .await?;
        tx.commit().await?;
        self.send_verification_mail(email, &token).await;
        Ok(())
    }

    pub(super) async fn send_verification_mail(&self, to: Email, token: &str) {
        let mail = OutgoingMail {
            to,
            subject: "Children of the Singularity: confirm your email".to_owned(),
            body: format!(
                "Welcome, salvager.\n\nVerification code: {token}\n{}\n\
                 The code expires in {} hours.\n",
                self.link("verify-email", token),
                self.config.auth.email_verification_ttl.as_secs() / 3600
            ),
        };
        if let Err(error) = self.mailer.send(mail).await {
            tracing::error!(
                error = format!("{error:#}"),
                "could not send the verification mail"
            );
        }
    }

    pub(super) fn link(&self, page: &str, token: &str) -> String {
        self.config
            .http
            .public_base_url
            .as_ref()
            .map(|base| {
                format!(
                    "Or open {}/{page}?token={token}\n",
                    base.trim_end_matches('/')
                )
            })
            .unwrap_or_default()
    }
}
