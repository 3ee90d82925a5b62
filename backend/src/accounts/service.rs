//! [`Accounts`]: what the account services need (database, hasher, token
//! keys, mailer, settings), and the pieces several of them share: the
//! lockout, sessions and token pairs, the verification mail.

use std::sync::Arc;

use super::error::{Error, Result};
use super::events::{AccountEvent, AccountEvents};
use super::providers::Providers;
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
    pub(super) events: Arc<dyn AccountEvents>,
    /// Sign-in providers (Google, Discord, ...).
    pub(super) providers: Arc<Providers>,
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
        events: Arc<dyn AccountEvents>,
    ) -> Self {
        Self {
            db,
            config,
            jwt,
            hasher,
            mailer,
            metrics,
            events,
            providers: Arc::new(Providers::none()),
        }
    }

    /// The sign-in providers offered (none until this is called).
    pub fn with_providers(mut self, providers: Arc<Providers>) -> Self {
        self.providers = providers;
        self
    }

    /// The user id of a well-signed, unexpired access token, without the
    /// session check (no database): who a request's rate limit is charged
    /// to. Authorisation still goes through [`Accounts::authenticate`].
    pub fn token_subject(&self, token: &str) -> Option<String> {
        self.jwt.verify(token).ok().map(|claims| claims.sub)
    }

    /// Tells the rest of the system (after the change committed).
    pub(super) async fn announce(&self, event: AccountEvent) {
        self.events.publish(event).await;
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

    /// Counts a failed password check towards the soft lockout (login, and
    /// a sensitive change with a wrong current password).
    ///
    /// ASVS V2.2.1 soft lockout: after `LOCKOUT_MAX_FAILURES` failures the
    /// subject waits `LOCKOUT_BASE_DELAY_SECS`, doubled by each further
    /// failure, at most `LOCKOUT_DURATION_SECS`; the count is forgotten
    /// after `LOCKOUT_DURATION_SECS` without a failure. A login's subject is
    /// the login as typed *and* the client's address (see
    /// [`login_subject`]), so nobody can lock a player out from elsewhere,
    /// and a lockout through a username says nothing about an email.
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
        let over = failures - i64::from(auth.lockout_max_failures);
        if over >= 0 {
            let delay = soft_lockout_delay(
                self.config.hardening.lockout_base_delay,
                auth.lockout_duration,
                over,
            );
            throttle::hold(&mut tx, subject, now + duration_ms(delay)).await?;
            if over == 0 {
                audit::record(&mut tx, AuditEvent::LockedOut, user_id, ip, None).await?;
                self.metrics.auth_event("locked_out");
                tracing::warn!(user_id, "login held back after repeated failures");
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Hands `mail` to the mailer off the request path: the answer's timing
    /// and success never depend on the mail (ASVS V2.5.x, no enumeration by
    /// timing).
    pub(super) fn send_later(&self, mail: OutgoingMail, what: &'static str) {
        let mailer = self.mailer.clone();
        let span = tracing::Span::current();
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                if let Err(error) = mailer.send(mail).await {
                    tracing::error!(error = format!("{error:#}"), what, "could not send a mail");
                }
            },
            span,
        ));
    }

    /// The absolute end of a session started at `created_at`: refreshing
    /// never carries it past this.
    pub(super) fn session_end(&self, created_at: i64, now: i64) -> i64 {
        let sliding = now + duration_ms(self.config.auth.refresh_token_ttl);
        let absolute = created_at + duration_ms(self.config.hardening.session_absolute_lifetime);
        sliding.min(absolute)
    }

    /// Creates a session with its first refresh token; answers the pair.
    pub(super) async fn start_session(
        &self,
        tx: &mut db::Tx,
        user_id: &str,
        origin: &Origin,
    ) -> Result<TokenPair> {
        let now = now_ms();
        let expires_at = self.session_end(now, now);
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
        self.send_later(self.verification_mail(to, token), "verification");
    }

    pub(super) fn verification_mail(&self, to: Email, token: &str) -> OutgoingMail {
        OutgoingMail {
            to,
            subject: "Children of the Singularity: confirm your email".to_owned(),
            body: format!(
                "Welcome, salvager.\n\nVerification code: {token}\n\n\
                 In the game: paste it where the station asks for the verification code \
                 (after registering, at sign-in, or in ACCOUNT from the pause menu).\n\
                 The code expires in {} hours.\n",
                self.config.auth.email_verification_ttl.as_secs() / 3600
            ),
        }
    }

    /// Tells the owner of an address that something happened to the
    /// account (ASVS V2.2.3, V2.5.5).
    pub(super) fn notify(&self, to: &str, subject: &str, body: String) {
        let Ok(to) = Email::parse(to) else {
            tracing::warn!("stored address does not parse: notice not sent");
            return;
        };
        self.send_later(
            OutgoingMail {
                to,
                subject: format!("Children of the Singularity: {subject}"),
                body,
            },
            "notice",
        );
    }
}

/// The lockout subject of a login attempt: the login as typed (so a
/// username and an email are separate counters: a lockout reveals nothing
/// about which email goes with which username) and the client's address
/// (IPv6 per /64), so only that address is held back.
pub(super) fn login_subject(login: &str, ip: Option<&str>) -> String {
    let address = ip
        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
        .map(|ip| match ip {
            std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            std::net::IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(|v4| v4.to_string())
                .unwrap_or_default(),
            v4 => v4.to_string(),
        })
        .unwrap_or_default();
    throttle::subject(
        None,
        &format!("{}\u{1f}{address}", login.trim().to_lowercase()),
    )
}

/// The soft lockout's delay after `over` failures beyond the free ones:
/// `base`, doubled each time, at most `cap`.
pub(super) fn soft_lockout_delay(
    base: std::time::Duration,
    cap: std::time::Duration,
    over: i64,
) -> std::time::Duration {
    let doublings = u32::try_from(over.clamp(0, 20)).unwrap_or(20);
    base.saturating_mul(1u32 << doublings).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn soft_lockout_delays_double_up_to_the_cap() {
        let delays: Vec<u64> = (0..12)
            .map(|over| {
                soft_lockout_delay(Duration::from_secs(2), Duration::from_secs(900), over).as_secs()
            })
            .collect();
        assert_eq!(delays, [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
        assert_eq!(
            soft_lockout_delay(Duration::from_secs(2), Duration::from_secs(900), 10_000),
            Duration::from_secs(900)
        );
    }

    #[test]
    fn login_subjects_are_per_login_and_address() {
        let a = login_subject("Pilot", Some("192.0.2.1"));
        assert_eq!(a, login_subject(" pilot ", Some("192.0.2.1")));
        assert_ne!(a, login_subject("pilot@example.org", Some("192.0.2.1")));
        assert_ne!(a, login_subject("pilot", Some("192.0.2.2")));
        assert_eq!(
            login_subject("pilot", Some("2001:db8:1:2::1")),
            login_subject("pilot", Some("2001:db8:1:2::ffff"))
        );
    }
}
