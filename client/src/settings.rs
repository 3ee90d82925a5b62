//! The player's settings: station address, volumes, window, vsync, key and
//! gamepad bindings, and whether the first-flight hints are done with.
//!
//! Pure data and its rules, no engine: the game (`rust-game`'s
//! `app::settings_store`) reads the file, applies it at start (audio buses,
//! window, InputMap) and writes it when the settings screen saves. A file
//! that cannot be read gives [`Settings::default`] and a warning, never an
//! error the player meets; every value read is brought back into range.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The settings file's format version.
pub const VERSION: u32 = 1;
/// Smallest and largest window the settings accept (pixels).
pub const MIN_WINDOW: (u32, u32) = (640, 360);
pub const MAX_WINDOW: (u32, u32) = (7680, 4320);
/// Audio buses the game mixes into (`default_bus_layout.tres`).
pub const BUS_MASTER: &str = "Master";
pub const BUS_EFFECTS: &str = "Effects";
pub const BUS_UI: &str = "UI";

/// One input a player can bind to an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Binding {
    /// A key by its physical position (Godot's `physical_keycode`).
    Key {
        physical_keycode: i64,
    },
    MouseButton {
        button: i64,
    },
    JoyButton {
        button: i64,
    },
    /// A stick or trigger pushed one way.
    JoyAxis {
        axis: i64,
        positive: bool,
    },
}

/// Which half of a binding row a [`Binding`] fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    KeyboardMouse,
    Gamepad,
}

impl Binding {
    pub fn device(self) -> Device {
        match self {
            Self::Key { .. } | Self::MouseButton { .. } => Device::KeyboardMouse,
            Self::JoyButton { .. } | Self::JoyAxis { .. } => Device::Gamepad,
        }
    }
}

/// The window: a size, or the whole screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Window {
    Windowed { width: u32, height: u32 },
    Fullscreen,
}

/// Everything the settings screen changes. See the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub version: u32,
    /// The station the game connects to; `None`: the build's default (a
    /// `--backend-url=` argument or `COTS_BACKEND_URL` still wins).
    pub backend_url: Option<String>,
    /// Linear volumes, 0 to 1.
    pub master_volume: f32,
    pub effects_volume: f32,
    pub ui_volume: f32,
    pub window: Window,
    pub vsync: bool,
    /// The player's own bindings per action, replacing the project's; an
    /// action not here keeps its defaults.
    pub bindings: BTreeMap<String, Vec<Binding>>,
    /// The player dismissed the first-flight hints for good.
    pub hints_dismissed: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            version: VERSION,
            backend_url: None,
            master_volume: 1.0,
            effects_volume: 0.8,
            ui_volume: 0.8,
            window: Window::Windowed {
                width: 1280,
                height: 720,
            },
            vsync: true,
            bindings: BTreeMap::new(),
            hints_dismissed: false,
        }
    }
}

/// Why a settings file was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the settings file is unreadable ({})", self.0)
    }
}

/// Why an address is not a station address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    Empty,
    NotHttp,
    Malformed,
    NoHost,
    /// A user name or password inside the address (it would be saved in clear).
    Credentials,
    /// A query or fragment: the game adds the paths itself.
    Extra,
}

impl UrlProblem {
    /// The player's words.
    pub fn words(self) -> &'static str {
        match self {
            Self::Empty => "Type the station's address, e.g. https://station.example.org",
            Self::NotHttp => "The address starts with http:// or https://",
            Self::Malformed => "That is not an address the station directory knows",
            Self::NoHost => "The address needs a host name",
            Self::Credentials => "No user name or password in the address",
            Self::Extra => "Only the station's address: no ? or # part",
        }
    }
}

/// A station address as the game uses it: `http(s)://host[:port][/path]`,
/// trimmed, without a trailing `/`.
pub fn station_url(text: &str) -> Result<String, UrlProblem> {
    let text = text.trim();
    if text.is_empty() {
        return Err(UrlProblem::Empty);
    }
    let lower = text.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(UrlProblem::NotHttp);
    }
    let url = reqwest::Url::parse(text).map_err(|_| UrlProblem::Malformed)?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlProblem::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlProblem::Credentials);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(UrlProblem::Extra);
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A rebinding that was refused: the input already drives `action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub action: String,
}

impl Settings {
    /// Reads a settings file: its values brought into range, or why it
    /// cannot be used (the caller then keeps the defaults and says so).
    pub fn parse(text: &str) -> Result<Self, Unreadable> {
        let settings: Self = serde_json::from_str(text).map_err(|e| Unreadable(e.to_string()))?;
        if settings.version > VERSION {
            return Err(Unreadable(format!(
                "written by a newer game (format {})",
                settings.version
            )));
        }
        Ok(settings.into_range())
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Every value clamped or dropped to something the game can apply.
    pub fn into_range(mut self) -> Self {
        self.version = VERSION;
        for volume in [
            &mut self.master_volume,
            &mut self.effects_volume,
            &mut self.ui_volume,
        ] {
            *volume = if volume.is_finite() {
                volume.clamp(0.0, 1.0)
            } else {
                1.0
            };
        }
        if let Window::Windowed { width, height } = &mut self.window {
            *width = (*width).clamp(MIN_WINDOW.0, MAX_WINDOW.0);
            *height = (*height).clamp(MIN_WINDOW.1, MAX_WINDOW.1);
        }
        self.backend_url = self
            .backend_url
            .as_deref()
            .and_then(|url| station_url(url).ok());
        self.bindings.retain(|_, events| !events.is_empty());
        for events in self.bindings.values_mut() {
            let mut seen = Vec::with_capacity(events.len());
            events.retain(|e| {
                let new = !seen.contains(e);
                seen.push(*e);
                new
            });
        }
        self
    }

    /// The bindings of `action`: the player's, else `defaults`'.
    pub fn bindings_of<'a>(
        &'a self,
        defaults: &'a BTreeMap<String, Vec<Binding>>,
        action: &str,
    ) -> &'a [Binding] {
        self.bindings
            .get(action)
            .or_else(|| defaults.get(action))
            .map_or(&[], Vec::as_slice)
    }

    /// Binds `input` to `action` in place of the action's inputs of the
    /// same device (keys and mouse, or gamepad); refused when another of
    /// the `defaults`' actions already uses it. Binding an input the action
    /// already has changes nothing.
    pub fn rebind(
        &mut self,
        defaults: &BTreeMap<String, Vec<Binding>>,
        action: &str,
        input: Binding,
    ) -> Result<(), Conflict> {
        if let Some(other) = defaults
            .keys()
            .filter(|name| name.as_str() != action)
            .find(|name| self.bindings_of(defaults, name).contains(&input))
        {
            return Err(Conflict {
                action: other.clone(),
            });
        }
        let mut events: Vec<Binding> = self
            .bindings_of(defaults, action)
            .iter()
            .copied()
            .filter(|e| e.device() != input.device())
            .collect();
        events.push(input);
        if defaults.get(action) == Some(&events) {
            self.bindings.remove(action);
        } else {
            self.bindings.insert(action.to_owned(), events);
        }
        Ok(())
    }

    /// Every action back to the project's bindings.
    pub fn reset_bindings(&mut self) {
        self.bindings.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: i64) -> Binding {
        Binding::Key {
            physical_keycode: code,
        }
    }

    fn defaults() -> BTreeMap<String, Vec<Binding>> {
        BTreeMap::from([
            (
                "move_up".to_owned(),
                vec![
                    key(87),
                    Binding::JoyAxis {
                        axis: 1,
                        positive: false,
                    },
                ],
            ),
            (
                "collect".to_owned(),
                vec![key(32), Binding::JoyButton { button: 0 }],
            ),
            ("interact".to_owned(), vec![key(69)]),
        ])
    }

    #[test]
    fn a_file_round_trips() {
        let mut settings = Settings {
            backend_url: Some("https://station.example.org".to_owned()),
            master_volume: 0.25,
            window: Window::Fullscreen,
            vsync: false,
            hints_dismissed: true,
            ..Settings::default()
        };
        settings.rebind(&defaults(), "interact", key(70)).unwrap();
        let text = settings.to_text();
        assert_eq!(Settings::parse(&text), Ok(settings));
    }

    #[test]
    fn a_corrupt_or_future_file_is_unreadable() {
        assert!(Settings::parse("{ not json").is_err());
        assert!(Settings::parse("[1, 2]").is_err());
        assert!(Settings::parse(r#"{"version": 99}"#).is_err());
        // A file from an older game with fewer fields reads as defaults plus
        // what it has.
        let old = Settings::parse(r#"{"vsync": false}"#).unwrap();
        assert!(!old.vsync);
        assert_eq!(old.master_volume, Settings::default().master_volume);
    }

    #[test]
    fn values_are_brought_into_range() {
        let text = r#"{"master_volume": 7.5, "effects_volume": -1,
            "window": {"mode": "windowed", "width": 10, "height": 99999},
            "backend_url": "ftp://x", "bindings": {"move_up": []}}"#;
        let settings = Settings::parse(text).unwrap();
        assert_eq!(settings.master_volume, 1.0);
        assert_eq!(settings.effects_volume, 0.0);
        assert_eq!(
            settings.window,
            Window::Windowed {
                width: MIN_WINDOW.0,
                height: MAX_WINDOW.1
            }
        );
        assert_eq!(settings.backend_url, None);
        assert!(settings.bindings.is_empty());
    }

    #[test]
    fn station_addresses_are_checked() {
        assert_eq!(
            station_url("  https://station.example.org/ "),
            Ok("https://station.example.org".to_owned())
        );
        assert_eq!(
            station_url("http://127.0.0.1:8080"),
            Ok("http://127.0.0.1:8080".to_owned())
        );
        assert_eq!(station_url(""), Err(UrlProblem::Empty));
        assert_eq!(station_url("station.example.org"), Err(UrlProblem::NotHttp));
        assert_eq!(station_url("http://"), Err(UrlProblem::Malformed));
        assert_eq!(
            station_url("https://me:secret@station.example.org"),
            Err(UrlProblem::Credentials)
        );
        assert_eq!(
            station_url("https://station.example.org/?x=1"),
            Err(UrlProblem::Extra)
        );
    }

    #[test]
    fn rebinding_replaces_the_same_device_and_refuses_conflicts() {
        let defaults = defaults();
        let mut settings = Settings::default();
        // E is interact's: refused, nothing changes.
        assert_eq!(
            settings.rebind(&defaults, "move_up", key(69)),
            Err(Conflict {
                action: "interact".to_owned()
            })
        );
        assert!(settings.bindings.is_empty());
        // Up on I: the key is replaced, the stick stays.
        settings.rebind(&defaults, "move_up", key(73)).unwrap();
        assert_eq!(
            settings.bindings_of(&defaults, "move_up"),
            &[
                Binding::JoyAxis {
                    axis: 1,
                    positive: false
                },
                key(73)
            ]
        );
        // Now W is free for another action, and I is taken.
        settings.rebind(&defaults, "interact", key(87)).unwrap();
        assert!(settings.rebind(&defaults, "collect", key(73)).is_err());
        // A gamepad button replaces only the gamepad half.
        settings
            .rebind(&defaults, "collect", Binding::JoyButton { button: 3 })
            .unwrap();
        assert_eq!(
            settings.bindings_of(&defaults, "collect"),
            &[key(32), Binding::JoyButton { button: 3 }]
        );
        settings.reset_bindings();
        assert_eq!(
            settings.bindings_of(&defaults, "move_up"),
            defaults["move_up"]
        );
    }

    #[test]
    fn binding_back_to_the_default_leaves_no_override() {
        let defaults = defaults();
        let mut settings = Settings::default();
        settings.rebind(&defaults, "interact", key(70)).unwrap();
        settings.rebind(&defaults, "interact", key(69)).unwrap();
        assert!(settings.bindings.is_empty());
    }
}
