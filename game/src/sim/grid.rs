//! A uniform grid over the zone for "nearest piece within r" and "pieces in
//! this rectangle" without scanning every piece.
//!
//! It is a *loose* grid: rebuilt (one counting sort, O(n)) every few ticks
//! rather than every tick, because pieces drift at most 20 px/s. A query
//! widens its rectangle by the farthest any piece can have drifted since the
//! last rebuild and then checks each candidate's exact current position, so
//! results equal a brute-force scan. Pieces wrap around the zone edges while
//! the grid is stale, so the widened rectangle is wrapped too (the zone is a
//! torus for debris). Slots appended after the rebuild (new spawns) are not
//! in the grid and are checked one by one; there are at most a few.

use bevy_ecs::prelude::Resource;

use super::field::{DebrisField, FREE};
use crate::debris::{FIXED_ONE, MAX_DRIFT_SPEED, TICK_SECONDS};

/// Cell side: 128 px (a power of two, so a cell is a shift away).
pub const CELL_SHIFT: u32 = 7 + crate::debris::FIXED_SHIFT;

/// Upper bound of one axis of drift per tick, fixed point.
pub const MAX_DRIFT_PER_TICK: i64 = (MAX_DRIFT_SPEED * TICK_SECONDS * FIXED_ONE as f64) as i64 + 2;

/// The grid: cell `c` holds slots `entries[cell_start[c]..cell_start[c + 1]]`.
#[derive(Resource, Debug, Clone, Default)]
pub struct SpatialGrid {
    cells_per_side: usize,
    half: i64,
    size: i64,
    cell_start: Vec<u32>,
    entries: Vec<u32>,
    cell_of_slot: Vec<u32>,
    /// Tick of the last rebuild.
    pub built_tick: u64,
    /// Slots `0..covered` were placed at the last rebuild.
    pub covered: usize,
    /// Set when a piece re-entered the field off-grid; rebuild next tick.
    pub needs_rebuild: bool,
}

/// An inclusive range of cells along one axis.
type CellRange = (usize, usize);

impl SpatialGrid {
    pub fn new(half: i32, size: i32) -> SpatialGrid {
        let size = i64::from(size);
        let cells_per_side = ((size + (1 << CELL_SHIFT) - 1) >> CELL_SHIFT).max(1) as usize;
        SpatialGrid {
            cells_per_side,
            half: i64::from(half),
            size,
            cell_start: vec![0; cells_per_side * cells_per_side + 1],
            ..SpatialGrid::default()
        }
    }

    fn cell_along(&self, coordinate: i64) -> usize {
        let cell = (coordinate + self.half) >> CELL_SHIFT;
        cell.clamp(0, self.cells_per_side as i64 - 1) as usize
    }

    /// Places every FREE slot of `field` (a counting sort by cell).
    pub fn rebuild(&mut self, field: &DebrisField, tick: u64) {
        let n = self.cells_per_side;
        let cells = n * n;
        self.cell_start.clear();
        self.cell_start.resize(cells + 1, 0);
        self.cell_of_slot.clear();
        self.cell_of_slot.reserve(field.len());
        let shift = CELL_SHIFT;
        let half = self.half as i32;
        let last = n as i32 - 1;
        // Counting pass: computing the cell is branch-free arithmetic.
        for ((&x, &y), &state) in field.x.iter().zip(&field.y).zip(&field.state) {
            let cx = ((x + half) >> shift).clamp(0, last) as u32;
            let cy = ((y + half) >> shift).clamp(0, last) as u32;
            let cell = if state == FREE {
                cy * n as u32 + cx
            } else {
                cells as u32
            };
            self.cell_of_slot.push(cell);
            if state == FREE {
                self.cell_start[cell as usize + 1] += 1;
            }
        }
        for c in 0..cells {
            self.cell_start[c + 1] += self.cell_start[c];
        }
        let placed = self.cell_start[cells] as usize;
        self.entries.clear();
        self.entries.resize(placed, 0);
        // Fill pass, using cell_start as the write cursors, then shifting back.
        let mut cursor = self.cell_start.clone();
        for (slot, &cell) in self.cell_of_slot.iter().enumerate() {
            if (cell as usize) < cells {
                let at = &mut cursor[cell as usize];
                self.entries[*at as usize] = slot as u32;
                *at += 1;
            }
        }
        self.built_tick = tick;
        self.covered = field.len();
        self.needs_rebuild = false;
    }

    /// Cell ranges along one axis covering `[lo, hi]` (fixed point,
    /// possibly beyond the zone), with wrap-around, merged so no cell is
    /// listed twice.
    fn axis_ranges(&self, lo: i64, hi: i64) -> ([CellRange; 3], usize) {
        let mut ranges = [(0, 0); 3];
        if hi - lo >= self.size {
            ranges[0] = (0, self.cells_per_side - 1);
            return (ranges, 1);
        }
        let mut count = 0;
        let top = self.half - 1;
        let mut push = |from: i64, to: i64| {
            if from <= to {
                ranges[count] = (self.cell_along(from), self.cell_along(to));
                count += 1;
            }
        };
        push(lo.max(-self.half), hi.min(top));
        if lo < -self.half {
            push((lo + self.size).max(-self.half), top);
        }
        if hi > top {
            push(-self.half, (hi - self.size).min(top));
        }
        let slice = &mut ranges[..count];
        slice.sort_unstable();
        let mut merged = 0;
        for i in 0..count {
            let (from, to) = slice[i];
            if merged > 0 && from <= slice[merged - 1].1 + 1 {
                slice[merged - 1].1 = slice[merged - 1].1.max(to);
            } else {
                slice[merged] = (from, to);
                merged += 1;
            }
        }
        (ranges, merged)
    }

    /// Calls `visit(slot)` for every slot that may lie in the rectangle
    /// `[min, max]` (fixed point) at tick `now`: a superset; the caller
    /// checks exact positions. Every slot is visited at most once.
    pub fn for_each_candidate(
        &self,
        field: &DebrisField,
        now: u64,
        min: (i64, i64),
        max: (i64, i64),
        mut visit: impl FnMut(usize),
    ) {
        let slack = MAX_DRIFT_PER_TICK * now.saturating_sub(self.built_tick).min(1 << 30) as i64;
        let (xs, x_count) = self.axis_ranges(min.0 - slack, max.0 + slack);
        let (ys, y_count) = self.axis_ranges(min.1 - slack, max.1 + slack);
        let n = self.cells_per_side;
        for &(y0, y1) in &ys[..y_count] {
            for cy in y0..=y1 {
                for &(x0, x1) in &xs[..x_count] {
                    let from = self.cell_start[cy * n + x0] as usize;
                    let to = self.cell_start[cy * n + x1 + 1] as usize;
                    // Cells x0..=x1 of one row are contiguous in `entries`.
                    for &slot in &self.entries[from..to] {
                        visit(slot as usize);
                    }
                }
            }
        }
        for slot in self.covered.min(field.len())..field.len() {
            visit(slot);
        }
    }
}

/// Squared distance in fixed point, exact in i64 (coordinates < 2^31).
#[inline]
pub fn distance_sq(ax: i64, ay: i64, bx: i64, by: i64) -> i128 {
    let dx = i128::from(ax - bx);
    let dy = i128::from(ay - by);
    dx * dx + dy * dy
}

/// FREE slots within `radius` of `(x, y)` (fixed point), through the grid,
/// sorted by (distance, index) so ties break the same way everywhere.
pub fn within_radius(
    grid: &SpatialGrid,
    field: &DebrisField,
    now: u64,
    center: (i64, i64),
    radius: i64,
    out: &mut Vec<(i128, usize)>,
) {
    out.clear();
    let limit = i128::from(radius) * i128::from(radius);
    grid.for_each_candidate(
        field,
        now,
        (center.0 - radius, center.1 - radius),
        (center.0 + radius, center.1 + radius),
        |slot| {
            if field.state[slot] == FREE {
                let d = distance_sq(
                    center.0,
                    center.1,
                    i64::from(field.x[slot]),
                    i64::from(field.y[slot]),
                );
                if d <= limit {
                    out.push((d, slot));
                }
            }
        },
    );
    out.sort_unstable_by_key(|&(d, slot)| (d, field.index[slot]));
}

/// Nearest FREE slot within `radius` (ties: lowest debris index).
pub fn nearest_within(
    grid: &SpatialGrid,
    field: &DebrisField,
    now: u64,
    center: (i64, i64),
    radius: i64,
) -> Option<usize> {
    let limit = i128::from(radius) * i128::from(radius);
    let mut best: Option<(i128, u32, usize)> = None;
    grid.for_each_candidate(
        field,
        now,
        (center.0 - radius, center.1 - radius),
        (center.0 + radius, center.1 + radius),
        |slot| {
            if field.state[slot] == FREE {
                let d = distance_sq(
                    center.0,
                    center.1,
                    i64::from(field.x[slot]),
                    i64::from(field.y[slot]),
                );
                let key = (d, field.index[slot], slot);
                if d <= limit && best.is_none_or(|b| (key.0, key.1) < (b.0, b.1)) {
                    best = Some(key);
                }
            }
        },
    );
    best.map(|(_, _, slot)| slot)
}

/// Brute-force reference for [`within_radius`]; used by tests.
pub fn within_radius_brute(
    field: &DebrisField,
    center: (i64, i64),
    radius: i64,
) -> Vec<(i128, usize)> {
    let limit = i128::from(radius) * i128::from(radius);
    let mut out: Vec<(i128, usize)> = (0..field.len())
        .filter(|&slot| field.state[slot] == FREE)
        .map(|slot| {
            (
                distance_sq(
                    center.0,
                    center.1,
                    i64::from(field.x[slot]),
                    i64::from(field.y[slot]),
                ),
                slot,
            )
        })
        .filter(|&(d, _)| d <= limit)
        .collect();
    out.sort_unstable_by_key(|&(d, slot)| (d, field.index[slot]));
    out
}
