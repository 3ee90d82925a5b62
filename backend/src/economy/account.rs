//! A player's economic state inside a database transaction: load (and lock)
//! it as a [`game::PlayerState`], let the `game` crate's rules change it,
//! then [`save`] the difference together with its ledger rows.
//!
//! [`save`] is the only writer of credits, items and upgrade levels, so the
//! ledger cannot miss a change: every delta it writes to a balance it also
//! writes to the ledger, in the same transaction.

use std::collections::BTreeMap;

use game::economy::PlayerStats;
use game::{Catalog, PlayerState, UpgradeId, UpgradeLevels};

use super::error::{Error, Result};
use crate::db::ledger::{self, NewLedgerRow, Reason};
use crate::db::players::{self, PlayerRow};
use crate::db::{Conn, Db, Dialect};

/// One player as loaded in a transaction.
#[derive(Debug, Clone)]
pub struct Account {
    pub user_id: String,
    pub username: String,
    pub state: PlayerState,
    pub version: i64,
}

impl Account {
    /// The API's `player` object.
    pub fn view(&self, catalog: &Catalog) -> game::api::Player {
        game::api::Player::from_state(
            catalog,
            self.username.clone(),
            &self.state,
            u64::try_from(self.version).unwrap_or_default(),
        )
    }
}

/// Creates the player (start credits from the catalog, an `opening` ledger
/// row) unless it exists. Run inside a writing transaction.
pub async fn ensure(conn: &mut Conn, catalog: &Catalog, user_id: &str, now: i64) -> Result<()> {
    let credits = to_i64(catalog.start().credits)?;
    if players::insert_if_missing(conn, user_id, credits, now).await? && credits > 0 {
        ledger::insert(
            conn,
            &NewLedgerRow {
                user_id,
                entry_id: &crate::db::new_id(),
                reason: Reason::Opening,
                reference: None,
                asset: ledger::CREDITS,
                delta: credits,
                balance_after: credits,
                now,
            },
        )
        .await?;
    }
    Ok(())
}

/// Creates the player if needed and loads it, locked until the transaction
/// ends (PostgreSQL `FOR UPDATE`; SQLite holds the write lock already).
pub async fn lock(
    conn: &mut Conn,
    dialect: Dialect,
    catalog: &Catalog,
    user_id: &str,
    now: i64,
) -> Result<Account> {
    ensure(conn, catalog, user_id, now).await?;
    load(conn, Some(dialect), user_id)
        .await?
        .ok_or(Error::AccountGone)
}

/// `GET /player`: the caller's state; the first call creates the player
/// with the starting state (a read first, so the common case takes no
/// write lock).
pub async fn current(db: &Db, catalog: &Catalog, user_id: &str) -> Result<game::api::Player> {
    {
        let mut conn = db.pool().acquire().await?;
        if let Some(found) = load(&mut conn, None, user_id).await? {
            return Ok(found.view(catalog));
        }
    }
    let mut tx = db.begin_write().await?;
    let created = lock(
        &mut tx,
        db.dialect(),
        catalog,
        user_id,
        crate::clock::now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(created.view(catalog))
}

/// Loads the player without creating it (`lock`: see [`players::find`]).
pub async fn load(
    conn: &mut Conn,
    lock: Option<Dialect>,
    user_id: &str,
) -> Result<Option<Account>> {
    let Some(row) = players::find(conn, user_id, lock).await? else {
        return Ok(None);
    };
    let items = players::items(conn, user_id).await?;
    Ok(Some(from_row(&row, &items)?))
}

fn from_row(row: &PlayerRow, items: &[(String, i64)]) -> Result<Account> {
    let mut inventory = BTreeMap::new();
    for (kind, count) in items {
        inventory.insert(kind.clone(), stored::<u32>(*count, "item count")?);
    }
    let mut upgrades = UpgradeLevels::default();
    for id in UpgradeId::ALL {
        upgrades.set(id, stored(level_of(row, id), "upgrade level")?);
    }
    let stats = PlayerStats {
        debris_collected: stored(row.debris_collected, "stat")?,
        credits_earned: stored(row.credits_earned, "stat")?,
        trades_completed: stored(row.trades_completed, "stat")?,
        sales_completed: stored(row.sales_completed, "stat")?,
        upgrades_purchased: stored(row.upgrades_purchased, "stat")?,
        legendary_found: stored(row.legendary_found, "stat")?,
        lobbies_joined: stored(row.lobbies_joined, "stat")?,
    };
    Ok(Account {
        user_id: row.user_id.clone(),
        username: row.username.clone(),
        state: PlayerState {
            credits: stored(row.credits, "credits")?,
            inventory,
            upgrades,
            stats,
        },
        version: row.version,
    })
}

fn level_of(row: &PlayerRow, id: UpgradeId) -> i64 {
    match id {
        UpgradeId::SpeedBoost => row.speed_boost,
        UpgradeId::InventoryExpansion => row.inventory_expansion,
        UpgradeId::CollectionEfficiency => row.collection_efficiency,
        UpgradeId::CargoMagnet => row.cargo_magnet,
        UpgradeId::ZoneAccess => row.zone_access,
        UpgradeId::DebrisScanner => row.debris_scanner,
    }
}

/// A stored number that must fit the game's type; a row that does not is
/// corrupt (500, logged), never silently clamped.
fn stored<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T> {
    T::try_from(value).map_err(|_| anyhow::anyhow!("stored {what} {value} is out of range").into())
}

/// A game number into a BIGINT column. Beyond i64 (9.2e18 credits) the
/// operation is refused like any other overflow.
fn to_i64<T: TryInto<i64>>(value: T) -> Result<i64> {
    value.try_into().map_err(|_| Error::CreditsOverflow)
}

/// What caused a [`save`]: ledger reason, reference and entry id.
#[derive(Debug, Clone, Copy)]
pub struct Cause<'a> {
    pub reason: Reason,
    pub reference: Option<&'a str>,
    /// Groups the ledger rows of one event (both sides of a trade share it).
    pub entry_id: &'a str,
}

/// Writes `after` over `before` (which must have been loaded locked in this
/// transaction): the player row (version + 1, only if still at `before`'s
/// version), the changed hold rows, and one ledger row per changed asset.
/// Returns the account as saved.
pub async fn save(
    conn: &mut Conn,
    before: &Account,
    after: &PlayerState,
    cause: Cause<'_>,
    now: i64,
) -> Result<Account> {
    let user_id = before.user_id.as_str();
    let version = before.version + 1;
    let mut row = PlayerRow {
        user_id: before.user_id.clone(),
        username: before.username.clone(),
        credits: to_i64(after.credits)?,
        speed_boost: 0,
        inventory_expansion: 0,
        collection_efficiency: 0,
        cargo_magnet: 0,
        zone_access: 0,
        debris_scanner: 0,
        debris_collected: to_i64(after.stats.debris_collected)?,
        credits_earned: to_i64(after.stats.credits_earned)?,
        trades_completed: to_i64(after.stats.trades_completed)?,
        sales_completed: to_i64(after.stats.sales_completed)?,
        upgrades_purchased: to_i64(after.stats.upgrades_purchased)?,
        legendary_found: to_i64(after.stats.legendary_found)?,
        lobbies_joined: to_i64(after.stats.lobbies_joined)?,
        version,
    };
    for id in UpgradeId::ALL {
        let level = i64::from(after.upgrades.get(id));
        match id {
            UpgradeId::SpeedBoost => row.speed_boost = level,
            UpgradeId::InventoryExpansion => row.inventory_expansion = level,
            UpgradeId::CollectionEfficiency => row.collection_efficiency = level,
            UpgradeId::CargoMagnet => row.cargo_magnet = level,
            UpgradeId::ZoneAccess => row.zone_access = level,
            UpgradeId::DebrisScanner => row.debris_scanner = level,
        }
    }
    if !players::update(conn, &row, before.version, now).await? {
        // The row lock makes this unreachable unless some code path forgot
        // to lock: refuse rather than overwrite.
        return Err(anyhow::anyhow!(
            "player {user_id} changed under a locked transaction (version {})",
            before.version
        )
        .into());
    }

    // (asset, delta, balance after)
    let mut changes: Vec<(String, i64, i64)> = Vec::new();
    let credits_delta = row.credits - to_i64(before.state.credits)?;
    if credits_delta != 0 {
        changes.push((ledger::CREDITS.to_owned(), credits_delta, row.credits));
    }
    let kinds: std::collections::BTreeSet<&String> = before
        .state
        .inventory
        .keys()
        .chain(after.inventory.keys())
        .collect();
    for kind in kinds {
        let old = i64::from(before.state.items(kind));
        let new = i64::from(after.items(kind));
        if old != new {
            players::set_item(conn, user_id, kind, new).await?;
            changes.push((ledger::item_asset(kind), new - old, new));
        }
    }
    for id in UpgradeId::ALL {
        let old = i64::from(before.state.upgrades.get(id));
        let new = i64::from(after.upgrades.get(id));
        if old != new {
            changes.push((ledger::upgrade_asset(id.as_str()), new - old, new));
        }
    }
    for (asset, delta, balance_after) in changes {
        ledger::insert(
            conn,
            &NewLedgerRow {
                user_id,
                entry_id: cause.entry_id,
                reason: cause.reason,
                reference: cause.reference,
                asset: &asset,
                delta,
                balance_after,
                now,
            },
        )
        .await?;
    }
    Ok(Account {
        user_id: before.user_id.clone(),
        username: before.username.clone(),
        state: after.clone(),
        version,
    })
}
