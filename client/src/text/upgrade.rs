//! Words for upgrades: what a level does, in the numbers the ship will have.
//! Derived from `game::ShipEffects`, so the text can never disagree with the
//! simulation. Plain Rust, unit-tested.

use game::ship::ShipEffects;
use game::{Catalog, Level, UpgradeId, UpgradeLevels};

/// Effect of `id` at `level` (all other upgrades at 0), e.g.
/// "max speed 280 px/s, accel 400 px/s²".
pub fn effect_at(catalog: &Catalog, id: UpgradeId, level: Level) -> String {
    let effects = ShipEffects::from_levels(catalog, &UpgradeLevels::default().with(id, level));
    match id {
        UpgradeId::SpeedBoost => format!(
            "max speed {:.0} px/s, accel {:.0} px/s²",
            effects.max_forward_speed, effects.acceleration
        ),
        UpgradeId::InventoryExpansion => format!("hold {} slots", effects.hold_capacity),
        UpgradeId::CollectionEfficiency => format!(
            "reach {:.0} px, cooldown {:.2} s",
            effects.collection_range, effects.collection_cooldown
        ),
        UpgradeId::CargoMagnet => match effects.magnet {
            Some(m) => format!(
                "pulls {} in {:.0} px every {:.1} s",
                m.max_pieces, m.radius, m.interval
            ),
            None => "no magnet".to_owned(),
        },
        UpgradeId::ZoneAccess => {
            let name = catalog
                .zone(effects.zone_access)
                .map_or_else(String::new, |z| z.name.clone());
            format!("zones up to {} ({name})", effects.zone_access)
        }
        UpgradeId::DebrisScanner => match effects.scanner {
            Some(s) => format!(
                "radar {:.0} px, ≥{} cr{}",
                s.radius,
                s.min_value,
                if s.shows_values { ", values shown" } else { "" }
            ),
            None => "no radar".to_owned(),
        },
    }
}

/// Short HUD tag, e.g. "THR 2".
pub fn short_tag(id: UpgradeId) -> &'static str {
    match id {
        UpgradeId::SpeedBoost => "THR",
        UpgradeId::InventoryExpansion => "BAY",
        UpgradeId::CollectionEfficiency => "ARM",
        UpgradeId::CargoMagnet => "MAG",
        UpgradeId::ZoneAccess => "CLR",
        UpgradeId::DebrisScanner => "SCN",
    }
}

/// What a zone needs, e.g. "needs Deep Space Clearance level 2".
pub fn zone_requirement(catalog: &Catalog, access: Level) -> String {
    let name = catalog.upgrade(UpgradeId::ZoneAccess).name;
    format!("needs {name} level {access}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_use_the_catalog_numbers() {
        let c = Catalog::shipped();
        assert_eq!(
            effect_at(c, UpgradeId::SpeedBoost, 1),
            "max speed 280 px/s, accel 400 px/s²"
        );
        assert_eq!(
            effect_at(c, UpgradeId::InventoryExpansion, 2),
            "hold 20 slots"
        );
        assert!(effect_at(c, UpgradeId::CargoMagnet, 1).starts_with("pulls 3 in 160 px"));
        assert!(effect_at(c, UpgradeId::ZoneAccess, 1).contains("Graveyard Orbit"));
        assert!(effect_at(c, UpgradeId::DebrisScanner, 3).contains("values shown"));
        assert_eq!(zone_requirement(c, 2), "needs Deep Space Clearance level 2");
    }
}
