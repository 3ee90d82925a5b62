//! One signed-in player's economy, as the client keeps it: the mirror of the
//! server's player with the client's predictions, the ordered queue of
//! mutating calls (collect, sell, purchase) with their backoff, the queue
//! file, the run in progress and the station AI messages.
//!
//! [`Session`] is a state machine with no I/O of its own except the queue
//! file it is given a folder for. Whoever owns it (the game's `GameState`
//! node; a test) sends the calls it hands out ([`Session::next_op`]), feeds
//! the answers back ([`Session::finish_op`]) and reports what comes out as
//! [`Notice`]s. The rules (docs/ARCHITECTURE.md "Offline queue"):
//!
//! - The client predicts, the server's answer wins ([`PlayerMirror`]).
//! - Ops go one at a time, head first, each with the `Idempotency-Key`
//!   chosen when queued, so collections always reach the server before the
//!   sale that sells them and a replay never applies twice.
//! - No answer, 5xx and 429 keep the head and retry after a capped,
//!   jittered, exponential delay; 401 holds the queue until the next
//!   sign-in; any other 4xx drops the op, undoes its prediction and, when it
//!   had been announced as queued, says so ([`Notice::QueuedOpDropped`]).
//! - Sales and purchases that must wait are answered at once as queued
//!   ([`Notice::SaleFinished`] / [`Notice::PurchaseFinished`] with code
//!   [`codes::QUEUED`]), a second answer follows when the server files them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use game::api::{
    CollectResponse, Dock, MAX_COLLECT_BATCH, MessageEntry, MessagesResponse, Player,
    PurchaseResponse, SellRequest, SellResponse, StartRunResponse, codes,
};
use game::ship::ShipEffects;
use game::{Catalog, ItemCount, Level, PlayerState, UpgradeId, UpgradeLevels, ZoneId};

use crate::net::{self, ApiError, Reply};
use crate::offline_queue::{self, Op, QueueFile, Verdict};
use crate::player_mirror::{PlayerMirror, PredictedPiece, Prediction};

/// Words of a "queued for later" answer.
pub const QUEUED_NOTE: &str =
    "queued: the station link is down; it will be filed when the link returns";

/// How failed calls are retried (see [`offline_queue::backoff_delay`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Seconds before the first retry.
    pub base_s: f64,
    /// Longest wait between two retries, s.
    pub max_s: f64,
    /// Fraction of a delay taken off at random.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_s: 1.0,
            max_s: 30.0,
            jitter: 0.3,
        }
    }
}

/// The run in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    pub run_id: String,
    pub zone: ZoneId,
    pub seed: u64,
}

impl From<StartRunResponse> for RunInfo {
    fn from(run: StartRunResponse) -> Self {
        RunInfo {
            run_id: run.run_id,
            zone: run.zone,
            seed: run.seed,
        }
    }
}

/// What the owner must tell its listeners (or do) after a change.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The server refused a predicted collection (it no longer counts).
    CollectionRejected { index: u32, code: String },
    /// A sale was answered (`code` [`codes::QUEUED`]: it waits).
    SaleFinished {
        ok: bool,
        credits_gained: u64,
        code: String,
        message: String,
    },
    /// A purchase was answered (`code` [`codes::QUEUED`]: it waits).
    PurchaseFinished {
        upgrade: String,
        ok: bool,
        level: Level,
        code: String,
        message: String,
    },
    /// The server refused a queued call for good; it was dropped.
    QueuedOpDropped {
        what: String,
        code: String,
        message: String,
    },
    /// The queue was replayed to the end after the link came back.
    QueueDrained,
    /// Ask the server for the message list (something may have unlocked one).
    FetchMessages,
    /// Ask the server for the player (a refusal: the prediction was wrong).
    RefreshPlayer,
    /// A line for the log (warnings about dropped or refused calls).
    Warning(String),
}

/// What signing in did with the stored queue.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignInReport {
    /// A different account or backend than before: its queue file was read
    /// (fetch the messages too).
    pub new_owner: bool,
    /// Ops and pieces restored from the queue file.
    pub restored: usize,
    /// A queue file that could not be used, and why.
    pub problem: Option<String>,
}

/// The client's economy state. See the module docs.
#[derive(Debug, Default)]
pub struct Session {
    mirror: PlayerMirror,
    /// Recorded collections not yet put into an op.
    unsent: Vec<PredictedPiece>,
    ops: VecDeque<Op>,
    op_in_flight: bool,
    /// A pump of the queue is due (sending the head or announcing waits).
    pump_due: bool,
    flush_timer: f64,
    retry_timer: f64,
    /// Failed attempts of the head op in a row (backoff exponent).
    retry_attempt: u32,
    /// The head op got 401: wait for the next sign-in.
    held: bool,
    /// Account and backend whose queue file this is (none before sign-in).
    owner: Option<(String, String)>,
    /// The queue changed and must be written.
    dirty: bool,
    /// Keys of ops whose "queued for later" answer was already given.
    deferred: BTreeSet<String>,
    /// Answers due: failures found before any request, "queued" answers.
    notices: Vec<Notice>,
    messages: Vec<MessageEntry>,
    /// Seen marks that did not reach the server yet.
    seen_unsent: BTreeSet<String>,
    messages_due: bool,
    run: Option<RunInfo>,
    /// Where the ship is docked (set by the zone from the simulation's
    /// `NearHub`, cleared on `LeftHub`): sales and purchases carry it.
    dock: Option<Dock>,
    /// Bumped on [`Session::reset`]; answers of an older generation are dropped.
    generation: u64,
    /// The player as shown changed.
    changed: bool,
}

impl Session {
    pub fn new() -> Self {
        Session::default()
    }

    fn catalog(&self) -> &'static Catalog {
        Catalog::shipped()
    }

    // ---- what is shown -------------------------------------------------

    pub fn mirror(&self) -> &PlayerMirror {
        &self.mirror
    }

    pub fn player(&self) -> Option<&Player> {
        self.mirror.server()
    }

    /// The mirror as the economy rules see it (client-side checks).
    pub fn economy_state(&self) -> PlayerState {
        self.mirror.as_state(self.catalog())
    }

    pub fn credits(&self) -> u64 {
        self.mirror.credits(self.catalog())
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

    /// Mutating calls queued or in flight (recorded collections not yet
    /// batched count as one).
    pub fn queued_operations(&self) -> usize {
        self.ops.len() + usize::from(!self.unsent.is_empty())
    }

    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.ops.iter()
    }

    /// Unlocked AI messages, oldest first.
    pub fn messages(&self) -> &[MessageEntry] {
        &self.messages
    }

    pub fn run(&self) -> Option<&RunInfo> {
        self.run.as_ref()
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn username(&self) -> Option<&str> {
        self.owner.as_ref().map(|(user, _)| user.as_str())
    }

    // ---- what the owner drains once per frame ---------------------------

    /// Whether the player as shown changed since the last call.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Whether the queue must be written since the last call.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Whether the message list changed since the last call.
    pub fn take_messages_due(&mut self) -> bool {
        std::mem::take(&mut self.messages_due)
    }

    /// Answers found without the server (refusals, "queued"), in order.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Counts down the retry wait; true when it just ran out (send again).
    pub fn tick_retry(&mut self, delta: f64) -> bool {
        if self.retry_timer > 0.0 {
            self.retry_timer -= delta;
            if self.retry_timer <= 0.0 {
                self.pump_due = true;
                return true;
            }
        }
        false
    }

    /// Counts the collection batching interval; true when due (then call
    /// [`Session::flush_collections`]).
    pub fn tick_flush(&mut self, delta: f64, interval: f64) -> bool {
        self.flush_timer += delta;
        if self.flush_timer >= interval {
            self.flush_timer = 0.0;
            return true;
        }
        false
    }

    // ---- the queue -------------------------------------------------------

    /// The op to send now, if any: marks it in flight. When the link is
    /// down, the ops that now wait are announced (once) instead.
    pub fn next_op(&mut self) -> Option<Op> {
        self.pump_due = false;
        if self.retry_timer > 0.0 || self.held {
            // The link is down: everything behind the head waits too.
            self.announce_waiting();
            return None;
        }
        if self.op_in_flight {
            return None;
        }
        let op = self.ops.front().cloned()?;
        self.op_in_flight = true;
        Some(op)
    }

    /// Whether a change since the last [`Session::next_op`] wants one.
    pub fn pump_due(&self) -> bool {
        self.pump_due
    }

    /// The op [`Session::next_op`] handed out could not be sent at all.
    pub fn send_failed(&mut self) {
        self.op_in_flight = false;
    }

    /// The answer to the op in flight. `unit` is a random number in `[0, 1)`
    /// for the backoff jitter.
    pub fn finish_op(
        &mut self,
        op: Op,
        result: Result<Reply, ApiError>,
        policy: RetryPolicy,
        unit: f64,
    ) -> Vec<Notice> {
        self.op_in_flight = false;
        let mut out = Vec::new();
        if let Err(e) = &result {
            match offline_queue::classify(e) {
                Verdict::Retry(after) => {
                    let mut delay = offline_queue::backoff_delay(
                        self.retry_attempt,
                        policy.base_s,
                        policy.max_s,
                        policy.jitter,
                        unit,
                    );
                    if let Some(after) = after {
                        delay = delay.max(after as f64);
                    }
                    self.retry_attempt = self.retry_attempt.saturating_add(1);
                    self.retry_timer = delay;
                    self.announce_waiting();
                    self.changed = true;
                    return out;
                }
                Verdict::Hold => {
                    self.held = true;
                    self.announce_waiting();
                    self.changed = true;
                    return out;
                }
                Verdict::Done | Verdict::Drop => {}
            }
        }
        self.retry_attempt = 0;
        self.ops.pop_front();
        let was_deferred = self.deferred.remove(op.key());
        let dropped = result.as_ref().err().cloned();
        match op.clone() {
            Op::Collect { run_id, pieces, .. } => {
                let indices: Vec<u32> = pieces.iter().map(|p| p.index).collect();
                match result.and_then(|r| net::parse::<CollectResponse>(&r)) {
                    Ok(answer) => {
                        self.mirror.accept(answer.player);
                        self.mirror.resolve(&run_id, &indices);
                        for rejected in &answer.rejected {
                            out.push(Notice::CollectionRejected {
                                index: rejected.index,
                                code: rejected.code.as_str().to_owned(),
                            });
                        }
                        if !answer.accepted.is_empty() {
                            out.push(Notice::FetchMessages);
                        }
                    }
                    Err(e) => {
                        out.push(Notice::Warning(format!(
                            "collections refused: {} {}",
                            e.code, e.message
                        )));
                        self.mirror.resolve(&run_id, &indices);
                        for index in indices {
                            out.push(Notice::CollectionRejected {
                                index,
                                code: e.code.clone(),
                            });
                        }
                        out.push(Notice::RefreshPlayer);
                    }
                }
            }
            Op::Sell { key, .. } => {
                self.mirror.resolve_key(&key);
                match result.and_then(|r| net::parse::<SellResponse>(&r)) {
                    Ok(answer) => {
                        self.mirror.accept(answer.player);
                        out.push(Notice::SaleFinished {
                            ok: true,
                            credits_gained: answer.credits_gained,
                            code: String::new(),
                            message: String::new(),
                        });
                        out.push(Notice::FetchMessages);
                    }
                    Err(e) => {
                        out.push(Notice::SaleFinished {
                            ok: false,
                            credits_gained: 0,
                            code: e.code,
                            message: e.message,
                        });
                        out.push(Notice::RefreshPlayer);
                    }
                }
            }
            Op::Purchase { upgrade, key, .. } => {
                self.mirror.resolve_key(&key);
                let id = upgrade.as_str().to_owned();
                match result.and_then(|r| net::parse::<PurchaseResponse>(&r)) {
                    Ok(answer) => {
                        self.mirror.accept(answer.player);
                        out.push(Notice::PurchaseFinished {
                            upgrade: id,
                            ok: true,
                            level: answer.level,
                            code: String::new(),
                            message: String::new(),
                        });
                        out.push(Notice::FetchMessages);
                    }
                    Err(e) => {
                        out.push(Notice::PurchaseFinished {
                            upgrade: id,
                            ok: false,
                            level: 0,
                            code: e.code,
                            message: e.message,
                        });
                        out.push(Notice::RefreshPlayer);
                    }
                }
            }
        }
        if let Some(e) = dropped
            && was_deferred
        {
            // A replay refused for good: say so (the panel that asked may be gone).
            out.push(Notice::Warning(format!(
                "dropped queued {}: {} {}",
                op.describe(),
                e.code,
                e.message
            )));
            out.push(Notice::QueuedOpDropped {
                what: op.describe(),
                code: e.code,
                message: e.message,
            });
        }
        self.queue_changed();
        if self.ops.is_empty() && was_deferred {
            out.push(Notice::QueueDrained);
        }
        self.pump_due = true;
        out
    }

    /// Every queued op that has to wait for the link: the first time, the
    /// one that asked for it is told (through [`Session::take_notices`]).
    fn announce_waiting(&mut self) {
        let fresh: Vec<Op> = self
            .ops
            .iter()
            .filter(|op| !self.deferred.contains(op.key()))
            .cloned()
            .collect();
        for op in fresh {
            self.deferred.insert(op.key().to_owned());
            match &op {
                Op::Sell { .. } => self.notices.push(Notice::SaleFinished {
                    ok: true,
                    credits_gained: 0,
                    code: codes::QUEUED.to_owned(),
                    message: QUEUED_NOTE.to_owned(),
                }),
                Op::Purchase { upgrade, .. } => self.notices.push(Notice::PurchaseFinished {
                    upgrade: upgrade.as_str().to_owned(),
                    ok: true,
                    // Read when announced, as the panel shows it.
                    level: self.mirror.upgrades().get(*upgrade),
                    code: codes::QUEUED.to_owned(),
                    message: QUEUED_NOTE.to_owned(),
                }),
                Op::Collect { .. } => {}
            }
        }
    }

    /// The link came back: replay now instead of waiting out the backoff.
    pub fn connection_changed(&mut self, online: bool) {
        self.changed = true;
        if online && !self.op_in_flight {
            self.retry_timer = 0.0;
            self.pump_due = true;
        }
    }

    // ---- what the player does -------------------------------------------

    /// The ship took a piece: count it now, tell the server with the next
    /// batch. An empty `run_id` (a local run) is only predicted.
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

    /// Puts the recorded collections into ops now.
    pub fn flush_collections(&mut self) {
        if self.unsent.is_empty() {
            return;
        }
        let unsent = std::mem::take(&mut self.unsent);
        self.ops
            .extend(offline_queue::batch_collections(unsent, MAX_COLLECT_BATCH));
        self.queue_changed();
        self.pump_due = true;
    }

    /// The ship is docked at `hub` of run `run_id` at `at` on the run clock
    /// (the simulation's `NearHub`; the zone moves `at` forward while the
    /// ship stays, so the claim is never older than the last collection).
    pub fn set_dock(&mut self, run_id: &str, hub: u32, at: f64) {
        self.dock = Some(Dock {
            run_id: run_id.to_owned(),
            hub,
            at,
        });
    }

    /// The ship left the hub (`LeftHub`) or the run ended.
    pub fn clear_dock(&mut self) {
        self.dock = None;
    }

    /// Where the ship is docked, if it is.
    pub fn dock(&self) -> Option<&Dock> {
        self.dock.as_ref()
    }

    /// Queues a sale (after the pending collections), docked where the
    /// ship is; refused at once when it is not docked (the server would).
    pub fn sell(&mut self, mut request: SellRequest) {
        if request.dock.is_none() {
            request.dock = self.dock.clone();
        }
        if request.dock.is_none() {
            self.notices.push(Notice::SaleFinished {
                ok: false,
                credits_gained: 0,
                code: codes::NOT_DOCKED.to_owned(),
                message: "Dock at a trading hub first.".to_owned(),
            });
            return;
        }
        self.flush_collections();
        let key = net::new_idempotency_key();
        self.mirror.predict_change(Prediction::Sale {
            key: key.clone(),
            request: request.clone(),
        });
        self.ops.push_back(Op::Sell { request, key });
        self.queue_changed();
        self.pump_due = true;
    }

    /// Queues a sale of `{kind: count}` (zero counts left out); refused at
    /// once when nothing is left.
    pub fn sell_items(&mut self, items: impl IntoIterator<Item = (String, i64)>) {
        let map: BTreeMap<String, ItemCount> = items
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (k, n.clamp(0, i64::from(u32::MAX)) as ItemCount))
            .collect();
        if map.is_empty() {
            self.notices.push(Notice::SaleFinished {
                ok: false,
                credits_gained: 0,
                code: codes::INVALID_REQUEST.to_owned(),
                message: "Select something to sell first.".to_owned(),
            });
            return;
        }
        self.sell(SellRequest::items(map));
    }

    /// Queues the purchase of the next level of upgrade `id`.
    pub fn purchase(&mut self, id: &str) {
        match id.parse::<UpgradeId>() {
            Ok(_) if self.dock.is_none() => self.notices.push(Notice::PurchaseFinished {
                upgrade: id.to_owned(),
                ok: false,
                level: 0,
                code: codes::NOT_DOCKED.to_owned(),
                message: "Dock at a trading hub first.".to_owned(),
            }),
            Ok(upgrade) => {
                self.flush_collections();
                let key = net::new_idempotency_key();
                self.mirror.predict_change(Prediction::Purchase {
                    key: key.clone(),
                    upgrade,
                });
                let dock = self.dock.clone();
                self.ops.push_back(Op::Purchase { upgrade, key, dock });
                self.queue_changed();
                self.pump_due = true;
            }
            Err(_) => self.notices.push(Notice::PurchaseFinished {
                upgrade: id.to_owned(),
                ok: false,
                level: 0,
                code: codes::UNKNOWN_UPGRADE.to_owned(),
                message: "No such upgrade.".to_owned(),
            }),
        }
    }

    /// The queue or the predictions changed: redraw and persist.
    fn queue_changed(&mut self) {
        self.changed = true;
        self.dirty = true;
    }

    // ---- answers outside the queue ----------------------------------------

    /// A player the server answered outside the queue (a refresh, a
    /// completed trade). Returns whether it was taken.
    pub fn accept_player(&mut self, player: Player) -> bool {
        let taken = self.mirror.accept(player);
        if taken {
            self.changed = true;
        }
        taken
    }

    /// A run started on the server.
    pub fn run_started(&mut self, run: RunInfo) {
        self.run = Some(run);
    }

    /// The message list the server answered; returns the ids whose seen
    /// mark must be sent again.
    pub fn messages_fetched(&mut self, answer: MessagesResponse) -> Vec<String> {
        let mut messages = answer.messages;
        // Marked here but not yet on the server: stay seen.
        for m in &mut messages {
            if self.seen_unsent.contains(&m.id) {
                m.seen = true;
            }
        }
        self.messages = messages;
        self.messages_due = true;
        self.seen_unsent.iter().cloned().collect()
    }

    /// Marks message `id` seen here at once (the owner sends it).
    pub fn mark_seen(&mut self, id: &str) {
        if let Some(m) = self.messages.iter_mut().find(|m| m.id == id) {
            m.seen = true;
        }
        if self.seen_unsent.insert(id.to_owned()) {
            // Kept on disk until the server has it (a restart must not
            // show the message again).
            self.dirty = true;
        }
    }

    /// The answer to a seen mark: whether it is settled.
    pub fn seen_answered(&mut self, id: &str, result: &Result<Reply, ApiError>) {
        let done = match result {
            Ok(_) => true,
            // Unknown or not unlocked: nothing left to mark.
            Err(e) => !e.is_unreachable() && e.status != 401 && e.status < 500,
        };
        if done && self.seen_unsent.remove(id) {
            self.dirty = true;
        }
    }

    /// Compares a fresh server answer with the mirror: `(matches, detail)`.
    pub fn compare_with_server(&self, server: &Player) -> (bool, String) {
        let predicted = self.mirror.predictions().len();
        match self.mirror.server() {
            _ if predicted > 0 => (false, format!("{predicted} predictions not yet judged")),
            Some(mine) if mine == server => (true, String::new()),
            Some(mine) => (
                false,
                format!(
                    "client {} / server {}",
                    serde_json::to_string(mine).unwrap_or_default(),
                    serde_json::to_string(server).unwrap_or_default()
                ),
            ),
            None => (false, "the client has no player".to_owned()),
        }
    }

    // ---- fixtures (screenshots, offline tests) ------------------------------

    /// Replaces the mirror with `player`.
    pub fn replace_player(&mut self, player: Player) {
        self.mirror.clear();
        self.mirror.accept(player);
        self.changed = true;
    }

    /// Replaces the message list.
    pub fn replace_messages(&mut self, answer: MessagesResponse) {
        self.messages = answer.messages;
        self.messages_due = true;
    }

    // ---- sign-in, sign-out and the queue file -------------------------------

    /// Path of the signed-in account's queue file under `dir`.
    pub fn queue_path(&self, dir: &Path) -> Option<PathBuf> {
        let (user, url) = self.owner.as_ref()?;
        Some(dir.join(offline_queue::file_name(user, url)))
    }

    /// What the queue file holds now (none before sign-in).
    pub fn queue_file(&self) -> Option<QueueFile> {
        let (user, url) = self.owner.clone()?;
        Some(QueueFile {
            version: offline_queue::FILE_VERSION,
            username: user,
            backend_url: url,
            player: self.mirror.server().cloned(),
            ops: self.ops.iter().cloned().collect(),
            unsent: self.unsent.clone(),
            seen_unsent: self.seen_unsent.iter().cloned().collect(),
        })
    }

    /// Writes the queue file under `dir` (nothing before sign-in).
    pub fn save_queue(&self, dir: &Path) -> std::io::Result<()> {
        match (self.queue_path(dir), self.queue_file()) {
            (Some(path), Some(file)) => offline_queue::write_atomically(&path, &file),
            _ => Ok(()),
        }
    }

    /// `username` signed in on `backend_url`: adopt their queue file under
    /// `dir` (older ops first) and replay.
    pub fn signed_in(&mut self, username: &str, backend_url: &str, dir: &Path) -> SignInReport {
        let owner = (username.to_owned(), backend_url.to_owned());
        self.held = false;
        self.pump_due = true;
        if self.owner.as_ref() == Some(&owner) {
            return SignInReport::default();
        }
        self.owner = Some(owner);
        let mut report = SignInReport {
            new_owner: true,
            ..SignInReport::default()
        };
        if let Some(path) = self.queue_path(dir) {
            match offline_queue::read(&path) {
                Ok(Some(file)) if file.version == offline_queue::FILE_VERSION => {
                    report.restored = self.adopt(file);
                }
                Ok(Some(file)) => {
                    report.problem = Some(format!(
                        "ignoring an offline queue of format {}",
                        file.version
                    ));
                }
                Ok(None) => {}
                Err(e) => {
                    report.problem = Some(format!(
                        "cannot read the offline queue {}: {e}",
                        path.display()
                    ));
                }
            }
        }
        self.dirty = true;
        report
    }

    /// Puts the stored ops before anything queued since, and predicts them.
    /// Returns how many ops and pieces were restored.
    fn adopt(&mut self, file: QueueFile) -> usize {
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
        // Made in an earlier session: a refusal must be explained.
        self.deferred
            .extend(stored.iter().map(|o| o.key().to_owned()));
        self.ops.extend(stored);
        self.ops.extend(newer);
        let mut unsent = file.unsent;
        unsent.append(&mut self.unsent);
        self.unsent = unsent;
        self.seen_unsent.extend(file.seen_unsent);
        self.rebuild_predictions();
        self.op_in_flight = false;
        self.changed = true;
        loaded
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
                Op::Purchase { key, upgrade, .. } => {
                    self.mirror.predict_change(Prediction::Purchase {
                        key: key.clone(),
                        upgrade: *upgrade,
                    })
                }
            }
        }
        for piece in &self.unsent {
            self.mirror.predict(piece.clone());
        }
    }

    /// Forgets everything held in memory (sign-out, or a simulated restart
    /// in tests). The queue file stays on disk for the next sign-in; the
    /// owner writes it first when [`Session::is_dirty`].
    pub fn reset(&mut self) {
        self.generation += 1;
        self.mirror.clear();
        self.unsent.clear();
        self.ops.clear();
        self.op_in_flight = false;
        self.pump_due = false;
        self.run = None;
        self.dock = None;
        self.retry_timer = 0.0;
        self.retry_attempt = 0;
        self.held = false;
        self.owner = None;
        self.dirty = false;
        self.deferred.clear();
        self.notices.clear();
        self.messages.clear();
        self.seen_unsent.clear();
        self.messages_due = true;
        self.changed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::player_mirror::starting_player;

    fn unreachable() -> Result<Reply, ApiError> {
        Err(ApiError::unreachable("down"))
    }

    fn reply<T: serde::Serialize>(body: &T) -> Result<Reply, ApiError> {
        Ok(Reply {
            status: 200,
            body: serde_json::to_vec(body).unwrap(),
        })
    }

    fn signed_in(dir: &Path) -> Session {
        let mut session = Session::new();
        session.signed_in("ada", "http://127.0.0.1:9", dir);
        session.accept_player(starting_player(Catalog::shipped(), "ada"));
        session.set_dock("run-1", 0, 30.0);
        session
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "cots-session-{name}-{}",
            net::new_idempotency_key()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn collections_are_batched_before_a_sale_and_sent_in_order() {
        let dir = temp_dir("order");
        let mut s = signed_in(&dir);
        s.record_collection("run-1", 0, 0.5, "scrap_metal");
        s.record_collection("run-1", 1, 0.7, "scrap_metal");
        assert_eq!(s.queued_operations(), 1);
        s.sell(SellRequest::all());
        assert_eq!(s.queued_operations(), 2);
        assert!(s.pump_due());
        let head = s.next_op().expect("collect goes first");
        assert!(matches!(head, Op::Collect { ref pieces, .. } if pieces.len() == 2));
        // In flight: nothing else goes.
        assert!(s.next_op().is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_lost_link_retries_with_backoff_and_announces_the_queued_sale_once() {
        let dir = temp_dir("retry");
        let mut s = signed_in(&dir);
        s.sell(SellRequest::all());
        let op = s.next_op().unwrap();
        let notices = s.finish_op(op, unreachable(), RetryPolicy::default(), 0.0);
        assert!(notices.is_empty());
        let queued = s.take_notices();
        assert!(matches!(
            queued.as_slice(),
            [Notice::SaleFinished { ok: true, code, .. }] if code == codes::QUEUED
        ));
        // Waiting: nothing is sent, nothing announced twice.
        assert!(s.next_op().is_none());
        assert!(s.take_notices().is_empty());
        assert!(!s.tick_retry(0.5));
        assert!(s.tick_retry(0.6), "base delay 1 s without jitter");
        assert!(s.next_op().is_some());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_refused_replay_is_dropped_explained_and_the_queue_drains() {
        let dir = temp_dir("drop");
        let mut s = signed_in(&dir);
        s.purchase("speed_boost");
        let op = s.next_op().unwrap();
        s.finish_op(op, unreachable(), RetryPolicy::default(), 0.0);
        s.take_notices();
        s.connection_changed(true);
        let op = s.next_op().unwrap();
        let refusal = Err(ApiError::new(409, codes::INSUFFICIENT_CREDITS, "poor"));
        let notices = s.finish_op(op, refusal, RetryPolicy::default(), 0.0);
        assert!(notices.iter().any(|n| matches!(n,
            Notice::QueuedOpDropped { code, .. } if code == codes::INSUFFICIENT_CREDITS)));
        assert!(notices.contains(&Notice::QueueDrained));
        assert!(notices.contains(&Notice::RefreshPlayer));
        assert_eq!(s.queued_operations(), 0);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_accepted_sale_takes_the_servers_player() {
        let dir = temp_dir("sale");
        let mut s = signed_in(&dir);
        s.sell(SellRequest::all());
        let op = s.next_op().unwrap();
        let mut player = starting_player(Catalog::shipped(), "ada");
        player.version += 1;
        player.credits += 5;
        let answer = SellResponse {
            sold: BTreeMap::new(),
            credits_gained: 5,
            player: player.clone(),
        };
        let notices = s.finish_op(op, reply(&answer), RetryPolicy::default(), 0.0);
        assert!(matches!(
            notices.first(),
            Some(Notice::SaleFinished {
                ok: true,
                credits_gained: 5,
                ..
            })
        ));
        assert_eq!(s.player(), Some(&player));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_queue_survives_a_restart_through_its_file() {
        let dir = temp_dir("file");
        let mut s = signed_in(&dir);
        s.record_collection("run-1", 3, 1.0, "scrap_metal");
        s.sell(SellRequest::all());
        s.save_queue(&dir).unwrap();
        s.reset();
        assert_eq!(s.queued_operations(), 0);
        let report = s.signed_in("ada", "http://127.0.0.1:9", &dir);
        assert_eq!(report.restored, 2);
        assert_eq!(s.queued_operations(), 2);
        assert_eq!(s.mirror().predictions().len(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A sale made offline waits in the queue with the dock claim of the
    /// moment it was made, survives a restart, and replays with it even
    /// though the ship has left the hub since.
    #[test]
    fn a_sale_queued_offline_replays_with_its_dock_claim() {
        let dir = temp_dir("dock");
        let mut s = signed_in(&dir);
        s.record_collection("run-1", 3, 1.0, "scrap_metal");
        s.set_dock("run-1", 1, 42.5);
        s.sell(SellRequest::all());
        s.purchase("speed_boost");
        s.clear_dock();
        let op = s.next_op().unwrap();
        s.finish_op(op, unreachable(), RetryPolicy::default(), 0.0);
        s.save_queue(&dir).unwrap();
        s.reset();
        assert_eq!(s.dock(), None);
        s.signed_in("ada", "http://127.0.0.1:9", &dir);
        let expected = serde_json::json!({"run_id": "run-1", "hub": 1, "at": 42.5});
        // The restored queue, head first, is what goes out.
        let replayed: Vec<(String, serde_json::Value)> = s
            .queue_file()
            .unwrap()
            .ops
            .iter()
            .filter(|op| !matches!(op, Op::Collect { .. }))
            .map(|op| {
                let call = op.call();
                (call.path.clone(), call.body.unwrap()["dock"].clone())
            })
            .collect();
        assert!(matches!(s.next_op(), Some(Op::Collect { .. })));
        assert_eq!(
            replayed,
            vec![
                ("/api/v1/hub/sell".to_owned(), expected.clone()),
                ("/api/v1/upgrades/speed_boost/purchase".to_owned(), expected),
            ]
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn selling_or_buying_undocked_is_refused_locally() {
        let dir = temp_dir("undocked");
        let mut s = signed_in(&dir);
        s.clear_dock();
        s.sell(SellRequest::all());
        s.purchase("speed_boost");
        let notices = s.take_notices();
        assert!(notices.iter().all(|n| matches!(n,
            Notice::SaleFinished { ok: false, code, .. } | Notice::PurchaseFinished { ok: false, code, .. }
            if code == codes::NOT_DOCKED)), "{notices:?}");
        assert_eq!(notices.len(), 2);
        assert_eq!(s.queued_operations(), 0);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_empty_sale_and_an_unknown_upgrade_are_refused_locally() {
        let mut s = Session::new();
        s.sell_items(vec![("scrap_metal".to_owned(), 0)]);
        s.purchase("warp_drive");
        let notices = s.take_notices();
        assert!(
            matches!(&notices[0], Notice::SaleFinished { ok: false, code, .. }
            if code == codes::INVALID_REQUEST)
        );
        assert!(
            matches!(&notices[1], Notice::PurchaseFinished { ok: false, code, .. }
            if code == codes::UNKNOWN_UPGRADE)
        );
        assert_eq!(s.queued_operations(), 0);
    }

    #[test]
    fn a_seen_mark_that_could_not_be_sent_survives_a_restart() {
        let dir = temp_dir("seen");
        let entry = MessageEntry {
            id: "first_sale".into(),
            text: "noted".into(),
            unlocked_at: "2026-01-01T00:00:00Z".into(),
            seen: false,
        };
        let mut s = signed_in(&dir);
        s.replace_messages(MessagesResponse {
            messages: vec![entry.clone()],
        });
        s.mark_seen("first_sale");
        s.seen_answered("first_sale", &unreachable());
        s.save_queue(&dir).unwrap();
        // The game quits; a new one signs in and fetches the list.
        let mut again = Session::new();
        again.signed_in("ada", "http://127.0.0.1:9", &dir);
        let resend = again.messages_fetched(MessagesResponse {
            messages: vec![entry],
        });
        assert_eq!(resend, vec!["first_sale".to_owned()], "sent again");
        assert!(again.messages()[0].seen, "and not shown again");
        // Once the server has it, the file forgets it.
        again.seen_answered(
            "first_sale",
            &Ok(Reply {
                status: 204,
                body: vec![],
            }),
        );
        assert!(again.queue_file().unwrap().seen_unsent.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn seen_marks_survive_a_fetch_until_the_server_has_them() {
        let mut s = Session::new();
        let entry = MessageEntry {
            id: "first_light".into(),
            text: "hello".into(),
            unlocked_at: "2026-01-01T00:00:00Z".into(),
            seen: false,
        };
        s.replace_messages(MessagesResponse {
            messages: vec![entry.clone()],
        });
        s.mark_seen("first_light");
        let retry = s.messages_fetched(MessagesResponse {
            messages: vec![entry],
        });
        assert_eq!(retry, vec!["first_light".to_owned()]);
        assert!(s.messages()[0].seen);
        s.seen_answered(
            "first_light",
            &Ok(Reply {
                status: 204,
                body: vec![],
            }),
        );
        assert!(
            s.messages_fetched(MessagesResponse { messages: vec![] })
                .is_empty()
        );
    }
}
