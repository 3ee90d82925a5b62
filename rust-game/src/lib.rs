//! The Godot side of Children of the Singularity: node classes only.
//!
//! This crate is loaded by Godot as a GDExtension. It is deliberately thin:
//! nodes read input, tick `game::sim`, draw, and talk to the backend. Every
//! rule (prices, capacities, movement) lives in the `game` crate so the client
//! and the server cannot disagree. One file per node class, named after its
//! scene.

use godot::init::{ExtensionLibrary, InitStage, gdextension};

pub mod ai_overlay;
pub mod autoload;
pub mod backend_client;
pub mod boot;
pub mod busy_spinner;
pub mod collect_effects;
pub mod debris_field;
pub mod game_state;
pub mod hub_panel;
pub mod hud;
pub mod inventory_panel;
pub mod itest;
pub mod lobby_avatar;
pub mod lobby_entry;
pub mod login_screen;
pub mod message_log;
pub mod palette;
pub mod pause_menu;
pub mod player_ship;
pub mod radar;
pub mod register_screen;
pub mod runtime;
pub mod starfield;
pub mod trade_window;
pub mod trading_floor;
pub mod trading_hub;
pub mod zone;
pub mod zone_bounds;
pub mod zone_camera;
pub mod zone_select;

struct ChildrenOfTheSingularity;

#[gdextension]
unsafe impl ExtensionLibrary for ChildrenOfTheSingularity {
    fn on_stage_deinit(stage: InitStage) {
        // The library is unloaded right after the main loop ends. Worker threads
        // of a still-running tokio runtime would then execute unmapped code, so
        // the runtime is joined here, while every class is still available.
        if stage == InitStage::MainLoop {
            runtime::shutdown();
        }
    }
}
