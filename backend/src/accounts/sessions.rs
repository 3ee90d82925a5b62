//! Signing up, in and out: registration, login, access-token checks,
//! refresh-token rotation (with reuse detection), logout.

use secrecy::{ExposeSecret as _, SecretString};

use super::error::{Error, Result, ResultExt as _};
use super::events::AccountEvent;
use super::profile::UserProfile;
use super::service::{Accounts, Caller, Origin, TokenPair, login_subject};
use crate::auth::jwt::JwtError;
use crate::auth::tokens::{self, hash_token, new_opaque_token};
use crate::clock::{duration_ms, now_ms, now_us, rfc3339};
use crate::db::account_tokens::{self, Purpose};
use crate::db::audit::{self, AuditEvent};
use crate::db::users::UserRow;
use crate::db::{self, moderation, sessions, throttle, users};
use crate::domain::{Email, Password, Username};

/// Longest opaque token we even look at.
pub const MAX_TOKEN_LEN: usize = 128;

/// What `register` needs, unchecked.
pub struct Registration<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub password: &'a SecretString,
}

const LOGIN_LOCKED: &str = "too many failed logins: try again later";

impl Accounts {
    /// Checks an access token: the signature and expiry with the fixed
    /// algorithm and key, then the session row, so a token of a logged-out
    /// or revoked session is refused at once, not at its expiry.
    pub async fn authenticate(&self, token: &str) -> Result<Caller> {
        Ok(self.authenticate_until(token).await?.0)
    }

    /// [`Accounts::authenticate`], also answering when the token expires
    /// (Unix seconds): a long-lived connection ends then unless it is given
    /// a fresh token.
    pub async fn authenticate_until(&self, token: &str) -> Result<(Caller, i64)> {
        let claims = self.jwt.verify(token).map_err(|error| match error {
            JwtError::Expired => Error::TokenExpired,
            JwtError::Invalid => Error::InvalidToken,
        })?;
        let mut conn = self.db.pool().acquire().await?;
        if !sessions::is_active(&mut conn, &claims.sid, &claims.sub, now_ms()).await? {
            return Err(Error::SessionRevoked(
                "this session has ended: log in again",
            ));
        }
        Ok((
            Caller {
                user_id: claims.sub,
                session_id: claims.sid,
            },
            claims.exp,
        ))
    }

    /// Is the session still live (not revoked, not expired, account not
    /// deleted)? For connections that outlive the request that opened them.
    pub async fn session_is_live(&self, user_id: &str, session_id: &str) -> Result<bool> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(sessions::is_active(&mut conn, session_id, user_id, now_ms()).await?)
    }

    /// The username of an authenticated caller.
    pub async fn username(&self, user_id: &str) -> Result<String> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(users::find_by_id(&mut conn, user_id)
            .await?
            .ok_or(Error::SessionRevoked("this account no longer exists"))?
            .username)
    }

    /// Creates an account and mails a verification code to the address.
    pub async fn register(&self, form: Registration<'_>, origin: &Origin) -> Result<UserProfile> {
        let email = Email::parse(form.email).map_err(Error::InvalidEmail)?;
        let username = Username::parse(form.username).map_err(Error::InvalidUsername)?;
        let password = Password::parse(form.password.expose_secret(), &username)
            .map_err(|e| Error::InvalidPassword(e.message()))?;
        let password_hash = self.hasher.hash(&password).await?;

        let user_id = db::new_id();
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        // Usernames are public (rooms show them): a taken one may be said.
        if users::find_by_login(&mut tx, username.as_str())
            .await?
            .is_some()
        {
            return Err(Error::UsernameTaken);
        }
        // An address is not: a taken one gets the same answer as a free one,
        // and its owner a mail saying someone tried (ASVS V2.5.x).
        if let Some(owner) = users::find_by_login(&mut tx, email.as_str()).await? {
            tx.rollback().await?;
            self.notify(
                &owner.email,
                "someone tried to sign up with your address",
                format!(
                    "Someone (hopefully you) tried to create a new account with this address, \
                     which already belongs to the pilot {}.\n\n\
                     If it was you: sign in instead, or reset your password if you forgot it.\n\
                     If not: nothing changed, no action is needed.\n",
                    owner.username
                ),
            );
            return Ok(UserProfile {
                id: db::new_id(),
                email: email.as_str().to_owned(),
                username: username.as_str().to_owned(),
                email_verified: false,
                created_at: crate::clock::rfc3339(now),
                preferences: game::account::Preferences::default(),
            });
        }
        users::insert(
            &mut tx,
            &user_id,
            email.as_str(),
            username.as_str(),
            &password_hash,
            now,
        )
        .await
        // Only a registration racing this one for the same address: it
        // learns nothing about accounts that existed before.
        .on_unique_violation("email", || Error::EmailTaken)
        .on_unique_violation("username", || Error::UsernameTaken)?;
        let verification = new_opaque_token();
        account_tokens::insert(
            &mut tx,
            &hash_token(&verification),
            &user_id,
            Purpose::VerifyEmail,
            email.as_str(),
            now,
            now + duration_ms(self.config.auth.email_verification_ttl),
        )
        .await?;
        audit::record(
            &mut tx,
            AuditEvent::Registered,
            Some(&user_id),
            origin.ip.as_deref(),
            None,
        )
        .await?;
        let user = users::find_by_id(&mut tx, &user_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("user vanished inside its own transaction"))?;
        tx.commit().await?;

        self.metrics.auth_event("registered");
        self.send_verification_mail(email, &verification).await;
        Ok(UserProfile::from(&user))
    }

    /// Logs in with email or username: a new session and its token pair.
    pub async fn login(
        &self,
        login: &str,
        password: &SecretString,
        origin: &Origin,
    ) -> Result<TokenPair> {
        let ip = origin.ip.as_deref();
        let (user, subject) = self.check_credentials(login, password, origin).await?;

        let mut tx = self.db.begin_write().await?;
        // Re-checked under the write lock: parallel guesses cannot slip a
        // correct password in after the lock was set.
        self.check_login_not_locked(&mut tx, &subject).await?;
        if self.config.auth.require_email_verification && user.email_verified_at.is_none() {
            return Err(Error::EmailNotVerified);
        }
        // After the password check, so only the account's owner learns it.
        if let Some(row) = moderation::find(&mut tx, &user.id).await?
            && let Some(until) = row.suspension_at(now_ms())
        {
            self.metrics.auth_event("login_rejected_suspended");
            return Err(Error::Suspended {
                until: until.map(rfc3339),
            });
        }
        throttle::clear(&mut tx, &subject).await?;
        let tokens = self.start_session(&mut tx, &user.id, origin).await?;
        audit::record(
            &mut tx,
            AuditEvent::LoginSucceeded,
            Some(&user.id),
            ip,
            None,
        )
        .await?;
        tx.commit().await?;
        self.metrics.auth_event("login_succeeded");
        Ok(tokens)
    }

    /// The account a login (username or email) and password name, under
    /// the login lockout: a wrong pair is counted against the login as typed
    /// and the address (the same for known and unknown logins) and answers
    /// `InvalidCredentials`. Also gives the lockout subject, to clear it
    /// once the caller has done what the password was for.
    pub(super) async fn check_credentials(
        &self,
        login: &str,
        password: &SecretString,
        origin: &Origin,
    ) -> Result<(UserRow, String)> {
        let login = login.trim();
        if login.is_empty() || login.len() > Email::MAX_LEN {
            return Err(Error::InvalidCredentials);
        }
        let ip = origin.ip.as_deref();
        // Per login as typed and address (soft lockout, see
        // `record_failed_login`).
        let subject = login_subject(login, ip);
        let user = {
            let mut conn = self.db.pool().acquire().await?;
            self.check_login_not_locked(&mut conn, &subject).await?;
            users::find_by_login(&mut conn, login).await?
        };
        let matches = self
            .hasher
            .verify(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        match (matches, user) {
            (true, Some(user)) => Ok((user, subject)),
            (_, user) => {
                self.record_failed_login(&subject, user.as_ref().map(|u| u.id.as_str()), ip)
                    .await?;
                Err(Error::InvalidCredentials)
            }
        }
    }

    async fn check_login_not_locked(&self, conn: &mut db::Conn, subject: &str) -> Result<()> {
        let checked = self.check_not_locked(conn, subject, LOGIN_LOCKED).await;
        if let Err(Error::Locked { .. }) = &checked {
            self.metrics.auth_event("login_rejected_locked");
        }
        checked
    }

    /// Rotates a refresh token: a new pair; the old token stops working.
    ///
    /// Presenting a rotated-out token again revokes the whole session (token
    /// family) and is audited. A request that was already in flight when its
    /// token was rotated by a parallel request (two tabs, a retry) is not a
    /// replay: it receives the same successor.
    pub async fn refresh(&self, presented: &str, origin: &Origin) -> Result<TokenPair> {
        let arrived_us = now_us();
        let presented = presented.trim();
        if presented.is_empty() || presented.len() > MAX_TOKEN_LEN {
            return Err(Error::InvalidRefreshToken);
        }
        let presented_hash = hash_token(presented);
        let successor = new_opaque_token();
        let sealed =
            tokens::seal_successor(presented, &successor).ok_or(Error::InvalidRefreshToken)?;
        let successor_hash = hash_token(&successor);
        let ip = origin.ip.as_deref();

        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let claimed = sessions::claim_refresh_token(
            &mut tx,
            &presented_hash,
            now,
            now_us(),
            &successor_hash,
            &sealed,
        )
        .await?;
        if let Some(session_id) = claimed {
            let started = sessions::find(&mut tx, &session_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("session vanished inside its own transaction"))?
                .created_at;
            // Sliding, but never past the session's absolute lifetime:
            // then the player signs in again.
            let expires_at = self.session_end(started, now);
            sessions::insert_refresh_token(&mut tx, &successor_hash, &session_id, now, expires_at)
                .await?;
            sessions::touch(
                &mut tx,
                &session_id,
                now,
                expires_at,
                ip,
                origin.user_agent.as_deref(),
            )
            .await?;
            let session = sessions::find(&mut tx, &session_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("session vanished inside its own transaction"))?;
            sessions::stamp_rotation(&mut tx, &presented_hash, now_us()).await?;
            tx.commit().await?;
            return self.token_pair(&session.user_id, &session_id, successor);
        }

        // Not claimable: unknown, expired, revoked, or already rotated.
        let Some(row) = sessions::find_refresh_token(&mut tx, &presented_hash).await? else {
            return Err(Error::InvalidRefreshToken);
        };
        let Some(session) = sessions::find(&mut tx, &row.session_id).await? else {
            return Err(Error::InvalidRefreshToken);
        };
        if session.revoked_at.is_some() || session.expires_at <= now {
            return Err(Error::InvalidRefreshToken);
        }
        let Some(rotated_at_us) = row.rotated_at_us else {
            // expired but never rotated
            return Err(Error::InvalidRefreshToken);
        };

        let grace_us =
            i64::try_from(self.config.auth.refresh_race_grace.as_micros()).unwrap_or(i64::MAX);
        let racing = arrived_us < rotated_at_us.saturating_add(grace_us);
        if racing
            && let (Some(next_hash), Some(next_sealed)) =
                (&row.successor_hash, &row.successor_sealed)
            && let Some(next) = sessions::find_refresh_token(&mut tx, next_hash).await?
            && next.rotated_at_us.is_none()
            && next.expires_at > now
            && let Some(next_token) = tokens::open_successor(presented, next_sealed)
            && hash_token(&next_token) == *next_hash
        {
            tx.commit().await?;
            tracing::info!(session_id = %session.id, "concurrent refresh answered with the same successor");
            return self.token_pair(&session.user_id, &session.id, next_token);
        }

        // A replay of a rotated-out token: someone else may hold the family.
        sessions::revoke(&mut tx, &session.id, &session.user_id, "refresh_reuse", now).await?;
        audit::record(
            &mut tx,
            AuditEvent::RefreshReuse,
            Some(&session.user_id),
            ip,
            Some(serde_json::json!({ "session_id": session.id })),
        )
        .await?;
        tx.commit().await?;
        self.announce(AccountEvent::one_session(&session.user_id, &session.id))
            .await;
        self.metrics.auth_event("refresh_reuse");
        tracing::warn!(session_id = %session.id, "refresh token reuse: session revoked");
        Err(Error::RefreshTokenReused)
    }

    /// Ends the session the refresh token belongs to; its access tokens
    /// stop working immediately.
    pub async fn logout(&self, presented: &str, origin: &Origin) -> Result<()> {
        let presented = presented.trim();
        if presented.is_empty() || presented.len() > MAX_TOKEN_LEN {
            return Err(Error::InvalidRefreshToken);
        }
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let Some(row) = sessions::find_refresh_token(&mut tx, &hash_token(presented)).await? else {
            return Err(Error::InvalidRefreshToken);
        };
        let Some(session) = sessions::find(&mut tx, &row.session_id).await? else {
            return Err(Error::InvalidRefreshToken);
        };
        let ended = sessions::revoke(&mut tx, &session.id, &session.user_id, "logout", now).await?;
        if ended {
            audit::record(
                &mut tx,
                AuditEvent::Logout,
                Some(&session.user_id),
                origin.ip.as_deref(),
                Some(serde_json::json!({ "session_id": session.id })),
            )
            .await?;
        }
        tx.commit().await?;
        if ended {
            self.announce(AccountEvent::one_session(&session.user_id, &session.id))
                .await;
        }
        Ok(())
    }

    /// Ends every session of the caller (all devices).
    pub async fn logout_all(&self, caller: &Caller, origin: &Origin) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        let ended =
            sessions::revoke_all(&mut tx, &caller.user_id, "logout_all", now_ms(), None).await?;
        audit::record(
            &mut tx,
            AuditEvent::LogoutAll,
            Some(&caller.user_id),
            origin.ip.as_deref(),
            Some(serde_json::json!({ "sessions": ended })),
        )
        .await?;
        tx.commit().await?;
        self.announce(AccountEvent::all_sessions(&caller.user_id, None))
            .await;
        Ok(())
    }
}
