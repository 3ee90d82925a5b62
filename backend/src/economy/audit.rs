//! `backend audit`'s economy checks. The ledger sums equal the live balances
//! (credits, every item kind, every upgrade level) of every player and no
//! balance is negative ([`check_ledger`]); and every credit in circulation is
//! traced to where it came from ([`trace`]):
//!
//! - `opening`: one opening row per player, of the catalog's start credits;
//! - `pieces`: each collected piece recomputed from its run's seed (it
//!   exists at its claimed time, and its kind, hence its value, is the
//!   stored one);
//! - `collect`: each run's collect rows put into the hold exactly the kinds
//!   its pieces are;
//! - `sales`: each sale paid the catalog price of what left the hold;
//! - `purchases`: each purchase cost the catalog price of the level bought;
//! - `trades`: each trade entry belongs to a completed trade and nets to
//!   zero across exactly its two players (a trade whose partner deleted the
//!   account is recorded in `retired_trades`);
//! - `chain`: each row's `balance_after` is the previous one's plus its
//!   delta.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use game::{Catalog, PlayerState, UpgradeId};

use crate::db::consistency::Finding;
use crate::db::{Db, ledger, players, runs, trades};

/// The migration that creates the economy's tables.
pub const ECONOMY_MIGRATION: i64 = 20260502000001;
/// The migration that records retired trades (and run ends and docks).
pub const ONE_CLOCK_MIGRATION: i64 = 20261201000100;

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
    findings.extend(trace(db, Catalog::shipped()).await?);
    Ok(findings)
}

/// Traces every credit, item and level to its cause (see the module docs).
pub async fn trace(db: &Db, catalog: &Catalog) -> anyhow::Result<Vec<Finding>> {
    let applied = db.applied_migrations().await?;
    if !applied.contains(&ECONOMY_MIGRATION) {
        return Ok(Vec::new());
    }
    let mut tx = db.begin_snapshot().await?;
    let rows = ledger::all_rows(&mut tx).await?;
    let pieces = runs::all_pieces(&mut tx).await?;
    let run_ids: HashSet<String> = runs::all_ids(&mut tx).await?.into_iter().collect();
    let all_trades = trades::all_parties(&mut tx).await?;
    let retired: HashSet<String> = if applied.contains(&ONE_CLOCK_MIGRATION) {
        trades::retired_ids(&mut tx).await?.into_iter().collect()
    } else {
        HashSet::new()
    };
    tx.commit().await?;

    let mut findings = Vec::new();
    let mut found = |check: &'static str, detail: String| findings.push(Finding { check, detail });

    // chain: rows come by (user, asset, id).
    let mut previous: Option<&ledger::AuditRow> = None;
    for row in &rows {
        let before = match previous {
            Some(p) if p.user_id == row.user_id && p.asset == row.asset => p.balance_after,
            _ => 0,
        };
        if before + row.delta != row.balance_after {
            found(
                "chain",
                format!(
                    "player {}: {} row {} says balance_after {} but the previous balance {} plus its delta {} is {}",
                    row.user_id,
                    row.asset,
                    row.id,
                    row.balance_after,
                    before,
                    row.delta,
                    before + row.delta
                ),
            );
        }
        previous = Some(row);
    }

    // Entries by reason.
    let mut entries: BTreeMap<(&str, &str), Vec<&ledger::AuditRow>> = BTreeMap::new();
    for row in &rows {
        entries
            .entry((row.reason.as_str(), row.entry_id.as_str()))
            .or_default()
            .push(row);
    }

    // opening
    let start = i64::try_from(catalog.start().credits).unwrap_or(i64::MAX);
    let mut openings: HashMap<&str, usize> = HashMap::new();
    for ((reason, entry), rows) in &entries {
        if *reason != "opening" {
            continue;
        }
        for row in rows {
            *openings.entry(row.user_id.as_str()).or_default() += 1;
            if row.asset != ledger::CREDITS || row.delta != start {
                found(
                    "opening",
                    format!(
                        "opening entry {entry}: {} {} is not the start credits ({start})",
                        row.asset, row.delta
                    ),
                );
            }
        }
    }
    for (user, count) in openings {
        if count > 1 {
            found(
                "opening",
                format!("player {user} has {count} opening rows (expected 1)"),
            );
        }
    }

    // pieces: recomputed from the seed; collect: what the run put into the hold.
    let mut mined: HashMap<&str, BTreeMap<String, i64>> = HashMap::new();
    for piece in &pieces {
        let recomputed = u8::try_from(piece.zone)
            .ok()
            .zip(piece.seed.parse::<u64>().ok())
            .zip(u32::try_from(piece.debris_index).ok())
            .and_then(|((zone, seed), index)| {
                game::verify::debris_at(catalog, zone, seed, index, piece.claimed_at).ok()
            })
            .and_then(|found| {
                catalog
                    .kind(found.kind)
                    .map(|kind| (kind.id.clone(), found.value))
            });
        match recomputed {
            None => found(
                "pieces",
                format!(
                    "run {} piece {} cannot exist at {} s of its seed",
                    piece.run_id, piece.debris_index, piece.claimed_at
                ),
            ),
            Some((kind, value)) => {
                if kind != piece.kind {
                    found(
                        "pieces",
                        format!(
                            "run {} piece {} is stored as `{}` but its seed makes it `{kind}` (value {value})",
                            piece.run_id, piece.debris_index, piece.kind
                        ),
                    );
                }
                *mined
                    .entry(piece.run_id.as_str())
                    .or_default()
                    .entry(ledger::item_asset(&kind))
                    .or_default() += 1;
            }
        }
    }
    let mut collected: HashMap<&str, BTreeMap<String, i64>> = HashMap::new();
    for ((reason, entry), rows) in &entries {
        if *reason != "collect" {
            continue;
        }
        for row in rows {
            let run = row.reference.as_deref().unwrap_or("");
            if !run_ids.contains(run) || !row.asset.starts_with("item:") || row.delta < 0 {
                found(
                    "collect",
                    format!(
                        "collect entry {entry}: {} {} for run `{run}` is not a piece of a known run",
                        row.asset, row.delta
                    ),
                );
                continue;
            }
            *collected
                .entry(run)
                .or_default()
                .entry(row.asset.clone())
                .or_default() += row.delta;
        }
    }
    let runs_seen: BTreeSet<&str> = mined.keys().chain(collected.keys()).copied().collect();
    for run in runs_seen {
        let empty = BTreeMap::new();
        let from_pieces = mined.get(run).unwrap_or(&empty);
        let into_hold = collected.get(run).unwrap_or(&empty);
        if from_pieces != into_hold {
            found(
                "collect",
                format!(
                    "run {run}: its pieces are {from_pieces:?} but its collect rows put {into_hold:?} into the hold"
                ),
            );
        }
    }

    // sales: the catalog price of what left the hold.
    for ((reason, entry), rows) in &entries {
        if *reason != "sell" {
            continue;
        }
        let mut paid = 0i64;
        let mut price = 0i64;
        let users: BTreeSet<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
        let mut fine = users.len() == 1;
        for row in rows {
            if row.asset == ledger::CREDITS {
                paid += row.delta;
            } else if let Some(kind) = row.asset.strip_prefix("item:") {
                let count = u32::try_from(-row.delta).ok();
                match count.and_then(|n| PlayerState::sale_value(catalog, kind, n).ok()) {
                    Some(value) => price += i64::try_from(value).unwrap_or(i64::MAX),
                    None => fine = false,
                }
            } else {
                fine = false;
            }
        }
        if !fine || paid != price {
            found(
                "sales",
                format!("sale entry {entry}: paid {paid} credits for goods worth {price}"),
            );
        }
    }

    // purchases: the catalog cost of the level bought.
    for ((reason, entry), rows) in &entries {
        if *reason != "purchase" {
            continue;
        }
        let paid: i64 = rows
            .iter()
            .filter(|r| r.asset == ledger::CREDITS)
            .map(|r| -r.delta)
            .sum();
        let levels: Vec<&&ledger::AuditRow> = rows
            .iter()
            .filter(|r| r.asset.starts_with("upgrade:"))
            .collect();
        let cost = match levels.as_slice() {
            [level] if level.delta == 1 => level
                .asset
                .strip_prefix("upgrade:")
                .and_then(|id| id.parse::<UpgradeId>().ok())
                .zip(u32::try_from(level.balance_after - 1).ok())
                .and_then(|(id, from)| catalog.upgrade(id).next_cost(from))
                .and_then(|cost| i64::try_from(cost).ok()),
            _ => None,
        };
        if cost != Some(paid) || rows.len() != 2 {
            found(
                "purchases",
                format!(
                    "purchase entry {entry}: paid {paid} credits, the catalog asks {}",
                    cost.map_or("nothing (not one level)".to_owned(), |c| c.to_string())
                ),
            );
        }
    }

    // trades: a completed trade, exactly its two players, netting to zero.
    let parties: HashMap<&str, (&str, &str, &str)> = all_trades
        .iter()
        .map(|(id, from, to, status)| (id.as_str(), (from.as_str(), to.as_str(), status.as_str())))
        .collect();
    let mut entries_per_trade: HashMap<&str, usize> = HashMap::new();
    for ((reason, entry), rows) in &entries {
        if *reason != "trade" {
            continue;
        }
        let references: BTreeSet<&str> = rows
            .iter()
            .map(|r| r.reference.as_deref().unwrap_or(""))
            .collect();
        let [reference] = references.into_iter().collect::<Vec<_>>()[..] else {
            found(
                "trades",
                format!("trade entry {entry}: its rows name more than one trade"),
            );
            continue;
        };
        if retired.contains(reference) {
            continue;
        }
        let Some(&(from, to, status)) = parties.get(reference) else {
            found(
                "trades",
                format!(
                    "trade entry {entry}: references trade `{reference}`, which does not exist"
                ),
            );
            continue;
        };
        *entries_per_trade.entry(reference).or_default() += 1;
        if status != "completed" {
            found(
                "trades",
                format!("trade entry {entry}: trade {reference} is {status}, not completed"),
            );
        }
        let users: BTreeSet<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
        let expected: BTreeSet<&str> = [from, to].into_iter().collect();
        if users != expected {
            found(
                "trades",
                format!(
                    "trade entry {entry}: moves assets of {} player(s), not exactly the two of trade {reference}",
                    users.len()
                ),
            );
        }
        let mut net: BTreeMap<&str, i64> = BTreeMap::new();
        for row in rows {
            *net.entry(row.asset.as_str()).or_default() += row.delta;
        }
        for (asset, net) in net {
            if net != 0 {
                found(
                    "trades",
                    format!("trade entry {entry}: {asset} nets to {net}, not 0"),
                );
            }
        }
    }
    for (reference, count) in entries_per_trade {
        if count > 1 {
            found(
                "trades",
                format!("trade {reference} has {count} ledger entries (expected 1)"),
            );
        }
    }
    Ok(findings)
}
