//! Flying a zone (`godot-project/scenes/zone/`): the [`zone::Zone`] scene ticks
//! `game::sim`, with the ship, the debris field, the camera, the radar, the
//! collection effects, the trading hubs, the bounds, the starfield and the HUD.

pub mod collect_effects;
pub mod debris_field;
pub mod hud;
pub mod player_ship;
pub mod radar;
pub mod starfield;
pub mod trading_hub;
pub mod zone;
pub mod zone_bounds;
pub mod zone_camera;
