//! A typed async client of every route the game uses, for code that is not
//! the Godot game: the backend's integration tests, the load generator, a
//! command-line tool. It shares [`NetCore`] (tokens, refresh, error
//! decoding) with the game, so there is one client.
//!
//! ```no_run
//! # async fn demo() -> Result<(), client::net::ApiError> {
//! use client::api::ApiClient;
//! use game::api::LoginRequest;
//! let api = ApiClient::new("http://127.0.0.1:8080")?;
//! api.login(LoginRequest { login: "ada".into(), password: "correct horse battery".into() }).await?;
//! let player = api.player().await?;
//! println!("{} credits", player.credits);
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use game::UpgradeId;
use game::api::{
    AcceptTradeResponse, CollectRequest, CollectResponse, CreateTradeRequest, HealthResponse,
    Lobby, LoginRequest, MessagesResponse, PasswordResetRequest, Player, Profile, PurchaseRequest,
    PurchaseResponse, RegisterRequest, RegisterResponse, SellRequest, SellResponse,
    StartRunResponse, TokenResponse, Trade, TradeResponse,
};
use serde::de::DeserializeOwned;
use tokio::runtime::Handle;

use crate::lobby_socket::{LobbySocket, SocketConfig};
use crate::net::{ApiError, Call, NetCore, Reply, parse};
use crate::routes::{self, TradeAction};

/// Request timeout of [`ApiClient::new`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Refresh margin of [`ApiClient::new`]: refresh a token this close to expiry.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// One player's connection to a backend: the tokens of one session.
#[derive(Debug, Clone)]
pub struct ApiClient {
    core: Arc<NetCore>,
}

impl ApiClient {
    /// A client of `base_url` with the default timeout and refresh margin.
    pub fn new(base_url: &str) -> Result<Self, ApiError> {
        Self::with_timeouts(base_url, DEFAULT_TIMEOUT, DEFAULT_REFRESH_MARGIN)
    }

    pub fn with_timeouts(
        base_url: &str,
        timeout: Duration,
        refresh_margin: Duration,
    ) -> Result<Self, ApiError> {
        // Nobody listens to the events: the answers come back as values.
        let (events, _) = std::sync::mpsc::channel();
        let core = NetCore::new(base_url, timeout, refresh_margin, events)
            .map_err(ApiError::unreachable)?;
        Ok(ApiClient { core })
    }

    /// A client that also trusts `extra_root_ca_pem` (PEM) for HTTPS and
    /// the lobby's `wss://` (see [`NetCore::with_root_ca`]).
    pub fn with_root_ca(base_url: &str, extra_root_ca_pem: &[u8]) -> Result<Self, ApiError> {
        let (events, _) = std::sync::mpsc::channel();
        let core = NetCore::with_root_ca(
            base_url,
            DEFAULT_TIMEOUT,
            DEFAULT_REFRESH_MARGIN,
            events,
            Some(extra_root_ca_pem),
        )
        .map_err(ApiError::unreachable)?;
        Ok(ApiClient { core })
    }

    /// Wraps a core shared with another user of the same session.
    pub fn from_core(core: Arc<NetCore>) -> Self {
        ApiClient { core }
    }

    pub fn core(&self) -> &Arc<NetCore> {
        &self.core
    }

    /// Sends any [`Call`] (see [`crate::routes`]) and returns the raw reply.
    pub async fn send(&self, call: Call) -> Result<Reply, ApiError> {
        self.core.request(call).await
    }

    /// Sends any [`Call`] and parses the reply as `T`.
    pub async fn send_json<T: DeserializeOwned>(&self, call: Call) -> Result<T, ApiError> {
        parse(&self.send(call).await?)
    }

    pub async fn health(&self) -> Result<HealthResponse, ApiError> {
        self.send_json(routes::health()).await
    }

    pub async fn register(&self, request: &RegisterRequest) -> Result<RegisterResponse, ApiError> {
        self.send_json(routes::register(request)).await
    }

    /// Creates the account, then logs in with it (what the register screen
    /// does).
    pub async fn sign_up(&self, request: &RegisterRequest) -> Result<TokenResponse, ApiError> {
        self.register(request).await?;
        self.login(LoginRequest {
            login: request.username.clone(),
            password: request.password.clone(),
        })
        .await
    }

    /// Logs in; the tokens stay in this client for the calls that follow.
    pub async fn login(&self, request: LoginRequest) -> Result<TokenResponse, ApiError> {
        self.send_json(routes::login(request)).await
    }

    /// Restores a session from a refresh token (rotated at once).
    pub async fn resume(&self, refresh_token: String) -> Result<(), ApiError> {
        self.send(routes::resume(refresh_token)).await.map(drop)
    }

    /// Revokes this session and forgets its tokens.
    pub async fn logout(&self) -> Result<(), ApiError> {
        self.send(routes::logout()).await.map(drop)
    }

    /// Revokes every session of the account.
    pub async fn logout_all(&self) -> Result<(), ApiError> {
        self.send(routes::logout_all()).await.map(drop)
    }

    pub async fn request_password_reset(
        &self,
        request: &PasswordResetRequest,
    ) -> Result<(), ApiError> {
        self.send(routes::password_reset(request)).await.map(drop)
    }

    pub async fn me(&self) -> Result<Profile, ApiError> {
        self.send_json(routes::me()).await
    }

    pub async fn player(&self) -> Result<Player, ApiError> {
        self.send_json(routes::player()).await
    }

    pub async fn start_run(&self, zone: i64) -> Result<StartRunResponse, ApiError> {
        self.send_json(routes::start_run(zone)).await
    }

    /// Collection claims of run `run_id` under idempotency key `key`.
    pub async fn collect(
        &self,
        run_id: &str,
        request: &CollectRequest,
        key: &str,
    ) -> Result<CollectResponse, ApiError> {
        self.send_json(routes::collect(run_id, request, key)).await
    }

    pub async fn sell(&self, request: &SellRequest, key: &str) -> Result<SellResponse, ApiError> {
        self.send_json(routes::sell(request, key)).await
    }

    pub async fn purchase(
        &self,
        upgrade: UpgradeId,
        request: &PurchaseRequest,
        key: &str,
    ) -> Result<PurchaseResponse, ApiError> {
        self.send_json(routes::purchase(upgrade, request, key))
            .await
    }

    pub async fn messages(&self) -> Result<MessagesResponse, ApiError> {
        self.send_json(routes::messages()).await
    }

    pub async fn mark_seen(&self, id: &str) -> Result<(), ApiError> {
        self.send(routes::mark_seen(id)).await.map(drop)
    }

    pub async fn create_lobby(&self) -> Result<Lobby, ApiError> {
        self.send_json(routes::create_lobby()).await
    }

    pub async fn join_lobby(&self, code: &str) -> Result<Lobby, ApiError> {
        self.send_json(routes::join_lobby(code)).await
    }

    pub async fn leave_lobby(&self, code: &str) -> Result<(), ApiError> {
        self.send(routes::leave_lobby(code)).await.map(drop)
    }

    pub async fn offer_trade(
        &self,
        code: &str,
        request: &CreateTradeRequest,
    ) -> Result<Trade, ApiError> {
        self.send_json(routes::offer_trade(code, request)).await
    }

    pub async fn accept_trade(&self, trade_id: &str) -> Result<AcceptTradeResponse, ApiError> {
        self.send_json(routes::trade_action(trade_id, TradeAction::Accept))
            .await
    }

    pub async fn decline_trade(&self, trade_id: &str) -> Result<TradeResponse, ApiError> {
        self.send_json(routes::trade_action(trade_id, TradeAction::Decline))
            .await
    }

    pub async fn cancel_trade(&self, trade_id: &str) -> Result<TradeResponse, ApiError> {
        self.send_json(routes::trade_action(trade_id, TradeAction::Cancel))
            .await
    }

    /// Opens room `code`'s WebSocket with this client's session.
    pub fn open_lobby_socket(
        &self,
        handle: &Handle,
        code: &str,
        config: SocketConfig,
    ) -> LobbySocket {
        LobbySocket::open(handle, self.core.clone(), code, config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use game::api::codes;

    #[tokio::test(flavor = "current_thread")]
    async fn typed_calls_report_an_unreachable_station() {
        let api = ApiClient::with_timeouts(
            "http://127.0.0.1:9",
            Duration::from_secs(2),
            DEFAULT_REFRESH_MARGIN,
        )
        .unwrap();
        assert!(api.health().await.unwrap_err().is_unreachable());
        // No session: refused here, before any request.
        assert_eq!(api.player().await.unwrap_err().code, codes::NOT_SIGNED_IN);
    }
}
