//! Every route the game calls, as a ready [`Call`]: the one place that
//! spells a path, a method, a body and whether the call authenticates or
//! carries an `Idempotency-Key`. [`crate::api::ApiClient`] sends them and
//! parses the answer; the Godot client hands them to its `BackendClient`.

use game::UpgradeId;
use game::account::Preferences;
use game::api::oauth::{
    EXCHANGE_PATH, ExchangeRequest, FINISH_PATH, FinishRequest, LINKED_PATH, PROVIDERS_PATH,
    unlink_path,
};
use game::api::{
    API_PREFIX, ChangeAddressRequest, CollectRequest, CreateTradeRequest, DeleteAccountRequest,
    LoginRequest, PasswordResetConfirm, PasswordResetRequest, PurchaseRequest, RegisterRequest,
    SellRequest, UpdateProfileRequest, VerifyEmailRequest,
};
use reqwest::Method;

/// `POST /auth/refresh`: built beside the token store that sends it.
pub use crate::net::refresh;
use crate::net::{Call, CallKind, new_idempotency_key};

fn api(path: &str) -> String {
    format!("{API_PREFIX}{path}")
}

fn json<T: serde::Serialize>(body: &T) -> Option<serde_json::Value> {
    serde_json::to_value(body).ok()
}

/// `GET /health` (public): is the station there?
pub fn health() -> Call {
    Call::get("/health").public()
}

/// `POST /auth/register` (public) → `RegisterResponse`.
pub fn register(request: &RegisterRequest) -> Call {
    Call::post(api("/auth/register"), json(request)).public()
}

/// `POST /auth/login` (public) → `TokenResponse`; the tokens are kept by the
/// [`crate::net::NetCore`] that sends it.
pub fn login(request: LoginRequest) -> Call {
    Call {
        method: Method::POST,
        path: api("/auth/login"),
        body: None,
        kind: CallKind::Login(request),
        idempotency_key: None,
    }
}

/// `POST /auth/refresh` with a stored refresh token (restoring a session).
pub fn resume(refresh_token: String) -> Call {
    Call {
        method: Method::POST,
        path: api("/auth/refresh"),
        body: None,
        kind: CallKind::Resume { refresh_token },
        idempotency_key: None,
    }
}

/// `POST /auth/logout`: revokes this session (the held refresh token).
pub fn logout() -> Call {
    Call {
        method: Method::POST,
        path: api("/auth/logout"),
        body: None,
        kind: CallKind::Logout,
        idempotency_key: None,
    }
}

/// `POST /auth/logout-all`: revokes every session of the account.
pub fn logout_all() -> Call {
    Call::post(api("/auth/logout-all"), None)
}

/// `POST /auth/password-reset/request` (public).
pub fn password_reset(request: &PasswordResetRequest) -> Call {
    Call::post(api("/auth/password-reset/request"), json(request)).public()
}

/// `POST /auth/password-reset/confirm` (public): the mailed code and a new
/// password; 204, every session of the account ended.
pub fn password_reset_confirm(request: &PasswordResetConfirm) -> Call {
    Call::post(api("/auth/password-reset/confirm"), json(request)).public()
}

/// `POST /auth/verify-email` (public): the mailed code; 204.
pub fn verify_email(request: &VerifyEmailRequest) -> Call {
    Call::post(api("/auth/verify-email"), json(request)).public()
}

/// `POST /auth/verify-email/resend` (public): a new code to `email` if it
/// belongs to an unverified account; 202 either way.
pub fn resend_verification(request: &PasswordResetRequest) -> Call {
    Call::post(api("/auth/verify-email/resend"), json(request)).public()
}

/// `POST /auth/verify-email/change-address` (public, with the password):
/// an account whose address is not confirmed moves to another one and a new
/// code goes there; 202.
pub fn change_unverified_address(request: &ChangeAddressRequest) -> Call {
    Call::post(api("/auth/verify-email/change-address"), json(request)).public()
}

/// `GET /auth/providers` (public) → `ProvidersResponse`: the sign-in
/// providers this station offers.
pub fn providers() -> Call {
    Call::get(PROVIDERS_PATH).public()
}

/// `POST /auth/oauth/exchange` (public) → `OAuthOutcome`: the code the
/// browser brought back and the PKCE verifier. Signed in (`signed_in`): the
/// tokens are kept by the [`crate::net::NetCore`] that sends it, as a
/// login's; or one more step (`choose_username`, `prove_account`).
pub fn oauth_exchange(request: &ExchangeRequest) -> Call {
    Call {
        kind: CallKind::ProviderSignIn,
        ..Call::post(EXCHANGE_PATH, json(request))
    }
}

/// `POST /auth/oauth/exchange` with the session → `OAuthOutcome` (`linked`):
/// the provider is linked to the signed-in account.
pub fn oauth_link(request: &ExchangeRequest) -> Call {
    Call::post(EXCHANGE_PATH, json(request))
}

/// `POST /auth/oauth/finish` (public) → `OAuthOutcome` (`signed_in`, tokens
/// kept as a login's): the ticket of a `choose_username` step with the
/// name, or of a `prove_account` step with the existing account's password.
pub fn oauth_finish(request: &FinishRequest) -> Call {
    Call {
        kind: CallKind::ProviderSignIn,
        ..Call::post(FINISH_PATH, json(request))
    }
}

/// `GET /me/oauth` → `LinkedProviders`.
pub fn linked_providers() -> Call {
    Call::get(LINKED_PATH)
}

/// `DELETE /me/oauth/{provider}`: 204; 404 `not_found` when not linked, 409
/// `last_sign_in_method` when it would leave no way to sign in.
pub fn unlink_provider(provider: &str) -> Call {
    Call::delete(unlink_path(provider), None)
}

/// `PUT /me/preferences` → `Profile`: the preferences that follow the
/// player to every device.
pub fn put_preferences(preferences: &Preferences) -> Call {
    Call::put(api("/me/preferences"), json(preferences))
}

/// `GET /me` → `Profile`.
pub fn me() -> Call {
    Call::get(api("/me"))
}

/// `PATCH /me` → `Profile`: username, email (re-verified) or password (with
/// the current one).
pub fn update_me(request: &UpdateProfileRequest) -> Call {
    Call::patch(api("/me"), json(request))
}

/// `DELETE /me` with the password: the account and everything in it; 204.
pub fn delete_me(request: &DeleteAccountRequest) -> Call {
    Call::delete(api("/me"), json(request))
}

/// `GET /me/sessions` → `SessionsResponse`.
pub fn sessions() -> Call {
    Call::get(api("/me/sessions"))
}

/// `DELETE /me/sessions/{id}`: ends one session (204).
pub fn revoke_session(id: &str) -> Call {
    Call::delete(api(&format!("/me/sessions/{id}")), None)
}

/// `GET /me/export`: everything stored about the player, a JSON object of
/// sections (`user`, `sessions`, `audit`, `player`, `ledger`, ...) that the
/// game saves as it is.
pub fn export() -> Call {
    Call::get(api("/me/export"))
}

/// `GET /player` → `Player`.
pub fn player() -> Call {
    Call::get(api("/player"))
}

/// `POST /zones/{zone}/runs` → `StartRunResponse` (fresh idempotency key).
pub fn start_run(zone: i64) -> Call {
    Call::post(api(&format!("/zones/{zone}/runs")), None)
        .with_idempotency_key(new_idempotency_key())
}

/// `POST /runs/{run}/collect` → `CollectResponse`, under `key`.
pub fn collect(run_id: &str, request: &CollectRequest, key: &str) -> Call {
    Call::post(api(&format!("/runs/{run_id}/collect")), json(request)).with_idempotency_key(key)
}

/// `POST /hub/sell` → `SellResponse`, under `key`.
pub fn sell(request: &SellRequest, key: &str) -> Call {
    Call::post(api("/hub/sell"), json(request)).with_idempotency_key(key)
}

/// `POST /upgrades/{id}/purchase` → `PurchaseResponse`, under `key`.
pub fn purchase(upgrade: UpgradeId, request: &PurchaseRequest, key: &str) -> Call {
    Call::post(api(&format!("/upgrades/{upgrade}/purchase")), json(request))
        .with_idempotency_key(key)
}

/// `GET /messages` → `MessagesResponse`.
pub fn messages() -> Call {
    Call::get(api("/messages"))
}

/// `POST /messages/{id}/seen`.
pub fn mark_seen(id: &str) -> Call {
    Call::post(api(&format!("/messages/{id}/seen")), None)
}

/// `POST /lobbies` → `Lobby` (a new room; fresh idempotency key).
pub fn create_lobby() -> Call {
    Call::post(api("/lobbies"), None).with_idempotency_key(new_idempotency_key())
}

/// `POST /lobbies/{code}/join` → `Lobby` (fresh idempotency key).
pub fn join_lobby(code: &str) -> Call {
    Call::post(api(&format!("/lobbies/{code}/join")), None)
        .with_idempotency_key(new_idempotency_key())
}

/// `POST /lobbies/{code}/leave`.
pub fn leave_lobby(code: &str) -> Call {
    Call::post(api(&format!("/lobbies/{code}/leave")), None)
}

/// `POST /lobbies/{code}/trades` → `Trade` (fresh idempotency key).
pub fn offer_trade(code: &str, request: &CreateTradeRequest) -> Call {
    Call::post(api(&format!("/lobbies/{code}/trades")), json(request))
        .with_idempotency_key(new_idempotency_key())
}

/// What the receiver or the offerer does to a pending offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeAction {
    /// Receiver: `AcceptTradeResponse`.
    Accept,
    /// Receiver: `TradeResponse`.
    Decline,
    /// Offerer: `TradeResponse`.
    Cancel,
}

impl TradeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            TradeAction::Accept => "accept",
            TradeAction::Decline => "decline",
            TradeAction::Cancel => "cancel",
        }
    }
}

/// `POST /trades/{id}/{accept|decline|cancel}` (fresh idempotency key).
pub fn trade_action(trade_id: &str, action: TradeAction) -> Call {
    Call::post(
        api(&format!("/trades/{trade_id}/{}", action.as_str())),
        None,
    )
    .with_idempotency_key(new_idempotency_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_under_the_api_prefix() {
        assert_eq!(player().path, "/api/v1/player");
        assert_eq!(start_run(2).path, "/api/v1/zones/2/runs");
        assert!(start_run(2).idempotency_key.is_some());
        assert_eq!(
            purchase(UpgradeId::SpeedBoost, &PurchaseRequest::default(), "k").path,
            format!("/api/v1/upgrades/{}/purchase", UpgradeId::SpeedBoost)
        );
        assert_eq!(
            trade_action("t1", TradeAction::Decline).path,
            "/api/v1/trades/t1/decline"
        );
        assert_eq!(health().kind, CallKind::Public);
        assert_eq!(logout().kind, CallKind::Logout);
    }

    #[test]
    fn provider_routes() {
        let exchange = ExchangeRequest {
            code: "c".into(),
            code_verifier: "v".into(),
        };
        assert_eq!(providers().path, "/api/v1/auth/providers");
        assert_eq!(providers().kind, CallKind::Public);
        let sign_in = oauth_exchange(&exchange);
        assert_eq!(sign_in.path, "/api/v1/auth/oauth/exchange");
        assert_eq!(sign_in.kind, CallKind::ProviderSignIn);
        assert_eq!(
            sign_in.body,
            Some(serde_json::json!({"code": "c", "code_verifier": "v"}))
        );
        let link = oauth_link(&exchange);
        assert_eq!(link.path, sign_in.path);
        assert_eq!(link.kind, CallKind::Authenticated);
        let finish = oauth_finish(&FinishRequest {
            ticket: "t".into(),
            username: Some("ada".into()),
            password: None,
        });
        assert_eq!(finish.path, "/api/v1/auth/oauth/finish");
        assert_eq!(finish.kind, CallKind::ProviderSignIn);
        assert_eq!(
            finish.body,
            Some(serde_json::json!({"ticket": "t", "username": "ada"}))
        );
        assert_eq!(linked_providers().path, "/api/v1/me/oauth");
        assert_eq!(linked_providers().kind, CallKind::Authenticated);
        let unlink = unlink_provider("discord");
        assert_eq!(unlink.path, "/api/v1/me/oauth/discord");
        assert_eq!(unlink.method, Method::DELETE);
    }
}
