//! The client's copy of the player: the server's last answer plus the
//! collections predicted since. Plain Rust (unit-tested with `cargo test`);
//! the `GameState` autoload wraps it.
//!
//! The server wins: every answer replaces the copy when its `version` is not
//! older, and a claimed piece stops counting as predicted as soon as the
//! server has judged it, accepted or not.

use std::collections::BTreeMap;

use game::api::{Hold, Player, Stats};
use game::{Catalog, Credits, ItemCount, PlayerState, ShipEffects, UpgradeLevels, ZoneId};

/// A collection the client predicted and the server has not judged yet.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictedPiece {
    /// Empty for a local run (screenshots, offline fixture): never sent.
    pub run_id: String,
    pub index: u32,
    /// Run clock (s) when collected.
    pub at: f64,
    pub kind: String,
}

/// Server state plus predictions.
#[derive(Debug, Clone, Default)]
pub struct PlayerMirror {
    server: Option<Player>,
    predicted: Vec<PredictedPiece>,
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
        self.predicted.push(piece);
    }

    /// The server judged these pieces of `run_id`: stop predicting them.
    pub fn resolve(&mut self, run_id: &str, indices: &[u32]) {
        self.predicted
            .retain(|p| !(p.run_id == run_id && indices.contains(&p.index)));
    }

    /// Drops every prediction (a new session).
    pub fn clear(&mut self) {
        self.server = None;
        self.predicted.clear();
    }

    pub fn predicted(&self) -> &[PredictedPiece] {
        &self.predicted
    }

    pub fn credits(&self, catalog: &Catalog) -> Credits {
        self.server
            .as_ref()
            .map_or(catalog.start().credits, |p| p.credits)
    }

    /// Items by kind, predictions included.
    pub fn inventory(&self) -> BTreeMap<String, ItemCount> {
        let mut items = self
            .server
            .as_ref()
            .map(|p| p.inventory.clone())
            .unwrap_or_default();
        for piece in &self.predicted {
            *items.entry(piece.kind.clone()).or_insert(0) += 1;
        }
        items
    }

    pub fn items(&self, kind: &str) -> ItemCount {
        self.inventory().get(kind).copied().unwrap_or(0)
    }

    pub fn upgrades(&self) -> UpgradeLevels {
        self.server.as_ref().map(|p| p.upgrades).unwrap_or_default()
    }

    pub fn effects(&self, catalog: &Catalog) -> ShipEffects {
        ShipEffects::from_levels(catalog, &self.upgrades())
    }

    /// Slots in use, predictions included.
    pub fn hold_used(&self) -> u64 {
        self.server.as_ref().map_or(0, |p| p.hold.used) + self.predicted.len() as u64
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
        let mut state = PlayerState::new_player(catalog);
        state.credits = self.credits(catalog);
        state.inventory = self.inventory();
        state.upgrades = self.upgrades();
        state
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
