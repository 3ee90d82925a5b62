//! [`Providers`]: talking to the sign-in providers (Google, Discord, any
//! OpenID Connect or OAuth 2.0 provider configured by `OAUTH_<NAME>_*`).
//!
//! OpenID Connect (the `openidconnect` crate): the discovery document and
//! JWKS are fetched and kept for [`METADATA_TTL`]; the authorization URL
//! carries our `state`, nonce and PKCE challenge; the code is exchanged with
//! its verifier (client secret by HTTP Basic) and the ID token is checked:
//! signature against the JWKS, issuer, audience, expiry, nonce, and the
//! access-token hash when present. Plain OAuth 2.0 (the `oauth2` crate, for
//! Discord): the same code exchange, then the user endpoint with the access
//! token.
//!
//! Nothing here logs or returns a code, token or secret: failures are
//! [`ProviderFailure`]s in words.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::reqwest;
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, TokenResponse as _,
};
use secrecy::ExposeSecret as _;

use crate::config::{OAuthConfig, ProviderConfig, ProviderEndpoints};

/// How long a provider's discovery document and keys are trusted before
/// they are fetched again (key rotation).
pub const METADATA_TTL: Duration = Duration::from_secs(600);
/// After a failed discovery, how long the provider counts as unavailable
/// before the next try.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(15);
/// Every request to a provider ends within this.
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);

/// What a provider said about the player, after every check passed.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// The provider's stable id of the player (`sub`, Discord's `id`).
    pub subject: String,
    pub email: Option<String>,
    /// The provider vouches for the address.
    pub email_verified: bool,
    /// A username to suggest (`preferred_username`, `username`, `name`).
    pub name: Option<String>,
}

/// Why a provider step failed, in words a player may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderFailure {
    /// Down, slow or answering nonsense.
    Unavailable,
    /// The provider's answer failed a check; the words say which.
    Rejected(&'static str),
}

struct Provider {
    config: ProviderConfig,
    redirect_uri: RedirectUrl,
    /// OpenID Connect only: the discovery document and when it was fetched,
    /// or when the last fetch failed.
    metadata: Mutex<Metadata>,
}

#[derive(Default)]
enum Metadata {
    #[default]
    Unknown,
    Known(Box<CoreProviderMetadata>, Instant),
    Failed(Instant),
}

/// Every configured provider. Cheap to share (`Arc`).
pub struct Providers {
    by_name: HashMap<String, Provider>,
    order: Vec<String>,
    http: reqwest::Client,
}

impl Providers {
    /// `public_base`: the backend as browsers reach it (`PUBLIC_URL`, or
    /// the listening address in development).
    pub fn new(config: &OAuthConfig, public_base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // A provider that redirects its token endpoint is not followed
            // (SSRF), and every call ends.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .connect_timeout(PROVIDER_TIMEOUT)
            .build()?;
        let mut by_name = HashMap::new();
        let mut order = Vec::new();
        for provider in &config.providers {
            let redirect_uri = RedirectUrl::new(format!(
                "{}{}",
                public_base.trim_end_matches('/'),
                game::api::oauth::callback_path(&provider.name)
            ))?;
            order.push(provider.name.clone());
            by_name.insert(
                provider.name.clone(),
                Provider {
                    config: provider.clone(),
                    redirect_uri,
                    metadata: Mutex::new(Metadata::Unknown),
                },
            );
        }
        Ok(Self {
            by_name,
            order,
            http,
        })
    }

    /// No provider at all.
    pub fn none() -> Self {
        Self {
            by_name: HashMap::new(),
            order: Vec::new(),
            http: reqwest::Client::new(),
        }
    }

    pub fn is_configured(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Every provider with its words and whether it answers now.
    pub async fn list(&self) -> Vec<game::api::oauth::ProviderInfo> {
        let mut out = Vec::with_capacity(self.order.len());
        for name in &self.order {
            let provider = &self.by_name[name];
            let available = match &provider.config.endpoints {
                ProviderEndpoints::OpenIdConnect { .. } => self.metadata(provider).await.is_ok(),
                ProviderEndpoints::OAuth2 { .. } => true,
            };
            out.push(game::api::oauth::ProviderInfo {
                name: name.clone(),
                display_name: provider.config.display_name.clone(),
                available,
            });
        }
        out
    }

    /// Where to send the browser: the provider's authorization endpoint with
    /// our `state`, `nonce` and PKCE challenge (from `pkce_verifier`).
    pub async fn authorize_url(
        &self,
        name: &str,
        state: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<String, ProviderFailure> {
        let provider = self.get(name)?;
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            pkce_verifier.into(),
        ));
        let scopes = provider
            .config
            .scopes
            .iter()
            .filter(|scope| scope.as_str() != "openid")
            .map(|scope| Scope::new(scope.clone()));
        let (state, nonce) = (state.to_owned(), nonce.to_owned());
        let url = match &provider.config.endpoints {
            ProviderEndpoints::OpenIdConnect { .. } => {
                let client = self.oidc_client(provider).await?;
                let (url, _, _) = client
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        move || CsrfToken::new(state),
                        move || Nonce::new(nonce),
                    )
                    .add_scopes(scopes)
                    .set_pkce_challenge(challenge)
                    .url();
                url
            }
            ProviderEndpoints::OAuth2 { .. } => {
                let client = oauth2_client(provider)?;
                let (url, _) = client
                    .authorize_url(move || CsrfToken::new(state))
                    .add_scopes(scopes)
                    .set_pkce_challenge(challenge)
                    .url();
                url
            }
        };
        Ok(url.to_string())
    }

    /// Exchanges the provider's `code` and checks what comes back.
    pub async fn identity(
        &self,
        name: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<ProviderIdentity, ProviderFailure> {
        let provider = self.get(name)?;
        let code = AuthorizationCode::new(code.to_owned());
        let verifier = PkceCodeVerifier::new(pkce_verifier.to_owned());
        match &provider.config.endpoints {
            ProviderEndpoints::OpenIdConnect { .. } => {
                let client = self.oidc_client(provider).await?;
                let request = client
                    .exchange_code(code)
                    .map_err(|_| ProviderFailure::Unavailable)?;
                let token = request
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(token_failure)?;
                let id_token = token
                    .id_token()
                    .ok_or(ProviderFailure::Rejected("the provider sent no ID token"))?;
                let verifier = client.id_token_verifier();
                let claims = id_token
                    .claims(&verifier, &Nonce::new(nonce.to_owned()))
                    .map_err(claims_failure)?;
                if let Some(expected) = claims.access_token_hash() {
                    let (Ok(alg), Ok(key)) =
                        (id_token.signing_alg(), id_token.signing_key(&verifier))
                    else {
                        return Err(ProviderFailure::Rejected(
                            "the ID token's signing key is not usable",
                        ));
                    };
                    let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
                        .map_err(|_| {
                            ProviderFailure::Rejected("the access token's hash cannot be checked")
                        })?;
                    if actual != *expected {
                        return Err(ProviderFailure::Rejected(
                            "the access token does not belong to the ID token",
                        ));
                    }
                }
                let name = claims
                    .preferred_username()
                    .map(|n| n.as_str().to_owned())
                    .or_else(|| {
                        claims
                            .name()
                            .and_then(|n| n.get(None))
                            .map(|n| n.as_str().to_owned())
                    });
                Ok(ProviderIdentity {
                    subject: claims.subject().as_str().to_owned(),
                    email: claims.email().map(|e| e.as_str().to_owned()),
                    email_verified: claims.email_verified() == Some(true),
                    name,
                })
            }
            ProviderEndpoints::OAuth2 { userinfo_url, .. } => {
                let client = oauth2_client(provider)?;
                let token = client
                    .exchange_code(code)
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(token_failure)?;
                let answer = self
                    .http
                    .get(userinfo_url)
                    .bearer_auth(token.access_token().secret())
                    .header(reqwest::header::ACCEPT, "application/json")
                    .send()
                    .await
                    .map_err(|_| ProviderFailure::Unavailable)?;
                if !answer.status().is_success() {
                    return Err(ProviderFailure::Rejected(
                        "the provider's user endpoint refused the access token",
                    ));
                }
                let bytes = answer
                    .bytes()
                    .await
                    .map_err(|_| ProviderFailure::Unavailable)?;
                let body: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
                    ProviderFailure::Rejected("the provider's user endpoint answered nonsense")
                })?;
                user_endpoint_identity(&body).ok_or(ProviderFailure::Rejected(
                    "the provider's user endpoint named nobody",
                ))
            }
        }
    }

    fn get(&self, name: &str) -> Result<&Provider, ProviderFailure> {
        self.by_name
            .get(name)
            .ok_or(ProviderFailure::Rejected("no such provider"))
    }

    async fn oidc_client(
        &self,
        provider: &Provider,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        ProviderFailure,
    > {
        let metadata = self.metadata(provider).await?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(provider.config.client_id.clone()),
            Some(ClientSecret::new(
                provider.config.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(provider.redirect_uri.clone()))
    }

    /// The discovery document: cached, fetched again after [`METADATA_TTL`],
    /// not retried for [`RETRY_AFTER_FAILURE`] after a failure.
    async fn metadata(&self, provider: &Provider) -> Result<CoreProviderMetadata, ProviderFailure> {
        let ProviderEndpoints::OpenIdConnect { issuer } = &provider.config.endpoints else {
            return Err(ProviderFailure::Unavailable);
        };
        {
            let cached = provider.metadata.lock().expect("metadata lock");
            match &*cached {
                Metadata::Known(metadata, at) if at.elapsed() < METADATA_TTL => {
                    return Ok((**metadata).clone());
                }
                Metadata::Failed(at) if at.elapsed() < RETRY_AFTER_FAILURE => {
                    return Err(ProviderFailure::Unavailable);
                }
                _ => {}
            }
        }
        let issuer_url =
            IssuerUrl::new(issuer.clone()).map_err(|_| ProviderFailure::Unavailable)?;
        let fetched = tokio::time::timeout(
            PROVIDER_TIMEOUT * 2,
            CoreProviderMetadata::discover_async(issuer_url, &self.http),
        )
        .await;
        let mut cached = provider.metadata.lock().expect("metadata lock");
        match fetched {
            Ok(Ok(metadata)) => {
                *cached = Metadata::Known(Box::new(metadata.clone()), Instant::now());
                Ok(metadata)
            }
            Ok(Err(error)) => {
                tracing::warn!(provider = %provider.config.name, %error, "provider discovery failed");
                *cached = Metadata::Failed(Instant::now());
                Err(ProviderFailure::Unavailable)
            }
            Err(_) => {
                tracing::warn!(provider = %provider.config.name, "provider discovery timed out");
                *cached = Metadata::Failed(Instant::now());
                Err(ProviderFailure::Unavailable)
            }
        }
    }
}

type OAuth2Client = oauth2::basic::BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn oauth2_client(provider: &Provider) -> Result<OAuth2Client, ProviderFailure> {
    let ProviderEndpoints::OAuth2 {
        auth_url,
        token_url,
        ..
    } = &provider.config.endpoints
    else {
        return Err(ProviderFailure::Unavailable);
    };
    let auth_url =
        oauth2::AuthUrl::new(auth_url.clone()).map_err(|_| ProviderFailure::Unavailable)?;
    let token_url =
        oauth2::TokenUrl::new(token_url.clone()).map_err(|_| ProviderFailure::Unavailable)?;
    Ok(
        oauth2::basic::BasicClient::new(oauth2::ClientId::new(provider.config.client_id.clone()))
            .set_client_secret(oauth2::ClientSecret::new(
                provider.config.client_secret.expose_secret().to_owned(),
            ))
            .set_auth_uri(auth_url)
            .set_token_uri(token_url)
            .set_redirect_uri(oauth2::RedirectUrl::from_url(
                provider.redirect_uri.url().clone(),
            )),
    )
}

/// A failed token request in words: the provider said no (a used or wrong
/// code, a wrong secret) or could not be asked.
fn token_failure<RE, T>(error: oauth2::RequestTokenError<RE, T>) -> ProviderFailure
where
    RE: std::error::Error + 'static,
    T: oauth2::ErrorResponse + 'static,
{
    match error {
        oauth2::RequestTokenError::ServerResponse(_) => {
            ProviderFailure::Rejected("the provider refused the sign-in code")
        }
        oauth2::RequestTokenError::Request(_) => ProviderFailure::Unavailable,
        oauth2::RequestTokenError::Parse(_, _) | oauth2::RequestTokenError::Other(_) => {
            ProviderFailure::Rejected("the provider's token answer is not understood")
        }
    }
}

fn claims_failure(error: ClaimsVerificationError) -> ProviderFailure {
    ProviderFailure::Rejected(match error {
        ClaimsVerificationError::Expired(_) => "the provider's ID token has expired",
        ClaimsVerificationError::InvalidAudience(_) => {
            "the provider's ID token was made for another application"
        }
        ClaimsVerificationError::InvalidIssuer(_) => "the ID token comes from another issuer",
        ClaimsVerificationError::InvalidNonce(_) => "the ID token belongs to another sign-in",
        ClaimsVerificationError::SignatureVerification(_) => {
            "the provider's ID token signature does not verify"
        }
        _ => "the provider's ID token failed a check",
    })
}

/// The identity in a user endpoint's answer: Discord's shape (`id`,
/// `username`, `global_name`, `email`, `verified`) or OpenID's (`sub`,
/// `preferred_username`, `name`, `email`, `email_verified`).
pub fn user_endpoint_identity(body: &serde_json::Value) -> Option<ProviderIdentity> {
    let text = |key: &str| {
        body.get(key).and_then(|v| match v {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let subject = text("id").or_else(|| text("sub"))?;
    let flag = |key: &str| body.get(key).and_then(serde_json::Value::as_bool);
    Some(ProviderIdentity {
        subject,
        email: text("email"),
        email_verified: flag("verified").or_else(|| flag("email_verified")) == Some(true),
        name: text("username")
            .or_else(|| text("preferred_username"))
            .or_else(|| text("global_name"))
            .or_else(|| text("name")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_endpoint_shapes() {
        let discord = user_endpoint_identity(&json!({
            "id": "80351110224678912", "username": "nelly", "global_name": "Nelly",
            "email": "nelly@example.org", "verified": true
        }))
        .unwrap();
        assert_eq!(discord.subject, "80351110224678912");
        assert_eq!(discord.name.as_deref(), Some("nelly"));
        assert!(discord.email_verified);
        let oidc = user_endpoint_identity(&json!({"sub": 42, "email": "a@b.c"})).unwrap();
        assert_eq!(oidc.subject, "42");
        assert!(!oidc.email_verified);
        assert!(user_endpoint_identity(&json!({"username": "x"})).is_none());
        assert!(user_endpoint_identity(&json!({"id": ""})).is_none());
    }
}
