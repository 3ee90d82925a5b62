//! `PlayerShip` (`scenes/zone/player_ship.tscn`): the player's ship as drawn, and
//! the one place that reads the flight controls. The zone's simulation moves
//! it; this node only reads InputMap actions and draws the hull.

use game::sim::ShipInput;
use godot::classes::{INode2D, Input, Node2D};
use godot::prelude::*;

use crate::theme::palette;

/// InputMap actions read for flight.
pub mod actions {
    pub const THRUST: &str = "move_up";
    pub const REVERSE: &str = "move_down";
    pub const TURN_LEFT: &str = "turn_left";
    pub const TURN_RIGHT: &str = "turn_right";
    pub const COLLECT: &str = "collect";
}

/// The ship. Drawn in code: a hull polygon and an engine flame while thrusting.
#[derive(GodotClass)]
#[class(base = Node2D, init, tool)]
pub struct PlayerShip {
    /// Length of the hull, nose to tail, px.
    #[export(range = (8.0, 96.0, 1.0))]
    #[init(val = 30.0)]
    hull_length: f32,
    /// Hull outline colour.
    #[export]
    #[init(val = palette::CYAN)]
    hull_colour: Color,
    /// Fill colour of the hull.
    #[export]
    #[init(val = Color::from_rgba(0.06, 0.16, 0.24, 1.0))]
    fill_colour: Color,
    /// Colour of the engine flame.
    #[export]
    #[init(val = Color::from_rgba(0.95, 0.7, 0.3, 0.9))]
    flame_colour: Color,
    /// Ignore the keyboard/gamepad (the hub panel is open).
    #[export]
    controls_locked: bool,
    thrusting: bool,
    flicker: f32,
    base: Base<Node2D>,
}

#[godot_api]
impl INode2D for PlayerShip {
    fn process(&mut self, delta: f64) {
        self.flicker = (self.flicker + delta as f32 * 37.0) % 1000.0;
        self.base_mut().queue_redraw();
    }

    fn draw(&mut self) {
        let l = self.hull_length;
        let nose = Vector2::new(l * 0.6, 0.0);
        let hull = PackedVector2Array::from(&[
            nose,
            Vector2::new(-l * 0.4, l * 0.36),
            Vector2::new(-l * 0.25, 0.0),
            Vector2::new(-l * 0.4, -l * 0.36),
        ]);
        let (fill, outline, flame) = (self.fill_colour, self.hull_colour, self.flame_colour);
        let thrusting = self.thrusting;
        let flicker = 0.75 + 0.25 * (self.flicker).sin();
        let mut base = self.base_mut();
        if thrusting {
            let tail = PackedVector2Array::from(&[
                Vector2::new(-l * 0.3, l * 0.14),
                Vector2::new(-l * (0.55 + 0.3 * flicker), 0.0),
                Vector2::new(-l * 0.3, -l * 0.14),
            ]);
            base.draw_colored_polygon(&tail, flame);
        }
        base.draw_colored_polygon(&hull, fill);
        let mut outline_points = hull.clone();
        outline_points.push(nose);
        base.draw_polyline_ex(&outline_points, outline)
            .width(2.0)
            .antialiased(true)
            .done();
    }
}

#[godot_api]
impl PlayerShip {
    /// Whether the engine flame is drawn.
    #[func]
    pub fn set_thrusting(&mut self, thrusting: bool) {
        self.thrusting = thrusting;
    }
}

impl PlayerShip {
    /// The controls held now, from the InputMap actions.
    pub fn read_input(&self) -> ShipInput {
        if self.controls_locked {
            return ShipInput::default();
        }
        let input = Input::singleton();
        ShipInput {
            thrust: input.is_action_pressed(actions::THRUST),
            reverse: input.is_action_pressed(actions::REVERSE),
            turn_left: input.is_action_pressed(actions::TURN_LEFT),
            turn_right: input.is_action_pressed(actions::TURN_RIGHT),
            collect: input.is_action_pressed(actions::COLLECT),
        }
    }

    pub fn lock_controls(&mut self, locked: bool) {
        self.controls_locked = locked;
    }
}
