//! What the server needs to judge a collection claim: recompute debris `i`
//! of a run, decide whether it could exist at the claimed time, and bound
//! whether a ship with the player's upgrades could have been there.
//!
//! The rules are those of [`crate::debris`] (spawn schedule, fixed-point
//! drift) and [`crate::sim`] (ship speed, collection range, magnet), so an
//! honest client running `ZoneSim` never fails them. The bound is generous on
//! purpose: it ignores acceleration and turning (max speed in a straight
//! line), adds the collection reach and the magnet's reach and pull time on
//! both ends, and allows for the soft wall's push-back. It catches teleports
//! and speed hacks, not small optimisations.
//!
//! Pure functions: the caller supplies the run's seed, the pieces it already
//! accepted and its own clock reading. No I/O, no clock, no Godot.

use serde::{Deserialize, Serialize};

use crate::api::{CollectedPiece, RejectCode, RejectedPiece};
use crate::catalog::{Catalog, Credits, KindIndex, ZoneId};
pub use crate::debris::DebrisIndex;
use crate::debris::{self, FieldError, FieldRules, MAX_DRIFT_SPEED, TICK_SECONDS};
use crate::economy::ShipEffects;

/// How far the client's run clock may be ahead of the server's, s. The
/// client starts its clock after the start-run answer arrives, so honest
/// clocks are behind; this only absorbs frame-time jitter.
pub const CLOCK_TOLERANCE_SECONDS: f64 = 2.0;
/// The client's offline horizon, s: how long a run may go on without the
/// station (the client keeps flying and queueing claims offline). The
/// server ends a run at the latest this long after its start; its claims
/// and docks count only up to then.
pub const RUN_HORIZON_SECONDS: f64 = 12.0 * 3600.0;

/// A run's clock as the server sees it: one ship, one clock. A player has at
/// most one active run; starting one ends the previous one, and a run ends
/// by itself when [`RUN_HORIZON_SECONDS`] have passed. Claims of an ended run
/// count only up to its end, with no clock tolerance, so two runs' times
/// never overlap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunClock {
    /// Seconds of the run so far (of the whole run, once it has ended).
    pub elapsed: f64,
    /// The run is over: `elapsed` is a hard limit.
    pub ended: bool,
}

impl RunClock {
    /// The clock of a run that started at `started_at_ms` (server time, ms),
    /// was ended at `ended_at_ms` if it was, read at `now_ms`.
    pub fn at(started_at_ms: i64, ended_at_ms: Option<i64>, now_ms: i64) -> RunClock {
        let horizon_end = started_at_ms.saturating_add(Self::horizon_ms());
        let end = ended_at_ms.map_or(horizon_end, |ended| ended.min(horizon_end));
        let ended = now_ms >= end;
        let until = if ended { end } else { now_ms };
        RunClock {
            elapsed: (until - started_at_ms).max(0) as f64 / 1000.0,
            ended,
        }
    }

    /// [`RUN_HORIZON_SECONDS`] in ms: a run ends at the latest this long
    /// after its start.
    pub fn horizon_ms() -> i64 {
        (RUN_HORIZON_SECONDS * 1000.0) as i64
    }

    /// The latest run-clock time a claim may name now.
    pub fn limit(&self) -> f64 {
        if self.ended {
            self.elapsed
        } else {
            self.elapsed + CLOCK_TOLERANCE_SECONDS
        }
    }
}

/// Extra px added to every reach, for rounding and a tick of latency.
pub const POSITION_TOLERANCE_PX: f64 = 8.0;
/// Ticks between a magnet grab and the first possible collection check,
/// beyond the pull itself.
const MAGNET_EXTRA_TICKS: f64 = 3.0;

/// Why a piece could not be recomputed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("debris {index} does not exist before {spawn_time} s (asked for {at} s)")]
    NotSpawned {
        index: DebrisIndex,
        spawn_time: f64,
        at: f64,
    },
    #[error("time {0} is not a finite, non-negative number of seconds")]
    InvalidTime(f64),
}

/// Debris `index` of a run as it is at time `at` (undisturbed by a magnet).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DebrisAt {
    pub index: DebrisIndex,
    pub kind: KindIndex,
    pub value: Credits,
    /// Seconds after the run start when its spawn slot came.
    pub spawn_time: f64,
    /// Position at `at`, px.
    pub x: f64,
    pub y: f64,
}

/// Seconds after the run start when `index` spawns (if the field had room).
pub fn spawn_time(catalog: &Catalog, zone: ZoneId, index: DebrisIndex) -> Result<f64, VerifyError> {
    let rules = FieldRules::new(catalog, zone, 0)?;
    Ok(debris::tick_to_seconds(rules.spawn_tick(index)))
}

/// Recomputes debris `index` of the run `(zone, seed)` at time `at`.
pub fn debris_at(
    catalog: &Catalog,
    zone: ZoneId,
    seed: u64,
    index: DebrisIndex,
    at: f64,
) -> Result<DebrisAt, VerifyError> {
    let rules = FieldRules::new(catalog, zone, seed)?;
    debris_at_with(&rules, index, at)
}

/// [`debris_at`] with rules already resolved (saves the catalog lookups when
/// judging a batch).
pub fn debris_at_with(
    rules: &FieldRules,
    index: DebrisIndex,
    at: f64,
) -> Result<DebrisAt, VerifyError> {
    if !at.is_finite() || at < 0.0 {
        return Err(VerifyError::InvalidTime(at));
    }
    let spec = rules.spec(index);
    let tick = debris::seconds_to_tick(at);
    let spawn_time = debris::tick_to_seconds(spec.spawn_tick);
    let (x, y) = rules
        .position_px_at_tick(&spec, tick)
        .ok_or(VerifyError::NotSpawned {
            index,
            spawn_time,
            at,
        })?;
    Ok(DebrisAt {
        index,
        kind: spec.kind,
        value: rules.value_of(spec.kind),
        spawn_time,
        x,
        y,
    })
}

/// How fast and how far from a piece a ship can be, for the plausibility bound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReachLimits {
    /// Upper bound of the ship's speed, px/s.
    pub max_speed: f64,
    /// Farthest the ship can be from a piece's undisturbed position at the
    /// moment it is collected, px.
    pub reach: f64,
    /// Extra distance the soft wall can add to any journey, px.
    pub wall_allowance: f64,
}

impl ReachLimits {
    /// Limits for a ship with `effects`. Pass the effects with the highest
    /// speed the player had during the run (its current upgrades, normally).
    pub fn from_effects(catalog: &Catalog, effects: &ShipEffects) -> ReachLimits {
        let max_speed = effects.max_forward_speed.max(effects.max_reverse_speed);
        let manual = effects.collection_range;
        // A magnetised piece starts on its trajectory within the magnet radius
        // and then chases the ship at the pull speed; while it does, ship and
        // trajectory keep moving apart.
        let magnet = effects.magnet.map_or(0.0, |magnet| {
            let pull_time = magnet.radius / catalog.collection().magnet_pull_speed
                + MAGNET_EXTRA_TICKS * TICK_SECONDS;
            magnet.radius + (max_speed + MAX_DRIFT_SPEED) * pull_time
        });
        let ship = catalog.ship();
        ReachLimits {
            max_speed,
            reach: manual.max(magnet) + POSITION_TOLERANCE_PX,
            // Pushed back from at most the max overshoot, on either end.
            wall_allowance: 2.0 * ship.wall_max_overshoot,
        }
    }

    /// Whether one ship could collect a piece at `a` and another at `b`
    /// (positions of the pieces' undisturbed trajectories), whichever order.
    pub fn reachable(&self, a: Waypoint, b: Waypoint) -> bool {
        self.marks_reachable(Mark::of(a, self), Mark::of(b, self))
    }

    fn marks_reachable(&self, a: Mark, b: Mark) -> bool {
        let distance = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
        let travel = self.max_speed * (a.at - b.at).abs() * 1.05;
        distance <= a.reach + b.reach + travel + self.wall_allowance
    }
}

/// Where the ship had to be near, and when.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Waypoint {
    pub at: f64,
    pub x: f64,
    pub y: f64,
    /// The spawn point at t = 0: the ship is exactly there, no reach.
    pub exact: bool,
}

/// A waypoint with its own reach: how far from `(x, y)` the ship may have
/// been at `at`. Pieces use [`ReachLimits::reach`], the run start 0, a dock
/// the hub's interaction radius.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Mark {
    at: f64,
    x: f64,
    y: f64,
    reach: f64,
}

impl Mark {
    fn of(waypoint: Waypoint, limits: &ReachLimits) -> Mark {
        Mark {
            at: waypoint.at,
            x: waypoint.x,
            y: waypoint.y,
            reach: waypoint.reach(limits),
        }
    }
}

impl Waypoint {
    /// The ship's position at the start of every run: the origin at t = 0.
    pub const RUN_START: Waypoint = Waypoint {
        at: 0.0,
        x: 0.0,
        y: 0.0,
        exact: true,
    };

    fn reach(&self, limits: &ReachLimits) -> f64 {
        if self.exact { 0.0 } else { limits.reach }
    }
}

/// What the server knows when a batch of claims arrives.
#[derive(Debug, Clone, Copy)]
pub struct RunContext<'a> {
    pub catalog: &'a Catalog,
    pub zone: ZoneId,
    pub seed: u64,
    /// Effects of the player's upgrades (see [`ReachLimits::from_effects`]).
    pub effects: &'a ShipEffects,
    /// Pieces of this run accepted by earlier batches.
    pub already_accepted: &'a [CollectedPiece],
    /// Docks of this run accepted earlier (see [`judge_dock`]): the ship was
    /// at those hubs then, so they bound where it could be before and after.
    pub docks: &'a [DockClaim],
    /// Free slots in the hold now.
    pub hold_free: u64,
    /// Seconds since the run started, by the server's clock (its whole
    /// length when `ended`).
    pub server_elapsed: f64,
    /// The run has ended (a later run started, or its horizon passed): no
    /// claim may come after `server_elapsed`, not even within the clock
    /// tolerance (see [`RunClock`]).
    pub ended: bool,
}

impl RunContext<'_> {
    /// The latest run-clock time a claim may name.
    fn time_limit(&self) -> f64 {
        RunClock {
            elapsed: self.server_elapsed,
            ended: self.ended,
        }
        .limit()
    }
}

/// A piece the server accepts, with what it is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AcceptedPiece {
    pub index: DebrisIndex,
    pub at: f64,
    pub kind: KindIndex,
    pub value: Credits,
}

/// The judgement of a batch: every claim ends up in exactly one list.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BatchVerdict {
    /// In the order judged (by claimed time).
    pub accepted: Vec<AcceptedPiece>,
    pub rejected: Vec<RejectedPiece>,
}

/// Judges each claimed piece on its own, in order of claimed time:
/// `too_early`, `unknown_debris`, `already_collected` (earlier batches or
/// earlier in this one), `implausible` (against the run start and the
/// accepted pieces just before and after it in time), then `hold_full`.
///
/// The batch size limit (64) is the caller's to enforce before calling.
pub fn judge_batch(
    context: &RunContext<'_>,
    claims: &[CollectedPiece],
) -> Result<BatchVerdict, VerifyError> {
    let rules = FieldRules::new(context.catalog, context.zone, context.seed)?;
    let limits = ReachLimits::from_effects(context.catalog, context.effects);

    // Where the ship is known to have been so far, sorted by time: the run
    // start, the pieces accepted before (trusted; a piece whose
    // recomputation fails, only possible for a corrupt row, constrains
    // nothing) and the docks accepted before.
    let mut waypoints = known_marks(context, &rules, &limits)?;
    let taken: std::collections::HashSet<DebrisIndex> = context
        .already_accepted
        .iter()
        .map(|piece| piece.index)
        .collect();
    let mut taken = taken;

    let mut order: Vec<&CollectedPiece> = claims.iter().collect();
    order.sort_by(|a, b| a.at.total_cmp(&b.at).then(a.index.cmp(&b.index)));

    let mut hold_free = context.hold_free;
    let mut verdict = BatchVerdict::default();
    let limit_time = context.time_limit();
    for claim in order {
        let reject = |verdict: &mut BatchVerdict, code| {
            verdict.rejected.push(RejectedPiece {
                index: claim.index,
                code,
            })
        };
        if !claim.at.is_finite() || claim.at < 0.0 {
            reject(&mut verdict, RejectCode::Implausible);
            continue;
        }
        if claim.at > limit_time {
            reject(&mut verdict, RejectCode::TooEarly);
            continue;
        }
        let found = match debris_at_with(&rules, claim.index, claim.at) {
            Ok(found) => found,
            Err(_) => {
                reject(&mut verdict, RejectCode::UnknownDebris);
                continue;
            }
        };
        if taken.contains(&claim.index) {
            reject(&mut verdict, RejectCode::AlreadyCollected);
            continue;
        }
        let here = Mark {
            at: claim.at,
            x: found.x,
            y: found.y,
            reach: limits.reach,
        };
        let slot = waypoints.partition_point(|w| w.at <= claim.at);
        let before_ok = slot == 0 || limits.marks_reachable(waypoints[slot - 1], here);
        let after_ok = slot == waypoints.len() || limits.marks_reachable(here, waypoints[slot]);
        if !(before_ok && after_ok) {
            reject(&mut verdict, RejectCode::Implausible);
            continue;
        }
        if hold_free == 0 {
            reject(&mut verdict, RejectCode::HoldFull);
            continue;
        }
        hold_free -= 1;
        taken.insert(claim.index);
        waypoints.insert(slot, here);
        verdict.accepted.push(AcceptedPiece {
            index: claim.index,
            at: claim.at,
            kind: found.kind,
            value: found.value,
        });
    }
    Ok(verdict)
}

/// A claim that the ship was docked at a hub: `hub` is the hub's index in
/// its zone's `hubs` list, `at` the run clock in seconds. Selling and buying
/// need one; the server judges it with [`judge_dock`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DockClaim {
    pub hub: u32,
    pub at: f64,
}

impl From<&crate::api::Dock> for DockClaim {
    /// The claim carried by a sale's or a purchase's `dock`.
    fn from(dock: &crate::api::Dock) -> Self {
        DockClaim {
            hub: dock.hub,
            at: dock.at,
        }
    }
}

/// Why a dock claim is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum DockRefusal {
    /// The zone has no hub with that index.
    #[error("this zone has no such hub")]
    UnknownHub,
    /// The claimed time is after the server's clock (plus tolerance), or not
    /// a finite, non-negative number.
    #[error("the dock time is not a time of this run")]
    BadTime,
    /// No ship with these upgrades could have been within docking range of
    /// that hub then, given where it was before and after.
    #[error("the ship could not have been at that hub then")]
    Implausible,
}

impl DockRefusal {
    /// The API error code.
    pub fn code(self) -> &'static str {
        use crate::codes;
        match self {
            DockRefusal::UnknownHub => codes::UNKNOWN_HUB,
            DockRefusal::BadTime | DockRefusal::Implausible => codes::NOT_DOCKED,
        }
    }
}

/// Judges a dock claim against everything known of the run: the start,
/// the accepted pieces and the earlier docks. The same bound as for pieces
/// (top speed in a straight line, the soft wall's allowance), with the hub's
/// interaction radius as the reach, so an honest `ZoneSim` run that reports
/// its `NearHub` events always passes.
pub fn judge_dock(context: &RunContext<'_>, claim: DockClaim) -> Result<(), DockRefusal> {
    let zone = context
        .catalog
        .zone(context.zone)
        .ok_or(DockRefusal::UnknownHub)?;
    let hub = zone
        .hubs
        .get(claim.hub as usize)
        .ok_or(DockRefusal::UnknownHub)?;
    if !claim.at.is_finite() || claim.at < 0.0 || claim.at > context.time_limit() {
        return Err(DockRefusal::BadTime);
    }
    let rules = FieldRules::new(context.catalog, context.zone, context.seed)
        .map_err(|_| DockRefusal::UnknownHub)?;
    let limits = ReachLimits::from_effects(context.catalog, context.effects);
    let marks = known_marks(context, &rules, &limits).map_err(|_| DockRefusal::UnknownHub)?;
    let here = Mark {
        at: claim.at,
        x: hub.x,
        y: hub.y,
        reach: dock_reach(context.catalog),
    };
    let slot = marks.partition_point(|w| w.at <= claim.at);
    let before_ok = slot == 0 || limits.marks_reachable(marks[slot - 1], here);
    let after_ok = slot == marks.len() || limits.marks_reachable(here, marks[slot]);
    if before_ok && after_ok {
        Ok(())
    } else {
        Err(DockRefusal::Implausible)
    }
}

/// How far from a hub's centre a docked ship can be, px.
fn dock_reach(catalog: &Catalog) -> f64 {
    catalog.hubs().interact_radius + POSITION_TOLERANCE_PX
}

/// The run start, the accepted pieces and the accepted docks of `context`,
/// sorted by time.
fn known_marks(
    context: &RunContext<'_>,
    rules: &FieldRules,
    limits: &ReachLimits,
) -> Result<Vec<Mark>, VerifyError> {
    let mut marks = vec![Mark::of(Waypoint::RUN_START, limits)];
    for piece in context.already_accepted {
        if let Ok(found) = debris_at_with(rules, piece.index, piece.at) {
            marks.push(Mark {
                at: piece.at,
                x: found.x,
                y: found.y,
                reach: limits.reach,
            });
        }
    }
    if let Some(zone) = context.catalog.zone(context.zone) {
        for dock in context.docks {
            if let Some(hub) = zone.hubs.get(dock.hub as usize) {
                marks.push(Mark {
                    at: dock.at,
                    x: hub.x,
                    y: hub.y,
                    reach: dock_reach(context.catalog),
                });
            }
        }
    }
    marks.sort_by(|a, b| a.at.total_cmp(&b.at));
    Ok(marks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::UpgradeId;
    use crate::economy::UpgradeLevels;

    fn catalog() -> &'static Catalog {
        Catalog::shipped()
    }

    fn base_effects() -> ShipEffects {
        ShipEffects::from_levels(catalog(), &UpgradeLevels::default())
    }

    fn context<'a>(
        effects: &'a ShipEffects,
        accepted: &'a [CollectedPiece],
        elapsed: f64,
    ) -> RunContext<'a> {
        RunContext {
            catalog: catalog(),
            zone: 1,
            seed: 2024,
            effects,
            already_accepted: accepted,
            docks: &[],
            hold_free: 10,
            server_elapsed: elapsed,
            ended: false,
        }
    }

    /// First initial piece of the run whose start position is within `radius` of the origin.
    fn piece_near_origin(radius: f64) -> DebrisIndex {
        (0..400)
            .find(|&i| {
                let d = debris_at(catalog(), 1, 2024, i, 0.0).unwrap();
                d.x.hypot(d.y) < radius
            })
            .expect("some piece near the origin")
    }

    #[test]
    fn an_ended_run_takes_no_claim_after_its_end() {
        let effects = base_effects();
        let near = piece_near_origin(400.0);
        let claim = [CollectedPiece {
            index: near,
            at: 5.0,
        }];
        let mut ctx = context(&effects, &[], 4.0);
        // Live: the tolerance covers frame jitter.
        assert_eq!(judge_batch(&ctx, &claim).unwrap().accepted.len(), 1);
        // Ended at 4 s: 5 s is after the end.
        ctx.ended = true;
        assert_eq!(
            judge_batch(&ctx, &claim).unwrap().rejected[0].code,
            RejectCode::TooEarly
        );
        assert_eq!(
            judge_dock(&ctx, DockClaim { hub: 0, at: 4.5 }),
            Err(DockRefusal::BadTime)
        );
    }

    #[test]
    fn run_clock_stops_at_the_end_or_the_horizon() {
        let live = RunClock::at(1_000, None, 11_000);
        assert_eq!((live.elapsed, live.ended), (10.0, false));
        assert_eq!(live.limit(), 10.0 + CLOCK_TOLERANCE_SECONDS);
        let ended = RunClock::at(1_000, Some(4_000), 11_000);
        assert_eq!((ended.elapsed, ended.ended), (3.0, true));
        assert_eq!(ended.limit(), 3.0);
        let horizon_ms = (RUN_HORIZON_SECONDS * 1000.0) as i64;
        let old = RunClock::at(0, None, horizon_ms + 5_000);
        assert_eq!((old.elapsed, old.ended), (RUN_HORIZON_SECONDS, true));
        assert_eq!(RunClock::horizon_ms(), horizon_ms);
    }

    #[test]
    fn debris_at_matches_the_field() {
        let d = debris_at(catalog(), 1, 2024, 5, 10.0).unwrap();
        let rules = FieldRules::new(catalog(), 1, 2024).unwrap();
        let spec = rules.spec(5);
        assert_eq!(d.kind, spec.kind);
        assert_eq!(d.value, catalog().kind(spec.kind).unwrap().value);
        assert_eq!(Some((d.x, d.y)), rules.position_px_at_tick(&spec, 600));
    }

    #[test]
    fn existence_follows_the_spawn_schedule() {
        assert_eq!(spawn_time(catalog(), 1, 399).unwrap(), 0.0);
        assert_eq!(spawn_time(catalog(), 1, 400).unwrap(), 0.5);
        assert_eq!(spawn_time(catalog(), 4, 1009).unwrap(), 5.0);
        assert!(matches!(
            debris_at(catalog(), 1, 1, 401, 0.9),
            Err(VerifyError::NotSpawned { index: 401, .. })
        ));
        assert!(debris_at(catalog(), 1, 1, 401, 1.0).is_ok());
        assert!(matches!(
            debris_at(catalog(), 1, 1, 1, f64::NAN),
            Err(VerifyError::InvalidTime(_))
        ));
        assert!(matches!(
            debris_at(catalog(), 7, 1, 1, 1.0),
            Err(VerifyError::Field(_))
        ));
    }

    #[test]
    fn reach_limits_grow_with_upgrades() {
        let base = ReachLimits::from_effects(catalog(), &base_effects());
        assert_eq!(base.max_speed, 240.0);
        assert_eq!(base.reach, 56.0 + POSITION_TOLERANCE_PX);
        let levels = UpgradeLevels::default()
            .with(UpgradeId::CargoMagnet, 3)
            .with(UpgradeId::SpeedBoost, 5);
        let strong =
            ReachLimits::from_effects(catalog(), &ShipEffects::from_levels(catalog(), &levels));
        assert_eq!(strong.max_speed, 440.0);
        assert!(strong.reach > 280.0 + 100.0, "{strong:?}");
    }

    #[test]
    fn reachable_is_symmetric_and_respects_speed() {
        let limits = ReachLimits::from_effects(catalog(), &base_effects());
        let a = Waypoint {
            at: 0.0,
            x: 0.0,
            y: 0.0,
            exact: true,
        };
        let near = Waypoint {
            at: 10.0,
            x: 2000.0,
            y: 0.0,
            exact: false,
        };
        let far = Waypoint {
            at: 1.0,
            x: 2000.0,
            y: 0.0,
            exact: false,
        };
        assert!(limits.reachable(a, near) && limits.reachable(near, a));
        assert!(!limits.reachable(a, far) && !limits.reachable(far, a));
    }

    #[test]
    fn a_piece_near_the_origin_is_accepted_once() {
        let effects = base_effects();
        let index = piece_near_origin(1500.0);
        let claims = [
            CollectedPiece { index, at: 8.0 },
            CollectedPiece { index, at: 9.0 },
        ];
        let verdict = judge_batch(&context(&effects, &[], 10.0), &claims).unwrap();
        assert_eq!(verdict.accepted.len(), 1);
        assert_eq!(verdict.accepted[0].index, index);
        assert_eq!(
            verdict.rejected,
            vec![RejectedPiece {
                index,
                code: RejectCode::AlreadyCollected
            }]
        );
        let accepted = [claims[0]];
        let verdict = judge_batch(&context(&effects, &accepted, 20.0), &claims[1..]).unwrap();
        assert_eq!(verdict.rejected[0].code, RejectCode::AlreadyCollected);
    }

    #[test]
    fn each_reject_code() {
        let effects = base_effects();
        let near = piece_near_origin(1500.0);
        // Too early: claimed after the server's clock (+ tolerance).
        let v = judge_batch(
            &context(&effects, &[], 1.0),
            &[CollectedPiece {
                index: near,
                at: 8.0,
            }],
        )
        .unwrap();
        assert_eq!(v.rejected[0].code, RejectCode::TooEarly);
        // Unknown: index 1000 spawns at 300.5 s.
        let v = judge_batch(
            &context(&effects, &[], 100.0),
            &[CollectedPiece {
                index: 1000,
                at: 50.0,
            }],
        )
        .unwrap();
        assert_eq!(v.rejected[0].code, RejectCode::UnknownDebris);
        // Implausible: a piece far away, claimed 0.1 s into the run.
        let far = (0..400)
            .find(|&i| {
                let d = debris_at(catalog(), 1, 2024, i, 0.1).unwrap();
                d.x.hypot(d.y) > 2000.0
            })
            .unwrap();
        let v = judge_batch(
            &context(&effects, &[], 100.0),
            &[CollectedPiece {
                index: far,
                at: 0.1,
            }],
        )
        .unwrap();
        assert_eq!(v.rejected[0].code, RejectCode::Implausible);
        let v = judge_batch(
            &context(&effects, &[], 100.0),
            &[CollectedPiece {
                index: far,
                at: f64::NAN,
            }],
        )
        .unwrap();
        assert_eq!(v.rejected[0].code, RejectCode::Implausible);
        // Hold full.
        let mut ctx = context(&effects, &[], 100.0);
        ctx.hold_free = 0;
        let v = judge_batch(
            &ctx,
            &[CollectedPiece {
                index: near,
                at: 50.0,
            }],
        )
        .unwrap();
        assert_eq!(v.rejected[0].code, RejectCode::HoldFull);
    }

    #[test]
    fn a_teleport_between_two_claims_is_implausible() {
        let effects = base_effects();
        // Two pieces far apart claimed 0.5 s apart, late enough that either
        // alone is reachable from the start.
        let positions: Vec<DebrisAt> = (0..400)
            .map(|i| debris_at(catalog(), 1, 2024, i, 60.0).unwrap())
            .collect();
        let (a, b) = positions
            .iter()
            .flat_map(|a| positions.iter().map(move |b| (a, b)))
            .find(|(a, b)| (a.x - b.x).hypot(a.y - b.y) > 3000.0)
            .unwrap();
        let first = [CollectedPiece {
            index: a.index,
            at: 60.0,
        }];
        let v = judge_batch(
            &context(&effects, &first, 100.0),
            &[CollectedPiece {
                index: b.index,
                at: 60.5,
            }],
        )
        .unwrap();
        assert_eq!(v.rejected[0].code, RejectCode::Implausible);
        // Given enough time, the same journey is fine.
        let v = judge_batch(
            &context(&effects, &first, 100.0),
            &[CollectedPiece {
                index: b.index,
                at: 90.0,
            }],
        )
        .unwrap();
        assert_eq!(v.accepted.len(), 1);
    }

    #[test]
    fn dock_claims_name_a_hub_of_the_zone_at_a_time_of_the_run() {
        let effects = base_effects();
        let hubs = &catalog().zone(1).unwrap().hubs;
        let context = context(&effects, &[], 600.0);
        assert_eq!(
            judge_dock(
                &context,
                DockClaim {
                    hub: hubs.len() as u32,
                    at: 100.0
                }
            ),
            Err(DockRefusal::UnknownHub)
        );
        for at in [f64::NAN, -1.0, 700.0] {
            assert_eq!(
                judge_dock(&context, DockClaim { hub: 0, at }),
                Err(DockRefusal::BadTime)
            );
        }
        // Straight from the start at top speed, with room to spare: fine.
        let distance = hubs[0].x.hypot(hubs[0].y);
        let enough = distance / effects.max_forward_speed + 1.0;
        assert_eq!(
            judge_dock(&context, DockClaim { hub: 0, at: enough }),
            Ok(())
        );
        // Far too soon to have flown there.
        let far = hubs
            .iter()
            .position(|hub| hub.x.hypot(hub.y) > 800.0)
            .expect("a hub away from the spawn point") as u32;
        assert_eq!(
            judge_dock(&context, DockClaim { hub: far, at: 0.2 }),
            Err(DockRefusal::Implausible)
        );
        assert_eq!(DockRefusal::Implausible.code(), "not_docked");
    }
}
