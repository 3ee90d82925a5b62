//! `Starfield`: the parallax star background of a zone.
//!
//! Stars are generated from a seed (so a screenshot is reproducible) and drawn
//! in one `_draw` call per layer; the layers scroll at different fractions of
//! the camera's movement, which gives depth without any texture assets.

use godot::classes::{INode2D, Node2D};
use godot::prelude::*;

/// A star of the background, in the starfield's local tile coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Star {
    pub position: Vector2,
    pub radius: f32,
    pub brightness: f32,
    /// 0 = farthest layer.
    pub layer: u8,
}

/// Parallax starfield drawn in code.
#[derive(GodotClass)]
#[class(base = Node2D, init, tool)]
pub struct Starfield {
    /// How many stars are scattered over one tile.
    #[export(range = (0.0, 5000.0, 1.0))]
    #[init(val = 600)]
    star_count: i32,
    /// Size in pixels of the square tile that repeats across the sky.
    #[export(range = (256.0, 8192.0, 1.0, or_greater))]
    #[init(val = 2048.0)]
    tile_size: f32,
    /// Number of parallax layers; farther layers move less and are dimmer.
    #[export(range = (1.0, 5.0, 1.0))]
    #[init(val = 3)]
    layers: i32,
    /// How much the nearest layer follows the camera (0 = fixed, 1 = world).
    #[export(range = (0.0, 1.0, 0.01))]
    #[init(val = 0.5)]
    parallax: f32,
    /// Seed of the star positions: the same seed gives the same sky.
    #[export]
    #[init(val = 7)]
    seed: i64,
    /// Tint of the brightest stars.
    #[export]
    #[init(val = Color::from_rgba(0.75, 0.9, 1.0, 1.0))]
    tint: Color,
    stars: Vec<Star>,
    generated_for: Option<(i32, i32, i64, u32)>,
    base: Base<Node2D>,
}

#[godot_api]
impl INode2D for Starfield {
    fn ready(&mut self) {
        self.regenerate();
    }

    fn process(&mut self, _delta: f64) {
        // Redraw when the view moved so the parallax offsets stay current.
        self.base_mut().queue_redraw();
    }

    fn draw(&mut self) {
        if self.generated_for != Some(self.generation_key()) {
            self.regenerate();
        }
        let camera_origin = self.camera_origin();
        let size = self.base().get_viewport_rect().size;
        let viewport = Vector2::new(size.x.max(1.0), size.y.max(1.0));
        let tile = self.tile_size.max(1.0);
        let layers = self.layers.max(1) as f32;
        let stars = self.stars.clone();
        let tint = self.tint;
        let parallax = self.parallax;
        let mut base = self.base_mut();
        for star in &stars {
            let depth = (star.layer as f32 + 1.0) / layers;
            let follow = 1.0 - parallax * depth;
            // Position of the star relative to the camera, wrapped into one tile
            // centred on the view so the sky never runs out.
            let shifted = star.position - camera_origin * follow;
            let wrapped = Vector2::new(
                shifted.x.rem_euclid(tile) - tile * 0.5,
                shifted.y.rem_euclid(tile) - tile * 0.5,
            );
            if wrapped.x.abs() > viewport.x && wrapped.y.abs() > viewport.y {
                continue;
            }
            let alpha = star.brightness * (0.35 + 0.65 * depth);
            let color = Color::from_rgba(tint.r, tint.g, tint.b, alpha);
            base.draw_circle(camera_origin + wrapped, star.radius, color);
        }
    }
}

#[godot_api]
impl Starfield {
    /// Rebuilds the star list from the exported properties.
    #[func]
    pub fn regenerate(&mut self) {
        self.stars = generate_stars(
            self.star_count.max(0) as usize,
            self.tile_size.max(1.0),
            self.layers.clamp(1, 255) as u8,
            self.seed as u64,
        );
        self.generated_for = Some(self.generation_key());
        self.base_mut().queue_redraw();
    }

    /// Number of stars currently generated.
    #[func]
    pub fn generated_star_count(&self) -> i32 {
        self.stars.len() as i32
    }

    /// Position of star `index` in tile coordinates (zero vector when out of range).
    #[func]
    pub fn star_position(&self, index: i32) -> Vector2 {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.stars.get(i))
            .map(|s| s.position)
            .unwrap_or(Vector2::ZERO)
    }

    fn generation_key(&self) -> (i32, i32, i64, u32) {
        (
            self.star_count,
            self.layers,
            self.seed,
            self.tile_size.to_bits(),
        )
    }

    fn camera_origin(&self) -> Vector2 {
        // The inverse canvas transform maps the screen's top-left to the world;
        // adding half the view gives the point the camera looks at.
        let canvas = self.base().get_canvas_transform();
        let view = self.base().get_viewport_rect().size;
        canvas.affine_inverse() * (view * 0.5)
    }
}

/// Deterministic star scattering (SplitMix64), independent of the engine.
pub fn generate_stars(count: usize, tile: f32, layers: u8, seed: u64) -> Vec<Star> {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 40) as f32 / (1u64 << 24) as f32
    };
    (0..count)
        .map(|_| {
            let x = next() * tile;
            let y = next() * tile;
            let layer = ((next() * layers as f32) as u8).min(layers.saturating_sub(1));
            let radius = 0.6 + next() * (0.6 + layer as f32 * 0.5);
            let brightness = 0.3 + next() * 0.7;
            Star {
                position: Vector2::new(x, y),
                radius,
                brightness,
                layer,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sky() {
        assert_eq!(
            generate_stars(50, 1024.0, 3, 9),
            generate_stars(50, 1024.0, 3, 9)
        );
        assert_ne!(
            generate_stars(50, 1024.0, 3, 9),
            generate_stars(50, 1024.0, 3, 10)
        );
    }

    #[test]
    fn stars_stay_inside_the_tile_and_layers() {
        for star in generate_stars(2000, 512.0, 3, 1) {
            assert!((0.0..512.0).contains(&star.position.x));
            assert!((0.0..512.0).contains(&star.position.y));
            assert!(star.layer < 3);
        }
    }
}
