//! `BusySpinner`: a small rotating arc shown while a request is on its way.

use godot::classes::{Control, IControl};
use godot::prelude::*;

use crate::theme::palette;

/// Rotating arc; visible only while `busy`.
#[derive(GodotClass)]
#[class(base = Control, init, tool)]
pub struct BusySpinner {
    /// Turns per second.
    #[export(range = (0.1, 5.0, 0.05))]
    #[init(val = 1.2)]
    speed: f32,
    /// Arc thickness in px.
    #[export(range = (1.0, 8.0, 0.5))]
    #[init(val = 2.5)]
    thickness: f32,
    #[export]
    #[init(val = palette::CYAN)]
    colour: Color,
    angle: f32,
    base: Base<Control>,
}

#[godot_api]
impl IControl for BusySpinner {
    fn ready(&mut self) {
        self.base_mut()
            .set_custom_minimum_size(Vector2::new(20.0, 20.0));
    }

    fn process(&mut self, delta: f64) {
        if self.base().is_visible_in_tree() {
            self.angle = (self.angle + self.speed * std::f32::consts::TAU * delta as f32)
                % std::f32::consts::TAU;
            self.base_mut().queue_redraw();
        }
    }

    fn draw(&mut self) {
        let size = self.base().get_size();
        let radius = (size.x.min(size.y) * 0.5 - self.thickness).max(2.0);
        let (start, colour, thickness) = (self.angle, self.colour, self.thickness);
        self.base_mut()
            .draw_arc_ex(size * 0.5, radius, start, start + 4.2, 24, colour)
            .width(thickness)
            .antialiased(true)
            .done();
    }
}

#[godot_api]
impl BusySpinner {
    /// Shows or hides the spinner.
    #[func]
    pub fn set_busy(&mut self, busy: bool) {
        self.base_mut().set_visible(busy);
    }
}
