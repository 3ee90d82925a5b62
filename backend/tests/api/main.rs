//! Integration tests of the HTTP API: every test runs against a real server
//! with a fresh database, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL.

mod helpers;
#[path = "../support_oidc/mod.rs"]
mod support_oidc;

mod attacks;
mod auth;
mod limits;
mod me;
mod network;
mod oauth;
mod operations;
mod recovery;
mod serving;
