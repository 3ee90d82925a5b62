use std::fmt;

use game::account;

/// A player name: 3-24 characters of `[A-Za-z0-9_-]`.
///
/// Case is kept for display; uniqueness is case-insensitive (see the
/// `users_username_key` index).
#[derive(Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if !account::username_length_ok(raw) {
            return Err("username must be 3-24 characters");
        }
        if !account::username_characters_ok(raw) {
            return Err("username may only contain letters, digits, '_' and '-'");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({:?})", self.0)
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Username;

    #[test]
    fn accepts_valid_names() {
        for ok in ["abc", "Salvager_42", "a-b-c", &"x".repeat(24)] {
            assert!(Username::parse(ok).is_ok(), "{ok} rejected");
        }
    }

    #[test]
    fn rejects_invalid_names() {
        for bad in [
            "",
            "ab",
            &"x".repeat(25),
            "space man",
            "robert'); DROP TABLE users;--",
            "émile",
            "tab\tname",
            "dot.name",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
