//! Full screens before the game (`godot-project/scenes/screens/`): the boot
//! screen that restores a session, login and registration.

pub mod boot;
pub mod login_screen;
pub mod register_screen;
