//! `Hud` (`scenes/zone/hud.tscn`): credits, hold bar, zone name, upgrade levels,
//! connection and sign-in status, radar, nearest hub, prompts and warnings.
//!
//! It listens to `GameState` and `BackendClient` itself; per-frame flight
//! data comes from the zone as a plain [`Telemetry`] value, so the HUD knows
//! nothing of the ship or the simulation.

use game::UpgradeId;
use godot::classes::{Control, IControl, Label, ProgressBar, StyleBoxFlat};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::app::game_state::GameState;
use crate::theme::palette;
use crate::zone::radar::{Blip, Radar};
use client::text::upgrade as upgrade_text;

/// What the zone tells the HUD every frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Telemetry {
    pub speed: f32,
    pub wall_warning: bool,
    /// Hub in interact range.
    pub hub_in_range: Option<String>,
    /// Nearest hub: name, distance px, direction (radians, y-down).
    pub nearest_hub: Option<(String, f32, f32)>,
    /// Scanner range and blips, when a scanner is fitted.
    pub radar: Option<(f32, Vec<Blip>)>,
}

/// An arrow pointing along `angle` (radians, 0 = right, y-down).
pub fn direction_arrow(angle: f32) -> &'static str {
    const ARROWS: [&str; 8] = ["→", "↘", "↓", "↙", "←", "↖", "↑", "↗"];
    let octant = (angle / std::f32::consts::FRAC_PI_4).round() as i32;
    ARROWS[octant.rem_euclid(8) as usize]
}

/// The heads-up display. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct Hud {
    /// Seconds a notice stays on screen.
    #[export(range = (0.5, 20.0, 0.5))]
    #[init(val = 3.5)]
    notice_seconds: f64,
    #[init(node = "%ZoneLabel")]
    zone_label: OnReady<Gd<Label>>,
    #[init(node = "%CreditsLabel")]
    credits_label: OnReady<Gd<Label>>,
    #[init(node = "%HoldBar")]
    hold_bar: OnReady<Gd<ProgressBar>>,
    #[init(node = "%HoldLabel")]
    hold_label: OnReady<Gd<Label>>,
    #[init(node = "%StatusLabel")]
    status_label: OnReady<Gd<Label>>,
    #[init(node = "%UpgradesLabel")]
    upgrades_label: OnReady<Gd<Label>>,
    #[init(node = "%HubLabel")]
    hub_label: OnReady<Gd<Label>>,
    #[init(node = "%PromptLabel")]
    prompt_label: OnReady<Gd<Label>>,
    #[init(node = "%WarningLabel")]
    warning_label: OnReady<Gd<Label>>,
    #[init(node = "%NoticeLabel")]
    notice_label: OnReady<Gd<Label>>,
    #[init(node = "%SpeedLabel")]
    speed_label: OnReady<Gd<Label>>,
    #[init(node = "%Radar")]
    radar: OnReady<Gd<Radar>>,
    notice_left: f64,
    blink: f64,
    base: Base<Control>,
}

#[godot_api]
impl IControl for Hud {
    fn ready(&mut self) {
        let this = self.to_gd();
        if let Some(state) = GameState::autoload() {
            state
                .signals()
                .player_changed()
                .connect_other(&this, Self::refresh_player);
        }
        if let Some(state) = GameState::autoload() {
            state
                .signals()
                .queued_operation_dropped()
                .connect_other(&this, Self::on_dropped);
            state.signals().queue_drained().connect_other(&this, |s| {
                s.notify(
                    "STATION LINK RESTORED · QUEUED RECORDS FILED".into(),
                    palette::OK,
                )
            });
        }
        if let Some(client) = BackendClient::autoload() {
            client
                .signals()
                .connection_changed()
                .connect_other(&this, |s, _| s.refresh_status());
            client
                .signals()
                .signed_in()
                .connect_other(&this, |s, _| s.refresh_status());
            client
                .signals()
                .signed_out()
                .connect_other(&this, |s, _| s.refresh_status());
            client
                .signals()
                .profile_loaded()
                .connect_other(&this, |s, _, _, _| s.refresh_status());
        }
        self.prompt_label.set_visible(false);
        self.warning_label.set_visible(false);
        self.notice_label.set_visible(false);
        self.radar.set_visible(false);
        self.refresh_player();
        self.refresh_status();
    }

    fn process(&mut self, delta: f64) {
        self.blink += delta;
        if self.notice_left > 0.0 {
            self.notice_left -= delta;
            if self.notice_left <= 0.0 {
                self.notice_label.set_visible(false);
            }
        }
        if self.warning_label.is_visible() {
            let alpha = 0.55 + 0.45 * (self.blink * 6.0).sin().abs() as f32;
            self.warning_label
                .set_modulate(Color::from_rgba(1.0, 1.0, 1.0, alpha));
        }
    }
}

#[godot_api]
impl Hud {
    /// Shows the zone name.
    #[func]
    pub fn set_zone(&mut self, zone: i64, name: GString) {
        self.zone_label.set_text(&format!(
            "ZONE {zone} · {}",
            name.to_string().to_uppercase()
        ));
    }

    /// A short message under the top bar (hold full, refused pieces...).
    #[func]
    pub fn notify(&mut self, text: GString, colour: Color) {
        palette::paint(&mut self.notice_label, &text.to_string(), colour);
        self.notice_label.set_visible(true);
        self.notice_left = self.notice_seconds;
    }

    /// The credits text, e.g. "CR 1 234" (tests read it).
    #[func]
    pub fn credits_text(&self) -> GString {
        self.credits_label.get_text()
    }

    /// The hold text, e.g. "3/10".
    #[func]
    pub fn hold_text(&self) -> GString {
        self.hold_label.get_text()
    }

    /// The notice on screen ("" when none).
    #[func]
    pub fn notice_text(&self) -> GString {
        if self.notice_label.is_visible() {
            self.notice_label.get_text()
        } else {
            GString::new()
        }
    }

    /// Status line text (connection and sign-in).
    #[func]
    pub fn status_text(&self) -> GString {
        self.status_label.get_text()
    }

    /// Colour of the hold bar fill now.
    #[func]
    pub fn hold_bar_colour(&self) -> Color {
        self.hold_bar
            .get_theme_stylebox("fill")
            .and_then(|s| s.try_cast::<StyleBoxFlat>().ok())
            .map_or(palette::CYAN, |s| s.get_bg_color())
    }

    /// Whether the radar is shown.
    #[func]
    pub fn radar_visible(&self) -> bool {
        self.radar.is_visible()
    }

    /// The nearest-hub line.
    #[func]
    pub fn hub_text(&self) -> GString {
        self.hub_label.get_text()
    }

    /// Re-reads credits, hold and upgrades from `GameState`.
    #[func]
    pub fn refresh_player(&mut self) {
        let Some(state) = GameState::autoload() else {
            return;
        };
        let state = state.bind();
        let credits = state.credits().max(0) as u64;
        let (used, capacity) = (state.hold_used(), state.hold_capacity());
        let upgrades = state.upgrades();
        drop(state);
        self.credits_label
            .set_text(&format!("CR {}", palette::group_digits(credits)));
        self.hold_bar.set_max(capacity.max(1) as f64);
        self.hold_bar.set_value(used as f64);
        self.hold_label.set_text(&format!("{used}/{capacity}"));
        let colour = palette::hold_colour(used, capacity);
        let mut fill = StyleBoxFlat::new_gd();
        fill.set_bg_color(colour);
        self.hold_bar.add_theme_stylebox_override("fill", &fill);
        self.hold_label
            .add_theme_color_override("font_color", colour);
        let levels: Vec<String> = UpgradeId::ALL
            .iter()
            .map(|&id| format!("{} {}", upgrade_text::short_tag(id), upgrades.get(id)))
            .collect();
        self.upgrades_label.set_text(&levels.join("  "));
        self.refresh_status();
    }

    /// Re-reads the connection and session state.
    #[func]
    pub fn refresh_status(&mut self) {
        let queued = GameState::autoload().map_or(0, |s| s.bind().queued_operations());
        let (text, colour) = match BackendClient::autoload() {
            Some(client) => {
                let client = client.bind();
                let verified = client.email_verified();
                let line = status_line(client.is_online(), queued, client.username(), verified);
                let colour = if client.is_online() && verified {
                    palette::OK
                } else {
                    palette::WARN
                };
                (line, colour)
            }
            None => ("● NO STATION LINK".to_owned(), palette::WARN),
        };
        self.status_label
            .add_theme_color_override("font_color", colour);
        self.status_label.set_text(&text);
    }
}

/// The status line: `● ONLINE · SIGNED IN AS Ada`,
/// `● OFFLINE — 3 QUEUED · SIGNED IN AS Ada`, and while the account's
/// address is not confirmed `... · EMAIL NOT CONFIRMED (ESC › ACCOUNT)`.
pub fn status_line(
    online: bool,
    queued: i64,
    username: Option<&str>,
    email_verified: bool,
) -> String {
    let link = match (online, queued) {
        (true, 0) => "ONLINE".to_owned(),
        (true, n) => format!("ONLINE — SENDING {n}"),
        (false, n) => format!("OFFLINE — {n} QUEUED"),
    };
    let who = match username {
        Some(name) => format!("SIGNED IN AS {name}"),
        None => "NOT SIGNED IN".to_owned(),
    };
    let mut line = format!("● {link} · {who}");
    if username.is_some() && !email_verified {
        line.push_str(" · EMAIL NOT CONFIRMED (ESC › ACCOUNT)");
    }
    line
}

impl Hud {
    fn on_dropped(&mut self, what: GString, code: GString, message: GString) {
        let why = client::text::auth::explain_error(&code.to_string(), &message.to_string(), None);
        let text = format!(
            "STATION REFUSED QUEUED {}: {}",
            what.to_string().to_uppercase(),
            why
        );
        self.notify(text.as_str().into(), palette::DANGER);
    }

    /// Per-frame flight data from the zone.
    pub fn show_telemetry(&mut self, telemetry: &Telemetry) {
        self.speed_label
            .set_text(&format!("{:>4.0} px/s", telemetry.speed.abs()));
        self.warning_label.set_visible(telemetry.wall_warning);
        match &telemetry.hub_in_range {
            Some(name) => {
                self.prompt_label
                    .set_text(&format!("[F] DOCK AT {}", name.to_uppercase()));
                self.prompt_label.set_visible(true);
            }
            None => self.prompt_label.set_visible(false),
        }
        match &telemetry.nearest_hub {
            Some((name, distance, angle)) => self.hub_label.set_text(&format!(
                "HUB {} {}  {:.0} px",
                direction_arrow(*angle),
                name.to_uppercase(),
                distance
            )),
            None => self.hub_label.set_text(""),
        }
        match &telemetry.radar {
            Some((range, blips)) => {
                self.radar.set_visible(true);
                self.radar.bind_mut().show(*range, blips.clone());
            }
            None => self.radar.set_visible(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_turns_yellow_at_80_and_red_when_full() {
        assert_eq!(palette::hold_colour(0, 10), palette::CYAN);
        assert_eq!(palette::hold_colour(7, 10), palette::CYAN);
        assert_eq!(palette::hold_colour(8, 10), palette::WARN);
        assert_eq!(palette::hold_colour(10, 10), palette::DANGER);
    }

    #[test]
    fn status_line_says_online_offline_queued_and_who() {
        assert_eq!(
            status_line(true, 0, Some("Ada"), true),
            "● ONLINE · SIGNED IN AS Ada"
        );
        assert_eq!(
            status_line(false, 3, Some("Ada"), true),
            "● OFFLINE — 3 QUEUED · SIGNED IN AS Ada"
        );
        assert_eq!(
            status_line(false, 0, None, false),
            "● OFFLINE — 0 QUEUED · NOT SIGNED IN"
        );
        assert_eq!(
            status_line(true, 0, Some("Ada"), false),
            "● ONLINE · SIGNED IN AS Ada · EMAIL NOT CONFIRMED (ESC › ACCOUNT)"
        );
    }

    #[test]
    fn arrows_follow_the_angle() {
        use std::f32::consts::PI;
        assert_eq!(direction_arrow(0.0), "→");
        assert_eq!(direction_arrow(PI / 2.0), "↓");
        assert_eq!(direction_arrow(-PI / 2.0), "↑");
        assert_eq!(direction_arrow(PI), "←");
        assert_eq!(direction_arrow(-PI / 4.0), "↗");
    }
}
