//! `LoginScreen` (`scenes/screens/login_screen.tscn`): sign in with email or username and
//! password, go to registration, or ask for a password reset mail.

use godot::classes::{Button, Control, IControl, Label, LineEdit};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::overlays::busy_spinner::BusySpinner;
use crate::overlays::settings_screen::SettingsScreen;
use crate::theme::palette;
use client::text::auth as auth_rules;

/// The login screen. Layout lives in `login_screen.tscn`.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct LoginScreen {
    /// Scene opened after a successful login.
    #[export(file = "*.tscn")]
    #[init(val = GString::from("res://scenes/zone/zone.tscn"))]
    zone_scene: GString,
    /// Scene of the "create account" link.
    #[export(file = "*.tscn")]
    #[init(val = GString::from("res://scenes/screens/register_screen.tscn"))]
    register_scene: GString,
    /// Whether a successful login changes the scene (tests turn it off).
    #[export]
    #[init(val = true)]
    navigate: bool,
    #[init(node = "%LoginEdit")]
    login_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%PasswordEdit")]
    password_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%SignInButton")]
    sign_in_button: OnReady<Gd<Button>>,
    #[init(node = "%RegisterButton")]
    register_button: OnReady<Gd<Button>>,
    #[init(node = "%ForgotButton")]
    forgot_button: OnReady<Gd<Button>>,
    #[init(node = "%Spinner")]
    spinner: OnReady<Gd<BusySpinner>>,
    #[init(node = "%StatusLabel")]
    status_label: OnReady<Gd<Label>>,
    #[init(node = "%LoginPanel")]
    login_panel: OnReady<Gd<Control>>,
    #[init(node = "%ForgotPanel")]
    forgot_panel: OnReady<Gd<Control>>,
    #[init(node = "%ResetEmailEdit")]
    reset_email_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%ResetSendButton")]
    reset_send_button: OnReady<Gd<Button>>,
    #[init(node = "%ResetBackButton")]
    reset_back_button: OnReady<Gd<Button>>,
    #[init(node = "%ResetStatusLabel")]
    reset_status_label: OnReady<Gd<Label>>,
    #[init(node = "%UrlLabel")]
    url_label: OnReady<Gd<Label>>,
    #[init(node = "%SettingsButton")]
    settings_button: OnReady<Gd<Button>>,
    #[init(node = "%Settings")]
    settings: OnReady<Gd<SettingsScreen>>,
    busy: bool,
    base: Base<Control>,
}

#[godot_api]
impl IControl for LoginScreen {
    fn ready(&mut self) {
        let this = self.to_gd();
        self.sign_in_button
            .signals()
            .pressed()
            .connect_other(&this, Self::on_sign_in_pressed);
        self.register_button
            .signals()
            .pressed()
            .connect_other(&this, Self::on_register_pressed);
        self.forgot_button
            .signals()
            .pressed()
            .connect_other(&this, |s| s.show_forgot(true));
        self.reset_back_button
            .signals()
            .pressed()
            .connect_other(&this, |s| s.show_forgot(false));
        self.reset_send_button
            .signals()
            .pressed()
            .connect_other(&this, Self::on_reset_send_pressed);
        self.login_edit
            .signals()
            .text_changed()
            .connect_other(&this, |s, _| s.refresh_form());
        self.password_edit
            .signals()
            .text_changed()
            .connect_other(&this, |s, _| s.refresh_form());
        self.password_edit
            .signals()
            .text_submitted()
            .connect_other(&this, |s, _| s.on_sign_in_pressed());
        self.reset_email_edit
            .signals()
            .text_changed()
            .connect_other(&this, |s, _| s.refresh_form());
        self.settings_button
            .signals()
            .pressed()
            .connect_other(&this, |s| s.settings.bind_mut().open());
        self.settings
            .signals()
            .saved()
            .connect_other(&this, |s| s.show_station());

        if let Some(client) = BackendClient::autoload() {
            client
                .signals()
                .signed_in()
                .connect_other(&this, Self::on_signed_in);
            client
                .signals()
                .sign_in_failed()
                .connect_other(&this, Self::on_sign_in_failed);
            client
                .signals()
                .password_reset_requested()
                .connect_other(&this, Self::on_reset_requested);
            client
                .signals()
                .password_reset_failed()
                .connect_other(&this, Self::on_reset_failed);
        }
        self.show_station();
        self.show_forgot(false);
        self.set_busy(false);
        self.set_status("", palette::CYAN_DIM);
        self.refresh_form();
        self.login_edit.grab_focus();
    }
}

#[godot_api]
impl LoginScreen {
    /// Opens the settings overlay (station address, sound, display, controls).
    #[func]
    pub fn open_settings(&mut self) {
        self.settings.bind_mut().open();
    }

    /// Emitted after a successful login (before any scene change).
    #[signal]
    pub fn logged_in(username: GString);

    /// Text of the status line (errors, progress), for tests.
    #[func]
    pub fn status_text(&self) -> GString {
        self.status_label.get_text()
    }

    /// Whether a request is on its way.
    #[func]
    pub fn is_busy(&self) -> bool {
        self.busy
    }
}

impl LoginScreen {
    /// The station link line: the address in use, and where to change it.
    fn show_station(&mut self) {
        let url = BackendClient::autoload()
            .map(|c| c.bind().backend_url().to_string())
            .unwrap_or_default();
        self.url_label
            .set_text(&format!("STATION LINK  {url}   (change it in SETTINGS)"));
    }

    fn refresh_form(&mut self) {
        let ready = auth_rules::login_form_ready(
            &self.login_edit.get_text().to_string(),
            &self.password_edit.get_text().to_string(),
        );
        let busy = self.busy;
        self.sign_in_button.set_disabled(!ready || busy);
        let email_ok = auth_rules::email_looks_valid(&self.reset_email_edit.get_text().to_string());
        self.reset_send_button.set_disabled(!email_ok || busy);
    }

    fn set_busy(&mut self, busy: bool) {
        self.busy = busy;
        self.spinner.bind_mut().set_busy(busy);
        self.login_edit.set_editable(!busy);
        self.password_edit.set_editable(!busy);
        self.refresh_form();
    }

    fn set_status(&mut self, text: &str, colour: Color) {
        self.status_label.set_text(text);
        self.status_label
            .add_theme_color_override("font_color", colour);
        self.reset_status_label.set_text(text);
        self.reset_status_label
            .add_theme_color_override("font_color", colour);
    }

    fn show_forgot(&mut self, forgot: bool) {
        self.login_panel.set_visible(!forgot);
        self.forgot_panel.set_visible(forgot);
        self.set_status("", palette::CYAN_DIM);
        if forgot {
            let login = self.login_edit.get_text();
            if auth_rules::email_looks_valid(&login.to_string()) {
                self.reset_email_edit.set_text(&login);
            }
            self.reset_email_edit.grab_focus();
        }
        self.refresh_form();
    }

    fn on_sign_in_pressed(&mut self) {
        if self.busy || self.sign_in_button.is_disabled() {
            return;
        }
        let Some(mut client) = BackendClient::autoload() else {
            self.set_status("No station link (BackendClient missing).", palette::DANGER);
            return;
        };
        self.set_busy(true);
        self.set_status("Verifying credentials...", palette::CYAN_DIM);
        let (login, password) = (self.login_edit.get_text(), self.password_edit.get_text());
        client.bind_mut().sign_in(login, password);
    }

    fn on_register_pressed(&mut self) {
        if self.busy {
            return;
        }
        let path = self.register_scene.clone();
        self.base().get_tree().change_scene_to_file(&path);
    }

    fn on_reset_send_pressed(&mut self) {
        if self.busy {
            return;
        }
        let Some(mut client) = BackendClient::autoload() else {
            return;
        };
        self.set_busy(true);
        self.set_status("Filing the request...", palette::CYAN_DIM);
        let email = self.reset_email_edit.get_text();
        client.bind_mut().request_password_reset(email);
    }

    fn on_signed_in(&mut self, username: GString) {
        if !self.busy {
            return;
        }
        self.set_busy(false);
        self.set_status(&format!("Welcome back, {username}."), palette::OK);
        self.password_edit.set_text("");
        self.signals().logged_in().emit(&username);
        if self.navigate {
            let path = self.zone_scene.clone();
            self.base().get_tree().change_scene_to_file(&path);
        }
    }

    fn on_sign_in_failed(&mut self, code: GString, message: GString, retry_after_s: i64) {
        self.set_busy(false);
        let text = auth_rules::explain_error(
            &code.to_string(),
            &message.to_string(),
            (retry_after_s > 0).then_some(retry_after_s as u64),
        );
        self.set_status(&text, palette::DANGER);
    }

    fn on_reset_requested(&mut self) {
        self.set_busy(false);
        self.set_status(
            "Request filed. If the address is registered, a reset link is on its way.",
            palette::OK,
        );
    }

    fn on_reset_failed(&mut self, code: GString, message: GString, retry_after_s: i64) {
        self.set_busy(false);
        let text = auth_rules::explain_error(
            &code.to_string(),
            &message.to_string(),
            (retry_after_s > 0).then_some(retry_after_s as u64),
        );
        self.set_status(&text, palette::DANGER);
    }
}
