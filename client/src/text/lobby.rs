//! Words for the trading lobby: server refusals explained to the player,
//! and one-line summaries of an offer. Plain Rust (tested with `cargo test`).

use game::api::codes;
use game::{Catalog, TradeBundle};

/// Which side failed, from a trade refusal's message (`"offerer: ..."`,
/// `"receiver: ..."`), as the player reading it sees it.
fn who(message: &str, i_am_offerer: Option<bool>) -> Option<&'static str> {
    let offerer_failed = if message.starts_with("offerer:") {
        true
    } else if message.starts_with("receiver:") {
        false
    } else {
        return None;
    };
    i_am_offerer.map(|me| if me == offerer_failed { "you" } else { "they" })
}

/// The refusal `code` (with the server's `message`) in words. `i_am_offerer`
/// says whose side of a trade the reader is on, when a trade is concerned.
pub fn explain(code: &str, message: &str, i_am_offerer: Option<bool>) -> String {
    let catalog = Catalog::shipped();
    let rules = catalog.lobby();
    let side = who(message, i_am_offerer);
    match code {
        codes::LOBBY_FULL => format!(
            "That room is full: {} traders at most. Try another code or open a room.",
            rules.capacity
        ),
        codes::UNKNOWN_LOBBY => {
            "No room has that code. Check it with whoever opened the room.".to_owned()
        }
        codes::NOT_A_MEMBER => {
            "Both traders must be in this room. The other trader has left it.".to_owned()
        }
        codes::TRADE_NOT_PENDING => "This offer is no longer open: it was already accepted, \
             declined, cancelled, or it expired."
            .to_owned(),
        codes::UNKNOWN_TRADE => "The station has no record of this offer.".to_owned(),
        codes::TOO_MANY_OFFERS => format!(
            "You already have {} open offers. Cancel one or wait for an answer.",
            rules.max_pending_offers
        ),
        codes::INSUFFICIENT_ITEMS => match side {
            Some("you") => "You no longer hold the debris this offer needs from you.".to_owned(),
            Some(_) => "They no longer hold the debris this offer asks of them.".to_owned(),
            None => "Not enough debris in the hold for this offer.".to_owned(),
        },
        codes::INSUFFICIENT_CREDITS => match side {
            Some("you") => "You do not have the credits this offer needs from you.".to_owned(),
            Some(_) => "They do not have the credits this offer asks of them.".to_owned(),
            None => "Not enough credits for this offer.".to_owned(),
        },
        codes::INSUFFICIENT_UPGRADES => match side {
            Some("you") => "You do not have the upgrade levels this offer gives away.".to_owned(),
            Some(_) => "They do not have the upgrade levels this offer asks of them.".to_owned(),
            None => "Not enough upgrade levels for this offer.".to_owned(),
        },
        codes::HOLD_FULL => match side {
            Some(who) => format!("The cargo would not fit: {who} lack hold space."),
            None => "The cargo would not fit in the hold.".to_owned(),
        },
        codes::MAX_LEVEL => "That would raise an upgrade above its maximum level.".to_owned(),
        codes::CREDITS_OVERFLOW => "That many credits cannot be held.".to_owned(),
        codes::FORBIDDEN => "Only the other party of this offer can do that.".to_owned(),
        codes::CHAT_RATE_LIMITED => {
            "The room channel is busy: your line was not sent. Wait a moment.".to_owned()
        }
        codes::INVALID_CHAT => "Nothing left to send in that line.".to_owned(),
        codes::INVALID_MESSAGE => "The station did not understand the last message.".to_owned(),
        codes::UNREACHABLE => format!("Cannot reach the station. {message}"),
        codes::NOT_SIGNED_IN => "Sign in first.".to_owned(),
        _ => super::auth::explain_error(code, message, None),
    }
}

/// `"40 CR, 2 Scrap Metal, Thrusters +1"`, or `"nothing"`.
pub fn describe_bundle(catalog: &Catalog, bundle: &TradeBundle) -> String {
    let mut parts = Vec::new();
    if bundle.credits > 0 {
        parts.push(format!("{} CR", bundle.credits));
    }
    for kind in catalog.debris_kinds() {
        let count = bundle.items.get(&kind.id).copied().unwrap_or(0);
        if count > 0 {
            parts.push(format!("{count} {}", kind.name));
        }
    }
    for (id, levels) in &bundle.upgrades {
        if *levels > 0 {
            parts.push(format!("{} +{levels}", catalog.upgrade(*id).name));
        }
    }
    if parts.is_empty() {
        "nothing".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_explained_from_the_readers_side() {
        assert!(explain("lobby_full", "", None).contains("full: 8 traders"));
        assert!(explain("unknown_lobby", "no lobby with this code", None).contains("No room"));
        assert!(explain("trade_not_pending", "", Some(false)).contains("no longer open"));
        let refusal = "receiver: not enough `scrap_metal`: have 0, need 2";
        assert!(explain("insufficient_items", refusal, Some(false)).starts_with("You no longer"));
        assert!(explain("insufficient_items", refusal, Some(true)).starts_with("They no longer"));
    }

    #[test]
    fn bundles_read_as_a_list() {
        let catalog = Catalog::shipped();
        let mut bundle = TradeBundle {
            credits: 40,
            ..TradeBundle::default()
        };
        bundle.items.insert("scrap_metal".into(), 2);
        bundle.upgrades.insert(game::UpgradeId::SpeedBoost, 1);
        let text = describe_bundle(catalog, &bundle);
        assert!(text.starts_with("40 CR, 2 Scrap Metal, "), "{text}");
        assert_eq!(describe_bundle(catalog, &TradeBundle::default()), "nothing");
    }
}
