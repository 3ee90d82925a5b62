//! The trading lobby (`godot-project/scenes/lobby/`): the trading floor with
//! its registry, the traders' avatars and the trade window. Room and offer
//! logic live in `client::room` and `client::trade`.

pub mod lobby_avatar;
pub mod lobby_entry;
pub mod trade_window;
pub mod trading_floor;
