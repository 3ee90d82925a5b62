//! The lobby WebSocket's contract: its subprotocol, its rates and limits,
//! and the close codes with their reasons. The message bodies are
//! [`super::LobbyClientMessage`] and [`super::LobbyServerEvent`].

use std::time::Duration;

/// The subprotocol both sides name (`Sec-WebSocket-Protocol: cots.v1, bearer.<jwt>`).
pub const PROTOCOL: &str = "cots.v1";
/// Prefix of the subprotocol entry that carries the access token.
pub const BEARER_PROTOCOL_PREFIX: &str = "bearer.";
/// Largest frame or message either side accepts, in bytes.
pub const MAX_FRAME_BYTES: usize = 4096;
/// The server relays at most one position per member per this interval;
/// the client sends no faster.
pub const POSITION_INTERVAL: Duration = Duration::from_millis(50);
/// Longest lobby chat line the server relays, in characters.
pub const MAX_CHAT_CHARS: usize = 200;

/// Close code: the client is going away (a normal leave).
pub const CLOSE_NORMAL: u16 = 1000;
/// Close code: the server ends a socket that stayed silent too long.
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code: the server ends the socket for a policy reason; the reason
/// text is one of the codes in [`super::codes`] (`unknown_lobby`,
/// `rate_limited`, `session_revoked`, ...).
pub const CLOSE_POLICY: u16 = 1008;
/// Reason sent with [`CLOSE_NORMAL`] by a client that leaves.
pub const LEAVING_REASON: &str = "leaving";

/// How long a member whose socket dropped stays in the room (shown as
/// reconnecting) before the server removes them, unless a socket of theirs
/// comes back or they act in the room. The backend's default
/// (`LOBBY_PRESENCE_GRACE_SECS`).
pub const PRESENCE_GRACE: Duration = Duration::from_secs(45);
