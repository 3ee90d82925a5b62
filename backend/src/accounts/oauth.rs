//! Signing in through a provider (see `game::api::oauth` for the whole flow).
//!
//! What the backend keeps, all in the database so any replica can take any
//! step: the started flow (our `state` hashed, the provider-side PKCE
//! verifier and nonce, the game's loopback address, `state` and PKCE
//! challenge), then the checked identity as a one-time code for the game
//! (bound to the game's challenge) or as a ticket for the step still
//! missing. Each is single use and short-lived; the retention job removes
//! what was left.
//!
//! Accounts: a linked identity signs in to its account. An unknown one with
//! a confirmed address nobody uses creates a pilot (no password; the
//! provider's name as username when it is valid and free, else the player
//! chooses one). An address that belongs to an account links only after
//! that account's password (under the login lockout) or, from the account
//! screen, a signed-in session proves it.

use game::api::oauth::{
    self as wire, CODE_TTL_SECS, FLOW_TTL_SECS, LinkedProvider, LinkedProviders, OAuthOutcome,
    OAuthStatus, StartQuery,
};
use secrecy::SecretString;
use subtle::ConstantTimeEq as _;

use super::error::{Error, Result, ResultExt as _};
use super::providers::{ProviderFailure, ProviderIdentity};
use super::service::{Accounts, Caller, Origin, TokenPair};
use crate::auth::password::NO_PASSWORD;
use crate::auth::tokens::{hash_token, new_opaque_token, random_token};
use crate::clock::{now_ms, rfc3339};
use crate::db::audit::{self, AuditEvent};
use crate::db::oauth::{self, GRANT_CODE, GRANT_TICKET, NewFlow, NewGrant};
use crate::db::{self, moderation, users};
use crate::domain::{Email, Username};

/// Where the browser goes after the provider's redirect.
#[derive(Debug, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// On to the game's loopback listener (`code` + `state`, or `error`).
    Redirect(String),
    /// No flow to go back to (missing, wrong or used `state`): a page that
    /// says so.
    Page { status: u16, message: &'static str },
}

/// The callback's query, every field untrusted.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackQuery {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl Accounts {
    /// The configured providers and whether each answers now.
    pub async fn providers(&self) -> Vec<wire::ProviderInfo> {
        self.providers.list().await
    }

    /// Starts a sign-in: remembers the game's side and answers the
    /// provider's authorization URL for the browser.
    pub async fn oauth_start(&self, provider: &str, query: &StartQuery) -> Result<String> {
        if !self.providers.is_configured(provider) {
            return Err(Error::UnknownProvider);
        }
        if !wire::is_loopback_redirect(&query.redirect_uri) {
            return Err(Error::InvalidOAuthRequest(
                "redirect_uri must be http://127.0.0.1:<port>/callback (the game's loopback listener)",
            ));
        }
        if !wire::is_token_param(&query.state) {
            return Err(Error::InvalidOAuthRequest("state is missing or malformed"));
        }
        if query.code_challenge_method != wire::CHALLENGE_METHOD_S256
            || query.code_challenge.len() != 43
            || !wire::is_token_param(&query.code_challenge)
        {
            return Err(Error::InvalidOAuthRequest(
                "code_challenge must be an S256 PKCE challenge (RFC 7636)",
            ));
        }
        let state = new_opaque_token();
        let nonce = new_opaque_token();
        // 32 random bytes, base64url: 43 characters, a valid RFC 7636 verifier.
        let verifier = random_token(32);
        let url = self
            .providers
            .authorize_url(provider, &state, &nonce, &verifier)
            .await
            .map_err(|_| Error::ProviderUnavailable)?;
        let now = now_ms();
        let mut conn = self.db.pool().acquire().await?;
        oauth::insert_flow(
            &mut conn,
            &NewFlow {
                state_hash: &hash_token(&state),
                provider,
                pkce_verifier: &verifier,
                nonce: &nonce,
                redirect_uri: &query.redirect_uri,
                client_state: &query.state,
                client_challenge: &query.code_challenge,
                now,
                expires_at: now + secs_ms(FLOW_TTL_SECS),
            },
        )
        .await?;
        self.metrics.auth_event("provider_sign_in_started");
        Ok(url)
    }

    /// The provider's redirect: checks it and sends the browser on to the
    /// game with a one-time code, or with an error in words.
    pub async fn oauth_callback(
        &self,
        provider: &str,
        query: &CallbackQuery,
    ) -> Result<CallbackOutcome> {
        if !self.providers.is_configured(provider) {
            return Err(Error::UnknownProvider);
        }
        let Some(state) = query.state.as_deref().filter(|s| wire::is_token_param(s)) else {
            return Ok(CallbackOutcome::Page {
                status: 400,
                message: "This sign-in link is missing its state: start again from the game.",
            });
        };
        let now = now_ms();
        let flow = {
            let mut conn = self.db.pool().acquire().await?;
            oauth::take_flow(&mut conn, &hash_token(state), provider, now).await?
        };
        let Some(flow) = flow else {
            self.metrics.auth_event("provider_sign_in_bad_state");
            return Ok(CallbackOutcome::Page {
                status: 400,
                message: "This sign-in link is unknown, already used or expired: start again from the game.",
            });
        };
        let back = |params: &[(&str, &str)]| {
            CallbackOutcome::Redirect(loopback_url(&flow.redirect_uri, params, &flow.client_state))
        };
        if let Some(error) = query.error.as_deref() {
            self.metrics.auth_event("provider_sign_in_refused");
            return Ok(if error == "access_denied" {
                back(&[
                    ("error", game::codes::OAUTH_DENIED),
                    (
                        "error_description",
                        "You declined the sign-in at the provider.",
                    ),
                ])
            } else {
                back(&[
                    ("error", game::codes::OAUTH_FAILED),
                    (
                        "error_description",
                        "The provider could not sign you in. Try again.",
                    ),
                ])
            });
        }
        let Some(code) = query
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 2048)
        else {
            return Ok(back(&[
                ("error", game::codes::OAUTH_FAILED),
                ("error_description", "The provider sent no sign-in code."),
            ]));
        };
        let identity = match self
            .providers
            .identity(provider, code, &flow.pkce_verifier, &flow.nonce)
            .await
        {
            Ok(identity) => identity,
            Err(ProviderFailure::Unavailable) => {
                self.metrics.auth_event("provider_sign_in_unavailable");
                return Ok(back(&[
                    ("error", game::codes::PROVIDER_UNAVAILABLE),
                    (
                        "error_description",
                        "The provider cannot be reached right now. Try again later.",
                    ),
                ]));
            }
            Err(ProviderFailure::Rejected(why)) => {
                tracing::warn!(provider, why, "provider answer refused");
                self.metrics.auth_event("provider_sign_in_rejected");
                return Ok(back(&[
                    ("error", game::codes::OAUTH_FAILED),
                    ("error_description", why),
                ]));
            }
        };
        let code = new_opaque_token();
        let mut conn = self.db.pool().acquire().await?;
        oauth::insert_grant(
            &mut conn,
            &NewGrant {
                token_hash: &hash_token(&code),
                kind: GRANT_CODE,
                provider,
                subject: &identity.subject,
                email: identity.email.as_deref(),
                email_verified: identity.email_verified,
                name: identity.name.as_deref(),
                client_challenge: Some(&flow.client_challenge),
                user_id: None,
                now,
                expires_at: now + secs_ms(CODE_TTL_SECS),
            },
        )
        .await?;
        Ok(back(&[("code", &code)]))
    }

    /// The game trades its loopback code (with its PKCE verifier) for the
    /// outcome. With `caller`, the identity is linked to the caller's account.
    pub async fn oauth_exchange(
        &self,
        code: &str,
        code_verifier: &str,
        caller: Option<&Caller>,
        origin: &Origin,
    ) -> Result<OAuthOutcome> {
        if !wire::is_token_param(code) || !wire::is_verifier(code_verifier) {
            return Err(Error::InvalidOAuthCode);
        }
        let now = now_ms();
        let grant = {
            let mut conn = self.db.pool().acquire().await?;
            oauth::take_grant(&mut conn, &hash_token(code), GRANT_CODE, now).await?
        }
        .ok_or(Error::InvalidOAuthCode)?;
        // RFC 7636 §4.6: only the game that started the flow can finish it.
        let challenge = wire::challenge_s256(code_verifier);
        let expected = grant.client_challenge.clone().unwrap_or_default();
        if !bool::from(challenge.as_bytes().ct_eq(expected.as_bytes())) {
            self.metrics.auth_event("provider_sign_in_bad_verifier");
            return Err(Error::InvalidOAuthCode);
        }
        let identity = ProviderIdentity {
            subject: grant.subject,
            email: grant.email,
            email_verified: grant.email_verified != 0,
            name: grant.name,
        };
        match caller {
            Some(caller) => self.link(&grant.provider, &identity, caller, origin).await,
            None => self.sign_in(&grant.provider, &identity, origin).await,
        }
    }

    /// The missing step of a sign-in: a username for a new pilot, or the
    /// password of the account that owns the provider's address.
    pub async fn oauth_finish(
        &self,
        ticket: &str,
        username: Option<&str>,
        password: Option<&SecretString>,
        origin: &Origin,
    ) -> Result<OAuthOutcome> {
        if !wire::is_token_param(ticket) {
            return Err(Error::InvalidOAuthTicket);
        }
        let ticket_hash = hash_token(ticket);
        let grant = {
            let mut conn = self.db.pool().acquire().await?;
            oauth::find_grant(&mut conn, &ticket_hash, GRANT_TICKET, now_ms()).await?
        }
        .ok_or(Error::InvalidOAuthTicket)?;
        let identity = ProviderIdentity {
            subject: grant.subject.clone(),
            email: grant.email.clone(),
            email_verified: grant.email_verified != 0,
            name: grant.name.clone(),
        };
        match (&grant.user_id, username, password) {
            (Some(owner_id), _, Some(password)) => {
                // The owner's address as the login: the lockout counts it
                // like a sign-in with that address.
                let owner = {
                    let mut conn = self.db.pool().acquire().await?;
                    users::find_by_id(&mut conn, owner_id).await?
                }
                .ok_or(Error::InvalidOAuthTicket)?;
                let (user, subject) = self
                    .check_credentials(&owner.email, password, origin)
                    .await?;
                if user.id != *owner_id {
                    return Err(Error::InvalidCredentials);
                }
                let mut tx = self.db.begin_write().await?;
                if oauth::take_grant(&mut tx, &ticket_hash, GRANT_TICKET, now_ms())
                    .await?
                    .is_none()
                {
                    return Err(Error::InvalidOAuthTicket);
                }
                crate::db::throttle::clear(&mut tx, &subject).await?;
                self.insert_link(&mut tx, &grant.provider, &identity, &user.id, origin)
                    .await?;
                // The provider vouches for the address the account has.
                users::mark_email_verified(&mut tx, &user.id, &user.email, now_ms()).await?;
                let tokens = self
                    .signed_in_session(&mut tx, &user.id, &grant.provider, origin)
                    .await?;
                tx.commit().await?;
                Ok(signed_in(&grant.provider, tokens))
            }
            (None, Some(username), _) => {
                let username = Username::parse(username).map_err(Error::InvalidUsername)?;
                let mut tx = self.db.begin_write().await?;
                if oauth::take_grant(&mut tx, &ticket_hash, GRANT_TICKET, now_ms())
                    .await?
                    .is_none()
                {
                    return Err(Error::InvalidOAuthTicket);
                }
                let (user_id, tokens) = self
                    .create_pilot(&mut tx, &grant.provider, &identity, &username, origin)
                    .await?;
                tx.commit().await?;
                tracing::info!(%user_id, provider = %grant.provider, "pilot created through a provider");
                Ok(signed_in(&grant.provider, tokens))
            }
            (Some(_), _, None) => Err(Error::InvalidOAuthRequest(
                "this step needs the existing account's password",
            )),
            (None, None, _) => Err(Error::InvalidOAuthRequest("this step needs a username")),
        }
    }

    /// The providers linked to the caller.
    pub async fn linked_providers(&self, caller: &Caller) -> Result<LinkedProviders> {
        let mut conn = self.db.pool().acquire().await?;
        let user = users::find_by_id(&mut conn, &caller.user_id)
            .await?
            .ok_or(Error::UserNotFound)?;
        let linked = oauth::links_of(&mut conn, &caller.user_id)
            .await?
            .into_iter()
            .map(|link| LinkedProvider {
                provider: link.provider,
                linked_at: rfc3339(link.created_at),
            })
            .collect();
        Ok(LinkedProviders {
            linked,
            has_password: user.password_hash != NO_PASSWORD,
        })
    }

    /// Unlinks a provider, as long as a way to sign in remains.
    pub async fn unlink_provider(
        &self,
        caller: &Caller,
        provider: &str,
        origin: &Origin,
    ) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        let user = users::find_by_id(&mut tx, &caller.user_id)
            .await?
            .ok_or(Error::UserNotFound)?;
        let links = oauth::links_of(&mut tx, &caller.user_id).await?;
        if !links.iter().any(|link| link.provider == provider) {
            return Err(Error::OAuthNotLinked);
        }
        if user.password_hash == NO_PASSWORD && links.len() == 1 {
            return Err(Error::LastSignInMethod);
        }
        oauth::delete_link(&mut tx, &caller.user_id, provider).await?;
        audit::record(
            &mut tx,
            AuditEvent::ProviderUnlinked,
            Some(&caller.user_id),
            origin.ip.as_deref(),
            Some(serde_json::json!({ "provider": provider })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn sign_in(
        &self,
        provider: &str,
        identity: &ProviderIdentity,
        origin: &Origin,
    ) -> Result<OAuthOutcome> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        if let Some(link) = oauth::find_link(&mut tx, provider, &identity.subject).await? {
            let tokens = self
                .signed_in_session(&mut tx, &link.user_id, provider, origin)
                .await?;
            tx.commit().await?;
            return Ok(signed_in(provider, tokens));
        }
        let email = match (&identity.email, identity.email_verified) {
            (Some(email), true) => Email::parse(email).map_err(|_| Error::OAuthEmailRequired)?,
            _ => return Err(Error::OAuthEmailRequired),
        };
        if let Some(owner) = users::find_by_login(&mut tx, email.as_str()).await? {
            // The address is the owner's: linking needs the owner's proof.
            let ticket = self
                .ticket(&mut tx, provider, identity, Some(&owner.id), now)
                .await?;
            tx.commit().await?;
            return Ok(OAuthOutcome {
                status: OAuthStatus::ProveAccount,
                provider: provider.to_owned(),
                tokens: None,
                ticket: Some(ticket),
                username: Some(owner.username),
            });
        }
        let suggestion = identity
            .name
            .as_deref()
            .and_then(|name| Username::parse(name).ok());
        if let Some(username) = suggestion
            && users::find_by_login(&mut tx, username.as_str())
                .await?
                .is_none()
        {
            let (_, tokens) = self
                .create_pilot(&mut tx, provider, identity, &username, origin)
                .await?;
            tx.commit().await?;
            return Ok(signed_in(provider, tokens));
        }
        let ticket = self.ticket(&mut tx, provider, identity, None, now).await?;
        tx.commit().await?;
        Ok(OAuthOutcome {
            status: OAuthStatus::ChooseUsername,
            provider: provider.to_owned(),
            tokens: None,
            ticket: Some(ticket),
            username: identity.name.as_deref().map(suggest_username),
        })
    }

    async fn link(
        &self,
        provider: &str,
        identity: &ProviderIdentity,
        caller: &Caller,
        origin: &Origin,
    ) -> Result<OAuthOutcome> {
        let mut tx = self.db.begin_write().await?;
        if !crate::db::sessions::is_active(&mut tx, &caller.session_id, &caller.user_id, now_ms())
            .await?
        {
            return Err(Error::SessionRevoked(
                "this session has ended: sign in again",
            ));
        }
        match oauth::find_link(&mut tx, provider, &identity.subject).await? {
            Some(link) if link.user_id == caller.user_id => {}
            Some(_) => return Err(Error::OAuthIdentityTaken),
            None => {
                if oauth::links_of(&mut tx, &caller.user_id)
                    .await?
                    .iter()
                    .any(|link| link.provider == provider)
                {
                    return Err(Error::OAuthAlreadyLinked);
                }
                self.insert_link(&mut tx, provider, identity, &caller.user_id, origin)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(OAuthOutcome {
            status: OAuthStatus::Linked,
            provider: provider.to_owned(),
            tokens: None,
            ticket: None,
            username: None,
        })
    }

    async fn insert_link(
        &self,
        tx: &mut db::Tx,
        provider: &str,
        identity: &ProviderIdentity,
        user_id: &str,
        origin: &Origin,
    ) -> Result<()> {
        oauth::insert_link(
            tx,
            provider,
            &identity.subject,
            user_id,
            identity.email.as_deref(),
            now_ms(),
        )
        .await
        .on_unique_violation("user_id", || Error::OAuthAlreadyLinked)
        .on_unique_violation("oauth_accounts", || Error::OAuthIdentityTaken)?;
        audit::record(
            tx,
            AuditEvent::ProviderLinked,
            Some(user_id),
            origin.ip.as_deref(),
            Some(serde_json::json!({ "provider": provider })),
        )
        .await?;
        Ok(())
    }

    /// A new pilot with the provider's confirmed address, no password, and
    /// the link; signed in.
    async fn create_pilot(
        &self,
        tx: &mut db::Tx,
        provider: &str,
        identity: &ProviderIdentity,
        username: &Username,
        origin: &Origin,
    ) -> Result<(String, TokenPair)> {
        let email = match (&identity.email, identity.email_verified) {
            (Some(email), true) => Email::parse(email).map_err(|_| Error::OAuthEmailRequired)?,
            _ => return Err(Error::OAuthEmailRequired),
        };
        let user_id = db::new_id();
        let now = now_ms();
        if users::find_by_login(tx, username.as_str()).await?.is_some() {
            return Err(Error::UsernameTaken);
        }
        users::insert(
            tx,
            &user_id,
            email.as_str(),
            username.as_str(),
            NO_PASSWORD,
            now,
        )
        .await
        .on_unique_violation("email", || Error::EmailTaken)
        .on_unique_violation("username", || Error::UsernameTaken)?;
        users::mark_email_verified(tx, &user_id, email.as_str(), now).await?;
        audit::record(
            tx,
            AuditEvent::Registered,
            Some(&user_id),
            origin.ip.as_deref(),
            Some(serde_json::json!({ "provider": provider })),
        )
        .await?;
        self.insert_link(tx, provider, identity, &user_id, origin)
            .await?;
        self.metrics.auth_event("registered");
        let tokens = self
            .signed_in_session(tx, &user_id, provider, origin)
            .await?;
        Ok((user_id, tokens))
    }

    /// A session for `user_id` after a provider vouched for them: the same
    /// refusals as a password login (suspension, unconfirmed address when
    /// confirmation is required) and the same tokens.
    async fn signed_in_session(
        &self,
        tx: &mut db::Tx,
        user_id: &str,
        provider: &str,
        origin: &Origin,
    ) -> Result<TokenPair> {
        let user = users::find_by_id(tx, user_id)
            .await?
            .ok_or(Error::UserNotFound)?;
        if self.config.auth.require_email_verification && user.email_verified_at.is_none() {
            return Err(Error::EmailNotVerified);
        }
        if let Some(row) = moderation::find(tx, user_id).await?
            && let Some(until) = row.suspension_at(now_ms())
        {
            self.metrics.auth_event("login_rejected_suspended");
            return Err(Error::Suspended {
                until: until.map(rfc3339),
            });
        }
        let tokens = self.start_session(tx, user_id, origin).await?;
        audit::record(
            tx,
            AuditEvent::ProviderSignIn,
            Some(user_id),
            origin.ip.as_deref(),
            Some(serde_json::json!({ "provider": provider })),
        )
        .await?;
        self.metrics.auth_event("provider_sign_in_succeeded");
        Ok(tokens)
    }

    async fn ticket(
        &self,
        tx: &mut db::Tx,
        provider: &str,
        identity: &ProviderIdentity,
        owner: Option<&str>,
        now: i64,
    ) -> Result<String> {
        let ticket = new_opaque_token();
        oauth::insert_grant(
            tx,
            &NewGrant {
                token_hash: &hash_token(&ticket),
                kind: GRANT_TICKET,
                provider,
                subject: &identity.subject,
                email: identity.email.as_deref(),
                email_verified: identity.email_verified,
                name: identity.name.as_deref(),
                client_challenge: None,
                user_id: owner,
                now,
                expires_at: now + secs_ms(FLOW_TTL_SECS),
            },
        )
        .await?;
        Ok(ticket)
    }
}

fn signed_in(provider: &str, tokens: TokenPair) -> OAuthOutcome {
    OAuthOutcome {
        status: OAuthStatus::SignedIn,
        provider: provider.to_owned(),
        tokens: Some(game::api::TokenResponse {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            token_type: game::api::TOKEN_TYPE_BEARER.to_owned(),
            expires_in: tokens.expires_in,
        }),
        ticket: None,
        username: None,
    }
}

fn secs_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// A username-shaped suggestion from a provider's display name: the allowed
/// characters, at most 24 of them.
fn suggest_username(name: &str) -> String {
    name.chars()
        .map(|c| if c == ' ' || c == '.' { '_' } else { c })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(24)
        .collect()
}

/// The game's loopback address (checked at the start: no query of its own)
/// with `params` and the game's `state`, form-encoded.
fn loopback_url(redirect_uri: &str, params: &[(&str, &str)], state: &str) -> String {
    let query = openidconnect::url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .append_pair("state", state)
        .finish();
    format!("{redirect_uri}?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_keep_the_allowed_characters() {
        assert_eq!(suggest_username("Ada Lovelace"), "Ada_Lovelace");
        assert_eq!(suggest_username("zoë.k!"), "zo_k");
        assert_eq!(suggest_username(&"x".repeat(40)).len(), 24);
    }

    #[test]
    fn the_query_back_to_the_game_is_encoded() {
        assert_eq!(
            loopback_url(
                "http://127.0.0.1:9/callback",
                &[("error_description", "a b&c=d")],
                "s"
            ),
            "http://127.0.0.1:9/callback?error_description=a+b%26c%3Dd&state=s"
        );
    }
}
