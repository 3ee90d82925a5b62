//! Words the player reads, derived from the rules so they cannot disagree
//! with them: form checks and server refusals of the account screens
//! ([`auth`]), lobby refusals and offer summaries ([`lobby`]), what an
//! upgrade level does ([`upgrade`]).

pub mod auth;
pub mod lobby;
pub mod upgrade;
