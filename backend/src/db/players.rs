//! `players` (credits, upgrade levels, lifetime stats, version) and
//! `player_items` (the hold, one row per debris kind).
//!
//! Only [`crate::economy::account`] calls the writers here, so every change
//! of a balance goes through the one function that also writes the ledger.

use super::{Conn, Dialect};

/// A `players` row plus the username (for the API's `player` object).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlayerRow {
    pub user_id: String,
    pub username: String,
    pub credits: i64,
    pub speed_boost: i64,
    pub inventory_expansion: i64,
    pub collection_efficiency: i64,
    pub cargo_magnet: i64,
    pub zone_access: i64,
    pub debris_scanner: i64,
    pub debris_collected: i64,
    pub credits_earned: i64,
    pub trades_completed: i64,
    pub sales_completed: i64,
    pub upgrades_purchased: i64,
    pub legendary_found: i64,
    pub lobbies_joined: i64,
    pub version: i64,
}

const SELECT_PLAYER: &str = "SELECT p.user_id, u.username, p.credits,
        p.speed_boost, p.inventory_expansion, p.collection_efficiency, p.cargo_magnet,
        p.zone_access, p.debris_scanner,
        p.debris_collected, p.credits_earned, p.trades_completed, p.sales_completed,
        p.upgrades_purchased, p.legendary_found, p.lobbies_joined, p.version
     FROM players p JOIN users u ON u.id = p.user_id
     WHERE p.user_id = $1";

/// Creates the player with its starting credits unless it exists. True when
/// this call created it (the caller then writes the opening ledger row).
pub async fn insert_if_missing(
    conn: &mut Conn,
    user_id: &str,
    credits: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO players (user_id, credits, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(credits)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Reads the player. Inside a writing transaction on PostgreSQL the row is
/// locked until commit, so concurrent economy requests of one player run one
/// after the other; SQLite's `BEGIN IMMEDIATE` already serialises writers.
///
/// `FOR NO KEY UPDATE` rather than `FOR UPDATE`: it excludes every other
/// writer of the row but not the key-share lock an INSERT referencing the
/// player takes (a trade offered *to* this player, a ledger row), so two
/// players offering each other trades at once cannot deadlock.
pub async fn find(
    conn: &mut Conn,
    user_id: &str,
    lock: Option<Dialect>,
) -> Result<Option<PlayerRow>, sqlx::Error> {
    let query = match lock {
        Some(Dialect::Postgres) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_PLAYER} FOR NO KEY UPDATE OF p"
        ))),
        _ => sqlx::query_as(SELECT_PLAYER),
    };
    query.bind(user_id).fetch_optional(conn).await
}

/// Locks several players in a fixed order (ascending user id), so two
/// transactions locking the same pair can never wait on each other in a
/// cycle. A no-op on SQLite (the write lock is already held).
pub async fn lock_in_order(
    conn: &mut Conn,
    dialect: Dialect,
    user_ids: &[&str],
) -> Result<(), sqlx::Error> {
    if dialect != Dialect::Postgres {
        return Ok(());
    }
    let mut ids: Vec<&str> = user_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        sqlx::query("SELECT user_id FROM players WHERE user_id = $1 FOR NO KEY UPDATE")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    }
    Ok(())
}

/// `(kind, count)` of the hold.
pub async fn items(conn: &mut Conn, user_id: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT kind, count FROM player_items WHERE user_id = $1 ORDER BY kind")
        .bind(user_id)
        .fetch_all(conn)
        .await
}

/// Writes the new credits, levels and stats if the row still has
/// `expected_version`; returns false (nothing written) otherwise.
pub async fn update(
    conn: &mut Conn,
    row: &PlayerRow,
    expected_version: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE players SET credits = $3,
            speed_boost = $4, inventory_expansion = $5, collection_efficiency = $6,
            cargo_magnet = $7, zone_access = $8, debris_scanner = $9,
            debris_collected = $10, credits_earned = $11, trades_completed = $12,
            sales_completed = $13, upgrades_purchased = $14, legendary_found = $15,
            lobbies_joined = $16, version = $17, updated_at = $18
         WHERE user_id = $1 AND version = $2",
    )
    .bind(&row.user_id)
    .bind(expected_version)
    .bind(row.credits)
    .bind(row.speed_boost)
    .bind(row.inventory_expansion)
    .bind(row.collection_efficiency)
    .bind(row.cargo_magnet)
    .bind(row.zone_access)
    .bind(row.debris_scanner)
    .bind(row.debris_collected)
    .bind(row.credits_earned)
    .bind(row.trades_completed)
    .bind(row.sales_completed)
    .bind(row.upgrades_purchased)
    .bind(row.legendary_found)
    .bind(row.lobbies_joined)
    .bind(row.version)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Sets the count of one kind in the hold (0 deletes the row).
pub async fn set_item(
    conn: &mut Conn,
    user_id: &str,
    kind: &str,
    count: i64,
) -> Result<(), sqlx::Error> {
    if count == 0 {
        sqlx::query("DELETE FROM player_items WHERE user_id = $1 AND kind = $2")
            .bind(user_id)
            .bind(kind)
            .execute(conn)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO player_items (user_id, kind, count) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, kind) DO UPDATE SET count = excluded.count",
        )
        .bind(user_id)
        .bind(kind)
        .bind(count)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// The user id of a username (case-insensitive), if that user has a player.
pub async fn find_id_by_username(
    conn: &mut Conn,
    username: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN players p ON p.user_id = u.id
         WHERE lower(u.username) = lower($1)",
    )
    .bind(username)
    .fetch_optional(conn)
    .await
}

/// Whether the user has verified their email (start credits become
/// transferable: `game::PlayerState::transferable_credits`).
pub async fn email_verified(conn: &mut Conn, user_id: &str) -> Result<bool, sqlx::Error> {
    let verified: Option<Option<i64>> =
        sqlx::query_scalar("SELECT email_verified_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(matches!(verified, Some(Some(_))))
}

/// Every player's credits and levels, for the audit.
pub async fn all_balances(conn: &mut Conn) -> Result<Vec<PlayerRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.user_id, u.username, p.credits,
            p.speed_boost, p.inventory_expansion, p.collection_efficiency, p.cargo_magnet,
            p.zone_access, p.debris_scanner,
            p.debris_collected, p.credits_earned, p.trades_completed, p.sales_completed,
            p.upgrades_purchased, p.legendary_found, p.lobbies_joined, p.version
         FROM players p JOIN users u ON u.id = p.user_id ORDER BY p.user_id",
    )
    .fetch_all(conn)
    .await
}

/// Every `(user, kind, count)` of every hold, for the audit.
pub async fn all_items(conn: &mut Conn) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT user_id, kind, count FROM player_items ORDER BY user_id, kind")
        .fetch_all(conn)
        .await
}
