//! `RegisterScreen` (`scenes/screens/register_screen.tscn`): create an account. The rules
//! are ticked off as the player types; the button opens only when all are
//! met. On success the client logs in and the zone opens.

use godot::classes::{Button, Control, IControl, Label, LineEdit, VBoxContainer};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::overlays::busy_spinner::BusySpinner;
use crate::overlays::email_verification::EmailVerification;
use crate::theme::palette;
use client::text::auth::{self as auth_rules, RegisterForm, Rule};

/// The registration screen. Layout lives in `register_screen.tscn`; the rule lines
/// are generated into `%Rules` from [`Rule::ALL`].
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct RegisterScreen {
    /// Scene opened once the new account is signed in.
    #[export(file = "*.tscn")]
    #[init(val = GString::from("res://scenes/zone/zone.tscn"))]
    zone_scene: GString,
    /// Scene of the "back to login" link.
    #[export(file = "*.tscn")]
    #[init(val = GString::from("res://scenes/screens/login_screen.tscn"))]
    login_scene: GString,
    /// Whether success changes the scene (tests turn it off).
    #[export]
    #[init(val = true)]
    navigate: bool,
    #[init(node = "%EmailEdit")]
    email_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%UsernameEdit")]
    username_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%PasswordEdit")]
    password_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%RepeatEdit")]
    repeat_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%Rules")]
    rules_box: OnReady<Gd<VBoxContainer>>,
    #[init(node = "%CreateButton")]
    create_button: OnReady<Gd<Button>>,
    #[init(node = "%BackButton")]
    back_button: OnReady<Gd<Button>>,
    #[init(node = "%Spinner")]
    spinner: OnReady<Gd<BusySpinner>>,
    #[init(node = "%StatusLabel")]
    status_label: OnReady<Gd<Label>>,
    #[init(node = "%Verification")]
    verification: OnReady<Gd<EmailVerification>>,
    rule_labels: Vec<(Rule, Gd<Label>)>,
    busy: bool,
    base: Base<Control>,
}

#[godot_api]
impl IControl for RegisterScreen {
    fn ready(&mut self) {
        let this = self.to_gd();
        for rule in Rule::ALL {
            let mut label = Label::new_alloc();
            label.set_name(&format!("{rule:?}"));
            self.rules_box.add_child(&label);
            self.rule_labels.push((rule, label));
        }
        for edit in [
            &self.email_edit,
            &self.username_edit,
            &self.password_edit,
            &self.repeat_edit,
        ] {
            edit.signals()
                .text_changed()
                .connect_other(&this, |s, _| s.refresh_rules());
        }
        self.repeat_edit
            .signals()
            .text_submitted()
            .connect_other(&this, |s, _| s.on_create_pressed());
        self.create_button
            .signals()
            .pressed()
            .connect_other(&this, Self::on_create_pressed);
        self.back_button
            .signals()
            .pressed()
            .connect_other(&this, Self::on_back_pressed);
        self.verification
            .signals()
            .verified()
            .connect_other(&this, Self::on_verified);
        if let Some(client) = BackendClient::autoload() {
            client
                .signals()
                .registered()
                .connect_other(&this, Self::on_registered);
            client
                .signals()
                .register_failed()
                .connect_other(&this, Self::on_failed);
            // The sign-in after a confirmed address.
            client
                .signals()
                .sign_in_failed()
                .connect_other(&this, Self::on_failed);
            client
                .signals()
                .signed_in()
                .connect_other(&this, Self::on_signed_in);
        }
        self.set_busy(false);
        self.set_status("", palette::CYAN_DIM);
        self.refresh_rules();
        self.email_edit.grab_focus();
    }
}

#[godot_api]
impl RegisterScreen {
    /// The new account is signed in.
    #[signal]
    pub fn account_created(username: GString);

    /// Status line text, for tests.
    #[func]
    pub fn status_text(&self) -> GString {
        self.status_label.get_text()
    }

    /// How many of the rules are met now.
    #[func]
    pub fn rules_met(&self) -> i64 {
        let form = self.form();
        Rule::ALL.iter().filter(|&&r| form.meets(r)).count() as i64
    }

    /// Whether the create button is enabled.
    #[func]
    pub fn can_submit(&self) -> bool {
        !self.create_button.is_disabled()
    }
}

impl RegisterScreen {
    fn form(&self) -> RegisterForm {
        RegisterForm {
            email: self.email_edit.get_text().to_string(),
            username: self.username_edit.get_text().to_string(),
            password: self.password_edit.get_text().to_string(),
            repeat: self.repeat_edit.get_text().to_string(),
        }
    }

    fn refresh_rules(&mut self) {
        let form = self.form();
        for (rule, label) in &mut self.rule_labels {
            let met = form.meets(*rule);
            let mark = if met { "[x]" } else { "[ ]" };
            label.set_text(&format!("{mark} {}", rule.label()));
            label.add_theme_color_override(
                "font_color",
                if met { palette::OK } else { palette::MUTED },
            );
        }
        let ready = form.is_complete() && !self.busy;
        self.create_button.set_disabled(!ready);
    }

    fn set_busy(&mut self, busy: bool) {
        self.busy = busy;
        self.spinner.bind_mut().set_busy(busy);
        for edit in [
            &mut self.email_edit,
            &mut self.username_edit,
            &mut self.password_edit,
            &mut self.repeat_edit,
        ] {
            edit.set_editable(!busy);
        }
        self.refresh_rules();
    }

    fn set_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.status_label, text, colour);
    }

    fn on_create_pressed(&mut self) {
        if self.busy || !self.form().is_complete() {
            return;
        }
        let Some(mut client) = BackendClient::autoload() else {
            self.set_status("No station link (BackendClient missing).", palette::DANGER);
            return;
        };
        self.set_busy(true);
        self.set_status("Filing your registration...", palette::CYAN_DIM);
        let form = self.form();
        client.bind_mut().create_account(
            form.email.as_str().into(),
            form.username.as_str().into(),
            form.password.as_str().into(),
        );
    }

    fn on_back_pressed(&mut self) {
        if self.busy {
            return;
        }
        let path = self.login_scene.clone();
        self.base().get_tree().change_scene_to_file(&path);
    }

    fn on_registered(&mut self, username: GString) {
        if self.busy {
            self.set_status(
                &format!("Registered as {username}. Signing in..."),
                palette::CYAN_DIM,
            );
        }
    }

    fn on_signed_in(&mut self, username: GString) {
        if !self.busy {
            return;
        }
        self.set_busy(false);
        self.set_status(&format!("Welcome aboard, {username}."), palette::OK);
        self.signals().account_created().emit(&username);
        if self.navigate {
            let path = self.zone_scene.clone();
            self.base().get_tree().change_scene_to_file(&path);
        }
    }

    /// The address is confirmed: sign in with what was typed.
    fn on_verified(&mut self) {
        let Some(mut client) = BackendClient::autoload() else {
            return;
        };
        self.set_busy(true);
        self.set_status("Address confirmed. Signing in...", palette::CYAN_DIM);
        let (login, password) = (self.username_edit.get_text(), self.password_edit.get_text());
        client.bind_mut().sign_in(login, password);
    }

    fn on_failed(&mut self, code: GString, message: GString, retry_after_s: i64) {
        let was_busy = self.busy;
        self.set_busy(false);
        if was_busy && code == game::api::codes::EMAIL_NOT_VERIFIED {
            // Registered; the station wants the address confirmed first.
            self.set_status(
                "Account created. Confirm your address to sign in.",
                palette::WARN,
            );
            let email = self.email_edit.get_text();
            let login = self.username_edit.get_text();
            self.verification.bind_mut().open_signed_out(
                login,
                email,
                "Account created. The station mailed a code to this address: paste it to sign in."
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
}
