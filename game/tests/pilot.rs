//! A scripted pilot plays one whole loop through the public API only, the
//! way the Godot client and the backend will: fly to debris, collect until
//! the hold is full, have the server judge the claims, fly to a hub, sell,
//! buy upgrades, and see the station AI react.

use game::api::{CollectedPiece, MAX_COLLECT_BATCH, Player, SellOrder, SellRequest};
use game::catalog::{Catalog, UpgradeId};
use game::detmath::wrap_angle;
use game::economy::PlayerState;
use game::milestones::{self, MilestoneEvent};
use game::sim::{ShipInput, ShipView, SimEvent, ZoneSim};
use game::verify::{self, RunContext};

const FRAME: f64 = 1.0 / 60.0;

/// Steers towards `(x, y)`; collection held all the time.
fn steer(ship: &ShipView, x: f64, y: f64) -> ShipInput {
    let (dx, dy) = (x - ship.x, y - ship.y);
    let distance = dx.hypot(dy);
    let error = wrap_angle(dy.atan2(dx) - ship.heading);
    ShipInput {
        thrust: error.abs() < 0.6 && !(distance < 150.0 && ship.speed > 120.0),
        // Brake when the target is close but off the nose, so we do not orbit it.
        reverse: distance < 250.0 && error.abs() > 0.4 && ship.speed > 40.0,
        turn_left: error < -0.05,
        turn_right: error > 0.05,
        collect: true,
    }
}

#[test]
fn scripted_pilot_collects_sells_and_upgrades() {
    let catalog = Catalog::shipped();
    let mut player = PlayerState::new_player(catalog);
    let mut unlocked: Vec<String> = Vec::new();
    let seed = 0x5EED_0001_u64;

    player
        .check_zone_access(catalog, 1)
        .expect("zone 1 is open to new players");
    assert!(player.check_zone_access(catalog, 2).is_err());
    let mut sim = ZoneSim::new(
        catalog,
        1,
        seed,
        player.effects(catalog),
        player.hold_used(),
    )
    .unwrap();

    // --- Fly and collect until the hold is full. ---
    let mut claims: Vec<CollectedPiece> = Vec::new();
    let mut hold_full_seen = false;
    let mut nearby = Vec::new();
    let mut frames = 0;
    while !hold_full_seen {
        frames += 1;
        assert!(
            frames < 60 * 600,
            "pilot did not fill the hold in 10 minutes"
        );
        let ship = sim.ship();
        sim.debris_within(ship.x, ship.y, 2500.0, &mut nearby);
        let input = match nearby.first() {
            Some(target) => steer(&ship, f64::from(target.x), f64::from(target.y)),
            None => steer(&ship, 0.0, 0.0),
        };
        sim.step(FRAME, input);
        for event in sim.drain_events() {
            match event {
                SimEvent::Collected {
                    index,
                    at,
                    value,
                    kind,
                    ..
                } => {
                    assert_eq!(value, catalog.kind(kind).unwrap().value);
                    claims.push(CollectedPiece { index, at });
                }
                SimEvent::HoldFull { .. } => hold_full_seen = true,
                _ => {}
            }
        }
    }
    let capacity = player.hold_capacity(catalog) as usize;
    assert_eq!(claims.len(), capacity);
    assert_eq!(sim.hold(), (capacity as u64, capacity as u64));

    // --- The server judges the claims in batches and updates the player. ---
    let mut accepted: Vec<CollectedPiece> = Vec::new();
    let server_elapsed = sim.time() + 0.2;
    for batch in claims.chunks(MAX_COLLECT_BATCH.min(4)) {
        let effects = player.effects(catalog);
        let context = RunContext {
            catalog,
            zone: 1,
            seed,
            effects: &effects,
            already_accepted: &accepted,
            docks: &[],
            hold_free: u64::from(player.hold_capacity(catalog)) - player.hold_used(),
            server_elapsed,
            ended: false,
        };
        let verdict = verify::judge_batch(&context, batch).unwrap();
        assert!(
            verdict.rejected.is_empty(),
            "honest claims rejected: {:?}",
            verdict.rejected
        );
        for piece in &verdict.accepted {
            let before = player.clone();
            let kind = catalog.kind(piece.kind).unwrap().id.clone();
            player.collect(catalog, &kind, 1).unwrap();
            accepted.push(CollectedPiece {
                index: piece.index,
                at: piece.at,
            });
            let event = MilestoneEvent::Collected {
                kinds: vec![piece.kind],
            };
            for message in milestones::newly_unlocked(catalog, &event, &before, &player, |id| {
                unlocked.iter().any(|u| u == id)
            }) {
                unlocked.push(message.id.clone());
            }
        }
    }
    assert_eq!(player.hold_used(), capacity as u64);
    assert!(unlocked.contains(&"first_collection".to_owned()));
    assert!(unlocked.contains(&"debris_10".to_owned()));
    // A replayed batch is refused piece by piece.
    let effects = player.effects(catalog);
    let replay = verify::judge_batch(
        &RunContext {
            catalog,
            zone: 1,
            seed,
            effects: &effects,
            already_accepted: &accepted,
            docks: &[],
            hold_free: 100,
            server_elapsed,
            ended: false,
        },
        &claims[..1],
    )
    .unwrap();
    assert_eq!(
        replay.rejected[0].code,
        game::api::RejectCode::AlreadyCollected
    );

    // --- Fly to the nearest hub. ---
    let hub_index = (0..sim.hubs().len())
        .min_by(|&a, &b| {
            let ship = sim.ship();
            let d = |i: usize| (sim.hubs()[i].x - ship.x).hypot(sim.hubs()[i].y - ship.y);
            d(a).total_cmp(&d(b))
        })
        .unwrap();
    let hub = sim.hubs()[hub_index].clone();
    let mut arrived = false;
    for _ in 0..60 * 300 {
        let ship = sim.ship();
        sim.step(
            FRAME,
            ShipInput {
                collect: false,
                ..steer(&ship, hub.x, hub.y)
            },
        );
        if sim
            .drain_events()
            .iter()
            .any(|e| matches!(e, SimEvent::NearHub { hub, .. } if *hub == hub_index))
        {
            arrived = true;
            break;
        }
    }
    assert!(arrived, "pilot never reached hub {}", hub.name);
    sim.stop_ship();
    assert_eq!(sim.ship().near_hub, Some(hub_index));

    // --- The dock claim the client sends with its sale: the server places
    // the ship at that hub then, with the same rules. ---
    let dock = verify::DockClaim {
        hub: hub_index as u32,
        at: sim.time(),
    };
    let dock_context = RunContext {
        catalog,
        zone: 1,
        seed,
        effects: &effects,
        already_accepted: &accepted,
        docks: &[],
        hold_free: 0,
        server_elapsed: sim.time(),
        ended: false,
    };
    assert_eq!(verify::judge_dock(&dock_context, dock), Ok(()));
    // The other hub, at the same moment, is a teleport.
    let other = verify::DockClaim {
        hub: ((hub_index + 1) % sim.hubs().len()) as u32,
        at: sim.time(),
    };
    assert_eq!(
        verify::judge_dock(&dock_context, other),
        Err(verify::DockRefusal::Implausible)
    );

    // --- Sell everything (the request the client sends, as the server parses it). ---
    let request: SellRequest = serde_json::from_str(r#"{"all":true}"#).unwrap();
    assert_eq!(request.order().unwrap(), SellOrder::All);
    let credits_before = player.credits;
    let before = player.clone();
    let receipt = player.sell_all(catalog).unwrap();
    let expected: u64 = accepted
        .iter()
        .map(|piece| {
            verify::debris_at(catalog, 1, seed, piece.index, piece.at)
                .unwrap()
                .value
        })
        .sum();
    assert_eq!(receipt.credits_gained, expected);
    assert_eq!(player.credits, credits_before + expected);
    assert_eq!(player.hold_used(), 0);
    sim.set_hold_used(player.hold_used());
    for message in
        milestones::newly_unlocked(catalog, &MilestoneEvent::Sold, &before, &player, |id| {
            unlocked.iter().any(|u| u == id)
        })
    {
        unlocked.push(message.id.clone());
    }
    assert!(unlocked.contains(&"first_sale".to_owned()));

    // --- Buy whatever upgrades we can afford, cheapest first. ---
    let mut bought = 0;
    loop {
        let affordable = UpgradeId::ALL
            .into_iter()
            .filter_map(|id| {
                player
                    .next_upgrade_cost(catalog, id)
                    .ok()
                    .map(|cost| (cost, id))
            })
            .filter(|&(cost, _)| cost <= player.credits)
            .min();
        let Some((cost, id)) = affordable else { break };
        let before = player.clone();
        let receipt = player.purchase(catalog, id).unwrap();
        assert_eq!(receipt.cost, cost);
        assert_eq!(player.credits, before.credits - cost);
        sim.set_effects(player.effects(catalog));
        let event = MilestoneEvent::UpgradePurchased { upgrade: id };
        for message in milestones::newly_unlocked(catalog, &event, &before, &player, |m| {
            unlocked.iter().any(|u| u == m)
        }) {
            unlocked.push(message.id.clone());
        }
        bought += 1;
    }
    assert!(
        bought >= 1,
        "ten pieces of zone 1 debris buy at least one upgrade"
    );
    assert!(unlocked.contains(&"first_upgrade".to_owned()));
    assert_eq!(sim.effects(), &player.effects(catalog));

    // The wire view the backend sends back agrees with the state.
    let wire = Player::from_state(catalog, "pilot", &player, 1);
    assert_eq!(wire.credits, player.credits);
    assert_eq!(wire.hold.used, 0);
    assert_eq!(wire.stats.debris_collected, capacity as u64);
    let json = serde_json::to_string(&wire).unwrap();
    assert_eq!(serde_json::from_str::<Player>(&json).unwrap(), wire);
}
