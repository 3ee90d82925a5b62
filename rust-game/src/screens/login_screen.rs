//! `LoginScreen` (`scenes/screens/login_screen.tscn`): sign in with email or username and
//! password, go to registration, or ask for a password reset mail.

use godot::classes::{Button, Control, IControl, Label, LineEdit};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::overlays::busy_spinner::BusySpinner;
use crate::overlays::email_verification::EmailVerification;
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
    #[init(node = "%HaveCodeButton")]
    have_code_button: OnReady<Gd<Button>>,
    #[init(node = "%CodePanel")]
    code_panel: OnReady<Gd<Control>>,
    #[init(node = "%ResetCodeEdit")]
    reset_code_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%NewPasswordEdit")]
    new_password_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%NewRepeatEdit")]
    new_repeat_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%NewPasswordRules")]
    new_password_rules: OnReady<Gd<Label>>,
    #[init(node = "%SetPasswordButton")]
    set_password_button: OnReady<Gd<Button>>,
    #[init(node = "%CodeStatusLabel")]
    code_status_label: OnReady<Gd<Label>>,
    #[init(node = "%CodeBackButton")]
    code_back_button: OnReady<Gd<Button>>,
    #[init(node = "%Verification")]
    verification: OnReady<Gd<EmailVerification>>,
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
        self.have_code_button
            .signals()
            .pressed()
            .connect_other(&this, |s| s.show_code_panel(true));
        self.code_back_button
            .signals()
            .pressed()
            .connect_other(&this, |s| s.show_code_panel(false));
        self.set_password_button
            .signals()
            .pressed()
            .connect_other(&this, Self::on_set_password_pressed);
        for edit in [
            self.reset_code_edit.clone(),
            self.new_password_edit.clone(),
            self.new_repeat_edit.clone(),
        ] {
            edit.signals()
                .text_changed()
                .connect_other(&this, |s, _| s.refresh_form());
        }
        self.verification
            .signals()
            .verified()
            .connect_other(&this, Self::on_verified);
        self.verification
            .signals()
            .address_changed()
            .connect_other(&this, Self::on_address_changed);
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
            client
                .signals()
                .account_action_finished()
                .connect_other(&this, Self::on_account_action);
        }
        self.show_station();
        self.show_forgot(false);
        self.code_panel.set_visible(false);
        self.set_busy(false);
        self.set_status("", palette::CYAN_DIM);
        self.refresh_form();
        self.login_edit.grab_focus();
    }
}

#[godot_api]
impl LoginScreen {
    /// The reset panel's status line (tests read it).
    #[func]
    pub fn code_status_text(&self) -> GString {
        self.code_status_label.get_text()
    }

    /// Opens the "I have a code" panel of the password reset.
    #[func]
    pub fn open_reset_code(&mut self) {
        self.show_code_panel(true);
    }

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
        let form = auth_rules::RegisterForm {
            password: self.new_password_edit.get_text().to_string(),
            repeat: self.new_repeat_edit.get_text().to_string(),
            ..auth_rules::RegisterForm::default()
        };
        let rules = [
            auth_rules::Rule::PasswordLength,
            auth_rules::Rule::PasswordsMatch,
        ];
        let lines: Vec<String> = rules
            .iter()
            .map(|&rule| {
                format!(
                    "[{}] {}",
                    if form.meets(rule) { "x" } else { " " },
                    rule.label()
                )
            })
            .collect();
        self.new_password_rules.set_text(&lines.join("\n"));
        let code_typed = !self
            .reset_code_edit
            .get_text()
            .to_string()
            .trim()
            .is_empty();
        let ready = code_typed && rules.iter().all(|&rule| form.meets(rule));
        self.set_password_button.set_disabled(!ready || busy);
    }

    fn set_busy(&mut self, busy: bool) {
        self.busy = busy;
        self.spinner.bind_mut().set_busy(busy);
        self.login_edit.set_editable(!busy);
        self.password_edit.set_editable(!busy);
        self.refresh_form();
    }

    fn set_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.status_label, text, colour);
        palette::paint(&mut self.reset_status_label, text, colour);
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
        let was_busy = self.busy;
        self.set_busy(false);
        if was_busy && code == game::api::codes::EMAIL_NOT_VERIFIED {
            let login = self.login_edit.get_text().to_string();
            let email = if auth_rules::email_looks_valid(&login) {
                login
            } else {
                String::new()
            };
            self.set_status("Confirm your address to sign in.", palette::WARN);
            let login = self.login_edit.get_text();
            self.verification.bind_mut().open_signed_out(
                login,
                email.as_str().into(),
                "The station needs your address confirmed before you sign in. \
                 Wrong address? Type the right one, your password, CHANGE ADDRESS."
                    .into(),
            );
            return;
        }
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
            "Request filed. If the address is registered, a reset code is on its way: press I HAVE A CODE.",
            palette::OK,
        );
    }

    fn show_code_panel(&mut self, on: bool) {
        self.code_panel.set_visible(on);
        self.forgot_panel.set_visible(!on);
        self.login_panel.set_visible(false);
        self.code_status_label.set_text("");
        if on {
            self.reset_code_edit.grab_focus();
        }
        self.refresh_form();
    }

    fn on_set_password_pressed(&mut self) {
        if self.busy || self.set_password_button.is_disabled() {
            return;
        }
        let Some(mut client) = BackendClient::autoload() else {
            return;
        };
        self.set_busy(true);
        self.set_code_status("Checking the code...", palette::CYAN_DIM);
        let (code, password) = (
            self.reset_code_edit.get_text(),
            self.new_password_edit.get_text(),
        );
        client.bind_mut().confirm_password_reset(code, password);
    }

    fn on_account_action(
        &mut self,
        action: GString,
        ok: bool,
        code: GString,
        message: GString,
        wait: i64,
    ) {
        if action != "reset" || !self.busy {
            return;
        }
        self.set_busy(false);
        if !ok {
            let text = auth_rules::explain_error(
                &code.to_string(),
                &message.to_string(),
                (wait > 0).then_some(wait as u64),
            );
            self.set_code_status(&text, palette::DANGER);
            return;
        }
        // Signed in with the new password when the address is known.
        let email = self.reset_email_edit.get_text().to_string();
        let password = self.new_password_edit.get_text();
        self.reset_code_edit.set_text("");
        self.new_password_edit.set_text("");
        self.new_repeat_edit.set_text("");
        self.code_panel.set_visible(false);
        self.login_panel.set_visible(true);
        self.password_edit.set_text(&password);
        if auth_rules::email_looks_valid(&email) {
            self.login_edit.set_text(&email);
            self.set_status("Password changed. Signing in...", palette::OK);
            self.refresh_form();
            self.on_sign_in_pressed();
        } else {
            self.set_status(
                "Password changed; every device was signed out. Sign in with the new password.",
                palette::OK,
            );
        }
    }

    /// The account moved to another address: signing in by address now
    /// takes the new one.
    fn on_address_changed(&mut self, email: GString) {
        if self.login_edit.get_text().to_string().contains('@') {
            self.login_edit.set_text(&email);
        }
    }

    fn on_verified(&mut self) {
        self.set_status("Address confirmed. Signing in...", palette::OK);
        self.refresh_form();
        self.on_sign_in_pressed();
    }

    fn set_code_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.code_status_label, text, colour);
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
