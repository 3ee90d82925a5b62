//! Flying a zone (`godot-project/scenes/zone/`): the [`zone::Zone`] scene ticks
//! `game::sim`, with the ship, the debris field, the camera, the radar, the
//! collection effects, the trading hubs, the bounds, the starfield, the HUD
//! and a newcomer's first-flight hints.

pub mod collect_effects;
pub mod debris_field;
pub mod flight_hints;
pub mod hud;
pub mod player_ship;
pub mod radar;
pub mod starfield;
pub mod trading_hub;
// `Zone` lives in `zone.rs` beside `zone.tscn`, like every class beside its
// scene; the feature folder is named after it too.
#[allow(clippy::module_inception)]
pub mod zone;
pub mod zone_bounds;
pub mod zone_camera;
