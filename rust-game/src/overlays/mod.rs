//! What lies over any scene (`godot-project/scenes/overlays/`): the station
//! AI's messages and their log, the pause menu, the settings (opened from
//! the login screen and the pause menu), the account screen and the email
//! confirmation, the busy spinner.

pub mod account_screen;
pub mod ai_overlay;
pub mod busy_spinner;
pub mod email_verification;
pub mod message_log;
pub mod pause_menu;
pub mod settings_screen;
