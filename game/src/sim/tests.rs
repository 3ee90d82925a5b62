use super::*;
use crate::catalog::UpgradeId;
use crate::economy::UpgradeLevels;
use proptest::prelude::*;

fn catalog() -> &'static Catalog {
    Catalog::shipped()
}

fn effects(levels: UpgradeLevels) -> ShipEffects {
    ShipEffects::from_levels(catalog(), &levels)
}

fn base() -> ShipEffects {
    effects(UpgradeLevels::default())
}

const IDLE: ShipInput = ShipInput {
    thrust: false,
    reverse: false,
    turn_left: false,
    turn_right: false,
    collect: false,
};
const COLLECT: ShipInput = ShipInput {
    collect: true,
    ..IDLE
};

impl ZoneSim {
    /// Test-only: puts the ship somewhere, at rest.
    fn place_ship(&mut self, x: f64, y: f64) {
        let mut body = self.world.get_mut::<ShipBody>(self.ship).unwrap();
        body.x = x;
        body.y = y;
        body.speed = 0.0;
    }

    fn field(&self) -> &DebrisField {
        self.world.resource::<DebrisField>()
    }
}

fn px(fixed: i32) -> f64 {
    f64::from(fixed) * PX_PER_FIXED
}

#[test]
fn starts_with_the_initial_field_and_spawns_on_schedule() {
    let mut sim = ZoneSim::new(catalog(), 1, 9, base(), 0).unwrap();
    assert_eq!(sim.debris_alive(), 400);
    assert_eq!(sim.time(), 0.0);
    for _ in 0..29 {
        sim.tick(IDLE);
    }
    assert_eq!(sim.debris_alive(), 400);
    sim.tick(IDLE);
    assert_eq!(sim.debris_alive(), 401);
    assert!(sim.contains_debris(400));
    assert_eq!(sim.time(), 0.5);
    // 200 more slots fill the field to its max of 600, then spawning stops.
    for _ in 0..(30 * 250) {
        sim.tick(IDLE);
    }
    assert_eq!(sim.debris_alive(), 600);
    assert!(sim.contains_debris(599) && !sim.contains_debris(600));
}

#[test]
fn a_full_field_skips_slot_indices() {
    let options = SimOptions {
        debris_counts: Some((3, 3)),
        ..SimOptions::default()
    };
    let mut sim = ZoneSim::with_options(catalog(), 1, 4, base(), 0, options).unwrap();
    let (x, y) = sim.debris_position_fixed(1).unwrap();
    sim.place_ship(px(x), px(y));
    sim.tick(COLLECT);
    assert!(!sim.contains_debris(1));
    assert_eq!(sim.debris_alive(), 2);
    // Slot at tick 30 owns index 3: spawns because only 2 are alive.
    for _ in 0..29 {
        sim.tick(IDLE);
    }
    assert!(sim.contains_debris(3));
    // Next slot (index 4) finds the field full and is skipped for good.
    for _ in 0..30 {
        sim.tick(IDLE);
    }
    assert!(!sim.contains_debris(4));
    assert_eq!(sim.debris_alive(), 3);
}

#[test]
fn debris_follows_the_closed_form_exactly() {
    let mut sim = ZoneSim::new(catalog(), 2, 31337, base(), 0).unwrap();
    let rules = FieldRules::new(catalog(), 2, 31337).unwrap();
    for _ in 0..1234 {
        sim.tick(IDLE);
    }
    let field = sim.field();
    for slot in 0..field.len() {
        let spec = rules.spec(field.index[slot]);
        assert_eq!(
            rules.position_at_tick(&spec, sim.tick_count()),
            Some((field.x[slot], field.y[slot]))
        );
        assert_eq!(field.kind[slot], spec.kind);
    }
}

#[test]
fn same_seed_and_inputs_give_the_same_run() {
    let levels = UpgradeLevels::default()
        .with(UpgradeId::CargoMagnet, 3)
        .with(UpgradeId::InventoryExpansion, 10);
    let script = |tick: u64| ShipInput {
        thrust: tick % 200 < 150,
        reverse: tick % 200 >= 190,
        turn_left: tick % 90 < 20,
        turn_right: tick % 130 < 15,
        collect: tick.is_multiple_of(7),
    };
    let run = || {
        let mut sim = ZoneSim::new(catalog(), 1, 5, effects(levels), 0).unwrap();
        let mut events = Vec::new();
        for tick in 0..3000 {
            sim.tick(script(tick));
            sim.drain_events_into(&mut events);
        }
        (events, sim.ship(), sim.field().clone())
    };
    let (a, b) = (run(), run());
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
    assert_eq!(a.2, b.2);
    assert!(
        a.0.iter().any(|e| matches!(e, SimEvent::Collected { .. })),
        "the script collects something"
    );
}

#[test]
fn step_runs_fixed_ticks_and_latches_a_short_press() {
    let mut sim = ZoneSim::new(catalog(), 1, 1, base(), 0).unwrap();
    assert_eq!(sim.step(1.0 / 120.0, IDLE), 0);
    assert!(sim.interpolation_alpha() > 0.4);
    assert_eq!(sim.step(1.0 / 120.0, IDLE), 1);
    assert_eq!(sim.step(0.05, IDLE), 3);
    assert_eq!(sim.step(f64::NAN, IDLE), 0);
    assert_eq!(sim.step(-1.0, IDLE), 0);
    // A hitch runs at most max_ticks_per_step ticks.
    assert_eq!(sim.step(10.0, IDLE), 8);
    assert_eq!(sim.tick_count(), 12);

    // A press in a step that ran no tick is kept for the next tick.
    let mut sim = ZoneSim::new(catalog(), 1, 4, base(), 0).unwrap();
    let (x, y) = sim.debris_position_fixed(0).unwrap();
    sim.place_ship(px(x), px(y));
    sim.step(0.001, COLLECT);
    sim.step(1.0 / 60.0, IDLE);
    assert!(!sim.contains_debris(0));
}

#[test]
fn manual_collection_takes_the_nearest_in_range_then_waits_the_cooldown() {
    let mut sim = ZoneSim::new(catalog(), 1, 77, base(), 0).unwrap();
    let (x, y) = sim.debris_position_fixed(10).unwrap();
    sim.place_ship(px(x) + 20.0, px(y));
    let nearest = sim.nearest_collectable().unwrap();
    sim.tick(COLLECT);
    let events = sim.drain_events();
    let collected: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            SimEvent::Collected {
                index,
                at,
                by_magnet,
                value,
                ..
            } => Some((*index, *at, *by_magnet, *value)),
            _ => None,
        })
        .collect();
    assert_eq!(collected.len(), 1);
    assert_eq!(collected[0].0, nearest.index);
    assert_eq!(collected[0].1, 1.0 / 60.0);
    assert!(!collected[0].2);
    assert_eq!(sim.hold(), (1, 10));
    assert!((sim.ship().collect_cooldown - 0.5).abs() < 1e-9);
    // Held E: nothing more until the cooldown has passed.
    let mut count = 0;
    for _ in 0..29 {
        sim.tick(COLLECT);
        count += sim
            .drain_events()
            .iter()
            .filter(|e| matches!(e, SimEvent::Collected { .. }))
            .count();
    }
    assert_eq!(count, 0);
    // Out of range: nothing, and no cooldown is spent.
    sim.place_ship(2900.0, 2900.0);
    if sim.nearest_collectable().is_none() {
        sim.tick(COLLECT);
        assert_eq!(sim.hold().0, 1);
    }
}

#[test]
fn hold_full_stops_collection_and_is_announced_once() {
    let mut sim = ZoneSim::new(catalog(), 1, 3, base(), 9).unwrap();
    let (x, y) = sim.debris_position_fixed(0).unwrap();
    sim.place_ship(px(x), px(y));
    sim.tick(COLLECT);
    let events = sim.drain_events();
    assert!(matches!(events[0], SimEvent::Collected { index: 0, .. }));
    assert!(matches!(events[1], SimEvent::HoldFull { .. }));
    let (x, y) = sim.debris_position_fixed(1).unwrap();
    sim.place_ship(px(x), px(y));
    for _ in 0..100 {
        sim.tick(COLLECT);
    }
    assert!(
        sim.drain_events()
            .iter()
            .all(|e| !matches!(e, SimEvent::Collected { .. } | SimEvent::HoldFull { .. }))
    );
    assert!(sim.contains_debris(1));
    // After selling, collection resumes.
    sim.set_hold_used(0);
    let (x, y) = sim.debris_position_fixed(1).unwrap();
    sim.place_ship(px(x), px(y));
    sim.tick(COLLECT);
    assert!(!sim.contains_debris(1));
}

#[test]
fn magnet_pulls_pieces_in_and_respects_the_hold() {
    let levels = UpgradeLevels::default().with(UpgradeId::CargoMagnet, 3);
    let options = SimOptions {
        debris_counts: Some((20_000, 20_000)),
        ..SimOptions::default()
    };
    let mut sim = ZoneSim::with_options(catalog(), 1, 8, effects(levels), 0, options).unwrap();
    let mut collected = 0;
    let mut grabs = 0;
    let mut full = 0;
    for _ in 0..600 {
        sim.tick(IDLE);
        for event in sim.drain_events() {
            match event {
                SimEvent::Collected { by_magnet, .. } => {
                    assert!(by_magnet);
                    collected += 1;
                }
                SimEvent::MagnetGrab { .. } => grabs += 1,
                SimEvent::HoldFull { .. } => full += 1,
                _ => {}
            }
        }
    }
    // Capacity 10: the magnet fills it and never grabs beyond it.
    assert_eq!(collected, 10);
    assert_eq!(grabs, 10);
    assert_eq!(full, 1);
    assert_eq!(sim.hold(), (10, 10));
}

#[test]
fn hub_proximity_events() {
    let mut sim = ZoneSim::new(catalog(), 1, 1, base(), 0).unwrap();
    assert_eq!(sim.ship().near_hub, None);
    let hub = sim.hubs()[0].clone();
    sim.place_ship(hub.x + 100.0, hub.y);
    sim.tick(IDLE);
    assert_eq!(sim.ship().near_hub, Some(0));
    assert!(matches!(
        sim.drain_events()[..],
        [SimEvent::NearHub { hub: 0, .. }]
    ));
    sim.place_ship(hub.x + 200.0, hub.y);
    sim.tick(IDLE);
    assert!(matches!(
        sim.drain_events()[..],
        [SimEvent::LeftHub { hub: 0, .. }]
    ));
    sim.stop_ship();
    assert_eq!(sim.ship().speed, 0.0);
}

#[test]
fn wall_warning_near_the_edge() {
    let mut sim = ZoneSim::new(catalog(), 1, 1, base(), 0).unwrap();
    sim.place_ship(2850.0, 0.0);
    sim.tick(IDLE);
    assert!(sim.ship().wall_warning);
    sim.place_ship(2700.0, 0.0);
    sim.tick(IDLE);
    assert!(!sim.ship().wall_warning);
}

#[test]
fn set_effects_applies_at_once() {
    let mut sim = ZoneSim::new(catalog(), 1, 1, base(), 10).unwrap();
    assert_eq!(sim.hold(), (10, 10));
    let bigger = effects(UpgradeLevels::default().with(UpgradeId::InventoryExpansion, 2));
    sim.set_effects(bigger);
    assert_eq!(sim.hold(), (10, 20));
    assert_eq!(sim.effects().hold_capacity, 20);
    let thrust = ShipInput {
        thrust: true,
        ..IDLE
    };
    sim.set_effects(effects(
        UpgradeLevels::default().with(UpgradeId::SpeedBoost, 5),
    ));
    for _ in 0..300 {
        sim.tick(thrust);
    }
    assert_eq!(sim.ship().speed, 440.0);
}

#[test]
fn scanner_shows_valuable_debris_only() {
    let mut sim = ZoneSim::new(catalog(), 1, 12, base(), 0).unwrap();
    assert!(sim.scanner_blips().is_empty());
    sim.set_effects(effects(
        UpgradeLevels::default().with(UpgradeId::DebrisScanner, 1),
    ));
    let blips = sim.scanner_blips();
    assert!(!blips.is_empty());
    for blip in &blips {
        assert!(catalog().kind(blip.kind).unwrap().value >= 150);
        assert!(f64::from(blip.x).hypot(f64::from(blip.y)) <= 1200.0 + 1.0);
        assert_eq!(blip.value, None);
    }
    sim.set_effects(effects(
        UpgradeLevels::default().with(UpgradeId::DebrisScanner, 3),
    ));
    assert!(sim.scanner_blips().iter().all(|b| b.value.is_some()));
}

#[test]
fn rect_query_returns_exactly_the_pieces_inside() {
    let mut sim = ZoneSim::new(catalog(), 1, 2, base(), 0).unwrap();
    for _ in 0..45 {
        sim.tick(IDLE);
    }
    let rect = Rect {
        min_x: -3100.0,
        min_y: -500.0,
        max_x: -1000.0,
        max_y: 700.0,
    };
    let mut out = Vec::new();
    sim.debris_in_rect(rect, &mut out);
    let slices = sim.debris();
    let mut expected: Vec<DebrisIndex> = (0..slices.x.len())
        .filter(|&s| slices.state[s] != field::GONE)
        .filter(|&s| {
            let (x, y) = (px(slices.x[s]), px(slices.y[s]));
            x >= rect.min_x && x <= rect.max_x && y >= rect.min_y && y <= rect.max_y
        })
        .map(|s| slices.index[s])
        .collect();
    let mut got: Vec<DebrisIndex> = out.iter().map(|v| v.index).collect();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
    assert!(!got.is_empty());
    sim.debris_in_rect(
        Rect {
            min_x: 1.0,
            min_y: 0.0,
            max_x: 0.0,
            max_y: 1.0,
        },
        &mut out,
    );
    assert!(out.is_empty());
}

#[test]
fn zone_sim_can_move_between_threads() {
    // A Godot node may build it on a loader thread; the backend may keep one
    // per run in a task.
    fn assert_send<T: Send + 'static>() {}
    assert_send::<ZoneSim>();
}

#[test]
fn bad_options_are_errors() {
    let options = SimOptions {
        grid_rebuild_ticks: 0,
        ..SimOptions::default()
    };
    assert_eq!(
        ZoneSim::with_options(catalog(), 1, 1, base(), 0, options).unwrap_err(),
        SimError::BadRebuildInterval
    );
    assert!(ZoneSim::new(catalog(), 9, 1, base(), 0).is_err());
    let options = SimOptions {
        debris_counts: Some((5, 1)),
        ..SimOptions::default()
    };
    assert!(ZoneSim::with_options(catalog(), 1, 1, base(), 0, options).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The grid's answers equal a brute-force scan, however stale the grid,
    /// wherever the query (edges and corners included), after collections.
    #[test]
    fn grid_agrees_with_brute_force(
        seed in any::<u64>(),
        zone in 1u8..=4,
        ticks in 0u32..200,
        rebuild in 1u32..80,
        queries in proptest::collection::vec((-1.1f64..1.1, -1.1f64..1.1, 0.0f64..600.0), 1..12),
    ) {
        let options = SimOptions { debris_counts: Some((3000, 3000)), grid_rebuild_ticks: rebuild, ..SimOptions::default() };
        let mut sim = ZoneSim::with_options(catalog(), zone, seed, base(), 0, options).unwrap();
        let half = sim.half_size();
        for t in 0..ticks {
            if t.is_multiple_of(17) {
                // Collect something now and then so GONE slots exist.
                let (x, y) = (half * ((t % 5) as f64 / 5.0 - 0.4), half * 0.3);
                sim.place_ship(x, y);
                sim.set_hold_used(0);
                sim.tick(COLLECT);
            } else {
                sim.tick(IDLE);
            }
        }
        let field = sim.field();
        let grid = sim.world.resource::<SpatialGrid>();
        for (qx, qy, radius) in queries {
            let center = (to_fixed(qx * half), to_fixed(qy * half));
            let r = to_fixed(radius);
            let mut through_grid = Vec::new();
            grid::within_radius(grid, field, sim.tick_count(), center, r, &mut through_grid);
            let brute = grid::within_radius_brute(field, center, r);
            prop_assert_eq!(&through_grid, &brute);
            let nearest = grid::nearest_within(grid, field, sim.tick_count(), center, r);
            prop_assert_eq!(nearest, brute.first().map(|&(_, slot)| slot));
        }
    }

    /// Same seed, same field: across two sims, and after a serde round trip
    /// of the seed as the API sends it.
    #[test]
    fn same_seed_same_field(seed in any::<u64>(), zone in 1u8..=4, ticks in 0u32..120) {
        let json = serde_json::to_string(&crate::api::SeedString(seed)).unwrap();
        let back: crate::api::SeedString = serde_json::from_str(&json).unwrap();
        let mut a = ZoneSim::new(catalog(), zone, seed, base(), 0).unwrap();
        let mut b = ZoneSim::new(catalog(), zone, back.0, base(), 0).unwrap();
        for _ in 0..ticks {
            a.tick(IDLE);
            b.tick(IDLE);
        }
        prop_assert_eq!(a.field(), b.field());
    }
}
