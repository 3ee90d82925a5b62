//! `GameState`: the autoload holding the client's mirror of the player
//! (credits, hold, upgrades), the station AI messages, and the one place that
//! sends economy calls.
//!
//! The client predicts (a collection counts the moment the ship takes it; a
//! queued sale or purchase shows its result at once); the server's answer
//! wins ([`PlayerMirror`]). Mutating calls go through one serial queue of
//! [`Op`]s ([`client::offline_queue`]), each with its `Idempotency-Key` chosen
//! when queued, so collections always reach the server before the sale that
//! sells them, and a replay can never apply twice.
//!
//! Offline: when the backend cannot be reached the queue keeps growing and is
//! replayed in order, with capped, jittered exponential backoff, when it
//! answers again. The queue is written (temp file + rename) to
//! `queue_dir/queue-<user>-<url hash>.json` whenever it changes, loaded when
//! that user signs in, so it survives a restart of the game. A replay the
//! server refuses for good (4xx with a code) is dropped and explained
//! (`queued_operation_dropped`); no answer, 5xx and 429 are retried; 401
//! waits for the next sign-in.
//!
//! Station AI messages: the server unlocks them as a side effect of collect,
//! sell and purchase; after every such answer (and at sign-in) the list is
//! fetched (`GET /api/v1/messages`) and `messages_changed` fires. The overlay
//! shows the unseen ones and calls `mark_message_seen`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;

use game::api::{
    CollectResponse, MAX_COLLECT_BATCH, MessageEntry, MessagesResponse, Player, PurchaseResponse,
    SellRequest, SellResponse, StartRunResponse, codes,
};
use game::{Catalog, ItemCount, ShipEffects, UpgradeId, UpgradeLevels, ZoneId};
use godot::classes::{INode, Node, ProjectSettings};
use godot::prelude::*;

use crate::app::autoload;
use crate::app::backend_client::BackendClient;
use client::net::{self, ApiError};
use client::routes;
pub use client::offline_queue::Op;
use client::offline_queue::{self, QueueFile, Verdict};
use client::player_mirror::{PlayerMirror, PredictedPiece, Prediction};

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
    /// Seconds before the first retry of a call the server did not answer
    /// (doubles on every further failure, up to `retry_max_s`).
    #[export(range = (0.1, 60.0, 0.1))]
    #[init(val = 1.0)]
    retry_base_s: f64,
    /// Longest wait between two retries, s.
    #[export(range = (0.5, 600.0, 0.5))]
    #[init(val = 30.0)]
    retry_max_s: f64,
    /// Fraction of a retry delay taken off at random (0 = none, 0.5 = up to half).
    #[export(range = (0.0, 1.0, 0.05))]
    #[init(val = 0.3)]
    retry_jitter: f64,
    /// Folder of the persistent offline queues (one file per account and backend).
    #[export(dir)]
    #[init(val = GString::from("user://offline_queue"))]
    queue_dir: GString,
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
    /// Failed attempts of the head op in a row (backoff exponent).
    retry_attempt: u32,
    /// The head op got 401: wait for the next sign-in.
    held: bool,
    /// Account and backend whose queue file this is (none before sign-in).
    owner: Option<(String, String)>,
    /// The queue changed and must be written (once per frame).
    dirty: bool,
    /// Keys of ops whose "queued for later" answer was already given.
    deferred: BTreeSet<String>,
    /// "Queued for later" answers due (emitted from `process`).
    announcements: Vec<Op>,
    messages: Vec<MessageEntry>,
    /// Seen marks that did not reach the server yet.
    seen_unsent: BTreeSet<String>,
    messages_due: bool,
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
    fn ready(&mut self) {
        let this = self.to_gd();
        let node = this.clone().upcast::<Node>();
        if let Some(client) = autoload::find::<BackendClient>(&node, autoload::BACKEND_CLIENT) {
            client
                .signals()
                .signed_in()
                .connect_other(&this, Self::on_signed_in);
            client
                .signals()
                .signed_out()
                .connect_other(&this, |s, _| s.reset());
            client
                .signals()
                .connection_changed()
                .connect_other(&this, Self::on_connection_changed);
        }
    }

    fn exit_tree(&mut self) {
        if self.dirty {
            self.dirty = false;
            self.save_queue();
        }
    }

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
        for op in std::mem::take(&mut self.announcements) {
            self.emit_deferred(&op);
        }
        if std::mem::take(&mut self.changed) {
            self.signals().player_changed().emit();
        }
        if std::mem::take(&mut self.dirty) {
            self.save_queue();
        }
        if std::mem::take(&mut self.messages_due) {
            self.signals().messages_changed().emit();
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
    /// A sale was answered. `ok` with `code` "queued": it waits in the
    /// offline queue; a second answer follows when it is filed.
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
    /// The server refused a queued call for good; it was dropped from the queue.
    #[signal]
    pub fn queued_operation_dropped(what: GString, code: GString, message: GString);
    /// The queue was replayed to the end after the link came back.
    #[signal]
    pub fn queue_drained();
    /// The list of unlocked AI messages changed (fetched from the server).
    #[signal]
    pub fn messages_changed();

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

    /// Lifetime pieces collected, as the server last said (-1 before any answer).
    #[func]
    pub fn debris_collected(&self) -> i64 {
        self.mirror
            .server()
            .map_or(-1, |p| p.stats.debris_collected as i64)
    }

    /// Collections predicted and not yet judged by the server.
    #[func]
    pub fn pending_collections(&self) -> i64 {
        self.mirror.predicted_pieces() as i64
    }

    /// Mutating calls queued or in flight (recorded collections not yet
    /// batched count as one).
    #[func]
    pub fn queued_operations(&self) -> i64 {
        self.ops.len() as i64 + i64::from(!self.unsent.is_empty())
    }

    /// Path of the queue file of the signed-in account ("" when none).
    #[func]
    pub fn queue_file_path(&self) -> GString {
        self.queue_path().map_or_else(GString::new, |p| {
            GString::from(p.to_string_lossy().as_ref())
        })
    }

    /// Writes the queue file now (it is also written once per frame after a change).
    #[func]
    pub fn save_queue_now(&mut self) {
        self.dirty = false;
        self.save_queue();
    }

    /// Every unlocked AI message, oldest first, as dictionaries
    /// `{id, text, unlocked_at, seen}`.
    #[func]
    pub fn message_list(&self) -> Array<VarDictionary> {
        self.messages
            .iter()
            .map(|m| {
                let mut d = VarDictionary::new();
                d.set("id", m.id.as_str());
                d.set("text", m.text.as_str());
                d.set("unlocked_at", m.unlocked_at.as_str());
                d.set("seen", m.seen);
                d
            })
            .collect()
    }

    /// Asks the server for the unlocked messages (`messages_changed` follows).
    #[func]
    pub fn fetch_messages(&mut self) {
        let mut this = self.to_gd();
        let generation = self.generation;
        self.with_client(|client| {
            client.send_json::<MessagesResponse>(routes::messages(), move |result| {
                let Ok(answer) = result else {
                    return;
                };
                let mut state = this.bind_mut();
                if state.generation != generation {
                    return;
                }
                let mut messages = answer.messages;
                // Marked here but not yet on the server: stay seen.
                for m in &mut messages {
                    if state.seen_unsent.contains(&m.id) {
                        m.seen = true;
                    }
                }
                state.messages = messages;
                state.messages_due = true;
                let retry: Vec<String> = state.seen_unsent.iter().cloned().collect();
                drop(state);
                for id in retry {
                    this.bind_mut().send_seen(id);
                }
            });
        });
    }

    /// Marks message `id` seen, here at once and on the server.
    #[func]
    pub fn mark_message_seen(&mut self, id: GString) {
        let id = id.to_string();
        if let Some(m) = self.messages.iter_mut().find(|m| m.id == id) {
            m.seen = true;
        }
        self.seen_unsent.insert(id.clone());
        self.send_seen(id);
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
            client.send_json::<Player>(routes::player(), move |result| {
                if let Ok(player) = result {
                    let mut state = this.bind_mut();
                    if state.generation == generation {
                        if state.mirror.accept(player) {
                            state.changed = true;
                        }
                        // What changed the player (a lobby joined, a trade
                        // completed) may have unlocked a station AI message.
                        state.fetch_messages();
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
        let call = routes::start_run(zone);
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
                code: codes::INVALID_REQUEST.into(),
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
                let key = net::new_idempotency_key();
                self.mirror.predict_change(Prediction::Purchase {
                    key: key.clone(),
                    upgrade,
                });
                self.ops.push_back(Op::Purchase { upgrade, key });
                self.queue_changed();
                self.pump_ops();
            }
            Err(_) => self.early_failures.push(EarlyFailure::Purchase {
                upgrade: id.to_string(),
                code: codes::UNKNOWN_UPGRADE.into(),
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
            client.send_json::<Player>(routes::player(), move |result| {
                let (matches, detail) = match result {
                    Ok(server) => {
                        let state = this.bind();
                        let mine = state.mirror.server().cloned();
                        let predicted = state.mirror.predictions().len();
                        drop(state);
                        match mine {
                            _ if predicted > 0 => {
                                (false, format!("{predicted} predictions not yet judged"))
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

    /// Replaces the message list with `{"messages":[...]}` JSON (screenshots).
    #[func]
    pub fn apply_fixture_messages(&mut self, json: GString) -> bool {
        match serde_json::from_str::<MessagesResponse>(&json.to_string()) {
            Ok(answer) => {
                self.messages = answer.messages;
                self.messages_due = true;
                true
            }
            Err(e) => {
                godot_error!("GameState: bad message fixture: {e}");
                false
            }
        }
    }

    /// The catalog's text of AI message `id` ("" when unknown).
    #[func]
    pub fn catalog_message_text(&self, id: GString) -> GString {
        self.catalog()
            .message(&id.to_string())
            .map_or_else(GString::new, |m| GString::from(m.text.as_str()))
    }

    /// Forgets everything held in memory (sign-out, or a simulated restart
    /// in tests). The queue file stays on disk for the next sign-in.
    #[func]
    pub fn reset(&mut self) {
        if self.dirty {
            self.save_queue();
        }
        self.generation += 1;
        self.mirror.clear();
        self.unsent.clear();
        self.ops.clear();
        self.op_in_flight = false;
        self.run = None;
        self.retry_timer = 0.0;
        self.retry_attempt = 0;
        self.held = false;
        self.owner = None;
        self.dirty = false;
        self.deferred.clear();
        self.announcements.clear();
        self.messages.clear();
        self.seen_unsent.clear();
        self.messages_due = true;
        self.changed = true;
    }

    /// Sends the recorded collections now instead of at the next flush tick.
    #[func]
    pub fn flush_collections(&mut self) {
        if self.unsent.is_empty() {
            return;
        }
        let unsent = std::mem::take(&mut self.unsent);
        self.ops
            .extend(offline_queue::batch_collections(unsent, MAX_COLLECT_BATCH));
        self.queue_changed();
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
        self.fetch_messages();
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

    /// Unlocked AI messages, oldest first.
    pub fn messages(&self) -> &[MessageEntry] {
        &self.messages
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
            self.queue_changed();
            if self.unsent.len() >= MAX_COLLECT_BATCH {
                self.flush_collections();
            }
        }
        self.changed = true;
    }

    fn queue_sale(&mut self, request: SellRequest) {
        self.flush_collections();
        let key = net::new_idempotency_key();
        self.mirror.predict_change(Prediction::Sale {
            key: key.clone(),
            request: request.clone(),
        });
        self.ops.push_back(Op::Sell { request, key });
        self.queue_changed();
        self.pump_ops();
    }

    /// The queue or the predictions changed: redraw and persist.
    fn queue_changed(&mut self) {
        self.changed = true;
        self.dirty = true;
    }

    fn queue_path(&self) -> Option<PathBuf> {
        let (user, url) = self.owner.as_ref()?;
        let dir = ProjectSettings::singleton()
            .globalize_path(&self.queue_dir)
            .to_string();
        Some(PathBuf::from(dir).join(offline_queue::file_name(user, url)))
    }

    fn save_queue(&mut self) {
        let (Some(path), Some((user, url))) = (self.queue_path(), self.owner.clone()) else {
            return;
        };
        let file = QueueFile {
            version: offline_queue::FILE_VERSION,
            username: user,
            backend_url: url,
            player: self.mirror.server().cloned(),
            ops: self.ops.iter().cloned().collect(),
            unsent: self.unsent.clone(),
        };
        if let Err(e) = offline_queue::write_atomically(&path, &file) {
            godot_error!(
                "GameState: cannot write the offline queue {}: {e}",
                path.display()
            );
        }
    }

    /// A user signed in: adopt their queue file (older ops first), replay it.
    fn on_signed_in(&mut self, username: GString) {
        let url = self
            .client()
            .map(|c| c.bind().backend_url().to_string())
            .unwrap_or_default();
        let owner = (username.to_string(), url);
        if self.owner.as_ref() == Some(&owner) {
            self.held = false;
            self.pump_ops();
            return;
        }
        self.owner = Some(owner);
        self.held = false;
        if let Some(path) = self.queue_path() {
            match offline_queue::read(&path) {
                Ok(Some(file)) if file.version == offline_queue::FILE_VERSION => {
                    self.adopt(file);
                }
                Ok(Some(file)) => godot_warn!(
                    "GameState: ignoring an offline queue of format {}",
                    file.version
                ),
                Ok(None) => {}
                Err(e) => godot_error!(
                    "GameState: cannot read the offline queue {}: {e}",
                    path.display()
                ),
            }
        }
        self.dirty = true;
        self.fetch_messages();
        self.pump_ops();
    }

    /// Puts the stored ops before anything queued since, and predicts them.
    fn adopt(&mut self, file: QueueFile) {
        if self.mirror.server().is_none()
            && let Some(player) = file.player
        {
            self.mirror.accept(player);
        }
        let newer: Vec<Op> = self.ops.drain(..).collect();
        let known: BTreeSet<String> = newer.iter().map(|o| o.key().to_owned()).collect();
        let stored: Vec<Op> = file
            .ops
            .into_iter()
            .filter(|o| !known.contains(o.key()))
            .collect();
        let loaded = stored.len() + file.unsent.len();
        // Made in an earlier session: a refusal must be explained on the HUD.
        self.deferred
            .extend(stored.iter().map(|o| o.key().to_owned()));
        self.ops.extend(stored);
        self.ops.extend(newer);
        let mut unsent = file.unsent;
        unsent.append(&mut self.unsent);
        self.unsent = unsent;
        self.rebuild_predictions();
        self.op_in_flight = false;
        if loaded > 0 {
            godot_print!("GameState: {loaded} queued operations restored from disk");
        }
        self.changed = true;
    }

    /// Predictions = every queued op, in order, then the unsent pieces.
    fn rebuild_predictions(&mut self) {
        self.mirror.clear_predictions();
        for op in &self.ops {
            match op {
                Op::Collect { run_id, pieces, .. } => {
                    for p in pieces {
                        self.mirror.predict(PredictedPiece {
                            run_id: run_id.clone(),
                            index: p.index,
                            at: p.at,
                            kind: p.kind.clone(),
                        });
                    }
                }
                Op::Sell { key, request } => self.mirror.predict_change(Prediction::Sale {
                    key: key.clone(),
                    request: request.clone(),
                }),
                Op::Purchase { key, upgrade } => self.mirror.predict_change(Prediction::Purchase {
                    key: key.clone(),
                    upgrade: *upgrade,
                }),
            }
        }
        for piece in &self.unsent {
            self.mirror.predict(piece.clone());
        }
    }

    fn on_connection_changed(&mut self, online: bool) {
        self.changed = true;
        if online && !self.op_in_flight {
            // The link is back: replay now instead of waiting out the backoff.
            self.retry_timer = 0.0;
            self.pump_ops();
        }
    }

    fn client(&self) -> Option<Gd<BackendClient>> {
        autoload::find::<BackendClient>(&self.to_gd().upcast::<Node>(), autoload::BACKEND_CLIENT)
    }

    fn send_seen(&mut self, id: String) {
        let mut this = self.to_gd();
        let call = routes::mark_seen(&id);
        self.with_client(|client| {
            client.send(call, move |result| {
                let done = match &result {
                    Ok(_) => true,
                    // Unknown or not unlocked: nothing left to mark.
                    Err(e) => !e.is_unreachable() && e.status != 401 && e.status < 500,
                };
                if done {
                    this.bind_mut().seen_unsent.remove(&id);
                }
            });
        });
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
        if self.retry_timer > 0.0 || self.held {
            // The link is down: everything behind the head waits too.
            self.announce_waiting();
            return;
        }
        if self.op_in_flight {
            return;
        }
        let Some(op) = self.ops.front().cloned() else {
            return;
        };
        let call = op.call();
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
        if let Err(e) = &result {
            match offline_queue::classify(e) {
                Verdict::Retry(after) => {
                    let unit = offline_queue::random_unit();
                    let mut delay = offline_queue::backoff_delay(
                        self.retry_attempt,
                        self.retry_base_s,
                        self.retry_max_s,
                        self.retry_jitter,
                        unit,
                    );
                    if let Some(after) = after {
                        delay = delay.max(after as f64);
                    }
                    self.retry_attempt = self.retry_attempt.saturating_add(1);
                    self.retry_timer = delay;
                    self.announce_waiting();
                    self.changed = true;
                    return;
                }
                Verdict::Hold => {
                    self.held = true;
                    self.announce_waiting();
                    self.changed = true;
                    return;
                }
                Verdict::Done | Verdict::Drop => {}
            }
        }
        self.retry_attempt = 0;
        self.ops.pop_front();
        let was_deferred = self.deferred.remove(op.key());
        let dropped = match &result {
            Err(e) => Some(e.clone()),
            Ok(_) => None,
        };
        match op.clone() {
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
                        if !answer.accepted.is_empty() {
                            self.fetch_messages();
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
            }
            Op::Sell { key, .. } => {
                self.mirror.resolve_key(&key);
                match result.and_then(|r| net::parse::<SellResponse>(&r)) {
                    Ok(answer) => {
                        self.mirror.accept(answer.player);
                        self.signals().sale_finished().emit(
                            true,
                            answer.credits_gained as i64,
                            "",
                            "",
                        );
                        self.fetch_messages();
                    }
                    Err(e) => {
                        self.signals().sale_finished().emit(
                            false,
                            0,
                            e.code.as_str(),
                            e.message.as_str(),
                        );
                        self.refresh_player();
                    }
                }
            }
            Op::Purchase { upgrade, key } => {
                self.mirror.resolve_key(&key);
                let id = GString::from(upgrade.as_str());
                match result.and_then(|r| net::parse::<PurchaseResponse>(&r)) {
                    Ok(answer) => {
                        self.mirror.accept(answer.player);
                        self.signals().purchase_finished().emit(
                            &id,
                            true,
                            i64::from(answer.level),
                            "",
                            "",
                        );
                        self.fetch_messages();
                    }
                    Err(e) => {
                        self.signals().purchase_finished().emit(
                            &id,
                            false,
                            0,
                            e.code.as_str(),
                            e.message.as_str(),
                        );
                        self.refresh_player();
                    }
                }
            }
        }
        if let Some(e) = dropped
            && was_deferred
        {
            // A replay refused for good: say so (the panel that asked may be gone).
            godot_warn!(
                "GameState: dropped queued {}: {} {}",
                op.describe(),
                e.code,
                e.message
            );
            self.signals().queued_operation_dropped().emit(
                op.describe().as_str(),
                e.code.as_str(),
                e.message.as_str(),
            );
        }
        self.queue_changed();
        if self.ops.is_empty() && was_deferred {
            self.signals().queue_drained().emit();
        }
        self.pump_ops();
    }

    /// Every queued op that has to wait for the link: the first time, tell
    /// the panel that asked for it (from `process`, never re-entrantly).
    fn announce_waiting(&mut self) {
        let fresh: Vec<Op> = self
            .ops
            .iter()
            .filter(|op| !self.deferred.contains(op.key()))
            .cloned()
            .collect();
        for op in fresh {
            self.deferred.insert(op.key().to_owned());
            self.announcements.push(op);
        }
    }

    fn emit_deferred(&mut self, op: &Op) {
        let note = "queued: the station link is down; it will be filed when the link returns";
        match op {
            Op::Sell { .. } => {
                self.signals().sale_finished().emit(true, 0, codes::QUEUED, note);
            }
            Op::Purchase { upgrade, .. } => {
                let level = i64::from(self.mirror.upgrades().get(*upgrade));
                self.signals().purchase_finished().emit(
                    upgrade.as_str(),
                    true,
                    level,
                    codes::QUEUED,
                    note,
                );
            }
            Op::Collect { .. } => {}
        }
    }
}
