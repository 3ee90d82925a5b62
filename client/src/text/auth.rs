//! What the login and register screens check as the player types, and how
//! the server's error codes are explained. Plain Rust, unit-tested with
//! `cargo test`.
//!
//! The field rules come from `game::account`, which the backend enforces
//! too. The server checks again (and also refuses common or too simple
//! passwords), so these are a courtesy, not a guard.

use game::account;
use game::api::codes;

/// One rule of the register form, ticked off as the player types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    UsernameLength,
    UsernameCharacters,
    EmailShape,
    PasswordLength,
    PasswordWithoutUsername,
    PasswordsMatch,
}

impl Rule {
    pub const ALL: [Rule; 6] = [
        Rule::UsernameLength,
        Rule::UsernameCharacters,
        Rule::EmailShape,
        Rule::PasswordLength,
        Rule::PasswordWithoutUsername,
        Rule::PasswordsMatch,
    ];

    /// The line shown next to the tick box.
    pub fn label(self) -> &'static str {
        match self {
            Rule::UsernameLength => "username: 3-24 characters",
            Rule::UsernameCharacters => "username: letters, digits, _ and - only",
            Rule::EmailShape => "email address looks valid",
            Rule::PasswordLength => "password: 12-128 characters",
            Rule::PasswordWithoutUsername => "password does not contain the username",
            Rule::PasswordsMatch => "both passwords match",
        }
    }
}

/// What the register form holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterForm {
    pub email: String,
    pub username: String,
    pub password: String,
    pub repeat: String,
}

impl RegisterForm {
    /// Whether `rule` is met.
    pub fn meets(&self, rule: Rule) -> bool {
        match rule {
            Rule::UsernameLength => account::username_length_ok(&self.username),
            Rule::UsernameCharacters => {
                !self.username.is_empty() && account::username_characters_ok(&self.username)
            }
            Rule::EmailShape => email_looks_valid(&self.email),
            Rule::PasswordLength => (account::PASSWORD_MIN_CHARS..=account::PASSWORD_MAX_CHARS)
                .contains(&self.password.chars().count()),
            Rule::PasswordWithoutUsername => {
                !self.password.is_empty()
                    && (self.username.is_empty()
                        || !account::password_contains_username(&self.password, &self.username))
            }
            Rule::PasswordsMatch => !self.password.is_empty() && self.password == self.repeat,
        }
    }

    /// Whether every rule is met (the submit button is enabled).
    pub fn is_complete(&self) -> bool {
        Rule::ALL.iter().all(|&rule| self.meets(rule))
    }
}

/// `something@something.tld`, no spaces: the server decides the rest.
pub fn email_looks_valid(email: &str) -> bool {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !email.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// Whether the login form may be sent.
pub fn login_form_ready(login: &str, password: &str) -> bool {
    !login.trim().is_empty() && !password.is_empty()
}

/// "4 min 30 s", "12 s", "2 h 5 min".
pub fn format_wait(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) if s == 0 => format!("{m} min"),
        (0, _) => format!("{m} min {s} s"),
        _ if m == 0 => format!("{h} h"),
        _ => format!("{h} h {m} min"),
    }
}

/// What the player reads for a server (or transport) error.
pub fn explain_error(code: &str, message: &str, retry_after: Option<u64>) -> String {
    let wait = retry_after.map(format_wait);
    match code {
        codes::INVALID_CREDENTIALS => "Wrong login or password.".to_owned(),
        codes::ACCOUNT_LOCKED => match wait {
            Some(wait) => {
                format!("Account locked after repeated failed logins. Try again in {wait}.")
            }
            None => "Account locked after repeated failed logins. Try again later.".to_owned(),
        },
        codes::RATE_LIMITED => match wait {
            Some(wait) => format!("Too many requests. Wait {wait} and try again."),
            None => "Too many requests. Wait a moment and try again.".to_owned(),
        },
        codes::USERNAME_TAKEN => "That username is already taken.".to_owned(),
        codes::EMAIL_TAKEN => "An account with that email address already exists.".to_owned(),
        codes::EMAIL_NOT_VERIFIED => {
            "Confirm your email address first (see the verification mail).".to_owned()
        }
        codes::UNREACHABLE => {
            format!("Cannot reach the station. {message} Check the station address in SETTINGS.")
        }
        codes::OAUTH_DENIED => {
            "You declined at the provider: nothing was shared and you are not signed in.".to_owned()
        }
        codes::OAUTH_FAILED if message.is_empty() => {
            "Signing in through the provider failed its checks. Try again.".to_owned()
        }
        codes::OAUTH_FAILED => format!("Signing in through the provider failed: {}", end(message)),
        codes::PROVIDER_UNAVAILABLE => {
            "The provider cannot be reached right now. Try again later, or sign in with a password."
                .to_owned()
        }
        codes::INVALID_OAUTH_CODE => {
            "That sign-in expired or was already used. Press the provider's button again."
                .to_owned()
        }
        codes::INVALID_OAUTH_TICKET => {
            "That sign-in step expired. Press the provider's button again.".to_owned()
        }
        codes::OAUTH_IDENTITY_TAKEN => {
            "That provider account already belongs to another pilot.".to_owned()
        }
        codes::OAUTH_EMAIL_REQUIRED => {
            "The provider shared no confirmed email address, so the station cannot open a file \
             on you. Confirm your address with the provider, or register with a password."
                .to_owned()
        }
        codes::OAUTH_ALREADY_LINKED => {
            "Your account is already linked with that provider.".to_owned()
        }
        codes::LAST_SIGN_IN_METHOD => {
            "That is your last way to sign in: link another provider first.".to_owned()
        }
        codes::INVALID_PASSWORD
        | codes::INVALID_USERNAME
        | codes::INVALID_EMAIL
        | codes::INVALID_REQUEST => capitalise(message),
        _ if message.is_empty() => format!("The station refused ({code})."),
        _ => capitalise(message),
    }
}

/// `text` ending with a full stop.
fn end(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => {
            let mut out: String = first.to_uppercase().collect();
            out.push_str(chars.as_str());
            if !out.ends_with('.') {
                out.push('.');
            }
            out
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(username: &str, password: &str) -> RegisterForm {
        RegisterForm {
            email: "ada@example.org".into(),
            username: username.into(),
            password: password.into(),
            repeat: password.into(),
        }
    }

    #[test]
    fn username_rules() {
        assert!(!form("ab", "").meets(Rule::UsernameLength));
        assert!(form("abc", "").meets(Rule::UsernameLength));
        assert!(form(&"x".repeat(24), "").meets(Rule::UsernameLength));
        assert!(!form(&"x".repeat(25), "").meets(Rule::UsernameLength));
        assert!(form("Salvager_42-x", "").meets(Rule::UsernameCharacters));
        assert!(!form("space man", "").meets(Rule::UsernameCharacters));
        assert!(!form("émile", "").meets(Rule::UsernameCharacters));
        assert!(!form("", "").meets(Rule::UsernameCharacters));
    }

    #[test]
    fn password_rules_tick_off_as_typed() {
        let mut f = form("Voyager", "");
        assert!(!f.meets(Rule::PasswordLength));
        assert!(!f.meets(Rule::PasswordsMatch));
        f.password = "orbital-debris".into();
        assert!(f.meets(Rule::PasswordLength));
        assert!(f.meets(Rule::PasswordWithoutUsername));
        assert!(!f.meets(Rule::PasswordsMatch));
        f.repeat = f.password.clone();
        assert!(f.meets(Rule::PasswordsMatch));
        assert!(f.is_complete());
        f.password = "my-voyager-password".into();
        assert!(!f.meets(Rule::PasswordWithoutUsername), "case-insensitive");
        assert!(!form("ab", &"x".repeat(129)).meets(Rule::PasswordLength));
        assert!(
            form("ab", &"é".repeat(12)).meets(Rule::PasswordLength),
            "characters, not bytes"
        );
    }

    #[test]
    fn email_shape() {
        assert!(email_looks_valid("a@b.co"));
        assert!(!email_looks_valid("a@b"));
        assert!(!email_looks_valid("@b.co"));
        assert!(!email_looks_valid("a b@c.de"));
        assert!(!email_looks_valid("a@.de"));
    }

    #[test]
    fn waits_read_naturally() {
        assert_eq!(format_wait(12), "12 s");
        assert_eq!(format_wait(60), "1 min");
        assert_eq!(format_wait(270), "4 min 30 s");
        assert_eq!(format_wait(7500), "2 h 5 min");
    }

    #[test]
    fn errors_are_explained() {
        assert_eq!(
            explain_error("invalid_credentials", "x", None),
            "Wrong login or password."
        );
        assert!(explain_error("account_locked", "", Some(270)).contains("4 min 30 s"));
        assert!(explain_error("rate_limited", "", Some(12)).contains("12 s"));
        assert!(explain_error("username_taken", "", None).contains("taken"));
        assert_eq!(
            explain_error("invalid_password", "password is too common", None),
            "Password is too common."
        );
        assert!(explain_error("teapot", "", None).contains("teapot"));
    }

    #[test]
    fn provider_sign_in_errors_are_explained() {
        for code in [
            codes::OAUTH_DENIED,
            codes::OAUTH_FAILED,
            codes::PROVIDER_UNAVAILABLE,
            codes::INVALID_OAUTH_CODE,
            codes::INVALID_OAUTH_TICKET,
            codes::OAUTH_IDENTITY_TAKEN,
            codes::OAUTH_EMAIL_REQUIRED,
            codes::OAUTH_ALREADY_LINKED,
            codes::LAST_SIGN_IN_METHOD,
        ] {
            let words = explain_error(code, "", None);
            assert!(!words.contains(code), "{code}: {words}");
            assert!(words.ends_with('.'), "{code}: {words}");
        }
        assert!(explain_error(codes::OAUTH_DENIED, "access_denied", None).contains("declined"));
        assert_eq!(
            explain_error(codes::OAUTH_FAILED, "the nonce did not match", None),
            "Signing in through the provider failed: the nonce did not match."
        );
    }
}
