//! `FlightHints` (`scenes/zone/flight_hints.tscn`, in the zone's UI layer): a
//! newcomer's first flights. Until the player dismisses them for good (the
//! button, or the settings screen), it shows the controls read from the
//! InputMap through [`SettingsStore`] (a rebound key shows as rebound), the
//! next goal, and an arrow from the ship to that goal: the nearest debris
//! until something is collected, then the nearest hub until a sale goes
//! through. After the first sale the hints are done and stay off.

use godot::classes::{Button, Control, IControl, Label};
use godot::prelude::*;

use crate::app::game_state::GameState;
use crate::app::settings_store::SettingsStore;
use crate::theme::palette;
use crate::zone::zone::Zone;

/// What the newcomer should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    Collect,
    Sell,
}

/// The first-flight hints. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct FlightHints {
    /// The zone whose ship, debris and hubs the arrow points at.
    #[export]
    #[init(val = NodePath::from("../.."))]
    zone_path: NodePath,
    /// Debris farther than this (px) from the ship is not pointed at.
    #[export(range = (100.0, 20000.0, 50.0))]
    #[init(val = 6000.0)]
    search_radius: f64,
    /// Distance of the arrow from the ship on screen, px.
    #[export(range = (30.0, 400.0, 1.0))]
    #[init(val = 90.0)]
    arrow_offset: f32,
    #[init(node = "%ControlsLabel")]
    controls_label: OnReady<Gd<Label>>,
    #[init(node = "%GoalLabel")]
    goal_label: OnReady<Gd<Label>>,
    #[init(node = "%DismissButton")]
    dismiss_button: OnReady<Gd<Button>>,
    goal: Option<Goal>,
    /// Where the arrow points, in the zone's coordinates.
    target: Option<Vector2>,
    /// The ship and the target on screen, for `draw`.
    arrow: Option<(Vector2, Vector2)>,
    base: Base<Control>,
}

#[godot_api]
impl IControl for FlightHints {
    fn ready(&mut self) {
        let this = self.to_gd();
        self.dismiss_button
            .signals()
            .pressed()
            .connect_other(&this, Self::dismiss);
        if let Some(zone) = self.zone() {
            zone.signals()
                .collected()
                .connect_other(&this, |s, _, _, _| s.on_collected());
        }
        if let Some(state) = GameState::autoload() {
            state
                .signals()
                .sale_finished()
                .connect_other(&this, |s, ok, _, _, _| {
                    if ok {
                        s.on_sold();
                    }
                });
        }
        if let Some(store) = SettingsStore::autoload() {
            store
                .signals()
                .changed()
                .connect_other(&this, Self::on_settings_changed);
        }
        let dismissed = SettingsStore::autoload().is_some_and(|s| s.bind().hints_dismissed());
        self.goal = (!dismissed).then_some(Goal::Collect);
        self.refresh();
    }

    fn process(&mut self, _delta: f64) {
        if self.goal.is_none() {
            return;
        }
        self.aim();
        self.base_mut().queue_redraw();
    }

    fn draw(&mut self) {
        let Some((ship, target)) = self.arrow else {
            return;
        };
        let direction = (target - ship).normalized_or_zero();
        if direction == Vector2::ZERO {
            return;
        }
        let tip = ship + direction * (self.arrow_offset + 18.0);
        let back = ship + direction * self.arrow_offset;
        let side = Vector2::new(-direction.y, direction.x) * 10.0;
        let colour = palette::AMBER;
        let points = PackedVector2Array::from(&[tip, back + side, back - side][..]);
        let colours = PackedColorArray::from(&[colour][..]);
        self.base_mut().draw_polygon(&points, &colours);
    }
}

#[godot_api]
impl FlightHints {
    /// The hints are off for good.
    #[signal]
    pub fn dismissed();

    /// Whether the hints are on screen.
    #[func]
    pub fn is_showing(&self) -> bool {
        self.goal.is_some()
    }

    /// The current goal: `"collect"`, `"sell"` or `""` (none).
    #[func]
    pub fn goal(&self) -> GString {
        match self.goal {
            Some(Goal::Collect) => "collect".into(),
            Some(Goal::Sell) => "sell".into(),
            None => GString::new(),
        }
    }

    /// The controls line (tests read it).
    #[func]
    pub fn controls_text(&self) -> GString {
        self.controls_label.get_text()
    }

    /// The goal line (tests read it).
    #[func]
    pub fn goal_text(&self) -> GString {
        self.goal_label.get_text()
    }

    /// Where the arrow points (zone coordinates), or `null`.
    #[func]
    pub fn target(&self) -> Variant {
        self.target.map_or(Variant::nil(), |t| t.to_variant())
    }

    /// Back to the first goal (the settings screen turned the hints on
    /// again, or a screenshot fixture).
    #[func]
    pub fn show_from_start(&mut self) {
        self.goal = Some(Goal::Collect);
        self.refresh();
    }

    /// Off for good (saved in the settings).
    #[func]
    pub fn dismiss(&mut self) {
        self.goal = None;
        if let Some(mut store) = SettingsStore::autoload() {
            store.bind_mut().dismiss_hints();
        }
        self.refresh();
        self.signals().dismissed().emit();
    }

    /// Shows what the settings say now (controls after a rebinding; off
    /// when dismissed from the settings screen).
    #[func]
    pub fn refresh(&mut self) {
        let store = SettingsStore::autoload();
        if store.as_ref().is_some_and(|s| s.bind().hints_dismissed()) {
            self.goal = None;
        }
        let Some(goal) = self.goal else {
            self.target = None;
            self.arrow = None;
            self.base_mut().set_visible(false);
            return;
        };
        let key = |action: &str| {
            store
                .as_ref()
                .map(|s| s.bind().key_text(action.into()).to_string())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "(unbound)".to_owned())
        };
        let controls = format!(
            "THRUST {}   REVERSE {}   TURN {} / {}   COLLECT {}   DOCK {}   MENU {}",
            key("move_up"),
            key("move_down"),
            key("turn_left"),
            key("turn_right"),
            key("collect"),
            key("interact"),
            key("pause"),
        );
        self.controls_label.set_text(&controls);
        let words = match goal {
            Goal::Collect => format!(
                "Fly to the debris the arrow points at and press {} when it is close.",
                key("collect")
            ),
            Goal::Sell => format!(
                "Now sell it: fly into the hub's ring the arrow points at and press {}.",
                key("interact")
            ),
        };
        self.goal_label.set_text(&words);
        self.base_mut().set_visible(true);
    }
}

impl FlightHints {
    fn zone(&self) -> Option<Gd<Zone>> {
        self.base()
            .get_node_or_null(&self.zone_path)
            .and_then(|n| n.try_cast::<Zone>().ok())
    }

    /// Saved settings: new key names, or the hints turned on or off.
    fn on_settings_changed(&mut self) {
        let dismissed = SettingsStore::autoload().is_some_and(|s| s.bind().hints_dismissed());
        if !dismissed && self.goal.is_none() {
            self.goal = Some(Goal::Collect);
        }
        self.refresh();
    }

    fn on_collected(&mut self) {
        if self.goal == Some(Goal::Collect) {
            self.goal = Some(Goal::Sell);
            self.refresh();
        }
    }

    fn on_sold(&mut self) {
        if self.goal.is_some() {
            // The first sale: the newcomer knows the loop now.
            self.dismiss();
        }
    }

    /// The target of the current goal and the arrow on screen.
    fn aim(&mut self) {
        self.target = None;
        self.arrow = None;
        let Some(zone) = self.zone() else {
            return;
        };
        let zone = zone.bind();
        if !zone.is_running() {
            return;
        }
        let ship = zone.ship_position();
        self.target = match self.goal {
            Some(Goal::Collect) => {
                let index = zone.nearest_debris(ship, self.search_radius);
                (index >= 0)
                    .then(|| zone.debris_position(index).try_to::<Vector2>().ok())
                    .flatten()
            }
            Some(Goal::Sell) => {
                (0..zone.hub_count())
                    .map(|i| zone.hub_position(i))
                    .min_by(|a, b| {
                        ship.distance_squared_to(*a)
                            .total_cmp(&ship.distance_squared_to(*b))
                    })
            }
            None => None,
        };
        let (Some(target), Some(viewport)) = (self.target, zone.base().get_viewport()) else {
            return;
        };
        // Zone coordinates to the screen (the UI layer has no camera).
        let canvas = viewport.get_canvas_transform() * zone.base().get_global_transform();
        let own = self.base().get_global_transform().affine_inverse();
        self.arrow = Some((own * (canvas * ship), own * (canvas * target)));
    }
}
