use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use game::account;
use secrecy::{ExposeSecret, SecretString};

use super::Username;

/// The list shipped with the crate (Openwall's public-domain list plus
/// project additions), embedded at compile time.
const COMMON_PASSWORDS_FILE: &str = include_str!("../../data/common-passwords.txt");

static COMMON_PASSWORDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    COMMON_PASSWORDS_FILE
        .lines()
        .filter(|line| !line.starts_with("#!comment") && !line.is_empty())
        .map(str::to_lowercase)
        .collect()
});

/// A new password that meets the policy: 12-128 characters, not a common
/// password (or a common password dressed up with digits and symbols), not
/// containing the username, not a single repeated character pattern.
///
/// Only used for passwords being *set*. Login takes whatever the player typed
/// (see [`crate::auth::password`]), so a policy change never locks anyone out.
/// The secret is wrapped so it never shows up in `Debug` output or logs.
pub struct Password(SecretString);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordError {
    TooShort,
    TooLong,
    Common,
    ContainsUsername,
    TooSimple,
}

impl PasswordError {
    pub fn message(self) -> &'static str {
        match self {
            Self::TooShort => "password must be at least 12 characters",
            Self::TooLong => "password must be at most 128 characters",
            Self::Common => "password is too common",
            Self::ContainsUsername => "password must not contain the username",
            Self::TooSimple => "password is too simple: use more different characters",
        }
    }
}

impl Password {
    pub fn parse(raw: &str, username: &Username) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < account::PASSWORD_MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > account::PASSWORD_MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        if account::password_contains_username(raw, username.as_str()) {
            return Err(PasswordError::ContainsUsername);
        }
        let lower = raw.to_lowercase();
        if is_common(&lower) {
            return Err(PasswordError::Common);
        }
        let distinct: HashSet<char> = lower.chars().collect();
        if distinct.len() < 5 {
            return Err(PasswordError::TooSimple);
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A common password as-is, or with digits/symbols stuck on either end
/// ("Password1234!", "!!dragon2024"), or repeated ("monkeymonkey").
fn is_common(lower: &str) -> bool {
    if COMMON_PASSWORDS.contains(lower) {
        return true;
    }
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    if core.chars().count() >= 4 && COMMON_PASSWORDS.contains(core) {
        return true;
    }
    // a short pattern repeated to reach the length limit
    let chars: Vec<char> = lower.chars().collect();
    (1..=chars.len() / 2).any(|period| {
        chars.len().is_multiple_of(period)
            && chars.chunks(period).all(|chunk| chunk == &chars[..period])
    })
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Username {
        Username::parse("Voyager").unwrap()
    }

    #[test]
    fn accepts_a_long_unusual_password() {
        assert!(Password::parse("orbital-debris-collects-dust", &user()).is_ok());
    }

    #[test]
    fn enforces_length() {
        assert_eq!(
            Password::parse("Short1!x", &user()).unwrap_err(),
            PasswordError::TooShort
        );
        let long = "ab1-".repeat(33);
        assert_eq!(
            Password::parse(&long, &user()).unwrap_err(),
            PasswordError::TooLong
        );
    }

    #[test]
    fn rejects_common_passwords_and_variants() {
        for common in [
            "password1234",
            "Password1234!",
            "123456789012",
            "!!!sunshine2024",
            "qwertyuiopas",
        ] {
            assert_eq!(
                Password::parse(common, &user()).unwrap_err(),
                PasswordError::Common,
                "{common}"
            );
        }
    }

    #[test]
    fn rejects_repeated_patterns() {
        assert!(Password::parse("abcabcabcabc", &user()).is_err());
        assert!(Password::parse("zzzzzzzzzzzzzz", &user()).is_err());
    }

    #[test]
    fn rejects_username_inside() {
        assert_eq!(
            Password::parse("my-voyager-is-fast", &user()).unwrap_err(),
            PasswordError::ContainsUsername
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let password = Password::parse("orbital-debris-collects-dust", &user()).unwrap();
        assert!(!format!("{password:?}").contains("orbital"));
    }

    #[test]
    fn the_shipped_list_is_loaded() {
        assert!(COMMON_PASSWORDS.len() > 3000);
    }
}
