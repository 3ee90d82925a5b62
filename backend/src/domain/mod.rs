//! Domain types that can only be constructed valid ("parse, don't validate").
//!
//! Handlers turn raw request strings into these types first; everything below
//! the HTTP layer receives them already checked and never re-validates.

mod email;
mod password;
mod username;

pub use email::Email;
pub use password::{Password, PasswordError};
pub use username::Username;
