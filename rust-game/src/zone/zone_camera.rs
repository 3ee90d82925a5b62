//! `ZoneCamera`: follows the ship (as its child) and zooms with the
//! `zoom_in` / `zoom_out` actions (Q/R, mouse wheel, gamepad shoulders).

use godot::classes::{Camera2D, ICamera2D, InputEvent};
use godot::prelude::*;

/// Following camera with stepped zoom.
#[derive(GodotClass)]
#[class(base = Camera2D, init)]
pub struct ZoneCamera {
    /// Closest zoom (bigger = closer).
    #[export(range = (0.5, 4.0, 0.05))]
    #[init(val = 2.0)]
    max_zoom: f32,
    /// Farthest zoom.
    #[export(range = (0.1, 1.0, 0.05))]
    #[init(val = 0.35)]
    min_zoom: f32,
    /// Factor applied per zoom step.
    #[export(range = (1.01, 2.0, 0.01))]
    #[init(val = 1.15)]
    zoom_step: f32,
    /// How fast the zoom eases to its target (per second).
    #[export(range = (1.0, 30.0, 0.5))]
    #[init(val = 10.0)]
    zoom_speed: f32,
    #[init(val = 1.0)]
    target_zoom: f32,
    base: Base<Camera2D>,
}

#[godot_api]
impl ICamera2D for ZoneCamera {
    fn ready(&mut self) {
        self.target_zoom = self.base().get_zoom().x;
    }

    fn process(&mut self, delta: f64) {
        let current = self.base().get_zoom().x;
        let t = (self.zoom_speed * delta as f32).min(1.0);
        let next = current + (self.target_zoom - current) * t;
        self.base_mut().set_zoom(Vector2::new(next, next));
    }

    fn unhandled_input(&mut self, event: Gd<InputEvent>) {
        if event.is_action_pressed("zoom_in") {
            self.step_zoom(1);
        } else if event.is_action_pressed("zoom_out") {
            self.step_zoom(-1);
        }
    }
}

#[godot_api]
impl ZoneCamera {
    /// Zooms in (`steps` > 0) or out, clamped.
    #[func]
    pub fn step_zoom(&mut self, steps: i32) {
        let factor = self.zoom_step.powi(steps);
        self.target_zoom = (self.target_zoom * factor).clamp(self.min_zoom, self.max_zoom);
    }

    /// The zoom being eased to.
    #[func]
    pub fn target_zoom(&self) -> f32 {
        self.target_zoom
    }
}
