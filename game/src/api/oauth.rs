//! Signing in through a provider (Google, Discord): the wire types and the
//! protocol constants both the backend and the game use.
//!
//! The flow, for a desktop game (RFC 8252, OAuth 2.0 for native apps):
//! 1. The game makes a PKCE pair (RFC 7636: a random `verifier`, its S256
//!    `challenge`) and a random `state`, listens on `127.0.0.1:<random port>`
//!    and opens the system browser at [`start_path`] with
//!    `redirect_uri=http://127.0.0.1:<port>/callback`, `state` and
//!    `code_challenge` ([`StartQuery`]).
//! 2. The backend remembers that and sends the browser to the provider (its
//!    own `state`, nonce and PKCE pair); the provider sends it back to
//!    [`callback_path`]; the backend checks everything the provider said
//!    (ID token signature, issuer, audience, expiry, nonce; or the user
//!    endpoint of a plain OAuth 2.0 provider) and sends the browser on to the
//!    game's loopback address with a one-time `code` and the game's `state`
//!    ([`LoopbackAnswer`]), or with `error` and `error_description`.
//! 3. The game posts the code with its PKCE verifier to [`EXCHANGE_PATH`]
//!    ([`ExchangeRequest`]) and receives an [`OAuthOutcome`]: signed in, or
//!    one more step ([`FINISH_PATH`]): choose a username, or prove the
//!    existing account that owns the provider's address.

use serde::{Deserialize, Serialize};

use super::TokenResponse;

/// `GET`: which providers this backend offers ([`ProvidersResponse`]).
pub const PROVIDERS_PATH: &str = "/api/v1/auth/providers";
/// `POST`: trade the loopback code for an [`OAuthOutcome`].
pub const EXCHANGE_PATH: &str = "/api/v1/auth/oauth/exchange";
/// `POST`: finish a sign-in that needs a username or a proof ([`FinishRequest`]).
pub const FINISH_PATH: &str = "/api/v1/auth/oauth/finish";
/// `GET` (authenticated): the providers linked to the caller ([`LinkedProviders`]).
pub const LINKED_PATH: &str = "/api/v1/me/oauth";
/// The loopback path the game listens on.
pub const LOOPBACK_PATH: &str = "/callback";
/// How long the game waits for the browser before it gives up, in seconds.
pub const LOOPBACK_TIMEOUT_SECS: u64 = 300;
/// How long a started flow, a loopback code and a ticket live, in seconds.
pub const FLOW_TTL_SECS: u64 = 600;
/// How long the one-time loopback code lives, in seconds.
pub const CODE_TTL_SECS: u64 = 120;
/// Longest `state`, `code`, `code_verifier`, `code_challenge` or ticket accepted.
pub const MAX_PARAM_LEN: usize = 256;
/// Shortest PKCE verifier (RFC 7636 §4.1).
pub const MIN_VERIFIER_LEN: usize = 43;
/// Longest PKCE verifier (RFC 7636 §4.1).
pub const MAX_VERIFIER_LEN: usize = 128;
/// The only PKCE method accepted.
pub const CHALLENGE_METHOD_S256: &str = "S256";

/// `GET` (browser): where the game sends the system browser.
pub fn start_path(provider: &str) -> String {
    format!("/api/v1/auth/oauth/{provider}/start")
}

/// `GET` (browser): where the provider sends the browser back.
pub fn callback_path(provider: &str) -> String {
    format!("/api/v1/auth/oauth/{provider}/callback")
}

/// `DELETE` (authenticated): unlink a provider from the caller.
pub fn unlink_path(provider: &str) -> String {
    format!("{LINKED_PATH}/{provider}")
}

/// Query of [`start_path`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartQuery {
    /// `http://127.0.0.1:<port>/callback` (or `[::1]`): loopback only.
    pub redirect_uri: String,
    /// The game's own `state`, given back on the loopback redirect.
    pub state: String,
    /// `BASE64URL(SHA256(verifier))`, no padding.
    pub code_challenge: String,
    /// Always [`CHALLENGE_METHOD_S256`].
    pub code_challenge_method: String,
}

/// Query of the loopback redirect: `code` + `state`, or `error` (+ words).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopbackAnswer {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    /// A code of [`crate::codes`] ([`crate::codes::OAUTH_DENIED`], ...).
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// One provider the backend offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// `google`, `discord`: the path segment of [`start_path`].
    pub name: String,
    /// The button's words (`Google`).
    pub display_name: String,
    /// False while the provider cannot be reached (its button says so).
    pub available: bool,
}

/// Answer of [`PROVIDERS_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvidersResponse {
    pub providers: Vec<ProviderInfo>,
}

/// Body of [`EXCHANGE_PATH`]. With `Authorization: Bearer`, the provider
/// identity is linked to the caller's account instead of signing in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRequest {
    pub code: String,
    pub code_verifier: String,
}

/// Body of [`FINISH_PATH`]: the ticket and what its step asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishRequest {
    pub ticket: String,
    /// For [`OAuthStatus::ChooseUsername`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// For [`OAuthStatus::ProveAccount`]: the existing account's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// Where a provider sign-in stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthStatus {
    /// Tokens are in the answer.
    SignedIn,
    /// The identity is now linked to the caller's account (no new tokens).
    Linked,
    /// New pilot: the provider's name is taken or not a valid username.
    ChooseUsername,
    /// The provider's confirmed address belongs to an account: its password
    /// links the provider to it.
    ProveAccount,
}

/// Answer of [`EXCHANGE_PATH`] and [`FINISH_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthOutcome {
    pub status: OAuthStatus,
    pub provider: String,
    /// With [`OAuthStatus::SignedIn`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenResponse>,
    /// With [`OAuthStatus::ChooseUsername`] and [`OAuthStatus::ProveAccount`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The suggested username, or the existing account's username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// One linked provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedProvider {
    pub provider: String,
    /// RFC 3339.
    pub linked_at: String,
}

/// Answer of [`LINKED_PATH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedProviders {
    pub linked: Vec<LinkedProvider>,
    /// Whether the account can also sign in with a password.
    pub has_password: bool,
}

/// Whether `uri` is a loopback redirect the backend will send a code to:
/// `http`, host `127.0.0.1` or `[::1]`, an explicit port, path
/// [`LOOPBACK_PATH`], no query, fragment or user info (RFC 8252 §7.3, §8.3).
pub fn is_loopback_redirect(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let Some((authority, path)) = rest.split_once('/') else {
        return false;
    };
    if format!("/{path}") != LOOPBACK_PATH {
        return false;
    }
    let port = if let Some(port) = authority.strip_prefix("127.0.0.1:") {
        port
    } else if let Some(port) = authority.strip_prefix("[::1]:") {
        port
    } else {
        return false;
    };
    !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p != 0)
}

/// Whether `value` is a plausible `state`, code, ticket or challenge: 1 to
/// [`MAX_PARAM_LEN`] characters of the URL-safe base64 / RFC 7636 unreserved set.
pub fn is_token_param(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_PARAM_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The S256 challenge of a PKCE verifier (RFC 7636 §4.2):
/// `BASE64URL-NOPAD(SHA256(verifier))`. The game sends it at the start; the
/// backend checks the verifier against it at the exchange.
pub fn challenge_s256(verifier: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// Whether `value` is a PKCE verifier RFC 7636 accepts.
pub fn is_verifier(value: &str) -> bool {
    (MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&value.len()) && is_token_param(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_callbacks_with_a_port_are_accepted() {
        assert!(is_loopback_redirect("http://127.0.0.1:49152/callback"));
        assert!(is_loopback_redirect("http://[::1]:8080/callback"));
        for bad in [
            "https://127.0.0.1:49152/callback",
            "http://localhost:49152/callback",
            "http://127.0.0.1/callback",
            "http://127.0.0.1:0/callback",
            "http://127.0.0.1:70000/callback",
            "http://127.0.0.1:49152/other",
            "http://127.0.0.1:49152/callback?x=1",
            "http://127.0.0.1:49152/callback#f",
            "http://user@127.0.0.1:49152/callback",
            "http://127.0.0.1.evil.example:80/callback",
            "http://127.0.0.1:80@evil.example/callback",
            "",
        ] {
            assert!(!is_loopback_redirect(bad), "{bad}");
        }
    }

    #[test]
    fn token_params_and_verifiers() {
        assert!(is_token_param("abc-_.~XYZ09"));
        assert!(!is_token_param(""));
        assert!(!is_token_param("a b"));
        assert!(!is_token_param(&"a".repeat(MAX_PARAM_LEN + 1)));
        assert!(is_verifier(&"v".repeat(43)));
        assert!(!is_verifier(&"v".repeat(42)));
        assert!(!is_verifier(&"v".repeat(129)));
    }

    #[test]
    fn the_challenge_is_rfc_7636_appendix_b() {
        assert_eq!(
            challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn outcome_wire_shape() {
        let outcome = OAuthOutcome {
            status: OAuthStatus::ChooseUsername,
            provider: "google".into(),
            tokens: None,
            ticket: Some("t".into()),
            username: Some("ada".into()),
        };
        assert_eq!(
            serde_json::to_value(&outcome).unwrap(),
            serde_json::json!({"status": "choose_username", "provider": "google", "ticket": "t", "username": "ada"})
        );
    }
}
