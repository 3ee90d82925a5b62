//! The autoloads every scene finds (`project.godot`'s `[autoload]`, scenes in
//! `godot-project/scenes/app/`): [`settings_store::SettingsStore`] (the
//! player's settings, applied before any scene starts),
//! [`backend_client::BackendClient`] (HTTP and the session; its account
//! calls in [`account`], signing in through a provider in [`providers`]) and
//! [`game_state::GameState`] (the player's economy), plus
//! the shared tokio [`runtime`] they run their network tasks on.

pub mod account;
pub mod backend_client;
pub mod game_state;
pub mod providers;
pub mod runtime;
pub mod settings_store;
