//! `Boot` (`scenes/screens/boot.tscn`, the main scene): tries the stored session and
//! goes straight to the zone, or to the login screen.

use godot::classes::{Button, Control, IControl, Label};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::overlays::busy_spinner::BusySpinner;
use crate::theme::palette;

/// Where the boot screen decided to go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Waiting,
    Zone,
    Login,
    Offline,
}

/// The boot screen. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct Boot {
    /// Scene opened when the stored session is restored.
    #[export(file = "*.tscn")]
    #[init(val = GString::from("res://scenes/zone/zone.tscn"))]
    zone_scene: GString,
    /// Scene opened when there is no usable session.
    #[export(file = "*.tscn")]
    #[init(val = GString::from("res://scenes/screens/login_screen.tscn"))]
    login_scene: GString,
    /// Whether the decision changes the scene (tests may turn it off).
    #[export]
    #[init(val = true)]
    navigate: bool,
    #[init(node = "%Spinner")]
    spinner: OnReady<Gd<BusySpinner>>,
    #[init(node = "%StatusLabel")]
    status_label: OnReady<Gd<Label>>,
    #[init(node = "%RetryButton")]
    retry_button: OnReady<Gd<Button>>,
    #[init(node = "%LoginButton")]
    login_button: OnReady<Gd<Button>>,
    #[init(val = Outcome::Waiting)]
    outcome: Outcome,
    base: Base<Control>,
}

#[godot_api]
impl IControl for Boot {
    fn ready(&mut self) {
        let this = self.to_gd();
        self.retry_button
            .signals()
            .pressed()
            .connect_other(&this, Self::try_session);
        self.login_button
            .signals()
            .pressed()
            .connect_other(&this, |s| s.go(Outcome::Login));
        if let Some(client) = BackendClient::autoload() {
            client
                .signals()
                .session_restore_finished()
                .connect_other(&this, Self::on_restore_finished);
        }
        self.try_session();
    }
}

#[godot_api]
impl Boot {
    /// Decided: `destination` is "zone", "login" or "offline".
    #[signal]
    pub fn decided(destination: GString);

    /// "waiting", "zone", "login" or "offline".
    #[func]
    pub fn outcome_name(&self) -> GString {
        GString::from(match self.outcome {
            Outcome::Waiting => "waiting",
            Outcome::Zone => "zone",
            Outcome::Login => "login",
            Outcome::Offline => "offline",
        })
    }
}

impl Boot {
    fn try_session(&mut self) {
        self.outcome = Outcome::Waiting;
        self.retry_button.set_visible(false);
        self.login_button.set_visible(false);
        self.spinner.bind_mut().set_busy(true);
        self.set_status("Contacting the station...", palette::CYAN_DIM);
        match BackendClient::autoload() {
            Some(mut client) => {
                client.bind_mut().restore_session();
            }
            None => self.go(Outcome::Login),
        }
    }

    fn on_restore_finished(&mut self, restored: bool, code: GString) {
        if self.outcome != Outcome::Waiting {
            return;
        }
        self.spinner.bind_mut().set_busy(false);
        if restored {
            self.go(Outcome::Zone);
        } else if code == game::api::codes::UNREACHABLE {
            // A stored session, but no station: let the player retry or sign in later.
            self.outcome = Outcome::Offline;
            self.set_status(
                "The station does not answer. Your session is kept.",
                palette::WARN,
            );
            self.retry_button.set_visible(true);
            self.login_button.set_visible(true);
            self.signals().decided().emit("offline");
        } else {
            self.go(Outcome::Login);
        }
    }

    fn go(&mut self, outcome: Outcome) {
        self.outcome = outcome;
        let (name, path) = match outcome {
            Outcome::Zone => ("zone", self.zone_scene.clone()),
            _ => ("login", self.login_scene.clone()),
        };
        self.signals().decided().emit(name);
        if self.navigate {
            self.base().get_tree().change_scene_to_file(&path);
        }
    }

    fn set_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.status_label, text, colour);
    }
}
