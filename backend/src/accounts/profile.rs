//! The caller's own account: profile, changes to it, deletion, sessions
//! (devices) and the data export.

use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::error::{Error, Result, ResultExt as _};
use super::events::AccountEvent;
use super::service::{Accounts, Caller, Origin};
use crate::clock::{now_ms, rfc3339};
use crate::db::audit::{self, AuditEvent};
use crate::db::users::UserRow;
use crate::db::{self, account_tokens, sessions, throttle, users};
use crate::domain::{Email, Password, Username};
use game::account::Preferences;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserProfile {
    pub id: String,
    pub email: String,
    pub username: String,
    pub email_verified: bool,
    /// RFC 3339
    pub created_at: String,
    /// `{preferred_zone, show_hints, chat_filter, language}`
    /// (`game::account::Preferences`).
    #[schema(value_type = Object)]
    pub preferences: Preferences,
}

impl From<&UserRow> for UserProfile {
    fn from(user: &UserRow) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            username: user.username.clone(),
            email_verified: user.email_verified_at.is_some(),
            created_at: rfc3339(user.created_at),
            preferences: stored_preferences(user),
        }
    }
}

/// The row's preferences. Only checked objects are ever stored; one that no
/// longer reads (a field removed from the game since) gives the defaults.
fn stored_preferences(user: &UserRow) -> Preferences {
    serde_json::from_str(&user.preferences).unwrap_or_else(|error| {
        tracing::warn!(user_id = %user.id, %error, "stored preferences unreadable: defaults used");
        Preferences::default()
    })
}

/// Any subset of changes. Changing the email or setting a new password
/// needs the current password.
pub struct ProfileChanges<'a> {
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub new_password: Option<&'a SecretString>,
    pub current_password: Option<&'a SecretString>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    /// The session of the access token making this request.
    pub current: bool,
}

const CHANGE_LOCKED: &str = "too many failed attempts: try again later";

impl Accounts {
    async fn load_user(&self, user_id: &str) -> Result<UserRow> {
        let mut conn = self.db.pool().acquire().await?;
        // The session check passed, so the account exists unless it was
        // deleted a moment ago.
        users::find_by_id(&mut conn, user_id)
            .await?
            .ok_or(Error::SessionRevoked("this account no longer exists"))
    }

    /// Checks the current password for a sensitive change, with the same
    /// lockout as login (a stolen access token must not become a password
    /// oracle).
    async fn confirm_password(
        &self,
        user: &UserRow,
        candidate: Option<&SecretString>,
        origin: &Origin,
    ) -> Result<()> {
        let candidate = candidate.ok_or(Error::CurrentPasswordRequired)?;
        let subject = throttle::subject(Some(&user.id), "");
        {
            let mut conn = self.db.pool().acquire().await?;
            self.check_not_locked(&mut conn, &subject, CHANGE_LOCKED)
                .await?;
        }
        if self
            .hasher
            .verify(candidate, Some(&user.password_hash))
            .await?
        {
            return Ok(());
        }
        self.record_failed_login(&subject, Some(&user.id), origin.ip.as_deref())
            .await?;
        Err(Error::InvalidCurrentPassword)
    }

    /// The caller's profile.
    pub async fn profile(&self, caller: &Caller) -> Result<UserProfile> {
        Ok(UserProfile::from(&self.load_user(&caller.user_id).await?))
    }

    /// Replaces the caller's preferences (already checked against the
    /// catalog by the caller: `Preferences::check`).
    pub async fn set_preferences(
        &self,
        caller: &Caller,
        preferences: &Preferences,
    ) -> Result<UserProfile> {
        let json = serde_json::to_string(preferences)
            .map_err(|e| anyhow::anyhow!("preferences do not serialise: {e}"))?;
        let mut tx = self.db.begin_write().await?;
        users::update_preferences(&mut tx, &caller.user_id, &json, now_ms()).await?;
        let updated = users::find_by_id(&mut tx, &caller.user_id)
            .await?
            .ok_or(Error::SessionRevoked("this account no longer exists"))?;
        tx.commit().await?;
        Ok(UserProfile::from(&updated))
    }

    /// Changes username, email or password.
    pub async fn update_profile(
        &self,
        caller: &Caller,
        changes: ProfileChanges<'_>,
        origin: &Origin,
    ) -> Result<UserProfile> {
        let user = self.load_user(&caller.user_id).await?;
        let username = changes
            .username
            .map(Username::parse)
            .transpose()
            .map_err(Error::InvalidUsername)?
            .filter(|name| name.as_str() != user.username);
        let email = changes
            .email
            .map(Email::parse)
            .transpose()
            .map_err(Error::InvalidEmail)?
            .filter(|email| email.as_str() != user.email);
        let effective_username = match &username {
            Some(name) => name.clone(),
            None => Username::parse(&user.username)
                .map_err(|m| anyhow::anyhow!("stored username is invalid: {m}"))?,
        };
        let new_password = changes
            .new_password
            .map(|p| Password::parse(p.expose_secret(), &effective_username))
            .transpose()
            .map_err(|e| Error::InvalidPassword(e.message()))?;
        if email.is_some() || new_password.is_some() {
            self.confirm_password(&user, changes.current_password, origin)
                .await?;
        }
        let new_hash = match &new_password {
            Some(password) => Some(self.hasher.hash(password).await?),
            None => None,
        };

        let now = now_ms();
        let ip = origin.ip.as_deref();
        let mut tx = self.db.begin_write().await?;
        if let Some(name) = &username {
            users::update_username(&mut tx, &user.id, name.as_str(), now)
                .await
                .on_unique_violation("username", || Error::UsernameTaken)?;
            audit::record(
                &mut tx,
                AuditEvent::UsernameChanged,
                Some(&user.id),
                ip,
                None,
            )
            .await?;
        }
        if let Some(email) = &email {
            users::update_email(&mut tx, &user.id, email.as_str(), now)
                .await
                .on_unique_violation("email", || Error::EmailTaken)?;
            audit::record(&mut tx, AuditEvent::EmailChanged, Some(&user.id), ip, None).await?;
        }
        if email.is_some() || new_hash.is_some() {
            // A reset code mailed before must not outlive the change.
            account_tokens::invalidate_all(
                &mut tx,
                &user.id,
                account_tokens::Purpose::PasswordReset,
                now,
            )
            .await?;
        }
        if let Some(hash) = &new_hash {
            users::update_password_hash(&mut tx, &user.id, hash, now).await?;
            // Other devices must log in with the new password.
            sessions::revoke_all(
                &mut tx,
                &user.id,
                "password_changed",
                now,
                Some(&caller.session_id),
            )
            .await?;
            audit::record(
                &mut tx,
                AuditEvent::PasswordChanged,
                Some(&user.id),
                ip,
                None,
            )
            .await?;
        }
        let updated = users::find_by_id(&mut tx, &user.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("user vanished inside its own transaction"))?;
        tx.commit().await?;
        if let Some(new_email) = &email {
            // To the old address: the one an attacker cannot have changed.
            self.notify(
                &user.email,
                "your email address was changed",
                format!(
                    "The address of the pilot {} was changed to {}.\n\nIf this was not you, \
                     reset your password now and contact the station crew.\n",
                    user.username,
                    new_email.as_str()
                ),
            );
        }
        if new_hash.is_some() {
            self.notify(
                &updated.email,
                "your password was changed",
                format!(
                    "The password of the pilot {} was just changed, and every other device was \
                     signed out.\n\nIf this was not you, reset your password now.\n",
                    updated.username
                ),
            );
            self.announce(AccountEvent::all_sessions(
                &user.id,
                Some(&caller.session_id),
            ))
            .await;
        }
        if let Some(email) = email {
            self.issue_verification(&user.id, email).await?;
        }
        Ok(UserProfile::from(&updated))
    }

    /// Deletes the account and everything stored about it.
    pub async fn delete_account(
        &self,
        caller: &Caller,
        password: &SecretString,
        origin: &Origin,
    ) -> Result<()> {
        let user = self.load_user(&caller.user_id).await?;
        self.confirm_password(&user, Some(password), origin).await?;
        let mut tx = self.db.begin_write().await?;
        // The rooms the member leaves (memberships go with the account).
        let lobbies = db::lobbies::memberships(&mut tx, &user.id)
            .await?
            .into_iter()
            .map(|(code, _)| code)
            .collect();
        audit::anonymise_user(&mut tx, &user.id).await?;
        audit::record(
            &mut tx,
            AuditEvent::AccountDeleted,
            Some(&user.id),
            None,
            None,
        )
        .await?;
        db::outbox::delete_for_address(&mut tx, &user.email).await?;
        throttle::clear(&mut tx, &throttle::subject(Some(&user.id), "")).await?;
        // Its completed trades go with it: the audit must still accept the
        // partners' halves of their ledger entries.
        db::trades::retire_for_user(&mut tx, &user.id, now_ms()).await?;
        // sessions, refresh tokens and mail tokens go by ON DELETE CASCADE
        users::delete(&mut tx, &user.id).await?;
        tx.commit().await?;
        self.announce(AccountEvent::AccountDeleted {
            user_id: user.id.clone(),
            username: user.username.clone(),
            lobbies,
        })
        .await;
        Ok(())
    }

    /// Live sessions (devices) of the caller.
    pub async fn live_sessions(&self, caller: &Caller) -> Result<Vec<SessionView>> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(sessions::list_active(&mut conn, &caller.user_id, now_ms())
            .await?
            .into_iter()
            .map(|s| SessionView {
                current: s.id == caller.session_id,
                id: s.id,
                user_agent: s.user_agent,
                ip: s.ip,
                created_at: rfc3339(s.created_at),
                last_used_at: rfc3339(s.last_used_at),
                expires_at: rfc3339(s.expires_at),
            })
            .collect())
    }

    /// Ends one session of the caller (e.g. a lost device).
    pub async fn revoke_session(&self, caller: &Caller, id: &str, origin: &Origin) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        if !sessions::revoke(&mut tx, id, &caller.user_id, "revoked", now_ms()).await? {
            return Err(Error::SessionNotFound);
        }
        audit::record(
            &mut tx,
            AuditEvent::SessionRevoked,
            Some(&caller.user_id),
            origin.ip.as_deref(),
            Some(json!({ "session_id": id })),
        )
        .await?;
        tx.commit().await?;
        self.announce(AccountEvent::one_session(&caller.user_id, id))
            .await;
        Ok(())
    }
}

/// The account's part of the data export (user, sessions, mail tokens,
/// lockout counter, audit log), read in the caller's transaction. New
/// tables holding account data add a section here; the game adds its own
/// (`crate::economy::export`).
pub async fn export_sections(conn: &mut db::Conn, user_id: &str) -> Result<Value> {
    let user = users::find_by_id(conn, user_id)
        .await?
        .ok_or(Error::UserNotFound)?;
    let sessions: Vec<_> = sessions::list_all(conn, user_id)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id, "user_agent": s.user_agent, "ip": s.ip,
                "created_at": rfc3339(s.created_at), "last_used_at": rfc3339(s.last_used_at),
                "expires_at": rfc3339(s.expires_at),
                "revoked_at": s.revoked_at.map(rfc3339), "revoked_reason": s.revoked_reason,
            })
        })
        .collect();
    let audit: Vec<_> = audit::list_for_user(conn, user_id)
        .await?
        .into_iter()
        .map(|a| {
            json!({
                "event": a.event, "at": rfc3339(a.occurred_at), "ip": a.ip,
                "detail": a.detail.and_then(|d| serde_json::from_str::<Value>(&d).ok()),
            })
        })
        .collect();
    let mail_tokens: Vec<_> = account_tokens::list_for_user(conn, user_id)
        .await?
        .into_iter()
        .map(|(purpose, created, expires, used)| {
            json!({"purpose": purpose, "created_at": rfc3339(created),
                   "expires_at": rfc3339(expires), "used_at": used.map(rfc3339)})
        })
        .collect();
    let throttle = throttle::find(conn, &throttle::subject(Some(user_id), "")).await?;
    let providers: Vec<_> = db::oauth::links_of(conn, user_id)
        .await?
        .into_iter()
        .map(|link| {
            json!({"provider": link.provider, "subject": link.subject,
                   "linked_at": rfc3339(link.created_at)})
        })
        .collect();
    Ok(json!({
        "exported_at": rfc3339(now_ms()),
        "user": {
            "id": user.id, "email": user.email, "username": user.username,
            "email_verified_at": user.email_verified_at.map(rfc3339),
            "created_at": rfc3339(user.created_at), "updated_at": rfc3339(user.updated_at),
            "preferences": stored_preferences(&user),
        },
        "sessions": sessions,
        "linked_providers": providers,
        "mail_tokens": mail_tokens,
        "login_throttle": throttle.map(|(failures, until)| json!({
            "failures": failures, "locked_until": until.map(rfc3339)
        })),
        "audit_log": audit,
    }))
}
