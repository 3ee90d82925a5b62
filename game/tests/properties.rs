//! Property tests over the public API: conservation of credits and items,
//! all-or-nothing trades, and "an honest client's collections always pass
//! the server's verification".

use std::collections::BTreeMap;

use game::api::CollectedPiece;
use game::catalog::{Catalog, UpgradeId};
use game::economy::{PlayerState, ShipEffects, TradeBundle, UpgradeLevels, apply_trade};
use game::sim::{ShipInput, SimEvent, ZoneSim};
use game::verify::{self, RunContext};
use proptest::prelude::*;

fn catalog() -> &'static Catalog {
    Catalog::shipped()
}

fn kind_id(i: usize) -> String {
    let kinds = catalog().debris_kinds();
    kinds[i % kinds.len()].id.clone()
}

#[derive(Debug, Clone)]
enum Op {
    Collect(usize, u32),
    Sell(usize, u32),
    SellAll,
    Purchase(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..9, 0u32..8).prop_map(|(k, n)| Op::Collect(k, n)),
        (0usize..9, 0u32..8).prop_map(|(k, n)| Op::Sell(k, n)),
        Just(Op::SellAll),
        (0usize..6).prop_map(Op::Purchase),
    ]
}

fn items_total(state: &PlayerState, kind: &str) -> i64 {
    i64::from(state.items(kind))
}

fn player_from(ops: &[Op], credits: u64) -> PlayerState {
    let c = catalog();
    let mut p = PlayerState::new_player(c);
    p.credits = credits;
    for op in ops {
        let _ = apply(&mut p, op);
    }
    p
}

fn apply(p: &mut PlayerState, op: &Op) -> Result<(), game::EconomyError> {
    let c = catalog();
    match *op {
        Op::Collect(k, n) => p.collect(c, &kind_id(k), n).map(|_| ()),
        Op::Sell(k, n) => p.sell(c, &BTreeMap::from([(kind_id(k), n)])).map(|_| ()),
        Op::SellAll => p.sell_all(c).map(|_| ()),
        Op::Purchase(u) => p.purchase(c, UpgradeId::ALL[u]).map(|_| ()),
    }
}

/// A bundle described as fractions (in percent, up to 125 so some trades
/// ask for more than is owned) of what a player has.
#[derive(Debug, Clone)]
struct BundleShape {
    credits_percent: u64,
    items: Vec<(usize, u32)>,
    upgrades: Vec<(usize, u32)>,
}

fn bundle_shape() -> impl Strategy<Value = BundleShape> {
    (
        prop_oneof![Just(0u64), 0u64..=125],
        proptest::collection::vec((0usize..8, 1u32..=125), 0..3),
        proptest::collection::vec((0usize..6, 1u32..=125), 0..2),
    )
        .prop_map(|(credits_percent, items, upgrades)| BundleShape {
            credits_percent,
            items,
            upgrades,
        })
}

fn bundle_from(shape: &BundleShape, owner: &PlayerState) -> TradeBundle {
    let scale = |have: u64, percent: u64| (have * percent).div_ceil(100);
    TradeBundle {
        credits: scale(owner.credits, shape.credits_percent),
        items: shape
            .items
            .iter()
            .map(|&(k, percent)| {
                (
                    kind_id(k),
                    scale(u64::from(owner.items(&kind_id(k))), u64::from(percent)) as u32,
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect(),
        upgrades: shape
            .upgrades
            .iter()
            .map(|&(u, percent)| {
                let id = UpgradeId::ALL[u];
                (
                    id,
                    scale(u64::from(owner.upgrades.get(id)), u64::from(percent)) as u32,
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Credits and items change only by what each operation states, and a
    /// failed operation changes nothing.
    #[test]
    fn economy_conserves(ops in proptest::collection::vec(op(), 1..60), credits in 0u64..5000) {
        let c = catalog();
        let mut p = PlayerState::new_player(c);
        p.credits = credits;
        for op in &ops {
            let before = p.clone();
            let result = match *op {
                Op::Collect(k, n) => p.collect(c, &kind_id(k), n).map(|r| (0i64, vec![(r.kind, i64::from(r.count))])),
                Op::Sell(k, n) => p
                    .sell(c, &BTreeMap::from([(kind_id(k), n)]))
                    .map(|r| (r.credits_gained as i64, r.sold.into_iter().map(|(k, n)| (k, -i64::from(n))).collect())),
                Op::SellAll => p
                    .sell_all(c)
                    .map(|r| (r.credits_gained as i64, r.sold.into_iter().map(|(k, n)| (k, -i64::from(n))).collect())),
                Op::Purchase(u) => p.purchase(c, UpgradeId::ALL[u]).map(|r| (-(r.cost as i64), vec![])),
            };
            match result {
                Ok((credit_delta, item_deltas)) => {
                    prop_assert_eq!(p.credits as i64 - before.credits as i64, credit_delta);
                    for kind in c.debris_kinds() {
                        let stated: i64 = item_deltas.iter().filter(|(k, _)| *k == kind.id).map(|(_, n)| n).sum();
                        prop_assert_eq!(items_total(&p, &kind.id) - items_total(&before, &kind.id), stated);
                    }
                    if let Op::Sell(k, _) | Op::Collect(k, _) = *op {
                        prop_assert!(c.kind_index(&kind_id(k)).is_some());
                    }
                }
                Err(_) => prop_assert_eq!(&p, &before),
            }
            prop_assert!(p.hold_used() <= u64::from(p.hold_capacity(c)));
            for id in UpgradeId::ALL {
                prop_assert!(p.upgrades.get(id) <= c.upgrade(id).max_level());
            }
        }
    }

    /// A trade moves credits, items and levels between the two players and
    /// conserves their totals; a refused trade changes neither.
    #[test]
    fn trades_conserve_totals(
        ops_a in proptest::collection::vec(op(), 0..30),
        ops_b in proptest::collection::vec(op(), 0..30),
        give_shape in bundle_shape(),
        want_shape in bundle_shape(),
    ) {
        let c = catalog();
        let mut a = player_from(&ops_a, 3000);
        let mut b = player_from(&ops_b, 3000);
        let give = bundle_from(&give_shape, &a);
        let want = bundle_from(&want_shape, &b);
        let (a0, b0) = (a.clone(), b.clone());
        match apply_trade(c, &mut a, &mut b, &give, &want) {
            Ok(()) => {
                prop_assert_eq!(a.credits + b.credits, a0.credits + b0.credits);
                prop_assert_eq!(a.credits, a0.credits - give.credits + want.credits);
                for kind in c.debris_kinds() {
                    prop_assert_eq!(
                        items_total(&a, &kind.id) + items_total(&b, &kind.id),
                        items_total(&a0, &kind.id) + items_total(&b0, &kind.id)
                    );
                }
                for id in UpgradeId::ALL {
                    prop_assert_eq!(a.upgrades.get(id) + b.upgrades.get(id), a0.upgrades.get(id) + b0.upgrades.get(id));
                    prop_assert!(a.upgrades.get(id) <= c.upgrade(id).max_level());
                    prop_assert!(b.upgrades.get(id) <= c.upgrade(id).max_level());
                }
                prop_assert!(a.hold_used() <= u64::from(a.hold_capacity(c)));
                prop_assert!(b.hold_used() <= u64::from(b.hold_capacity(c)));
                prop_assert_eq!(a.stats.trades_completed, a0.stats.trades_completed + 1);
            }
            Err(_) => {
                prop_assert_eq!(&a, &a0);
                prop_assert_eq!(&b, &b0);
            }
        }
    }

    /// The player state survives a JSON round trip unchanged.
    #[test]
    fn player_state_round_trips(ops in proptest::collection::vec(op(), 0..40)) {
        let p = player_from(&ops, 2500);
        let json = serde_json::to_string(&p).unwrap();
        prop_assert_eq!(serde_json::from_str::<PlayerState>(&json).unwrap(), p);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Whatever an honest client's simulation collects, with any upgrades
    /// and any steering, the server's verification accepts.
    #[test]
    fn honest_collections_always_verify(
        seed in any::<u64>(),
        zone in 1u8..=4,
        speed in 0u32..=5,
        magnet in 0u32..=3,
        reach in 0u32..=5,
        steering in proptest::collection::vec((any::<bool>(), any::<bool>(), any::<bool>(), 1u32..90), 4..40),
    ) {
        let c = catalog();
        let levels = UpgradeLevels::default()
            .with(UpgradeId::SpeedBoost, speed)
            .with(UpgradeId::CargoMagnet, magnet)
            .with(UpgradeId::CollectionEfficiency, reach)
            .with(UpgradeId::ZoneAccess, 3);
        let mut effects = ShipEffects::from_levels(c, &levels);
        effects.hold_capacity = 10_000;
        let mut sim = ZoneSim::new(c, zone, seed, effects, 0).unwrap();
        let mut claims = Vec::new();
        for (thrust, left, right, frames) in steering {
            let input = ShipInput { thrust, reverse: !thrust && left && right, turn_left: left, turn_right: right, collect: true };
            for _ in 0..frames {
                sim.tick(input);
            }
            for event in sim.drain_events() {
                if let SimEvent::Collected { index, at, .. } = event {
                    claims.push(CollectedPiece { index, at });
                }
            }
        }
        let mut accepted: Vec<CollectedPiece> = Vec::new();
        for batch in claims.chunks(64) {
            let context = RunContext {
                catalog: c,
                zone,
                seed,
                effects: &effects,
                already_accepted: &accepted,
                docks: &[],
                hold_free: 10_000,
                server_elapsed: sim.time(),
                ended: false,
            };
            let verdict = verify::judge_batch(&context, batch).unwrap();
            prop_assert!(verdict.rejected.is_empty(), "rejected {:?}", verdict.rejected);
            accepted.extend(verdict.accepted.iter().map(|p| CollectedPiece { index: p.index, at: p.at }));
        }
        prop_assert_eq!(accepted.len(), claims.len());
    }
}

/// A long run with the strongest magnet, fastest ship and widest arm,
/// sweeping the zone: every collection still passes verification.
#[test]
fn a_long_magnet_sweep_verifies() {
    let c = catalog();
    let levels = UpgradeLevels::default()
        .with(UpgradeId::SpeedBoost, 5)
        .with(UpgradeId::CargoMagnet, 3)
        .with(UpgradeId::CollectionEfficiency, 5);
    let mut effects = ShipEffects::from_levels(c, &levels);
    effects.hold_capacity = 100_000;
    let mut sim = ZoneSim::new(c, 1, 99, effects, 0).unwrap();
    let mut claims = Vec::new();
    let mut by_magnet = 0;
    for tick in 0..60 * 120u64 {
        let input = ShipInput {
            thrust: true,
            reverse: false,
            turn_left: false,
            turn_right: tick % 600 < 90,
            collect: true,
        };
        sim.tick(input);
        for event in sim.drain_events() {
            if let SimEvent::Collected {
                index,
                at,
                by_magnet: magnet,
                ..
            } = event
            {
                claims.push(CollectedPiece { index, at });
                by_magnet += usize::from(magnet);
            }
        }
    }
    assert!(claims.len() > 40, "only {} collected", claims.len());
    assert!(by_magnet > 20);
    let mut accepted: Vec<CollectedPiece> = Vec::new();
    for batch in claims.chunks(64) {
        let context = RunContext {
            catalog: c,
            zone: 1,
            seed: 99,
            effects: &effects,
            already_accepted: &accepted,
            docks: &[],
            hold_free: 100_000,
            server_elapsed: sim.time(),
            ended: false,
        };
        let verdict = verify::judge_batch(&context, batch).unwrap();
        assert!(
            verdict.rejected.is_empty(),
            "rejected {:?}",
            verdict.rejected
        );
        accepted.extend(verdict.accepted.iter().map(|p| CollectedPiece {
            index: p.index,
            at: p.at,
        }));
    }
    // And the same claims from a weaker ship (no magnet, base speed) are not
    // all plausible: the bound does bite.
    let weak = ShipEffects::from_levels(c, &UpgradeLevels::default());
    let context = RunContext {
        catalog: c,
        zone: 1,
        seed: 99,
        effects: &weak,
        already_accepted: &[],
        docks: &[],
        hold_free: 100_000,
        server_elapsed: sim.time(),
        ended: false,
    };
    let verdict = verify::judge_batch(&context, &claims[..64.min(claims.len())]).unwrap();
    assert!(!verdict.rejected.is_empty());
}

fn wrap(angle: f64) -> f64 {
    let tau = std::f64::consts::TAU;
    (angle + std::f64::consts::PI).rem_euclid(tau) - std::f64::consts::PI
}

/// Steers straight for `(x, y)`, collecting on the way.
fn steer_to(ship: &game::sim::ShipView, x: f64, y: f64) -> ShipInput {
    let (dx, dy) = (x - ship.x, y - ship.y);
    let error = wrap(dy.atan2(dx) - ship.heading);
    ShipInput {
        thrust: error.abs() < 0.6,
        reverse: false,
        turn_left: error < -0.05,
        turn_right: error > 0.05,
        collect: true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// An honest pilot that flies from hub to hub, collecting on the way and
    /// docking at each (the sale's dock claim is the `NearHub` moment), has
    /// every piece and every dock accepted, whichever order they are judged
    /// in; a dock claimed at another hub at the same moment is refused.
    #[test]
    fn honest_docks_always_verify(seed in any::<u64>(), zone in 1u8..=4, speed in 0u32..=5, order in proptest::collection::vec(0usize..2, 2..4)) {
        let c = catalog();
        let levels = UpgradeLevels::default().with(UpgradeId::SpeedBoost, speed).with(UpgradeId::ZoneAccess, 3);
        let mut effects = ShipEffects::from_levels(c, &levels);
        effects.hold_capacity = 10_000;
        let mut sim = ZoneSim::new(c, zone, seed, effects, 0).unwrap();
        let hubs = sim.hubs().to_vec();
        let mut claims = Vec::new();
        let mut docks = Vec::new();
        for target in order {
            let hub = &hubs[target % hubs.len()];
            for _ in 0..60 * 120 {
                let ship = sim.ship();
                sim.tick(steer_to(&ship, hub.x, hub.y));
                let mut arrived = false;
                for event in sim.drain_events() {
                    match event {
                        SimEvent::Collected { index, at, .. } => claims.push(CollectedPiece { index, at }),
                        SimEvent::NearHub { hub, at } => {
                            docks.push(verify::DockClaim { hub: hub as u32, at });
                            arrived = hub == target % hubs.len();
                        }
                        _ => {}
                    }
                }
                if arrived {
                    sim.stop_ship();
                    break;
                }
            }
        }
        prop_assert!(!docks.is_empty());
        let mut accepted: Vec<CollectedPiece> = Vec::new();
        let mut accepted_docks: Vec<verify::DockClaim> = Vec::new();
        // Docks first (a sale comes before the next collections are sent),
        // then the pieces against the docks.
        for dock in &docks {
            let context = RunContext { catalog: c, zone, seed, effects: &effects, already_accepted: &accepted, docks: &accepted_docks, hold_free: 10_000, server_elapsed: sim.time(), ended: false };
            prop_assert_eq!(verify::judge_dock(&context, *dock), Ok(()));
            accepted_docks.push(*dock);
        }
        for batch in claims.chunks(64) {
            let context = RunContext { catalog: c, zone, seed, effects: &effects, already_accepted: &accepted, docks: &accepted_docks, hold_free: 10_000, server_elapsed: sim.time(), ended: false };
            let verdict = verify::judge_batch(&context, batch).unwrap();
            prop_assert!(verdict.rejected.is_empty(), "rejected {:?}", verdict.rejected);
            accepted.extend(verdict.accepted.iter().map(|p| CollectedPiece { index: p.index, at: p.at }));
        }
        // A claim of the other hub at the first dock's moment is a teleport.
        let first = docks[0];
        let elsewhere = verify::DockClaim { hub: (first.hub + 1) % hubs.len() as u32, at: first.at };
        let context = RunContext { catalog: c, zone, seed, effects: &effects, already_accepted: &accepted, docks: &accepted_docks, hold_free: 10_000, server_elapsed: sim.time(), ended: false };
        prop_assert_eq!(verify::judge_dock(&context, elsewhere), Err(verify::DockRefusal::Implausible));
    }
}
