//! `GameState`: the autoload holding the client's mirror of the player
//! (credits, hold, upgrades) and the one place that sends economy calls.
//!
//! The client predicts collections (the HUD counts a piece the moment the
//! ship takes it); the server's answer wins ([`PlayerMirror`]). Mutating calls
//! go through one serial queue of [`Op`]s, each with its `Idempotency-Key`
//! chosen when queued, so collections always reach the server before the sale
//! that sells them, and a retry after a lost answer cannot apply twice.
//! Collections that could not be delivered (backend unreachable) stay queued
//! and are retried; issue 7 makes this queue persistent.

use std::collections::{BTreeMap, VecDeque};

use game::api::{
    CollectRequest, CollectResponse, CollectedPiece, MAX_COLLECT_BATCH, Player, PurchaseResponse,
    SellRequest, SellResponse, StartRunResponse,
};
use game::{Catalog, ItemCount, ShipEffects, UpgradeId, UpgradeLevels, ZoneId};
use godot::classes::{INode, Node};
use godot::prelude::*;

use crate::autoload;
use crate::backend_client::BackendClient;
use crate::net::{self, ApiError, Call};
use crate::player_mirror::{PlayerMirror, PredictedPiece};

/// A mutating call waiting its turn.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Collect {
        run_id: String,
        pieces: Vec<CollectedPiece>,
        key: String,
    },
    Sell {
        request: SellRequest,
        key: String,
    },
    Purchase {
        upgrade: UpgradeId,
        key: String,
    },
}

/// A request refused locally, reported on the next frame.
#[derive(Debug, Clone, PartialEq)]
enum EarlyFailure {
    Sale {
        code: String,
        message: String,
    },
    Purchase {
        upgrade: String,
        code: String,
        message: String,
    },
}

/// The run in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    pub run_id: String,
    pub zone: ZoneId,
    pub seed: u64,
}

/// The game state autoload. See the module docs.
#[derive(GodotClass)]
#[class(base = Node, init)]
pub struct GameState {
    /// Seconds between batches of collections sent to the server.
    #[export(range = (0.05, 10.0, 0.05))]
    #[init(val = 0.5)]
    collect_flush_interval_s: f64,
    /// Seconds before a call that did not reach the server is tried again.
    #[export(range = (0.5, 60.0, 0.5))]
    #[init(val = 3.0)]
    retry_interval_s: f64,
    /// Zone the next run starts in.
    #[export(range = (1.0, 4.0, 1.0))]
    #[init(val = 1)]
    current_zone: i64,
    mirror: PlayerMirror,
    /// Recorded collections not yet put into an op.
    unsent: Vec<PredictedPiece>,
    ops: VecDeque<Op>,
    op_in_flight: bool,
    flush_timer: f64,
    retry_timer: f64,
    run: Option<RunInfo>,
    /// Bumped on `reset`; answers of an older generation are dropped.
    generation: u64,
    /// `player_changed` is due (emitted once per frame from `process`, never
    /// from inside a caller's method, so callers may listen to it).
    changed: bool,
    /// Failures found before any request, announced from `process` likewise.
    early_failures: Vec<EarlyFailure>,
    base: Base<Node>,
}

#[godot_api]
impl INode for GameState {
    fn process(&mut self, delta: f64) {
        for failure in std::mem::take(&mut self.early_failures) {
            match failure {
                EarlyFailure::Sale { code, message } => {
                    self.signals()
                        .sale_finished()
                        .emit(false, 0, code.as_str(), message.as_str())
                }
                EarlyFailure::Purchase {
                    upgrade,
                    code,
                    message,
                } => self.signals().purchase_finished().emit(
                    upgrade.as_str(),
                    false,
                    0,
                    code.as_str(),
                    message.as_str(),
                ),
            }
        }
        if std::mem::take(&mut self.changed) {
            self.signals().player_changed().emit();
        }
        if self.retry_timer > 0.0 {
            self.retry_timer -= delta;
            if self.retry_timer <= 0.0 {
                self.pump_ops();
            }
        }
        self.flush_timer += delta;
        if self.flush_timer >= self.collect_flush_interval_s {
            self.flush_timer = 0.0;
            self.flush_collections();
        }
    }
}

#[godot_api]
impl GameState {
    /// Credits, hold, inventory or upgrades changed (server answer or prediction).
    #[signal]
    pub fn player_changed();
    /// The server started a run: the zone can build its debris field from `seed`.
    #[signal]
    pub fn run_started(run_id: GString, zone: i64, seed: GString);
    #[signal]
    pub fn run_start_failed(zone: i64, code: GString, message: GString);
    /// The server refused a predicted collection (it no longer counts).
    #[signal]
    pub fn collection_rejected(index: i64, code: GString);
    #[signal]
    pub fn sale_finished(ok: bool, credits_gained: i64, code: GString, message: GString);
    #[signal]
    pub fn purchase_finished(
        upgrade: GString,
        ok: bool,
        level: i64,
        code: GString,
        message: GString,
    );
    /// Answer of `verify_against_server`.
    #[signal]
    pub fn server_check_finished(matches: bool, detail: GString);

    /// Whether a server answer has been received.
    #[func]
    pub fn has_player(&self) -> bool {
        self.mirror.server().is_some()
    }

    #[func]
    pub fn credits(&self) -> i64 {
        self.mirror.credits(self.catalog()) as i64
    }

    /// Slots in use, predictions included.
    #[func]
    pub fn hold_used(&self) -> i64 {
        self.mirror.hold_used() as i64
    }

    #[func]
    pub fn hold_capacity(&self) -> i64 {
        i64::from(self.mirror.hold_capacity(self.catalog()))
    }

    /// Items of `kind` in the hold, predictions included.
    #[func]
    pub fn item_count(&self, kind: GString) -> i64 {
        i64::from(self.mirror.items(&kind.to_string()))
    }

    /// Level of upgrade `id` (0 for an unknown id).
    #[func]
    pub fn upgrade_level(&self, id: GString) -> i64 {
        id.to_string()
            .parse::<UpgradeId>()
            .map_or(0, |id| i64::from(self.mirror.upgrades().get(id)))
    }

    /// Highest zone the player may enter.
    #[func]
    pub fn zone_access(&self) -> i64 {
        i64::from(self.mirror.zone_access(self.catalog()))
    }

    /// `version` of the last server answer (-1 before any).
    #[func]
    pub fn player_version(&self) -> i64 {
        self.mirror.server().map_or(-1, |p| p.version as i64)
    }

    /// Collections predicted and not yet judged by the server.
    #[func]
    pub fn pending_collections(&self) -> i64 {
        self.mirror.predicted().len() as i64
    }

    /// Mutating calls queued or in flight.
    #[func]
    pub fn queued_operations(&self) -> i64 {
        self.ops.len() as i64 + i64::from(self.op_in_flight)
    }

    /// Id of the run in progress ("" when none).
    #[func]
    pub fn run_id(&self) -> GString {
        self.run
            .as_ref()
            .map_or_else(GString::new, |r| GString::from(r.run_id.as_str()))
    }

    /// Asks the server for the player.
    #[func]
    pub fn refresh_player(&mut self) {
        let mut this = self.to_gd();
        let generation = self.generation;
        self.with_client(|client| {
            client.send_json::<Player>(Call::get("/api/v1/player"), move |result| {
                if let Ok(player) = result {
                    let mut state = this.bind_mut();
                    if state.generation == generation && state.mirror.accept(player) {
                        state.changed = true;
                    }
                }
            });
        });
    }

    /// Starts a run in `zone` on the server: answers `run_started` or `run_start_failed`.
    #[func]
    pub fn start_run(&mut self, zone: i64) {
        self.current_zone = zone;
        let mut this = self.to_gd();
        let generation = self.generation;
        let call = Call::post(format!("/api/v1/zones/{zone}/runs"), None)
            .with_idempotency_key(net::new_idempotency_key());
        self.with_client(|client| {
            client.send_json::<StartRunResponse>(call, move |result| {
                if this.bind().generation != generation {
                    return;
                }
                match result {
                    Ok(run) => {
                        let seed = GString::from(run.seed.to_string().as_str());
                        let run_id = GString::from(run.run_id.as_str());
                        this.bind_mut().run = Some(RunInfo {
                            run_id: run.run_id,
                            zone: run.zone,
                            seed: run.seed,
                        });
                        this.signals()
                            .run_started()
                            .emit(&run_id, i64::from(run.zone), &seed);
                    }
                    Err(e) => {
                        this.signals().run_start_failed().emit(
                            zone,
                            e.code.as_str(),
                            e.message.as_str(),
                        );
                    }
                }
            });
        });
    }

    /// Sells every item (after the pending collections reach the server).
    #[func]
    pub fn sell_all(&mut self) {
        self.queue_sale(SellRequest::all());
    }

    /// Sells `{kind: count}` (zero counts are left out).
    #[func]
    pub fn sell_items(&mut self, items: VarDictionary) {
        let map: BTreeMap<String, ItemCount> = items
            .iter_shared()
            .filter_map(|(k, n)| Some((k.to_string(), n.try_to::<i64>().ok()?)))
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (k, n.clamp(0, i64::from(u32::MAX)) as ItemCount))
            .collect();
        if map.is_empty() {
            self.early_failures.push(EarlyFailure::Sale {
                code: "invalid_request".into(),
                message: "Select something to sell first.".into(),
            });
            return;
        }
        self.queue_sale(SellRequest::items(map));
    }

    /// Buys the next level of upgrade `id`: answers `purchase_finished`.
    #[func]
    pub fn purchase_upgrade(&mut self, id: GString) {
        match id.to_string().parse::<UpgradeId>() {
            Ok(upgrade) => {
                self.flush_collections();
                self.ops.push_back(Op::Purchase {
                    upgrade,
                    key: net::new_idempotency_key(),
                });
                self.pump_ops();
            }
            Err(_) => self.early_failures.push(EarlyFailure::Purchase {
                upgrade: id.to_string(),
                code: "unknown_upgrade".into(),
                message: "No such upgrade.".into(),
            }),
        }
    }

    /// Fetches the player and compares it with the mirror: answers
    /// `server_check_finished(matches, detail)`.
    #[func]
    pub fn verify_against_server(&mut self) {
        let this = self.to_gd();
        self.with_client(|client| {
            client.send_json::<Player>(Call::get("/api/v1/player"), move |result| {
                let (matches, detail) = match result {
                    Ok(server) => {
                        let state = this.bind();
                        let mine = state.mirror.server().cloned();
                        let predicted = state.mirror.predicted().len();
                        drop(state);
                        match mine {
                            _ if predicted > 0 => {
                                (false, format!("{predicted} collections not yet judged"))
                            }
                            Some(mine) if mine == server => (true, String::new()),
                            Some(mine) => (
                                false,
                                format!(
                                    "client {} / server {}",
                                    serde_json::to_string(&mine).unwrap_or_default(),
                                    serde_json::to_string(&server).unwrap_or_default()
                                ),
                            ),
                            None => (false, "the client has no player".to_owned()),
                        }
                    }
                    Err(e) => (false, format!("{}: {}", e.code, e.message)),
                };
                this.signals()
                    .server_check_finished()
                    .emit(matches, detail.as_str());
            });
        });
    }

    /// Replaces the mirror with a player given as JSON (screenshots, offline fixtures).
    #[func]
    pub fn apply_fixture_json(&mut self, json: GString) -> bool {
        match serde_json::from_str::<Player>(&json.to_string()) {
            Ok(player) => {
                self.mirror.clear();
                self.mirror.accept(player);
                self.changed = true;
                true
            }
            Err(e) => {
                godot_error!("GameState: bad fixture: {e}");
                false
            }
        }
    }

    /// Forgets everything (sign-out, or a simulated restart in tests).
    #[func]
    pub fn reset(&mut self) {
        self.generation += 1;
        self.mirror.clear();
        self.unsent.clear();
        self.ops.clear();
        self.op_in_flight = false;
        self.run = None;
        self.retry_timer = 0.0;
        self.changed = true;
    }

    /// Sends the recorded collections now instead of at the next flush tick.
    #[func]
    pub fn flush_collections(&mut self) {
        if self.unsent.is_empty() {
            return;
        }
        let unsent = std::mem::take(&mut self.unsent);
        let mut by_run: BTreeMap<String, Vec<CollectedPiece>> = BTreeMap::new();
        for piece in unsent {
            by_run
                .entry(piece.run_id)
                .or_default()
                .push(CollectedPiece {
                    index: piece.index,
                    at: piece.at,
                });
        }
        for (run_id, pieces) in by_run {
            for chunk in pieces.chunks(MAX_COLLECT_BATCH) {
                self.ops.push_back(Op::Collect {
                    run_id: run_id.clone(),
                    pieces: chunk.to_vec(),
                    key: net::new_idempotency_key(),
                });
            }
        }
        self.pump_ops();
    }
}

impl GameState {
    pub fn catalog(&self) -> &'static Catalog {
        Catalog::shipped()
    }

    /// The mirror as the economy rules see it (client-side checks).
    pub fn economy_state(&self) -> game::PlayerState {
        self.mirror.as_state(self.catalog())
    }

    /// Takes a player the server answered outside the op queue (a completed
    /// trade); `player_changed` follows when it was newer.
    pub fn accept_server_player(&mut self, player: Player) {
        if self.mirror.accept(player) {
            self.changed = true;
        }
    }

    pub fn player(&self) -> Option<&Player> {
        self.mirror.server()
    }

    pub fn inventory(&self) -> BTreeMap<String, ItemCount> {
        self.mirror.inventory()
    }

    pub fn upgrades(&self) -> UpgradeLevels {
        self.mirror.upgrades()
    }

    pub fn effects(&self) -> ShipEffects {
        self.mirror.effects(self.catalog())
    }

    pub fn run(&self) -> Option<&RunInfo> {
        self.run.as_ref()
    }

    pub fn current_zone(&self) -> ZoneId {
        self.current_zone.clamp(1, i64::from(u8::MAX)) as ZoneId
    }

    pub fn choose_zone(&mut self, zone: ZoneId) {
        self.current_zone = i64::from(zone);
    }

    /// The ship took a piece: count it now, tell the server with the next batch.
    /// An empty `run_id` (a local run) is only predicted.
    pub fn record_collection(&mut self, run_id: &str, index: u32, at: f64, kind: &str) {
        let piece = PredictedPiece {
            run_id: run_id.to_owned(),
            index,
            at,
            kind: kind.to_owned(),
        };
        self.mirror.predict(piece.clone());
        if !run_id.is_empty() {
            self.unsent.push(piece);
            if self.unsent.len() >= MAX_COLLECT_BATCH {
                self.flush_collections();
            }
        }
        self.changed = true;
    }

    fn queue_sale(&mut self, request: SellRequest) {
        self.flush_collections();
        self.ops.push_back(Op::Sell {
            request,
            key: net::new_idempotency_key(),
        });
        self.pump_ops();
    }

    fn with_client(&self, f: impl FnOnce(&mut BackendClient)) -> bool {
        let node = self.to_gd().upcast::<Node>();
        match autoload::find::<BackendClient>(&node, autoload::BACKEND_CLIENT) {
            Some(mut client) => {
                f(&mut client.bind_mut());
                true
            }
            None => false,
        }
    }

    /// Sends the head op when nothing is in flight.
    fn pump_ops(&mut self) {
        if self.op_in_flight || self.retry_timer > 0.0 {
            return;
        }
        let Some(op) = self.ops.front().cloned() else {
            return;
        };
        let call = match &op {
            Op::Collect {
                run_id,
                pieces,
                key,
            } => Call::post(
                format!("/api/v1/runs/{run_id}/collect"),
                serde_json::to_value(CollectRequest {
                    pieces: pieces.clone(),
                })
                .ok(),
            )
            .with_idempotency_key(key.clone()),
            Op::Sell { request, key } => {
                Call::post("/api/v1/hub/sell", serde_json::to_value(request).ok())
                    .with_idempotency_key(key.clone())
            }
            Op::Purchase { upgrade, key } => {
                Call::post(format!("/api/v1/upgrades/{upgrade}/purchase"), None)
                    .with_idempotency_key(key.clone())
            }
        };
        let mut this = self.to_gd();
        let generation = self.generation;
        self.op_in_flight = true;
        let sent = self.with_client(move |client| {
            client.send(call, move |result| {
                let mut state = this.bind_mut();
                if state.generation != generation {
                    return;
                }
                state.op_in_flight = false;
                state.finish_op(op, result);
            });
        });
        if !sent {
            self.op_in_flight = false;
        }
    }

    fn finish_op(&mut self, op: Op, result: Result<net::Reply, ApiError>) {
        if let Err(e) = &result
            && e.is_unreachable()
            && matches!(op, Op::Collect { .. })
        {
            // Keep it at the head; try again later.
            self.retry_timer = self.retry_interval_s;
            return;
        }
        self.ops.pop_front();
        match op {
            Op::Collect { run_id, pieces, .. } => {
                let indices: Vec<u32> = pieces.iter().map(|p| p.index).collect();
                match result.and_then(|r| net::parse::<CollectResponse>(&r)) {
                    Ok(answer) => {
                        self.mirror.accept(answer.player);
                        self.mirror.resolve(&run_id, &indices);
                        for rejected in &answer.rejected {
                            self.signals()
                                .collection_rejected()
                                .emit(i64::from(rejected.index), rejected.code.as_str());
                        }
                    }
                    Err(e) => {
                        godot_warn!("GameState: collections refused: {} {}", e.code, e.message);
                        self.mirror.resolve(&run_id, &indices);
                        for index in indices {
                            self.signals()
                                .collection_rejected()
                                .emit(i64::from(index), e.code.as_str());
                        }
                        self.refresh_player();
                    }
                }
                self.changed = true;
            }
            Op::Sell { .. } => match result.and_then(|r| net::parse::<SellResponse>(&r)) {
                Ok(answer) => {
                    self.mirror.accept(answer.player);
                    self.changed = true;
                    self.signals()
                        .sale_finished()
                        .emit(true, answer.credits_gained as i64, "", "");
                }
                Err(e) => {
                    self.signals().sale_finished().emit(
                        false,
                        0,
                        e.code.as_str(),
                        e.message.as_str(),
                    );
                }
            },
            Op::Purchase { upgrade, .. } => {
                let id = GString::from(upgrade.as_str());
                match result.and_then(|r| net::parse::<PurchaseResponse>(&r)) {
                    Ok(answer) => {
                        self.mirror.accept(answer.player);
                        self.changed = true;
                        self.signals().purchase_finished().emit(
                            &id,
                            true,
                            i64::from(answer.level),
                            "",
                            "",
                        );
                    }
                    Err(e) => {
                        self.signals().purchase_finished().emit(
                            &id,
                            false,
                            0,
                            e.code.as_str(),
                            e.message.as_str(),
                        );
                    }
                }
            }
        }
        self.pump_ops();
    }
}
