//! The authoritative backend of Children of the Singularity: accounts and
//! sessions now; the economy, lobbies and trades build on the same pieces.
//!
//! Imports point down this list, never up (`python3
//! scripts/check-module-cycles.py --edges backend/src` prints them and fails
//! on any cycle):
//!
//! - [`startup`] ([`Application`] builds and serves),
//!   [`commands`] (the CLI's maintenance tasks);
//! - [`http`]: routes (one module per resource),
//!   [`AppState`](http::AppState), the [`Error`](http::error::Error) type
//!   with every status, the extractors (`AuthUser`, `Idempotency`,
//!   `ApiJson`), the unit of work, middleware;
//! - services with their own error types and no HTTP: [`accounts`]
//!   (registration, sessions, profile) and [`economy`] (players, runs,
//!   sales, upgrades, messages, lobbies and trades on the `game` crate's
//!   rules, with ledger and idempotency);
//! - [`mail`], [`telemetry`];
//! - [`db`]: the pool (SQLite or PostgreSQL through sqlx `Any`) and every
//!   SQL statement, one module per table;
//! - [`config`]: environment configuration, validated as a whole;
//! - [`auth`] (password hashing, JWTs, opaque tokens), [`domain`] (`Email`,
//!   `Username`, `Password`, valid by construction), [`metrics`], [`clock`].
//!
//! Must not: log a password, token or hash; hold SQL outside `db`; trust the
//! client for anything the `game` crate can recompute; spell an error code
//! or a socket constant that `game::api` defines.

pub mod accounts;
pub mod admin;
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
pub mod retention;
pub mod startup;
pub mod telemetry;

pub use config::Config;
pub use startup::Application;
