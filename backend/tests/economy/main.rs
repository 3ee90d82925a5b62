//! Integration tests of the economy, lobbies and trades: a real server with
//! a fresh database per test, on SQLite and (with TEST_POSTGRES_URL)
//! PostgreSQL. Shares the accounts tests' harness (`api/helpers.rs`).

#[path = "../api/helpers.rs"]
mod helpers;

#[path = "../ops_support/mod.rs"]
mod ops_support;

mod econ;

mod admin;
mod audit;
mod concurrency;
mod hub;
mod idempotency;
mod integrity;
mod lobbies;
mod messages;
mod player;
mod properties;
mod replica;
mod retention;
mod runs;
mod trades;
mod upgrades;
mod ws;
mod ws_sessions;
