//! The client's copy of the player: the server's last answer plus the
//! collections predicted since. Plain Rust (unit-tested with `cargo test`);
//! [`crate::session::Session`] wraps it.
//!
//! The server wins: every answer replaces the copy when its `version` is not
//! older, and a prediction stops counting as soon as the server has judged
//! it, accepted or not. Predictions are kept in the order they were made
//! (collections, sales, purchases, as queued offline) and applied on top of
//! the server's copy with the `game` crate's own economy rules, so an offline
//! sale shows the credits the server will pay.

use std::collections::BTreeMap;

use game::api::{Hold, Player, SellOrder, SellRequest, Stats};
use game::ship::ShipEffects;
use game::{Catalog, Credits, ItemCount, PlayerState, UpgradeId, UpgradeLevels, ZoneId};
use serde::{Deserialize, Serialize};

/// A collection the client predicted and the server has not judged yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictedPiece {
    /// Empty for a local run (screenshots, offline fixture): never sent.
    pub run_id: String,
    pub index: u32,
    /// Run clock (s) when collected.
    pub at: f64,
    pub kind: String,
}

/// A change the client made and the server has not judged yet.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    Piece(PredictedPiece),
    /// A queued sale, by its `Idempotency-Key`.
    Sale {
        key: String,
        request: SellRequest,
    },
    /// A queued purchase, by its `Idempotency-Key`.
    Purchase {
        key: String,
        upgrade: UpgradeId,
    },
}

/// Server state plus predictions.
#[derive(Debug, Clone, Default)]
pub struct PlayerMirror {
    server: Option<Player>,
    predicted: Vec<Prediction>,
}

impl PlayerMirror {
    /// The server's last word, if any.
    pub fn server(&self) -> Option<&Player> {
        self.server.as_ref()
    }

    /// Takes the server's answer unless it is older than what we have.
    /// Returns whether it was taken.
    pub fn accept(&mut self, player: Player) -> bool {
        if let Some(current) = &self.server
            && player.version < current.version
        {
            return false;
        }
        self.server = Some(player);
        true
    }

    /// Adds a predicted collection.
    pub fn predict(&mut self, piece: PredictedPiece) {
        self.predicted.push(Prediction::Piece(piece));
    }

    /// Adds a predicted sale or purchase (queued, not yet answered).
    pub fn predict_change(&mut self, change: Prediction) {
        self.predicted.push(change);
    }

    /// The server judged these pieces of `run_id`: stop predicting them.
    pub fn resolve(&mut self, run_id: &str, indices: &[u32]) {
        self.predicted.retain(|p| match p {
            Prediction::Piece(p) => !(p.run_id == run_id && indices.contains(&p.index)),
            _ => true,
        });
    }

    /// The server judged the sale or purchase queued with `key`.
    pub fn resolve_key(&mut self, key: &str) {
        self.predicted.retain(|p| match p {
            Prediction::Sale { key: k, .. } | Prediction::Purchase { key: k, .. } => k != key,
            Prediction::Piece(_) => true,
        });
    }

    /// Drops the predictions only (the server copy stays).
    pub fn clear_predictions(&mut self) {
        self.predicted.clear();
    }

    /// Drops every prediction (a new session).
    pub fn clear(&mut self) {
        self.server = None;
        self.predicted.clear();
    }

    pub fn predictions(&self) -> &[Prediction] {
        &self.predicted
    }

    /// Collections predicted and not judged yet.
    pub fn predicted_pieces(&self) -> usize {
        self.predicted
            .iter()
            .filter(|p| matches!(p, Prediction::Piece(_)))
            .count()
    }

    /// The player as the server last described it, before predictions.
    fn server_state(&self, catalog: &Catalog) -> PlayerState {
        let mut state = PlayerState::new_player(catalog);
        if let Some(p) = &self.server {
            state.credits = p.credits;
            state.inventory = p.inventory.clone();
            state.upgrades = p.upgrades;
        }
        state
    }

    /// The player with every prediction applied in order. A prediction the
    /// rules refuse (selling what is not there) changes nothing here; the
    /// server will refuse it too.
    pub fn view(&self, catalog: &Catalog) -> PlayerState {
        let mut state = self.server_state(catalog);
        for p in &self.predicted {
            match p {
                Prediction::Piece(piece) => {
                    *state.inventory.entry(piece.kind.clone()).or_insert(0) += 1;
                }
                Prediction::Sale { request, .. } => {
                    let _ = match request.order() {
                        Ok(SellOrder::Items(items)) => state.sell(catalog, &items),
                        Ok(SellOrder::All) => state.sell_all(catalog),
                        Err(_) => continue,
                    };
                }
                Prediction::Purchase { upgrade, .. } => {
                    let _ = state.purchase(catalog, *upgrade);
                }
            }
        }
        state
    }

    pub fn credits(&self, catalog: &Catalog) -> Credits {
        if self.predicted.is_empty() {
            return self
                .server
                .as_ref()
                .map_or(catalog.start().credits, |p| p.credits);
        }
        self.view(catalog).credits
    }

    /// Items by kind, predictions included.
    pub fn inventory(&self) -> BTreeMap<String, ItemCount> {
        let mut items = self.view(Catalog::shipped()).inventory;
        items.retain(|_, n| *n > 0);
        items
    }

    pub fn items(&self, kind: &str) -> ItemCount {
        self.inventory().get(kind).copied().unwrap_or(0)
    }

    pub fn upgrades(&self) -> UpgradeLevels {
        if self.predicted.is_empty() {
            return self.server.as_ref().map(|p| p.upgrades).unwrap_or_default();
        }
        self.view(Catalog::shipped()).upgrades
    }

    pub fn effects(&self, catalog: &Catalog) -> ShipEffects {
        ShipEffects::from_levels(catalog, &self.upgrades())
    }

    /// Slots in use, predictions included.
    pub fn hold_used(&self) -> u64 {
        if self.predicted.is_empty() {
            return self.server.as_ref().map_or(0, |p| p.hold.used);
        }
        self.inventory().values().map(|&n| u64::from(n)).sum()
    }

    pub fn hold_capacity(&self, catalog: &Catalog) -> ItemCount {
        self.effects(catalog).hold_capacity
    }

    pub fn zone_access(&self, catalog: &Catalog) -> ZoneId {
        self.server.as_ref().map_or_else(
            || game::economy::highest_zone_allowed(catalog, 0),
            |p| p.zone_access,
        )
    }

    /// A player as the economy sees it (for predictions of sale values).
    pub fn as_state(&self, catalog: &Catalog) -> PlayerState {
        self.view(catalog)
    }
}

/// A new player as the server would describe it (fixtures and tests).
pub fn starting_player(catalog: &Catalog, username: &str) -> Player {
    let state = PlayerState::new_player(catalog);
    let mut player = Player::from_state(catalog, username, &state, 0);
    player.hold = Hold {
        used: 0,
        capacity: state.hold_capacity(catalog),
    };
    player.stats = Stats::default();
    player
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(run: &str, index: u32, kind: &str) -> PredictedPiece {
        PredictedPiece {
            run_id: run.into(),
            index,
            at: 1.0,
            kind: kind.into(),
        }
    }

    #[test]
    fn predictions_add_on_top_until_judged() {
        let catalog = Catalog::shipped();
        let mut mirror = PlayerMirror::default();
        mirror.accept(starting_player(catalog, "ada"));
        mirror.predict(piece("r", 1, "scrap_metal"));
        mirror.predict(piece("r", 2, "scrap_metal"));
        assert_eq!(mirror.items("scrap_metal"), 2);
        assert_eq!(mirror.hold_used(), 2);
        // The server accepted 1 and refused 2.
        let mut answer = starting_player(catalog, "ada");
        answer.inventory.insert("scrap_metal".into(), 1);
        answer.hold.used = 1;
        answer.version = 1;
        assert!(mirror.accept(answer));
        mirror.resolve("r", &[1, 2]);
        assert_eq!(mirror.items("scrap_metal"), 1);
        assert_eq!(mirror.hold_used(), 1);
    }

    #[test]
    fn older_answers_are_ignored() {
        let catalog = Catalog::shipped();
        let mut mirror = PlayerMirror::default();
        let mut newer = starting_player(catalog, "ada");
        newer.version = 5;
        newer.credits = 50;
        assert!(mirror.accept(newer));
        let mut older = starting_player(catalog, "ada");
        older.version = 4;
        assert!(!mirror.accept(older));
        assert_eq!(mirror.credits(catalog), 50);
    }

    #[test]
    fn queued_sales_and_purchases_apply_in_order_until_judged() {
        let catalog = Catalog::shipped();
        let mut mirror = PlayerMirror::default();
        mirror.accept(starting_player(catalog, "ada"));
        mirror.predict(piece("r", 1, "scrap_metal"));
        mirror.predict(piece("r", 2, "bio_waste"));
        mirror.predict_change(Prediction::Sale {
            key: "s".into(),
            request: SellRequest::all(),
        });
        mirror.predict(piece("r", 3, "scrap_metal"));
        // 100 + 5 + 25, and the piece taken after the sale is still held.
        assert_eq!(mirror.credits(catalog), 130);
        assert_eq!(mirror.hold_used(), 1);
        mirror.predict_change(Prediction::Purchase {
            key: "p".into(),
            upgrade: game::UpgradeId::SpeedBoost,
        });
        assert_eq!(mirror.credits(catalog), 30);
        assert_eq!(mirror.upgrades().get(game::UpgradeId::SpeedBoost), 1);
        mirror.resolve_key("s");
        mirror.resolve_key("p");
        mirror.resolve("r", &[1, 2, 3]);
        assert!(mirror.predictions().is_empty());
        assert_eq!(mirror.credits(catalog), 100);
    }

    #[test]
    fn effects_follow_the_server_levels() {
        let catalog = Catalog::shipped();
        let mut mirror = PlayerMirror::default();
        let base = mirror.effects(catalog).max_forward_speed;
        let mut player = starting_player(catalog, "ada");
        player.upgrades.set(game::UpgradeId::SpeedBoost, 1);
        mirror.accept(player);
        assert!(mirror.effects(catalog).max_forward_speed > base);
    }
}
