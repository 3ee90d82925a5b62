//! What a set of upgrade levels makes of the ship: speeds, turn rates, hold,
//! collection reach and cooldown, magnet, scanner and zone clearance.
//!
//! One function, [`ShipEffects::from_levels`], used by the zone simulation,
//! the server's claim verification, the client's HUD and hub panels, so a
//! retuned number in `catalog.toml` changes all of them at once.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::catalog::{Catalog, Credits, ItemCount, Level, UpgradeId, ZoneId};

/// Level of each of the six upgrades. On the wire: a map naming all six ids
/// (`{"speed_boost":1,...}`); ids missing when reading count as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UpgradeLevels([Level; UpgradeId::COUNT]);

impl UpgradeLevels {
    pub fn get(&self, id: UpgradeId) -> Level {
        self.0[id.ordinal()]
    }

    pub fn set(&mut self, id: UpgradeId, level: Level) {
        self.0[id.ordinal()] = level;
    }

    /// A copy with one level changed.
    pub fn with(mut self, id: UpgradeId, level: Level) -> Self {
        self.set(id, level);
        self
    }

    /// `(id, level)` for all six, in catalog order.
    pub fn iter(&self) -> impl Iterator<Item = (UpgradeId, Level)> + '_ {
        UpgradeId::ALL.into_iter().map(|id| (id, self.get(id)))
    }
}

impl Serialize for UpgradeLevels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let map: BTreeMap<UpgradeId, Level> = self.iter().collect();
        map.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for UpgradeLevels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<UpgradeId, Level>::deserialize(deserializer)?;
        let mut levels = UpgradeLevels::default();
        for (id, level) in map {
            levels.set(id, level);
        }
        Ok(levels)
    }
}

/// Cargo magnet numbers at a level >= 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MagnetEffect {
    /// Seconds between pulses.
    pub interval: f64,
    /// Most pieces one pulse grabs.
    pub max_pieces: u32,
    /// Reach of a pulse, px from the ship.
    pub radius: f64,
}

/// Debris scanner numbers at a level >= 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScannerEffect {
    pub radius: f64,
    /// Only debris worth at least this shows.
    pub min_value: Credits,
    /// Whether blips show their value.
    pub shows_values: bool,
}

/// What a set of upgrade levels means for the ship, in px, s and rad.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShipEffects {
    pub max_forward_speed: f64,
    pub max_reverse_speed: f64,
    pub acceleration: f64,
    pub braking: f64,
    pub drag: f64,
    /// Radians per second at rest.
    pub turn_rate_at_rest: f64,
    /// Radians per second at max forward speed.
    pub turn_rate_at_max_speed: f64,
    pub hold_capacity: ItemCount,
    pub collection_range: f64,
    pub collection_cooldown: f64,
    pub magnet: Option<MagnetEffect>,
    pub scanner: Option<ScannerEffect>,
    /// Highest zone the player may enter.
    pub zone_access: ZoneId,
}

impl ShipEffects {
    /// Effects of `levels` under `catalog`'s numbers. Levels above an
    /// upgrade's max are treated as the max.
    pub fn from_levels(catalog: &Catalog, levels: &UpgradeLevels) -> ShipEffects {
        let defs = catalog.upgrade_defs();
        let ship = catalog.ship();
        let collection = catalog.collection();
        let level = |id: UpgradeId| levels.get(id).min(catalog.upgrade(id).max_level());

        let speed = f64::from(level(UpgradeId::SpeedBoost));
        let max_forward_speed =
            ship.max_forward_speed + defs.speed_boost.max_speed_per_level * speed;
        let acceleration = ship.acceleration + defs.speed_boost.acceleration_per_level * speed;

        let hold_capacity = collection.hold_base_capacity.saturating_add(
            defs.inventory_expansion
                .hold_per_level
                .saturating_mul(level(UpgradeId::InventoryExpansion)),
        );

        let efficiency = f64::from(level(UpgradeId::CollectionEfficiency));
        let collection_range =
            collection.base_range + defs.collection_efficiency.range_per_level * efficiency;
        let collection_cooldown = (collection.base_cooldown
            - defs.collection_efficiency.cooldown_per_level * efficiency)
            .max(collection.cooldown_floor);

        let magnet_level = level(UpgradeId::CargoMagnet);
        let magnet = (magnet_level > 0).then(|| {
            let m = &defs.cargo_magnet;
            let l = f64::from(magnet_level);
            MagnetEffect {
                interval: m.base_interval - m.interval_per_level * l,
                max_pieces: m.base_pieces + m.pieces_per_level * magnet_level,
                radius: m.base_radius + m.radius_per_level * l,
            }
        });

        let scanner_level = level(UpgradeId::DebrisScanner);
        let scanner = (scanner_level > 0).then(|| {
            let s = &defs.debris_scanner;
            ScannerEffect {
                radius: s.base_radius + s.radius_per_level * f64::from(scanner_level),
                min_value: collection.scanner_min_value,
                shows_values: scanner_level >= s.show_values_from_level,
            }
        });

        ShipEffects {
            max_forward_speed,
            max_reverse_speed: max_forward_speed * ship.reverse_speed_factor,
            acceleration,
            braking: ship.braking,
            drag: ship.drag,
            turn_rate_at_rest: ship.turn_rate_at_rest.to_radians(),
            turn_rate_at_max_speed: ship.turn_rate_at_max_speed.to_radians(),
            hold_capacity,
            collection_range,
            collection_cooldown,
            magnet,
            scanner,
            zone_access: highest_zone_allowed(catalog, level(UpgradeId::ZoneAccess)),
        }
    }
}

/// Highest zone id whose access level is within `clearance` (0 if none).
pub fn highest_zone_allowed(catalog: &Catalog, clearance: Level) -> ZoneId {
    catalog
        .zones()
        .iter()
        .filter(|zone| zone.access <= clearance)
        .map(|zone| zone.id)
        .max()
        .unwrap_or(0)
}
