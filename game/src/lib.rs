//! The rules of Children of the Singularity: catalog, economy, zone simulation.
//!
//! Used by both the Godot client (`rust-game`) and the server (`backend`), so
//! the two can never disagree on a price, a cost curve or a capacity.
//! Nothing here touches Godot, files, the network or an async runtime.

/// Name of the game, as shown in window titles and logs.
pub const GAME_NAME: &str = "Children of the Singularity";
