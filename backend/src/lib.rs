//! The authoritative backend of Children of the Singularity: accounts and
//! sessions now; the economy, lobbies and trades build on the same pieces.
//!
//! Layout:
//! - [`config`]: environment configuration, validated as a whole;
//! - [`startup`]: [`Application`](startup::Application) builds and serves;
//! - [`http`]: routes (one module per resource), [`AppState`](http::AppState),
//!   the [`Error`](http::error::Error) type, extractors, middleware;
//! - [`auth`]: password hashing, JWTs, opaque tokens, the
//!   [`AuthUser`](auth::AuthUser) extractor;
//! - [`domain`]: `Email`, `Username`, `Password`, valid by construction;
//! - [`db`]: the pool (SQLite or PostgreSQL through sqlx `Any`) and every
//!   SQL statement, one module per table;
//! - [`economy`]: players, runs, sales, upgrades, messages, lobbies and
//!   trades on the `game` crate's rules, with ledger and idempotency;
//! - [`mail`], [`metrics`], [`telemetry`], [`commands`].
//!
//! Must not: log a password, token or hash; hold SQL outside `db`; trust the
//! client for anything the `game` crate can recompute.

pub mod auth;
pub mod clock;
pub mod commands;
pub mod config;
pub mod db;
pub mod domain;
pub mod economy;
pub mod healthcheck;
pub mod http;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod startup;
pub mod telemetry;

pub use config::Config;
pub use startup::Application;
