//! Account services: registration, login and sessions, token refresh,
//! password reset and email verification, the caller's profile, devices
//! and data export. Built on [`crate::auth`] (hashing, tokens),
//! [`crate::domain`] (valid-by-construction inputs) and [`crate::db`] (all
//! SQL).
//!
//! Must not: know HTTP (no axum; [`Error`] carries API codes, the `http`
//! layer picks the statuses); log a password, token or hash.

mod error;
mod events;
mod oauth;
mod profile;
pub mod providers;
mod recovery;
mod service;
mod sessions;

pub use error::{Error, Result};
pub use events::{AccountEvent, AccountEvents, EventFuture, NoEvents};
pub use oauth::{CallbackOutcome, CallbackQuery};
pub use profile::{ProfileChanges, SessionView, UserProfile, export_sections};
pub use service::{Accounts, Caller, Origin, TokenPair};
pub use sessions::Registration;
