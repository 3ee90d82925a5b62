//! `SettingsScreen` (`scenes/overlays/settings_screen.tscn`): an overlay the
//! login screen and the pause menu instance and `open()`. It edits the
//! [`SettingsStore`] autoload: the station address (checked, then pinged
//! with `GET /health` before it is saved), master / effects / interface
//! volume (heard at once), fullscreen or a window size, vsync, the key and
//! gamepad bindings of every action (conflicts refused, reset to the
//! project's), and the first-flight hints.
//!
//! Close without saving puts back what was saved. A new station address is
//! used at once when nobody is signed in, otherwise from the next sign-in
//! (a session belongs to the station that issued it).

use godot::classes::{
    Button, CheckBox, Control, GridContainer, HSlider, IControl, InputEvent,
    InputEventJoypadButton, InputEventJoypadMotion, InputEventKey, InputEventMouseButton, Label,
    LineEdit, OptionButton,
};
use godot::global::Key;
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::app::settings_store::{SettingsStore, action_words};
use crate::theme::palette;
use client::settings::{BUS_EFFECTS, BUS_MASTER, BUS_UI};

/// Window sizes offered (the saved one is added when it is not among them).
const SIZES: [(i32, i32); 4] = [(1280, 720), (1600, 900), (1920, 1080), (2560, 1440)];

/// The settings overlay. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct SettingsScreen {
    #[init(node = "%Dim")]
    dim: OnReady<Gd<Control>>,
    #[init(node = "%Panel")]
    panel: OnReady<Gd<Control>>,
    #[init(node = "%UrlEdit")]
    url_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%TestButton")]
    test_button: OnReady<Gd<Button>>,
    #[init(node = "%UrlStatus")]
    url_status: OnReady<Gd<Label>>,
    #[init(node = "%MasterSlider")]
    master_slider: OnReady<Gd<HSlider>>,
    #[init(node = "%EffectsSlider")]
    effects_slider: OnReady<Gd<HSlider>>,
    #[init(node = "%UiSlider")]
    ui_slider: OnReady<Gd<HSlider>>,
    #[init(node = "%FullscreenCheck")]
    fullscreen_check: OnReady<Gd<CheckBox>>,
    #[init(node = "%SizeOption")]
    size_option: OnReady<Gd<OptionButton>>,
    #[init(node = "%VsyncCheck")]
    vsync_check: OnReady<Gd<CheckBox>>,
    #[init(node = "%BindingsGrid")]
    bindings_grid: OnReady<Gd<GridContainer>>,
    #[init(node = "%ResetBindingsButton")]
    reset_bindings_button: OnReady<Gd<Button>>,
    #[init(node = "%HintsCheck")]
    hints_check: OnReady<Gd<CheckBox>>,
    #[init(node = "%SaveButton")]
    save_button: OnReady<Gd<Button>>,
    #[init(node = "%CloseButton")]
    close_button: OnReady<Gd<Button>>,
    #[init(node = "%StatusLabel")]
    status_label: OnReady<Gd<Label>>,
    /// The action and device half (`"key"` or `"pad"`) waiting for an input.
    capturing: Option<(String, &'static str)>,
    /// The address being pinged before a save (None: a plain test).
    saving_url: Option<String>,
    /// A ping is in flight.
    pinging: bool,
    base: Base<Control>,
}

#[godot_api]
impl IControl for SettingsScreen {
    fn ready(&mut self) {
        self.show_screen(false);
        let this = self.to_gd();
        self.test_button
            .signals()
            .pressed()
            .connect_other(&this, Self::test_station);
        self.save_button
            .signals()
            .pressed()
            .connect_other(&this, Self::save);
        self.close_button
            .signals()
            .pressed()
            .connect_other(&this, Self::close);
        self.reset_bindings_button
            .signals()
            .pressed()
            .connect_other(&this, Self::reset_bindings);
        for (slider, bus) in [
            (self.master_slider.clone(), BUS_MASTER),
            (self.effects_slider.clone(), BUS_EFFECTS),
            (self.ui_slider.clone(), BUS_UI),
        ] {
            slider
                .signals()
                .value_changed()
                .connect_other(&this, move |_, value| {
                    if let Some(mut store) = SettingsStore::autoload() {
                        store.bind_mut().set_volume(bus.into(), value);
                    }
                });
        }
        self.size_option.clear();
        for (w, h) in SIZES {
            self.size_option.add_item(&format!("{w} x {h}"));
        }
        if let Some(client) = BackendClient::autoload() {
            client
                .signals()
                .station_pinged()
                .connect_other(&this, Self::on_station_pinged);
        }
    }

    fn input(&mut self, event: Gd<InputEvent>) {
        let Some((action, half)) = self.capturing.clone() else {
            return;
        };
        if !is_capturable(&event, half) {
            return;
        }
        if let Some(mut viewport) = self.base().get_viewport() {
            viewport.set_input_as_handled();
        }
        self.capturing = None;
        if let Ok(key) = event.clone().try_cast::<InputEventKey>()
            && key.get_keycode() == Key::ESCAPE
        {
            self.set_status("Rebinding cancelled.", palette::CYAN_DIM);
            self.fill_bindings();
            return;
        }
        self.finish_rebind(&action, event);
    }
}

#[godot_api]
impl SettingsScreen {
    /// The screen was closed (saved or not).
    #[signal]
    pub fn closed();
    /// The settings were saved.
    #[signal]
    pub fn saved();

    /// Shows the screen with the saved settings.
    #[func]
    pub fn open(&mut self) {
        if let Some(mut store) = SettingsStore::autoload() {
            store.bind_mut().reload();
        }
        self.fill();
        self.set_status("", palette::CYAN_DIM);
        self.url_status.set_text("");
        self.show_screen(true);
        self.url_edit.grab_focus();
    }

    #[func]
    pub fn is_open(&self) -> bool {
        self.panel.is_visible()
    }

    /// Closes; what was not saved is put back as it was saved.
    #[func]
    pub fn close(&mut self) {
        if !self.is_open() {
            return;
        }
        self.capturing = None;
        self.saving_url = None;
        if let Some(mut store) = SettingsStore::autoload() {
            store.bind_mut().reload();
        }
        self.show_screen(false);
        // Deferred: the host (the pause menu) may be the caller, still bound.
        self.base_mut()
            .call_deferred("emit_signal", &[StringName::from("closed").to_variant()]);
    }

    /// Pings the typed address without saving.
    #[func]
    pub fn test_station(&mut self) {
        self.saving_url = None;
        self.ping_typed(false);
    }

    /// Checks the address (and pings it when it is new), then saves.
    #[func]
    pub fn save(&mut self) {
        if self.pinging {
            return;
        }
        self.take_form();
        let typed = self.url_edit.get_text().to_string();
        let saved = SettingsStore::autoload()
            .map(|s| s.bind().station_url().to_string())
            .unwrap_or_default();
        let unchanged = client::settings::station_url(&typed).is_ok_and(|url| url == saved);
        if typed.trim().is_empty() || unchanged {
            if let Some(mut store) = SettingsStore::autoload() {
                store.bind_mut().set_station_url(typed.as_str().into());
            }
            self.write();
            return;
        }
        self.ping_typed(true);
    }

    /// Starts listening for the next input for `action`'s `half` (`"key"`:
    /// keyboard or mouse; `"pad"`: gamepad). Escape cancels.
    #[func]
    pub fn begin_rebind(&mut self, action: GString, half: GString) {
        let half = if half == "pad" { "pad" } else { "key" };
        let action = action.to_string();
        self.set_status(
            &format!(
                "Press the new {} for {} (Esc cancels).",
                if half == "pad" {
                    "gamepad button"
                } else {
                    "key"
                },
                action_words(&action)
            ),
            palette::CYAN,
        );
        self.capturing = Some((action, half));
    }

    /// Whether an input is awaited for a rebinding.
    #[func]
    pub fn is_capturing(&self) -> bool {
        self.capturing.is_some()
    }

    #[func]
    pub fn reset_bindings(&mut self) {
        self.capturing = None;
        if let Some(mut store) = SettingsStore::autoload() {
            store.bind_mut().reset_bindings();
        }
        self.fill_bindings();
        self.set_status(
            "Controls back to the station's standard.",
            palette::CYAN_DIM,
        );
    }

    /// The status line (tests read it).
    #[func]
    pub fn status_text(&self) -> GString {
        self.status_label.get_text()
    }

    /// The address check's line (tests read it).
    #[func]
    pub fn url_status_text(&self) -> GString {
        self.url_status.get_text()
    }

    /// A ping is in flight.
    #[func]
    pub fn is_busy(&self) -> bool {
        self.pinging
    }
}

impl SettingsScreen {
    fn show_screen(&mut self, on: bool) {
        self.dim.set_visible(on);
        self.panel.set_visible(on);
        self.base_mut().set_visible(on);
    }

    /// The form from the store.
    fn fill(&mut self) {
        let Some(store) = SettingsStore::autoload() else {
            self.set_status("The settings are not available.", palette::DANGER);
            return;
        };
        let store = store.bind();
        self.url_edit.set_text(&store.station_url());
        let default_url = BackendClient::autoload()
            .map(|c| c.bind().backend_url().to_string())
            .unwrap_or_default();
        self.url_edit
            .set_placeholder(&format!("default: {default_url}"));
        for (slider, bus) in [
            (&mut self.master_slider, BUS_MASTER),
            (&mut self.effects_slider, BUS_EFFECTS),
            (&mut self.ui_slider, BUS_UI),
        ] {
            slider.set_value_no_signal(store.volume(bus.into()));
        }
        self.fullscreen_check
            .set_pressed_no_signal(store.is_fullscreen());
        self.vsync_check.set_pressed_no_signal(store.vsync());
        self.hints_check
            .set_pressed_no_signal(!store.hints_dismissed());
        let size = store.window_size();
        let index = SIZES
            .iter()
            .position(|&(w, h)| w == size.x && h == size.y)
            .unwrap_or_else(|| {
                self.size_option
                    .add_item(&format!("{} x {}", size.x, size.y));
                self.size_option.get_item_count() as usize - 1
            });
        self.size_option.select(index as i32);
        drop(store);
        self.fill_bindings();
    }

    /// One row per action: its name, its key button, its gamepad button.
    fn fill_bindings(&mut self) {
        for mut child in self.bindings_grid.get_children().iter_shared() {
            self.bindings_grid.remove_child(&child);
            child.queue_free();
        }
        let Some(store) = SettingsStore::autoload() else {
            return;
        };
        let this = self.to_gd();
        let store = store.bind();
        for action in store.rebindable_actions().as_slice() {
            let mut label = Label::new_alloc();
            label.set_text(&action_words(&action.to_string()).to_uppercase());
            label.set_custom_minimum_size(Vector2::new(180.0, 0.0));
            self.bindings_grid.add_child(&label);
            for half in ["key", "pad"] {
                let mut button = Button::new_alloc();
                let text = if half == "key" {
                    store.key_text(action.clone())
                } else {
                    store.pad_text(action.clone())
                };
                button.set_text(&if text.is_empty() {
                    GString::from("-")
                } else {
                    text
                });
                button.set_name(&format!("{action}_{half}"));
                button.set_custom_minimum_size(Vector2::new(170.0, 0.0));
                let action = action.clone();
                button
                    .signals()
                    .pressed()
                    .connect_other(&this, move |s| s.begin_rebind(action.clone(), half.into()));
                self.bindings_grid.add_child(&button);
            }
        }
    }

    /// The form's window, sound and hints choices into the store.
    fn take_form(&mut self) {
        let Some(mut store) = SettingsStore::autoload() else {
            return;
        };
        let index = self.size_option.get_selected().max(0) as usize;
        let text = self.size_option.get_item_text(index as i32).to_string();
        let size = text
            .split_once(" x ")
            .and_then(|(w, h)| Some(Vector2i::new(w.parse().ok()?, h.parse().ok()?)))
            .unwrap_or(Vector2i::new(1280, 720));
        let mut store = store.bind_mut();
        store.set_window(self.fullscreen_check.is_pressed(), size);
        store.set_vsync(self.vsync_check.is_pressed());
        let hints_on = self.hints_check.is_pressed();
        // Saved with the rest below, not on their own.
        if hints_on == store.hints_dismissed() {
            store.set_hints_dismissed(!hints_on);
        }
    }

    fn ping_typed(&mut self, then_save: bool) {
        let typed = self.url_edit.get_text().to_string();
        let url = match client::settings::station_url(&typed) {
            Ok(url) => url,
            Err(problem) => {
                palette::paint(&mut self.url_status, problem.words(), palette::DANGER);
                return;
            }
        };
        let Some(mut client) = BackendClient::autoload() else {
            self.set_status("The network client is not running.", palette::DANGER);
            return;
        };
        self.pinging = true;
        self.save_button.set_disabled(true);
        self.test_button.set_disabled(true);
        self.saving_url = then_save.then(|| url.clone());
        palette::paint(
            &mut self.url_status,
            "Calling the station...",
            palette::CYAN_DIM,
        );
        client.bind_mut().ping_station(url.as_str().into());
    }

    fn on_station_pinged(&mut self, url: GString, ok: bool, words: GString) {
        if !self.pinging {
            return;
        }
        self.pinging = false;
        self.save_button.set_disabled(false);
        self.test_button.set_disabled(false);
        let saving = self.saving_url.take();
        if !ok {
            palette::paint(&mut self.url_status, &words.to_string(), palette::DANGER);
            if saving.is_some() {
                self.set_status("Not saved: the station did not answer.", palette::DANGER);
            }
            return;
        }
        palette::paint(&mut self.url_status, "The station answers.", palette::OK);
        if let Some(saving) = saving
            && saving == url.to_string()
        {
            if let Some(mut store) = SettingsStore::autoload() {
                store.bind_mut().set_station_url(saving.as_str().into());
            }
            self.write();
        }
    }

    fn write(&mut self) {
        let Some(mut store) = SettingsStore::autoload() else {
            return;
        };
        if !store.bind_mut().save() {
            self.set_status("The settings could not be written.", palette::DANGER);
            return;
        }
        let switched = BackendClient::autoload()
            .map(|mut c| c.bind_mut().use_configured_station())
            .unwrap_or(false);
        let signed_in = BackendClient::autoload().is_some_and(|c| c.bind().is_signed_in());
        let text = if signed_in {
            "Saved. A new station address applies at your next sign-in."
        } else if switched {
            "Saved. Now talking to the new station."
        } else {
            "Saved."
        };
        self.set_status(text, palette::OK);
        self.signals().saved().emit();
    }

    fn finish_rebind(&mut self, action: &str, event: Gd<InputEvent>) {
        let refusal = SettingsStore::autoload()
            .map(|mut s| s.bind_mut().rebind(action.into(), event))
            .unwrap_or_default();
        if refusal.is_empty() {
            self.set_status(
                &format!("{} rebound (save to keep it).", action_words(action)),
                palette::OK,
            );
        } else {
            self.set_status(&refusal.to_string(), palette::DANGER);
        }
        self.fill_bindings();
    }

    fn set_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.status_label, text, colour);
    }
}

/// Whether `event` is a press the `half` of a binding row takes (Escape
/// always is: it cancels).
fn is_capturable(event: &Gd<InputEvent>, half: &str) -> bool {
    if let Ok(key) = event.clone().try_cast::<InputEventKey>() {
        return key.is_pressed()
            && !key.is_echo()
            && (half == "key" || key.get_keycode() == Key::ESCAPE);
    }
    if half == "key" {
        return event
            .clone()
            .try_cast::<InputEventMouseButton>()
            .is_ok_and(|b| b.is_pressed());
    }
    if let Ok(button) = event.clone().try_cast::<InputEventJoypadButton>() {
        return button.is_pressed();
    }
    event
        .clone()
        .try_cast::<InputEventJoypadMotion>()
        .is_ok_and(|m| m.get_axis_value().abs() >= 0.5)
}
