//! Docked at a trading hub (`godot-project/scenes/hub/`): the hub panel
//! (sell, upgrades, navigation), the inventory and the zone select.

pub mod hub_panel;
pub mod inventory_panel;
pub mod zone_select;
