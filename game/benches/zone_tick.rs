//! Cost of one simulation tick of a zone run at 1k, 10k, 100k and 1M debris.
//!
//! Each tick includes everything the game does: drift of every piece, the
//! spawn slot, grid upkeep (amortised rebuilds), ship physics, a manual
//! collection query every tick (E held), the cargo magnet (level 3) pulses
//! and pulls, and hub checks. The ship flies circles through the densest
//! zone (zone 1, 6000 px) with an unlimited hold, so queries find and take
//! pieces. Sims are rebuilt every 600 ticks outside the timing so the field
//! does not thin out.
//!
//! Besides criterion's report, prints `ns/debris/tick` per size, and the
//! cost of the drift loop and of one grid rebuild alone.
//!
//! Measured on the 2-core dev machine (load average ~4 from other builds),
//! release profile, criterion median:
//!
//! | debris | per tick | ns/debris/tick |
//! |---|---|---|
//! | 1,000 | 1.3 us | 1.3 |
//! | 10,000 | 6.0 us | 0.60 |
//! | 100,000 | 54 us | 0.54 |
//! | 1,000,000 | 763 us | 0.76 |
//!
//! Of that, the drift loop is ~0.31 ns/debris (0.42 at 1M, memory bound) and
//! the grid rebuild ~3.8 ns/debris every 30 ticks (~0.13 amortised); the
//! collection queries are a few microseconds whatever the size.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use game::catalog::{Catalog, UpgradeId};
use game::debris::FieldRules;
use game::economy::{ShipEffects, UpgradeLevels};
use game::sim::field::DebrisField;
use game::sim::grid::SpatialGrid;
use game::sim::{ShipInput, SimOptions, ZoneSim};

const SIZES: [u32; 4] = [1_000, 10_000, 100_000, 1_000_000];
const TICKS_PER_SIM: u64 = 600;

fn effects() -> ShipEffects {
    let catalog = Catalog::shipped();
    let levels = UpgradeLevels::default()
        .with(UpgradeId::CargoMagnet, 3)
        .with(UpgradeId::CollectionEfficiency, 5)
        .with(UpgradeId::SpeedBoost, 5);
    let mut effects = ShipEffects::from_levels(catalog, &levels);
    effects.hold_capacity = u32::MAX;
    effects
}

fn new_sim(debris: u32) -> ZoneSim {
    let options = SimOptions {
        debris_counts: Some((debris, debris)),
        ..SimOptions::default()
    };
    ZoneSim::with_options(Catalog::shipped(), 1, 0xC0FFEE, effects(), 0, options)
        .expect("bench sim")
}

fn input(tick: u64) -> ShipInput {
    ShipInput {
        thrust: true,
        reverse: false,
        turn_left: false,
        turn_right: tick % 240 < 60,
        collect: true,
    }
}

/// Runs `ticks` ticks on fresh sims (rebuilt every TICKS_PER_SIM, untimed).
fn timed_ticks(debris: u32, ticks: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < ticks {
        let mut sim = new_sim(debris);
        let batch = (ticks - done).min(TICKS_PER_SIM);
        let start = Instant::now();
        for t in 0..batch {
            sim.tick(input(t));
        }
        total += start.elapsed();
        black_box(sim.drain_events());
        done += batch;
    }
    total
}

fn zone_tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("zone_tick");
    for debris in SIZES {
        group.throughput(Throughput::Elements(u64::from(debris)));
        if debris >= 100_000 {
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(4));
        } else {
            group.sample_size(30);
            group.measurement_time(Duration::from_secs(2));
        }
        group.bench_function(format!("{debris}"), |b| {
            b.iter_custom(|iters| timed_ticks(debris, iters))
        });
    }
    group.finish();
}

fn summary(_: &mut Criterion) {
    println!("\nns per debris per tick (full tick, incl. collection queries and magnet):");
    for debris in SIZES {
        let ticks = if debris >= 1_000_000 { 600 } else { 1_800 };
        let elapsed = timed_ticks(debris, ticks);
        let per_tick = elapsed.as_nanos() as f64 / ticks as f64;
        println!(
            "  {debris:>9} debris: {:>10.1} us/tick  {:.3} ns/debris/tick",
            per_tick / 1_000.0,
            per_tick / f64::from(debris)
        );
    }

    println!("\ncomponents at each size:");
    let catalog = Catalog::shipped();
    for debris in SIZES {
        let rules = FieldRules::new(catalog, 1, 7)
            .unwrap()
            .with_counts(debris, debris)
            .unwrap();
        let mut field = DebrisField::new(&rules);
        for i in 0..debris {
            field.push(&rules.spec(i));
        }
        let rounds = (20_000_000 / debris).clamp(10, 2_000);
        let start = Instant::now();
        for _ in 0..rounds {
            field.drift();
            black_box(&field.x);
        }
        let drift = start.elapsed().as_nanos() as f64 / f64::from(rounds);
        let mut grid = SpatialGrid::new(rules.half_fixed, rules.size_fixed as i32);
        let rebuild_rounds = rounds.div_ceil(10);
        let start = Instant::now();
        for round in 0..rebuild_rounds {
            grid.rebuild(&field, u64::from(round));
            black_box(&grid);
        }
        let rebuild = start.elapsed().as_nanos() as f64 / f64::from(rebuild_rounds);
        println!(
            "  {debris:>9} debris: drift {:.3} ns/debris, grid rebuild {:.2} ns/debris ({:.3} ns/debris/tick amortised over 30 ticks)",
            drift / f64::from(debris),
            rebuild / f64::from(debris),
            rebuild / f64::from(debris) / 30.0
        );
    }
}

criterion_group!(benches, zone_tick, summary);
criterion_main!(benches);
