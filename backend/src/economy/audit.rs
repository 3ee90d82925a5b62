//! `backend audit`'s economy checks: the ledger sums equal the live balances
//! (credits, every item kind, every upgrade level) of every player, no
//! balance is negative, and every trade's ledger entry nets to zero.

use std::collections::BTreeMap;

use game::UpgradeId;

use crate::db::consistency::Finding;
use crate::db::{Db, ledger, players};

/// The migration that creates the economy's tables.
pub const ECONOMY_MIGRATION: i64 = 20260502000001;

/// Every disagreement between the ledger and the balances.
pub async fn check_ledger(db: &Db) -> anyhow::Result<Vec<Finding>> {
    if !db.applied_migrations().await?.contains(&ECONOMY_MIGRATION) {
        // The migrations check reports it; there is nothing to compare.
        return Ok(vec![Finding {
            check: "ledger",
            detail: "the economy tables do not exist yet: nothing checked".to_owned(),
        }]);
    }
    // One consistent snapshot of both sides even while the server runs.
    let mut tx = db.begin_snapshot().await?;
    let balances = players::all_balances(&mut tx).await?;
    let items = players::all_items(&mut tx).await?;
    let sums = ledger::sums(&mut tx).await?;
    let unbalanced = ledger::unbalanced_trades(&mut tx).await?;
    tx.commit().await?;

    // (user, asset) -> live balance
    let mut live: BTreeMap<(String, String), i64> = BTreeMap::new();
    for player in &balances {
        live.insert(
            (player.user_id.clone(), ledger::CREDITS.to_owned()),
            player.credits,
        );
        for id in UpgradeId::ALL {
            let level = match id {
                UpgradeId::SpeedBoost => player.speed_boost,
                UpgradeId::InventoryExpansion => player.inventory_expansion,
                UpgradeId::CollectionEfficiency => player.collection_efficiency,
                UpgradeId::CargoMagnet => player.cargo_magnet,
                UpgradeId::ZoneAccess => player.zone_access,
                UpgradeId::DebrisScanner => player.debris_scanner,
            };
            live.insert(
                (player.user_id.clone(), ledger::upgrade_asset(id.as_str())),
                level,
            );
        }
    }
    for (user_id, kind, count) in items {
        live.insert((user_id, ledger::item_asset(&kind)), count);
    }
    let ledgered: BTreeMap<(String, String), i64> = sums
        .into_iter()
        .map(|(user_id, asset, sum)| ((user_id, asset), sum))
        .collect();

    let mut findings = Vec::new();
    for ((user_id, asset), &balance) in &live {
        if balance < 0 {
            findings.push(Finding {
                check: "balances",
                detail: format!("player {user_id}: {asset} is negative ({balance})"),
            });
        }
        let sum = ledgered
            .get(&(user_id.clone(), asset.clone()))
            .copied()
            .unwrap_or(0);
        if sum != balance {
            findings.push(Finding {
                check: "ledger",
                detail: format!(
                    "player {user_id}: {asset} is {balance} but the ledger sums to {sum}"
                ),
            });
        }
    }
    for ((user_id, asset), &sum) in &ledgered {
        if !live.contains_key(&(user_id.clone(), asset.clone())) && sum != 0 {
            findings.push(Finding {
                check: "ledger",
                detail: format!("player {user_id}: {asset} is 0 but the ledger sums to {sum}"),
            });
        }
    }
    for (entry_id, asset, net) in unbalanced {
        findings.push(Finding {
            check: "trades",
            detail: format!("trade entry {entry_id}: {asset} nets to {net}, not 0"),
        });
    }
    Ok(findings)
}
