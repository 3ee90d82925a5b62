//! One offer between the player and another trader, without the window: the
//! fields an offer is made of, the bundle built from their amounts, the
//! checks before sending or accepting (the `game` crate's own rules), which
//! trade a window shows after an event, and the words and actions for it.
//! The Godot `TradeWindow` node draws this with spin boxes and buttons.

use std::collections::BTreeMap;

use game::api::{CreateTradeRequest, Trade, TradeStatus};
use game::{Catalog, Level, PlayerState, TradeBundle, UpgradeId};

use crate::text::lobby as lobby_text;

/// What one amount of an offer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferField {
    Credits,
    Item(String),
    Upgrade(UpgradeId),
}

impl OfferField {
    /// `credits`, a debris kind id or an upgrade id.
    pub fn parse(name: &str) -> Option<OfferField> {
        if name == "credits" {
            return Some(OfferField::Credits);
        }
        if let Ok(id) = name.parse::<UpgradeId>() {
            return Some(OfferField::Upgrade(id));
        }
        Catalog::shipped()
            .kind_index(name)
            .map(|_| OfferField::Item(name.to_owned()))
    }

    /// Every field with its name, in the order a window lists them.
    pub fn all(catalog: &Catalog) -> Vec<(OfferField, String)> {
        let mut fields = vec![(OfferField::Credits, "Credits".to_owned())];
        for kind in catalog.debris_kinds() {
            fields.push((OfferField::Item(kind.id.clone()), kind.name.clone()));
        }
        for id in UpgradeId::ALL {
            fields.push((OfferField::Upgrade(id), catalog.upgrade(id).name.to_owned()));
        }
        fields
    }

    /// How much of this field `bundle` moves.
    pub fn amount_in(&self, bundle: &TradeBundle) -> u64 {
        match self {
            OfferField::Credits => bundle.credits,
            OfferField::Item(kind) => u64::from(bundle.items.get(kind).copied().unwrap_or(0)),
            OfferField::Upgrade(id) => u64::from(bundle.upgrades.get(id).copied().unwrap_or(0)),
        }
    }

    /// How much of this field the player holds.
    pub fn held_by(&self, player: &PlayerState) -> u64 {
        match self {
            OfferField::Credits => player.credits,
            OfferField::Item(kind) => u64::from(player.items(kind)),
            OfferField::Upgrade(id) => u64::from(player.upgrades.get(*id)),
        }
    }
}

/// The bundle that amounts (as typed: rounded, negatives as zero) make.
pub fn bundle_from<'a>(amounts: impl IntoIterator<Item = (&'a OfferField, f64)>) -> TradeBundle {
    let mut bundle = TradeBundle::default();
    for (field, amount) in amounts {
        let value = amount.max(0.0).round() as u64;
        if value == 0 {
            continue;
        }
        match field {
            OfferField::Credits => bundle.credits = value,
            OfferField::Item(kind) => {
                bundle
                    .items
                    .insert(kind.clone(), value.min(u64::from(u32::MAX)) as u32);
            }
            OfferField::Upgrade(id) => {
                // Levels are small; a typed amount is capped as a byte.
                bundle.upgrades.insert(*id, value.min(255) as Level);
            }
        }
    }
    bundle
}

/// The offer to send to `partner`, or why not (in words): something must
/// change hands, and the player must own what they give.
pub fn check_offer(
    partner: &str,
    give: TradeBundle,
    want: TradeBundle,
    own: Option<&PlayerState>,
) -> Result<CreateTradeRequest, String> {
    if give.is_empty() && want.is_empty() {
        return Err("NOTHING WOULD CHANGE HANDS: SET AN AMOUNT FIRST.".to_owned());
    }
    if let Some(own) = own
        && let Err(e) = own.check_can_give(Catalog::shipped(), &give)
    {
        return Err(lobby_text::explain(
            e.code(),
            &format!("offerer: {e}"),
            Some(true),
        ));
    }
    Ok(CreateTradeRequest {
        to: partner.to_owned(),
        give,
        want,
    })
}

/// Whether the receiver can accept `trade` (they give what the offerer
/// wants), or why not in words.
pub fn check_accept(trade: &Trade, own: Option<&PlayerState>) -> Result<(), String> {
    if trade.status == TradeStatus::Pending
        && let Some(own) = own
        && let Err(e) = own.check_can_give(Catalog::shipped(), &trade.want)
    {
        return Err(lobby_text::explain(
            e.code(),
            &format!("receiver: {e}"),
            Some(false),
        ));
    }
    Ok(())
}

/// `pending`, `completed`, ... as the API spells a status.
pub fn status_id(status: TradeStatus) -> &'static str {
    match status {
        TradeStatus::Pending => "pending",
        TradeStatus::Completed => "completed",
        TradeStatus::Declined => "declined",
        TradeStatus::Cancelled => "cancelled",
        TradeStatus::Expired => "expired",
    }
}

/// How a status line should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Something to act on.
    Attention,
    /// Done, good.
    Good,
    /// Over, not as hoped.
    Warning,
}

/// The status line of `trade` as `me` sees it, with `partner` named.
pub fn status_line(trade: &Trade, me: &str, partner: &str) -> (String, Tone) {
    let i_offer = trade.from == me;
    match (trade.status, i_offer) {
        (TradeStatus::Pending, true) => (
            format!("OFFER SENT. WAITING FOR {partner} TO ACCEPT OR DECLINE."),
            Tone::Attention,
        ),
        (TradeStatus::Pending, false) => (
            format!("{partner} OFFERS THIS TRADE. ACCEPT OR DECLINE."),
            Tone::Attention,
        ),
        (TradeStatus::Completed, _) => (
            "TRADE COMPLETED. BOTH LEDGERS UPDATED.".to_owned(),
            Tone::Good,
        ),
        (TradeStatus::Declined, true) => (format!("{partner} DECLINED THE OFFER."), Tone::Warning),
        (TradeStatus::Declined, false) => ("YOU DECLINED THE OFFER.".to_owned(), Tone::Warning),
        (TradeStatus::Cancelled, true) => ("YOU WITHDREW THE OFFER.".to_owned(), Tone::Warning),
        (TradeStatus::Cancelled, false) => {
            (format!("{partner} WITHDREW THE OFFER."), Tone::Warning)
        }
        (TradeStatus::Expired, _) => ("THE OFFER EXPIRED UNANSWERED.".to_owned(), Tone::Warning),
    }
}

/// Which actions a window offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actions {
    pub offer: bool,
    pub accept: bool,
    pub decline: bool,
    pub cancel: bool,
    pub new_offer: bool,
}

/// The actions for `shown` (`None`: composing) as `me` sees it.
pub fn actions(shown: Option<&Trade>, me: &str) -> Actions {
    let (composing, pending, i_offer) = match shown {
        None => (true, false, true),
        Some(t) => (false, t.status == TradeStatus::Pending, t.from == me),
    };
    Actions {
        offer: composing,
        accept: pending && !i_offer,
        decline: pending && !i_offer,
        cancel: pending && i_offer,
        new_offer: !composing && !pending,
    }
}

/// `YOU GIVE: ...\nYOU GET:  ...`.
pub fn summary(give: &TradeBundle, want: &TradeBundle) -> String {
    let catalog = Catalog::shipped();
    format!(
        "YOU GIVE: {}\nYOU GET:  {}",
        lobby_text::describe_bundle(catalog, give),
        lobby_text::describe_bundle(catalog, want),
    )
}

/// What a trade event means for the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TradeEventOutcome {
    /// The offerer learns of a completion here: fetch the player.
    pub refresh_player: bool,
    /// Show this trade (and open the window).
    pub show: bool,
}

/// The trades of one player in one room, and the one on show.
#[derive(Debug, Clone, Default)]
pub struct TradeBook {
    me: String,
    partner: String,
    lobby: String,
    /// The offer on show; `None` while composing.
    shown: Option<Trade>,
    /// Every trade of mine seen in this room, by id.
    known: BTreeMap<String, Trade>,
}

impl TradeBook {
    pub fn me(&self) -> &str {
        &self.me
    }

    pub fn partner(&self) -> &str {
        &self.partner
    }

    pub fn lobby(&self) -> &str {
        &self.lobby
    }

    pub fn shown(&self) -> Option<&Trade> {
        self.shown.as_ref()
    }

    /// Whether the player offered the trade on show (true while composing).
    pub fn i_offer_shown(&self) -> bool {
        self.shown.as_ref().is_none_or(|t| t.from == self.me)
    }

    /// Who the player is, in which room (a new room forgets the old trades).
    pub fn set_identity(&mut self, me: &str, lobby: &str) {
        if self.lobby != lobby {
            self.known.clear();
        }
        self.me = me.to_owned();
        self.lobby = lobby.to_owned();
    }

    /// Opens on `partner`: their open offer with the player if any (to
    /// show), else `None` (compose a blank one).
    pub fn open_with(&mut self, me: &str, partner: &str, lobby: &str) -> Option<Trade> {
        self.me = me.to_owned();
        self.partner = partner.to_owned();
        self.lobby = lobby.to_owned();
        self.known
            .values()
            .rev()
            .find(|t| t.status == TradeStatus::Pending && self.between_us(t))
            .cloned()
    }

    fn between_us(&self, trade: &Trade) -> bool {
        (trade.from == self.me && trade.to == self.partner)
            || (trade.to == self.me && trade.from == self.partner)
    }

    pub fn remember(&mut self, trade: Trade) {
        self.known.insert(trade.id.clone(), trade);
    }

    /// Composing a new offer.
    pub fn compose(&mut self) {
        self.shown = None;
    }

    /// `trade` is on show now.
    pub fn show(&mut self, trade: Trade) {
        self.shown = Some(trade);
    }

    /// A trade event (socket or answer); `visible` says whether the window
    /// is open.
    pub fn on_trade(&mut self, trade: &Trade, visible: bool) -> TradeEventOutcome {
        let mut outcome = TradeEventOutcome::default();
        if trade.from != self.me && trade.to != self.me {
            return outcome;
        }
        let previous = self.known.get(&trade.id).map(|t| t.status);
        self.remember(trade.clone());
        // The accept answer carries the receiver's player; the offerer
        // learns about the completion here and asks for theirs.
        outcome.refresh_player = trade.status == TradeStatus::Completed
            && previous != Some(TradeStatus::Completed)
            && trade.from == self.me;
        let on_show = self.shown.as_ref().is_some_and(|t| t.id == trade.id);
        let incoming = trade.to == self.me && trade.status == TradeStatus::Pending;
        let composing_for_them = visible && self.shown.is_none() && self.partner == trade.from;
        if on_show || (incoming && (!visible || composing_for_them)) {
            self.partner = if trade.from == self.me {
                trade.to.clone()
            } else {
                trade.from.clone()
            };
            outcome.show = true;
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(id: &str, from: &str, to: &str, status: TradeStatus) -> Trade {
        Trade {
            id: id.into(),
            lobby: "AB2CD9".into(),
            from: from.into(),
            to: to.into(),
            give: TradeBundle {
                credits: 5,
                ..TradeBundle::default()
            },
            want: TradeBundle::default(),
            status,
            created_at: String::new(),
            expires_at: String::new(),
        }
    }

    #[test]
    fn fields_parse_and_make_a_bundle() {
        let scrap = OfferField::parse("scrap_metal").unwrap();
        let credits = OfferField::parse("credits").unwrap();
        assert_eq!(OfferField::parse("nope"), None);
        let bundle = bundle_from([(&credits, 40.4), (&scrap, 2.0), (&scrap.clone(), 0.0)]);
        assert_eq!(bundle.credits, 40);
        assert_eq!(scrap.amount_in(&bundle), 2);
        assert_eq!(
            OfferField::all(Catalog::shipped()).len(),
            1 + Catalog::shipped().debris_kinds().len() + UpgradeId::ALL.len()
        );
    }

    #[test]
    fn an_offer_must_move_something_the_player_owns() {
        let catalog = Catalog::shipped();
        let own = PlayerState::new_player(catalog);
        let empty = check_offer("bob", TradeBundle::default(), TradeBundle::default(), None);
        assert!(empty.unwrap_err().starts_with("NOTHING WOULD CHANGE HANDS"));
        let mut give = TradeBundle::default();
        give.items.insert("scrap_metal".into(), 3);
        let refused = check_offer("bob", give, TradeBundle::default(), Some(&own));
        assert!(refused.unwrap_err().starts_with("You no longer"));
        let want = TradeBundle {
            credits: 1,
            ..TradeBundle::default()
        };
        let ok = check_offer("bob", TradeBundle::default(), want, Some(&own)).unwrap();
        assert_eq!(ok.to, "bob");
    }

    #[test]
    fn an_incoming_offer_opens_the_window_and_a_completion_refreshes_the_offerer() {
        let mut book = TradeBook::default();
        book.set_identity("ada", "AB2CD9");
        let offer = trade("t1", "bob", "ada", TradeStatus::Pending);
        let outcome = book.on_trade(&offer, false);
        assert!(outcome.show && !outcome.refresh_player);
        assert_eq!(book.partner(), "bob");
        book.show(offer);
        assert_eq!(book.open_with("ada", "bob", "AB2CD9").unwrap().id, "t1");
        let mine = trade("t2", "ada", "bob", TradeStatus::Completed);
        assert!(book.on_trade(&mine, true).refresh_player);
        // Seen once: no second refresh.
        assert!(!book.on_trade(&mine, true).refresh_player);
        // Not mine: ignored.
        let other = trade("t3", "cy", "bob", TradeStatus::Pending);
        assert_eq!(book.on_trade(&other, true), TradeEventOutcome::default());
    }

    #[test]
    fn words_and_actions_follow_the_side() {
        let t = trade("t1", "bob", "ada", TradeStatus::Pending);
        let (text, tone) = status_line(&t, "ada", "bob");
        assert_eq!(text, "bob OFFERS THIS TRADE. ACCEPT OR DECLINE.");
        assert_eq!(tone, Tone::Attention);
        let a = actions(Some(&t), "ada");
        assert!(a.accept && a.decline && !a.cancel && !a.offer);
        assert!(actions(None, "ada").offer);
        assert_eq!(status_id(TradeStatus::Expired), "expired");
    }
}
