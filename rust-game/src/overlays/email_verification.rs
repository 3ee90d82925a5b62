//! `EmailVerification` (`scenes/overlays/email_verification.tscn`): takes
//! the code the station mailed to confirm an address. The login and
//! register screens open it when the server refuses a sign-in with
//! `email_not_verified`; the account screen opens it while the address is
//! unverified. "Send a new code" asks again (the server's rate limit shows
//! as a wait on the button); the address field says where it goes. Opened
//! from a refused sign-in ([`EmailVerification::open_signed_out`]) it also
//! offers CHANGE ADDRESS: with the password, the account moves to the
//! address typed in the field and the code goes there (a mistyped address
//! is otherwise a dead end: sign-in stays refused).

use godot::classes::{Button, Control, IControl, Label, LineEdit};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::theme::palette;
use client::text::auth as auth_rules;

/// The verification overlay. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct EmailVerification {
    #[init(node = "%EmailEdit")]
    email_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%CodeEdit")]
    code_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%VerifyButton")]
    verify_button: OnReady<Gd<Button>>,
    #[init(node = "%ResendButton")]
    resend_button: OnReady<Gd<Button>>,
    #[init(node = "%CloseButton")]
    close_button: OnReady<Gd<Button>>,
    #[init(node = "%StatusLabel")]
    status_label: OnReady<Gd<Label>>,
    #[init(node = "%ChangeRow")]
    change_row: OnReady<Gd<Control>>,
    #[init(node = "%ChangePasswordEdit")]
    change_password_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%ChangeAddressButton")]
    change_address_button: OnReady<Gd<Button>>,
    /// The login of a refused sign-in (empty when opened signed in).
    login: String,
    /// Seconds before "send a new code" may be pressed again.
    resend_wait: f64,
    busy: bool,
    base: Base<Control>,
}

#[godot_api]
impl IControl for EmailVerification {
    fn ready(&mut self) {
        self.base_mut().set_visible(false);
        let this = self.to_gd();
        self.verify_button
            .signals()
            .pressed()
            .connect_other(&this, Self::verify);
        self.code_edit
            .signals()
            .text_submitted()
            .connect_other(&this, |s, _| s.verify());
        self.resend_button
            .signals()
            .pressed()
            .connect_other(&this, Self::resend);
        self.close_button
            .signals()
            .pressed()
            .connect_other(&this, Self::close);
        self.change_address_button
            .signals()
            .pressed()
            .connect_other(&this, Self::change_address);
        if let Some(client) = BackendClient::autoload() {
            client
                .signals()
                .account_action_finished()
                .connect_other(&this, Self::on_finished);
        }
    }

    fn process(&mut self, delta: f64) {
        if self.resend_wait <= 0.0 {
            return;
        }
        self.resend_wait -= delta;
        if self.resend_wait <= 0.0 {
            self.resend_button.set_disabled(false);
            self.resend_button.set_text("SEND A NEW CODE");
        } else {
            let text = format!(
                "NEW CODE IN {}",
                auth_rules::format_wait(self.resend_wait.ceil() as u64)
            );
            self.resend_button.set_text(&text);
        }
    }
}

#[godot_api]
impl EmailVerification {
    /// The address is verified.
    #[signal]
    pub fn verified();
    #[signal]
    pub fn closed();
    /// The account moved to `email` (CHANGE ADDRESS).
    #[signal]
    pub fn address_changed(email: GString);

    /// Shows the overlay for `email` with `why` on the status line (signed
    /// in: the address is changed in the account screen).
    #[func]
    pub fn open(&mut self, email: GString, why: GString) {
        self.login.clear();
        self.change_row.set_visible(false);
        self.show_form(email, why);
    }

    /// Shows the overlay after the server refused to sign `login` in until
    /// its address is confirmed: CHANGE ADDRESS is offered too.
    #[func]
    pub fn open_signed_out(&mut self, login: GString, email: GString, why: GString) {
        self.login = login.to_string().trim().to_owned();
        self.change_password_edit.set_text("");
        self.change_row.set_visible(true);
        self.show_form(email, why);
    }

    /// Moves the account to the address in the field (login and the typed
    /// password prove the owner); the new code goes there.
    #[func]
    pub fn change_address(&mut self) {
        let email = self.email_edit.get_text().to_string().trim().to_owned();
        if !auth_rules::email_looks_valid(&email) {
            self.set_status("Type the right address in the field first.", palette::WARN);
            return;
        }
        let password = self.change_password_edit.get_text();
        if password.is_empty() {
            self.set_status("Changing the address needs your password.", palette::WARN);
            return;
        }
        if self.busy || self.login.is_empty() {
            return;
        }
        let Some(mut client) = BackendClient::autoload() else {
            return;
        };
        self.busy = true;
        self.set_status("Moving the account to that address...", palette::CYAN_DIM);
        let login = GString::from(self.login.as_str());
        client
            .bind_mut()
            .change_unverified_address(login, password, email.as_str().into());
    }

    #[func]
    pub fn is_open(&self) -> bool {
        self.base().is_visible()
    }

    #[func]
    pub fn close(&mut self) {
        if !self.is_open() {
            return;
        }
        self.base_mut().set_visible(false);
        self.base_mut()
            .call_deferred("emit_signal", &[StringName::from("closed").to_variant()]);
    }

    /// Sends the typed code.
    #[func]
    pub fn verify(&mut self) {
        let code = self.code_edit.get_text().to_string();
        if code.trim().is_empty() {
            self.set_status("Paste the code from the mail first.", palette::WARN);
            return;
        }
        if self.busy {
            return;
        }
        let Some(mut client) = BackendClient::autoload() else {
            return;
        };
        self.busy = true;
        self.set_status("Checking the code...", palette::CYAN_DIM);
        client.bind_mut().verify_email(code.as_str().into());
    }

    /// Asks for a new code at the address in the field.
    #[func]
    pub fn resend(&mut self) {
        let email = self.email_edit.get_text().to_string();
        if !auth_rules::email_looks_valid(&email) {
            self.set_status("That does not look like an email address.", palette::WARN);
            return;
        }
        let Some(mut client) = BackendClient::autoload() else {
            return;
        };
        self.busy = true;
        self.resend_button.set_disabled(true);
        self.set_status("Asking for a new code...", palette::CYAN_DIM);
        client.bind_mut().resend_verification(email.as_str().into());
    }

    /// The status line (tests read it).
    #[func]
    pub fn status_text(&self) -> GString {
        self.status_label.get_text()
    }
}

impl EmailVerification {
    fn show_form(&mut self, email: GString, why: GString) {
        self.email_edit.set_text(&email);
        self.code_edit.set_text("");
        self.set_status(&why.to_string(), palette::CYAN_DIM);
        self.base_mut().set_visible(true);
        self.code_edit.grab_focus();
    }

    fn on_finished(
        &mut self,
        action: GString,
        ok: bool,
        code: GString,
        message: GString,
        wait: i64,
    ) {
        let action = action.to_string();
        if !self.is_open() || !["verify", "resend", "change_address"].contains(&action.as_str()) {
            return;
        }
        self.busy = false;
        if action == "resend" {
            // One a minute at most, whatever the server says.
            self.resend_wait = (wait.max(60)) as f64;
            self.resend_button.set_disabled(true);
        }
        if !ok {
            let words = auth_rules::explain_error(
                &code.to_string(),
                &message.to_string(),
                u64::try_from(wait).ok().filter(|w| *w > 0),
            );
            self.set_status(&words, palette::DANGER);
            return;
        }
        if action == "resend" {
            self.set_status(
                "If that address waits for a code, a new one is on its way.",
                palette::OK,
            );
            return;
        }
        if action == "change_address" {
            self.change_password_edit.set_text("");
            let email = self.email_edit.get_text().to_string().trim().to_owned();
            let words = format!("The account now uses {email}: a new code is on its way there.");
            self.set_status(&words, palette::OK);
            if self.login.contains('@') {
                self.login = email.clone();
            }
            self.signals().address_changed().emit(email.as_str());
            return;
        }
        self.set_status("Address confirmed.", palette::OK);
        self.base_mut().set_visible(false);
        self.signals().verified().emit();
    }

    fn set_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.status_label, text, colour);
    }
}
