//! `ZoneBounds`: the soft wall around a zone, drawn as a hatched frame.

use godot::classes::{INode2D, Node2D};
use godot::prelude::*;

use crate::theme::palette;

/// The zone's edge. `half_size` is set by the zone from the catalog.
#[derive(GodotClass)]
#[class(base = Node2D, init, tool)]
pub struct ZoneBounds {
    /// Half the zone side, px (the zone spans -half..half).
    #[export(range = (100.0, 20000.0, 1.0))]
    #[init(val = 3000.0)]
    half_size: f32,
    /// Width of the warning band inside the edge, px.
    #[export(range = (0.0, 1000.0, 1.0))]
    #[init(val = 200.0)]
    warning_band: f32,
    #[export]
    #[init(val = palette::WARN)]
    colour: Color,
    base: Base<Node2D>,
}

#[godot_api]
impl INode2D for ZoneBounds {
    fn draw(&mut self) {
        let h = self.half_size;
        let band = self.warning_band;
        let colour = self.colour;
        let faint = Color::from_rgba(colour.r, colour.g, colour.b, 0.08);
        let mut base = self.base_mut();
        let outer = Rect2::new(Vector2::new(-h, -h), Vector2::new(2.0 * h, 2.0 * h));
        base.draw_rect_ex(outer, colour)
            .filled(false)
            .width(4.0)
            .done();
        let inner = Rect2::new(
            Vector2::new(-h + band, -h + band),
            Vector2::new(2.0 * (h - band), 2.0 * (h - band)),
        );
        base.draw_rect_ex(inner, Color::from_rgba(colour.r, colour.g, colour.b, 0.25))
            .filled(false)
            .width(1.0)
            .done();
        // Hatching in the warning band.
        let step = 80.0;
        let mut t = -h;
        while t < h {
            for (a, b) in [
                (Vector2::new(t, -h), Vector2::new(t + band, -h + band)),
                (Vector2::new(t, h), Vector2::new(t + band, h - band)),
                (Vector2::new(-h, t), Vector2::new(-h + band, t + band)),
                (Vector2::new(h, t), Vector2::new(h - band, t + band)),
            ] {
                base.draw_line_ex(a, b, faint).width(2.0).done();
            }
            t += step;
        }
    }
}

#[godot_api]
impl ZoneBounds {
    /// Sets the half size and redraws.
    #[func]
    pub fn set_extent(&mut self, half_size: f32, warning_band: f32) {
        self.half_size = half_size;
        self.warning_band = warning_band;
        self.base_mut().queue_redraw();
    }
}
