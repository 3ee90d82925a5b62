//! `GameState`: the autoload that holds the signed-in player's economy for
//! every scene (credits, hold, upgrades, the offline queue, the run, the
//! station AI messages) and the one place that sends economy calls.
//!
//! A thin node over [`client::session::Session`], which owns the mirror,
//! the queue, its ordering and backoff, the queue file and the message
//! bookkeeping (and is unit-tested with `cargo test -p client`). This node
//! adds what needs the engine: the inspector's tuning, the frame clock,
//! the `user://` folder, the calls through [`BackendClient`], and typed
//! signals for the screens.
//!
//! The client predicts, the server's answer wins. Mutating calls go through
//! one serial queue, each with its `Idempotency-Key` chosen when queued;
//! offline they wait and are replayed in order, with capped, jittered,
//! exponential backoff, when the station answers again. A replay the server
//! refuses for good is dropped and explained (`queued_operation_dropped`).
//! Station AI messages are fetched after every accepted collect, sale and
//! purchase, and at sign-in (`messages_changed`).

use std::path::PathBuf;

use client::net::{ApiError, Reply};
use client::offline_queue::{self, Op};
use client::routes;
use client::session::{Notice, RetryPolicy, RunInfo, Session};
use game::api::{MessageEntry, MessagesResponse, Player, StartRunResponse};
use game::ship::ShipEffects;
use game::{Catalog, ItemCount, UpgradeId, UpgradeLevels, ZoneId};
use godot::classes::{INode, Node, ProjectSettings};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;

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
    session: Session,
    base: Base<Node>,
}

#[godot_api]
impl INode for GameState {
    fn ready(&mut self) {
        let this = self.to_gd();
        if let Some(client) = BackendClient::autoload() {
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
        if self.session.take_dirty() {
            self.save_queue();
        }
    }

    fn process(&mut self, delta: f64) {
        for notice in self.session.take_notices() {
            self.tell(notice);
        }
        if self.session.take_changed() {
            self.signals().player_changed().emit();
        }
        if self.session.take_dirty() {
            self.save_queue();
        }
        if self.session.take_messages_due() {
            self.signals().messages_changed().emit();
        }
        if self.session.tick_retry(delta) {
            self.pump_ops();
        }
        if self
            .session
            .tick_flush(delta, self.collect_flush_interval_s)
        {
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
        self.session.player().is_some()
    }

    #[func]
    pub fn credits(&self) -> i64 {
        self.session.credits() as i64
    }

    /// Slots in use, predictions included.
    #[func]
    pub fn hold_used(&self) -> i64 {
        self.session.mirror().hold_used() as i64
    }

    #[func]
    pub fn hold_capacity(&self) -> i64 {
        i64::from(self.session.mirror().hold_capacity(self.catalog()))
    }

    /// Items of `kind` in the hold, predictions included.
    #[func]
    pub fn item_count(&self, kind: GString) -> i64 {
        i64::from(self.session.mirror().items(&kind.to_string()))
    }

    /// Level of upgrade `id` (0 for an unknown id).
    #[func]
    pub fn upgrade_level(&self, id: GString) -> i64 {
        id.to_string()
            .parse::<UpgradeId>()
            .map_or(0, |id| i64::from(self.session.upgrades().get(id)))
    }

    /// The zone the next run starts in (after sign-in: the player's
    /// preferred zone when one is kept on the server).
    #[func]
    pub fn start_zone(&self) -> i64 {
        i64::from(self.current_zone())
    }

    /// Highest zone the player may enter.
    #[func]
    pub fn zone_access(&self) -> i64 {
        i64::from(self.session.mirror().zone_access(self.catalog()))
    }

    /// `version` of the last server answer (-1 before any).
    #[func]
    pub fn player_version(&self) -> i64 {
        self.session.player().map_or(-1, |p| p.version as i64)
    }

    /// Lifetime pieces collected, as the server last said (-1 before any answer).
    #[func]
    pub fn debris_collected(&self) -> i64 {
        self.session
            .player()
            .map_or(-1, |p| p.stats.debris_collected as i64)
    }

    /// Collections predicted and not yet judged by the server.
    #[func]
    pub fn pending_collections(&self) -> i64 {
        self.session.mirror().predicted_pieces() as i64
    }

    /// Mutating calls queued or in flight (recorded collections not yet
    /// batched count as one).
    #[func]
    pub fn queued_operations(&self) -> i64 {
        self.session.queued_operations() as i64
    }

    /// Path of the queue file of the signed-in account ("" when none).
    #[func]
    pub fn queue_file_path(&self) -> GString {
        self.session
            .queue_path(&self.queue_folder())
            .map_or_else(GString::new, |p| {
                GString::from(p.to_string_lossy().as_ref())
            })
    }

    /// Writes the queue file now (it is also written once per frame after a change).
    #[func]
    pub fn save_queue_now(&mut self) {
        self.session.take_dirty();
        self.save_queue();
    }

    /// Every unlocked AI message, oldest first, as dictionaries
    /// `{id, text, unlocked_at, seen}`.
    #[func]
    pub fn message_list(&self) -> Array<VarDictionary> {
        self.session
            .messages()
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
        let generation = self.session.generation();
        Self::with_client(|client| {
            client.send_json::<MessagesResponse>(routes::messages(), move |result| {
                let Ok(answer) = result else {
                    return;
                };
                let mut state = this.bind_mut();
                if state.session.generation() != generation {
                    return;
                }
                let retry = state.session.messages_fetched(answer);
                for id in retry {
                    state.send_seen(id);
                }
            });
        });
    }

    /// Marks message `id` seen, here at once and on the server.
    #[func]
    pub fn mark_message_seen(&mut self, id: GString) {
        let id = id.to_string();
        self.session.mark_seen(&id);
        self.send_seen(id);
    }

    /// Id of the run in progress ("" when none).
    #[func]
    pub fn run_id(&self) -> GString {
        self.session
            .run()
            .map_or_else(GString::new, |r| GString::from(r.run_id.as_str()))
    }

    /// Asks the server for the player.
    #[func]
    pub fn refresh_player(&mut self) {
        let mut this = self.to_gd();
        let generation = self.session.generation();
        Self::with_client(|client| {
            client.send_json::<Player>(routes::player(), move |result| {
                if let Ok(player) = result {
                    let mut state = this.bind_mut();
                    if state.session.generation() == generation {
                        state.session.accept_player(player);
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
        let generation = self.session.generation();
        Self::with_client(|client| {
            client.send_json::<StartRunResponse>(routes::start_run(zone), move |result| {
                if this.bind().session.generation() != generation {
                    return;
                }
                match result {
                    Ok(run) => {
                        let run = RunInfo::from(run);
                        let seed = GString::from(run.seed.to_string().as_str());
                        let run_id = GString::from(run.run_id.as_str());
                        let zone = i64::from(run.zone);
                        this.bind_mut().session.run_started(run);
                        this.signals().run_started().emit(&run_id, zone, &seed);
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
        self.session.sell(game::api::SellRequest::all());
        self.pump_ops();
    }

    /// Sells `{kind: count}` (zero counts are left out).
    #[func]
    pub fn sell_items(&mut self, items: VarDictionary) {
        let items: Vec<(String, i64)> = items
            .iter_shared()
            .filter_map(|(k, n)| Some((k.to_string(), n.try_to::<i64>().ok()?)))
            .collect();
        self.session.sell_items(items);
        self.pump_ops();
    }

    /// Buys the next level of upgrade `id`: answers `purchase_finished`.
    #[func]
    pub fn purchase_upgrade(&mut self, id: GString) {
        self.session.purchase(&id.to_string());
        self.pump_ops();
    }

    /// Fetches the player and compares it with the mirror: answers
    /// `server_check_finished(matches, detail)`.
    #[func]
    pub fn verify_against_server(&mut self) {
        let this = self.to_gd();
        Self::with_client(|client| {
            client.send_json::<Player>(routes::player(), move |result| {
                let (matches, detail) = match result {
                    Ok(server) => this.bind().session.compare_with_server(&server),
                    Err(e) => (false, format!("{}: {}", e.code, e.message)),
                };
                this.signals()
                    .server_check_finished()
                    .emit(matches, detail.as_str());
            });
        });
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
        if self.session.is_dirty() {
            self.save_queue();
        }
        self.session.reset();
    }

    /// Sends the recorded collections now instead of at the next flush tick.
    #[func]
    pub fn flush_collections(&mut self) {
        self.session.flush_collections();
        self.pump_ops();
    }
}

/// Fixtures for the in-engine tests and the screenshot tool (feature `itest`).
#[cfg(feature = "itest")]
#[godot_api(secondary)]
impl GameState {
    /// Replaces the mirror with a player given as JSON (screenshots, offline fixtures).
    #[func]
    pub fn apply_fixture_json(&mut self, json: GString) -> bool {
        match serde_json::from_str::<Player>(&json.to_string()) {
            Ok(player) => {
                self.session.replace_player(player);
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
                self.session.replace_messages(answer);
                true
            }
            Err(e) => {
                godot_error!("GameState: bad message fixture: {e}");
                false
            }
        }
    }
}

impl GameState {
    /// Name of the autoload in `project.godot`.
    pub const AUTOLOAD: &str = "GameState";

    /// The `GameState` autoload (gdext's autoload lookup), if the game runs with it.
    pub fn autoload() -> Option<Gd<GameState>> {
        godot::tools::try_get_autoload_by_name::<GameState>(Self::AUTOLOAD).ok()
    }

    pub fn catalog(&self) -> &'static Catalog {
        Catalog::shipped()
    }

    /// The mirror as the economy rules see it (client-side checks).
    pub fn economy_state(&self) -> game::PlayerState {
        self.session.economy_state()
    }

    /// Takes a player the server answered outside the op queue (a completed
    /// trade); `player_changed` follows when it was newer.
    pub fn accept_server_player(&mut self, player: Player) {
        self.session.accept_player(player);
        self.fetch_messages();
    }

    pub fn player(&self) -> Option<&Player> {
        self.session.player()
    }

    pub fn inventory(&self) -> std::collections::BTreeMap<String, ItemCount> {
        self.session.inventory()
    }

    pub fn upgrades(&self) -> UpgradeLevels {
        self.session.upgrades()
    }

    pub fn effects(&self) -> ShipEffects {
        self.session.effects()
    }

    /// Unlocked AI messages, oldest first.
    pub fn messages(&self) -> &[MessageEntry] {
        self.session.messages()
    }

    pub fn run(&self) -> Option<&RunInfo> {
        self.session.run()
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
        self.session.record_collection(run_id, index, at, kind);
        if self.session.pump_due() {
            self.pump_ops();
        }
    }

    /// The ship is within docking range of hub `hub` of run `run_id` at
    /// `at` on the run clock (the zone reports the simulation's `NearHub`
    /// and keeps `at` current while the ship stays): sales and purchases
    /// carry this claim, and the server judges it.
    pub fn set_dock(&mut self, run_id: &str, hub: u32, at: f64) {
        self.session.set_dock(run_id, hub, at);
    }

    /// The ship left the hub, or the run ended.
    pub fn clear_dock(&mut self) {
        self.session.clear_dock();
    }

    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            base_s: self.retry_base_s,
            max_s: self.retry_max_s,
            jitter: self.retry_jitter,
        }
    }

    fn queue_folder(&self) -> PathBuf {
        let dir = ProjectSettings::singleton()
            .globalize_path(&self.queue_dir)
            .to_string();
        PathBuf::from(dir)
    }

    fn save_queue(&mut self) {
        let dir = self.queue_folder();
        if let Err(e) = self.session.save_queue(&dir) {
            let path = self.session.queue_path(&dir).unwrap_or(dir);
            godot_error!(
                "GameState: cannot write the offline queue {}: {e}",
                path.display()
            );
        }
    }

    /// A user signed in: adopt their queue file (older ops first), replay it.
    fn on_signed_in(&mut self, username: GString) {
        let url = BackendClient::autoload()
            .map(|c| c.bind().backend_url().to_string())
            .unwrap_or_default();
        let report = self
            .session
            .signed_in(&username.to_string(), &url, &self.queue_folder());
        if let Some(problem) = report.problem {
            godot_warn!("GameState: {problem}");
        }
        if report.restored > 0 {
            godot_print!(
                "GameState: {} queued operations restored from disk",
                report.restored
            );
        }
        if report.new_owner {
            self.fetch_messages();
            // Not the zone the previous pilot was in.
            self.current_zone = 1;
        }
        // Runs start where the player chose to start (kept on the server,
        // so on every device).
        let preferred = BackendClient::autoload().map_or(0, |c| c.bind().preferred_zone());
        if preferred > 0 {
            self.current_zone = preferred;
        }
        self.pump_ops();
    }

    fn on_connection_changed(&mut self, online: bool) {
        self.session.connection_changed(online);
        if self.session.pump_due() {
            self.pump_ops();
        }
    }

    fn send_seen(&mut self, id: String) {
        let mut this = self.to_gd();
        let call = routes::mark_seen(&id);
        Self::with_client(|client| {
            client.send(call, move |result| {
                this.bind_mut().session.seen_answered(&id, &result);
            });
        });
    }

    fn with_client(f: impl FnOnce(&mut BackendClient)) -> bool {
        match BackendClient::autoload() {
            Some(mut client) => {
                f(&mut client.bind_mut());
                true
            }
            None => false,
        }
    }

    /// Sends the head op when nothing is in flight.
    fn pump_ops(&mut self) {
        let Some(op) = self.session.next_op() else {
            return;
        };
        let call = op.call();
        let mut this = self.to_gd();
        let generation = self.session.generation();
        let sent = Self::with_client(move |client| {
            client.send(call, move |result| {
                let mut state = this.bind_mut();
                if state.session.generation() != generation {
                    return;
                }
                state.finish_op(op, result);
            });
        });
        if !sent {
            self.session.send_failed();
        }
    }

    fn finish_op(&mut self, op: Op, result: Result<Reply, ApiError>) {
        let policy = self.retry_policy();
        let notices = self
            .session
            .finish_op(op, result, policy, offline_queue::random_unit());
        for notice in notices {
            self.tell(notice);
        }
        if self.session.pump_due() {
            self.pump_ops();
        }
    }

    /// A [`Notice`] as a signal (or a follow-up call).
    fn tell(&mut self, notice: Notice) {
        match notice {
            Notice::CollectionRejected { index, code } => self
                .signals()
                .collection_rejected()
                .emit(i64::from(index), code.as_str()),
            Notice::SaleFinished {
                ok,
                credits_gained,
                code,
                message,
            } => self.signals().sale_finished().emit(
                ok,
                credits_gained as i64,
                code.as_str(),
                message.as_str(),
            ),
            Notice::PurchaseFinished {
                upgrade,
                ok,
                level,
                code,
                message,
            } => self.signals().purchase_finished().emit(
                upgrade.as_str(),
                ok,
                i64::from(level),
                code.as_str(),
                message.as_str(),
            ),
            Notice::QueuedOpDropped {
                what,
                code,
                message,
            } => self.signals().queued_operation_dropped().emit(
                what.as_str(),
                code.as_str(),
                message.as_str(),
            ),
            Notice::QueueDrained => self.signals().queue_drained().emit(),
            Notice::FetchMessages => self.fetch_messages(),
            Notice::RefreshPlayer => self.refresh_player(),
            Notice::Warning(text) => godot_warn!("GameState: {text}"),
        }
    }
}
