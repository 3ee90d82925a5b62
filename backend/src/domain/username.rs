use std::fmt;

/// A player name: 3-24 characters of `[A-Za-z0-9_-]`.
///
/// Case is kept for display; uniqueness is case-insensitive (see the
/// `users_username_key` index).
#[derive(Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 24;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let len = raw.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err("username must be 3-24 characters");
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
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
