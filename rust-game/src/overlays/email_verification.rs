//! `EmailVerification` (`scenes/overlays/email_verification.tscn`): takes
//! the code the station mailed to confirm an address. The login and
//! register screens open it when the server refuses a sign-in with
//! `email_not_verified`; the account screen opens it while the address is
//! unverified. "Send a new code" asks again (the server's rate limit shows
//! as a wait on the button); the address field says where it goes.

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

    /// Shows the overlay for `email` with `why` on the status line.
    #[func]
    pub fn open(&mut self, email: GString, why: GString) {
        self.email_edit.set_text(&email);
        self.code_edit.set_text("");
        self.set_status(&why.to_string(), palette::CYAN_DIM);
        self.base_mut().set_visible(true);
        self.code_edit.grab_focus();
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
    fn on_finished(
        &mut self,
        action: GString,
        ok: bool,
        code: GString,
        message: GString,
        wait: i64,
    ) {
        let action = action.to_string();
        if !self.is_open() || (action != "verify" && action != "resend") {
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
        self.set_status("Address confirmed.", palette::OK);
        self.base_mut().set_visible(false);
        self.signals().verified().emit();
    }

    fn set_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.status_label, text, colour);
    }
}
