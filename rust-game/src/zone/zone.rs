//! `Zone` (`scenes/zone/zone.tscn`): one zone run.
//!
//! Asks `GameState` for a run (the server hands out the seed), then ticks
//! `game::sim::ZoneSim` in `_physics_process` with the ship's InputMap
//! controls. Every frame it moves the ship node, hands the debris inside the
//! camera's view to the batched [`DebrisField`], and gives the HUD its
//! telemetry. Collections become effects on screen and predictions in
//! `GameState`, which sends them to the server in batches.
//!
//! The scene holds the parts (ship, camera, field, bounds, effects, HUD,
//! panels, AI overlay, pause menu); this node only wires them to the
//! simulation. It processes only while the tree is unpaused, so the pause
//! menu stops the run clock.
//!
//! Offline: the run in progress goes on (its seed is known; claims queue up
//! in `GameState`); a new run or a zone change needs the station, and the
//! HUD says so instead of dropping the run.

use game::sim::{DebrisView, Rect, SimEvent, SimOptions, ZoneSim};
use game::{Catalog, ZoneId};
use godot::classes::{INode2D, InputEvent, Node2D, PackedScene};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::app::game_state::GameState;
use crate::hub::hub_panel::HubPanel;
use crate::hub::inventory_panel::InventoryPanel;
use crate::theme::palette;
use crate::zone::collect_effects::CollectEffects;
use crate::zone::debris_field::DebrisField;
use crate::zone::hud::{Hud, Telemetry};
use crate::zone::player_ship::PlayerShip;
use crate::zone::radar::Blip;
use crate::zone::trading_hub::TradingHub;
use crate::zone::zone_bounds::ZoneBounds;
use crate::zone::zone_camera::ZoneCamera;

/// A zone run. See the module docs.
#[derive(GodotClass)]
#[class(base = Node2D, init)]
pub struct Zone {
    /// Zone to fly; 0 = the zone `GameState` has chosen.
    #[export(range = (0.0, 4.0, 1.0))]
    zone_override: i64,
    /// Ask the server for a run when the scene starts (off for fixture scenes).
    #[export]
    #[init(val = true)]
    start_on_ready: bool,
    /// Extra px around the camera view inside which debris is drawn.
    #[export(range = (0.0, 1024.0, 1.0))]
    #[init(val = 64.0)]
    cull_margin: f32,
    /// The scene placed at each catalog hub.
    #[export]
    hub_scene: Option<Gd<PackedScene>>,
    /// Seconds before asking again when the station could not be reached.
    #[export(range = (1.0, 120.0, 0.5))]
    #[init(val = 5.0)]
    run_retry_s: f64,
    /// Scene opened when the session ends (signed out, refresh refused).
    #[export(file = "*.tscn")]
    #[init(val = GString::from("res://scenes/screens/login_screen.tscn"))]
    login_scene: GString,
    /// Scene opened by the hub's "trading lobby" button.
    #[export(file = "*.tscn")]
    #[init(val = GString::from("res://scenes/lobby/trading_floor.tscn"))]
    lobby_scene: GString,
    #[init(node = "PlayerShip")]
    ship: OnReady<Gd<PlayerShip>>,
    #[init(node = "PlayerShip/Camera")]
    camera: OnReady<Gd<ZoneCamera>>,
    #[init(node = "DebrisField")]
    debris: OnReady<Gd<DebrisField>>,
    #[init(node = "CollectEffects")]
    effects: OnReady<Gd<CollectEffects>>,
    #[init(node = "ZoneBounds")]
    bounds: OnReady<Gd<ZoneBounds>>,
    #[init(node = "Hubs")]
    hubs_root: OnReady<Gd<Node2D>>,
    #[init(node = "Ui/Hud")]
    hud: OnReady<Gd<Hud>>,
    #[init(node = "Ui/HubPanel")]
    hub_panel: OnReady<Gd<HubPanel>>,
    #[init(node = "Ui/InventoryPanel")]
    inventory: OnReady<Gd<InventoryPanel>>,
    sim: Option<ZoneSim>,
    run_id: String,
    zone: ZoneId,
    hubs: Vec<Gd<TradingHub>>,
    docked: bool,
    /// The hub whose dock claim `GameState` holds (the simulation's
    /// `near_hub` as last reported).
    dock_hub: Option<usize>,
    views: Vec<DebrisView>,
    events: Vec<SimEvent>,
    kind_colours: Vec<Color>,
    collected: u64,
    /// Zone and seconds left before the run is requested again.
    retry: Option<(i64, f64)>,
    base: Base<Node2D>,
}

#[godot_api]
impl INode2D for Zone {
    fn ready(&mut self) {
        let catalog = Catalog::shipped();
        self.kind_colours = catalog
            .debris_kinds()
            .iter()
            .map(|k| palette::from_hex(&k.colour))
            .collect();
        let this = self.to_gd();
        if let Some(state) = GameState::autoload() {
            state
                .signals()
                .run_started()
                .connect_other(&this, Self::on_run_started);
            state
                .signals()
                .run_start_failed()
                .connect_other(&this, Self::on_run_start_failed);
            state
                .signals()
                .player_changed()
                .connect_other(&this, Self::apply_player);
            state
                .signals()
                .collection_rejected()
                .connect_other(&this, Self::on_collection_rejected);
        }
        if let Some(client) = BackendClient::autoload() {
            client
                .signals()
                .signed_out()
                .connect_other(&this, Self::on_signed_out);
        }
        self.hub_panel
            .signals()
            .closed()
            .connect_other(&this, Self::undock);
        self.hub_panel
            .signals()
            .travel_requested()
            .connect_other(&this, Self::travel_to);
        self.hub_panel
            .signals()
            .lobby_requested()
            .connect_other(&this, Self::go_to_lobby);
        if self.start_on_ready {
            let zone = match self.zone_override {
                z if z > 0 => z,
                _ => GameState::autoload().map_or(1, |s| i64::from(s.bind().current_zone())),
            };
            self.request_run(zone);
        }
    }

    fn physics_process(&mut self, delta: f64) {
        let input = if self.docked {
            Default::default()
        } else {
            self.ship.bind().read_input()
        };
        let Some(sim) = self.sim.as_mut() else {
            return;
        };
        sim.step(delta, input);
        sim.drain_events_into(&mut self.events);
        self.ship.bind_mut().set_thrusting(input.thrust);
        let events = std::mem::take(&mut self.events);
        for event in &events {
            self.handle_event(event);
        }
        self.sync_dock(&events);
        self.events = events;
        self.events.clear();
    }

    fn process(&mut self, delta: f64) {
        if let Some((zone, left)) = self.retry {
            let left = left - delta;
            if left <= 0.0 {
                self.retry = None;
                self.request_run(zone);
            } else {
                self.retry = Some((zone, left));
            }
        }
        self.sync_view();
    }

    fn unhandled_input(&mut self, event: Gd<InputEvent>) {
        if !self.docked && event.is_action_pressed("interact") {
            let near = self.sim.as_ref().and_then(|s| s.ship().near_hub);
            if let Some(hub) = near {
                self.dock(hub as i64);
                if let Some(mut viewport) = self.base().get_viewport() {
                    viewport.set_input_as_handled();
                }
            }
        }
    }
}

#[godot_api]
impl Zone {
    /// The run's debris field exists and the ship can fly.
    #[signal]
    pub fn run_ready(zone: i64);
    /// A piece went into the hold (predicted; the server judges it later).
    #[signal]
    pub fn collected(index: i64, kind: GString, value: i64);
    /// The hub panel opened at hub `hub`.
    #[signal]
    pub fn docked(hub: i64);
    #[signal]
    pub fn undocked();

    /// Whether a run is being flown.
    #[func]
    pub fn is_running(&self) -> bool {
        self.sim.is_some()
    }

    /// The zone of the run.
    #[func]
    pub fn zone_id(&self) -> i64 {
        i64::from(self.zone)
    }

    /// The server's run id ("" for a local run).
    #[func]
    pub fn run_id(&self) -> GString {
        GString::from(self.run_id.as_str())
    }

    /// The run clock, s.
    #[func]
    pub fn run_clock(&self) -> f64 {
        self.sim.as_ref().map_or(0.0, |s| s.time())
    }

    #[func]
    pub fn ship_position(&self) -> Vector2 {
        self.sim.as_ref().map_or(Vector2::ZERO, |s| {
            Vector2::new(s.ship().x as f32, s.ship().y as f32)
        })
    }

    /// Heading, radians (0 = +x, clockwise on screen).
    #[func]
    pub fn ship_heading(&self) -> f64 {
        self.sim.as_ref().map_or(0.0, |s| s.ship().heading)
    }

    /// Signed speed along the heading, px/s.
    #[func]
    pub fn ship_speed(&self) -> f64 {
        self.sim.as_ref().map_or(0.0, |s| s.ship().speed)
    }

    /// Max forward speed with the current upgrades, px/s.
    #[func]
    pub fn max_speed(&self) -> f64 {
        self.sim
            .as_ref()
            .map_or(0.0, |s| s.effects().max_forward_speed)
    }

    /// Manual collection range, px.
    #[func]
    pub fn collection_range(&self) -> f64 {
        self.sim
            .as_ref()
            .map_or(0.0, |s| s.effects().collection_range)
    }

    /// Hold capacity as the simulation sees it.
    #[func]
    pub fn sim_hold_capacity(&self) -> i64 {
        self.sim.as_ref().map_or(0, |s| s.hold().1 as i64)
    }

    /// Index of the free piece nearest to `point` within `radius` px, or -1.
    #[func]
    pub fn nearest_debris(&self, point: Vector2, radius: f64) -> i64 {
        let Some(sim) = &self.sim else {
            return -1;
        };
        let mut out = Vec::new();
        sim.debris_within(f64::from(point.x), f64::from(point.y), radius, &mut out);
        out.first().map_or(-1, |v| i64::from(v.index))
    }

    /// Where piece `index` is now, or `null` when it is gone.
    #[func]
    pub fn debris_position(&self, index: i64) -> Variant {
        let Some(sim) = &self.sim else {
            return Variant::nil();
        };
        let Ok(index) = u32::try_from(index) else {
            return Variant::nil();
        };
        match sim.debris_position_fixed(index) {
            Some((x, y)) => {
                let k = game::debris::PX_PER_FIXED;
                Vector2::new((f64::from(x) * k) as f32, (f64::from(y) * k) as f32).to_variant()
            }
            None => Variant::nil(),
        }
    }

    /// Number of trading hubs in the zone.
    #[func]
    pub fn hub_count(&self) -> i32 {
        self.hubs.len() as i32
    }

    /// Position of hub `index`.
    #[func]
    pub fn hub_position(&self, index: i32) -> Vector2 {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.hubs.get(i))
            .map_or(Vector2::ZERO, |h| h.get_position())
    }

    /// Hub in interact range (-1 when none).
    #[func]
    pub fn hub_in_range(&self) -> i64 {
        self.sim
            .as_ref()
            .and_then(|s| s.ship().near_hub)
            .map_or(-1, |h| h as i64)
    }

    #[func]
    pub fn is_docked(&self) -> bool {
        self.docked
    }

    /// Pieces collected in this run (predicted).
    #[func]
    pub fn collected_count(&self) -> i64 {
        self.collected as i64
    }

    /// Asks the server for a run in `zone`. The run in progress (if any)
    /// goes on until the server answers; without the station link it stays.
    #[func]
    pub fn request_run(&mut self, zone: i64) {
        self.retry = None;
        let Some(mut state) = GameState::autoload() else {
            self.hud
                .bind_mut()
                .notify("NO GAME STATE: CANNOT START A RUN".into(), palette::DANGER);
            return;
        };
        self.hud
            .bind_mut()
            .notify("REQUESTING RUN CLEARANCE...".into(), palette::CYAN_DIM);
        let mut state = state.bind_mut();
        state.refresh_player();
        state.start_run(zone);
    }

    /// Opens the hub panel at hub `hub` (what F does in range).
    #[func]
    pub fn dock(&mut self, hub: i64) {
        let Some(name) = usize::try_from(hub)
            .ok()
            .and_then(|i| self.hubs.get(i))
            .map(|h| h.get("hub_name").to::<GString>())
        else {
            return;
        };
        self.docked = true;
        if let Some(sim) = self.sim.as_mut() {
            sim.stop_ship();
        }
        self.ship.bind_mut().lock_controls(true);
        self.inventory.bind_mut().enable_toggle(false);
        self.inventory.set_visible(false);
        if let Some(mut state) = GameState::autoload() {
            state.bind_mut().flush_collections();
        }
        self.hub_panel.bind_mut().open(name);
        self.signals().docked().emit(hub);
    }
}

/// Fixtures for the in-engine tests, the screenshot tool and the benchmarks
/// (feature `itest`): a run without the server, and simulated time.
#[cfg(feature = "itest")]
#[godot_api(secondary)]
impl Zone {
    /// Flies `zone` from `seed` without the server (screenshots, fixtures):
    /// collections are only predicted locally.
    #[func]
    pub fn start_local_run(&mut self, zone: i64, seed: i64) {
        self.begin_run(String::new(), zone, seed as u64, None);
    }

    /// [`Self::start_local_run`] with exactly `debris` pieces alive (the
    /// zone's own counts replaced): `make bench` compares the field at 1k
    /// and 10k pieces with a GDScript one.
    #[func]
    pub fn start_local_run_with_debris(&mut self, zone: i64, seed: i64, debris: i64) {
        let debris = debris.clamp(1, i64::from(u32::MAX)) as u32;
        self.begin_run(String::new(), zone, seed as u64, Some(debris));
    }

    /// Runs the simulation for `seconds` with no controls held, handling
    /// its events as a frame would (tests and tools; the game ticks in
    /// `_physics_process`).
    #[func]
    pub fn simulate(&mut self, seconds: f64) {
        let steps = (seconds.max(0.0) * 60.0).round() as u32;
        for _ in 0..steps {
            let Some(sim) = self.sim.as_mut() else {
                return;
            };
            sim.step(1.0 / 60.0, Default::default());
            sim.drain_events_into(&mut self.events);
            let events = std::mem::take(&mut self.events);
            for event in &events {
                self.handle_event(event);
            }
            self.sync_dock(&events);
            self.events = events;
            self.events.clear();
        }
        self.sync_view();
    }
}

impl Zone {
    fn on_run_started(&mut self, run_id: GString, zone: i64, seed: GString) {
        let Ok(seed) = seed.to_string().parse::<u64>() else {
            return;
        };
        self.begin_run(run_id.to_string(), zone, seed, None);
    }

    fn on_run_start_failed(&mut self, zone: i64, code: GString, message: GString) {
        if code == game::api::codes::UNREACHABLE {
            let text = if self.sim.is_some() {
                // Keep flying the run we have; its claims queue up offline.
                format!(
                    "ZONE TRANSIT REQUIRES THE STATION LINK · STAYING IN ZONE {}",
                    self.zone
                )
            } else {
                // No run yet: a seed only comes from the station. Keep asking.
                self.retry = Some((zone, self.run_retry_s));
                "NO STATION LINK · RUN CLEARANCE PENDING, RETRYING".to_owned()
            };
            self.hud
                .bind_mut()
                .notify(text.as_str().into(), palette::WARN);
            return;
        }
        let text = format!(
            "RUN IN ZONE {zone} REFUSED: {}",
            client::text::auth::explain_error(&code.to_string(), &message.to_string(), None)
        );
        self.hud
            .bind_mut()
            .notify(text.as_str().into(), palette::DANGER);
    }

    fn go_to_lobby(&mut self) {
        // Collections still on the way are sent before the run is left.
        if let Some(mut state) = GameState::autoload() {
            state.bind_mut().flush_collections();
        }
        let path = self.lobby_scene.clone();
        self.base().get_tree().change_scene_to_file(&path);
    }

    fn on_signed_out(&mut self, _reason: GString) {
        let path = self.login_scene.clone();
        self.base().get_tree().change_scene_to_file(&path);
    }

    fn on_collection_rejected(&mut self, _index: i64, code: GString) {
        self.hud.bind_mut().notify(
            format!("CLAIM REFUSED BY THE STATION: {code}")
                .as_str()
                .into(),
            palette::WARN,
        );
    }

    fn begin_run(&mut self, run_id: String, zone: i64, seed: u64, debris: Option<u32>) {
        let catalog = Catalog::shipped();
        let zone_id = zone.clamp(0, i64::from(u8::MAX)) as ZoneId;
        let Some(def) = catalog.zone(zone_id) else {
            godot_error!("Zone: unknown zone {zone}");
            return;
        };
        let (effects, hold_used) = GameState::autoload().map_or_else(
            || {
                (
                    game::ship::ShipEffects::from_levels(catalog, &Default::default()),
                    0,
                )
            },
            |s| {
                let s = s.bind();
                (s.effects(), s.hold_used().max(0) as u64)
            },
        );
        let options = SimOptions {
            debris_counts: debris.map(|n| (n, n)),
            ..SimOptions::default()
        };
        let sim = match ZoneSim::with_options(catalog, zone_id, seed, effects, hold_used, options) {
            Ok(sim) => sim,
            Err(e) => {
                godot_error!("Zone: cannot start the simulation: {e}");
                return;
            }
        };
        self.sim = Some(sim);
        self.run_id = run_id;
        self.zone = zone_id;
        self.collected = 0;
        self.docked = false;
        // A new run: the old dock claim is no good; the ship may spawn
        // within range of a hub (no `NearHub` event then).
        self.dock_hub = None;
        if let Some(mut state) = GameState::autoload() {
            state.bind_mut().clear_dock();
        }
        self.sync_dock(&[]);
        self.ship.bind_mut().lock_controls(false);
        self.bounds.bind_mut().set_extent(
            def.half_size() as f32,
            catalog.ship().wall_warning_distance as f32,
        );
        self.place_hubs(catalog, zone_id);
        self.hud
            .bind_mut()
            .set_zone(i64::from(zone_id), def.name.as_str().into());
        self.hud.bind_mut().notify(
            format!("ENTERED {}", def.name.to_uppercase())
                .as_str()
                .into(),
            palette::CYAN,
        );
        self.sync_view();
        self.signals().run_ready().emit(i64::from(zone_id));
    }

    fn place_hubs(&mut self, catalog: &Catalog, zone: ZoneId) {
        for mut hub in self.hubs.drain(..) {
            hub.queue_free();
        }
        let Some(def) = catalog.zone(zone) else {
            return;
        };
        let radius = catalog.hubs().interact_radius as f32;
        for (i, hub_def) in def.hubs.iter().enumerate() {
            let mut hub = match &self.hub_scene {
                Some(scene) => match scene.instantiate() {
                    Some(node) => match node.try_cast::<TradingHub>() {
                        Ok(hub) => hub,
                        Err(node) => {
                            node.free();
                            TradingHub::new_alloc()
                        }
                    },
                    None => TradingHub::new_alloc(),
                },
                None => TradingHub::new_alloc(),
            };
            hub.set_name(&format!("Hub{i}"));
            hub.set_position(Vector2::new(hub_def.x as f32, hub_def.y as f32));
            hub.set("hub_name", &hub_def.name.to_variant());
            hub.set("interact_radius", &radius.to_variant());
            self.hubs_root.add_child(&hub);
            self.hubs.push(hub);
        }
    }

    fn apply_player(&mut self) {
        let Some(state) = GameState::autoload() else {
            return;
        };
        let (effects, used) = {
            let s = state.bind();
            (s.effects(), s.hold_used().max(0) as u64)
        };
        if let Some(sim) = self.sim.as_mut() {
            sim.set_effects(effects);
            sim.set_hold_used(used);
        }
    }

    fn handle_event(&mut self, event: &SimEvent) {
        match *event {
            SimEvent::Collected {
                index,
                kind,
                value,
                at,
                x,
                y,
                ..
            } => {
                self.collected += 1;
                let colour = self
                    .kind_colours
                    .get(usize::from(kind.0))
                    .copied()
                    .unwrap_or(palette::CYAN);
                self.effects
                    .bind_mut()
                    .burst(Vector2::new(x, y), value as i64, colour);
                let kind_id = Catalog::shipped()
                    .kind(kind)
                    .map_or_else(String::new, |k| k.id.clone());
                if let Some(mut state) = GameState::autoload() {
                    state
                        .bind_mut()
                        .record_collection(&self.run_id, index, at, &kind_id);
                }
                self.signals()
                    .collected()
                    .emit(i64::from(index), kind_id.as_str(), value as i64);
            }
            SimEvent::HoldFull { .. } => {
                self.hud.bind_mut().notify(
                    "HOLD FULL · RETURN TO A TRADING HUB".into(),
                    palette::DANGER,
                );
            }
            SimEvent::MagnetGrab { .. } | SimEvent::NearHub { .. } | SimEvent::LeftHub { .. } => {}
        }
    }

    /// Keeps `GameState`'s dock claim in step with the simulation: set when
    /// the ship comes within range of a hub (`NearHub`), cleared when it
    /// leaves (`LeftHub`), and moved to the current tick whenever a piece is
    /// collected while in range, so a sale's claim is never older than the
    /// last piece in the hold. A local run (no run id) has no claim.
    fn sync_dock(&mut self, events: &[SimEvent]) {
        let Some(sim) = &self.sim else {
            return;
        };
        let near = sim.ship().near_hub;
        let collected = events
            .iter()
            .any(|e| matches!(e, SimEvent::Collected { .. }));
        let arrived = events.iter().any(|e| matches!(e, SimEvent::NearHub { .. }));
        if near == self.dock_hub && !(near.is_some() && (collected || arrived)) {
            return;
        }
        self.dock_hub = near;
        let at = sim.time();
        let Some(mut state) = GameState::autoload() else {
            return;
        };
        let mut state = state.bind_mut();
        match near {
            Some(hub) if !self.run_id.is_empty() => state.set_dock(&self.run_id, hub as u32, at),
            _ => state.clear_dock(),
        }
    }

    fn undock(&mut self) {
        self.docked = false;
        self.ship.bind_mut().lock_controls(false);
        self.inventory.bind_mut().enable_toggle(true);
        self.signals().undocked().emit();
    }

    fn travel_to(&mut self, zone: i64) {
        let online = BackendClient::autoload().is_none_or(|c| c.bind().is_online());
        if !online && self.sim.is_some() {
            // A new run needs a seed from the station; say so, stay here.
            self.hud.bind_mut().notify(
                "ZONE TRANSIT REQUIRES THE STATION LINK · STAYING IN THIS ZONE".into(),
                palette::WARN,
            );
            return;
        }
        if let Some(mut state) = GameState::autoload() {
            state.bind_mut().choose_zone(zone.clamp(1, 255) as ZoneId);
        }
        self.request_run(zone);
    }

    /// Moves the ship node, redraws the visible debris, updates the HUD.
    fn sync_view(&mut self) {
        let Some(sim) = &self.sim else {
            return;
        };
        let ship = sim.ship();
        let ship_pos = Vector2::new(ship.x as f32, ship.y as f32);
        let viewport = self.base().get_viewport_rect().size;
        let zoom = self.camera.get_zoom();
        let half = Vector2::new(viewport.x / zoom.x.max(0.01), viewport.y / zoom.y.max(0.01)) * 0.5
            + Vector2::new(self.cull_margin, self.cull_margin);
        let rect = Rect {
            min_x: f64::from(ship_pos.x - half.x),
            min_y: f64::from(ship_pos.y - half.y),
            max_x: f64::from(ship_pos.x + half.x),
            max_y: f64::from(ship_pos.y + half.y),
        };
        let mut views = std::mem::take(&mut self.views);
        sim.debris_in_rect(rect, &mut views);
        let pulled: Vec<Vector2> = views
            .iter()
            .filter(|v| v.pulled)
            .map(|v| Vector2::new(v.x, v.y))
            .collect();

        let catalog = Catalog::shipped();
        let nearest_hub = sim
            .hubs()
            .iter()
            .map(|h| {
                let d = Vector2::new(h.x as f32, h.y as f32) - ship_pos;
                (h.name.clone(), d.length(), d.y.atan2(d.x))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let hub_in_range = ship
            .near_hub
            .and_then(|i| sim.hubs().get(i))
            .map(|h| h.name.clone());
        let radar = sim.effects().scanner.map(|scanner| {
            let blips = sim
                .scanner_blips()
                .into_iter()
                .map(|b| Blip {
                    offset: Vector2::new(b.x, b.y) - ship_pos,
                    colour: self
                        .kind_colours
                        .get(usize::from(b.kind.0))
                        .copied()
                        .unwrap_or(palette::CYAN),
                    value: b.value,
                })
                .collect();
            (scanner.radius as f32, blips)
        });
        let telemetry = Telemetry {
            speed: ship.speed as f32,
            wall_warning: ship.wall_warning,
            hub_in_range: if self.docked { None } else { hub_in_range },
            nearest_hub,
            radar,
        };
        let _ = catalog;

        self.ship.set_position(ship_pos);
        self.ship.set_rotation(ship.heading as f32);
        self.debris.bind_mut().show(&views);
        self.views = views;
        self.effects.bind_mut().set_beams(ship_pos, pulled);
        for (i, hub) in self.hubs.iter_mut().enumerate() {
            let lit = ship.near_hub == Some(i);
            if hub.get("highlighted").to::<bool>() != lit {
                hub.set("highlighted", &lit.to_variant());
            }
        }
        self.hud.bind_mut().show_telemetry(&telemetry);
    }
}
