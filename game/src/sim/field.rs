//! The live debris of a run as a structure of arrays.
//!
//! 100,000 pieces must drift in well under a millisecond, so the hot data is
//! four `i32` arrays (x, y, vx, vy) updated by one branch-free loop the
//! compiler vectorises; everything else about a piece (index, kind, spin...)
//! lives in parallel arrays that the drift never touches. A slot is a
//! position in these arrays; it changes when collected pieces are compacted
//! away, so anything kept across ticks refers to a piece by its
//! [`DebrisIndex`], not its slot.

use bevy_ecs::prelude::Resource;

use crate::catalog::KindIndex;
use crate::debris::{DebrisIndex, DebrisSpec, FieldRules};

/// Slot state: in the field and collectable.
pub const FREE: u8 = 0;
/// Slot state: grabbed by the magnet, flying to the ship (still drawn).
pub const PULLED: u8 = 1;
/// Slot state: collected; removed at the next compaction.
pub const GONE: u8 = 2;

/// Live debris, structure of arrays. Positions are fixed point
/// (`debris::FIXED_ONE` per px) inside `[-half, half)`.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct DebrisField {
    pub x: Vec<i32>,
    pub y: Vec<i32>,
    pub velocity_x: Vec<i32>,
    pub velocity_y: Vec<i32>,
    pub index: Vec<DebrisIndex>,
    pub kind: Vec<KindIndex>,
    pub spawn_tick: Vec<u64>,
    pub rotation: Vec<f32>,
    pub spin: Vec<f32>,
    pub state: Vec<u8>,
    /// Pieces not yet collected (FREE + PULLED): what the spawn cap counts.
    pub alive: usize,
    /// Slots in state GONE, waiting for compaction.
    pub gone: usize,
    pub half: i32,
    pub size: i32,
}

impl DebrisField {
    pub fn new(rules: &FieldRules) -> Self {
        DebrisField {
            half: rules.half_fixed,
            size: rules.size_fixed as i32,
            ..DebrisField::default()
        }
    }

    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Adds a piece at its spawn position.
    pub fn push(&mut self, spec: &DebrisSpec) {
        self.x.push(spec.spawn_x);
        self.y.push(spec.spawn_y);
        self.velocity_x.push(spec.velocity_x);
        self.velocity_y.push(spec.velocity_y);
        self.index.push(spec.index);
        self.kind.push(spec.kind);
        self.spawn_tick.push(spec.spawn_tick);
        self.rotation.push(spec.rotation);
        self.spin.push(spec.spin);
        self.state.push(FREE);
        self.alive += 1;
    }

    /// Marks a slot collected.
    pub fn remove(&mut self, slot: usize) {
        if self.state[slot] != GONE {
            self.state[slot] = GONE;
            self.alive -= 1;
            self.gone += 1;
        }
    }

    /// Moves every piece by one tick of drift, wrapping at the zone edges.
    ///
    /// Collected and pulled slots drift too: skipping them would cost a
    /// branch per piece, and their positions are either unused or
    /// overwritten by the magnet afterwards.
    pub fn drift(&mut self) {
        drift_axis(&mut self.x, &self.velocity_x, self.half, self.size);
        drift_axis(&mut self.y, &self.velocity_y, self.half, self.size);
    }

    /// Drops GONE slots, keeping order. Returns how many were removed.
    pub fn compact(&mut self) -> usize {
        if self.gone == 0 {
            return 0;
        }
        let keep: Vec<bool> = self.state.iter().map(|&s| s != GONE).collect();
        fn retain<T>(values: &mut Vec<T>, keep: &[bool]) {
            let mut i = 0;
            values.retain(|_| {
                let k = keep[i];
                i += 1;
                k
            });
        }
        retain(&mut self.x, &keep);
        retain(&mut self.y, &keep);
        retain(&mut self.velocity_x, &keep);
        retain(&mut self.velocity_y, &keep);
        retain(&mut self.index, &keep);
        retain(&mut self.kind, &keep);
        retain(&mut self.spawn_tick, &keep);
        retain(&mut self.rotation, &keep);
        retain(&mut self.spin, &keep);
        retain(&mut self.state, &keep);
        let removed = self.gone;
        self.gone = 0;
        removed
    }

    /// Slot of a piece, by a linear search (used only for the few pieces the
    /// magnet holds, after a compaction).
    pub fn slot_of(&self, index: DebrisIndex) -> Option<usize> {
        self.index.iter().position(|&i| i == index)
    }
}

/// `coordinate += velocity`, wrapped into `[-half, half)`. Written without
/// branches so it compiles to SIMD compares and masks.
#[inline]
pub fn drift_axis(coordinates: &mut [i32], velocities: &[i32], half: i32, size: i32) {
    for (c, &v) in coordinates.iter_mut().zip(velocities) {
        let mut n = *c + v;
        n -= size & -i32::from(n >= half);
        n += size & -i32::from(n < -half);
        *c = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn drift_matches_the_closed_form_for_many_ticks() {
        let rules = FieldRules::new(Catalog::shipped(), 1, 77).unwrap();
        let mut field = DebrisField::new(&rules);
        let specs: Vec<_> = (0..300).map(|i| rules.spec(i)).collect();
        for spec in &specs {
            field.push(spec);
        }
        for tick in 1..=5_000u64 {
            field.drift();
            if tick % 997 == 0 {
                for (slot, spec) in specs.iter().enumerate() {
                    assert_eq!(
                        rules.position_at_tick(spec, tick),
                        Some((field.x[slot], field.y[slot]))
                    );
                }
            }
        }
    }

    #[test]
    fn compact_keeps_order_and_counts() {
        let rules = FieldRules::new(Catalog::shipped(), 1, 1).unwrap();
        let mut field = DebrisField::new(&rules);
        for i in 0..10 {
            field.push(&rules.spec(i));
        }
        field.remove(3);
        field.remove(3);
        field.remove(7);
        assert_eq!((field.alive, field.gone), (8, 2));
        assert_eq!(field.compact(), 2);
        assert_eq!(field.index, [0, 1, 2, 4, 5, 6, 8, 9]);
        assert_eq!(field.len(), 8);
        assert_eq!(field.slot_of(8), Some(6));
        assert_eq!(field.compact(), 0);
    }
}
