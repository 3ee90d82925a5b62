//! One zone run as a bevy_ecs world, behind the [`ZoneSim`] facade that a
//! Godot node or a test drives: `step(dt, input)`, read the ship and the
//! debris for drawing, drain events.
//!
//! **Determinism.** The world advances in fixed ticks of 1/60 s
//! ([`TICK_RATE`]); `step` only accumulates real time. Debris positions are
//! integers, ship physics plain IEEE-754 `f64` with [`crate::detmath`], and
//! every choice (nearest piece, magnet picks) breaks ties by debris index,
//! so the same seed and the same inputs per tick give the same run on any
//! machine.
//!
//! **What the server sees.** Each [`SimEvent::Collected`] carries the debris
//! index and `at` (the run clock at that tick); the client sends exactly
//! those, and `verify::judge_batch` accepts them (the magnet and the soft
//! wall are inside its bound).
//!
//! **Layout.** The ship is an entity with a [`ShipBody`]; the debris field is
//! a resource holding structure-of-arrays ([`field::DebrisField`]) so
//! 100,000 pieces drift in one vectorised loop; collection queries go
//! through a loose uniform grid ([`grid::SpatialGrid`]). The schedule, in
//! tick order: clock, drift, spawn, grid upkeep, ship, magnet flight, magnet
//! pulse, manual collection, hub proximity.
//!
//! No Godot types, no I/O, no threads, no wall-clock reads.

pub mod field;
pub mod grid;
pub mod ship;

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::SingleThreadedExecutor;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Credits, HubDef, KindIndex, ShipTuning, ZoneId};
use crate::debris::{
    self, DebrisIndex, FieldError, FieldRules, PX_PER_FIXED, TICK_RATE, TICK_SECONDS,
};
use crate::economy::ShipEffects;
use field::{DebrisField, FREE, GONE, PULLED};
use grid::SpatialGrid;
pub use ship::{ShipBody, ShipInput};

/// Why a simulation could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("grid rebuild interval must be at least one tick")]
    BadRebuildInterval,
}

/// Something that happened during a tick, for HUD, sound and the server.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum SimEvent {
    /// A piece went into the hold. Send `(index, at)` to the server.
    Collected {
        index: DebrisIndex,
        kind: KindIndex,
        value: Credits,
        /// Run clock (s) at the tick it was collected.
        at: f64,
        /// Where it was (px), for the flash and the "+value" label.
        x: f32,
        y: f32,
        by_magnet: bool,
    },
    /// The magnet grabbed a piece; it will be `Collected` within a moment.
    MagnetGrab {
        index: DebrisIndex,
        at: f64,
    },
    /// The hold became full (or a collection was refused because it is).
    /// Emitted once until the hold has room again.
    HoldFull {
        at: f64,
    },
    /// The ship came within interact range of hub `hub` (index into the zone's hubs).
    NearHub {
        hub: usize,
        at: f64,
    },
    LeftHub {
        hub: usize,
        at: f64,
    },
}

/// Tuning knobs for tests and benchmarks; `Default` is what the game uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimOptions {
    /// Replace the zone's `(initial, max)` debris counts.
    pub debris_counts: Option<(u32, u32)>,
    /// Ticks between spatial grid rebuilds (1 = every tick).
    pub grid_rebuild_ticks: u32,
    /// Most ticks one `step` call runs, so a long hitch cannot stall a frame
    /// with hundreds of catch-up ticks (the run clock then lags real time,
    /// which is safe: the server only refuses claims from the future).
    pub max_ticks_per_step: u32,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            debris_counts: None,
            grid_rebuild_ticks: 30,
            max_ticks_per_step: 8,
        }
    }
}

/// What the renderer and HUD need of the ship.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShipView {
    pub x: f64,
    pub y: f64,
    pub heading: f64,
    pub speed: f64,
    pub velocity_x: f64,
    pub velocity_y: f64,
    /// Within the warning distance of an edge.
    pub wall_warning: bool,
    /// Hub within interact range, if any.
    pub near_hub: Option<usize>,
    /// Seconds until manual collection is ready again.
    pub collect_cooldown: f64,
}

/// One piece, ready to draw.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DebrisView {
    pub index: DebrisIndex,
    pub kind: KindIndex,
    pub x: f32,
    pub y: f32,
    /// Radians.
    pub rotation: f32,
    /// Being pulled by the magnet.
    pub pulled: bool,
}

/// An axis-aligned rectangle in px (e.g. the camera's view).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub min_x: f64,
    pub min_y: f64,
    pub max_x: f64,
    pub max_y: f64,
}

/// A radar blip of the debris scanner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScannerBlip {
    pub index: DebrisIndex,
    pub kind: KindIndex,
    pub x: f32,
    pub y: f32,
    /// `Some` only when the scanner level shows values.
    pub value: Option<Credits>,
}

/// Read-only view of the whole field (structure of arrays, fixed point).
/// Slots whose `state` is [`field::GONE`] are collected and must be skipped.
#[derive(Debug, Clone, Copy)]
pub struct DebrisSlices<'a> {
    pub x: &'a [i32],
    pub y: &'a [i32],
    pub index: &'a [DebrisIndex],
    pub kind: &'a [KindIndex],
    pub state: &'a [u8],
    pub rotation: &'a [f32],
    pub spin: &'a [f32],
    pub spawn_tick: &'a [u64],
    /// Multiply `x`/`y` by this to get px.
    pub px_per_unit: f64,
}

// ---------------------------------------------------------------------------
// World resources and components
// ---------------------------------------------------------------------------

#[derive(Resource, Debug, Clone, Copy, Default)]
struct SimClock {
    tick: u64,
}

impl SimClock {
    fn seconds(&self) -> f64 {
        debris::tick_to_seconds(self.tick)
    }
}

#[derive(Resource, Debug, Clone, Copy, Default)]
struct TickInput(ShipInput);

#[derive(Resource, Debug, Clone)]
struct Effects(ShipEffects);

#[derive(Resource, Debug, Clone)]
struct ZoneRules {
    field: FieldRules,
    tuning: ShipTuning,
    hubs: Vec<HubDef>,
    hub_radius: f64,
    magnet_pull_speed: f64,
    values: Vec<Credits>,
    grid_rebuild_ticks: u64,
}

#[derive(Resource, Debug, Clone, Copy, Default)]
struct Hold {
    used: u64,
    capacity: u64,
    /// A HoldFull event was sent and the hold has not had room since.
    full_announced: bool,
}

#[derive(Resource, Debug, Clone, Default)]
struct EventQueue(Vec<SimEvent>);

/// A piece the magnet is pulling, by debris index (slots move on compaction).
#[derive(Debug, Clone, Copy)]
struct PulledPiece {
    index: DebrisIndex,
    slot: usize,
    x: f64,
    y: f64,
}

#[derive(Resource, Debug, Clone, Default)]
struct MagnetPulls(Vec<PulledPiece>);

/// Scratch buffer for radius queries, kept to avoid allocating per tick.
#[derive(Resource, Debug, Clone, Default)]
struct QueryScratch(Vec<(i128, usize)>);

#[derive(Component, Debug, Clone, Copy, Default)]
struct Ship;

#[derive(Component, Debug, Clone, Copy, Default)]
struct ShipTimers {
    collect_cooldown_ticks: u64,
    magnet_countdown_ticks: u64,
}

#[derive(Component, Debug, Clone, Copy, Default)]
struct ShipStatus {
    wall_warning: bool,
    near_hub: Option<usize>,
}

fn seconds_to_ticks(seconds: f64) -> u64 {
    debris::seconds_to_tick(seconds).max(1)
}

fn to_fixed(px: f64) -> i64 {
    debris::px_to_fixed(px)
}

// ---------------------------------------------------------------------------
// Systems, in schedule order
// ---------------------------------------------------------------------------

fn advance_clock(mut clock: ResMut<SimClock>) {
    clock.tick += 1;
}

fn drift_debris(mut field: ResMut<DebrisField>) {
    field.drift();
}

fn spawn_debris(clock: Res<SimClock>, rules: Res<ZoneRules>, mut field: ResMut<DebrisField>) {
    if let Some(index) = rules.field.slot_index_at(clock.tick) {
        // A full field skips this slot's index for good (see `debris`).
        if (field.alive as u64) < u64::from(rules.field.max_alive) {
            field.push(&rules.field.spec(index));
        }
    }
}

fn maintain_grid(
    clock: Res<SimClock>,
    rules: Res<ZoneRules>,
    mut grid: ResMut<SpatialGrid>,
    mut field: ResMut<DebrisField>,
    mut pulls: ResMut<MagnetPulls>,
) {
    if !grid.needs_rebuild && clock.tick.saturating_sub(grid.built_tick) < rules.grid_rebuild_ticks
    {
        return;
    }
    // Collected slots are skipped by the grid and cost only their share of
    // the drift loop, so compacting (which touches every array) waits until
    // a sixteenth of the slots are dead.
    if field.gone * 16 >= field.len().max(16) && field.compact() > 0 {
        for pulled in &mut pulls.0 {
            if let Some(slot) = field.slot_of(pulled.index) {
                pulled.slot = slot;
            }
        }
    }
    grid.rebuild(&field, clock.tick);
}

fn move_ship(
    input: Res<TickInput>,
    effects: Res<Effects>,
    rules: Res<ZoneRules>,
    ship: Single<(&mut ShipBody, &mut ShipStatus), With<Ship>>,
) {
    let (mut body, mut status) = ship.into_inner();
    let half = rules.field.half_size_px();
    ship::advance(
        &mut body,
        input.0,
        &effects.0,
        &rules.tuning,
        half,
        TICK_SECONDS,
    );
    status.wall_warning = ship::near_wall(&body, half, &rules.tuning);
}

fn collect_slot(
    field: &mut DebrisField,
    hold: &mut Hold,
    events: &mut EventQueue,
    rules: &ZoneRules,
    slot: usize,
    at: f64,
    by_magnet: bool,
) {
    let kind = field.kind[slot];
    events.0.push(SimEvent::Collected {
        index: field.index[slot],
        kind,
        value: rules.values.get(usize::from(kind.0)).copied().unwrap_or(0),
        at,
        x: (f64::from(field.x[slot]) * PX_PER_FIXED) as f32,
        y: (f64::from(field.y[slot]) * PX_PER_FIXED) as f32,
        by_magnet,
    });
    field.remove(slot);
    hold.used += 1;
    if hold.used >= hold.capacity && !hold.full_announced {
        hold.full_announced = true;
        events.0.push(SimEvent::HoldFull { at });
    }
}

fn announce_full(hold: &mut Hold, events: &mut EventQueue, at: f64) {
    if !hold.full_announced {
        hold.full_announced = true;
        events.0.push(SimEvent::HoldFull { at });
    }
}

#[allow(clippy::too_many_arguments)]
fn fly_magnetised(
    clock: Res<SimClock>,
    rules: Res<ZoneRules>,
    effects: Res<Effects>,
    ship: Single<&ShipBody, With<Ship>>,
    mut field: ResMut<DebrisField>,
    mut grid: ResMut<SpatialGrid>,
    mut pulls: ResMut<MagnetPulls>,
    mut hold: ResMut<Hold>,
    mut events: ResMut<EventQueue>,
) {
    if pulls.0.is_empty() {
        return;
    }
    let at = clock.seconds();
    let (vx, vy) = ship.velocity();
    let step = rules.magnet_pull_speed * TICK_SECONDS;
    let range = effects.0.collection_range;
    let mut remaining = Vec::with_capacity(pulls.0.len());
    for mut pulled in pulls.0.drain(..) {
        // Carried along with the ship, plus closing in at the pull speed.
        pulled.x += vx * TICK_SECONDS;
        pulled.y += vy * TICK_SECONDS;
        let (dx, dy) = (ship.x - pulled.x, ship.y - pulled.y);
        let distance = (dx * dx + dy * dy).sqrt();
        if distance <= step {
            pulled.x = ship.x;
            pulled.y = ship.y;
        } else {
            pulled.x += dx / distance * step;
            pulled.y += dy / distance * step;
        }
        let slot = pulled.slot;
        field.x[slot] = to_fixed(pulled.x).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        field.y[slot] = to_fixed(pulled.y).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        let close = (ship.x - pulled.x).hypot(ship.y - pulled.y) <= range;
        if close && hold.used < hold.capacity {
            field.state[slot] = FREE;
            collect_slot(&mut field, &mut hold, &mut events, &rules, slot, at, true);
        } else if close {
            // The hold shrank under a reservation (capacity lowered mid-pull):
            // put the piece back on its trajectory so the server's view of it
            // stays exact, and let the grid pick it up again.
            let spec = rules.field.spec(pulled.index);
            if let Some((x, y)) = rules.field.position_at_tick(&spec, clock.tick) {
                field.x[slot] = x;
                field.y[slot] = y;
            }
            field.state[slot] = FREE;
            grid.needs_rebuild = true;
            announce_full(&mut hold, &mut events, at);
        } else {
            remaining.push(pulled);
        }
    }
    pulls.0 = remaining;
}

#[allow(clippy::too_many_arguments)]
fn pulse_magnet(
    clock: Res<SimClock>,
    effects: Res<Effects>,
    grid: Res<SpatialGrid>,
    ship: Single<(&ShipBody, &mut ShipTimers), With<Ship>>,
    mut field: ResMut<DebrisField>,
    mut pulls: ResMut<MagnetPulls>,
    mut hold: ResMut<Hold>,
    mut events: ResMut<EventQueue>,
    mut scratch: ResMut<QueryScratch>,
) {
    let (body, mut timers) = ship.into_inner();
    let Some(magnet) = effects.0.magnet else {
        timers.magnet_countdown_ticks = 0;
        return;
    };
    if timers.magnet_countdown_ticks > 1 {
        timers.magnet_countdown_ticks -= 1;
        return;
    }
    timers.magnet_countdown_ticks = seconds_to_ticks(magnet.interval);
    let at = clock.seconds();
    let center = (to_fixed(body.x), to_fixed(body.y));
    grid::within_radius(
        &grid,
        &field,
        clock.tick,
        center,
        to_fixed(magnet.radius),
        &mut scratch.0,
    );
    if scratch.0.is_empty() {
        return;
    }
    let room = hold
        .capacity
        .saturating_sub(hold.used + pulls.0.len() as u64);
    if room == 0 {
        announce_full(&mut hold, &mut events, at);
        return;
    }
    let take = room.min(u64::from(magnet.max_pieces)) as usize;
    for &(_, slot) in scratch.0.iter().take(take) {
        field.state[slot] = PULLED;
        pulls.0.push(PulledPiece {
            index: field.index[slot],
            slot,
            x: f64::from(field.x[slot]) * PX_PER_FIXED,
            y: f64::from(field.y[slot]) * PX_PER_FIXED,
        });
        events.0.push(SimEvent::MagnetGrab {
            index: field.index[slot],
            at,
        });
    }
}

#[allow(clippy::too_many_arguments)]
fn collect_manually(
    clock: Res<SimClock>,
    input: Res<TickInput>,
    effects: Res<Effects>,
    rules: Res<ZoneRules>,
    grid: Res<SpatialGrid>,
    ship: Single<(&ShipBody, &mut ShipTimers), With<Ship>>,
    mut field: ResMut<DebrisField>,
    pulls: Res<MagnetPulls>,
    mut hold: ResMut<Hold>,
    mut events: ResMut<EventQueue>,
) {
    let (body, mut timers) = ship.into_inner();
    if timers.collect_cooldown_ticks > 0 {
        timers.collect_cooldown_ticks -= 1;
    }
    if !input.0.collect || timers.collect_cooldown_ticks > 0 {
        return;
    }
    let at = clock.seconds();
    let center = (to_fixed(body.x), to_fixed(body.y));
    let Some(slot) = grid::nearest_within(
        &grid,
        &field,
        clock.tick,
        center,
        to_fixed(effects.0.collection_range),
    ) else {
        return;
    };
    // Pieces already flying in have their slots reserved.
    if hold.used + pulls.0.len() as u64 >= hold.capacity {
        announce_full(&mut hold, &mut events, at);
        return;
    }
    collect_slot(&mut field, &mut hold, &mut events, &rules, slot, at, false);
    timers.collect_cooldown_ticks = seconds_to_ticks(effects.0.collection_cooldown);
}

fn track_hubs(
    clock: Res<SimClock>,
    rules: Res<ZoneRules>,
    ship: Single<(&ShipBody, &mut ShipStatus), With<Ship>>,
    mut events: ResMut<EventQueue>,
) {
    let (body, mut status) = ship.into_inner();
    let nearest = rules
        .hubs
        .iter()
        .enumerate()
        .map(|(i, hub)| (i, (hub.x - body.x).hypot(hub.y - body.y)))
        .filter(|&(_, distance)| distance <= rules.hub_radius)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i);
    if nearest != status.near_hub {
        let at = clock.seconds();
        if let Some(hub) = status.near_hub {
            events.0.push(SimEvent::LeftHub { hub, at });
        }
        if let Some(hub) = nearest {
            events.0.push(SimEvent::NearHub { hub, at });
        }
        status.near_hub = nearest;
    }
}

// ---------------------------------------------------------------------------
// The facade
// ---------------------------------------------------------------------------

/// One zone run. See the module docs.
pub struct ZoneSim {
    world: World,
    schedule: Schedule,
    ship: Entity,
    zone: ZoneId,
    seed: u64,
    accumulator: f64,
    /// A collect press seen in a `step` that ran no tick, kept for the next.
    latched_collect: bool,
    max_ticks_per_step: u32,
}

impl std::fmt::Debug for ZoneSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZoneSim")
            .field("zone", &self.zone)
            .field("seed", &self.seed)
            .field("tick", &self.tick_count())
            .field("debris_alive", &self.debris_alive())
            .finish()
    }
}

impl ZoneSim {
    /// A run of `zone` from `seed`, ship at the origin, `hold_used` slots
    /// already taken.
    pub fn new(
        catalog: &Catalog,
        zone: ZoneId,
        seed: u64,
        effects: ShipEffects,
        hold_used: u64,
    ) -> Result<ZoneSim, SimError> {
        Self::with_options(
            catalog,
            zone,
            seed,
            effects,
            hold_used,
            SimOptions::default(),
        )
    }

    /// [`ZoneSim::new`] with test/benchmark options.
    pub fn with_options(
        catalog: &Catalog,
        zone: ZoneId,
        seed: u64,
        effects: ShipEffects,
        hold_used: u64,
        options: SimOptions,
    ) -> Result<ZoneSim, SimError> {
        if options.grid_rebuild_ticks == 0 {
            return Err(SimError::BadRebuildInterval);
        }
        let zone_def = catalog.zone(zone).ok_or(FieldError::UnknownZone(zone))?;
        let mut field_rules = FieldRules::new(catalog, zone, seed)?;
        if let Some((initial, max)) = options.debris_counts {
            field_rules = field_rules.with_counts(initial, max)?;
        }

        let mut field = DebrisField::new(&field_rules);
        for index in 0..field_rules.initial {
            field.push(&field_rules.spec(index));
        }
        let mut grid = SpatialGrid::new(field_rules.half_fixed, field_rules.size_fixed as i32);
        grid.rebuild(&field, 0);

        let mut world = World::new();
        world.insert_resource(ZoneRules {
            field: field_rules,
            tuning: catalog.ship().clone(),
            hubs: zone_def.hubs.clone(),
            hub_radius: catalog.hubs().interact_radius,
            magnet_pull_speed: catalog.collection().magnet_pull_speed,
            values: catalog.debris_kinds().iter().map(|k| k.value).collect(),
            grid_rebuild_ticks: u64::from(options.grid_rebuild_ticks),
        });
        world.insert_resource(Hold {
            used: hold_used,
            capacity: u64::from(effects.hold_capacity),
            full_announced: false,
        });
        world.insert_resource(Effects(effects));
        world.insert_resource(SimClock::default());
        world.insert_resource(TickInput::default());
        world.insert_resource(EventQueue::default());
        world.insert_resource(MagnetPulls::default());
        world.insert_resource(QueryScratch::default());
        world.insert_resource(field);
        world.insert_resource(grid);
        let ship = world
            .spawn((
                Ship,
                ShipBody::default(),
                ShipTimers {
                    collect_cooldown_ticks: 0,
                    magnet_countdown_ticks: effects
                        .magnet
                        .map_or(0, |m| seconds_to_ticks(m.interval)),
                },
                ShipStatus::default(),
            ))
            .id();

        let mut schedule = Schedule::default();
        schedule.set_executor(SingleThreadedExecutor::default());
        schedule.add_systems(
            (
                advance_clock,
                drift_debris,
                spawn_debris,
                maintain_grid,
                move_ship,
                fly_magnetised,
                pulse_magnet,
                collect_manually,
                track_hubs,
            )
                .chain(),
        );

        let mut sim = ZoneSim {
            world,
            schedule,
            ship,
            zone,
            seed,
            accumulator: 0.0,
            latched_collect: false,
            max_ticks_per_step: options.max_ticks_per_step.max(1),
        };
        // The ship may start next to a hub.
        sim.refresh_hub_status();
        Ok(sim)
    }

    fn refresh_hub_status(&mut self) {
        let rules = self.world.resource::<ZoneRules>();
        let body = *self
            .world
            .get::<ShipBody>(self.ship)
            .expect("ship entity exists");
        let near = rules
            .hubs
            .iter()
            .position(|hub| (hub.x - body.x).hypot(hub.y - body.y) <= rules.hub_radius);
        if let Some(mut status) = self.world.get_mut::<ShipStatus>(self.ship) {
            status.near_hub = near;
        }
    }

    /// Advances by `dt` seconds of real time: runs as many fixed ticks as
    /// have accumulated (at most `max_ticks_per_step`). Returns the ticks run.
    /// Negative or non-finite `dt` counts as 0.
    pub fn step(&mut self, dt: f64, input: ShipInput) -> u32 {
        if dt.is_finite() && dt > 0.0 {
            self.accumulator += dt;
        }
        self.latched_collect |= input.collect;
        let mut ticks = 0;
        while self.accumulator >= TICK_SECONDS && ticks < self.max_ticks_per_step {
            self.accumulator -= TICK_SECONDS;
            let tick_input = ShipInput {
                collect: input.collect || self.latched_collect,
                ..input
            };
            self.latched_collect = false;
            self.tick(tick_input);
            ticks += 1;
        }
        if ticks == self.max_ticks_per_step {
            // Drop the backlog rather than spiral.
            self.accumulator = self.accumulator.min(TICK_SECONDS);
        }
        ticks
    }

    /// Runs exactly one fixed tick with `input`.
    pub fn tick(&mut self, input: ShipInput) {
        self.world.resource_mut::<TickInput>().0 = input;
        self.schedule.run(&mut self.world);
    }

    /// Fraction of a tick accumulated but not yet simulated (0..1), for
    /// interpolating the drawing between ticks.
    pub fn interpolation_alpha(&self) -> f64 {
        (self.accumulator / TICK_SECONDS).clamp(0.0, 1.0)
    }

    pub fn zone(&self) -> ZoneId {
        self.zone
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Ticks simulated since the run started.
    pub fn tick_count(&self) -> u64 {
        self.world.resource::<SimClock>().tick
    }

    /// The run clock, s (what `at` values are measured on).
    pub fn time(&self) -> f64 {
        self.world.resource::<SimClock>().seconds()
    }

    /// Half the zone side, px: the zone spans `[-half, half)`.
    pub fn half_size(&self) -> f64 {
        self.world.resource::<ZoneRules>().field.half_size_px()
    }

    pub fn hubs(&self) -> &[HubDef] {
        &self.world.resource::<ZoneRules>().hubs
    }

    pub fn ship(&self) -> ShipView {
        let body = *self
            .world
            .get::<ShipBody>(self.ship)
            .expect("ship entity exists");
        let status = *self
            .world
            .get::<ShipStatus>(self.ship)
            .expect("ship entity exists");
        let timers = *self
            .world
            .get::<ShipTimers>(self.ship)
            .expect("ship entity exists");
        let (velocity_x, velocity_y) = body.velocity();
        ShipView {
            x: body.x,
            y: body.y,
            heading: body.heading,
            speed: body.speed,
            velocity_x,
            velocity_y,
            wall_warning: status.wall_warning,
            near_hub: status.near_hub,
            collect_cooldown: timers.collect_cooldown_ticks as f64 / f64::from(TICK_RATE),
        }
    }

    /// Stops the ship dead (the hub panel opened).
    pub fn stop_ship(&mut self) {
        if let Some(mut body) = self.world.get_mut::<ShipBody>(self.ship) {
            body.speed = 0.0;
        }
    }

    /// Current ship effects.
    pub fn effects(&self) -> &ShipEffects {
        &self.world.resource::<Effects>().0
    }

    /// New upgrade effects (a purchase or trade succeeded).
    pub fn set_effects(&mut self, effects: ShipEffects) {
        let capacity = u64::from(effects.hold_capacity);
        {
            let mut hold = self.world.resource_mut::<Hold>();
            hold.capacity = capacity;
            if hold.used < hold.capacity {
                hold.full_announced = false;
            }
        }
        if let Some(mut timers) = self.world.get_mut::<ShipTimers>(self.ship)
            && timers.magnet_countdown_ticks == 0
        {
            timers.magnet_countdown_ticks =
                effects.magnet.map_or(0, |m| seconds_to_ticks(m.interval));
        }
        self.world.resource_mut::<Effects>().0 = effects;
    }

    /// Sets the slots in use (after a sale, or when the server's answer
    /// differs from the prediction).
    pub fn set_hold_used(&mut self, used: u64) {
        let mut hold = self.world.resource_mut::<Hold>();
        hold.used = used;
        if hold.used < hold.capacity {
            hold.full_announced = false;
        }
    }

    /// `(used, capacity)` of the hold as the simulation sees it.
    pub fn hold(&self) -> (u64, u64) {
        let hold = self.world.resource::<Hold>();
        (hold.used, hold.capacity)
    }

    /// Takes the events of the ticks run since the last call.
    pub fn drain_events(&mut self) -> Vec<SimEvent> {
        std::mem::take(&mut self.world.resource_mut::<EventQueue>().0)
    }

    /// Appends the pending events to `out` (no allocation in steady state).
    pub fn drain_events_into(&mut self, out: &mut Vec<SimEvent>) {
        out.append(&mut self.world.resource_mut::<EventQueue>().0);
    }

    /// Pieces in the field (not yet collected).
    pub fn debris_alive(&self) -> usize {
        self.world.resource::<DebrisField>().alive
    }

    /// The whole field, for bulk drawing.
    pub fn debris(&self) -> DebrisSlices<'_> {
        let field = self.world.resource::<DebrisField>();
        DebrisSlices {
            x: &field.x,
            y: &field.y,
            index: &field.index,
            kind: &field.kind,
            state: &field.state,
            rotation: &field.rotation,
            spin: &field.spin,
            spawn_tick: &field.spawn_tick,
            px_per_unit: PX_PER_FIXED,
        }
    }

    /// The drawable view of a slot at tick `now`.
    fn view(field: &DebrisField, now: u64, slot: usize) -> DebrisView {
        let elapsed = now.saturating_sub(field.spawn_tick[slot]) as f64 * TICK_SECONDS;
        let rotation = (f64::from(field.rotation[slot]) + f64::from(field.spin[slot]) * elapsed)
            % std::f64::consts::TAU;
        DebrisView {
            index: field.index[slot],
            kind: field.kind[slot],
            x: (f64::from(field.x[slot]) * PX_PER_FIXED) as f32,
            y: (f64::from(field.y[slot]) * PX_PER_FIXED) as f32,
            rotation: rotation as f32,
            pulled: field.state[slot] == PULLED,
        }
    }

    /// Pieces inside `rect` (the camera view), via the grid. Clears `out`
    /// first; order is unspecified.
    pub fn debris_in_rect(&self, rect: Rect, out: &mut Vec<DebrisView>) {
        out.clear();
        let field = self.world.resource::<DebrisField>();
        let grid = self.world.resource::<SpatialGrid>();
        let min = (to_fixed(rect.min_x), to_fixed(rect.min_y));
        let max = (to_fixed(rect.max_x), to_fixed(rect.max_y));
        if min.0 > max.0 || min.1 > max.1 {
            return;
        }
        let inside = |slot: usize| {
            let (x, y) = (i64::from(field.x[slot]), i64::from(field.y[slot]));
            x >= min.0 && x <= max.0 && y >= min.1 && y <= max.1
        };
        let now = self.tick_count();
        grid.for_each_candidate(field, now, min, max, |slot| {
            if field.state[slot] == FREE && inside(slot) {
                out.push(Self::view(field, now, slot));
            }
        });
        // Magnetised pieces are not in the grid where they are now.
        for pulled in &self.world.resource::<MagnetPulls>().0 {
            if inside(pulled.slot) {
                out.push(Self::view(field, now, pulled.slot));
            }
        }
    }

    /// Free pieces within `radius` px of `(x, y)`, nearest first.
    pub fn debris_within(&self, x: f64, y: f64, radius: f64, out: &mut Vec<DebrisView>) {
        out.clear();
        let field = self.world.resource::<DebrisField>();
        let grid = self.world.resource::<SpatialGrid>();
        let mut found = Vec::new();
        grid::within_radius(
            grid,
            field,
            self.tick_count(),
            (to_fixed(x), to_fixed(y)),
            to_fixed(radius.max(0.0)),
            &mut found,
        );
        let now = self.tick_count();
        out.extend(
            found
                .into_iter()
                .map(|(_, slot)| Self::view(field, now, slot)),
        );
    }

    /// The piece manual collection would take now, if any.
    pub fn nearest_collectable(&self) -> Option<DebrisView> {
        let field = self.world.resource::<DebrisField>();
        let grid = self.world.resource::<SpatialGrid>();
        let body = self.world.get::<ShipBody>(self.ship)?;
        let range = to_fixed(self.effects().collection_range);
        grid::nearest_within(
            grid,
            field,
            self.tick_count(),
            (to_fixed(body.x), to_fixed(body.y)),
            range,
        )
        .map(|slot| Self::view(field, self.tick_count(), slot))
    }

    /// Radar blips of the debris scanner (empty without one).
    pub fn scanner_blips(&self) -> Vec<ScannerBlip> {
        let Some(scanner) = self.effects().scanner else {
            return Vec::new();
        };
        let ship = self.ship();
        let rules = self.world.resource::<ZoneRules>();
        let mut views = Vec::new();
        self.debris_within(ship.x, ship.y, scanner.radius, &mut views);
        views
            .into_iter()
            .filter_map(|view| {
                let value = rules
                    .values
                    .get(usize::from(view.kind.0))
                    .copied()
                    .unwrap_or(0);
                (value >= scanner.min_value).then_some(ScannerBlip {
                    index: view.index,
                    kind: view.kind,
                    x: view.x,
                    y: view.y,
                    value: scanner.shows_values.then_some(value),
                })
            })
            .collect()
    }

    /// Whether debris `index` is in the field now (not collected, spawned).
    pub fn contains_debris(&self, index: DebrisIndex) -> bool {
        let field = self.world.resource::<DebrisField>();
        field
            .slot_of(index)
            .is_some_and(|slot| field.state[slot] != GONE)
    }

    /// Fixed-point position of debris `index` now (for tests and debugging).
    pub fn debris_position_fixed(&self, index: DebrisIndex) -> Option<(i32, i32)> {
        let field = self.world.resource::<DebrisField>();
        let slot = field.slot_of(index)?;
        (field.state[slot] != GONE).then(|| (field.x[slot], field.y[slot]))
    }
}

#[cfg(test)]
mod tests;
