//! Ship handling for one fixed tick: tank steering, thrust, braking, drag,
//! turn rate falling with speed, and the soft zone walls.
//!
//! Plain `f64` arithmetic and [`crate::detmath`] only, so a tick gives the
//! same bits on every machine. The ship's velocity always points along its
//! nose (tank steering): `speed` is signed, negative when reversing.

use bevy_ecs::prelude::Component;
use serde::{Deserialize, Serialize};

use crate::catalog::ShipTuning;
use crate::detmath;
use crate::economy::ShipEffects;

/// Which controls are held this tick (InputMap actions on the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShipInput {
    /// W: thrust along the nose.
    pub thrust: bool,
    /// S: brake, then reverse.
    pub reverse: bool,
    /// A: rotate anticlockwise on screen.
    pub turn_left: bool,
    /// D: rotate clockwise on screen.
    pub turn_right: bool,
    /// E: collect the nearest piece in range (repeats at the cooldown).
    pub collect: bool,
}

/// Where the ship is and how it moves. Coordinates are y-down (Godot);
/// `heading` is in radians, 0 = +x, growing clockwise on screen, so a Node2D's
/// `rotation` can take it as is.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ShipBody {
    pub x: f64,
    pub y: f64,
    pub heading: f64,
    /// Signed speed along the heading, px/s.
    pub speed: f64,
}

impl ShipBody {
    /// Velocity vector, px/s.
    pub fn velocity(&self) -> (f64, f64) {
        let (sin, cos) = detmath::sin_cos(self.heading);
        (cos * self.speed, sin * self.speed)
    }
}

/// Moves `value` towards `target` by at most `step`.
fn approach(value: f64, target: f64, step: f64) -> f64 {
    if value < target {
        (value + step).min(target)
    } else {
        (value - step).max(target)
    }
}

/// Turn rate at a speed: linear from the rest rate to the max-speed rate.
pub fn turn_rate(effects: &ShipEffects, speed: f64) -> f64 {
    let fraction = if effects.max_forward_speed > 0.0 {
        (speed.abs() / effects.max_forward_speed).clamp(0.0, 1.0)
    } else {
        0.0
    };
    effects.turn_rate_at_rest
        + (effects.turn_rate_at_max_speed - effects.turn_rate_at_rest) * fraction
}

/// Advances the ship by `dt` seconds inside a zone of half side `half`.
pub fn advance(
    body: &mut ShipBody,
    input: ShipInput,
    effects: &ShipEffects,
    tuning: &ShipTuning,
    half: f64,
    dt: f64,
) {
    let turn = f64::from(i8::from(input.turn_right) - i8::from(input.turn_left));
    body.heading = detmath::wrap_angle(body.heading + turn * turn_rate(effects, body.speed) * dt);

    let forward_max = effects.max_forward_speed;
    let reverse_max = effects.max_reverse_speed;
    body.speed = match (input.thrust, input.reverse) {
        (true, false) if body.speed < 0.0 => approach(body.speed, 0.0, effects.braking * dt),
        (true, false) => approach(body.speed, forward_max, effects.acceleration * dt),
        (false, true) if body.speed > 0.0 => approach(body.speed, 0.0, effects.braking * dt),
        (false, true) => approach(body.speed, -reverse_max, effects.acceleration * dt),
        // No input, or both: coast down.
        _ => approach(body.speed, 0.0, effects.drag * dt),
    };
    // Above the limits (upgrades were traded away mid-run): brake down to them.
    if body.speed > forward_max {
        body.speed = approach(body.speed, forward_max, effects.braking * dt);
    } else if body.speed < -reverse_max {
        body.speed = approach(body.speed, -reverse_max, effects.braking * dt);
    }

    let (vx, vy) = body.velocity();
    body.x = soft_wall(body.x + vx * dt, half, tuning, dt);
    body.y = soft_wall(body.y + vy * dt, half, tuning, dt);
}

/// Pulls a coordinate beyond the edge back by `wall_return_rate` of the
/// overshoot per second, and never lets it past `wall_max_overshoot`.
fn soft_wall(coordinate: f64, half: f64, tuning: &ShipTuning, dt: f64) -> f64 {
    let excess = coordinate.abs() - half;
    if excess <= 0.0 {
        return coordinate;
    }
    let pulled = excess - excess * (tuning.wall_return_rate * dt).min(1.0);
    coordinate.signum() * (half + pulled.min(tuning.wall_max_overshoot))
}

/// Whether the ship is close enough to an edge for the HUD to warn.
pub fn near_wall(body: &ShipBody, half: f64, tuning: &ShipTuning) -> bool {
    let limit = half - tuning.wall_warning_distance;
    body.x.abs() > limit || body.y.abs() > limit
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, UpgradeId};
    use crate::economy::UpgradeLevels;

    const DT: f64 = 1.0 / 60.0;

    fn setup(speed_level: u32) -> (ShipEffects, ShipTuning) {
        let c = Catalog::shipped();
        let levels = UpgradeLevels::default().with(UpgradeId::SpeedBoost, speed_level);
        (ShipEffects::from_levels(c, &levels), c.ship().clone())
    }

    fn run(body: &mut ShipBody, input: ShipInput, seconds: f64, level: u32) {
        let (effects, tuning) = setup(level);
        for _ in 0..(seconds * 60.0).round() as usize {
            advance(body, input, &effects, &tuning, 3000.0, DT);
        }
    }

    const W: ShipInput = ShipInput {
        thrust: true,
        reverse: false,
        turn_left: false,
        turn_right: false,
        collect: false,
    };
    const S: ShipInput = ShipInput {
        thrust: false,
        reverse: true,
        turn_left: false,
        turn_right: false,
        collect: false,
    };

    #[test]
    fn thrust_reaches_max_speed_at_the_acceleration() {
        let mut body = ShipBody::default();
        run(&mut body, W, 0.5, 0);
        assert!((body.speed - 180.0).abs() < 1e-6, "{}", body.speed);
        run(&mut body, W, 1.0, 0);
        assert_eq!(body.speed, 240.0);
        let mut fast = ShipBody::default();
        run(&mut fast, W, 5.0, 5);
        assert_eq!(fast.speed, 440.0);
        assert!(body.y.abs() < 1e-9 && body.x > 0.0);
    }

    #[test]
    fn drag_brake_and_reverse() {
        let mut body = ShipBody {
            speed: 240.0,
            ..ShipBody::default()
        };
        run(&mut body, ShipInput::default(), 1.0, 0);
        assert!((body.speed - 150.0).abs() < 1e-6);
        run(&mut body, S, 150.0 / 540.0 + 1e-9, 0);
        assert!(body.speed.abs() < 10.0, "brakes first: {}", body.speed);
        run(&mut body, S, 2.0, 0);
        assert_eq!(body.speed, -120.0);
        run(&mut body, W, 0.1, 0);
        assert!(body.speed > -120.0 + 540.0 * 0.09);
    }

    #[test]
    fn turn_rate_falls_linearly_with_speed() {
        let (effects, _) = setup(0);
        assert!((turn_rate(&effects, 0.0) - 200f64.to_radians()).abs() < 1e-12);
        assert!((turn_rate(&effects, 120.0) - 160f64.to_radians()).abs() < 1e-12);
        assert!((turn_rate(&effects, 240.0) - 120f64.to_radians()).abs() < 1e-12);
        assert!((turn_rate(&effects, -240.0) - 120f64.to_radians()).abs() < 1e-12);
        let mut body = ShipBody::default();
        let right = ShipInput {
            turn_right: true,
            ..ShipInput::default()
        };
        run(&mut body, right, 0.45, 0);
        assert!(
            (body.heading - 90f64.to_radians()).abs() < 1e-9,
            "{}",
            body.heading
        );
    }

    #[test]
    fn soft_wall_pushes_back_and_caps_overshoot() {
        let (effects, tuning) = setup(5);
        let mut body = ShipBody {
            x: 2900.0,
            ..ShipBody::default()
        };
        assert!(near_wall(&body, 3000.0, &tuning));
        let mut furthest: f64 = 0.0;
        for _ in 0..600 {
            advance(&mut body, W, &effects, &tuning, 3000.0, DT);
            furthest = furthest.max(body.x);
        }
        assert!(furthest > 3000.0 && furthest <= 3000.0 + tuning.wall_max_overshoot);
        // Let go: the wall brings it back inside.
        for _ in 0..600 {
            advance(
                &mut body,
                ShipInput::default(),
                &effects,
                &tuning,
                3000.0,
                DT,
            );
        }
        assert!(body.x <= 3000.0 + 1e-6, "{}", body.x);
        assert!(!near_wall(&ShipBody::default(), 3000.0, &tuning));
    }

    #[test]
    fn speed_above_a_lowered_limit_is_braked_down() {
        let mut body = ShipBody {
            speed: 440.0,
            ..ShipBody::default()
        };
        run(&mut body, W, 1.0, 0);
        assert_eq!(body.speed, 240.0);
    }
}
