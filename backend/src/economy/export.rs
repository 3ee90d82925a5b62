//! The economy's part of `GET /me/export`: everything stored about a
//! player's game (state, messages, runs, lobbies, trades, ledger).

use serde_json::{Value, json};

use super::error::Result;
use super::{account, trades as trade_views};
use crate::clock::{now_ms, rfc3339};
use crate::db::{Conn, ledger, lobbies, messages, runs, trades};

pub async fn sections(conn: &mut Conn, catalog: &game::Catalog, user_id: &str) -> Result<Value> {
    let now = now_ms();
    let player = account::load(conn, None, user_id)
        .await?
        .map(|found| found.view(catalog));
    let messages: Vec<Value> = messages::list(conn, user_id)
        .await?
        .into_iter()
        .map(|m| {
            json!({"id": m.message_id, "unlocked_at": rfc3339(m.unlocked_at),
                   "seen_at": m.seen_at.map(rfc3339)})
        })
        .collect();
    let runs: Vec<Value> = runs::list_for_user(conn, user_id)
        .await?
        .into_iter()
        .map(|(id, zone, seed, started_at, collected)| {
            json!({"run_id": id, "zone": zone, "seed": seed,
                   "started_at": rfc3339(started_at), "collected": collected})
        })
        .collect();
    let lobbies: Vec<Value> = lobbies::memberships(conn, user_id)
        .await?
        .into_iter()
        .map(|(code, joined_at)| json!({"code": code, "joined_at": rfc3339(joined_at)}))
        .collect();
    let mut trade_list = Vec::new();
    for row in trades::list_for_user(conn, user_id).await? {
        trade_list.push(
            serde_json::to_value(trade_views::view(&row, now)?).map_err(anyhow::Error::from)?,
        );
    }
    let ledger: Vec<Value> = ledger::list_for_user(conn, user_id)
        .await?
        .into_iter()
        .map(|row| {
            json!({"entry_id": row.entry_id, "reason": row.reason, "reference": row.reference,
                   "asset": row.asset, "delta": row.delta, "balance_after": row.balance_after,
                   "created_at": rfc3339(row.created_at)})
        })
        .collect();
    Ok(json!({
        "player": player,
        "messages": messages,
        "runs": runs,
        "lobbies": lobbies,
        "trades": trade_list,
        "ledger": ledger,
    }))
}
