//! The account's calls on [`BackendClient`]: finish a password reset with
//! the mailed code, verify an email, ask for a new code, and everything
//! `/me` offers (profile, password, sessions, export, deletion).
//!
//! Every call answers `account_action_finished(action, ok, code, message,
//! retry_after_s)` (`action` names the call: `reset`, `verify`, `resend`,
//! `profile`, `password`, `revoke`, `revoke_others`, `export`, `delete`);
//! `profile_loaded` and `sessions_loaded` carry what was read. Passwords
//! and codes go to the server and nowhere else: never to a log or a file.

use game::api::{
    DeleteAccountRequest, PasswordResetConfirm, PasswordResetRequest, Profile, SessionsResponse,
    UpdateProfileRequest, VerifyEmailRequest, codes,
};
use godot::classes::FileAccess;
use godot::classes::file_access::ModeFlags;
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
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

    /// Reads `/me`: answers `profile_loaded` (or `account_action_finished`
    /// with `load` and the refusal).
    #[func]
    pub fn load_profile(&mut self) {
        let mut this = self.to_gd();
        self.send_json::<Profile>(client::routes::me(), move |result| match result {
            Ok(profile) => {
                this.signals().profile_loaded().emit(
                    profile.username.as_str(),
                    profile.email.as_str(),
                    profile.email_verified,
                );
            }
            Err(error) => this.bind_mut().finished("load", Err(error)),
        });
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
            if let Ok(profile) = &result {
                this.signals().profile_loaded().emit(
                    profile.username.as_str(),
                    profile.email.as_str(),
                    profile.email_verified,
                );
            }
            this.bind_mut().finished("profile", result.map(|_| ()));
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
    /// Sends `call` and answers `account_action_finished(action, ...)`.
    fn account_call(&mut self, action: &'static str, call: net::Call) {
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

    fn finished(&mut self, action: &str, result: Result<(), ApiError>) {
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
