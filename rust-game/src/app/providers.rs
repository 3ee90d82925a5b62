//! Signing in through a provider (Google, Discord) on [`BackendClient`]:
//! OAuth 2.0 for native apps (RFC 8252) with PKCE, the game's half in
//! [`client::oauth`], the wire contract in `game::api::oauth`.
//!
//! `start_provider_sign_in(provider)` (signed out) or
//! `start_provider_link(provider)` (signed in, from the account screen)
//! makes the PKCE pair and `state`, binds `127.0.0.1:<free port>`, and sends
//! the system browser to the station's start address (`OS.shell_open`;
//! with `open_system_browser` off only `provider_browser_url` carries it,
//! for the in-engine tests). The listener waits on the shared runtime; its
//! answer comes back to `pump` on the main thread, and the code is
//! exchanged with the verifier:
//!
//! - signing in: `signed_in` with tokens (kept exactly as a login's, then
//!   `signed_in(username)` like a password login), or `provider_step`
//!   (choose a username / prove the existing account with its password:
//!   `finish_provider_sign_in`), or `provider_sign_in_failed` in words;
//! - linking: `account_action_finished("link", ...)`.
//!
//! `cancel_provider_sign_in` stops the wait and closes the port. The code
//! and the verifier go to the station and nowhere else: never to a log.

use std::time::Duration;

use game::api::codes;
use game::api::oauth::{
    FinishRequest, LinkedProviders, OAuthOutcome, OAuthStatus, ProvidersResponse,
};
use godot::classes::Os;
use godot::global::Error;
use godot::prelude::*;

use crate::app::backend_client::{BackendClient, error_args};
use crate::app::runtime;
use client::net::ApiError;
use client::oauth::{LoopbackCode, LoopbackError, PendingFlow};
use client::routes;
use client::text::auth as words;

/// `account_action_finished` action of a link.
pub const LINK_ACTION: &str = "link";
/// `account_action_finished` action of an unlink.
pub const UNLINK_ACTION: &str = "unlink";

/// Provider sign-in and linking. See the module docs.
#[godot_api(secondary)]
impl BackendClient {
    /// Asks which providers the station offers: answers `providers_loaded`.
    #[func]
    pub fn load_providers(&mut self) {
        let this = self.to_gd();
        self.send_json::<ProvidersResponse>(routes::providers(), move |result| {
            // An older station (404) or none at all: no provider buttons.
            let list = result.unwrap_or(ProvidersResponse {
                providers: Vec::new(),
            });
            let json = serde_json::to_string(&list).unwrap_or_default();
            this.signals().providers_loaded().emit(json.as_str());
        });
    }

    /// Signs in through `provider` (`google`, `discord`): the system browser
    /// opens and the game waits for it. Answers `signed_in`,
    /// `provider_step` or `provider_sign_in_failed`. False when it could
    /// not start (the failure is announced too).
    #[func]
    pub fn start_provider_sign_in(&mut self, provider: GString) -> bool {
        self.start_flow(provider.to_string(), false)
    }

    /// Links `provider` to the signed-in account the same way; answers
    /// `account_action_finished("link", ...)`.
    #[func]
    pub fn start_provider_link(&mut self, provider: GString) -> bool {
        if !self.is_signed_in() {
            let error = ApiError::not_signed_in();
            let mut this = self.to_gd();
            self.later(move || this.bind_mut().finished(LINK_ACTION, Err(error)));
            return false;
        }
        self.start_flow(provider.to_string(), true)
    }

    /// Stops waiting for the browser and closes the loopback port (nothing
    /// is announced: the caller knows).
    #[func]
    pub fn cancel_provider_sign_in(&mut self) {
        self.stop_provider_flow();
    }

    /// Whether a provider sign-in (or link) waits for the browser.
    #[func]
    pub fn is_waiting_for_browser(&self) -> bool {
        self.provider_flow.is_some()
    }

    /// Finishes a `provider_step`: the chosen `username`
    /// (`choose_username`) or the existing account's `password`
    /// (`prove_account`); "" for the other. Answers like the sign-in.
    #[func]
    pub fn finish_provider_sign_in(
        &mut self,
        ticket: GString,
        username: GString,
        password: GString,
    ) {
        let request = FinishRequest {
            ticket: ticket.to_string(),
            username: Some(username.to_string().trim().to_owned()).filter(|u| !u.is_empty()),
            password: Some(password.to_string()).filter(|p| !p.is_empty()),
        };
        let provider = self.step_provider.clone();
        let mut this = self.to_gd();
        self.send_json::<OAuthOutcome>(routes::oauth_finish(&request), move |result| {
            this.bind_mut().provider_outcome(&provider, result);
        });
    }

    /// Reads the providers linked to the account: answers
    /// `linked_providers_loaded(json)` (or `account_action_finished("load", ...)`).
    #[func]
    pub fn load_linked_providers(&mut self) {
        let mut this = self.to_gd();
        self.send_json::<LinkedProviders>(routes::linked_providers(), move |result| {
            match result {
                Ok(linked) => {
                    let json = serde_json::to_string(&linked).unwrap_or_default();
                    this.signals().linked_providers_loaded().emit(json.as_str());
                }
                // A station without providers: nothing linked, nothing to say.
                Err(error) if error.status == 404 => {
                    let none = LinkedProviders {
                        linked: Vec::new(),
                        has_password: true,
                    };
                    let json = serde_json::to_string(&none).unwrap_or_default();
                    this.signals().linked_providers_loaded().emit(json.as_str());
                }
                Err(error) => this.bind_mut().finished("load", Err(error)),
            }
        });
    }

    /// Unlinks `provider` from the account: answers
    /// `account_action_finished("unlink", ...)` (`last_sign_in_method` when
    /// it is the last way to sign in).
    #[func]
    pub fn unlink_provider(&mut self, provider: GString) {
        let call = routes::unlink_provider(&provider.to_string());
        self.account_call(UNLINK_ACTION, call);
    }
}

impl BackendClient {
    /// Ends the flow waiting for the browser, if any (dropped: its port closes).
    pub(crate) fn stop_provider_flow(&mut self) {
        self.provider_flow = None;
    }

    fn start_flow(&mut self, provider: String, link: bool) -> bool {
        self.stop_provider_flow();
        let Some(handle) = runtime::handle() else {
            let error = LoopbackError::Io("the network client is not running".to_owned());
            self.flow_failed_later(provider, link, error);
            return false;
        };
        let base_url = self.backend_url().to_string();
        let timeout = Duration::from_secs_f64(self.provider_timeout_s.clamp(1.0, 3600.0));
        let (flow, url) = match PendingFlow::start(&handle, &base_url, &provider, link, timeout) {
            Ok(started) => started,
            Err(error) => {
                self.flow_failed_later(provider, link, error);
                return false;
            }
        };
        self.provider_flow = Some(flow);
        if self.open_system_browser {
            let opened = Os::singleton().shell_open(url.as_str());
            if opened != Error::OK {
                // The waiting screen offers the address to copy.
                godot_warn!("BackendClient: the system browser did not open ({opened:?})");
            }
        }
        let this = self.to_gd();
        self.later(move || {
            this.signals()
                .provider_browser_url()
                .emit(provider.as_str(), url.as_str());
        });
        true
    }

    /// Delivers the browser's answer of the flow in progress (from `pump`).
    pub(crate) fn pump_provider_flow(&mut self) {
        let Some(answer) = self.provider_flow.as_ref().and_then(PendingFlow::poll) else {
            return;
        };
        let Some(flow) = self.provider_flow.take() else {
            return;
        };
        match answer {
            Ok(code) => self.exchange(flow, code),
            Err(error) => {
                self.flow_failed_later(flow.provider().to_owned(), flow.is_link(), error);
            }
        }
    }

    /// Trades the browser's code (with the verifier) for an outcome.
    fn exchange(&mut self, flow: PendingFlow, code: LoopbackCode) {
        let request = flow.exchange_request(code);
        let provider = flow.provider().to_owned();
        let link = flow.is_link();
        drop(flow);
        let mut this = self.to_gd();
        if link {
            self.send_json::<OAuthOutcome>(routes::oauth_link(&request), move |result| {
                let result = result.and_then(|outcome| match outcome.status {
                    OAuthStatus::Linked => Ok(()),
                    other => Err(unexpected(other)),
                });
                match result {
                    Ok(()) => this.signals().account_action_finished().emit(
                        LINK_ACTION,
                        true,
                        "",
                        provider.as_str(),
                        0,
                    ),
                    Err(error) => this.bind_mut().finished(LINK_ACTION, Err(error)),
                }
            });
        } else {
            self.send_json::<OAuthOutcome>(routes::oauth_exchange(&request), move |result| {
                this.bind_mut().provider_outcome(&provider, result);
            });
        }
    }

    /// An exchange or finish answer while signing in.
    fn provider_outcome(&mut self, provider: &str, result: Result<OAuthOutcome, ApiError>) {
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(error) => {
                let (code, _, wait) = error_args(&error);
                let text = words::explain_error(
                    &error.code,
                    &error.message,
                    u64::try_from(wait).ok().filter(|w| *w > 0),
                );
                self.signals()
                    .provider_sign_in_failed()
                    .emit(provider, &code, text.as_str());
                return;
            }
        };
        match outcome.status {
            // The network core kept the tokens: learn the name, announce it.
            OAuthStatus::SignedIn if outcome.tokens.is_some() => {
                self.step_provider.clear();
                self.fetch_profile(false, false);
            }
            OAuthStatus::ChooseUsername | OAuthStatus::ProveAccount if outcome.ticket.is_some() => {
                let status = match outcome.status {
                    OAuthStatus::ChooseUsername => "choose_username",
                    _ => "prove_account",
                };
                self.step_provider = outcome.provider.clone();
                self.signals().provider_step().emit(
                    outcome.provider.as_str(),
                    status,
                    outcome.ticket.as_deref().unwrap_or_default(),
                    outcome.username.as_deref().unwrap_or_default(),
                );
            }
            other => {
                let error = unexpected(other);
                let text = words::explain_error(&error.code, &error.message, None);
                self.signals().provider_sign_in_failed().emit(
                    provider,
                    error.code.as_str(),
                    text.as_str(),
                );
            }
        }
    }

    /// Announces a flow that ended without a code, from the next `pump`.
    fn flow_failed_later(&mut self, provider: String, link: bool, error: LoopbackError) {
        let mut this = self.to_gd();
        self.later(move || {
            if link {
                let error = ApiError::new(0, error.code(), error.message());
                this.bind_mut().finished(LINK_ACTION, Err(error));
            } else {
                this.signals().provider_sign_in_failed().emit(
                    provider.as_str(),
                    error.code(),
                    error.words().as_str(),
                );
            }
        });
    }
}

/// An outcome this request cannot have (a station out of step).
fn unexpected(status: OAuthStatus) -> ApiError {
    ApiError::new(
        200,
        codes::BAD_RESPONSE,
        format!("unexpected answer from the station ({status:?})"),
    )
}
