//! Buying the next level of an upgrade at the `game` crate's cost.

use game::api::{Dock, PurchaseResponse};
use game::milestones::MilestoneEvent;
use game::{Catalog, UpgradeId};

use super::account::{self, Cause};
use super::error::{Error, Result};
use super::milestones::{self, Happened};
use crate::db::{self, Conn, Dialect, ledger::Reason};

/// The upgrade a path names.
pub fn upgrade_id(upgrade: &str) -> Result<UpgradeId> {
    upgrade
        .parse()
        .map_err(|_| Error::UnknownUpgrade(upgrade.chars().take(64).collect()))
}

/// Buys the next level at the hub the ship is docked at (inside the
/// caller's transaction); see [`super::docking`].
pub async fn purchase(
    conn: &mut Conn,
    dialect: Dialect,
    catalog: &Catalog,
    user_id: &str,
    upgrade: UpgradeId,
    dock: Option<&Dock>,
    now: i64,
) -> Result<PurchaseResponse> {
    let player = account::lock(conn, dialect, catalog, user_id, now).await?;
    super::docking::require_docked(conn, catalog, &player, dock, now).await?;
    let mut next = player.state.clone();
    let receipt = next.purchase(catalog, upgrade)?;
    let entry_id = db::new_id();
    let saved = account::save(
        conn,
        &player,
        &next,
        Cause {
            reason: Reason::Purchase,
            reference: Some(upgrade.as_str()),
            entry_id: &entry_id,
        },
        now,
    )
    .await?;
    milestones::record(
        conn,
        catalog,
        user_id,
        Happened {
            event: MilestoneEvent::UpgradePurchased { upgrade },
            before: &player.state,
            after: &next,
            run_id: None,
        },
        now,
    )
    .await?;
    Ok(PurchaseResponse {
        upgrade: receipt.upgrade,
        level: receipt.level,
        cost: receipt.cost,
        player: saved.view(catalog),
    })
}
