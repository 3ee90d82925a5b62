//! `SettingsStore` (autoload, `scenes/app/settings_store.tscn`): the
//! player's settings ([`client::settings::Settings`]) read from
//! `user://settings.json` before any scene starts, applied (audio buses,
//! window, vsync, InputMap) and saved when the settings screen says so.
//!
//! The project's own bindings are taken from the InputMap at start, before
//! the player's replace them: they are the defaults "reset" returns to and
//! the list of actions a player may rebind (every action but Godot's
//! `ui_*`). A file that cannot be read is left alone on disk until the next
//! save and the defaults are used, with a warning in the log.

use std::collections::BTreeMap;

use godot::classes::display_server::{VSyncMode, WindowMode};
use godot::classes::file_access::ModeFlags;
use godot::classes::{
    AudioServer, DisplayServer, FileAccess, INode, InputEvent, InputEventJoypadButton,
    InputEventJoypadMotion, InputEventKey, InputEventMouseButton, InputMap, Node,
};
use godot::global::{JoyAxis, JoyButton, Key, MouseButton};
use godot::obj::EngineEnum as _;
use godot::prelude::*;

use client::settings::{self, Binding, Settings, Window};

/// The settings autoload. See the module docs.
#[derive(GodotClass)]
#[class(base = Node, init)]
pub struct SettingsStore {
    /// Where the settings are kept.
    #[export]
    #[init(val = GString::from("user://settings.json"))]
    settings_file: GString,
    settings: Settings,
    /// The project's bindings of every rebindable action.
    defaults: BTreeMap<String, Vec<Binding>>,
    /// The same, as the project's own InputMap events.
    project_events: Vec<(StringName, Array<Gd<InputEvent>>)>,
    /// Why the file was not used at start ("" when it was, or was absent).
    load_problem: String,
    base: Base<Node>,
}

#[godot_api]
impl INode for SettingsStore {
    fn ready(&mut self) {
        self.project_events = project_events();
        self.defaults = self
            .project_events
            .iter()
            .map(|(action, events)| {
                let bindings = events
                    .iter_shared()
                    .filter_map(|e| binding_of(&e))
                    .collect();
                (action.to_string(), bindings)
            })
            .collect();
        self.reload();
    }
}

#[godot_api]
impl SettingsStore {
    /// The settings were saved and applied (emitted on the next idle
    /// frame).
    #[signal]
    pub fn changed();

    /// The player turned the first-flight hints on or off on this device
    /// (not emitted for the server's own word, read at sign-in).
    #[signal]
    pub fn hints_chosen(show: bool);

    /// Reads the file again and applies it (defaults when absent or unreadable).
    #[func]
    pub fn reload(&mut self) {
        self.load_problem.clear();
        self.settings = if FileAccess::file_exists(&self.settings_file) {
            let text = FileAccess::get_file_as_string(&self.settings_file).to_string();
            match Settings::parse(&text) {
                Ok(settings) => settings,
                Err(problem) => {
                    godot_warn!(
                        "SettingsStore: {problem}; using the defaults ({})",
                        self.settings_file
                    );
                    self.load_problem = problem.to_string();
                    Settings::default()
                }
            }
        } else {
            Settings::default()
        };
        self.apply();
    }

    /// Why the file was not used at the last load ("" when it was).
    #[func]
    pub fn load_problem(&self) -> GString {
        GString::from(self.load_problem.as_str())
    }

    /// Writes the settings and applies them; false (and a log line) when the
    /// file cannot be written.
    #[func]
    pub fn save(&mut self) -> bool {
        self.apply();
        self.persist()
    }

    /// The saved station address ("" for the build's default).
    #[func]
    pub fn station_url(&self) -> GString {
        GString::from(self.settings.backend_url.as_deref().unwrap_or(""))
    }

    /// Sets the station address; "" for the build's default. Returns the
    /// problem in words ("" when accepted). Not saved until [`Self::save`].
    #[func]
    pub fn set_station_url(&mut self, url: GString) -> GString {
        let text = url.to_string();
        if text.trim().is_empty() {
            self.settings.backend_url = None;
            return GString::new();
        }
        match settings::station_url(&text) {
            Ok(url) => {
                self.settings.backend_url = Some(url);
                GString::new()
            }
            Err(problem) => GString::from(problem.words()),
        }
    }

    #[func]
    pub fn volume(&self, bus: GString) -> f64 {
        f64::from(match bus.to_string().as_str() {
            settings::BUS_EFFECTS => self.settings.effects_volume,
            settings::BUS_UI => self.settings.ui_volume,
            _ => self.settings.master_volume,
        })
    }

    /// Sets a bus's linear volume (0 to 1) and applies it at once.
    #[func]
    pub fn set_volume(&mut self, bus: GString, linear: f64) {
        let linear = linear as f32;
        match bus.to_string().as_str() {
            settings::BUS_EFFECTS => self.settings.effects_volume = linear,
            settings::BUS_UI => self.settings.ui_volume = linear,
            _ => self.settings.master_volume = linear,
        }
        // The range is `client::settings`' rule.
        self.settings = std::mem::take(&mut self.settings).into_range();
        self.apply_audio();
    }

    #[func]
    pub fn is_fullscreen(&self) -> bool {
        self.settings.window == Window::Fullscreen
    }

    /// The windowed size (the last one chosen, also while fullscreen).
    #[func]
    pub fn window_size(&self) -> Vector2i {
        match self.settings.window {
            Window::Windowed { width, height } => Vector2i::new(width as i32, height as i32),
            Window::Fullscreen => Vector2i::new(1280, 720),
        }
    }

    /// Fullscreen, or a window of `size` (brought into range).
    #[func]
    pub fn set_window(&mut self, fullscreen: bool, size: Vector2i) {
        self.settings.window = if fullscreen {
            Window::Fullscreen
        } else {
            Window::Windowed {
                width: size.x.max(0) as u32,
                height: size.y.max(0) as u32,
            }
        };
        self.settings = std::mem::take(&mut self.settings).into_range();
    }

    #[func]
    pub fn vsync(&self) -> bool {
        self.settings.vsync
    }

    #[func]
    pub fn set_vsync(&mut self, on: bool) {
        self.settings.vsync = on;
    }

    #[func]
    pub fn hints_dismissed(&self) -> bool {
        self.settings.hints_dismissed
    }

    /// The first-flight hints are done with, for good (saved at once, and
    /// on the server while signed in: they stay off on every device).
    #[func]
    pub fn dismiss_hints(&mut self) {
        self.settings.hints_dismissed = true;
        self.save();
        self.share_hints(false);
    }

    /// Hints on or off, saved with the rest (and on the server while
    /// signed in).
    #[func]
    pub fn set_hints_dismissed(&mut self, dismissed: bool) {
        self.settings.hints_dismissed = dismissed;
        self.share_hints(!dismissed);
    }

    /// Shows the first-flight hints again (saved at once, and on the server
    /// while signed in).
    #[func]
    pub fn restore_hints(&mut self) {
        self.settings.hints_dismissed = false;
        self.save();
        self.share_hints(true);
    }

    /// The player's preference as the server keeps it (read at sign-in):
    /// applied and saved here, not sent back.
    pub fn adopt_hints_preference(&mut self, show: bool) {
        if self.settings.hints_dismissed == show {
            self.settings.hints_dismissed = !show;
            // Nothing to apply (window, sound, keys are as they were).
            self.persist();
        }
    }

    /// The actions a player may rebind, in a stable order.
    #[func]
    pub fn rebindable_actions(&self) -> PackedStringArray {
        self.defaults
            .keys()
            .map(|a| GString::from(a.as_str()))
            .collect()
    }

    /// Binds `event` (a key, mouse button, gamepad button or stick
    /// direction) to `action` in place of the action's inputs of the same
    /// kind, and applies it. Returns the refusal in words ("" when done).
    #[func]
    pub fn rebind(&mut self, action: GString, event: Gd<InputEvent>) -> GString {
        let action = action.to_string();
        if !self.defaults.contains_key(&action) {
            return GString::from("That action cannot be rebound.");
        }
        let Some(input) = binding_of(&event) else {
            return GString::from("Press a key, a mouse button or a gamepad button.");
        };
        match self.settings.rebind(&self.defaults, &action, input) {
            Ok(()) => {
                self.apply_bindings();
                GString::new()
            }
            Err(conflict) => GString::from(
                format!(
                    "That is already {}. Rebind that first.",
                    action_words(&conflict.action)
                )
                .as_str(),
            ),
        }
    }

    /// Every action back to the project's bindings, applied.
    #[func]
    pub fn reset_bindings(&mut self) {
        self.settings.reset_bindings();
        self.apply_bindings();
    }

    /// What `action`'s keyboard (or mouse) input is called, e.g. "W" ("" when none).
    #[func]
    pub fn key_text(&self, action: GString) -> GString {
        self.input_text(&action.to_string(), settings::Device::KeyboardMouse)
    }

    /// What `action`'s gamepad input is called ("" when none).
    #[func]
    pub fn pad_text(&self, action: GString) -> GString {
        self.input_text(&action.to_string(), settings::Device::Gamepad)
    }
}

impl SettingsStore {
    /// Writes the settings file and announces `changed`; false (and a log
    /// line) when the file cannot be written.
    fn persist(&mut self) -> bool {
        let text = self.settings.to_text();
        let Some(mut file) = FileAccess::open(&self.settings_file, ModeFlags::WRITE) else {
            godot_warn!(
                "SettingsStore: cannot write {} ({:?})",
                self.settings_file,
                FileAccess::get_open_error()
            );
            return false;
        };
        file.store_string(&text);
        file.close();
        self.load_problem.clear();
        // Deferred: listeners read the store, which is still bound here.
        self.base_mut()
            .call_deferred("emit_signal", &[StringName::from("changed").to_variant()]);
        true
    }

    /// Announces a hints choice made on this device (`BackendClient` hands
    /// it to the server while signed in). Deferred: listeners may read the
    /// store, which is still bound here.
    fn share_hints(&mut self, show: bool) {
        self.base_mut().call_deferred(
            "emit_signal",
            &[
                StringName::from("hints_chosen").to_variant(),
                show.to_variant(),
            ],
        );
    }

    /// Name of the autoload in `project.godot`.
    pub const AUTOLOAD: &str = "SettingsStore";

    /// The `SettingsStore` autoload, if the game runs with it.
    pub fn autoload() -> Option<Gd<SettingsStore>> {
        godot::tools::try_get_autoload_by_name::<SettingsStore>(Self::AUTOLOAD).ok()
    }

    /// The settings as they are now (saved or not).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn input_text(&self, action: &str, device: settings::Device) -> GString {
        let words: Vec<String> = self
            .settings
            .bindings_of(&self.defaults, action)
            .iter()
            .filter(|b| b.device() == device)
            .map(|b| binding_words(*b))
            .collect();
        GString::from(words.join(" / ").as_str())
    }

    fn apply(&mut self) {
        self.apply_audio();
        self.apply_window();
        self.apply_bindings();
    }

    fn apply_audio(&mut self) {
        let mut audio = AudioServer::singleton();
        for (bus, linear) in [
            (settings::BUS_MASTER, self.settings.master_volume),
            (settings::BUS_EFFECTS, self.settings.effects_volume),
            (settings::BUS_UI, self.settings.ui_volume),
        ] {
            let index = audio.get_bus_index(bus);
            if index < 0 {
                godot_warn!("SettingsStore: no audio bus {bus} (default_bus_layout.tres)");
                continue;
            }
            let db = godot::global::linear_to_db(f64::from(linear)) as f32;
            audio.set_bus_volume_db(index, db.max(-80.0));
        }
    }

    fn apply_window(&mut self) {
        let mut display = DisplayServer::singleton();
        if display.get_name() == "headless" {
            return;
        }
        match self.settings.window {
            Window::Fullscreen => display.window_set_mode(WindowMode::FULLSCREEN),
            Window::Windowed { width, height } => {
                if display.window_get_mode() != WindowMode::WINDOWED {
                    display.window_set_mode(WindowMode::WINDOWED);
                }
                display.window_set_size(Vector2i::new(width as i32, height as i32));
            }
        }
        display.window_set_vsync_mode(if self.settings.vsync {
            VSyncMode::ENABLED
        } else {
            VSyncMode::DISABLED
        });
    }

    fn apply_bindings(&mut self) {
        let mut map = InputMap::singleton();
        for (action, project) in &self.project_events {
            map.action_erase_events(action);
            match self.settings.bindings.get(&action.to_string()) {
                Some(own) => {
                    for binding in own {
                        map.action_add_event(action, &event_of(*binding));
                    }
                }
                // The project's own events, exactly as the project has them.
                None => {
                    for event in project.iter_shared() {
                        map.action_add_event(action, &event);
                    }
                }
            }
        }
    }
}

/// The project's events of every action but Godot's own `ui_*`.
fn project_events() -> Vec<(StringName, Array<Gd<InputEvent>>)> {
    let mut map = InputMap::singleton();
    map.get_actions()
        .iter_shared()
        .filter(|action| !action.to_string().starts_with("ui_"))
        .map(|action| {
            let events = map.action_get_events(&action);
            (action, events)
        })
        .collect()
}

/// An input event as a [`Binding`]; `None` for what cannot be bound.
pub fn binding_of(event: &Gd<InputEvent>) -> Option<Binding> {
    if let Ok(key) = event.clone().try_cast::<InputEventKey>() {
        let mut code = key.get_physical_keycode();
        if code == Key::NONE {
            code = key.get_keycode();
        }
        return (code != Key::NONE).then_some(Binding::Key {
            physical_keycode: i64::from(code.ord()),
        });
    }
    if let Ok(button) = event.clone().try_cast::<InputEventMouseButton>() {
        return Some(Binding::MouseButton {
            button: i64::from(button.get_button_index().ord()),
        });
    }
    if let Ok(button) = event.clone().try_cast::<InputEventJoypadButton>() {
        return Some(Binding::JoyButton {
            button: i64::from(button.get_button_index().ord()),
        });
    }
    if let Ok(motion) = event.clone().try_cast::<InputEventJoypadMotion>() {
        let value = motion.get_axis_value();
        if value.abs() < 0.5 {
            return None;
        }
        return Some(Binding::JoyAxis {
            axis: i64::from(motion.get_axis().ord()),
            positive: value > 0.0,
        });
    }
    None
}

/// The event the InputMap holds for `binding`.
fn event_of(binding: Binding) -> Gd<InputEvent> {
    match binding {
        Binding::Key { physical_keycode } => {
            let mut key = InputEventKey::new_gd();
            key.set_physical_keycode(Key::from_ord(physical_keycode as i32));
            key.upcast()
        }
        Binding::MouseButton { button } => {
            let mut event = InputEventMouseButton::new_gd();
            event.set_button_index(MouseButton::from_ord(button as i32));
            event.set_pressed(true);
            event.upcast()
        }
        Binding::JoyButton { button } => {
            let mut event = InputEventJoypadButton::new_gd();
            event.set_button_index(JoyButton::from_ord(button as i32));
            event.set_pressed(true);
            event.upcast()
        }
        Binding::JoyAxis { axis, positive } => {
            let mut event = InputEventJoypadMotion::new_gd();
            event.set_axis(JoyAxis::from_ord(axis as i32));
            event.set_axis_value(if positive { 1.0 } else { -1.0 });
            event.upcast()
        }
    }
}

/// What a player calls `binding`: "W", "Space", "Mouse wheel up", "Pad A"...
pub fn binding_words(binding: Binding) -> String {
    match binding {
        Binding::Key { .. } | Binding::MouseButton { .. } => {
            let event = event_of(binding);
            if let Ok(key) = event.clone().try_cast::<InputEventKey>() {
                key.as_text_physical_keycode().to_string()
            } else {
                event.as_text().to_string()
            }
        }
        Binding::JoyButton { button } => format!("Pad button {button}"),
        Binding::JoyAxis { axis, positive } => {
            format!("Pad axis {axis}{}", if positive { "+" } else { "-" })
        }
    }
}

/// An action's name as the player reads it: `move_up` -> "move up".
pub fn action_words(action: &str) -> String {
    action.replace('_', " ")
}
