//! `TradingHub` (`scenes/zone/trading_hub.tscn`): an NPC trading station in a
//! zone, drawn in code: hull, a slowly turning docking ring, its name, and
//! the interact range.

use godot::classes::{INode2D, Node2D, ThemeDb};
use godot::prelude::*;

use crate::theme::palette;

/// A trading hub marker. The zone places one per catalog hub.
#[derive(GodotClass)]
#[class(base = Node2D, init, tool)]
pub struct TradingHub {
    /// Shown under the station.
    #[export]
    #[init(val = GString::from("Trading Hub"))]
    hub_name: GString,
    /// Station radius, px.
    #[export(range = (16.0, 256.0, 1.0))]
    #[init(val = 54.0)]
    radius: f32,
    /// Interact range drawn as a dashed ring, px (the catalog decides the real one).
    #[export(range = (0.0, 600.0, 1.0))]
    #[init(val = 160.0)]
    interact_radius: f32,
    /// Docking ring turns per second.
    #[export(range = (0.0, 2.0, 0.01))]
    #[init(val = 0.05)]
    spin: f32,
    #[export]
    #[init(val = palette::CYAN)]
    colour: Color,
    /// The ship is in range (drawn brighter).
    #[export]
    highlighted: bool,
    angle: f32,
    base: Base<Node2D>,
}

#[godot_api]
impl INode2D for TradingHub {
    fn process(&mut self, delta: f64) {
        self.angle =
            (self.angle + self.spin * std::f32::consts::TAU * delta as f32) % std::f32::consts::TAU;
        self.base_mut().queue_redraw();
    }

    fn draw(&mut self) {
        let (r, colour, angle) = (self.radius, self.colour, self.angle);
        let ring_alpha = if self.highlighted { 0.55 } else { 0.18 };
        let name = self.hub_name.clone();
        let interact = self.interact_radius;
        let mut base = self.base_mut();
        let fill = Color::from_rgba(0.05, 0.12, 0.2, 0.95);
        // Octagonal hull.
        let hull: Vec<Vector2> = (0..8)
            .map(|i| {
                let a = i as f32 / 8.0 * std::f32::consts::TAU + std::f32::consts::PI / 8.0;
                Vector2::new(a.cos(), a.sin()) * r * 0.62
            })
            .collect();
        let hull = PackedVector2Array::from(hull.as_slice());
        base.draw_colored_polygon(&hull, fill);
        let mut outline = hull.clone();
        outline.push(hull.as_slice()[0]);
        base.draw_polyline_ex(&outline, colour)
            .width(2.0)
            .antialiased(true)
            .done();
        // Docking ring with four arms.
        base.draw_arc_ex(
            Vector2::ZERO,
            r,
            angle,
            angle + std::f32::consts::TAU,
            48,
            colour,
        )
        .width(2.0)
        .antialiased(true)
        .done();
        for i in 0..4 {
            let a = angle + i as f32 * std::f32::consts::FRAC_PI_2;
            let dir = Vector2::new(a.cos(), a.sin());
            base.draw_line_ex(dir * r * 0.62, dir * r * 1.15, colour)
                .width(2.0)
                .done();
        }
        // Interact range.
        let range_colour = Color::from_rgba(colour.r, colour.g, colour.b, ring_alpha);
        for i in 0..36 {
            let a0 = i as f32 / 36.0 * std::f32::consts::TAU;
            base.draw_arc_ex(Vector2::ZERO, interact, a0, a0 + 0.09, 4, range_colour)
                .width(1.5)
                .done();
        }
        if let Some(font) = ThemeDb::singleton().get_fallback_font() {
            let text = name.to_string().to_uppercase();
            let size = 16;
            let width = font
                .get_string_size_ex(text.as_str())
                .font_size(size)
                .done()
                .x;
            base.draw_string_ex(&font, Vector2::new(-width * 0.5, r + 28.0), text.as_str())
                .font_size(size)
                .modulate(colour)
                .done();
        }
    }
}
