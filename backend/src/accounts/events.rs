//! What the account services tell the rest of the system after a change
//! committed: sessions that ended (their sockets must close on every
//! replica) and accounts that were deleted (their members leave their
//! rooms). The services know nothing about sockets or the lobby bus; the
//! composition root ([`crate::startup`]) plugs the bus in.

use std::future::Future;
use std::pin::Pin;

use game::api::codes;

/// One thing that happened to an account's sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountEvent {
    /// Sessions of `user_id` ended: `only` that one, or all but `except`,
    /// or all.
    SessionsEnded {
        user_id: String,
        only: Option<String>,
        except: Option<String>,
        /// A [`codes`] value: the sockets' close reason.
        reason: &'static str,
    },
    /// The account is gone: every session ended, and the member left each
    /// of `lobbies` (room codes).
    AccountDeleted {
        user_id: String,
        username: String,
        lobbies: Vec<String>,
    },
}

impl AccountEvent {
    pub fn one_session(user_id: &str, session_id: &str) -> Self {
        Self::SessionsEnded {
            user_id: user_id.to_owned(),
            only: Some(session_id.to_owned()),
            except: None,
            reason: codes::SESSION_REVOKED,
        }
    }

    pub fn all_sessions(user_id: &str, except: Option<&str>) -> Self {
        Self::SessionsEnded {
            user_id: user_id.to_owned(),
            only: None,
            except: except.map(str::to_owned),
            reason: codes::SESSION_REVOKED,
        }
    }
}

pub type EventFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Where [`AccountEvent`]s go. Delivery is best effort and never fails the
/// change (it has committed); a socket that misses one still closes when
/// its access token expires, and every request re-checks the session.
pub trait AccountEvents: Send + Sync {
    fn publish(&self, event: AccountEvent) -> EventFuture<'_>;
}

/// Tells nobody (tools that change accounts without a server).
pub struct NoEvents;

impl AccountEvents for NoEvents {
    fn publish(&self, _event: AccountEvent) -> EventFuture<'_> {
        Box::pin(async {})
    }
}
