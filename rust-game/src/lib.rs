//! The Godot side of Children of the Singularity: node classes only.
//!
//! This crate is loaded by Godot as a GDExtension. It is deliberately thin:
//! nodes read input, tick `game::sim`, draw, and talk to the backend. Every
//! rule (prices, capacities, movement) lives in the `game` crate so the client
//! and the server cannot disagree; talking to the backend and keeping the
//! player's copy is the headless `client` crate's. One folder per feature
//! (`app`, `screens`, `zone`, `hub`, `overlays`, `lobby`, `theme`), mirrored
//! in `godot-project/scenes/<feature>/`; one file per node class, named
//! after its scene (`LoginScreen`, `screens/login_screen.rs`,
//! `scenes/screens/login_screen.tscn`).

use godot::init::{ExtensionLibrary, InitStage, gdextension};

pub mod app;
pub mod hub;
#[cfg(feature = "itest")]
pub mod itest;
pub mod lobby;
pub mod overlays;
pub mod screens;
pub mod theme;
pub mod zone;

struct ChildrenOfTheSingularity;

#[gdextension]
unsafe impl ExtensionLibrary for ChildrenOfTheSingularity {
    fn on_stage_deinit(stage: InitStage) {
        // The library is unloaded right after the main loop ends. Worker threads
        // of a still-running tokio runtime would then execute unmapped code, so
        // the runtime is joined here, while every class is still available.
        if stage == InitStage::MainLoop {
            app::runtime::shutdown();
        }
    }
}
