//! `DebrisField`: every visible debris piece in one draw call.
//!
//! A `MultiMeshInstance2D` whose mesh (an irregular shard, white) is built in
//! code; each instance gets a 2D transform (position, spin, size by rarity)
//! and a colour (the kind's catalog colour). The zone hands over only the
//! pieces inside the camera's view, and the whole instance buffer goes to the
//! engine in one `set_buffer` call.

use game::Catalog;
use game::catalog::Rarity;
use game::sim::DebrisView;
use godot::classes::mesh::{ArrayType, PrimitiveType};
use godot::classes::multi_mesh::TransformFormat;
use godot::classes::{ArrayMesh, IMultiMeshInstance2D, MultiMesh, MultiMeshInstance2D};
use godot::prelude::*;

use crate::theme::palette;

/// Floats per instance in the MultiMesh buffer: 8 for a 2D transform, 4 for the colour.
const FLOATS_PER_INSTANCE: usize = 12;

/// Batched debris renderer. See the module docs.
#[derive(GodotClass)]
#[class(base = MultiMeshInstance2D, init, tool)]
pub struct DebrisField {
    /// Most pieces drawn at once (instances allocated).
    #[export(range = (16.0, 100000.0, 1.0, or_greater))]
    #[init(val = 12000)]
    max_instances: i32,
    /// Radius of a common piece, px; rarer kinds are drawn bigger.
    #[export(range = (2.0, 48.0, 0.5))]
    #[init(val = 9.0)]
    piece_radius: f32,
    /// Extra size per rarity step (common 0, legendary 3).
    #[export(range = (0.0, 1.0, 0.01))]
    #[init(val = 0.22)]
    rarity_growth: f32,
    /// Brightness boost of a piece the magnet is pulling.
    #[export(range = (1.0, 3.0, 0.05))]
    #[init(val = 1.6)]
    pulled_glow: f32,
    colours: Vec<Color>,
    scales: Vec<f32>,
    buffer: PackedFloat32Array,
    drawn: usize,
    base: Base<MultiMeshInstance2D>,
}

#[godot_api]
impl IMultiMeshInstance2D for DebrisField {
    fn ready(&mut self) {
        let catalog = Catalog::shipped();
        self.colours = catalog
            .debris_kinds()
            .iter()
            .map(|k| palette::from_hex(&k.colour))
            .collect();
        self.scales = catalog
            .debris_kinds()
            .iter()
            .map(|k| {
                let step = match k.rarity {
                    Rarity::Common => 0.0,
                    Rarity::Uncommon => 1.0,
                    Rarity::Rare => 2.0,
                    Rarity::Legendary => 3.0,
                };
                1.0 + self.rarity_growth * step
            })
            .collect();
        let mut multimesh = MultiMesh::new_gd();
        multimesh.set_transform_format(TransformFormat::TRANSFORM_2D);
        multimesh.set_use_colors(true);
        multimesh.set_mesh(&shard_mesh(self.piece_radius));
        multimesh.set_instance_count(self.max_instances.max(1));
        multimesh.set_visible_instance_count(0);
        self.base_mut().set_multimesh(&multimesh);
    }
}

#[godot_api]
impl DebrisField {
    /// Pieces drawn in the last update.
    #[func]
    pub fn drawn_count(&self) -> i32 {
        self.drawn as i32
    }

    /// Instances the MultiMesh holds.
    #[func]
    pub fn capacity(&self) -> i32 {
        self.base()
            .get_multimesh()
            .map_or(0, |m| m.get_instance_count())
    }
}

impl DebrisField {
    /// Draws exactly `views` (already culled to the view), up to the capacity.
    pub fn show(&mut self, views: &[DebrisView]) {
        let Some(mut multimesh) = self.base().get_multimesh() else {
            return;
        };
        let capacity = multimesh.get_instance_count().max(0) as usize;
        let count = views.len().min(capacity);
        // set_buffer needs the whole buffer (instance_count entries).
        let needed = capacity * FLOATS_PER_INSTANCE;
        if self.buffer.len() != needed {
            self.buffer.resize(needed);
        }
        {
            let data = self.buffer.as_mut_slice();
            for (i, view) in views.iter().take(count).enumerate() {
                let kind = usize::from(view.kind.0);
                let scale = self.scales.get(kind).copied().unwrap_or(1.0);
                let mut colour = self.colours.get(kind).copied().unwrap_or(palette::CYAN);
                if view.pulled {
                    colour = Color::from_rgba(
                        (colour.r * self.pulled_glow).min(1.0),
                        (colour.g * self.pulled_glow).min(1.0),
                        (colour.b * self.pulled_glow).min(1.0),
                        1.0,
                    );
                }
                let (sin, cos) = view.rotation.sin_cos();
                let o = i * FLOATS_PER_INSTANCE;
                // Row-major 2x4 as Godot stores a 2D transform in a MultiMesh.
                data[o] = cos * scale;
                data[o + 1] = -sin * scale;
                data[o + 2] = 0.0;
                data[o + 3] = view.x;
                data[o + 4] = sin * scale;
                data[o + 5] = cos * scale;
                data[o + 6] = 0.0;
                data[o + 7] = view.y;
                data[o + 8] = colour.r;
                data[o + 9] = colour.g;
                data[o + 10] = colour.b;
                data[o + 11] = colour.a;
            }
        }
        multimesh.set_buffer(&self.buffer);
        multimesh.set_visible_instance_count(count as i32);
        self.drawn = count;
    }
}

/// A white, slightly irregular heptagon of `radius` px (tinted per instance).
fn shard_mesh(radius: f32) -> Gd<ArrayMesh> {
    let corners = [1.0, 0.72, 0.95, 0.8, 1.05, 0.7, 0.9];
    let n = corners.len();
    let mut vertices = PackedVector2Array::new();
    let mut colours = PackedColorArray::new();
    let mut indices = PackedInt32Array::new();
    vertices.push(Vector2::ZERO);
    colours.push(Color::from_rgba(1.0, 1.0, 1.0, 1.0));
    for (i, k) in corners.iter().enumerate() {
        let angle = i as f32 / n as f32 * std::f32::consts::TAU;
        vertices.push(Vector2::new(angle.cos(), angle.sin()) * radius * *k);
        // Darker rim so a piece reads as a solid object.
        colours.push(Color::from_rgba(0.62, 0.62, 0.66, 1.0));
    }
    for i in 0..n {
        indices.push(0);
        indices.push(1 + i as i32);
        indices.push(1 + ((i + 1) % n) as i32);
    }
    let mut arrays = VarArray::new();
    arrays.resize(ArrayType::MAX.ord() as usize, &Variant::nil());
    arrays.set(ArrayType::VERTEX.ord() as usize, &vertices.to_variant());
    arrays.set(ArrayType::COLOR.ord() as usize, &colours.to_variant());
    arrays.set(ArrayType::INDEX.ord() as usize, &indices.to_variant());
    let mut mesh = ArrayMesh::new_gd();
    mesh.add_surface_from_arrays(PrimitiveType::TRIANGLES, &arrays);
    mesh
}
