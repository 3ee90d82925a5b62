//! The shape of account fields: what a username and a password must look
//! like. The register screen ticks these off as the player types and the
//! backend's `Username`/`Password` types enforce them, so the two can never
//! disagree. (The server's extra password checks — common passwords, too few
//! distinct characters — need its shipped list and stay there.)

/// Shortest and longest username, in characters.
pub const USERNAME_MIN_CHARS: usize = 3;
pub const USERNAME_MAX_CHARS: usize = 24;
/// Shortest and longest password, in characters.
pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// 3-24 characters.
pub fn username_length_ok(username: &str) -> bool {
    (USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&username.chars().count())
}

/// Only `[A-Za-z0-9_-]` (true for the empty string; length is its own rule).
pub fn username_characters_ok(username: &str) -> bool {
    username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether the password contains the username, ignoring case.
pub fn password_contains_username(password: &str, username: &str) -> bool {
    password.to_lowercase().contains(&username.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules() {
        assert!(!username_length_ok("ab"));
        assert!(username_length_ok("abc"));
        assert!(username_length_ok(&"a".repeat(24)));
        assert!(!username_length_ok(&"a".repeat(25)));
        assert!(username_characters_ok("Void_Walker-7"));
        assert!(!username_characters_ok("void walker"));
        assert!(!username_characters_ok("vöid"));
    }

    #[test]
    fn password_may_not_contain_the_username_in_any_case() {
        assert!(password_contains_username("my-VOYAGER-secret", "voyager"));
        assert!(!password_contains_username("orbital-salvage-42", "voyager"));
    }
}
