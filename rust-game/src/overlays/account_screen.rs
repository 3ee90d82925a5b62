//! `AccountScreen` (`scenes/overlays/account_screen.tscn`): everything `/me`
//! offers, from the pause menu. Username and email (a new email needs the
//! current password and is confirmed again: the [`EmailVerification`]
//! overlay), password change, the sessions list (device, address, last
//! used, this one marked) with revoke one or every other, "export my data"
//! to a file the player picks (Godot's file dialog, native where the
//! platform has one), and deletion behind the password and a typed
//! confirmation, which ends the session (the host scene goes back to the
//! login screen on `signed_out`). Preferences kept by the server (the zone
//! runs start in, the first-flight hints, the chat filter; the language is
//! English for now) follow the player to every device. SIGN-IN METHODS
//! lists the providers linked to the account (UNLINK) and the station's
//! other providers (LINK: the system browser, as on the login screen, with
//! a CANCEL while it is out). Every action shows progress, then the
//! server's answer in words.

use godot::classes::file_dialog::{Access, FileMode};
use godot::classes::{
    Button, CheckBox, Control, FileDialog, HBoxContainer, IControl, Label, LineEdit, OptionButton,
    VBoxContainer,
};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::app::game_state::GameState;
use crate::app::providers::{LINK_ACTION, UNLINK_ACTION};
use crate::overlays::busy_spinner::BusySpinner;
use crate::overlays::email_verification::EmailVerification;
use crate::theme::palette;
use client::text::auth as auth_rules;
use game::api::SessionsResponse;
use game::api::oauth::{LinkedProviders, ProviderInfo, ProvidersResponse};

/// What a button of the screen does.
type ButtonAction = fn(&mut AccountScreen);

/// What the player types to confirm a deletion.
pub const DELETE_WORD: &str = "DELETE";

/// The account overlay. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct AccountScreen {
    #[init(node = "%UsernameEdit")]
    username_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%EmailEdit")]
    email_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%VerifiedLabel")]
    verified_label: OnReady<Gd<Label>>,
    #[init(node = "%VerifyButton")]
    verify_button: OnReady<Gd<Button>>,
    #[init(node = "%ProfilePasswordEdit")]
    profile_password_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%SaveProfileButton")]
    save_profile_button: OnReady<Gd<Button>>,
    #[init(node = "%CurrentPasswordEdit")]
    current_password_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%NewPasswordEdit")]
    new_password_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%RepeatPasswordEdit")]
    repeat_password_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%ChangePasswordButton")]
    change_password_button: OnReady<Gd<Button>>,
    #[init(node = "%PreferredZoneOption")]
    preferred_zone_option: OnReady<Gd<OptionButton>>,
    #[init(node = "%HintsCheck")]
    hints_check: OnReady<Gd<CheckBox>>,
    #[init(node = "%ChatFilterCheck")]
    chat_filter_check: OnReady<Gd<CheckBox>>,
    #[init(node = "%SavePrefsButton")]
    save_prefs_button: OnReady<Gd<Button>>,
    #[init(node = "%SessionsList")]
    sessions_list: OnReady<Gd<VBoxContainer>>,
    #[init(node = "%RevokeOthersButton")]
    revoke_others_button: OnReady<Gd<Button>>,
    #[init(node = "%ExportButton")]
    export_button: OnReady<Gd<Button>>,
    #[init(node = "%ExportDialog")]
    export_dialog: OnReady<Gd<FileDialog>>,
    #[init(node = "%DeletePasswordEdit")]
    delete_password_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%DeleteConfirmEdit")]
    delete_confirm_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%DeleteButton")]
    delete_button: OnReady<Gd<Button>>,
    #[init(node = "%StatusLabel")]
    status_label: OnReady<Gd<Label>>,
    #[init(node = "%CloseButton")]
    close_button: OnReady<Gd<Button>>,
    #[init(node = "%Verification")]
    verification: OnReady<Gd<EmailVerification>>,
    #[init(node = "%SignInBox")]
    sign_in_box: OnReady<Gd<Control>>,
    #[init(node = "%SignInList")]
    sign_in_list: OnReady<Gd<VBoxContainer>>,
    #[init(node = "%LinkWaitRow")]
    link_wait_row: OnReady<Gd<Control>>,
    #[init(node = "%LinkSpinner")]
    link_spinner: OnReady<Gd<BusySpinner>>,
    #[init(node = "%CancelLinkButton")]
    cancel_link_button: OnReady<Gd<Button>>,
    /// The providers the station offers.
    providers: Vec<ProviderInfo>,
    /// What `/me/oauth` said last.
    linked: Option<LinkedProviders>,
    /// The provider being linked or unlinked.
    provider_in_hand: String,
    /// What `/me` said last.
    username: String,
    email: String,
    /// Sessions shown (ids), this one marked.
    sessions: Vec<(String, bool)>,
    /// The action waiting for an answer.
    pending: Option<String>,
    base: Base<Control>,
}

#[godot_api]
impl IControl for AccountScreen {
    fn ready(&mut self) {
        self.base_mut().set_visible(false);
        let this = self.to_gd();
        let buttons: [(Gd<Button>, ButtonAction); 9] = [
            (self.save_profile_button.clone(), Self::save_profile),
            (self.save_prefs_button.clone(), Self::save_preferences),
            (self.change_password_button.clone(), Self::change_password),
            (self.revoke_others_button.clone(), Self::revoke_others),
            (self.export_button.clone(), Self::choose_export_file),
            (self.delete_button.clone(), Self::delete_account),
            (self.close_button.clone(), Self::close),
            (self.verify_button.clone(), Self::open_verification),
            (self.cancel_link_button.clone(), Self::cancel_link),
        ];
        for (button, action) in buttons {
            button.signals().pressed().connect_other(&this, action);
        }
        self.export_dialog
            .signals()
            .file_selected()
            .connect_other(&this, |s, path| s.export_to(path));
        self.verification
            .signals()
            .verified()
            .connect_other(&this, |s| s.reload());
        if let Some(client) = BackendClient::autoload() {
            client
                .signals()
                .profile_loaded()
                .connect_other(&this, Self::on_profile);
            client
                .signals()
                .sessions_loaded()
                .connect_other(&this, Self::on_sessions);
            client
                .signals()
                .account_action_finished()
                .connect_other(&this, Self::on_finished);
            client
                .signals()
                .providers_loaded()
                .connect_other(&this, Self::on_providers);
            client
                .signals()
                .linked_providers_loaded()
                .connect_other(&this, Self::on_linked);
        }
    }
}

#[godot_api]
impl AccountScreen {
    #[signal]
    pub fn closed();

    /// Shows the screen and reads the profile and sessions.
    #[func]
    pub fn open(&mut self) {
        for mut edit in [
            self.profile_password_edit.clone(),
            self.current_password_edit.clone(),
            self.new_password_edit.clone(),
            self.repeat_password_edit.clone(),
            self.delete_password_edit.clone(),
            self.delete_confirm_edit.clone(),
        ] {
            edit.set_text("");
        }
        self.pending = None;
        self.base_mut().set_visible(true);
        self.reload();
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
        self.verification.bind_mut().close();
        if self.pending.as_deref() == Some(LINK_ACTION) {
            self.cancel_link();
        }
        self.base_mut().set_visible(false);
        self.base_mut()
            .call_deferred("emit_signal", &[StringName::from("closed").to_variant()]);
    }

    /// Reads `/me` and the sessions again.
    #[func]
    pub fn reload(&mut self) {
        self.set_status("Reading the station's file on you...", palette::CYAN_DIM);
        if let Some(mut client) = BackendClient::autoload() {
            let mut client = client.bind_mut();
            client.load_profile();
            client.load_sessions();
            client.load_providers();
            client.load_linked_providers();
        }
    }

    /// Saves a changed username and/or email (a new email needs the
    /// current password).
    #[func]
    pub fn save_profile(&mut self) {
        let username = self.username_edit.get_text().to_string().trim().to_owned();
        let email = self.email_edit.get_text().to_string().trim().to_owned();
        let new_username = (username != self.username).then_some(username);
        let new_email = (email != self.email).then_some(email);
        if new_username.is_none() && new_email.is_none() {
            return self.set_status("Nothing to change.", palette::MUTED);
        }
        if let Some(name) = &new_username
            && !(game::account::username_length_ok(name)
                && game::account::username_characters_ok(name))
        {
            return self.set_status(
                "A username has 3-24 letters, digits, _ or -.",
                palette::WARN,
            );
        }
        if let Some(email) = &new_email
            && !auth_rules::email_looks_valid(email)
        {
            return self.set_status("That does not look like an email address.", palette::WARN);
        }
        let password = self.profile_password_edit.get_text();
        if new_email.is_some() && password.is_empty() {
            return self.set_status("A new address needs your current password.", palette::WARN);
        }
        self.start("profile", "Filing the change...");
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().update_profile(
                new_username.unwrap_or_default().as_str().into(),
                new_email.unwrap_or_default().as_str().into(),
                password,
            );
        }
    }

    /// Saves the preferences on the server (checked here with the rules the
    /// server applies).
    #[func]
    pub fn save_preferences(&mut self) {
        let zone = self.preferred_zone_option.get_selected_id().max(0);
        let (hints, mask) = (
            self.hints_check.is_pressed(),
            self.chat_filter_check.is_pressed(),
        );
        self.start("preferences", "Filing your preferences...");
        if let Some(mut client) = BackendClient::autoload() {
            client
                .bind_mut()
                .save_preferences(i64::from(zone), hints, mask);
        }
    }

    /// The zone chosen in START IN (0: the first zone), for tests.
    #[func]
    pub fn chosen_zone(&self) -> i64 {
        i64::from(self.preferred_zone_option.get_selected_id().max(0))
    }

    /// Picks `zone` in START IN (0: the first zone); false when it is not
    /// offered (not cleared for it). For tests and the gamepad.
    #[func]
    pub fn choose_zone(&mut self, zone: i64) -> bool {
        let index = self.preferred_zone_option.get_item_index(zone as i32);
        if index < 0 {
            return false;
        }
        self.preferred_zone_option.select(index);
        true
    }

    /// Changes the password (checked here with the register screen's rules,
    /// then by the server).
    #[func]
    pub fn change_password(&mut self) {
        let form = auth_rules::RegisterForm {
            username: self.username.clone(),
            password: self.new_password_edit.get_text().to_string(),
            repeat: self.repeat_password_edit.get_text().to_string(),
            ..auth_rules::RegisterForm::default()
        };
        let current = self.current_password_edit.get_text();
        if current.is_empty() {
            return self.set_status("Type your current password first.", palette::WARN);
        }
        for rule in [
            auth_rules::Rule::PasswordLength,
            auth_rules::Rule::PasswordWithoutUsername,
            auth_rules::Rule::PasswordsMatch,
        ] {
            if !form.meets(rule) {
                return self.set_status(&format!("New password: {}.", rule.label()), palette::WARN);
            }
        }
        self.start("password", "Changing the password...");
        if let Some(mut client) = BackendClient::autoload() {
            client
                .bind_mut()
                .change_password(current, form.password.as_str().into());
        }
    }

    /// Ends every other session (other devices).
    #[func]
    pub fn revoke_others(&mut self) {
        self.start("revoke_others", "Ending the other sessions...");
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().revoke_other_sessions();
        }
    }

    /// Ends the session `id` (not this one: that is LOG OUT).
    #[func]
    pub fn revoke(&mut self, id: GString) {
        self.start("revoke", "Ending that session...");
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().revoke_session(id);
        }
    }

    /// Writes the data export to `path`.
    #[func]
    pub fn export_to(&mut self, path: GString) {
        self.start("export", "Requesting your file from the station...");
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().export_account(path);
        }
    }

    /// Deletes the account (password and the typed word required).
    #[func]
    pub fn delete_account(&mut self) {
        let password = self.delete_password_edit.get_text();
        if password.is_empty() {
            return self.set_status("Deleting needs your password.", palette::WARN);
        }
        if self.delete_confirm_edit.get_text().to_string().trim() != DELETE_WORD {
            return self.set_status(
                &format!("Type {DELETE_WORD} in the confirmation field to delete the account."),
                palette::WARN,
            );
        }
        self.start("delete", "Deleting the account...");
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().delete_account(password);
        }
    }

    /// The status line (tests read it).
    #[func]
    pub fn status_text(&self) -> GString {
        self.status_label.get_text()
    }

    /// Sessions listed (tests).
    #[func]
    pub fn session_count(&self) -> i64 {
        self.sessions.len() as i64
    }

    /// An action is waiting for the server.
    #[func]
    pub fn is_busy(&self) -> bool {
        self.pending.is_some()
    }

    /// The address as `/me` gave it, and whether it is confirmed (tests).
    #[func]
    pub fn shown_email(&self) -> GString {
        GString::from(self.email.as_str())
    }

    #[func]
    pub fn shows_verified(&self) -> bool {
        !self.verify_button.is_visible()
    }

    /// Links `provider` to the account through the system browser.
    #[func]
    pub fn link_provider(&mut self, provider: GString) {
        if self.pending.is_some() {
            return;
        }
        self.provider_in_hand = provider.to_string();
        let name = self.display_name(&self.provider_in_hand);
        self.start(
            LINK_ACTION,
            &format!("Finish linking {name} in the browser window the terminal opened."),
        );
        self.link_wait_row.set_visible(true);
        self.link_spinner.bind_mut().set_busy(true);
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().start_provider_link(provider);
        }
    }

    /// Unlinks `provider` (refused when it is the last way to sign in).
    #[func]
    pub fn unlink_provider(&mut self, provider: GString) {
        if self.pending.is_some() {
            return;
        }
        self.provider_in_hand = provider.to_string();
        self.start(UNLINK_ACTION, "Unlinking...");
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().unlink_provider(provider);
        }
    }

    /// The providers linked, as listed (tests).
    #[func]
    pub fn linked_provider_names(&self) -> PackedStringArray {
        self.linked
            .iter()
            .flat_map(|l| l.linked.iter())
            .map(|p| GString::from(p.provider.as_str()))
            .collect()
    }
}

impl AccountScreen {
    fn start(&mut self, action: &str, words: &str) {
        self.pending = Some(action.to_owned());
        self.set_status(words, palette::CYAN_DIM);
    }

    fn choose_export_file(&mut self) {
        self.export_dialog.set_file_mode(FileMode::SAVE_FILE);
        self.export_dialog.set_access(Access::FILESYSTEM);
        self.export_dialog.set_use_native_dialog(true);
        let name = format!("cots-account-{}.json", self.username);
        self.export_dialog.set_current_file(&name);
        self.export_dialog.popup_centered();
    }

    fn open_verification(&mut self) {
        let email = self.email.clone();
        self.verification.bind_mut().open(
            email.as_str().into(),
            "Paste the code the station mailed to confirm this address.".into(),
        );
    }

    fn on_profile(&mut self, username: GString, email: GString, verified: bool) {
        if !self.is_open() {
            return;
        }
        self.username = username.to_string();
        self.email = email.to_string();
        self.username_edit.set_text(&username);
        self.email_edit.set_text(&email);
        self.verified_label.set_text(if verified {
            "confirmed"
        } else {
            "not confirmed yet"
        });
        self.verified_label.add_theme_color_override(
            "font_color",
            if verified { palette::OK } else { palette::WARN },
        );
        self.verify_button.set_visible(!verified);
        self.show_preferences();
        if self.pending.is_none() {
            self.set_status("", palette::CYAN_DIM);
        }
    }

    fn on_sessions(&mut self, json: GString) {
        if !self.is_open() {
            return;
        }
        let Ok(list) = serde_json::from_str::<SessionsResponse>(&json.to_string()) else {
            return;
        };
        for mut child in self.sessions_list.get_children().iter_shared() {
            self.sessions_list.remove_child(&child);
            child.queue_free();
        }
        self.sessions = list
            .sessions
            .iter()
            .map(|s| (s.id.clone(), s.current))
            .collect();
        let this = self.to_gd();
        for session in list.sessions {
            let mut row = HBoxContainer::new_alloc();
            let mut label = Label::new_alloc();
            label.set_text(&format!(
                "{}{}  ·  {}  ·  last used {}",
                if session.current { "THIS DEVICE  " } else { "" },
                session.user_agent.as_deref().unwrap_or("unknown device"),
                session.ip.as_deref().unwrap_or("unknown address"),
                session
                    .last_used_at
                    .get(..16)
                    .unwrap_or(&session.last_used_at)
                    .replace('T', " "),
            ));
            label.set_h_size_flags(godot::classes::control::SizeFlags::EXPAND_FILL);
            label.set_clip_text(true);
            row.add_child(&label);
            if !session.current {
                let mut button = Button::new_alloc();
                button.set_text("END");
                let id = GString::from(session.id.as_str());
                button
                    .signals()
                    .pressed()
                    .connect_other(&this, move |s| s.revoke(id.clone()));
                row.add_child(&button);
            }
            self.sessions_list.add_child(&row);
        }
        let others = self.sessions.iter().filter(|(_, current)| !current).count();
        self.revoke_others_button.set_disabled(others == 0);
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
        if self.pending.as_deref() != Some(action.as_str()) {
            if action == "load" && !ok && self.is_open() {
                self.set_status(&self.words(&code, &message, wait), palette::DANGER);
            }
            return;
        }
        self.pending = None;
        if action == LINK_ACTION {
            self.link_wait_row.set_visible(false);
            self.link_spinner.bind_mut().set_busy(false);
        }
        if !ok {
            let words = if action == UNLINK_ACTION && code == game::api::codes::NOT_FOUND {
                "That provider is not linked to this account.".to_owned()
            } else {
                self.words(&code, &message, wait)
            };
            return self.set_status(&words, palette::DANGER);
        }
        if action == LINK_ACTION || action == UNLINK_ACTION {
            let name = self.display_name(&self.provider_in_hand);
            let words = if action == LINK_ACTION {
                format!("Linked: {name} signs you in from now on.")
            } else {
                format!("Unlinked: {name} no longer signs you in.")
            };
            self.set_status(&words, palette::OK);
            if let Some(mut client) = BackendClient::autoload() {
                client.bind_mut().load_linked_providers();
            }
            return;
        }
        let words = match action.as_str() {
            "profile" => {
                self.profile_password_edit.set_text("");
                "Saved. A new address gets a confirmation code by mail."
            }
            "password" => {
                for mut edit in [
                    self.current_password_edit.clone(),
                    self.new_password_edit.clone(),
                    self.repeat_password_edit.clone(),
                ] {
                    edit.set_text("");
                }
                "Password changed. Your other devices were signed out."
            }
            "preferences" => "Saved on the station: they follow you to every device.",
            "revoke" => "That session has ended.",
            "revoke_others" => "Every other session has ended.",
            "export" => {
                let text = format!("Your file was written to {message}.");
                self.set_status(&text, palette::OK);
                return;
            }
            "delete" => {
                self.base_mut().set_visible(false);
                return;
            }
            _ => "Done.",
        };
        self.set_status(words, palette::OK);
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().load_sessions();
        }
    }

    /// The preferences as the server keeps them, into the form. START IN
    /// offers the zones the player is cleared for (and the stored one).
    fn show_preferences(&mut self) {
        let Some(client) = BackendClient::autoload() else {
            return;
        };
        let preferences = client.bind().preferences();
        let access = GameState::autoload().map_or(1, |s| s.bind().zone_access());
        let mut option = self.preferred_zone_option.clone();
        option.clear();
        option.add_item_ex("FIRST ZONE").id(0).done();
        for zone in game::Catalog::shipped().zones() {
            let chosen = preferences.preferred_zone == Some(zone.id);
            if i64::from(zone.id) <= access || chosen {
                let label = format!("{}  {}", zone.id, zone.name.to_uppercase());
                option.add_item_ex(&label).id(i32::from(zone.id)).done();
            }
        }
        let chosen = preferences.preferred_zone.map_or(0, i32::from);
        let index = option.get_item_index(chosen).max(0);
        option.select(index);
        self.hints_check
            .set_pressed_no_signal(preferences.show_hints);
        self.chat_filter_check
            .set_pressed_no_signal(preferences.chat_filter == game::account::ChatFilter::Mask);
    }

    fn words(&self, code: &GString, message: &GString, wait: i64) -> String {
        match code.to_string().as_str() {
            game::api::codes::INVALID_CURRENT_PASSWORD => {
                "That is not your current password.".to_owned()
            }
            game::api::codes::CURRENT_PASSWORD_REQUIRED => {
                "This change needs your current password.".to_owned()
            }
            game::api::codes::EXPORT_NOT_WRITTEN => {
                format!("The file could not be written: {message}.")
            }
            other => auth_rules::explain_error(
                other,
                &message.to_string(),
                u64::try_from(wait).ok().filter(|w| *w > 0),
            ),
        }
    }

    fn set_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.status_label, text, colour);
    }
}

/// SIGN-IN METHODS: linked providers and the station's others.
impl AccountScreen {
    fn on_providers(&mut self, json: GString) {
        self.providers = serde_json::from_str::<ProvidersResponse>(&json.to_string())
            .map(|r| r.providers)
            .unwrap_or_default();
        self.show_sign_in_methods();
    }

    fn on_linked(&mut self, json: GString) {
        self.linked = serde_json::from_str::<LinkedProviders>(&json.to_string()).ok();
        self.show_sign_in_methods();
    }

    fn display_name(&self, provider: &str) -> String {
        self.providers
            .iter()
            .find(|p| p.name == provider)
            .map_or_else(|| provider.to_owned(), |p| p.display_name.clone())
    }

    fn cancel_link(&mut self) {
        if self.pending.as_deref() != Some(LINK_ACTION) {
            return;
        }
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().cancel_provider_sign_in();
        }
        self.pending = None;
        self.link_wait_row.set_visible(false);
        self.link_spinner.bind_mut().set_busy(false);
        self.set_status("Linking cancelled.", palette::MUTED);
    }

    /// One row per linked provider (UNLINK) and per offered one not linked
    /// (LINK), then whether the account has a password.
    fn show_sign_in_methods(&mut self) {
        for mut child in self.sign_in_list.get_children().iter_shared() {
            self.sign_in_list.remove_child(&child);
            child.queue_free();
        }
        let linked = self.linked.clone().unwrap_or(LinkedProviders {
            linked: Vec::new(),
            has_password: true,
        });
        self.sign_in_box
            .set_visible(!self.providers.is_empty() || !linked.linked.is_empty());
        let this = self.to_gd();
        for entry in &linked.linked {
            let when = entry
                .linked_at
                .get(..16)
                .unwrap_or(&entry.linked_at)
                .replace('T', " ");
            let text = format!(
                "{}  ·  linked {when}",
                self.display_name(&entry.provider).to_uppercase()
            );
            let name = GString::from(entry.provider.as_str());
            let button = self.method_row(&text, &format!("Unlink_{}", entry.provider), "UNLINK");
            button
                .signals()
                .pressed()
                .connect_other(&this, move |s| s.unlink_provider(name.clone()));
        }
        let offered: Vec<ProviderInfo> = self
            .providers
            .iter()
            .filter(|p| !linked.linked.iter().any(|l| l.provider == p.name))
            .cloned()
            .collect();
        for provider in offered {
            let text = format!("{}  ·  not linked", provider.display_name.to_uppercase());
            let label = if provider.available {
                "LINK"
            } else {
                "UNAVAILABLE"
            };
            let mut button = self.method_row(&text, &format!("Link_{}", provider.name), label);
            button.set_disabled(!provider.available);
            let name = GString::from(provider.name.as_str());
            button
                .signals()
                .pressed()
                .connect_other(&this, move |s| s.link_provider(name.clone()));
        }
        let mut password = Label::new_alloc();
        password.set_text(if linked.has_password {
            "PASSWORD  ·  set: it signs you in too"
        } else {
            "PASSWORD  ·  none: this pilot signs in through the providers above"
        });
        password.add_theme_color_override("font_color", palette::CYAN_DIM);
        self.sign_in_list.add_child(&password);
    }

    /// A row of the list: `text` and a button named `button_name`.
    fn method_row(&mut self, text: &str, button_name: &str, button_text: &str) -> Gd<Button> {
        let mut row = HBoxContainer::new_alloc();
        let mut label = Label::new_alloc();
        label.set_text(text);
        label.set_h_size_flags(godot::classes::control::SizeFlags::EXPAND_FILL);
        label.set_clip_text(true);
        row.add_child(&label);
        let mut button = Button::new_alloc();
        button.set_name(button_name);
        button.set_text(button_text);
        row.add_child(&button);
        self.sign_in_list.add_child(&row);
        button
    }
}
