//! The account's calls on [`BackendClient`]: finish a password reset with
//! the mailed code, verify an email, ask for a new code, and everything
//! `/me` offers (profile, password, sessions, export, deletion).
//!
//! Every call answers `account_action_finished(action, ok, code, message,
//! retry_after_s)` (`action` names the call: `reset`, `verify`, `resend`,
//! `change_address`, `profile`, `preferences`, `password`, `revoke`,
//! `revoke_others`, `export`, `delete`); `profile_loaded` and
//! `sessions_loaded` carry what was read. Passwords and codes go to the
//! server and nowhere else: never to a log or a file.
//!
//! The profile read at sign-in is kept ([`BackendClient::profile`]): the
//! HUD shows whether the address is confirmed, the zone starts in the
//! preferred zone, the lobby masks chat, and the first-flight hints follow
//! the player's preference (a change here or from the settings goes back
//! to the server).

use game::Catalog;
use game::account::{ChatFilter, Preferences};
use game::api::{
    ChangeAddressRequest, DeleteAccountRequest, PasswordResetConfirm, PasswordResetRequest,
    Profile, SessionsResponse, UpdateProfileRequest, VerifyEmailRequest, codes,
};
use godot::classes::FileAccess;
use godot::classes::file_access::ModeFlags;
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::app::settings_store::SettingsStore;
use client::net::{self, ApiError};

/// Calls of the account screens. See the module docs.
#[godot_api(secondary)]
impl BackendClient {
    /// Sets a new password with the mailed reset code (every session of the
    /// account ends on the server).
    #[func]
    pub fn confirm_password_reset(&mut self, code: GString, new_password: GString) {
        let request = PasswordResetConfirm {
            token: code.to_string().trim().to_owned(),
            new_password: new_password.to_string(),
        };
        self.account_call("reset", client::routes::password_reset_confirm(&request));
    }

    /// Confirms the email address with the mailed code.
    #[func]
    pub fn verify_email(&mut self, code: GString) {
        let request = VerifyEmailRequest {
            token: code.to_string().trim().to_owned(),
        };
        self.account_call("verify", client::routes::verify_email(&request));
    }

    /// Asks for a new verification code at `email` (the server answers the
    /// same whether or not it has such an unverified account).
    #[func]
    pub fn resend_verification(&mut self, email: GString) {
        let request = PasswordResetRequest {
            email: email.to_string().trim().to_owned(),
        };
        self.account_call("resend", client::routes::resend_verification(&request));
    }

    /// Moves an account whose address is not confirmed (sign-in refused
    /// with `email_not_verified`) to `new_email`, with its login and
    /// password; a new code is mailed there.
    #[func]
    pub fn change_unverified_address(
        &mut self,
        login: GString,
        password: GString,
        new_email: GString,
    ) {
        let request = ChangeAddressRequest {
            login: login.to_string().trim().to_owned(),
            password: password.to_string(),
            new_email: new_email.to_string().trim().to_owned(),
        };
        self.account_call(
            "change_address",
            client::routes::change_unverified_address(&request),
        );
    }

    /// Reads `/me`: answers `profile_loaded` (or `account_action_finished`
    /// with `load` and the refusal).
    #[func]
    pub fn load_profile(&mut self) {
        let mut this = self.to_gd();
        self.send_json::<Profile>(client::routes::me(), move |result| match result {
            Ok(profile) => this.bind_mut().profile_answered(profile),
            Err(error) => this.bind_mut().finished("load", Err(error)),
        });
    }

    /// Whether the account's address is confirmed (true while no profile
    /// was read: nothing to warn about).
    #[func]
    pub fn email_verified(&self) -> bool {
        self.profile.as_ref().is_none_or(|p| p.email_verified)
    }

    /// The zone to start in after sign-in (0: none chosen).
    #[func]
    pub fn preferred_zone(&self) -> i64 {
        self.preferences().preferred_zone.map_or(0, i64::from)
    }

    /// Whether lobby chat from others is masked.
    #[func]
    pub fn masks_chat(&self) -> bool {
        self.preferences().chat_filter == ChatFilter::Mask
    }

    /// Whether the first-flight hints are wanted (the server's word).
    #[func]
    pub fn wants_hints(&self) -> bool {
        self.preferences().show_hints
    }

    /// Saves the preferences on the server (`preferred_zone` 0 for none),
    /// checked first with the rules the server applies; answers
    /// `account_action_finished("preferences", ...)` and, when stored,
    /// `profile_loaded`.
    #[func]
    pub fn save_preferences(&mut self, preferred_zone: i64, show_hints: bool, mask_chat: bool) {
        let preferences = Preferences {
            preferred_zone: u8::try_from(preferred_zone).ok().filter(|z| *z > 0),
            show_hints,
            chat_filter: if mask_chat {
                ChatFilter::Mask
            } else {
                ChatFilter::Off
            },
            ..self.preferences()
        };
        if let Err(problem) = preferences.check(Catalog::shipped()) {
            let error = ApiError::new(0, codes::INVALID_PREFERENCES, problem.to_string());
            return self.finished("preferences", Err(error));
        }
        self.put_preferences(preferences, true);
    }

    /// Changes the username and/or the email ("" leaves it); a new email
    /// needs the current password and is verified again.
    #[func]
    pub fn update_profile(&mut self, username: GString, email: GString, current_password: GString) {
        let text = |s: &GString| Some(s.to_string().trim().to_owned()).filter(|s| !s.is_empty());
        let request = UpdateProfileRequest {
            username: text(&username),
            email: text(&email),
            new_password: None,
            current_password: Some(current_password.to_string()).filter(|p| !p.is_empty()),
        };
        let mut this = self.to_gd();
        self.send_json::<Profile>(client::routes::update_me(&request), move |result| {
            let result = result.map(|profile| this.bind_mut().profile_answered(profile));
            this.bind_mut().finished("profile", result);
        });
    }

    /// Changes the password (the current one proves it is the owner). The
    /// server ends the account's other sessions; this one goes on.
    #[func]
    pub fn change_password(&mut self, current_password: GString, new_password: GString) {
        let request = UpdateProfileRequest {
            new_password: Some(new_password.to_string()),
            current_password: Some(current_password.to_string()),
            ..UpdateProfileRequest::default()
        };
        self.account_call("password", client::routes::update_me(&request));
    }

    /// Reads the sessions: answers `sessions_loaded(json)` with the
    /// `SessionsResponse` body.
    #[func]
    pub fn load_sessions(&mut self) {
        let mut this = self.to_gd();
        self.send_json::<SessionsResponse>(
            client::routes::sessions(),
            move |result| match result {
                Ok(list) => {
                    let json = serde_json::to_string(&list).unwrap_or_default();
                    this.signals().sessions_loaded().emit(json.as_str());
                }
                Err(error) => this.bind_mut().finished("load", Err(error)),
            },
        );
    }

    /// Ends one session (another device; this one is `sign_out`).
    #[func]
    pub fn revoke_session(&mut self, id: GString) {
        self.account_call("revoke", client::routes::revoke_session(&id.to_string()));
    }

    /// Ends every session but this one, one by one from the list.
    #[func]
    pub fn revoke_other_sessions(&mut self) {
        let mut this = self.to_gd();
        self.send_json::<SessionsResponse>(client::routes::sessions(), move |result| {
            let list = match result {
                Ok(list) => list,
                Err(error) => return this.bind_mut().finished("revoke_others", Err(error)),
            };
            let others: Vec<String> = list
                .sessions
                .into_iter()
                .filter(|s| !s.current)
                .map(|s| s.id)
                .collect();
            this.bind_mut().revoke_each("revoke_others", others);
        });
    }

    /// Saves everything the server keeps about the player (`GET /me/export`)
    /// as JSON at `path` (a file the player picked); the message of
    /// `account_action_finished("export", true, ...)` is the path written.
    #[func]
    pub fn export_account(&mut self, path: GString) {
        let mut this = self.to_gd();
        self.send(client::routes::export(), move |result| {
            let body = match result {
                Ok(reply) => reply.body,
                Err(error) => return this.bind_mut().finished("export", Err(error)),
            };
            let pretty = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            let written = match FileAccess::open(&path, ModeFlags::WRITE) {
                Some(mut file) => {
                    file.store_string(&pretty);
                    file.close();
                    Ok(())
                }
                None => Err(ApiError::new(
                    0,
                    codes::EXPORT_NOT_WRITTEN,
                    format!("cannot write {path} ({:?})", FileAccess::get_open_error()),
                )),
            };
            match written {
                Ok(()) => this.signals().account_action_finished().emit(
                    "export",
                    true,
                    "",
                    path.to_string().as_str(),
                    0,
                ),
                Err(error) => this.bind_mut().finished("export", Err(error)),
            }
        });
    }

    /// Deletes the account for good (with the password); on success the
    /// session ends here too (`signed_out("account_deleted")`).
    #[func]
    pub fn delete_account(&mut self, password: GString) {
        let request = DeleteAccountRequest {
            password: password.to_string(),
        };
        let mut this = self.to_gd();
        self.send(client::routes::delete_me(&request), move |result| {
            let ok = result.is_ok();
            this.bind_mut().finished("delete", result.map(|_| ()));
            if ok {
                this.bind_mut().end_after_deletion();
            }
        });
    }
}

impl BackendClient {
    /// The preferences as last read (the defaults while signed out).
    pub fn preferences(&self) -> Preferences {
        self.profile
            .as_ref()
            .map(|p| p.preferences.clone())
            .unwrap_or_default()
    }

    /// Keeps the profile read at sign-in and applies what follows the
    /// player: the first-flight hints (into the local settings).
    pub(crate) fn adopt_profile(&mut self, profile: Profile) {
        let show = profile.preferences.show_hints;
        self.profile = Some(profile);
        if let Some(mut store) = SettingsStore::autoload() {
            store.bind_mut().adopt_hints_preference(show);
        }
    }

    /// The hints were turned on or off here (GOT IT, the settings): the
    /// server keeps the choice for the player's other devices.
    pub fn share_hints_preference(&mut self, show: bool) {
        if self.profile.is_none() || self.preferences().show_hints == show {
            return;
        }
        let preferences = Preferences {
            show_hints: show,
            ..self.preferences()
        };
        self.put_preferences(preferences, false);
    }

    fn put_preferences(&mut self, preferences: Preferences, announce: bool) {
        let mut this = self.to_gd();
        let call = client::routes::put_preferences(&preferences);
        self.send_json::<Profile>(call, move |result| match result {
            Ok(profile) => {
                this.bind_mut().profile_answered(profile);
                if announce {
                    this.bind_mut().finished("preferences", Ok(()));
                }
            }
            Err(error) if announce => this.bind_mut().finished("preferences", Err(error)),
            Err(error) => godot_warn!(
                "BackendClient: the hints preference was not stored ({}): kept on this device",
                error.code
            ),
        });
    }

    /// A `/me` answer: kept, and announced with `profile_loaded`.
    fn profile_answered(&mut self, profile: Profile) {
        let (name, email, verified) = (
            GString::from(profile.username.as_str()),
            GString::from(profile.email.as_str()),
            profile.email_verified,
        );
        self.adopt_profile(profile);
        self.signals()
            .profile_loaded()
            .emit(&name, &email, verified);
    }

    /// Sends `call` and answers `account_action_finished(action, ...)`.
    pub(crate) fn account_call(&mut self, action: &'static str, call: net::Call) {
        let mut this = self.to_gd();
        self.send(call, move |result| {
            this.bind_mut().finished(action, result.map(|_| ()));
        });
    }

    fn revoke_each(&mut self, action: &'static str, mut ids: Vec<String>) {
        let Some(id) = ids.pop() else {
            return self.finished(action, Ok(()));
        };
        let mut this = self.to_gd();
        self.send(
            client::routes::revoke_session(&id),
            move |result| match result {
                Ok(_) => this.bind_mut().revoke_each(action, ids),
                Err(error) => this.bind_mut().finished(action, Err(error)),
            },
        );
    }

    pub(crate) fn finished(&mut self, action: &str, result: Result<(), ApiError>) {
        let (ok, code, message, wait) = match &result {
            Ok(()) => (true, String::new(), String::new(), 0),
            Err(e) => (
                false,
                e.code.clone(),
                e.message.clone(),
                e.retry_after.map_or(0, |s| s as i64),
            ),
        };
        self.signals().account_action_finished().emit(
            action,
            ok,
            code.as_str(),
            message.as_str(),
            wait,
        );
    }
}
