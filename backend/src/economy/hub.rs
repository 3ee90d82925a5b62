//! Selling at a trading hub, at the `game` crate's prices.

use game::Catalog;
use game::api::{Dock, SellOrder, SellRequest, SellResponse};
use game::milestones::MilestoneEvent;

use super::account::{self, Cause};
use super::error::{Error, Result};
use super::milestones::{self, Happened};
use crate::db::{self, Conn, Dialect, ledger::Reason};

/// What the request asks to sell, if it is well-formed.
pub fn order(body: &SellRequest) -> Result<SellOrder> {
    body.order()
        .map_err(|error| Error::InvalidRequest(error.message))
}

/// Sells at the hub the ship is docked at (inside the caller's
/// transaction); see [`super::docking`].
#[allow(clippy::too_many_arguments)]
pub async fn sell(
    conn: &mut Conn,
    dialect: Dialect,
    catalog: &Catalog,
    user_id: &str,
    order: &SellOrder,
    dock: Option<&Dock>,
    now: i64,
) -> Result<SellResponse> {
    let player = account::lock(conn, dialect, catalog, user_id, now).await?;
    super::docking::require_docked(conn, catalog, &player, dock, now).await?;
    let mut next = player.state.clone();
    let receipt = match order {
        SellOrder::Items(items) => next.sell(catalog, items),
        SellOrder::All => next.sell_all(catalog),
    }?;
    let entry_id = db::new_id();
    let saved = account::save(
        conn,
        &player,
        &next,
        Cause {
            reason: Reason::Sell,
            reference: None,
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
            event: MilestoneEvent::Sold,
            before: &player.state,
            after: &next,
            run_id: None,
        },
        now,
    )
    .await?;
    Ok(SellResponse {
        sold: receipt.sold,
        credits_gained: receipt.credits_gained,
        player: saved.view(catalog),
    })
}
