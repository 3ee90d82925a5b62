//! The shape of account fields: what a username and a password must look
//! like. The register screen ticks these off as the player types and the
//! backend's `Username`/`Password` types enforce them, so the two can never
//! disagree. (The server's extra password checks — common passwords, too few
//! distinct characters — need its shipped list and stay there.)

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, ZoneId};

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

/// Languages the game's text exists in. Only English so far: the setting
/// is kept (and validated) so a player's choice follows them once more exist.
pub const LANGUAGES: &[&str] = &["en"];

/// How lobby chat from other players is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatFilter {
    /// As typed.
    Off,
    /// Words on [`crate::lobby::MASKED_WORDS`] shown as asterisks.
    #[default]
    Mask,
}

/// What a player chose that follows them from device to device: stored on
/// the server (`GET /me` carries it, `PUT /me/preferences` replaces it, the
/// data export includes it). A field left out of a stored or sent object
/// takes its default; an unknown field is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Preferences {
    /// The zone a run starts in after signing in (`None`: zone 1). The
    /// account screen offers the zones the player is cleared for.
    pub preferred_zone: Option<ZoneId>,
    /// The first-flight hints in the zone.
    pub show_hints: bool,
    /// Lobby chat from others.
    pub chat_filter: ChatFilter,
    /// One of [`LANGUAGES`].
    pub language: String,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            preferred_zone: None,
            show_hints: true,
            chat_filter: ChatFilter::default(),
            language: LANGUAGES[0].to_owned(),
        }
    }
}

/// Why a preferences object cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreferencesError {
    #[error("there is no zone {0}")]
    UnknownZone(ZoneId),
    #[error("the game has no text in `{0}` (it has: en)")]
    UnknownLanguage(String),
}

impl Preferences {
    /// Checks the values against the catalog: the client before it sends,
    /// the server before it stores.
    pub fn check(&self, catalog: &Catalog) -> Result<(), PreferencesError> {
        if let Some(zone) = self.preferred_zone
            && catalog.zone(zone).is_none()
        {
            return Err(PreferencesError::UnknownZone(zone));
        }
        if !LANGUAGES.contains(&self.language.as_str()) {
            let mut shown: String = self.language.chars().take(16).collect();
            if self.language.chars().count() > 16 {
                shown.push('…');
            }
            return Err(PreferencesError::UnknownLanguage(shown));
        }
        Ok(())
    }
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

    #[test]
    fn preferences_default_and_fill_in_missing_fields() {
        let defaults = Preferences::default();
        assert!(defaults.show_hints);
        assert_eq!(defaults.chat_filter, ChatFilter::Mask);
        assert_eq!(defaults.language, "en");
        let partial: Preferences = serde_json::from_str(r#"{"show_hints":false}"#).unwrap();
        assert_eq!(
            partial,
            Preferences {
                show_hints: false,
                ..Preferences::default()
            }
        );
        assert_eq!(serde_json::from_str::<Preferences>("{}").unwrap(), defaults);
    }

    #[test]
    fn preferences_refuse_unknown_fields_zones_and_languages() {
        assert!(serde_json::from_str::<Preferences>(r#"{"theme":"dark"}"#).is_err());
        assert!(serde_json::from_str::<Preferences>(r#"{"chat_filter":"loud"}"#).is_err());
        let catalog = Catalog::shipped();
        let mut prefs = Preferences {
            preferred_zone: Some(2),
            ..Preferences::default()
        };
        assert_eq!(prefs.check(catalog), Ok(()));
        prefs.preferred_zone = Some(99);
        assert_eq!(prefs.check(catalog), Err(PreferencesError::UnknownZone(99)));
        prefs.preferred_zone = None;
        prefs.language = "x".repeat(40);
        assert!(matches!(
            prefs.check(catalog),
            Err(PreferencesError::UnknownLanguage(shown)) if shown.chars().count() == 17
        ));
    }
}
