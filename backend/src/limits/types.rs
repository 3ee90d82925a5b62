//! The limiter's vocabulary: route classes, key scopes, decisions.

use std::time::Duration;

/// What a route spends from: auth routes are tighter, reads looser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Sign-up, sign-in, refresh, password reset (per IP only: there is no
    /// user yet).
    Auth,
    /// GET routes and the lobby socket's upgrade.
    Read,
    /// Everything that changes state (collect, sell, purchase, trades...).
    Write,
    /// Game quotas, per user, on top of the route classes: zone runs
    /// started, lobbies opened, trade offers made, chat lines sent, lobby
    /// sockets opened.
    RunStart,
    LobbyOpen,
    TradeOffer,
    Chat,
    /// Lobby sockets opened (the WebSocket upgrade), per user.
    SocketOpen,
}

impl Class {
    pub const ALL: [Class; 8] = [
        Class::Auth,
        Class::Read,
        Class::Write,
        Class::RunStart,
        Class::LobbyOpen,
        Class::TradeOffer,
        Class::Chat,
        Class::SocketOpen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Auth => "auth",
            Class::Read => "read",
            Class::Write => "write",
            Class::RunStart => "run_start",
            Class::LobbyOpen => "lobby_open",
            Class::TradeOffer => "trade_offer",
            Class::Chat => "chat",
            Class::SocketOpen => "socket_open",
        }
    }
}

/// Whose budget: one user's, or one address's (IPv6: one /64's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    User,
    Ip,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::Ip => "ip",
        }
    }
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Over budget: answer 429 with `Retry-After` (whole seconds, rounded
    /// up: [`Decision::retry_after_secs`]).
    Limited {
        retry_after: Duration,
    },
    /// The shared store did not answer and the limiter fails closed: answer
    /// 503 (with a short `Retry-After`).
    Unavailable,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        matches!(self, Decision::Allowed)
    }

    /// `Retry-After` in whole seconds (at least 1) for `Limited` and
    /// `Unavailable`.
    pub fn retry_after_secs(self) -> Option<u64> {
        match self {
            Decision::Allowed => None,
            Decision::Limited { retry_after } => {
                Some((retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)).max(1))
            }
            Decision::Unavailable => Some(1),
        }
    }
}
