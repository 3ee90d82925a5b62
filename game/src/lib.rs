//! The rules of Children of the Singularity: catalog, economy, zone simulation.
//!
//! Used by both the Godot client (`rust-game`) and the server (`backend`), so
//! the two can never disagree on a price, a cost curve or a capacity.
//! Nothing here touches Godot, files, the network, a clock or an async
//! runtime; every function is deterministic given its arguments.
//!
//! - [`catalog`]: the designer-edited data file, typed and validated.
//! - [`economy`]: `PlayerState` and its all-or-nothing operations; derived
//!   ship effects.
//! - [`debris`]: the seeded debris field as a pure function of `(seed, i)`.
//! - [`sim`]: one zone run as a bevy_ecs world behind the `ZoneSim` facade.
//! - [`verify`]: the server's checks of collection claims.
//! - [`milestones`]: which station AI messages an event unlocks.
//! - [`ship`]: what upgrade levels make of the ship (`ShipEffects`).
//! - [`lobby`]: the trading lobby's rules (room codes, reach, floor).
//! - [`api`]: serde bodies of every HTTP endpoint, every error code
//!   ([`api::codes`]) and the lobby socket's protocol ([`api::ws`]).

pub mod account;
pub mod api;
pub mod catalog;
pub mod codes;
pub mod debris;
pub mod detmath;
pub mod economy;
pub mod lobby;
pub mod milestones;
pub mod ship;
pub mod sim;
pub mod verify;

pub use catalog::{Catalog, Credits, ItemCount, KindIndex, Level, UpgradeId, ZoneId};
pub use economy::{EconomyError, PlayerState, ShipEffects, TradeBundle, UpgradeLevels};
pub use lobby::LobbyCodeError;

/// Name of the game, as shown in window titles and logs.
pub const GAME_NAME: &str = "Children of the Singularity";
