//! Full screens before the game (`godot-project/scenes/screens/`): the boot
//! screen that restores a session, login and registration; and the settings
//! overlay that login and the pause menu open.

pub mod boot;
pub mod login_screen;
pub mod register_screen;
pub mod settings_screen;
