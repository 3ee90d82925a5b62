//! `ledger`: one append-only row per asset changed by an economic event.

use super::Conn;

/// Why a balance changed. Stored as text (the CHECK lists the same set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The starting credits of a new player.
    Opening,
    Collect,
    Sell,
    Purchase,
    Trade,
    /// An operator's correction (`backend admin adjust-credits`, the admin
    /// API, `backend seed-demo`); the audit log says who and why.
    Adjustment,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opening => "opening",
            Self::Collect => "collect",
            Self::Sell => "sell",
            Self::Purchase => "purchase",
            Self::Trade => "trade",
            Self::Adjustment => "adjustment",
        }
    }
}

/// The asset name of credits.
pub const CREDITS: &str = "credits";

/// `item:<kind>`
pub fn item_asset(kind: &str) -> String {
    format!("item:{kind}")
}

/// `upgrade:<id>`
pub fn upgrade_asset(upgrade: &str) -> String {
    format!("upgrade:{upgrade}")
}

pub struct NewLedgerRow<'a> {
    pub user_id: &'a str,
    pub entry_id: &'a str,
    pub reason: Reason,
    pub reference: Option<&'a str>,
    pub asset: &'a str,
    pub delta: i64,
    pub balance_after: i64,
    pub now: i64,
}

pub async fn insert(conn: &mut Conn, row: &NewLedgerRow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ledger (id, user_id, entry_id, reason, reference, asset, delta, balance_after, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(super::new_id())
    .bind(row.user_id)
    .bind(row.entry_id)
    .bind(row.reason.as_str())
    .bind(row.reference)
    .bind(row.asset)
    .bind(row.delta)
    .bind(row.balance_after)
    .bind(row.now)
    .execute(conn)
    .await?;
    Ok(())
}

/// `(user, asset, sum of deltas)` over the whole ledger, for the audit.
pub async fn sums(conn: &mut Conn) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    // CAST: PostgreSQL's SUM(bigint) is numeric, which the `Any` driver
    // cannot decode.
    sqlx::query_as(
        "SELECT user_id, asset, CAST(SUM(delta) AS BIGINT) FROM ledger
         GROUP BY user_id, asset ORDER BY user_id, asset",
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LedgerRow {
    pub entry_id: String,
    pub reason: String,
    pub reference: Option<String>,
    pub asset: String,
    pub delta: i64,
    pub balance_after: i64,
    pub created_at: i64,
}

/// A player's ledger, oldest first (for the data export).
pub async fn list_for_user(conn: &mut Conn, user_id: &str) -> Result<Vec<LedgerRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT entry_id, reason, reference, asset, delta, balance_after, created_at
         FROM ledger WHERE user_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// One ledger row with its owner, for the audit's trace of every credit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: String,
    pub user_id: String,
    pub entry_id: String,
    pub reason: String,
    pub reference: Option<String>,
    pub asset: String,
    pub delta: i64,
    pub balance_after: i64,
}

/// The whole ledger, by player and asset, each in the order written (ids
/// are UUIDv7, ordered by creation within a process).
pub async fn all_rows(conn: &mut Conn) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, entry_id, reason, reference, asset, delta, balance_after
         FROM ledger ORDER BY user_id, asset, id",
    )
    .fetch_all(conn)
    .await
}
