//! `BackendClient`: the autoload that talks to the backend (`/api/v1`).
//!
//! HTTP runs on the shared tokio runtime ([`crate::app::runtime`]) through
//! [`client::net`]; results come back over a channel that `process` polls, so
//! every completion and signal happens on the main thread. Rust callers pass a
//! completion closure to [`BackendClient::send`] (typed bodies from
//! `game::api`); screens listen to the typed signals.
//!
//! The session: the refresh token and the username are stored under
//! `user://` with Godot's encrypted file API, keyed by the machine id, and
//! rewritten on every rotation. The access token is only kept in memory.
//!
//! The backend URL, strongest first: the command-line user argument
//! `--backend-url=URL` (after `--`), the environment variable
//! `COTS_BACKEND_URL`, the project setting
//! `children_of_the_singularity/backend/url`.
//!
//! While the backend is unreachable, `GET /health` is tried every
//! `offline_probe_s` so `connection_changed(true)` fires as soon as it is
//! back (the offline queue itself lives in `GameState`).
//!
//! Signing in through a provider (Google, Discord: the system browser and a
//! loopback listener) is in [`crate::app::providers`].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use game::api::{
    LoginRequest, PasswordResetRequest, Profile, RegisterRequest, RegisterResponse, codes,
};
use godot::classes::file_access::ModeFlags;
use godot::classes::{DirAccess, FileAccess, INode, Node, Os, ProjectSettings};
use godot::prelude::*;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::app::runtime;
use crate::app::settings_store::SettingsStore;
use client::net::{self, ApiError, Call, NetCore, NetEvent, Reply};
use client::routes;

/// Project setting holding the default backend URL.
pub const URL_SETTING: &str = "children_of_the_singularity/backend/url";
/// Environment variable overriding the project setting.
pub const URL_ENV: &str = "COTS_BACKEND_URL";
/// Command-line user argument overriding both (`-- --backend-url=URL`).
pub const URL_ARG: &str = "--backend-url=";
/// Used when nothing else names a backend.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// The answer of a station ping: reachable, and what went wrong in words.
type PingReport = Box<dyn FnOnce(bool, &str)>;

/// A finished call, handed to the caller on the main thread.
pub type Completion = Box<dyn FnOnce(Result<Reply, ApiError>)>;

/// Picks the backend URL: argument, then environment, then the player's
/// saved station (settings screen), then the project setting (the build's
/// default).
pub fn choose_backend_url(
    args: &[String],
    env: Option<&str>,
    saved: Option<&str>,
    setting: Option<&str>,
) -> String {
    let from_args = args
        .iter()
        .find_map(|a| a.strip_prefix(URL_ARG))
        .map(str::to_owned);
    from_args
        .or_else(|| env.map(str::to_owned))
        .or_else(|| saved.map(str::to_owned))
        .or_else(|| setting.map(str::to_owned))
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// What the session file holds (encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredSession {
    refresh_token: String,
    username: String,
    backend_url: String,
}

/// The backend client autoload. See the module docs.
#[derive(GodotClass)]
#[class(base = Node, init)]
pub struct BackendClient {
    /// Seconds before a request without an answer counts as failed.
    #[export(range = (1.0, 120.0, 0.5))]
    #[init(val = 10.0)]
    request_timeout_s: f64,
    /// Refresh the access token when it expires within this many seconds.
    #[export(range = (0.0, 600.0, 1.0))]
    #[init(val = 60.0)]
    refresh_margin_s: f64,
    /// Where the encrypted session (refresh token, username) is kept.
    #[export]
    #[init(val = GString::from("user://session.dat"))]
    session_file: GString,
    /// Seconds between reachability probes while offline.
    #[export(range = (0.5, 120.0, 0.5))]
    #[init(val = 3.0)]
    offline_probe_s: f64,
    /// Open the system browser at a provider's start address. Off, the
    /// address only goes out with `provider_browser_url` (the in-engine
    /// tests play the browser themselves).
    #[export]
    #[init(val = true)]
    pub(crate) open_system_browser: bool,
    /// Seconds a provider sign-in waits for the browser to come back.
    #[export(range = (1.0, 3600.0, 1.0))]
    #[init(val = game::api::oauth::LOOPBACK_TIMEOUT_SECS as f64)]
    pub(crate) provider_timeout_s: f64,
    /// The provider sign-in (or link) waiting for the browser, if any.
    pub(crate) provider_flow: Option<client::oauth::PendingFlow>,
    /// The provider of the step (`choose_username`, `prove_account`) being
    /// finished.
    pub(crate) step_provider: String,
    probe_left: f64,
    probe_in_flight: bool,
    core: Option<Arc<NetCore>>,
    events: Option<Receiver<NetEvent>>,
    pending: HashMap<u64, Completion>,
    /// Results produced without the network (no runtime), delivered by `pump`.
    undelivered: Vec<(u64, Result<Reply, ApiError>)>,
    next_id: u64,
    url: String,
    username: Option<String>,
    /// `/me` as last read or changed (profile and preferences); `None`
    /// while signed out.
    pub(crate) profile: Option<Profile>,
    /// A refresh token is held (in memory, on the network side).
    has_session: bool,
    online: bool,
    /// A call sent before the session is revoked on sign-out (the lobby
    /// room's leave), see [`BackendClient::set_farewell`].
    farewell: Option<Call>,
    /// Station pings in flight (`ping_station`), each with its answer.
    pings: Vec<(Receiver<NetEvent>, PingReport)>,
    /// Answers with no network behind them, delivered by `pump`.
    deferred: Vec<Box<dyn FnOnce()>>,
    base: Base<Node>,
}

#[godot_api]
impl INode for BackendClient {
    fn ready(&mut self) {
        self.online = true;
        self.connect_core();
        if let Some(store) = SettingsStore::autoload() {
            let this = self.to_gd();
            store
                .signals()
                .hints_chosen()
                .connect_other(&this, Self::share_hints_preference);
        }
    }

    fn process(&mut self, delta: f64) {
        self.pump();
        if !self.online && !self.probe_in_flight {
            self.probe_left -= delta;
            if self.probe_left <= 0.0 {
                self.probe_left = self.offline_probe_s;
                self.probe_in_flight = true;
                let mut this = self.to_gd();
                self.send(routes::health(), move |_| {
                    this.bind_mut().probe_in_flight = false;
                });
            }
        }
    }

    fn exit_tree(&mut self) {
        // Completions may capture nodes that are going away with us.
        self.pending.clear();
        self.stop_provider_flow();
    }
}

#[godot_api]
impl BackendClient {
    /// A session is now active (login, registration + login, or restore).
    #[signal]
    pub fn signed_in(username: GString);
    /// A login attempt failed; `retry_after_s` is 0 when not given.
    #[signal]
    pub fn sign_in_failed(code: GString, message: GString, retry_after_s: i64);
    /// The account was created (a login follows automatically).
    #[signal]
    pub fn registered(username: GString);
    #[signal]
    pub fn register_failed(code: GString, message: GString, retry_after_s: i64);
    /// The reset mail was requested (the server never says whether the address exists).
    #[signal]
    pub fn password_reset_requested();
    #[signal]
    pub fn password_reset_failed(code: GString, message: GString, retry_after_s: i64);
    /// The stored session was tried: `restored` false with `code`
    /// `no_session`, `unreachable` or the server's refusal.
    #[signal]
    pub fn session_restore_finished(restored: bool, code: GString);
    /// The session ended (logout, or the server refused the refresh token).
    #[signal]
    pub fn signed_out(reason: GString);
    /// The backend became reachable or unreachable.
    #[signal]
    pub fn connection_changed(online: bool);
    /// Answer of `sign_out_everywhere`: `ok` false leaves the session as it
    /// was (`code` says why, e.g. `unreachable`).
    #[signal]
    pub fn sign_out_everywhere_finished(ok: bool, code: GString);
    /// Every call, when it finishes (status 0 = not reached).
    #[signal]
    pub fn request_finished(id: i64, status: i64, code: GString);
    /// An account call finished (see `app::account`): `action` names it;
    /// `message` is the server's (or, for `export`, the file written).
    #[signal]
    pub fn account_action_finished(
        action: GString,
        ok: bool,
        code: GString,
        message: GString,
        retry_after_s: i64,
    );
    /// `/me` as read (or as changed).
    #[signal]
    pub fn profile_loaded(username: GString, email: GString, email_verified: bool);
    /// The sessions list, as the JSON of `game::api::SessionsResponse`.
    #[signal]
    pub fn sessions_loaded(json: GString);
    /// Answer of `ping_station`: `words` says what went wrong ("" when `ok`).
    #[signal]
    pub fn station_pinged(url: GString, ok: bool, words: GString);
    /// The sign-in providers the station offers, as the JSON of
    /// `game::api::oauth::ProvidersResponse` (an empty list when it offers
    /// none or cannot be reached).
    #[signal]
    pub fn providers_loaded(json: GString);
    /// A provider sign-in (or link) started: the system browser was sent to
    /// `url` (unless `open_system_browser` is off), and the game waits for
    /// it on a loopback port.
    #[signal]
    pub fn provider_browser_url(provider: GString, url: GString);
    /// The provider sign-in needs one more step: `status` is
    /// `choose_username` (`username`: the station's suggestion) or
    /// `prove_account` (`username`: the pilot who owns the provider's
    /// address); answer with `finish_provider_sign_in(ticket, ...)`.
    #[signal]
    pub fn provider_step(provider: GString, status: GString, ticket: GString, username: GString);
    /// A provider sign-in ended without a session: `words` are the
    /// player's (the denial, a timeout, a refusal).
    #[signal]
    pub fn provider_sign_in_failed(provider: GString, code: GString, words: GString);
    /// The providers linked to the account, as the JSON of
    /// `game::api::oauth::LinkedProviders`.
    #[signal]
    pub fn linked_providers_loaded(json: GString);

    /// The backend URL in use.
    #[func]
    pub fn backend_url(&self) -> GString {
        GString::from(self.url.as_str())
    }

    /// Whether the last request reached the server.
    #[func]
    pub fn is_online(&self) -> bool {
        self.online
    }

    /// Whether a session is active.
    #[func]
    pub fn is_signed_in(&self) -> bool {
        self.has_session && self.username.is_some()
    }

    /// Name of the signed-in player ("" when signed out).
    #[func]
    pub fn signed_in_username(&self) -> GString {
        GString::from(self.username.as_deref().unwrap_or(""))
    }

    /// Calls still waiting for an answer.
    #[func]
    pub fn requests_in_flight(&self) -> i64 {
        self.pending.len() as i64
    }

    /// Logs in with an email or username; answers with `signed_in` or `sign_in_failed`.
    #[func]
    pub fn sign_in(&mut self, login: GString, password: GString) {
        let request = LoginRequest {
            login: login.to_string().trim().to_owned(),
            password: password.to_string(),
        };
        self.login_then_profile(request, false);
    }

    /// Creates an account, then logs in with it; answers with `registered`
    /// then `signed_in`, or `register_failed`.
    #[func]
    pub fn create_account(&mut self, email: GString, username: GString, password: GString) {
        let request = RegisterRequest {
            email: email.to_string().trim().to_owned(),
            username: username.to_string(),
            password: password.to_string(),
        };
        let login = LoginRequest {
            login: request.username.clone(),
            password: request.password.clone(),
        };
        let mut this = self.to_gd();
        self.send(routes::register(&request), move |result| {
            match result.and_then(|r| net::parse::<RegisterResponse>(&r)) {
                Ok(created) => {
                    this.signals()
                        .registered()
                        .emit(&GString::from(created.username.as_str()));
                    this.bind_mut().login_then_profile(login, true);
                }
                Err(e) => {
                    let (code, message, wait) = error_args(&e);
                    this.signals().register_failed().emit(&code, &message, wait);
                }
            }
        });
    }

    /// Asks the server to mail a password reset link.
    #[func]
    pub fn request_password_reset(&mut self, email: GString) {
        let request = PasswordResetRequest {
            email: email.to_string().trim().to_owned(),
        };
        let this = self.to_gd();
        self.send(
            routes::password_reset(&request),
            move |result| match result {
                Ok(_) => this.signals().password_reset_requested().emit(),
                Err(e) => {
                    let (code, message, wait) = error_args(&e);
                    this.signals()
                        .password_reset_failed()
                        .emit(&code, &message, wait);
                }
            },
        );
    }

    /// Tries the stored session. Returns false (and emits
    /// `session_restore_finished(false, "no_session")`) when none is stored.
    #[func]
    pub fn restore_session(&mut self) -> bool {
        let Some(stored) = self.load_session() else {
            // Announced from `pump`, so the caller may be a listener.
            let this = self.to_gd();
            let id = self.next_id + 1;
            self.next_id = id;
            self.pending.insert(
                id,
                Box::new(move |_| {
                    this.signals()
                        .session_restore_finished()
                        .emit(false, codes::NO_SESSION);
                }),
            );
            self.undelivered.push((id, Err(ApiError::not_signed_in())));
            return false;
        };
        let call = routes::resume(stored.refresh_token);
        self.has_session = true;
        let mut this = self.to_gd();
        self.send(call, move |result| match result {
            Ok(_) => this.bind_mut().fetch_profile(false, true),
            Err(e) => {
                let code = GString::from(e.code.as_str());
                if !e.is_unreachable() {
                    this.bind_mut().has_session = false;
                }
                this.signals().session_restore_finished().emit(false, &code);
            }
        });
        true
    }

    /// Ends the session on the server and forgets it here. A farewell call
    /// (leaving the lobby room) goes first, while the session still counts.
    #[func]
    pub fn sign_out(&mut self) {
        match self.farewell.take() {
            Some(farewell) => {
                let mut this = self.to_gd();
                self.send(farewell, move |_| {
                    this.bind_mut().send(routes::logout(), |_| {});
                });
            }
            None => {
                self.send(routes::logout(), |_| {});
            }
        }
        // The logout call takes (and forgets) the tokens itself.
        self.end_session(codes::SIGNED_OUT, false);
    }

    /// Ends every session of the account on the server (all devices), then
    /// this one here; answers `sign_out_everywhere_finished`. Needs the
    /// station: offline, nothing changes.
    #[func]
    pub fn sign_out_everywhere(&mut self) {
        if let Some(farewell) = self.farewell.take() {
            // Leave the room first; the revocation follows whatever it says.
            let mut this = self.to_gd();
            self.send(farewell, move |_| this.bind_mut().sign_out_everywhere());
            return;
        }
        let mut this = self.to_gd();
        self.send(routes::logout_all(), move |result| match result {
            Ok(_) => {
                this.bind_mut()
                    .end_session(codes::SIGNED_OUT_EVERYWHERE, true);
                this.signals().sign_out_everywhere_finished().emit(true, "");
            }
            Err(e) => {
                this.signals()
                    .sign_out_everywhere_finished()
                    .emit(false, e.code.as_str());
            }
        });
    }

    /// Forgets everything held in memory (tokens, username, pending calls)
    /// as if the game had been restarted; the stored session stays.
    #[func]
    pub fn forget_memory(&mut self) {
        self.pending.clear();
        self.probe_in_flight = false;
        self.online = true;
        self.username = None;
        self.profile = None;
        self.has_session = false;
        self.stop_provider_flow();
        self.connect_core();
    }

    /// Whether a session file exists.
    #[func]
    pub fn has_stored_session(&self) -> bool {
        self.load_session().is_some()
    }

    /// Asks the station at `url` whether it answers (`GET /health`), with
    /// this client's timeout and without its tokens; answers
    /// `station_pinged(url, ok, words)`.
    #[func]
    pub fn ping_station(&mut self, url: GString) {
        let url = url.to_string();
        let (tx, rx) = channel();
        let timeout = Duration::from_secs_f64(self.request_timeout_s.clamp(1.0, 120.0));
        let this = self.to_gd();
        let pinged = url.clone();
        let report = move |ok: bool, words: &str| {
            this.signals()
                .station_pinged()
                .emit(pinged.as_str(), ok, words);
        };
        let core = match NetCore::new(&url, timeout, Duration::ZERO, tx) {
            Ok(core) => core,
            Err(e) => {
                let words = format!("That address cannot be used: {e}");
                self.later(move || report(false, &words));
                return;
            }
        };
        let Some(handle) = runtime::handle() else {
            self.later(move || report(false, "The network client is not running."));
            return;
        };
        handle.spawn(core.run(0, routes::health()));
        self.pings.push((rx, Box::new(report)));
    }

    /// Connects to the station the settings name now (argument, environment,
    /// saved, build default). Refused while signed in: the session belongs
    /// to the station that issued it. True when the address changed.
    #[func]
    pub fn use_configured_station(&mut self) -> bool {
        if self.is_signed_in() {
            return false;
        }
        let before = self.url.clone();
        self.pending.clear();
        self.connect_core();
        before != self.url
    }

    /// Deletes the stored session file.
    #[func]
    pub fn clear_stored_session(&mut self) {
        let path = self.session_file.clone();
        if FileAccess::file_exists(&path) {
            let absolute = godot::classes::ProjectSettings::singleton().globalize_path(&path);
            let _ = DirAccess::remove_absolute(&absolute);
        }
    }
}

/// Fixtures for the screenshot tool (feature `itest`).
#[cfg(feature = "itest")]
#[godot_api(secondary)]
impl BackendClient {
    /// Shows `username` as signed in and the link as `online`, without a
    /// session (screenshot fixtures only: no call can authenticate).
    #[func]
    pub fn apply_fixture_identity(&mut self, username: GString, online: bool) {
        self.username = Some(username.to_string());
        self.online = online;
        self.signals().connection_changed().emit(online);
    }
}

impl BackendClient {
    /// Name of the autoload in `project.godot`.
    pub const AUTOLOAD: &str = "BackendClient";

    /// The `BackendClient` autoload (gdext's autoload lookup), if the game runs with it.
    pub fn autoload() -> Option<Gd<BackendClient>> {
        godot::tools::try_get_autoload_by_name::<BackendClient>(Self::AUTOLOAD).ok()
    }

    /// Sends `call`; `done` runs on the main thread with the answer.
    pub fn send(
        &mut self,
        call: Call,
        done: impl FnOnce(Result<Reply, ApiError>) + 'static,
    ) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.pending.insert(id, Box::new(done));
        // Completions always run from `pump`, never inside this call, so a
        // caller holding its own `&mut self` is not re-entered.
        match (self.core.clone(), runtime::handle()) {
            (Some(core), Some(handle)) => {
                handle.spawn(core.run(id, call));
            }
            _ => self.undelivered.push((
                id,
                Err(ApiError::unreachable("the network client is not running")),
            )),
        }
        id
    }

    /// [`BackendClient::send`] with the body parsed as `T`.
    pub fn send_json<T: DeserializeOwned + 'static>(
        &mut self,
        call: Call,
        done: impl FnOnce(Result<T, ApiError>) + 'static,
    ) -> u64 {
        self.send(call, move |result| {
            done(result.and_then(|reply| net::parse::<T>(&reply)))
        })
    }

    /// `call` goes to the server before the session is revoked on sign-out
    /// (the trading floor sets its room's leave while it is a member, so a
    /// player who signs out is not left listed). `None` clears it.
    pub fn set_farewell(&mut self, call: Option<Call>) {
        self.farewell = call;
    }

    /// The network core (for the lobby WebSocket, which shares its tokens).
    pub fn core(&self) -> Option<Arc<NetCore>> {
        self.core.clone()
    }

    /// Username of the session, if any.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    fn connect_core(&mut self) {
        self.url = resolve_backend_url();
        let (tx, rx) = channel();
        let timeout = Duration::from_secs_f64(self.request_timeout_s.clamp(1.0, 120.0));
        let margin = Duration::from_secs_f64(self.refresh_margin_s.clamp(0.0, 600.0));
        match NetCore::new(&self.url, timeout, margin, tx) {
            Ok(core) => {
                self.core = Some(core);
                self.events = Some(rx);
            }
            Err(e) => godot_error!("BackendClient: cannot build the HTTP client: {e}"),
        }
    }

    /// Runs `report` from the next `pump` (never inside the caller's call).
    pub(crate) fn later(&mut self, report: impl FnOnce() + 'static) {
        self.deferred.push(Box::new(report));
    }

    /// Delivers the answers of finished station pings.
    fn pump_pings(&mut self) {
        let mut done = Vec::new();
        let mut waiting = Vec::new();
        for (rx, report) in self.pings.drain(..) {
            let finished = rx.try_iter().find_map(|event| match event {
                NetEvent::Finished { result, .. } => Some(result),
                _ => None,
            });
            match finished {
                Some(result) => done.push((result, report)),
                None => waiting.push((rx, report)),
            }
        }
        self.pings = waiting;
        let deferred: Vec<_> = self.deferred.drain(..).collect();
        let guard = self.base_mut();
        for report in deferred {
            report();
        }
        for (result, report) in done {
            match result {
                Ok(_) => report(true, ""),
                Err(e) if e.is_unreachable() => {
                    report(false, "No station answers at that address.")
                }
                Err(e) => report(
                    false,
                    &format!(
                        "Something answers there, but not a station ({}).",
                        if e.status == 0 {
                            e.code.clone()
                        } else {
                            format!("HTTP {}", e.status)
                        }
                    ),
                ),
            }
        }
        drop(guard);
    }

    /// Delivers everything the network side reported.
    fn pump(&mut self) {
        self.pump_provider_flow();
        self.pump_pings();
        let mut batch: Vec<NetEvent> = self
            .undelivered
            .drain(..)
            .map(|(id, result)| NetEvent::Finished { id, result })
            .collect();
        if let Some(events) = &self.events {
            batch.extend(events.try_iter());
        }
        for event in batch {
            match event {
                NetEvent::Finished { id, result } => {
                    let (status, code) = match &result {
                        Ok(reply) => (i64::from(reply.status), GString::new()),
                        Err(e) => (i64::from(e.status), GString::from(e.code.as_str())),
                    };
                    let done = self.pending.remove(&id);
                    if let Some(done) = done {
                        // Re-entrant: the completion may send more calls.
                        let guard = self.base_mut();
                        done(result);
                        drop(guard);
                    }
                    self.signals()
                        .request_finished()
                        .emit(id as i64, status, &code);
                }
                NetEvent::RefreshRotated(token) => {
                    self.has_session = true;
                    self.save_session(&token);
                }
                NetEvent::SessionEnded { code } => {
                    self.end_session(&code, true);
                }
                NetEvent::Reachable(reachable) => {
                    if reachable != self.online {
                        self.online = reachable;
                        self.signals().connection_changed().emit(reachable);
                    }
                }
            }
        }
    }

    fn login_then_profile(&mut self, request: LoginRequest, after_register: bool) {
        let call = routes::login(request);
        let mut this = self.to_gd();
        self.send(call, move |result| match result {
            Ok(_) => this.bind_mut().fetch_profile(after_register, false),
            Err(e) => {
                let (code, message, wait) = error_args(&e);
                if after_register {
                    this.signals().register_failed().emit(&code, &message, wait);
                } else {
                    this.signals().sign_in_failed().emit(&code, &message, wait);
                }
            }
        });
    }

    /// After tokens were obtained: learn the username, then announce the session.
    pub(crate) fn fetch_profile(&mut self, after_register: bool, restoring: bool) {
        let mut this = self.to_gd();
        self.send_json::<Profile>(routes::me(), move |result| match result {
            Ok(profile) => {
                let mut client = this.bind_mut();
                client.username = Some(profile.username.clone());
                client.has_session = true;
                client.resave_username();
                client.adopt_profile(profile.clone());
                drop(client);
                let name = GString::from(profile.username.as_str());
                this.signals().signed_in().emit(&name);
                if restoring {
                    this.signals().session_restore_finished().emit(true, "");
                }
            }
            Err(e) => {
                let (code, message, wait) = error_args(&e);
                if restoring {
                    this.signals().session_restore_finished().emit(false, &code);
                } else if after_register {
                    this.signals().register_failed().emit(&code, &message, wait);
                } else {
                    this.signals().sign_in_failed().emit(&code, &message, wait);
                }
            }
        });
    }

    /// The account is gone on the server: end the session here.
    pub(crate) fn end_after_deletion(&mut self) {
        self.end_session(codes::ACCOUNT_DELETED, true);
    }

    fn end_session(&mut self, reason: &str, forget_tokens: bool) {
        let was_signed_in = self.has_session;
        self.farewell = None;
        self.stop_provider_flow();
        self.has_session = false;
        self.username = None;
        self.profile = None;
        self.clear_stored_session();
        // Drop the in-memory tokens too (calls in flight still finish).
        if forget_tokens && let (Some(core), Some(handle)) = (self.core.clone(), runtime::handle())
        {
            handle.spawn(core.clear_tokens());
        }
        if was_signed_in {
            self.signals().signed_out().emit(reason);
        }
    }

    fn session_key() -> GString {
        let id = Os::singleton().get_unique_id().to_string();
        GString::from(format!("cots-session-v1:{id}").as_str())
    }

    fn load_session(&self) -> Option<StoredSession> {
        if !FileAccess::file_exists(&self.session_file) {
            return None;
        }
        let file = FileAccess::open_encrypted_with_pass(
            &self.session_file,
            ModeFlags::READ,
            &Self::session_key(),
        )?;
        let text = file.get_as_text().to_string();
        let stored: StoredSession = serde_json::from_str(&text).ok()?;
        // A session belongs to the backend that issued it.
        (stored.backend_url == self.url && !stored.refresh_token.is_empty()).then_some(stored)
    }

    fn save_session(&mut self, refresh_token: &str) {
        let username = self
            .username
            .clone()
            .or_else(|| self.load_session().map(|s| s.username))
            .unwrap_or_default();
        let stored = StoredSession {
            refresh_token: refresh_token.to_owned(),
            username,
            backend_url: self.url.clone(),
        };
        self.write_session(&stored);
    }

    fn resave_username(&mut self) {
        if let (Some(mut stored), Some(name)) = (self.load_session(), self.username.clone()) {
            stored.username = name;
            self.write_session(&stored);
        }
    }

    fn write_session(&self, stored: &StoredSession) {
        let Ok(text) = serde_json::to_string(stored) else {
            return;
        };
        match FileAccess::open_encrypted_with_pass(
            &self.session_file,
            ModeFlags::WRITE,
            &Self::session_key(),
        ) {
            Some(mut file) => {
                file.store_string(&text);
                file.close();
            }
            None => godot_warn!(
                "BackendClient: cannot write the session file {}",
                self.session_file
            ),
        }
    }
}

/// `(code, message, retry_after_s)` for the failure signals.
pub(crate) fn error_args(error: &ApiError) -> (GString, GString, i64) {
    (
        GString::from(error.code.as_str()),
        GString::from(error.message.as_str()),
        error.retry_after.map_or(0, |s| s as i64),
    )
}

/// The URL from the command line, the environment or the project setting.
fn resolve_backend_url() -> String {
    let os = Os::singleton();
    let args: Vec<String> = os
        .get_cmdline_user_args()
        .as_slice()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let env = os.get_environment(URL_ENV).to_string();
    let settings = ProjectSettings::singleton();
    let setting = if settings.has_setting(URL_SETTING) {
        Some(settings.get_setting(URL_SETTING).to_string())
    } else {
        None
    };
    let saved =
        SettingsStore::autoload().and_then(|store| store.bind().settings().backend_url.clone());
    choose_backend_url(
        &args,
        (!env.is_empty()).then_some(env.as_str()),
        saved.as_deref(),
        setting.as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_precedence_is_argument_environment_saved_setting() {
        let args = vec!["--foo".to_owned(), "--backend-url=http://a:1/".to_owned()];
        let (b, s, c) = (Some("http://b:2"), Some("http://s:4"), Some("http://c:3"));
        assert_eq!(choose_backend_url(&args, b, s, c), "http://a:1");
        assert_eq!(choose_backend_url(&[], b, s, c), "http://b:2");
        assert_eq!(choose_backend_url(&[], None, s, c), "http://s:4");
        assert_eq!(choose_backend_url(&[], None, None, c), "http://c:3");
        assert_eq!(choose_backend_url(&[], None, None, None), DEFAULT_URL);
        assert_eq!(choose_backend_url(&[], Some("  "), None, None), DEFAULT_URL);
    }
}
