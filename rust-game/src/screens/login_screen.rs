//! `LoginScreen` (`scenes/screens/login_screen.tscn`): sign in with email or username and
//! password, go to registration, or ask for a password reset mail; or sign
//! in through a provider the station offers (one button each, from
//! `GET /auth/providers`): the system browser opens and the screen waits for
//! it ("WAITING FOR THE BROWSER…", CANCEL), then asks for what the station
//! still needs (a pilot name, or the password of the pilot who owns the
//! provider's address), and says what went wrong in words.

use game::api::codes;
use game::api::oauth::{ProviderInfo, ProvidersResponse};
use godot::classes::{Button, Control, DisplayServer, IControl, Label, LineEdit, VBoxContainer};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::overlays::busy_spinner::BusySpinner;
use crate::overlays::email_verification::EmailVerification;
use crate::overlays::settings_screen::SettingsScreen;
use crate::theme::palette;
use client::text::auth as auth_rules;

/// Where a sign-in through a provider stands on this screen.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ProviderStage {
    Idle,
    /// The browser is out; the code comes back by itself.
    Waiting,
    ChooseName {
        ticket: String,
    },
    Prove {
        ticket: String,
    },
    /// A name or password was sent with the ticket.
    Finishing {
        ticket: String,
        prove: bool,
    },
}

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
    #[init(node = "%ProvidersBox")]
    providers_box: OnReady<Gd<Control>>,
    #[init(node = "%ProviderButtons")]
    provider_buttons: OnReady<Gd<VBoxContainer>>,
    #[init(node = "%ProviderPanel")]
    provider_panel: OnReady<Gd<Control>>,
    #[init(node = "%ProviderTitle")]
    provider_title: OnReady<Gd<Label>>,
    #[init(node = "%WaitingBox")]
    waiting_box: OnReady<Gd<Control>>,
    #[init(node = "%CopyAddressButton")]
    copy_address_button: OnReady<Gd<Button>>,
    #[init(node = "%ChooseNameBox")]
    choose_name_box: OnReady<Gd<Control>>,
    #[init(node = "%ChooseNameExplain")]
    choose_name_explain: OnReady<Gd<Label>>,
    #[init(node = "%ChooseNameEdit")]
    choose_name_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%ChooseNameButton")]
    choose_name_button: OnReady<Gd<Button>>,
    #[init(node = "%ProveBox")]
    prove_box: OnReady<Gd<Control>>,
    #[init(node = "%ProveExplain")]
    prove_explain: OnReady<Gd<Label>>,
    #[init(node = "%ProvePasswordEdit")]
    prove_password_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%ProveButton")]
    prove_button: OnReady<Gd<Button>>,
    #[init(node = "%ProviderSpinner")]
    provider_spinner: OnReady<Gd<BusySpinner>>,
    #[init(node = "%ProviderStatusLabel")]
    provider_status_label: OnReady<Gd<Label>>,
    #[init(node = "%ProviderCancelButton")]
    provider_cancel_button: OnReady<Gd<Button>>,
    busy: bool,
    /// The station's providers, in button order.
    providers: Vec<ProviderInfo>,
    #[init(val = ProviderStage::Idle)]
    stage: ProviderStage,
    /// The provider of the sign-in in progress.
    provider: String,
    /// Its start address (COPY ADDRESS).
    browser_url: String,
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
        self.settings.signals().saved().connect_other(&this, |s| {
            s.show_station();
            s.load_providers();
        });
        self.provider_cancel_button
            .signals()
            .pressed()
            .connect_other(&this, Self::cancel_provider);
        self.copy_address_button
            .signals()
            .pressed()
            .connect_other(&this, Self::copy_address);
        self.choose_name_button
            .signals()
            .pressed()
            .connect_other(&this, Self::on_choose_name_pressed);
        self.choose_name_edit
            .signals()
            .text_submitted()
            .connect_other(&this, |s, _| s.on_choose_name_pressed());
        self.prove_button
            .signals()
            .pressed()
            .connect_other(&this, Self::on_prove_pressed);
        self.prove_password_edit
            .signals()
            .text_submitted()
            .connect_other(&this, |s, _| s.on_prove_pressed());

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
            client
                .signals()
                .providers_loaded()
                .connect_other(&this, Self::on_providers_loaded);
            client
                .signals()
                .provider_browser_url()
                .connect_other(&this, Self::on_browser_url);
            client
                .signals()
                .provider_step()
                .connect_other(&this, Self::on_provider_step);
            client
                .signals()
                .provider_sign_in_failed()
                .connect_other(&this, Self::on_provider_failed);
            // The station came back: ask again what it offers.
            client
                .signals()
                .connection_changed()
                .connect_other(&this, |s, online| {
                    if online && s.providers.is_empty() {
                        s.load_providers();
                    }
                });
        }
        self.show_station();
        self.show_provider_panel(false);
        self.load_providers();
        self.show_forgot(false);
        self.code_panel.set_visible(false);
        self.set_busy(false);
        self.set_status("", palette::CYAN_DIM);
        self.refresh_form();
        self.login_edit.grab_focus();
    }

    fn exit_tree(&mut self) {
        // Nobody is left to finish it: the loopback port closes.
        if self.stage == ProviderStage::Waiting
            && let Some(mut client) = BackendClient::autoload()
        {
            client.bind_mut().cancel_provider_sign_in();
        }
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

    /// Where a provider sign-in stands: `idle`, `waiting` (for the
    /// browser), `choose_username`, `prove_account` or `finishing`.
    #[func]
    pub fn provider_stage(&self) -> GString {
        GString::from(match self.stage {
            ProviderStage::Idle => "idle",
            ProviderStage::Waiting => "waiting",
            ProviderStage::ChooseName { .. } => "choose_username",
            ProviderStage::Prove { .. } => "prove_account",
            ProviderStage::Finishing { .. } => "finishing",
        })
    }

    /// The provider panel's status line (tests read it).
    #[func]
    pub fn provider_status_text(&self) -> GString {
        self.provider_status_label.get_text()
    }

    /// Provider buttons shown (one per provider the station offers).
    #[func]
    pub fn provider_button_count(&self) -> i64 {
        self.provider_buttons.get_child_count() as i64
    }

    /// Starts signing in through `provider`, as its button does.
    #[func]
    pub fn sign_in_with(&mut self, provider: GString) {
        self.start_provider(provider.to_string());
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
        self.refresh_provider_buttons();
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
        self.change_scene(&path);
    }

    /// Leaves for `path` after this call returns: Godot removes the current
    /// scene inside `change_scene_to_file`, which runs this screen's
    /// `exit_tree` while the handler calling it still holds the screen.
    fn change_scene(&self, path: &GString) {
        self.base()
            .get_tree()
            .call_deferred("change_scene_to_file", &[path.to_variant()]);
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
        let through_provider = self.stage != ProviderStage::Idle;
        if !self.busy && !through_provider {
            return;
        }
        if through_provider {
            self.end_provider_flow();
        }
        self.set_busy(false);
        self.set_status(&format!("Welcome back, {username}."), palette::OK);
        self.password_edit.set_text("");
        self.signals().logged_in().emit(&username);
        if self.navigate {
            let path = self.zone_scene.clone();
            self.change_scene(&path);
        }
    }

    fn on_sign_in_failed(&mut self, code: GString, message: GString, retry_after_s: i64) {
        let was_busy = self.busy;
        if self.stage != ProviderStage::Idle {
            // The provider's tokens came, the profile did not.
            self.end_provider_flow();
        }
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

/// Signing in through a provider.
impl LoginScreen {
    fn load_providers(&mut self) {
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().load_providers();
        }
    }

    /// One button per provider: "SIGN IN WITH GOOGLE", or greyed out
    /// "GOOGLE — UNAVAILABLE"; none when the station offers none.
    fn on_providers_loaded(&mut self, json: GString) {
        let list = serde_json::from_str::<ProvidersResponse>(&json.to_string())
            .map(|r| r.providers)
            .unwrap_or_default();
        for mut child in self.provider_buttons.get_children().iter_shared() {
            self.provider_buttons.remove_child(&child);
            child.queue_free();
        }
        let this = self.to_gd();
        for provider in &list {
            let mut button = Button::new_alloc();
            button.set_name(&format!("Provider_{}", provider.name));
            let shown = provider.display_name.to_uppercase();
            button.set_text(&if provider.available {
                format!("SIGN IN WITH {shown}")
            } else {
                format!("{shown} — UNAVAILABLE")
            });
            let name = provider.name.clone();
            button
                .signals()
                .pressed()
                .connect_other(&this, move |s| s.start_provider(name.clone()));
            self.provider_buttons.add_child(&button);
        }
        self.providers_box.set_visible(!list.is_empty());
        self.providers = list;
        self.refresh_provider_buttons();
    }

    fn refresh_provider_buttons(&mut self) {
        let busy = self.busy || self.stage != ProviderStage::Idle;
        let children = self.provider_buttons.get_children();
        for (provider, child) in self.providers.iter().zip(children.iter_shared()) {
            if let Ok(mut button) = child.try_cast::<Button>() {
                button.set_disabled(busy || !provider.available);
            }
        }
    }

    fn display_name(&self, provider: &str) -> String {
        self.providers
            .iter()
            .find(|p| p.name == provider)
            .map_or_else(|| provider.to_owned(), |p| p.display_name.clone())
    }

    fn start_provider(&mut self, provider: String) {
        if self.busy || self.stage != ProviderStage::Idle {
            return;
        }
        let available = self
            .providers
            .iter()
            .any(|p| p.name == provider && p.available);
        if !available {
            return;
        }
        let Some(mut client) = BackendClient::autoload() else {
            return;
        };
        self.provider = provider.clone();
        self.browser_url.clear();
        self.stage = ProviderStage::Waiting;
        self.set_status("", palette::CYAN_DIM);
        self.show_provider_panel(true);
        self.show_stage();
        client
            .bind_mut()
            .start_provider_sign_in(provider.as_str().into());
    }

    fn on_browser_url(&mut self, provider: GString, url: GString) {
        if self.stage == ProviderStage::Waiting && provider == self.provider.as_str() {
            self.browser_url = url.to_string();
            self.copy_address_button.set_disabled(false);
        }
    }

    fn copy_address(&mut self) {
        if self.browser_url.is_empty() {
            return;
        }
        DisplayServer::singleton().clipboard_set(self.browser_url.as_str());
        self.set_provider_status(
            "Address copied: paste it into your browser.",
            palette::CYAN_DIM,
        );
    }

    fn cancel_provider(&mut self) {
        if self.stage == ProviderStage::Idle {
            return;
        }
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().cancel_provider_sign_in();
        }
        let name = self.display_name(&self.provider);
        self.end_provider_flow();
        self.set_status(
            &format!("Signing in through {name} was cancelled."),
            palette::MUTED,
        );
    }

    fn on_provider_step(
        &mut self,
        provider: GString,
        status: GString,
        ticket: GString,
        username: GString,
    ) {
        if matches!(self.stage, ProviderStage::Idle) {
            return;
        }
        self.provider = provider.to_string();
        let name = self.display_name(&self.provider);
        let ticket = ticket.to_string();
        if status == "prove_account" {
            self.stage = ProviderStage::Prove { ticket };
            self.prove_explain.set_text(&format!(
                "This address belongs to pilot {username}: enter its password to link {name} to it."
            ));
            self.prove_password_edit.set_text("");
            self.show_stage();
            self.prove_password_edit.grab_focus();
        } else {
            self.stage = ProviderStage::ChooseName { ticket };
            self.choose_name_explain.set_text(&format!(
                "New pilot. The name your {name} account goes by is taken or cannot be used \
                 here: choose the name the station will know you by."
            ));
            self.choose_name_edit.set_text(&username);
            self.show_stage();
            self.choose_name_edit.grab_focus();
        }
    }

    fn on_choose_name_pressed(&mut self) {
        let ProviderStage::ChooseName { ticket } = self.stage.clone() else {
            return;
        };
        let name = self
            .choose_name_edit
            .get_text()
            .to_string()
            .trim()
            .to_owned();
        if !(game::account::username_length_ok(&name)
            && game::account::username_characters_ok(&name))
        {
            return self.set_provider_status(
                "A pilot name has 3-24 letters, digits, _ or -.",
                palette::WARN,
            );
        }
        self.stage = ProviderStage::Finishing {
            ticket: ticket.clone(),
            prove: false,
        };
        self.show_stage();
        self.set_provider_status("Filing the name...", palette::CYAN_DIM);
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().finish_provider_sign_in(
                ticket.as_str().into(),
                name.as_str().into(),
                "".into(),
            );
        }
    }

    fn on_prove_pressed(&mut self) {
        let ProviderStage::Prove { ticket } = self.stage.clone() else {
            return;
        };
        let password = self.prove_password_edit.get_text();
        if password.is_empty() {
            return self.set_provider_status("Type that pilot's password first.", palette::WARN);
        }
        self.stage = ProviderStage::Finishing {
            ticket: ticket.clone(),
            prove: true,
        };
        self.show_stage();
        self.set_provider_status("Verifying credentials...", palette::CYAN_DIM);
        if let Some(mut client) = BackendClient::autoload() {
            client
                .bind_mut()
                .finish_provider_sign_in(ticket.as_str().into(), "".into(), password);
        }
    }

    fn on_provider_failed(&mut self, _provider: GString, code: GString, words: GString) {
        if self.stage == ProviderStage::Idle {
            return;
        }
        // A refused name or password: the same step again, with the words.
        if let ProviderStage::Finishing { ticket, prove } = self.stage.clone() {
            let again = if prove {
                [
                    codes::INVALID_CREDENTIALS,
                    codes::ACCOUNT_LOCKED,
                    codes::RATE_LIMITED,
                    codes::UNREACHABLE,
                ]
                .contains(&code.to_string().as_str())
            } else {
                [
                    codes::USERNAME_TAKEN,
                    codes::INVALID_USERNAME,
                    codes::RATE_LIMITED,
                    codes::UNREACHABLE,
                ]
                .contains(&code.to_string().as_str())
            };
            if again {
                self.stage = if prove {
                    ProviderStage::Prove { ticket }
                } else {
                    ProviderStage::ChooseName { ticket }
                };
                self.show_stage();
                let text = if code == codes::INVALID_CREDENTIALS {
                    "Wrong password for that pilot.".to_owned()
                } else {
                    words.to_string()
                };
                return self.set_provider_status(&text, palette::DANGER);
            }
        }
        self.end_provider_flow();
        self.set_status(&words.to_string(), palette::DANGER);
    }

    /// Back to the login form (the flow is over, or was never started).
    fn end_provider_flow(&mut self) {
        self.stage = ProviderStage::Idle;
        self.browser_url.clear();
        self.prove_password_edit.set_text("");
        self.show_provider_panel(false);
    }

    fn show_provider_panel(&mut self, on: bool) {
        self.provider_panel.set_visible(on);
        self.forgot_panel.set_visible(false);
        self.code_panel.set_visible(false);
        self.login_panel.set_visible(!on);
        if !on {
            self.provider_spinner.bind_mut().set_busy(false);
            self.provider_status_label.set_text("");
        }
        self.refresh_provider_buttons();
    }

    /// What the provider panel shows for the stage.
    fn show_stage(&mut self) {
        let name = self.display_name(&self.provider).to_uppercase();
        self.provider_title
            .set_text(&format!("SIGN IN WITH {name}"));
        let (waiting, choose, prove, spinning) = match &self.stage {
            ProviderStage::Idle => (false, false, false, false),
            ProviderStage::Waiting => (true, false, false, true),
            ProviderStage::ChooseName { .. } => (false, true, false, false),
            ProviderStage::Prove { .. } => (false, false, true, false),
            ProviderStage::Finishing { prove, .. } => (false, !prove, *prove, true),
        };
        self.waiting_box.set_visible(waiting);
        self.choose_name_box.set_visible(choose);
        self.prove_box.set_visible(prove);
        self.provider_spinner.bind_mut().set_busy(spinning);
        let finishing = matches!(self.stage, ProviderStage::Finishing { .. });
        self.choose_name_button.set_disabled(finishing);
        self.prove_button.set_disabled(finishing);
        self.choose_name_edit.set_editable(!finishing);
        self.prove_password_edit.set_editable(!finishing);
        if waiting {
            self.copy_address_button
                .set_disabled(self.browser_url.is_empty());
            self.set_provider_status("Listening for the station's answer...", palette::CYAN_DIM);
        } else if !finishing {
            self.set_provider_status("", palette::CYAN_DIM);
        }
        self.refresh_provider_buttons();
    }

    fn set_provider_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.provider_status_label, text, colour);
    }
}
