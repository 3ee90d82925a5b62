//! The debris field of a zone run as a pure function of `(zone, seed, index)`.
//!
//! Both the simulation (which materialises pieces into its arrays) and the
//! server's verification (which recomputes one piece) call this module, so
//! they cannot disagree on what piece `i` is, when it appears or where it is.
//!
//! **Randomness.** Piece `i` is drawn from ChaCha8 stream `i` of a key made
//! from the seed and the zone id; every number is derived with integer
//! arithmetic or [`crate::detmath`], so the field is bit-identical on every
//! machine and does not change with `rand` distribution updates.
//!
//! **Fixed point.** Positions are `i32` in 1/65536 px ([`FIXED_ONE`]) and
//! velocities are fixed-point px *per tick* of [`TICK_RATE`] Hz. Drift is an
//! integer add plus a wrap, so the simulation's running position and the
//! closed form `p0 + v·(tick - spawn_tick)` (mod the zone size) here are
//! exactly equal — the server recomputes the client's positions to the bit.
//!
//! **Spawn schedule (the rule the server can check).** Indices
//! `0..initial` exist at t = 0. After that a *spawn slot* comes every
//! `spawn_interval` (0.5 s): slot `k = 1, 2, ...` at tick `k·interval_ticks`
//! owns index `initial + k - 1`. At its slot the simulation materialises that
//! index if fewer than `max` pieces are alive (in the field, not yet
//! collected); otherwise the index is skipped for good and the next slot
//! owns the next index. So the spawn time of an index depends only on the
//! zone and the index ([`FieldRules::spawn_tick`]), never on collections;
//! the server, which cannot know exactly how many pieces the client had
//! alive, accepts any index whose slot time is <= the claimed time (a
//! skipped index is one the client never showed, so an honest client never
//! claims it).
//!
//! No I/O, no clocks, no Godot.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::catalog::{Catalog, Credits, KindIndex, WeightTable, ZoneId};
use crate::detmath;

/// Number of a debris piece within a run, in spawn order.
pub type DebrisIndex = u32;

/// Simulation ticks per second. Every time on the wire is `tick / TICK_RATE`.
pub const TICK_RATE: u32 = 60;
/// Seconds per tick.
pub const TICK_SECONDS: f64 = 1.0 / TICK_RATE as f64;
/// Bits after the binary point of fixed-point positions.
pub const FIXED_SHIFT: u32 = 16;
/// One pixel in fixed point.
pub const FIXED_ONE: i32 = 1 << FIXED_SHIFT;
/// Pixels per fixed-point unit.
pub const PX_PER_FIXED: f64 = 1.0 / FIXED_ONE as f64;
/// Fastest drift of a piece, px/s.
pub const MAX_DRIFT_SPEED: f64 = 20.0;
/// Fastest spin of a piece, rad/s (visual only).
pub const MAX_SPIN: f32 = 2.0;

/// Domain tag mixed into the ChaCha key so other uses of the same seed (if
/// any ever appear) draw different numbers.
const KEY_TAG: &[u8; 16] = b"cots-debris-v1\0\0";

/// Converts pixels to fixed point (rounded to nearest).
pub fn px_to_fixed(px: f64) -> i64 {
    (px * f64::from(FIXED_ONE)).round() as i64
}

/// Converts fixed point to pixels.
pub fn fixed_to_px(fixed: i64) -> f64 {
    fixed as f64 * PX_PER_FIXED
}

/// Tick nearest to a time in seconds (negative and NaN give 0).
pub fn seconds_to_tick(seconds: f64) -> u64 {
    let tick = (seconds * f64::from(TICK_RATE)).round();
    if tick.is_nan() || tick <= 0.0 {
        0
    } else if tick >= u64::MAX as f64 {
        u64::MAX
    } else {
        tick as u64
    }
}

/// Seconds at a tick.
pub fn tick_to_seconds(tick: u64) -> f64 {
    tick as f64 / f64::from(TICK_RATE)
}

/// Everything about one piece that never changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DebrisSpec {
    pub index: DebrisIndex,
    pub kind: KindIndex,
    /// Tick at which its spawn slot comes.
    pub spawn_tick: u64,
    /// Position at `spawn_tick`, fixed point, inside `[-half, half)`.
    pub spawn_x: i32,
    pub spawn_y: i32,
    /// Drift per tick, fixed point.
    pub velocity_x: i32,
    pub velocity_y: i32,
    /// Rotation at spawn (rad) and spin (rad/s); only for drawing.
    pub rotation: f32,
    pub spin: f32,
}

/// Why a zone's field could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("unknown zone {0}")]
    UnknownZone(ZoneId),
    #[error("max debris must be > 0 and at least the initial count ({initial} > {max})")]
    BadCounts { initial: u32, max: u32 },
}

/// The numbers that decide a zone's field, resolved once per run.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRules {
    pub zone: ZoneId,
    pub seed: u64,
    /// Side of the zone, fixed point (even).
    pub size_fixed: i64,
    /// Half the side; positions live in `[-half_fixed, half_fixed)`.
    pub half_fixed: i32,
    pub initial: u32,
    pub max_alive: u32,
    /// Ticks between spawn slots (>= 1).
    pub spawn_interval_ticks: u64,
    weights: WeightTable,
    values: Vec<Credits>,
    key: [u8; 32],
}

impl FieldRules {
    /// The field of `zone` for `seed`, with the zone's own counts.
    pub fn new(catalog: &Catalog, zone: ZoneId, seed: u64) -> Result<FieldRules, FieldError> {
        let def = catalog.zone(zone).ok_or(FieldError::UnknownZone(zone))?;
        let weights = catalog
            .weight_table(zone)
            .ok_or(FieldError::UnknownZone(zone))?
            .clone();
        // Rounded to an even number so the zone is symmetric about 0.
        let size_fixed = (px_to_fixed(def.size) / 2) * 2;
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8] = zone;
        key[16..].copy_from_slice(KEY_TAG);
        Ok(FieldRules {
            zone,
            seed,
            size_fixed,
            half_fixed: (size_fixed / 2) as i32,
            initial: def.initial_debris,
            max_alive: def.max_debris,
            spawn_interval_ticks: seconds_to_tick(def.spawn_interval).max(1),
            weights,
            values: catalog
                .debris_kinds()
                .iter()
                .map(|kind| kind.value)
                .collect(),
            key,
        })
    }

    /// Same field with other counts (benchmarks, tests). The server always
    /// uses the catalog's counts.
    pub fn with_counts(mut self, initial: u32, max_alive: u32) -> Result<FieldRules, FieldError> {
        if max_alive == 0 || initial > max_alive {
            return Err(FieldError::BadCounts {
                initial,
                max: max_alive,
            });
        }
        self.initial = initial;
        self.max_alive = max_alive;
        Ok(self)
    }

    /// Half the zone side in px.
    pub fn half_size_px(&self) -> f64 {
        f64::from(self.half_fixed) * PX_PER_FIXED
    }

    /// Tick of the spawn slot that owns `index` (0 for the initial pieces).
    pub fn spawn_tick(&self, index: DebrisIndex) -> u64 {
        if index < self.initial {
            0
        } else {
            (u64::from(index - self.initial) + 1) * self.spawn_interval_ticks
        }
    }

    /// The index owned by the spawn slot at `tick`, if a slot comes then.
    pub fn slot_index_at(&self, tick: u64) -> Option<DebrisIndex> {
        if tick == 0 || !tick.is_multiple_of(self.spawn_interval_ticks) {
            return None;
        }
        let slot = tick / self.spawn_interval_ticks;
        DebrisIndex::try_from(u64::from(self.initial) + slot - 1).ok()
    }

    /// Value in credits of a kind.
    pub fn value_of(&self, kind: KindIndex) -> Credits {
        self.values.get(usize::from(kind.0)).copied().unwrap_or(0)
    }

    /// Draws piece `index`. Pure: same rules and index, same piece.
    pub fn spec(&self, index: DebrisIndex) -> DebrisSpec {
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_stream(u64::from(index));

        // Kind: a 64-bit roll scaled to the weight total (bias < 2^-50).
        let roll = ((u128::from(rng.next_u64()) * u128::from(self.weights.total())) >> 64) as u64;
        let kind = self.weights.pick(roll);

        let size = self.size_fixed as u64;
        let coordinate =
            |word: u32| ((u64::from(word) * size) >> 32) as i64 - i64::from(self.half_fixed);
        let spawn_x = coordinate(rng.next_u32()) as i32;
        let spawn_y = coordinate(rng.next_u32()) as i32;

        let unit = |word: u32| f64::from(word) / 4_294_967_296.0;
        let speed_px_per_tick = MAX_DRIFT_SPEED * unit(rng.next_u32()) * TICK_SECONDS;
        let heading = std::f64::consts::TAU * unit(rng.next_u32());
        let (sin, cos) = detmath::sin_cos(heading);
        let velocity_x = (speed_px_per_tick * cos * f64::from(FIXED_ONE)).round() as i32;
        let velocity_y = (speed_px_per_tick * sin * f64::from(FIXED_ONE)).round() as i32;

        let spin = ((unit(rng.next_u32()) * 2.0 - 1.0) * f64::from(MAX_SPIN)) as f32;
        let rotation = (std::f64::consts::TAU * unit(rng.next_u32())) as f32;

        DebrisSpec {
            index,
            kind,
            spawn_tick: self.spawn_tick(index),
            spawn_x,
            spawn_y,
            velocity_x,
            velocity_y,
            rotation,
            spin,
        }
    }

    /// Wraps a fixed-point coordinate into `[-half, half)`.
    pub fn wrap_fixed(&self, coordinate: i64) -> i32 {
        let half = i64::from(self.half_fixed);
        ((coordinate + half).rem_euclid(self.size_fixed) - half) as i32
    }

    /// Where an undisturbed piece is at `tick` (fixed point), or `None` before
    /// its spawn slot. Exactly what the simulation's drift computes.
    pub fn position_at_tick(&self, spec: &DebrisSpec, tick: u64) -> Option<(i32, i32)> {
        let elapsed = tick.checked_sub(spec.spawn_tick)?;
        // i128: elapsed can be anything a client sends.
        let advance = |start: i32, velocity: i32| {
            let raw = i128::from(start) + i128::from(velocity) * i128::from(elapsed);
            let half = i128::from(self.half_fixed);
            ((raw + half).rem_euclid(i128::from(self.size_fixed)) - half) as i32
        };
        Some((
            advance(spec.spawn_x, spec.velocity_x),
            advance(spec.spawn_y, spec.velocity_y),
        ))
    }

    /// Position in px at `tick`, or `None` before its spawn slot.
    pub fn position_px_at_tick(&self, spec: &DebrisSpec, tick: u64) -> Option<(f64, f64)> {
        self.position_at_tick(spec, tick)
            .map(|(x, y)| (f64::from(x) * PX_PER_FIXED, f64::from(y) * PX_PER_FIXED))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(zone: ZoneId, seed: u64) -> FieldRules {
        FieldRules::new(Catalog::shipped(), zone, seed).unwrap()
    }

    #[test]
    fn same_seed_same_piece_and_different_seed_differs() {
        let a = rules(1, 42);
        assert_eq!(a.spec(17), rules(1, 42).spec(17));
        assert_ne!(a.spec(17), rules(1, 43).spec(17));
        assert_ne!(a.spec(17), rules(2, 42).spec(17));
        assert_ne!(a.spec(17), a.spec(18));
    }

    #[test]
    fn pieces_follow_the_field_rules() {
        let r = rules(3, 7);
        let max_velocity = (MAX_DRIFT_SPEED * TICK_SECONDS * f64::from(FIXED_ONE)).ceil() as i64;
        for i in 0..2000 {
            let s = r.spec(i);
            assert!((-r.half_fixed..r.half_fixed).contains(&s.spawn_x));
            assert!((-r.half_fixed..r.half_fixed).contains(&s.spawn_y));
            let speed_sq = i64::from(s.velocity_x).pow(2) + i64::from(s.velocity_y).pow(2);
            assert!(speed_sq <= (max_velocity + 1).pow(2), "{s:?}");
            assert!(s.spin.abs() <= MAX_SPIN);
            assert!(
                Catalog::shipped().zone(3).unwrap().weights
                    [&Catalog::shipped().kind(s.kind).unwrap().id]
                    > 0
            );
        }
    }

    #[test]
    fn kinds_follow_zone_weights() {
        let c = Catalog::shipped();
        let r = rules(1, 99);
        let n = 20_000;
        let scrap = c.kind_index("scrap_metal").unwrap();
        let count = (0..n).filter(|&i| r.spec(i).kind == scrap).count();
        // Weight 50 of 100: expect 10_000 +- a few standard deviations (~71).
        assert!((9_600..10_400).contains(&count), "{count}");
        assert_eq!(r.value_of(scrap), 5);
    }

    #[test]
    fn spawn_schedule() {
        let r = rules(1, 1);
        assert_eq!(r.spawn_interval_ticks, 30);
        assert_eq!(r.spawn_tick(0), 0);
        assert_eq!(r.spawn_tick(399), 0);
        assert_eq!(r.spawn_tick(400), 30);
        assert_eq!(r.spawn_tick(401), 60);
        assert_eq!(r.slot_index_at(0), None);
        assert_eq!(r.slot_index_at(29), None);
        assert_eq!(r.slot_index_at(30), Some(400));
        assert_eq!(r.slot_index_at(60), Some(401));
        for i in 400..500 {
            assert_eq!(r.slot_index_at(r.spawn_tick(i)), Some(i));
        }
    }

    #[test]
    fn closed_form_equals_stepping() {
        let r = rules(1, 5);
        for i in [0, 1, 2, 3, 450] {
            let s = r.spec(i);
            let (mut x, mut y) = (s.spawn_x, s.spawn_y);
            let half = r.half_fixed;
            let size = r.size_fixed as i32;
            for tick in s.spawn_tick..s.spawn_tick + 20_000 {
                assert_eq!(
                    r.position_at_tick(&s, tick),
                    Some((x, y)),
                    "piece {i} tick {tick}"
                );
                x += s.velocity_x;
                y += s.velocity_y;
                if x >= half {
                    x -= size
                } else if x < -half {
                    x += size
                }
                if y >= half {
                    y -= size
                } else if y < -half {
                    y += size
                }
            }
            if s.spawn_tick > 0 {
                assert_eq!(r.position_at_tick(&s, s.spawn_tick - 1), None);
            }
        }
    }

    #[test]
    fn far_future_positions_do_not_overflow() {
        let r = rules(4, u64::MAX);
        let s = r.spec(3);
        let (x, y) = r.position_at_tick(&s, u64::MAX).unwrap();
        assert!((-r.half_fixed..r.half_fixed).contains(&x));
        assert!((-r.half_fixed..r.half_fixed).contains(&y));
    }

    #[test]
    fn count_overrides_are_checked() {
        assert!(rules(1, 0).with_counts(10, 5).is_err());
        assert!(rules(1, 0).with_counts(0, 0).is_err());
        assert_eq!(
            rules(1, 0)
                .with_counts(1_000_000, 1_000_000)
                .unwrap()
                .initial,
            1_000_000
        );
        assert_eq!(
            FieldRules::new(Catalog::shipped(), 9, 0),
            Err(FieldError::UnknownZone(9))
        );
    }

    #[test]
    fn time_conversions() {
        assert_eq!(seconds_to_tick(3.25), 195);
        assert_eq!(seconds_to_tick(tick_to_seconds(123_456)), 123_456);
        assert_eq!(seconds_to_tick(-1.0), 0);
        assert_eq!(seconds_to_tick(f64::NAN), 0);
        assert_eq!(seconds_to_tick(f64::INFINITY), u64::MAX);
    }
}
