//! Request and response bodies of the HTTP API (`/api/v1`), shared by the
//! backend (which serves them) and the Godot client (which calls them), so a
//! renamed field is a compile error on both sides rather than a silent `null`.
//!
//! Field names are exactly those of ARCHITECTURE.md ("Backend contract",
//! "Economy and trading bodies"). Conventions:
//! - ids are strings (`run_id`, trade `id`, catalog ids such as
//!   `scrap_metal`); zones are numbers 1-4;
//! - a run seed is a `u64` sent as a decimal string ([`SeedString`]) because
//!   JSON numbers lose precision above 2^53 in many clients;
//! - credits are `u64`, item counts `u32`, levels `u32` (see `catalog`);
//! - timestamps are RFC 3339 strings in UTC (`2026-01-31T12:00:00Z`); this
//!   crate has no clock, the backend formats them;
//! - item and upgrade maps name only non-zero entries, except
//!   [`Player::upgrades`], which names all six.
//!
//! Only data lives here: no HTTP client or server, no validation against a
//! database. Helpers that turn a [`PlayerState`] into a [`Player`] are here
//! because both sides need the same projection.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::catalog::{Catalog, Credits, ItemCount, Level, UpgradeId, ZoneId};
use crate::debris::DebrisIndex;
use crate::economy::{PlayerState, TradeBundle, UpgradeLevels};

/// Path prefix of every API route.
pub const API_PREFIX: &str = "/api/v1";
/// Most pieces one `POST /runs/{run}/collect` may carry (413 above).
pub const MAX_COLLECT_BATCH: usize = 64;
/// Longest accepted `Idempotency-Key` header value.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 64;
/// Longest lobby chat line the server relays, in characters.
pub use ws::MAX_CHAT_CHARS;
/// `token_type` of every token response.
pub const TOKEN_TYPE_BEARER: &str = "Bearer";

/// Every error code, re-exported where the wire types are (`game::api::codes`).
pub use crate::codes;
pub mod oauth;
pub mod ws;

/// Every error answer: `{"code": "snake_case_code", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl From<&crate::economy::EconomyError> for ErrorBody {
    fn from(error: &crate::economy::EconomyError) -> Self {
        ErrorBody::new(error.code(), error.to_string())
    }
}

impl From<&crate::economy::TradeError> for ErrorBody {
    /// The failing side's code; the message says which side failed.
    fn from(error: &crate::economy::TradeError) -> Self {
        let side = match error.party {
            crate::economy::TradeParty::Offerer => "offerer",
            crate::economy::TradeParty::Receiver => "receiver",
        };
        ErrorBody::new(error.error.code(), format!("{side}: {}", error.error))
    }
}

// ---------------------------------------------------------------------------
// Auth and account
// ---------------------------------------------------------------------------

/// `POST /auth/register`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    pub email: String,
    pub username: String,
    pub password: String,
}

/// `POST /auth/register` -> 201.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterResponse {
    pub username: String,
    pub email: String,
    pub email_verified: bool,
}

/// `POST /auth/login`: `login` is an email or a username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

/// Answer of login and refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// `POST /auth/refresh` and `POST /auth/logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `POST /auth/logout` (same shape as refresh).
pub type LogoutRequest = RefreshRequest;

/// `POST /auth/password-reset/request`: answered 202 whether or not the
/// address exists, so it does not reveal accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordResetRequest {
    pub email: String,
}

/// `POST /auth/password-reset/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordResetConfirm {
    pub token: String,
    pub new_password: String,
}

/// `POST /auth/verify-email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyEmailRequest {
    pub token: String,
}

/// `POST /auth/verify-email/change-address`: an account whose address is
/// not confirmed moves to `new_email` (the password proves the owner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeAddressRequest {
    pub login: String,
    pub password: String,
    pub new_email: String,
}

/// `GET /me`, `PATCH /me`, `PUT /me/preferences` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub created_at: String,
    #[serde(default)]
    pub preferences: crate::account::Preferences,
}

/// `PATCH /me`: only the fields present change. Changing the email or
/// password needs `current_password`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpdateProfileRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_password: Option<String>,
}

/// `DELETE /me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAccountRequest {
    pub password: String,
}

/// One login session (`GET /me/sessions`), as the backend's `SessionView`
/// writes it (the backend's API tests read their answers into this type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    /// The `User-Agent` the session signed in with, when there was one.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The client address the session signed in from, when known.
    #[serde(default)]
    pub ip: Option<String>,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    /// The session the request was made with.
    pub current: bool,
}

/// `GET /me/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsResponse {
    pub sessions: Vec<SessionInfo>,
}

// ---------------------------------------------------------------------------
// Player
// ---------------------------------------------------------------------------

/// `{"used","capacity"}` of the hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub used: u64,
    pub capacity: ItemCount,
}

/// The API's `stats` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stats {
    pub debris_collected: u64,
    pub credits_earned: u64,
    pub trades_completed: u64,
}

/// `GET /player`, and `"player"` in every economy answer that changes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Player {
    pub username: String,
    pub credits: Credits,
    pub inventory: BTreeMap<String, ItemCount>,
    pub hold: Hold,
    /// All six upgrade ids with their level.
    pub upgrades: UpgradeLevels,
    /// Highest zone allowed.
    pub zone_access: ZoneId,
    pub stats: Stats,
    /// Incremented on every change; lets the client drop stale answers.
    pub version: u64,
}

impl Player {
    /// The wire view of a player's state.
    pub fn from_state(
        catalog: &Catalog,
        username: impl Into<String>,
        state: &PlayerState,
        version: u64,
    ) -> Player {
        Player {
            username: username.into(),
            credits: state.credits,
            inventory: state
                .inventory
                .iter()
                .filter(|&(_, &n)| n > 0)
                .map(|(kind, &n)| (kind.clone(), n))
                .collect(),
            hold: Hold {
                used: state.hold_used(),
                capacity: state.hold_capacity(catalog),
            },
            upgrades: state.upgrades,
            zone_access: state.zone_access(catalog),
            stats: Stats {
                debris_collected: state.stats.debris_collected,
                credits_earned: state.stats.credits_earned,
                trades_completed: state.stats.trades_completed,
            },
            version,
        }
    }
}

// ---------------------------------------------------------------------------
// Runs and collection
// ---------------------------------------------------------------------------

/// A `u64` run seed that travels as a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeedString(pub u64);

impl Serialize for SeedString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SeedString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse::<u64>()
            .map(SeedString)
            .map_err(|_| serde::de::Error::custom(format!("seed `{text}` is not a decimal u64")))
    }
}

impl fmt::Display for SeedString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for SeedString {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(SeedString)
    }
}

/// `#[serde(with = "seed_string")]` for a plain `u64` field.
pub mod seed_string {
    use super::SeedString;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(seed: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        SeedString(*seed).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        SeedString::deserialize(deserializer).map(|seed| seed.0)
    }
}

/// `POST /zones/{zone}/runs` -> 201.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRunResponse {
    pub run_id: String,
    pub zone: ZoneId,
    /// Decimal string of a `u64`.
    #[serde(with = "seed_string")]
    pub seed: u64,
    pub started_at: String,
}

/// One claimed piece: debris `index`, collected `at` seconds after the run
/// started on the client's simulation clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CollectedPiece {
    pub index: DebrisIndex,
    pub at: f64,
}

/// `POST /runs/{run_id}/collect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectRequest {
    pub pieces: Vec<CollectedPiece>,
}

/// Why one claimed piece was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// Never spawned by `at`.
    UnknownDebris,
    AlreadyCollected,
    HoldFull,
    /// The ship could not have been there.
    Implausible,
    /// `at` is later than the server's clock allows.
    TooEarly,
}

impl RejectCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::UnknownDebris => "unknown_debris",
            RejectCode::AlreadyCollected => "already_collected",
            RejectCode::HoldFull => "hold_full",
            RejectCode::Implausible => "implausible",
            RejectCode::TooEarly => "too_early",
        }
    }
}

/// A refused piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPiece {
    pub index: DebrisIndex,
    pub code: RejectCode,
}

/// `POST /runs/{run_id}/collect` -> 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectResponse {
    pub accepted: Vec<DebrisIndex>,
    pub rejected: Vec<RejectedPiece>,
    pub player: Player,
}

// ---------------------------------------------------------------------------
// Hub
// ---------------------------------------------------------------------------

/// `POST /hub/sell`: `{"items":{...}}` or `{"all":true}`. Use
/// [`SellRequest::order`] to get the one valid meaning.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SellRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<BTreeMap<String, ItemCount>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    /// Where the ship is docked. Required: a sale without it is refused
    /// with `not_docked` (optional on the wire only so that the refusal
    /// can say so in words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dock: Option<Dock>,
}

/// A dock claim in a sale or purchase: the ship is within docking range of
/// hub `hub` (index in the zone's `hubs`) of run `run_id` at `at` seconds on
/// that run's clock. The server judges it with `game::verify::judge_dock`
/// against the run's accepted pieces and docks, and also requires that
/// nothing was collected after it (the ship sells where it is now).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dock {
    pub run_id: String,
    pub hub: u32,
    pub at: f64,
}

/// `POST /upgrades/{id}/purchase`: where the ship is docked (required,
/// see [`Dock`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PurchaseRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dock: Option<Dock>,
}

impl PurchaseRequest {
    pub fn docked(dock: Dock) -> Self {
        PurchaseRequest { dock: Some(dock) }
    }
}

/// What a [`SellRequest`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SellOrder {
    Items(BTreeMap<String, ItemCount>),
    All,
}

impl SellRequest {
    pub fn items(items: BTreeMap<String, ItemCount>) -> Self {
        SellRequest {
            items: Some(items),
            all: None,
            dock: None,
        }
    }

    pub fn all() -> Self {
        SellRequest {
            items: None,
            all: Some(true),
            dock: None,
        }
    }

    /// The same request with its dock claim.
    pub fn docked(mut self, dock: Dock) -> Self {
        self.dock = Some(dock);
        self
    }

    /// Exactly one of `items` (non-empty) or `all: true`; anything else is a
    /// 422 `invalid_request`.
    pub fn order(&self) -> Result<SellOrder, ErrorBody> {
        match (&self.items, self.all) {
            (Some(items), None | Some(false)) if !items.is_empty() => {
                Ok(SellOrder::Items(items.clone()))
            }
            (None, Some(true)) => Ok(SellOrder::All),
            (Some(_), Some(true)) => Err(ErrorBody::new(
                codes::INVALID_REQUEST,
                "give either `items` or `all`, not both",
            )),
            _ => Err(ErrorBody::new(
                codes::INVALID_REQUEST,
                "give a non-empty `items` map or `all: true`",
            )),
        }
    }
}

/// `POST /hub/sell` -> 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SellResponse {
    pub sold: BTreeMap<String, ItemCount>,
    pub credits_gained: Credits,
    pub player: Player,
}

/// `POST /upgrades/{id}/purchase` -> 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseResponse {
    pub upgrade: UpgradeId,
    pub level: Level,
    pub cost: Credits,
    pub player: Player,
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/// One unlocked station AI message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEntry {
    pub id: String,
    pub text: String,
    pub unlocked_at: String,
    pub seen: bool,
}

/// `GET /messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesResponse {
    pub messages: Vec<MessageEntry>,
}

// ---------------------------------------------------------------------------
// Lobbies and trades
// ---------------------------------------------------------------------------

/// Whether a member's live link is up (see [`LobbyServerEvent::Presence`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    #[default]
    Connected,
    Reconnecting,
}

/// A lobby member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LobbyMember {
    pub username: String,
    pub joined_at: String,
}

/// `POST /lobbies` (201), `POST /lobbies/{code}/join`, `GET /lobbies/{code}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lobby {
    pub code: String,
    pub capacity: u32,
    pub members: Vec<LobbyMember>,
}

/// State of a trade offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeStatus {
    Pending,
    Completed,
    Declined,
    Cancelled,
    Expired,
}

/// One side of an offer (`give` or `want`): credits, items by id, upgrade
/// levels by id. Missing fields are empty.
pub type TradeSide = TradeBundle;

/// `POST /lobbies/{code}/trades`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateTradeRequest {
    /// Username of the receiver.
    pub to: String,
    pub give: TradeSide,
    pub want: TradeSide,
}

/// A trade offer (201 on create; inside accept/decline/cancel answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    pub id: String,
    /// Lobby code.
    pub lobby: String,
    /// Username of the offerer.
    pub from: String,
    /// Username of the receiver.
    pub to: String,
    pub give: TradeSide,
    pub want: TradeSide,
    pub status: TradeStatus,
    pub created_at: String,
    pub expires_at: String,
}

/// `POST /trades/{id}/accept` -> 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptTradeResponse {
    pub trade: Trade,
    pub player: Player,
}

/// `POST /trades/{id}/decline` and `/cancel` -> 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeResponse {
    pub trade: Trade,
}

/// What a client sends on the lobby WebSocket.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LobbyClientMessage {
    /// Where my avatar stands on the trading floor.
    Position {
        x: f64,
        y: f64,
    },
    Chat {
        text: String,
    },
    /// A fresh access token of the same player (after a refresh). The server
    /// closes a socket when the access token it was opened (or last
    /// re-authenticated) with expires ([`ws::CLOSE_POLICY`],
    /// [`codes::TOKEN_EXPIRED`]); sending this before then keeps it open.
    Auth {
        token: String,
    },
}

impl std::fmt::Debug for LobbyClientMessage {
    // The token stays out of every log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Position { x, y } => f
                .debug_struct("Position")
                .field("x", x)
                .field("y", y)
                .finish(),
            Self::Chat { text } => f.debug_struct("Chat").field("text", text).finish(),
            Self::Auth { .. } => f.debug_struct("Auth").finish_non_exhaustive(),
        }
    }
}

/// What the server pushes on the lobby WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LobbyServerEvent {
    /// Sent first after connecting: the lobby as it is.
    Snapshot {
        lobby: Lobby,
    },
    MemberJoined {
        username: String,
        joined_at: String,
    },
    MemberLeft {
        username: String,
    },
    Position {
        username: String,
        x: f64,
        y: f64,
    },
    Chat {
        username: String,
        text: String,
        at: String,
    },
    /// A trade was offered or changed status.
    Trade {
        trade: Trade,
    },
    /// A member's live link came up or dropped. A member who stays
    /// `reconnecting` past the grace period ([`ws::PRESENCE_GRACE`]) is
    /// removed (`member_left`). Members of a snapshot count as connected.
    Presence {
        username: String,
        state: PresenceState,
    },
    /// Sent to one socket only: its last message was not accepted. `code` is
    /// `chat_rate_limited`, `invalid_chat` (nothing left after cleaning) or
    /// `invalid_message` (not a client message, or a position off the map).
    /// Too many refusals close the socket (1008 `rate_limited`).
    Refused {
        code: String,
        message: String,
    },
}

// ---------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------

/// `GET /health` and `GET /ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// `ok`, or `unavailable` (503) on `/ready` when the database is down.
    pub status: String,
}

/// `GET /api/v1/catalog`: the catalog as the data file has it.
pub type CatalogResponse = crate::catalog::CatalogData;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seed_travels_as_a_decimal_string() {
        let run = StartRunResponse {
            run_id: "r1".into(),
            zone: 2,
            seed: u64::MAX,
            started_at: "2026-01-01T00:00:00Z".into(),
        };
        let value = serde_json::to_value(&run).unwrap();
        assert_eq!(value["seed"], json!("18446744073709551615"));
        assert_eq!(
            serde_json::from_value::<StartRunResponse>(value).unwrap(),
            run
        );
        assert!(
            serde_json::from_value::<StartRunResponse>(json!({
                "run_id": "r", "zone": 1, "seed": 5, "started_at": ""
            }))
            .is_err()
        );
        assert!(serde_json::from_value::<SeedString>(json!("-1")).is_err());
    }

    #[test]
    fn player_has_the_documented_fields() {
        let c = Catalog::shipped();
        let mut state = PlayerState::new_player(c);
        state.collect(c, "scrap_metal", 3).unwrap();
        let value = serde_json::to_value(Player::from_state(c, "ada", &state, 7)).unwrap();
        assert_eq!(
            value,
            json!({
                "username": "ada",
                "credits": 100,
                "inventory": {"scrap_metal": 3},
                "hold": {"used": 3, "capacity": 10},
                "upgrades": {
                    "speed_boost": 0, "inventory_expansion": 0, "collection_efficiency": 0,
                    "cargo_magnet": 0, "zone_access": 0, "debris_scanner": 0
                },
                "zone_access": 1,
                "stats": {"debris_collected": 3, "credits_earned": 0, "trades_completed": 0},
                "version": 7
            })
        );
    }

    #[test]
    fn collect_bodies_match_the_contract() {
        let request: CollectRequest =
            serde_json::from_value(json!({"pieces": [{"index": 12, "at": 3.25}]})).unwrap();
        assert_eq!(
            request.pieces,
            vec![CollectedPiece {
                index: 12,
                at: 3.25
            }]
        );
        let rejected = RejectedPiece {
            index: 99,
            code: RejectCode::Implausible,
        };
        assert_eq!(
            serde_json::to_value(rejected).unwrap(),
            json!({"index": 99, "code": "implausible"})
        );
        for code in [
            RejectCode::UnknownDebris,
            RejectCode::AlreadyCollected,
            RejectCode::HoldFull,
            RejectCode::Implausible,
            RejectCode::TooEarly,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        }
    }

    #[test]
    fn sell_request_has_exactly_one_meaning() {
        let items: SellRequest =
            serde_json::from_value(json!({"items": {"scrap_metal": 2}})).unwrap();
        assert_eq!(
            items.order(),
            Ok(SellOrder::Items(BTreeMap::from([(
                "scrap_metal".into(),
                2
            )])))
        );
        let all: SellRequest = serde_json::from_value(json!({"all": true})).unwrap();
        assert_eq!(all.order(), Ok(SellOrder::All));
        assert_eq!(
            serde_json::to_value(SellRequest::all()).unwrap(),
            json!({"all": true})
        );
        for bad in [
            json!({}),
            json!({"all": false}),
            json!({"items": {}}),
            json!({"items": {"a": 1}, "all": true}),
        ] {
            let request: SellRequest = serde_json::from_value(bad).unwrap();
            assert_eq!(request.order().unwrap_err().code, codes::INVALID_REQUEST);
        }
    }

    #[test]
    fn sales_and_purchases_carry_a_dock_claim() {
        let sale: SellRequest = serde_json::from_value(
            json!({"all": true, "dock": {"run_id": "r1", "hub": 1, "at": 42.5}}),
        )
        .unwrap();
        let dock = sale.dock.clone().unwrap();
        assert_eq!((dock.hub, dock.at), (1, 42.5));
        assert_eq!(sale.order(), Ok(SellOrder::All));
        assert_eq!(
            serde_json::to_value(SellRequest::all().docked(dock.clone())).unwrap(),
            json!({"all": true, "dock": {"run_id": "r1", "hub": 1, "at": 42.5}})
        );
        assert_eq!(
            serde_json::to_value(PurchaseRequest::docked(dock)).unwrap(),
            json!({"dock": {"run_id": "r1", "hub": 1, "at": 42.5}})
        );
        // Left out, the server refuses with `not_docked`.
        let bare: PurchaseRequest = serde_json::from_value(json!({})).unwrap();
        assert_eq!(bare.dock, None);
    }

    #[test]
    fn trade_bodies_match_the_contract() {
        let request: CreateTradeRequest = serde_json::from_value(json!({
            "to": "bob",
            "give": {"credits": 50, "items": {}, "upgrades": {}},
            "want": {"credits": 0, "items": {"scrap_metal": 2}, "upgrades": {}}
        }))
        .unwrap();
        assert_eq!(request.give.credits, 50);
        assert_eq!(request.want.items["scrap_metal"], 2);
        // Omitted parts default to empty.
        let side: TradeSide =
            serde_json::from_value(json!({"upgrades": {"cargo_magnet": 1}})).unwrap();
        assert_eq!(side.upgrades[&UpgradeId::CargoMagnet], 1);
        assert_eq!(side.credits, 0);
        let trade = Trade {
            id: "t1".into(),
            lobby: "ABC234".into(),
            from: "ada".into(),
            to: "bob".into(),
            give: request.give,
            want: request.want,
            status: TradeStatus::Pending,
            created_at: "x".into(),
            expires_at: "y".into(),
        };
        let value = serde_json::to_value(&trade).unwrap();
        assert_eq!(value["status"], "pending");
        assert_eq!(serde_json::from_value::<Trade>(value).unwrap(), trade);
    }

    #[test]
    fn auth_bodies_match_the_contract() {
        let token = TokenResponse {
            access_token: "a".into(),
            refresh_token: "r".into(),
            token_type: TOKEN_TYPE_BEARER.into(),
            expires_in: 900,
        };
        assert_eq!(
            serde_json::to_value(&token).unwrap(),
            json!({"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expires_in": 900})
        );
        let login: LoginRequest =
            serde_json::from_value(json!({"login": "ada", "password": "pw"})).unwrap();
        assert_eq!(login.login, "ada");
        let register: RegisterRequest =
            serde_json::from_value(json!({"email": "a@b.c", "username": "ada", "password": "pw"}))
                .unwrap();
        assert_eq!(register.username, "ada");
        let _: RefreshRequest = serde_json::from_value(json!({"refresh_token": "r"})).unwrap();
    }

    #[test]
    fn lobby_and_ws_bodies() {
        let lobby = Lobby {
            code: "ABC234".into(),
            capacity: 8,
            members: vec![LobbyMember {
                username: "ada".into(),
                joined_at: "t".into(),
            }],
        };
        assert_eq!(
            serde_json::to_value(&lobby).unwrap(),
            json!({"code": "ABC234", "capacity": 8, "members": [{"username": "ada", "joined_at": "t"}]})
        );
        let message: LobbyClientMessage =
            serde_json::from_value(json!({"type": "chat", "text": "hi"})).unwrap();
        assert_eq!(message, LobbyClientMessage::Chat { text: "hi".into() });
        let event = LobbyServerEvent::MemberLeft {
            username: "ada".into(),
        };
        assert_eq!(
            serde_json::to_value(event).unwrap(),
            json!({"type": "member_left", "username": "ada"})
        );
    }

    #[test]
    fn error_body_from_trade_error() {
        let error = crate::economy::TradeError {
            party: crate::economy::TradeParty::Receiver,
            error: crate::economy::EconomyError::NothingToSell,
        };
        let body = ErrorBody::from(&error);
        assert_eq!(body.code, "insufficient_items");
        assert!(body.message.starts_with("receiver: "));
    }

    #[test]
    fn error_body_from_economy_error() {
        let error = crate::economy::EconomyError::InsufficientCredits { have: 1, need: 5 };
        let body = ErrorBody::from(&error);
        assert_eq!(body.code, "insufficient_credits");
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"code": "insufficient_credits", "message": "not enough credits: have 1, need 5"})
        );
    }
}
