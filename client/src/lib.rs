//! The headless client of Children of the Singularity: everything the game
//! does to talk to its backend and keep its own copy of the player, with no
//! renderer and no engine.
//!
//! The Godot library (`rust-game`) wraps these types in nodes; the backend's
//! integration tests and the load generator can drive a server with the same
//! code (see [`api::ApiClient`]). The rules themselves (prices, capacities,
//! codes, the socket protocol) come from the `game` crate and are never
//! restated here.
//!
//! What this crate must not do: use Godot types (its tests run under plain
//! `cargo test`), draw, or read input. It owns I/O only through `reqwest`,
//! `tokio-tungstenite` and the queue file it is handed a path for.
//!
//! - [`net`]: one HTTP call ([`net::Call`]), its errors, the tokens and their
//!   refresh ([`net::NetCore`]).
//! - [`routes`]: every route the game calls, as a [`net::Call`].
//! - [`api`]: a typed async client of those routes.
//! - [`oauth`]: signing in through a provider: PKCE, `state`, the loopback
//!   listener the browser comes back to.
//! - [`lobby_socket`]: the trading lobby's WebSocket.
//! - [`offline_queue`]: economy calls that wait their turn, on disk.
//! - [`player_mirror`]: the server's player plus the client's predictions.
//! - [`session`]: one player's economy: mirror, queue, backoff, messages.
//! - [`settings`]: the player's settings (station, sound, window, bindings).
//! - [`room`]: a trading room's members, chat and events.
//! - [`trade`]: one offer: its fields, checks, events and words.
//! - [`text`]: words for the player (refusals, form rules, upgrades).

pub mod api;
pub mod lobby_socket;
pub mod net;
pub mod oauth;
pub mod offline_queue;
pub mod player_mirror;
pub mod room;
pub mod routes;
pub mod session;
pub mod settings;
pub mod text;
pub mod trade;
