//! A player's economic state and the operations on it: collect, sell, buy an
//! upgrade, trade; and the ship effects derived from upgrade levels.
//!
//! Every operation is all-or-nothing: it checks everything first and only
//! then changes the state, returning a typed [`EconomyError`] (with the wire
//! `code()` the API uses) and leaving the state untouched on failure. Credits
//! and items change only by the amounts the returned receipt states.
//!
//! The backend runs these inside its database transaction; the client runs
//! them to predict. This module must not do I/O, keep time, or know Godot.
//!
//! Number choices: [`Credits`] `u64`, [`ItemCount`] `u32` per kind (the hold
//! sum is computed in `u64`, so it cannot overflow), [`Level`] `u32`,
//! lifetime stats `u64`. Arithmetic that could overflow is checked.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Credits, ItemCount, Level, Rarity, UpgradeId, ZoneId};
pub use crate::ship::{
    MagnetEffect, ScannerEffect, ShipEffects, UpgradeLevels, highest_zone_allowed,
};

/// Why an economy operation was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EconomyError {
    #[error("unknown debris kind `{0}`")]
    UnknownKind(String),
    #[error("unknown zone {0}")]
    UnknownZone(ZoneId),
    #[error("zone {zone} needs clearance level {needed}, you have {have}")]
    ZoneLocked {
        zone: ZoneId,
        needed: Level,
        have: Level,
    },
    #[error("hold full: {used} of {capacity} slots used, {requested} more requested")]
    HoldFull {
        used: u64,
        capacity: u64,
        requested: u64,
    },
    #[error("not enough `{kind}`: have {have}, need {need}")]
    InsufficientItems { kind: String, have: u64, need: u64 },
    #[error("not enough credits: have {have}, need {need}")]
    InsufficientCredits { have: Credits, need: Credits },
    #[error("not enough `{upgrade}` levels: have {have}, need {need}")]
    InsufficientUpgrades {
        upgrade: UpgradeId,
        have: Level,
        need: Level,
    },
    #[error("`{upgrade}` is at its max level {max}")]
    MaxLevel { upgrade: UpgradeId, max: Level },
    #[error("`{upgrade}` would exceed its max level {max} (would be {would_be})")]
    AboveMaxLevel {
        upgrade: UpgradeId,
        max: Level,
        would_be: u64,
    },
    #[error("the hold is empty: nothing to sell")]
    NothingToSell,
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("credit balance would overflow")]
    CreditsOverflow,
    /// A traded level is the giver's top level and lands right above the
    /// receiver's own: a pilot at level `receiver_level` can receive `count`
    /// levels of `upgrade` only from a pilot at `receiver_level + count`.
    #[error(
        "`{upgrade}` levels move only from the top: a pilot at level {giver_level} can give {count} to a pilot at level {}, not {receiver_level}",
        giver_level.saturating_sub(*count)
    )]
    UpgradeNotTransferable {
        upgrade: UpgradeId,
        giver_level: Level,
        receiver_level: Level,
        count: Level,
    },
    /// Start credits stay with the account until it has earned as much by
    /// selling (or verified its email): see
    /// [`PlayerState::transferable_credits`].
    #[error(
        "start credits cannot be given away before the account has earned its own or verified its email: {transferable} of {have} credits are transferable, {need} asked"
    )]
    StartCreditsLocked {
        have: Credits,
        transferable: Credits,
        need: Credits,
    },
}

impl EconomyError {
    /// The snake_case error code of the API's error body.
    pub fn code(&self) -> &'static str {
        use crate::codes;
        match self {
            EconomyError::UnknownKind(_) => codes::INVALID_REQUEST,
            EconomyError::UnknownZone(_) => codes::UNKNOWN_ZONE,
            EconomyError::ZoneLocked { .. } => codes::ZONE_LOCKED,
            EconomyError::HoldFull { .. } => codes::HOLD_FULL,
            EconomyError::InsufficientItems { .. } | EconomyError::NothingToSell => {
                codes::INSUFFICIENT_ITEMS
            }
            EconomyError::InsufficientCredits { .. } => codes::INSUFFICIENT_CREDITS,
            EconomyError::InsufficientUpgrades { .. } => codes::INSUFFICIENT_UPGRADES,
            EconomyError::MaxLevel { .. } | EconomyError::AboveMaxLevel { .. } => codes::MAX_LEVEL,
            EconomyError::InvalidRequest(_) => codes::INVALID_REQUEST,
            EconomyError::CreditsOverflow => codes::CREDITS_OVERFLOW,
            EconomyError::UpgradeNotTransferable { .. } => codes::UPGRADE_NOT_TRANSFERABLE,
            EconomyError::StartCreditsLocked { .. } => codes::START_CREDITS_LOCKED,
        }
    }
}

/// Lifetime statistics. The first three are the API's `stats` object; the
/// rest let milestones and audits tell "first X" without another table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PlayerStats {
    pub debris_collected: u64,
    /// Credits received from hub sales (trades do not count: nothing is earned
    /// by moving credits between players).
    pub credits_earned: u64,
    pub trades_completed: u64,
    pub sales_completed: u64,
    pub upgrades_purchased: u64,
    pub legendary_found: u64,
    pub lobbies_joined: u64,
}

/// Everything economic about one player.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayerState {
    pub credits: Credits,
    /// Items in the hold by debris id; only non-zero entries are kept.
    pub inventory: BTreeMap<String, ItemCount>,
    pub upgrades: UpgradeLevels,
    pub stats: PlayerStats,
}

/// What [`PlayerState::collect`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectReceipt {
    pub kind: String,
    pub count: ItemCount,
    pub legendary: bool,
}

/// What a sale did: items removed and credits added.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SaleReceipt {
    pub sold: BTreeMap<String, ItemCount>,
    pub credits_gained: Credits,
}

/// What a purchase did: `cost` credits for `upgrade` at `level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseReceipt {
    pub upgrade: UpgradeId,
    pub level: Level,
    pub cost: Credits,
}

/// One side of a trade: what a player gives. Also the API's `give`/`want`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TradeBundle {
    pub credits: Credits,
    pub items: BTreeMap<String, ItemCount>,
    pub upgrades: BTreeMap<UpgradeId, Level>,
}

impl TradeBundle {
    pub fn is_empty(&self) -> bool {
        self.credits == 0
            && self.items.values().all(|&n| n == 0)
            && self.upgrades.values().all(|&n| n == 0)
    }
}

/// Which side of a trade failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeParty {
    Offerer,
    Receiver,
}

/// A trade refused because of one side; nothing changed on either side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{party:?}: {error}")]
pub struct TradeError {
    pub party: TradeParty,
    pub error: EconomyError,
}

impl PlayerState {
    /// A new player: start credits, empty hold, no upgrades.
    pub fn new_player(catalog: &Catalog) -> PlayerState {
        PlayerState {
            credits: catalog.start().credits,
            inventory: BTreeMap::new(),
            upgrades: UpgradeLevels::default(),
            stats: PlayerStats::default(),
        }
    }

    /// Slots in use (sum of all items).
    pub fn hold_used(&self) -> u64 {
        self.inventory.values().map(|&n| u64::from(n)).sum()
    }

    pub fn hold_capacity(&self, catalog: &Catalog) -> ItemCount {
        self.effects(catalog).hold_capacity
    }

    /// Items of one kind in the hold.
    pub fn items(&self, kind: &str) -> ItemCount {
        self.inventory.get(kind).copied().unwrap_or(0)
    }

    pub fn effects(&self, catalog: &Catalog) -> ShipEffects {
        ShipEffects::from_levels(catalog, &self.upgrades)
    }

    /// Highest zone this player may enter.
    pub fn zone_access(&self, catalog: &Catalog) -> ZoneId {
        highest_zone_allowed(catalog, self.upgrades.get(UpgradeId::ZoneAccess))
    }

    /// Whether this player may start a run in `zone`.
    pub fn check_zone_access(&self, catalog: &Catalog, zone: ZoneId) -> Result<(), EconomyError> {
        let def = catalog.zone(zone).ok_or(EconomyError::UnknownZone(zone))?;
        let have = self.upgrades.get(UpgradeId::ZoneAccess);
        if def.access > have {
            return Err(EconomyError::ZoneLocked {
                zone,
                needed: def.access,
                have,
            });
        }
        Ok(())
    }

    /// Puts `count` items of `kind` in the hold (a verified collection).
    /// Refused whole if they do not all fit.
    pub fn collect(
        &mut self,
        catalog: &Catalog,
        kind: &str,
        count: ItemCount,
    ) -> Result<CollectReceipt, EconomyError> {
        let def = catalog
            .kind_by_id(kind)
            .ok_or_else(|| EconomyError::UnknownKind(kind.to_owned()))?;
        if count == 0 {
            return Err(EconomyError::InvalidRequest(
                "collect count must be > 0".into(),
            ));
        }
        let used = self.hold_used();
        let capacity = u64::from(self.hold_capacity(catalog));
        if used + u64::from(count) > capacity {
            return Err(EconomyError::HoldFull {
                used,
                capacity,
                requested: u64::from(count),
            });
        }
        // Fits in the hold, so it fits in a u32 per kind too (capacity is u32).
        *self.inventory.entry(kind.to_owned()).or_insert(0) += count;
        let legendary = def.rarity == Rarity::Legendary;
        self.stats.debris_collected += u64::from(count);
        if legendary {
            self.stats.legendary_found += u64::from(count);
        }
        Ok(CollectReceipt {
            kind: kind.to_owned(),
            count,
            legendary,
        })
    }

    /// Price of `count` items of `kind` at a hub.
    pub fn sale_value(
        catalog: &Catalog,
        kind: &str,
        count: ItemCount,
    ) -> Result<Credits, EconomyError> {
        let def = catalog
            .kind_by_id(kind)
            .ok_or_else(|| EconomyError::UnknownKind(kind.to_owned()))?;
        let percent = u128::from(catalog.hubs().sell_price_percent);
        let credits = u128::from(def.value) * u128::from(count) * percent / 100;
        Credits::try_from(credits).map_err(|_| EconomyError::CreditsOverflow)
    }

    /// Sells the given quantities. Refused whole if any kind is unknown, any
    /// quantity is zero, or any is more than the hold has.
    pub fn sell(
        &mut self,
        catalog: &Catalog,
        items: &BTreeMap<String, ItemCount>,
    ) -> Result<SaleReceipt, EconomyError> {
        if items.is_empty() {
            return Err(EconomyError::InvalidRequest(
                "nothing to sell was named".into(),
            ));
        }
        let mut credits_gained: Credits = 0;
        for (kind, &count) in items {
            if count == 0 {
                return Err(EconomyError::InvalidRequest(format!(
                    "quantity of `{kind}` is zero"
                )));
            }
            let value = Self::sale_value(catalog, kind, count)?;
            let have = self.items(kind);
            if have < count {
                return Err(EconomyError::InsufficientItems {
                    kind: kind.clone(),
                    have: u64::from(have),
                    need: u64::from(count),
                });
            }
            credits_gained = credits_gained
                .checked_add(value)
                .ok_or(EconomyError::CreditsOverflow)?;
        }
        let new_credits = self
            .credits
            .checked_add(credits_gained)
            .ok_or(EconomyError::CreditsOverflow)?;
        // All checks passed: commit.
        for (kind, &count) in items {
            remove_items(&mut self.inventory, kind, count);
        }
        self.credits = new_credits;
        self.stats.credits_earned = self.stats.credits_earned.saturating_add(credits_gained);
        self.stats.sales_completed += 1;
        Ok(SaleReceipt {
            sold: items.clone(),
            credits_gained,
        })
    }

    /// Sells the whole hold.
    pub fn sell_all(&mut self, catalog: &Catalog) -> Result<SaleReceipt, EconomyError> {
        let items: BTreeMap<String, ItemCount> = self
            .inventory
            .iter()
            .filter(|&(_, &n)| n > 0)
            .map(|(kind, &n)| (kind.clone(), n))
            .collect();
        if items.is_empty() {
            return Err(EconomyError::NothingToSell);
        }
        self.sell(catalog, &items)
    }

    /// Cost of the next level of `upgrade`, or `MaxLevel`.
    pub fn next_upgrade_cost(
        &self,
        catalog: &Catalog,
        upgrade: UpgradeId,
    ) -> Result<Credits, EconomyError> {
        let info = catalog.upgrade(upgrade);
        info.next_cost(self.upgrades.get(upgrade))
            .ok_or(EconomyError::MaxLevel {
                upgrade,
                max: info.max_level(),
            })
    }

    /// Buys the next level of `upgrade`.
    pub fn purchase(
        &mut self,
        catalog: &Catalog,
        upgrade: UpgradeId,
    ) -> Result<PurchaseReceipt, EconomyError> {
        let cost = self.next_upgrade_cost(catalog, upgrade)?;
        if self.credits < cost {
            return Err(EconomyError::InsufficientCredits {
                have: self.credits,
                need: cost,
            });
        }
        let level = self.upgrades.get(upgrade) + 1;
        self.credits -= cost;
        self.upgrades.set(upgrade, level);
        self.stats.upgrades_purchased += 1;
        Ok(PurchaseReceipt {
            upgrade,
            level,
            cost,
        })
    }

    /// Start credits still bound to this account: the catalog's start
    /// credits minus what it has earned by selling (`stats.credits_earned`),
    /// or nothing once its email is verified. A throw-away registration
    /// cannot hand its start credits to another account.
    pub fn locked_start_credits(&self, catalog: &Catalog, verified: bool) -> Credits {
        if verified {
            return 0;
        }
        catalog
            .start()
            .credits
            .saturating_sub(self.stats.credits_earned)
    }

    /// Credits this account may give in a trade: its balance above its
    /// [locked start credits](Self::locked_start_credits).
    pub fn transferable_credits(&self, catalog: &Catalog, verified: bool) -> Credits {
        self.credits
            .saturating_sub(self.locked_start_credits(catalog, verified))
    }

    /// Whether this account may give `bundle` away (offer and accept): the
    /// credits must be [transferable](Self::transferable_credits). Items are
    /// the pilot's own work. Levels bought with start credits are bounded by
    /// the trade rule instead (a level lands only right above the
    /// receiver's, so start credits buy a receiver at most its first
    /// Thrusters level, once).
    pub fn check_transferable(
        &self,
        catalog: &Catalog,
        bundle: &TradeBundle,
        verified: bool,
    ) -> Result<(), EconomyError> {
        let transferable = self.transferable_credits(catalog, verified);
        if bundle.credits > transferable && bundle.credits <= self.credits {
            return Err(EconomyError::StartCreditsLocked {
                have: self.credits,
                transferable,
                need: bundle.credits,
            });
        }
        Ok(())
    }

    /// Checks that this player owns everything in `bundle` (when offering a
    /// trade, and again at accept).
    pub fn check_can_give(
        &self,
        catalog: &Catalog,
        bundle: &TradeBundle,
    ) -> Result<(), EconomyError> {
        if self.credits < bundle.credits {
            return Err(EconomyError::InsufficientCredits {
                have: self.credits,
                need: bundle.credits,
            });
        }
        for (kind, &count) in &bundle.items {
            if catalog.kind_index(kind).is_none() {
                return Err(EconomyError::UnknownKind(kind.clone()));
            }
            let have = self.items(kind);
            if have < count {
                return Err(EconomyError::InsufficientItems {
                    kind: kind.clone(),
                    have: u64::from(have),
                    need: u64::from(count),
                });
            }
        }
        for (&upgrade, &count) in &bundle.upgrades {
            let have = self.upgrades.get(upgrade);
            if have < count {
                return Err(EconomyError::InsufficientUpgrades {
                    upgrade,
                    have,
                    need: count,
                });
            }
        }
        Ok(())
    }

    /// This state after giving `give` and receiving `get`, or why not:
    /// credit overflow, a level above max, or a hold over capacity.
    fn after_exchange(
        &self,
        catalog: &Catalog,
        give: &TradeBundle,
        get: &TradeBundle,
    ) -> Result<PlayerState, EconomyError> {
        self.check_can_give(catalog, give)?;
        let mut next = self.clone();
        next.credits = (next.credits - give.credits)
            .checked_add(get.credits)
            .ok_or(EconomyError::CreditsOverflow)?;
        for (kind, &count) in &give.items {
            remove_items(&mut next.inventory, kind, count);
        }
        for (kind, &count) in &get.items {
            if catalog.kind_index(kind).is_none() {
                return Err(EconomyError::UnknownKind(kind.clone()));
            }
            if count > 0 {
                let slot = next.inventory.entry(kind.clone()).or_insert(0);
                *slot = slot
                    .checked_add(count)
                    .ok_or_else(|| EconomyError::HoldFull {
                        used: self.hold_used(),
                        capacity: u64::from(self.hold_capacity(catalog)),
                        requested: u64::from(count),
                    })?;
            }
        }
        for (&upgrade, &count) in &give.upgrades {
            let level = next.upgrades.get(upgrade) - count;
            next.upgrades.set(upgrade, level);
        }
        for (&upgrade, &count) in &get.upgrades {
            let max = catalog.upgrade(upgrade).max_level();
            let would_be = u64::from(next.upgrades.get(upgrade)) + u64::from(count);
            if would_be > u64::from(max) {
                return Err(EconomyError::AboveMaxLevel {
                    upgrade,
                    max,
                    would_be,
                });
            }
            next.upgrades.set(upgrade, would_be as Level);
        }
        // Capacity after the upgrade changes: giving away cargo bays can
        // overflow the giver's own hold.
        let used = next.hold_used();
        let capacity = u64::from(next.hold_capacity(catalog));
        if used > capacity {
            return Err(EconomyError::HoldFull {
                used: self.hold_used(),
                capacity,
                requested: used.saturating_sub(self.hold_used()),
            });
        }
        next.stats.trades_completed += 1;
        Ok(next)
    }
}

fn remove_items(inventory: &mut BTreeMap<String, ItemCount>, kind: &str, count: ItemCount) {
    if let Some(have) = inventory.get_mut(kind) {
        *have = have.saturating_sub(count);
        if *have == 0 {
            inventory.remove(kind);
        }
    }
}

/// Whether `giver`'s top levels in `bundle` land right above `receiver`'s.
fn check_levels_fit(
    giver: &PlayerState,
    receiver: &PlayerState,
    bundle: &TradeBundle,
) -> Result<(), EconomyError> {
    for (&upgrade, &count) in &bundle.upgrades {
        if count == 0 {
            continue;
        }
        let giver_level = giver.upgrades.get(upgrade);
        let receiver_level = receiver.upgrades.get(upgrade);
        if receiver_level.checked_add(count) != Some(giver_level) {
            return Err(EconomyError::UpgradeNotTransferable {
                upgrade,
                giver_level,
                receiver_level,
                count,
            });
        }
    }
    Ok(())
}

/// Executes a trade: `offerer` gives `give` and receives `want`, `receiver`
/// the reverse. Both states change or neither does. Credits, items and
/// upgrade levels are conserved across the two players.
pub fn apply_trade(
    catalog: &Catalog,
    offerer: &mut PlayerState,
    receiver: &mut PlayerState,
    give: &TradeBundle,
    want: &TradeBundle,
) -> Result<(), TradeError> {
    if give.is_empty() && want.is_empty() {
        return Err(TradeError {
            party: TradeParty::Offerer,
            error: EconomyError::InvalidRequest("a trade must move something".into()),
        });
    }
    // Ownership first on both sides, so the error names who lacks what before
    // any capacity question.
    offerer
        .check_can_give(catalog, give)
        .map_err(|error| TradeError {
            party: TradeParty::Offerer,
            error,
        })?;
    receiver
        .check_can_give(catalog, want)
        .map_err(|error| TradeError {
            party: TradeParty::Receiver,
            error,
        })?;
    // Upgrade levels keep their list price: the giver's top levels go to a
    // pilot right below them (a level bought for 100 never becomes a
    // receiver's fifth, worth 506). The receiver's side is named when its
    // level does not fit what the offerer gives, and the reverse.
    check_levels_fit(offerer, receiver, give).map_err(|error| TradeError {
        party: TradeParty::Receiver,
        error,
    })?;
    check_levels_fit(receiver, offerer, want).map_err(|error| TradeError {
        party: TradeParty::Offerer,
        error,
    })?;
    let next_offerer = offerer
        .after_exchange(catalog, give, want)
        .map_err(|error| TradeError {
            party: TradeParty::Offerer,
            error,
        })?;
    let next_receiver = receiver
        .after_exchange(catalog, want, give)
        .map_err(|error| TradeError {
            party: TradeParty::Receiver,
            error,
        })?;
    *offerer = next_offerer;
    *receiver = next_receiver;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> &'static Catalog {
        Catalog::shipped()
    }

    fn effects_at(id: UpgradeId, level: Level) -> ShipEffects {
        ShipEffects::from_levels(catalog(), &UpgradeLevels::default().with(id, level))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn start_credits_are_not_transferable_until_earned_or_verified() {
        let c = catalog();
        let mut fresh = PlayerState::new_player(c);
        assert_eq!(fresh.locked_start_credits(c, false), 100);
        assert_eq!(fresh.transferable_credits(c, false), 0);
        assert_eq!(fresh.transferable_credits(c, true), 100);
        let gift = TradeBundle {
            credits: 60,
            ..TradeBundle::default()
        };
        assert_eq!(
            fresh
                .check_transferable(c, &gift, false)
                .unwrap_err()
                .code(),
            "start_credits_locked"
        );
        assert_eq!(fresh.check_transferable(c, &gift, true), Ok(()));
        // Earned 40 by selling: 40 of the 140 may go.
        fresh.collect(c, "bio_waste", 1).unwrap();
        fresh.collect(c, "scrap_metal", 3).unwrap();
        fresh.sell_all(c).unwrap();
        assert_eq!(fresh.credits, 140);
        assert_eq!(fresh.transferable_credits(c, false), 80);
        assert!(fresh.check_transferable(c, &gift, false).is_ok());
        let more = TradeBundle {
            credits: 81,
            ..TradeBundle::default()
        };
        assert!(fresh.check_transferable(c, &more, false).is_err());
        // Earned all of it: everything moves.
        fresh.stats.credits_earned = 100;
        assert_eq!(fresh.transferable_credits(c, false), fresh.credits);
    }

    #[test]
    fn new_player_matches_starting_state() {
        let p = PlayerState::new_player(catalog());
        assert_eq!(p.credits, 100);
        assert!(p.inventory.is_empty());
        assert_eq!(p.upgrades, UpgradeLevels::default());
        assert_eq!(p.zone_access(catalog()), 1);
        assert_eq!(p.hold_capacity(catalog()), 10);
    }

    #[test]
    fn base_effects_match_the_ship_table() {
        let e = ShipEffects::from_levels(catalog(), &UpgradeLevels::default());
        assert_eq!(e.max_forward_speed, 240.0);
        assert_eq!(e.max_reverse_speed, 120.0);
        assert_eq!(e.acceleration, 360.0);
        assert_eq!(e.braking, 540.0);
        assert_eq!(e.drag, 90.0);
        assert!(close(e.turn_rate_at_rest, 200f64.to_radians()));
        assert!(close(e.turn_rate_at_max_speed, 120f64.to_radians()));
        assert_eq!(e.collection_range, 56.0);
        assert_eq!(e.collection_cooldown, 0.5);
        assert_eq!(e.magnet, None);
        assert_eq!(e.scanner, None);
    }

    #[test]
    fn speed_boost_rows() {
        for level in 0..=5u32 {
            let e = effects_at(UpgradeId::SpeedBoost, level);
            assert_eq!(e.max_forward_speed, 240.0 + 40.0 * f64::from(level));
            assert_eq!(e.acceleration, 360.0 + 40.0 * f64::from(level));
            assert_eq!(e.max_reverse_speed, 0.5 * e.max_forward_speed);
        }
        // Levels above max (a corrupt row) count as max.
        assert_eq!(
            effects_at(UpgradeId::SpeedBoost, 99).max_forward_speed,
            440.0
        );
    }

    #[test]
    fn inventory_expansion_rows() {
        for level in 0..=10u32 {
            assert_eq!(
                effects_at(UpgradeId::InventoryExpansion, level).hold_capacity,
                10 + 5 * level
            );
        }
        assert_eq!(
            effects_at(UpgradeId::InventoryExpansion, 10).hold_capacity,
            60
        );
    }

    #[test]
    fn collection_efficiency_rows() {
        let expected = [
            (56.0, 0.5),
            (80.0, 0.44),
            (104.0, 0.38),
            (128.0, 0.32),
            (152.0, 0.26),
            (176.0, 0.2),
        ];
        for (level, (range, cooldown)) in expected.into_iter().enumerate() {
            let e = effects_at(UpgradeId::CollectionEfficiency, level as Level);
            assert!(close(e.collection_range, range), "level {level}");
            assert!(
                close(e.collection_cooldown, cooldown),
                "level {level}: {}",
                e.collection_cooldown
            );
        }
    }

    #[test]
    fn cooldown_never_goes_below_the_floor() {
        let mut data = catalog().data().clone();
        data.upgrades.collection_efficiency.cooldown_per_level = 0.2;
        let c = Catalog::from_data(data).unwrap();
        let e = ShipEffects::from_levels(
            &c,
            &UpgradeLevels::default().with(UpgradeId::CollectionEfficiency, 5),
        );
        assert_eq!(e.collection_cooldown, 0.2);
    }

    #[test]
    fn cargo_magnet_rows() {
        assert_eq!(effects_at(UpgradeId::CargoMagnet, 0).magnet, None);
        let expected = [(0.4, 3, 160.0), (0.3, 4, 220.0), (0.2, 5, 280.0)];
        for (i, (interval, pieces, radius)) in expected.into_iter().enumerate() {
            let m = effects_at(UpgradeId::CargoMagnet, i as Level + 1)
                .magnet
                .unwrap();
            assert!(close(m.interval, interval), "{m:?}");
            assert_eq!(m.max_pieces, pieces);
            assert_eq!(m.radius, radius);
        }
    }

    #[test]
    fn debris_scanner_rows() {
        assert_eq!(effects_at(UpgradeId::DebrisScanner, 0).scanner, None);
        let expected = [(1200.0, false), (1600.0, false), (2000.0, true)];
        for (i, (radius, shows_values)) in expected.into_iter().enumerate() {
            let s = effects_at(UpgradeId::DebrisScanner, i as Level + 1)
                .scanner
                .unwrap();
            assert_eq!(s.radius, radius);
            assert_eq!(s.min_value, 150);
            assert_eq!(s.shows_values, shows_values);
        }
    }

    #[test]
    fn zone_access_rows() {
        for level in 0..=3u32 {
            assert_eq!(
                effects_at(UpgradeId::ZoneAccess, level).zone_access,
                level as ZoneId + 1
            );
        }
    }

    #[test]
    fn zone_access_checks() {
        let c = catalog();
        let mut p = PlayerState::new_player(c);
        assert_eq!(p.check_zone_access(c, 1), Ok(()));
        assert_eq!(
            p.check_zone_access(c, 2),
            Err(EconomyError::ZoneLocked {
                zone: 2,
                needed: 1,
                have: 0
            })
        );
        assert_eq!(p.check_zone_access(c, 9), Err(EconomyError::UnknownZone(9)));
        p.upgrades.set(UpgradeId::ZoneAccess, 3);
        assert_eq!(p.check_zone_access(c, 4), Ok(()));
        assert_eq!(
            EconomyError::ZoneLocked {
                zone: 2,
                needed: 1,
                have: 0
            }
            .code(),
            "zone_locked"
        );
    }

    #[test]
    fn collect_respects_capacity() {
        let c = catalog();
        let mut p = PlayerState::new_player(c);
        p.collect(c, "scrap_metal", 7).unwrap();
        let receipt = p.collect(c, "quantum_core", 3).unwrap();
        assert!(receipt.legendary);
        assert_eq!(p.hold_used(), 10);
        let before = p.clone();
        assert_eq!(
            p.collect(c, "scrap_metal", 1),
            Err(EconomyError::HoldFull {
                used: 10,
                capacity: 10,
                requested: 1
            })
        );
        assert_eq!(p, before);
        assert_eq!(p.stats.debris_collected, 10);
        assert_eq!(p.stats.legendary_found, 3);
        assert_eq!(
            p.collect(c, "moon_rock", 1),
            Err(EconomyError::UnknownKind("moon_rock".into()))
        );
        assert!(matches!(
            p.collect(c, "scrap_metal", 0),
            Err(EconomyError::InvalidRequest(_))
        ));
    }

    #[test]
    fn sell_some_and_all() {
        let c = catalog();
        let mut p = PlayerState::new_player(c);
        p.collect(c, "scrap_metal", 4).unwrap();
        p.collect(c, "ai_component", 2).unwrap();
        let receipt = p
            .sell(c, &BTreeMap::from([("scrap_metal".to_owned(), 2)]))
            .unwrap();
        assert_eq!(receipt.credits_gained, 10);
        assert_eq!(p.credits, 110);
        assert_eq!(p.items("scrap_metal"), 2);
        let receipt = p.sell_all(c).unwrap();
        assert_eq!(receipt.credits_gained, 2 * 5 + 2 * 500);
        assert_eq!(receipt.sold.len(), 2);
        assert_eq!(p.credits, 1120);
        assert!(p.inventory.is_empty());
        assert_eq!(p.stats.credits_earned, 1020);
        assert_eq!(p.stats.sales_completed, 2);
        assert_eq!(p.sell_all(c), Err(EconomyError::NothingToSell));
    }

    #[test]
    fn bad_sales_change_nothing() {
        let c = catalog();
        let mut p = PlayerState::new_player(c);
        p.collect(c, "scrap_metal", 2).unwrap();
        let before = p.clone();
        let too_many = BTreeMap::from([("scrap_metal".to_owned(), 1), ("bio_waste".to_owned(), 1)]);
        let error = p.sell(c, &too_many).unwrap_err();
        assert_eq!(error.code(), "insufficient_items");
        assert_eq!(p, before);
        assert!(matches!(
            p.sell(c, &BTreeMap::from([("scrap_metal".to_owned(), 0)])),
            Err(EconomyError::InvalidRequest(_))
        ));
        assert!(matches!(
            p.sell(c, &BTreeMap::new()),
            Err(EconomyError::InvalidRequest(_))
        ));
        assert_eq!(
            p.sell(c, &BTreeMap::from([("moon_rock".to_owned(), 1)])),
            Err(EconomyError::UnknownKind("moon_rock".into()))
        );
        assert_eq!(p, before);
    }

    #[test]
    fn purchase_walks_the_cost_table() {
        let c = catalog();
        let mut p = PlayerState::new_player(c);
        p.credits = 10_000;
        let mut spent = 0;
        for (i, &cost) in c.upgrade(UpgradeId::SpeedBoost).costs.iter().enumerate() {
            let receipt = p.purchase(c, UpgradeId::SpeedBoost).unwrap();
            assert_eq!(
                receipt,
                PurchaseReceipt {
                    upgrade: UpgradeId::SpeedBoost,
                    level: i as Level + 1,
                    cost
                }
            );
            spent += cost;
        }
        assert_eq!(p.credits, 10_000 - spent);
        assert_eq!(
            p.purchase(c, UpgradeId::SpeedBoost),
            Err(EconomyError::MaxLevel {
                upgrade: UpgradeId::SpeedBoost,
                max: 5
            })
        );
        assert_eq!(p.stats.upgrades_purchased, 5);
    }

    #[test]
    fn purchase_needs_credits() {
        let c = catalog();
        let mut p = PlayerState::new_player(c);
        let before = p.clone();
        let error = p.purchase(c, UpgradeId::ZoneAccess).unwrap_err();
        assert_eq!(
            error,
            EconomyError::InsufficientCredits {
                have: 100,
                need: 500
            }
        );
        assert_eq!(error.code(), "insufficient_credits");
        assert_eq!(p, before);
        // Exactly enough is enough.
        assert_eq!(p.purchase(c, UpgradeId::SpeedBoost).unwrap().cost, 100);
        assert_eq!(p.credits, 0);
    }

    #[test]
    fn trade_swaps_credits_items_and_levels() {
        let c = catalog();
        let mut a = PlayerState::new_player(c);
        let mut b = PlayerState::new_player(c);
        a.collect(c, "scrap_metal", 5).unwrap();
        a.upgrades.set(UpgradeId::SpeedBoost, 1);
        b.upgrades.set(UpgradeId::SpeedBoost, 2);
        let give = TradeBundle {
            credits: 50,
            items: BTreeMap::from([("scrap_metal".to_owned(), 3)]),
            upgrades: BTreeMap::new(),
        };
        let want = TradeBundle {
            upgrades: BTreeMap::from([(UpgradeId::SpeedBoost, 1)]),
            ..TradeBundle::default()
        };
        apply_trade(c, &mut a, &mut b, &give, &want).unwrap();
        assert_eq!((a.credits, b.credits), (50, 150));
        assert_eq!((a.items("scrap_metal"), b.items("scrap_metal")), (2, 3));
        assert_eq!(
            (
                a.upgrades.get(UpgradeId::SpeedBoost),
                b.upgrades.get(UpgradeId::SpeedBoost)
            ),
            (2, 1)
        );
        assert_eq!((a.stats.trades_completed, b.stats.trades_completed), (1, 1));
        assert_eq!(a.stats.credits_earned, 0);
    }

    #[test]
    fn trade_failures_name_the_side_and_change_nothing() {
        let c = catalog();
        let mut a = PlayerState::new_player(c);
        let mut b = PlayerState::new_player(c);
        let (a0, b0) = (a.clone(), b.clone());
        let wants_items = TradeBundle {
            items: BTreeMap::from([("bio_waste".to_owned(), 1)]),
            ..TradeBundle::default()
        };
        let give_credits = TradeBundle {
            credits: 10,
            ..TradeBundle::default()
        };
        let error = apply_trade(c, &mut a, &mut b, &give_credits, &wants_items).unwrap_err();
        assert_eq!(error.party, TradeParty::Receiver);
        assert_eq!(error.error.code(), "insufficient_items");
        let error = apply_trade(
            c,
            &mut a,
            &mut b,
            &TradeBundle {
                credits: 101,
                ..TradeBundle::default()
            },
            &TradeBundle::default(),
        )
        .unwrap_err();
        assert_eq!(error.party, TradeParty::Offerer);
        assert_eq!(error.error.code(), "insufficient_credits");
        let error = apply_trade(
            c,
            &mut a,
            &mut b,
            &TradeBundle {
                upgrades: BTreeMap::from([(UpgradeId::CargoMagnet, 1)]),
                ..TradeBundle::default()
            },
            &TradeBundle::default(),
        )
        .unwrap_err();
        assert_eq!(error.error.code(), "insufficient_upgrades");
        let error = apply_trade(
            c,
            &mut a,
            &mut b,
            &TradeBundle::default(),
            &TradeBundle::default(),
        )
        .unwrap_err();
        assert_eq!(error.error.code(), "invalid_request");
        assert_eq!((a, b), (a0, b0));
    }

    #[test]
    fn trade_refuses_overflowing_holds_and_levels() {
        let c = catalog();
        let mut a = PlayerState::new_player(c);
        let mut b = PlayerState::new_player(c);
        a.collect(c, "scrap_metal", 10).unwrap();
        b.collect(c, "bio_waste", 5).unwrap();
        // b's hold has 5 free slots; 6 scrap do not fit.
        let give = TradeBundle {
            items: BTreeMap::from([("scrap_metal".to_owned(), 6)]),
            ..TradeBundle::default()
        };
        let error = apply_trade(c, &mut a, &mut b, &give, &TradeBundle::default()).unwrap_err();
        assert_eq!(
            (error.party, error.error.code()),
            (TradeParty::Receiver, "hold_full")
        );

        // Giving away a cargo bay level shrinks a's full hold below its load.
        a.upgrades.set(UpgradeId::InventoryExpansion, 1);
        a.collect(c, "scrap_metal", 5).unwrap();
        let give = TradeBundle {
            upgrades: BTreeMap::from([(UpgradeId::InventoryExpansion, 1)]),
            ..TradeBundle::default()
        };
        let error = apply_trade(c, &mut a, &mut b, &give, &TradeBundle::default()).unwrap_err();
        assert_eq!(
            (error.party, error.error.code()),
            (TradeParty::Offerer, "hold_full")
        );

        // b at max magnet cannot receive another level: no giver is above it.
        a.upgrades.set(UpgradeId::CargoMagnet, 1);
        b.upgrades.set(UpgradeId::CargoMagnet, 3);
        let give = TradeBundle {
            upgrades: BTreeMap::from([(UpgradeId::CargoMagnet, 1)]),
            ..TradeBundle::default()
        };
        let error = apply_trade(c, &mut a, &mut b, &give, &TradeBundle::default()).unwrap_err();
        assert_eq!(
            (error.party, error.error.code()),
            (TradeParty::Receiver, "upgrade_not_transferable")
        );
    }

    #[test]
    fn traded_levels_move_from_the_top_to_right_above() {
        let c = catalog();
        let mut a = PlayerState::new_player(c);
        let mut b = PlayerState::new_player(c);
        a.upgrades.set(UpgradeId::SpeedBoost, 1);
        b.upgrades.set(UpgradeId::SpeedBoost, 4);
        let one_level = TradeBundle {
            upgrades: BTreeMap::from([(UpgradeId::SpeedBoost, 1)]),
            ..TradeBundle::default()
        };
        // A first level (bought for 100) never becomes b's fifth (list 506).
        let (before_a, before_b) = (a.clone(), b.clone());
        let error =
            apply_trade(c, &mut a, &mut b, &one_level, &TradeBundle::default()).unwrap_err();
        assert_eq!(error.party, TradeParty::Receiver);
        assert!(matches!(
            error.error,
            EconomyError::UpgradeNotTransferable {
                giver_level: 1,
                receiver_level: 4,
                count: 1,
                ..
            }
        ));
        assert_eq!((a.clone(), b.clone()), (before_a, before_b));
        // b gives its top level to a pilot at 3.
        a.upgrades.set(UpgradeId::SpeedBoost, 3);
        apply_trade(c, &mut b, &mut a, &one_level, &TradeBundle::default()).unwrap();
        assert_eq!(a.upgrades.get(UpgradeId::SpeedBoost), 4);
        assert_eq!(b.upgrades.get(UpgradeId::SpeedBoost), 3);
        // Two levels from the top: b 3 -> 1, a pilot at 1 -> 3.
        let two_levels = TradeBundle {
            upgrades: BTreeMap::from([(UpgradeId::SpeedBoost, 2)]),
            ..TradeBundle::default()
        };
        let mut c3 = PlayerState::new_player(c);
        c3.upgrades.set(UpgradeId::SpeedBoost, 1);
        apply_trade(c, &mut b, &mut c3, &two_levels, &TradeBundle::default()).unwrap();
        assert_eq!(c3.upgrades.get(UpgradeId::SpeedBoost), 3);
        assert_eq!(b.upgrades.get(UpgradeId::SpeedBoost), 1);
        // What the receiver pays with (`want`) follows the same rule, and the
        // offerer is named when its level does not fit.
        let mut fresh = PlayerState::new_player(c);
        fresh.upgrades.set(UpgradeId::SpeedBoost, 1);
        let error =
            apply_trade(c, &mut fresh, &mut c3, &TradeBundle::default(), &one_level).unwrap_err();
        assert_eq!(
            (error.party, error.error.code()),
            (TradeParty::Offerer, "upgrade_not_transferable")
        );
    }

    #[test]
    fn upgrade_levels_serialise_as_a_map_of_all_six() {
        let levels = UpgradeLevels::default().with(UpgradeId::CargoMagnet, 2);
        let json = serde_json::to_value(levels).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 6);
        assert_eq!(json["cargo_magnet"], 2);
        assert_eq!(json["speed_boost"], 0);
        let back: UpgradeLevels = serde_json::from_str(r#"{"cargo_magnet":2}"#).unwrap();
        assert_eq!(back, levels);
        assert!(serde_json::from_str::<UpgradeLevels>(r#"{"warp":1}"#).is_err());
    }

    #[test]
    fn player_state_round_trips_through_json() {
        let c = catalog();
        let mut p = PlayerState::new_player(c);
        p.collect(c, "energy_cell", 2).unwrap();
        p.upgrades.set(UpgradeId::DebrisScanner, 1);
        let back: PlayerState = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
