//! What an economy service can refuse, in the economy's own words.
//!
//! Each refusal knows its API code (from [`game::api::codes`]); the HTTP
//! status that goes with it is the HTTP layer's business
//! (`crate::http::error`), so nothing here knows about HTTP.

use game::EconomyError;
use game::api::{ErrorBody, MAX_COLLECT_BATCH, codes};
use game::economy::TradeError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule of the `game` crate refused the change; nothing changed.
    #[error(transparent)]
    Rule(EconomyError),
    /// A trade could not be applied: the failing side's rule error.
    #[error("{}", ErrorBody::from(.0).message)]
    TradeRefused(TradeError),
    #[error("there is no zone `{0}`")]
    UnknownZone(String),
    #[error("no such run")]
    UnknownRun,
    #[error("at most {MAX_COLLECT_BATCH} pieces per batch (got {0})")]
    BatchTooLarge(usize),
    #[error("there is no upgrade `{0}`")]
    UnknownUpgrade(String),
    #[error("no such unlocked message")]
    UnknownMessage,
    #[error("no lobby with this code")]
    UnknownLobby,
    #[error("not a member of this lobby")]
    NotAMember,
    #[error("this lobby is full")]
    LobbyFull,
    #[error("no such trade")]
    UnknownTrade,
    #[error("this trade was already accepted, declined, cancelled or expired")]
    TradeNotPending,
    /// The other party of the trade tried to answer or cancel it.
    #[error("{0}")]
    NotYourTrade(&'static str),
    #[error("at most {0} pending offers: cancel one or wait for answers")]
    TooManyOffers(u32),
    /// Well-formed but unacceptable values.
    #[error("{0}")]
    InvalidRequest(String),
    /// The caller's account was deleted while the request ran.
    #[error("this account no longer exists")]
    AccountGone,
    #[error("the balance would exceed what can be stored")]
    CreditsOverflow,
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    /// A sale or purchase without a dock claim, or with a stale one.
    #[error("{0}")]
    NotDocked(&'static str),
    /// `game::verify::judge_dock` refused the dock claim.
    #[error("{}", dock_refusal_message(*.0))]
    Dock(game::verify::DockRefusal),
    /// Over a per-user quota; try again after `retry_after_secs`.
    #[error("too many {what}: slow down")]
    RateLimited {
        what: &'static str,
        retry_after_secs: u64,
    },
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// The API code (`game::api::codes`). Database and internal errors have
    /// none of their own: the HTTP layer answers them as an opaque 500.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rule(error) => error.code(),
            Self::TradeRefused(error) => error.error.code(),
            Self::UnknownZone(_) => codes::UNKNOWN_ZONE,
            Self::UnknownRun => codes::UNKNOWN_RUN,
            Self::BatchTooLarge(_) => codes::BATCH_TOO_LARGE,
            Self::UnknownUpgrade(_) => codes::UNKNOWN_UPGRADE,
            Self::UnknownMessage => codes::UNKNOWN_MESSAGE,
            Self::UnknownLobby => codes::UNKNOWN_LOBBY,
            Self::NotAMember => codes::NOT_A_MEMBER,
            Self::LobbyFull => codes::LOBBY_FULL,
            Self::UnknownTrade => codes::UNKNOWN_TRADE,
            Self::TradeNotPending => codes::TRADE_NOT_PENDING,
            Self::NotYourTrade(_) => codes::FORBIDDEN,
            Self::TooManyOffers(_) => codes::TOO_MANY_OFFERS,
            Self::InvalidRequest(_) => codes::INVALID_REQUEST,
            Self::AccountGone => codes::SESSION_REVOKED,
            Self::CreditsOverflow => codes::CREDITS_OVERFLOW,
            Self::IdempotencyKeyReused => codes::IDEMPOTENCY_KEY_REUSED,
            Self::NotDocked(_) => codes::NOT_DOCKED,
            Self::Dock(refusal) => refusal.code(),
            Self::RateLimited { .. } => codes::RATE_LIMITED,
            Self::Database(_) | Self::Internal(_) => codes::INTERNAL_ERROR,
        }
    }
}

impl From<EconomyError> for Error {
    fn from(error: EconomyError) -> Self {
        Self::Rule(error)
    }
}

/// The code and words of a refused dock claim.
fn dock_refusal_message(refusal: game::verify::DockRefusal) -> &'static str {
    match refusal {
        game::verify::DockRefusal::UnknownHub => "this zone has no such hub",
        game::verify::DockRefusal::BadTime => {
            "the dock time is not a time of this run (it ended, or is ahead of the station's clock)"
        }
        game::verify::DockRefusal::Implausible => "the ship could not have been at that hub then",
    }
}
