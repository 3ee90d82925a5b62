//! `PauseMenu` (`scenes/overlays/pause_menu.tscn`): the `pause` action (Esc) opens
//! it and pauses the scene tree, so the zone simulation (which processes
//! only while unpaused) stops; the menu runs with `process_mode = Always`.
//!
//! Buttons: resume, message log (the scene's own [`MessageLog`], which also
//! answers M), account ([`AccountScreen`]), settings (the scene's own
//! [`SettingsScreen`]), log out (revokes this session on the server), log out
//! everywhere (revokes every session of the account; needs the station
//! link, says so when it is down), quit. A reusable scene: the zone and the
//! lobby instance it. The host scene reacts to `BackendClient::signed_out`
//! (the zone goes back to the login screen); the menu unpauses first.

use godot::classes::{Button, Control, IControl, InputEvent, Label};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::overlays::account_screen::AccountScreen;
use crate::overlays::message_log::MessageLog;
use crate::overlays::settings_screen::SettingsScreen;
use crate::theme::palette;

/// The pause menu. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct PauseMenu {
    /// InputMap action that opens and closes the menu.
    #[export]
    #[init(val = StringName::from("pause"))]
    toggle_action: StringName,
    /// Pause the scene tree while the menu is open (stops the simulation).
    #[export]
    #[init(val = true)]
    pause_tree: bool,
    #[init(node = "%Dim")]
    dim: OnReady<Gd<Control>>,
    #[init(node = "%Menu")]
    menu: OnReady<Gd<Control>>,
    #[init(node = "%ResumeButton")]
    resume_button: OnReady<Gd<Button>>,
    #[init(node = "%LogButton")]
    log_button: OnReady<Gd<Button>>,
    #[init(node = "%AccountButton")]
    account_button: OnReady<Gd<Button>>,
    #[init(node = "%Account")]
    account: OnReady<Gd<AccountScreen>>,
    #[init(node = "%SettingsButton")]
    settings_button: OnReady<Gd<Button>>,
    #[init(node = "%Settings")]
    settings: OnReady<Gd<SettingsScreen>>,
    #[init(node = "%LogoutButton")]
    logout_button: OnReady<Gd<Button>>,
    #[init(node = "%LogoutAllButton")]
    logout_all_button: OnReady<Gd<Button>>,
    #[init(node = "%QuitButton")]
    quit_button: OnReady<Gd<Button>>,
    #[init(node = "%StatusLabel")]
    status_label: OnReady<Gd<Label>>,
    #[init(node = "%MessageLog")]
    log: OnReady<Gd<MessageLog>>,
    base: Base<Control>,
}

#[godot_api]
impl IControl for PauseMenu {
    fn ready(&mut self) {
        self.show_menu(false);
        let this = self.to_gd();
        self.resume_button
            .signals()
            .pressed()
            .connect_other(&this, Self::resume);
        self.log_button
            .signals()
            .pressed()
            .connect_other(&this, Self::open_log);
        self.settings_button
            .signals()
            .pressed()
            .connect_other(&this, Self::open_settings);
        self.account_button
            .signals()
            .pressed()
            .connect_other(&this, Self::open_account);
        self.account
            .signals()
            .closed()
            .connect_other(&this, Self::on_settings_closed);
        self.settings
            .signals()
            .closed()
            .connect_other(&this, Self::on_settings_closed);
        self.logout_button
            .signals()
            .pressed()
            .connect_other(&this, Self::log_out);
        self.logout_all_button
            .signals()
            .pressed()
            .connect_other(&this, Self::log_out_everywhere);
        self.quit_button
            .signals()
            .pressed()
            .connect_other(&this, Self::quit);
        self.log
            .signals()
            .closed()
            .connect_other(&this, Self::on_log_closed);
        if let Some(client) = BackendClient::autoload() {
            client
                .signals()
                .signed_out()
                .connect_other(&this, |s, _| s.release());
            client
                .signals()
                .sign_out_everywhere_finished()
                .connect_other(&this, Self::on_logout_all_finished);
        }
    }

    fn unhandled_input(&mut self, event: Gd<InputEvent>) {
        if !event.is_action_pressed(&self.toggle_action) {
            return;
        }
        if self.settings.bind().is_open() {
            // Back from the settings to the menu.
            self.settings.bind_mut().close();
        } else if self.account.bind().is_open() {
            self.account.bind_mut().close();
        } else if self.is_open() {
            self.resume();
        } else {
            self.open();
        }
        if let Some(mut viewport) = self.base().get_viewport() {
            viewport.set_input_as_handled();
        }
    }
}

#[godot_api]
impl PauseMenu {
    #[signal]
    pub fn opened();
    #[signal]
    pub fn resumed();
    /// Log out was chosen (the session is being revoked).
    #[signal]
    pub fn logged_out();

    /// Opens the menu and pauses the game.
    #[func]
    pub fn open(&mut self) {
        if self.is_open() {
            return;
        }
        self.status_label.set_text("");
        self.show_menu(true);
        if self.pause_tree
            && let Some(mut tree) = self.base().get_tree_or_null()
        {
            tree.set_pause(true);
        }
        self.resume_button.grab_focus();
        self.signals().opened().emit();
    }

    /// Closes the menu and resumes the game.
    #[func]
    pub fn resume(&mut self) {
        if !self.is_open() {
            return;
        }
        self.log.bind_mut().close();
        self.settings.bind_mut().close();
        self.account.bind_mut().close();
        self.release();
        self.signals().resumed().emit();
    }

    #[func]
    pub fn is_open(&self) -> bool {
        self.menu.is_visible()
    }

    #[func]
    pub fn open_log(&mut self) {
        self.menu.set_visible(false);
        self.log.bind_mut().open();
    }

    /// Opens the account screen over the menu.
    #[func]
    pub fn open_account(&mut self) {
        self.menu.set_visible(false);
        self.account.bind_mut().open();
    }

    /// Opens the settings overlay over the menu.
    #[func]
    pub fn open_settings(&mut self) {
        self.menu.set_visible(false);
        self.settings.bind_mut().open();
    }

    /// Revokes this session on the server and signs out here.
    #[func]
    pub fn log_out(&mut self) {
        self.release();
        self.signals().logged_out().emit();
        if let Some(mut client) = BackendClient::autoload() {
            // Deferred: `signed_out` fires inside `sign_out`, and this menu
            // listens to it (it is still bound here).
            client.call_deferred("sign_out", &[]);
        }
    }

    /// Revokes every session of the account (needs the station link).
    #[func]
    pub fn log_out_everywhere(&mut self) {
        let online = BackendClient::autoload().is_some_and(|c| c.bind().is_online());
        self.set_status(
            "Revoking every session of this account...",
            palette::CYAN_DIM,
        );
        self.logout_all_button.set_disabled(true);
        if !online {
            // Still try: the answer (or its absence) decides.
            godot_print!("PauseMenu: log out everywhere while the link is down");
        }
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().sign_out_everywhere();
        }
    }

    #[func]
    pub fn quit(&mut self) {
        self.release();
        if let Some(mut tree) = self.base().get_tree_or_null() {
            tree.quit();
        }
    }

    /// The status line under the buttons (tests read it).
    #[func]
    pub fn status_text(&self) -> GString {
        self.status_label.get_text()
    }
}

impl PauseMenu {
    fn show_menu(&mut self, on: bool) {
        self.dim.set_visible(on);
        self.menu.set_visible(on);
    }

    /// Hides the menu and unpauses (before any scene change).
    fn release(&mut self) {
        let was_open = self.is_open() || self.dim.is_visible();
        self.show_menu(false);
        self.logout_all_button.set_disabled(false);
        if was_open
            && self.pause_tree
            && let Some(mut tree) = self.base().get_tree_or_null()
        {
            tree.set_pause(false);
        }
    }

    fn on_settings_closed(&mut self) {
        if self.dim.is_visible() {
            self.menu.set_visible(true);
            self.settings_button.grab_focus();
        }
    }

    fn on_log_closed(&mut self) {
        if self.dim.is_visible() {
            self.menu.set_visible(true);
            self.log_button.grab_focus();
        }
    }

    fn on_logout_all_finished(&mut self, ok: bool, code: GString) {
        self.logout_all_button.set_disabled(false);
        if ok {
            return;
        }
        let text = if code == game::api::codes::UNREACHABLE {
            "Revoking every session requires the station link. Nothing was changed.".to_owned()
        } else {
            format!(
                "The station refused: {}",
                client::text::auth::explain_error(&code.to_string(), "", None)
            )
        };
        self.set_status(&text, palette::DANGER);
    }

    fn set_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.status_label, text, colour);
    }
}
