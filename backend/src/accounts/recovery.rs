//! Mailed codes: password reset and email verification.

use secrecy::{ExposeSecret as _, SecretString};

use super::error::{Error, Result, ResultExt as _};
use super::events::AccountEvent;
use super::service::{Accounts, Origin};
use super::sessions::MAX_TOKEN_LEN;
use crate::auth::tokens::{hash_token, new_opaque_token};
use crate::clock::{duration_ms, now_ms};
use crate::db::account_tokens::{self, Purpose, TokenState};
use crate::db::audit::{self, AuditEvent};
use crate::db::{sessions, throttle, users};
use crate::domain::{Email, Password, Username};
use crate::mail::OutgoingMail;

const RESET_CODE_INVALID: &str = "the reset code is not valid (any more)";
const VERIFICATION_CODE_INVALID: &str = "the verification code is not valid (any more)";

/// The words of a refused code: unknown, used or expired (the code stays
/// `invalid_or_expired_token`; the message tells the player which).
fn refused_code(state: TokenState, what: &'static str) -> &'static str {
    match (state, what) {
        (TokenState::Used, "reset") => "this reset code was used already; ask for a new one",
        (TokenState::Expired, "reset") => "this reset code has expired; ask for a new one",
        (TokenState::Unknown | TokenState::Usable, "reset") => {
            "this is not a reset code the station sent; check it and try again"
        }
        (TokenState::Used, _) => "this verification code was used already",
        (TokenState::Expired, _) => "this verification code has expired; ask for a new one",
        (TokenState::Unknown | TokenState::Usable, _) => {
            "this is not a verification code the station sent; check it and try again"
        }
    }
}

impl Accounts {
    /// Mails a password-reset code if the address has an account; says
    /// nothing either way, and answers at once either way: the look-up, the
    /// code and the mail happen off the request path, so the answer takes
    /// the same time whether the address exists or not.
    pub async fn request_password_reset(&self, email: &str, origin: &Origin) -> Result<()> {
        let Ok(email) = Email::parse(email) else {
            return Ok(());
        };
        let accounts = self.clone();
        let origin = origin.clone();
        let span = tracing::Span::current();
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                if let Err(error) = accounts.issue_password_reset(email, &origin).await {
                    tracing::error!(error = %error, "password reset request failed");
                }
            },
            span,
        ));
        Ok(())
    }

    async fn issue_password_reset(&self, email: Email, origin: &Origin) -> Result<()> {
        let user = {
            let mut conn = self.db.pool().acquire().await?;
            users::find_by_login(&mut conn, email.as_str()).await?
        };
        let Some(user) = user else {
            return Ok(());
        };
        let token = new_opaque_token();
        let now = now_ms();
        let ttl = self.config.auth.password_reset_ttl;
        let mut tx = self.db.begin_write().await?;
        // Only the newest code works.
        account_tokens::invalidate_all(&mut tx, &user.id, Purpose::PasswordReset, now).await?;
        account_tokens::insert(
            &mut tx,
            &hash_token(&token),
            &user.id,
            Purpose::PasswordReset,
            &user.email,
            now,
            now + duration_ms(ttl),
        )
        .await?;
        audit::record(
            &mut tx,
            AuditEvent::PasswordResetRequested,
            Some(&user.id),
            origin.ip.as_deref(),
            None,
        )
        .await?;
        tx.commit().await?;

        let mail = OutgoingMail {
            to: email,
            subject: "Children of the Singularity: password reset".to_owned(),
            body: format!(
                "Someone (hopefully you) asked to reset the password of {}.\n\n\
                 Reset code: {token}\n\n\
                 In the game: on the login screen choose FORGOT PASSWORD, then I HAVE A CODE, \
                 and paste the code with your new password.\n\
                 The code works once and expires in {} minutes. If you did not ask, ignore this mail.\n",
                user.username,
                ttl.as_secs() / 60
            ),
        };
        self.send_later(mail, "password reset");
        Ok(())
    }

    /// Sets a new password with the mailed code; ends every session.
    pub async fn confirm_password_reset(
        &self,
        token: &str,
        new_password: &SecretString,
        origin: &Origin,
    ) -> Result<()> {
        let bad_token = || Error::InvalidOrExpiredToken(RESET_CODE_INVALID);
        let token = token.trim();
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(bad_token());
        }
        let token_hash = hash_token(token);
        // Find the account first (read-only) so the new password can be
        // checked and hashed before the write transaction.
        let user = {
            let mut conn = self.db.pool().acquire().await?;
            let owner = account_tokens::find_owner(
                &mut conn,
                &token_hash,
                Purpose::PasswordReset,
                now_ms(),
            )
            .await?;
            match owner {
                Some(id) => users::find_by_id(&mut conn, &id)
                    .await?
                    .ok_or_else(bad_token)?,
                None => {
                    let state = account_tokens::state(
                        &mut conn,
                        &token_hash,
                        Purpose::PasswordReset,
                        now_ms(),
                    )
                    .await?;
                    return Err(Error::InvalidOrExpiredToken(refused_code(state, "reset")));
                }
            }
        };
        let username = Username::parse(&user.username)
            .map_err(|m| anyhow::anyhow!("stored username is invalid: {m}"))?;
        let password = Password::parse(new_password.expose_secret(), &username)
            .map_err(|e| Error::InvalidPassword(e.message()))?;
        let hash = self.hasher.hash(&password).await?;

        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let Some((user_id, email)) =
            account_tokens::consume(&mut tx, &token_hash, Purpose::PasswordReset, now).await?
        else {
            return Err(bad_token());
        };
        users::update_password_hash(&mut tx, &user_id, &hash, now).await?;
        // The mail reached its owner, so the address is proven too.
        users::mark_email_verified(&mut tx, &user_id, &email, now).await?;
        sessions::revoke_all(&mut tx, &user_id, "password_reset", now, None).await?;
        account_tokens::invalidate_all(&mut tx, &user_id, Purpose::PasswordReset, now).await?;
        throttle::clear(&mut tx, &throttle::subject(Some(&user_id), "")).await?;
        audit::record(
            &mut tx,
            AuditEvent::PasswordReset,
            Some(&user_id),
            origin.ip.as_deref(),
            None,
        )
        .await?;
        tx.commit().await?;
        self.announce(AccountEvent::all_sessions(&user_id, None))
            .await;
        self.notify(
            &email,
            "your password was reset",
            format!(
                "The password of the pilot {} was just reset with a mailed code, and every \
                 device was signed out.\n\nIf this was not you, reset it again at once and \
                 check the address of your account.\n",
                user.username
            ),
        );
        Ok(())
    }

    /// Confirms the address with the code mailed at registration (or after
    /// an email change).
    pub async fn verify_email(&self, token: &str, origin: &Origin) -> Result<()> {
        let bad_token = || Error::InvalidOrExpiredToken(VERIFICATION_CODE_INVALID);
        let token = token.trim();
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(bad_token());
        }
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let token_hash = hash_token(token);
        let Some((user_id, email)) =
            account_tokens::consume(&mut tx, &token_hash, Purpose::VerifyEmail, now).await?
        else {
            let state =
                account_tokens::state(&mut tx, &token_hash, Purpose::VerifyEmail, now).await?;
            return Err(Error::InvalidOrExpiredToken(refused_code(state, "verify")));
        };
        if !users::mark_email_verified(&mut tx, &user_id, &email, now).await? {
            // the address changed since, or it was verified already
            return Err(bad_token());
        }
        // Using any other mailed code ends a pending reset code.
        account_tokens::invalidate_all(&mut tx, &user_id, Purpose::PasswordReset, now).await?;
        audit::record(
            &mut tx,
            AuditEvent::EmailVerified,
            Some(&user_id),
            origin.ip.as_deref(),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Mails a new verification code if the address has an unverified
    /// account; says nothing either way.
    pub async fn resend_verification(&self, email: &str) -> Result<()> {
        let Ok(email) = Email::parse(email) else {
            return Ok(());
        };
        let user = {
            let mut conn = self.db.pool().acquire().await?;
            users::find_by_login(&mut conn, email.as_str()).await?
        };
        let Some(user) = user.filter(|u| u.email_verified_at.is_none()) else {
            return Ok(());
        };
        self.issue_verification(&user.id, email).await
    }

    /// Moves an account whose address is not confirmed yet to another
    /// address and mails a new code there: for a player whose sign-in is
    /// refused until the address is confirmed, and who typed it wrong. The
    /// password proves the owner (under the login lockout); a confirmed
    /// address is changed from the account screen instead.
    pub async fn change_unverified_address(
        &self,
        login: &str,
        password: &SecretString,
        new_email: &str,
        origin: &Origin,
    ) -> Result<()> {
        let email = Email::parse(new_email).map_err(Error::InvalidEmail)?;
        let (user, subject) = self.check_credentials(login, password, origin).await?;
        if user.email_verified_at.is_some() {
            return Err(Error::AlreadyVerified);
        }
        let mut tx = self.db.begin_write().await?;
        throttle::clear(&mut tx, &subject).await?;
        if email.as_str() != user.email {
            // A taken address gets the same answer as a free one (as at
            // registration) and its owner a mail; nothing changes.
            if let Some(owner) = users::find_by_login(&mut tx, email.as_str()).await? {
                tx.commit().await?;
                self.notify(
                    &owner.email,
                    "someone tried to use your address",
                    format!(
                        "Someone tried to move another, unconfirmed account to this address, \
                         which already belongs to the pilot {}.\n\n\
                         Nothing changed and no action is needed.\n",
                        owner.username
                    ),
                );
                return Ok(());
            }
            users::update_email(&mut tx, &user.id, email.as_str(), now_ms())
                .await
                .on_unique_violation("email", || Error::EmailTaken)?;
            audit::record(
                &mut tx,
                AuditEvent::EmailChanged,
                Some(&user.id),
                origin.ip.as_deref(),
                None,
            )
            .await?;
        }
        tx.commit().await?;
        // Codes mailed to the old address end here.
        self.issue_verification(&user.id, email).await
    }
}
