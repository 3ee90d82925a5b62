//! `Radar`: the debris scanner's display — high-value debris around the
//! ship, drawn as blips on a round scope (values shown from scanner level 3).

use godot::classes::{Control, IControl, ThemeDb};
use godot::prelude::*;

use crate::theme::palette;

/// One blip: offset from the ship in world px, colour, optional value.
#[derive(Debug, Clone, PartialEq)]
pub struct Blip {
    pub offset: Vector2,
    pub colour: Color,
    pub value: Option<u64>,
}

/// Round radar scope. The HUD feeds it the blips and the range.
#[derive(GodotClass)]
#[class(base = Control, init, tool)]
pub struct Radar {
    /// Scope background.
    #[export]
    #[init(val = Color::from_rgba(0.03, 0.08, 0.14, 0.8))]
    background: Color,
    /// Rings and sweep.
    #[export]
    #[init(val = palette::CYAN_DIM)]
    line_colour: Color,
    /// Blip radius, px.
    #[export(range = (1.0, 10.0, 0.5))]
    #[init(val = 3.5)]
    blip_size: f32,
    /// Sweep turns per second.
    #[export(range = (0.0, 3.0, 0.05))]
    #[init(val = 0.4)]
    sweep_speed: f32,
    range_px: f32,
    blips: Vec<Blip>,
    labelled: usize,
    sweep: f32,
    base: Base<Control>,
}

#[godot_api]
impl IControl for Radar {
    fn process(&mut self, delta: f64) {
        self.sweep = (self.sweep + self.sweep_speed * std::f32::consts::TAU * delta as f32)
            % std::f32::consts::TAU;
        self.base_mut().queue_redraw();
    }

    fn draw(&mut self) {
        let size = self.base().get_size();
        let centre = size * 0.5;
        let radius = size.x.min(size.y) * 0.5 - 2.0;
        let (bg, line, blip_size, sweep) = (
            self.background,
            self.line_colour,
            self.blip_size,
            self.sweep,
        );
        let range = self.range_px.max(1.0);
        let blips = self.blips.clone();
        let font = ThemeDb::singleton().get_fallback_font();
        let mut base = self.base_mut();
        base.draw_circle(centre, radius, bg);
        for f in [1.0, 0.66, 0.33] {
            base.draw_arc_ex(centre, radius * f, 0.0, std::f32::consts::TAU, 48, line)
                .width(1.0)
                .antialiased(true)
                .done();
        }
        let sweep_end = centre + Vector2::new(sweep.cos(), sweep.sin()) * radius;
        base.draw_line_ex(centre, sweep_end, line).width(1.0).done();
        base.draw_circle(centre, 3.0, palette::CYAN);
        // Values are labelled most valuable first, and only where a label
        // does not cover another one, so a dense scope stays readable.
        let mut order: Vec<&Blip> = blips.iter().collect();
        order.sort_by_key(|b| std::cmp::Reverse(b.value));
        let mut labels: Vec<Rect2> = Vec::new();
        for blip in order {
            let p = blip.offset / range * radius;
            if p.length() > radius {
                continue;
            }
            base.draw_circle(centre + p, blip_size, blip.colour);
            if let (Some(value), Some(font)) = (blip.value, &font) {
                let text = value.to_string();
                let at = centre + p + Vector2::new(5.0, -4.0);
                // Monospace at 11 px: about 7 x 12 px per character.
                let rect = Rect2::new(
                    at - Vector2::new(0.0, 12.0),
                    Vector2::new(7.0 * text.len() as f32 + 2.0, 12.0),
                );
                if labels.iter().any(|r| r.intersects(rect)) {
                    continue;
                }
                labels.push(rect);
                base.draw_string_ex(font, at, text.as_str())
                    .font_size(11)
                    .modulate(blip.colour)
                    .done();
            }
        }
        drop(base);
        self.labelled = labels.len();
    }
}

#[godot_api]
impl Radar {
    /// Values labelled in the last drawing (labels never overlap).
    #[func]
    pub fn labelled_count(&self) -> i32 {
        self.labelled as i32
    }

    /// Blips shown now.
    #[func]
    pub fn blip_count(&self) -> i32 {
        self.blips.len() as i32
    }
}

impl Radar {
    /// Replaces the blips; `range_px` is the world distance at the rim.
    pub fn show(&mut self, range_px: f32, blips: Vec<Blip>) {
        self.range_px = range_px;
        self.blips = blips;
    }
}
