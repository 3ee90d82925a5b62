//! Which station AI messages an event unlocks.
//!
//! Triggers and texts are data (`[[messages]]` in the catalog). The rules:
//! - `first_*` triggers fire on their event (a collection, a sale, a
//!   purchase, a lobby join, a completed trade; `first_legendary` on a
//!   collection that includes a legendary kind). They are one-shot per
//!   player: pass the ids the player already has to [`newly_unlocked`] (the
//!   backend keeps them in its messages table), so a lost or replayed event
//!   can never fire one twice.
//! - thresholds (`debris_collected`, `credits_earned`) fire when the lifetime
//!   stat crosses the threshold between `before` and `after`.
//! - `zone_unlocked` fires when the highest allowed zone crosses that zone,
//!   whatever caused it (a purchase or a trade).
//! - `hold_full` fires on the [`MilestoneEvent::HoldFull`] event; it is
//!   `repeat = "per_run"`, so the client shows it once per run and the
//!   server records it once.
//!
//! Pure: no clock, no storage, no Godot.

use crate::catalog::{Catalog, KindIndex, MessageDef, MessageTrigger, Rarity, UpgradeId};
use crate::economy::PlayerState;

/// What just happened to the player.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MilestoneEvent {
    /// Pieces were collected (accepted by the server, or predicted by the client).
    Collected {
        kinds: Vec<KindIndex>,
    },
    Sold,
    UpgradePurchased {
        upgrade: UpgradeId,
    },
    /// A collection was refused or stopped because the hold is full.
    HoldFull,
    LobbyJoined,
    TradeCompleted,
}

/// Messages whose trigger this event satisfies, in catalog order, before
/// removing ones the player already has.
pub fn triggered<'c>(
    catalog: &'c Catalog,
    event: &MilestoneEvent,
    before: &PlayerState,
    after: &PlayerState,
) -> Vec<&'c MessageDef> {
    let crossed = |threshold: u64, old: u64, new: u64| old < threshold && threshold <= new;
    let zone_before = before.zone_access(catalog);
    let zone_after = after.zone_access(catalog);
    let has_legendary = match event {
        MilestoneEvent::Collected { kinds } => kinds.iter().any(|&kind| {
            catalog
                .kind(kind)
                .is_some_and(|k| k.rarity == Rarity::Legendary)
        }),
        _ => false,
    };
    catalog
        .messages()
        .iter()
        .filter(|message| match &message.trigger {
            MessageTrigger::FirstCollection => {
                matches!(event, MilestoneEvent::Collected { kinds } if !kinds.is_empty())
            }
            MessageTrigger::FirstSale => *event == MilestoneEvent::Sold,
            MessageTrigger::FirstUpgrade => {
                matches!(event, MilestoneEvent::UpgradePurchased { .. })
            }
            MessageTrigger::HoldFull => *event == MilestoneEvent::HoldFull,
            MessageTrigger::ZoneUnlocked { zone } => zone_before < *zone && *zone <= zone_after,
            MessageTrigger::FirstLegendary => has_legendary,
            MessageTrigger::DebrisCollected { at_least } => crossed(
                *at_least,
                before.stats.debris_collected,
                after.stats.debris_collected,
            ),
            MessageTrigger::CreditsEarned { at_least } => crossed(
                *at_least,
                before.stats.credits_earned,
                after.stats.credits_earned,
            ),
            MessageTrigger::FirstLobbyJoined => *event == MilestoneEvent::LobbyJoined,
            MessageTrigger::FirstTrade => *event == MilestoneEvent::TradeCompleted,
        })
        .collect()
}

/// [`triggered`] minus the messages `already_unlocked` says the player has.
/// `hold_full` (per run) is returned even if unlocked before; the caller
/// decides whether this run has shown it.
pub fn newly_unlocked<'c>(
    catalog: &'c Catalog,
    event: &MilestoneEvent,
    before: &PlayerState,
    after: &PlayerState,
    already_unlocked: impl Fn(&str) -> bool,
) -> Vec<&'c MessageDef> {
    triggered(catalog, event, before, after)
        .into_iter()
        .filter(|message| {
            message.repeat == crate::catalog::MessageRepeat::PerRun
                || !already_unlocked(&message.id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(messages: Vec<&MessageDef>) -> Vec<&str> {
        messages.into_iter().map(|m| m.id.as_str()).collect()
    }

    fn collected(kind: &str) -> MilestoneEvent {
        MilestoneEvent::Collected {
            kinds: vec![Catalog::shipped().kind_index(kind).unwrap()],
        }
    }

    #[test]
    fn first_collection_and_thresholds() {
        let c = Catalog::shipped();
        let before = PlayerState::new_player(c);
        let mut after = before.clone();
        after.collect(c, "scrap_metal", 1).unwrap();
        assert_eq!(
            ids(triggered(c, &collected("scrap_metal"), &before, &after)),
            ["first_collection"]
        );

        let mut before = after.clone();
        before.stats.debris_collected = 9;
        let mut after = before.clone();
        after.stats.debris_collected = 10;
        assert_eq!(
            ids(newly_unlocked(
                c,
                &collected("scrap_metal"),
                &before,
                &after,
                |id| id == "first_collection"
            )),
            ["debris_10"]
        );
        before.stats.debris_collected = 95;
        after.stats.debris_collected = 1000;
        let fired = ids(newly_unlocked(
            c,
            &collected("scrap_metal"),
            &before,
            &after,
            |id| id == "first_collection",
        ));
        assert_eq!(fired, ["debris_100", "debris_1000"]);
    }

    #[test]
    fn first_legendary() {
        let c = Catalog::shipped();
        let before = PlayerState::new_player(c);
        let mut after = before.clone();
        after.collect(c, "quantum_core", 1).unwrap();
        assert_eq!(
            ids(triggered(c, &collected("quantum_core"), &before, &after)),
            ["first_collection", "first_legendary"]
        );
        assert!(
            !ids(triggered(c, &collected("nano_material"), &before, &after))
                .contains(&"first_legendary")
        );
    }

    #[test]
    fn sale_and_credit_thresholds() {
        let c = Catalog::shipped();
        let mut before = PlayerState::new_player(c);
        before.stats.credits_earned = 900;
        let mut after = before.clone();
        after.stats.credits_earned = 10_500;
        assert_eq!(
            ids(triggered(c, &MilestoneEvent::Sold, &before, &after)),
            ["first_sale", "credits_1000", "credits_10000"]
        );
        after.stats.credits_earned = 100_000;
        before.stats.credits_earned = 99_999;
        let unlocked: BTreeSet<&str> = ["first_sale"].into();
        assert_eq!(
            ids(newly_unlocked(
                c,
                &MilestoneEvent::Sold,
                &before,
                &after,
                |id| unlocked.contains(id)
            )),
            ["credits_100000"]
        );
    }

    #[test]
    fn upgrades_and_zone_unlocks() {
        let c = Catalog::shipped();
        let mut before = PlayerState::new_player(c);
        before.credits = 10_000;
        let mut after = before.clone();
        after.purchase(c, UpgradeId::ZoneAccess).unwrap();
        let event = MilestoneEvent::UpgradePurchased {
            upgrade: UpgradeId::ZoneAccess,
        };
        assert_eq!(
            ids(triggered(c, &event, &before, &after)),
            ["first_upgrade", "zone_2_unlocked"]
        );
        let before = after.clone();
        after.purchase(c, UpgradeId::ZoneAccess).unwrap();
        after.purchase(c, UpgradeId::ZoneAccess).unwrap();
        assert_eq!(
            ids(newly_unlocked(c, &event, &before, &after, |id| id == "first_upgrade")),
            ["zone_3_unlocked", "zone_4_unlocked"]
        );
        // A zone gained by trade also counts.
        let mut traded = PlayerState::new_player(c);
        traded.upgrades.set(UpgradeId::ZoneAccess, 1);
        assert_eq!(
            ids(triggered(
                c,
                &MilestoneEvent::TradeCompleted,
                &PlayerState::new_player(c),
                &traded
            )),
            ["zone_2_unlocked", "first_trade"]
        );
    }

    #[test]
    fn hold_full_repeats_per_run_and_lobby() {
        let c = Catalog::shipped();
        let p = PlayerState::new_player(c);
        assert_eq!(
            ids(newly_unlocked(c, &MilestoneEvent::HoldFull, &p, &p, |_| {
                true
            })),
            ["hold_full"]
        );
        assert_eq!(
            ids(triggered(c, &MilestoneEvent::LobbyJoined, &p, &p)),
            ["first_lobby"]
        );
        assert!(newly_unlocked(c, &MilestoneEvent::LobbyJoined, &p, &p, |_| true).is_empty());
        assert!(triggered(c, &MilestoneEvent::Collected { kinds: vec![] }, &p, &p).is_empty());
    }
}
