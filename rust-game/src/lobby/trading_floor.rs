//! `TradingFloor` (`scenes/lobby/trading_floor.tscn`): the trading lobby.
//!
//! First the room registry ([`LobbyEntry`]): open a room
//! (`POST /api/v1/lobbies`) or join one by code (`POST .../join`). Inside a
//! room, the floor (1600 × 900 px from the catalog) shows one
//! [`LobbyAvatar`] per member with a name tag; the player walks with the
//! movement actions, and the avatar's position goes to the room over the
//! WebSocket ([`LobbySocket`]) at most every `position_interval_s` while it
//! moves. Other traders' avatars glide to the positions the server relays.
//! The terminal around it shows the room code, the link state, the member
//! list, the chat log and line, and LEAVE. Walking within the catalog's
//! trade reach of a trader and pressing `interact`, or picking them in the
//! list, opens the [`TradeWindow`]; every trade event of the socket goes to
//! it. The socket is closed on leave, when the scene leaves the tree, and
//! with the runtime at exit.
//!
//! Who is in the room, the chat log and what each socket event changes are
//! [`client::room::Room`]'s business; this node draws it, walks the avatar
//! (at the catalog's `[lobby] walk_speed`) and talks to the server.

use std::collections::BTreeMap;

use game::Catalog;
use game::account::ChatFilter;
use game::api::{Lobby, LobbyClientMessage, LobbyServerEvent, codes, ws};
use godot::builtin::Side;
use godot::classes::{
    Button, Camera2D, INode2D, Input, InputEvent, ItemList, Label, LineEdit, Node2D, PackedScene,
    RichTextLabel, ThemeDb,
};
use godot::prelude::*;

use client::lobby_socket::{LobbySocket, SocketConfig, SocketEvent};
use client::net::{ApiError, Call};
use client::room::{self, Room, RoomChange};
use client::routes;
use client::text::lobby as lobby_text;

use crate::app::backend_client::BackendClient;
use crate::app::game_state::GameState;
use crate::lobby::lobby_avatar::LobbyAvatar;
use crate::lobby::lobby_entry::LobbyEntry;
use crate::lobby::trade_window::TradeWindow;
use crate::theme::palette;

/// The trading lobby. See the module docs.
#[derive(GodotClass)]
#[class(base = Node2D, init)]
pub struct TradingFloor {
    /// Fewest seconds between two position messages while walking. The
    /// server relays at most one per `game::api::ws::POSITION_INTERVAL`
    /// (50 ms) per trader and drops the rest, so this stays above it (the
    /// last position of a walk is always sent). The walking speed is the
    /// catalog's `[lobby] walk_speed`.
    #[export(range = (0.06, 1.0, 0.01))]
    #[init(val = 0.1)]
    position_interval_s: f64,
    /// First wait before reconnecting a lost room channel, s (doubles each time).
    #[export(range = (0.1, 10.0, 0.1))]
    #[init(val = 0.5)]
    reconnect_initial_s: f64,
    /// Longest wait between two reconnection attempts, s.
    #[export(range = (1.0, 120.0, 0.5))]
    #[init(val = 10.0)]
    reconnect_max_s: f64,
    /// Chat lines kept in the log.
    #[export(range = (5.0, 500.0, 1.0))]
    #[init(val = 80)]
    chat_history: i64,
    /// Spacing of the floor grid, px.
    #[export(range = (20.0, 400.0, 5.0))]
    #[init(val = 100.0)]
    grid_step: f32,
    /// The scene of one avatar.
    #[export]
    avatar_scene: Option<Gd<PackedScene>>,
    /// Scene opened by "back to the zone".
    #[export(file = "*.tscn")]
    #[init(val = GString::from("res://scenes/zone/zone.tscn"))]
    zone_scene: GString,
    /// Scene opened when the session ends (signed out from the pause menu,
    /// refresh refused).
    #[export(file = "*.tscn")]
    #[init(val = GString::from("res://scenes/screens/login_screen.tscn"))]
    login_scene: GString,
    #[init(node = "Avatars")]
    avatars_root: OnReady<Gd<Node2D>>,
    #[init(node = "Camera")]
    camera: OnReady<Gd<Camera2D>>,
    #[init(node = "%RoomLabel")]
    room_label: OnReady<Gd<Label>>,
    #[init(node = "%LinkLabel")]
    link_label: OnReady<Gd<Label>>,
    #[init(node = "%LeaveButton")]
    leave_button: OnReady<Gd<Button>>,
    #[init(node = "%MemberList")]
    member_list: OnReady<Gd<ItemList>>,
    #[init(node = "%TradeButton")]
    trade_button: OnReady<Gd<Button>>,
    #[init(node = "%ChatLog")]
    chat_log: OnReady<Gd<RichTextLabel>>,
    #[init(node = "%ChatEdit")]
    chat_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%SendButton")]
    send_button: OnReady<Gd<Button>>,
    #[init(node = "%HintLabel")]
    hint_label: OnReady<Gd<Label>>,
    #[init(node = "%TradeWindow")]
    trade_window: OnReady<Gd<TradeWindow>>,
    #[init(node = "%LobbyEntry")]
    entry: OnReady<Gd<LobbyEntry>>,
    /// Members, chat log and room code.
    room: Room,
    avatars: BTreeMap<String, Gd<LobbyAvatar>>,
    socket: Option<LobbySocket>,
    connected: bool,
    send_timer: f64,
    /// The own position changed since the last message.
    position_dirty: bool,
    /// Trader within reach, if any.
    in_reach: Option<String>,
    busy: bool,
    base: Base<Node2D>,
}

#[godot_api]
impl INode2D for TradingFloor {
    fn ready(&mut self) {
        let this = self.to_gd();
        self.entry
            .signals()
            .create_requested()
            .connect_other(&this, Self::create_room);
        self.entry
            .signals()
            .join_requested()
            .connect_other(&this, Self::join_room);
        self.entry
            .signals()
            .back_requested()
            .connect_other(&this, Self::back_to_zone);
        self.leave_button
            .signals()
            .pressed()
            .connect_other(&this, Self::leave_room);
        self.send_button
            .signals()
            .pressed()
            .connect_other(&this, Self::send_typed_chat);
        self.chat_edit
            .signals()
            .text_submitted()
            .connect_other(&this, |s, _| s.send_typed_chat());
        self.member_list
            .signals()
            .item_activated()
            .connect_other(&this, |s, index| s.trade_with_member(index));
        self.trade_button
            .signals()
            .pressed()
            .connect_other(&this, Self::trade_with_selected);
        self.room
            .set_chat_history(self.chat_history.max(1) as usize);
        self.apply_chat_filter();
        if let Some(client) = BackendClient::autoload() {
            client
                .signals()
                .signed_out()
                .connect_other(&this, Self::on_signed_out);
            client
                .signals()
                .profile_loaded()
                .connect_other(&this, |s, _, _, _| s.apply_chat_filter());
        }
        let max_chat = game_chat_limit();
        self.chat_edit.set_max_length(max_chat);
        let rules = Catalog::shipped().lobby();
        let (w, h) = (rules.floor_width as i32, rules.floor_height as i32);
        let margin = 160;
        self.camera.set_limit(Side::LEFT, -margin);
        self.camera.set_limit(Side::TOP, -margin);
        self.camera.set_limit(Side::RIGHT, w + margin);
        self.camera.set_limit(Side::BOTTOM, h + margin);
        self.camera
            .set_position(Vector2::new(w as f32 * 0.5, h as f32 * 0.5));
        self.show_outside(None);
    }

    fn exit_tree(&mut self) {
        self.drop_socket();
    }

    fn process(&mut self, _delta: f64) {
        self.pump_socket();
    }

    fn physics_process(&mut self, delta: f64) {
        if !self.room.is_inside() {
            return;
        }
        self.walk(delta);
        self.update_reach();
        self.send_timer += delta;
        let interval = self
            .position_interval_s
            .max(ws::POSITION_INTERVAL.as_secs_f64() + 0.01);
        if self.position_dirty && self.send_timer >= interval {
            self.send_position();
        }
    }

    fn unhandled_input(&mut self, event: Gd<InputEvent>) {
        if !self.room.is_inside() || self.trade_window.bind().is_open() {
            return;
        }
        if event.is_action_pressed("interact")
            && !self.chat_edit.has_focus()
            && let Some(name) = self.in_reach.clone()
        {
            self.open_trade(&name);
            if let Some(mut viewport) = self.base().get_viewport() {
                viewport.set_input_as_handled();
            }
        }
    }

    fn draw(&mut self) {
        let rules = Catalog::shipped().lobby();
        let (w, h) = (rules.floor_width as f32, rules.floor_height as f32);
        let step = self.grid_step.max(10.0);
        let code = self.room.code().unwrap_or_default().to_owned();
        let mut base = self.base_mut();
        base.draw_rect(
            Rect2::new(Vector2::ZERO, Vector2::new(w, h)),
            Color::from_rgba(0.07, 0.05, 0.03, 1.0),
        );
        let grid = Color::from_rgba(0.72, 0.5, 0.22, 0.12);
        let mut x = step;
        while x < w {
            base.draw_line(Vector2::new(x, 0.0), Vector2::new(x, h), grid);
            x += step;
        }
        let mut y = step;
        while y < h {
            base.draw_line(Vector2::new(0.0, y), Vector2::new(w, y), grid);
            y += step;
        }
        base.draw_rect_ex(
            Rect2::new(Vector2::ZERO, Vector2::new(w, h)),
            palette::AMBER_DIM,
        )
        .filled(false)
        .width(3.0)
        .done();
        if let Some(font) = ThemeDb::singleton().get_fallback_font() {
            let text = format!("TRADING FLOOR {code}");
            base.draw_string_ex(&font, Vector2::new(24.0, h - 24.0), text.as_str())
                .font_size(28)
                .modulate(Color::from_rgba(0.72, 0.5, 0.22, 0.35))
                .done();
        }
    }
}

#[godot_api]
impl TradingFloor {
    /// Now inside room `code`.
    #[signal]
    pub fn room_entered(code: GString);
    /// Out of the room (left, or removed).
    #[signal]
    pub fn room_left(code: GString);
    /// The room channel connected (true) or was lost (false).
    #[signal]
    pub fn link_changed(online: bool);
    /// A chat line arrived (as shown in the log).
    #[signal]
    pub fn chat_received(username: GString, text: GString);

    /// Opens a new room on the server and enters it.
    #[func]
    pub fn create_room(&mut self) {
        if self.busy {
            return;
        }
        let call = routes::create_lobby();
        self.entry.bind_mut().show_info("OPENING A ROOM...".into());
        self.lobby_request(call);
    }

    /// Joins room `code` (checked with the shared rule first).
    #[func]
    pub fn join_room(&mut self, code: GString) {
        if self.busy {
            return;
        }
        let code = match Catalog::shipped().lobby().normalise_code(&code.to_string()) {
            Ok(code) => code,
            Err(e) => {
                let text = format!("NOT A ROOM CODE: {e}.");
                self.entry.bind_mut().show_error(text.as_str().into());
                return;
            }
        };
        let call = routes::join_lobby(&code);
        let info = format!("JOINING ROOM {code}...");
        self.entry.bind_mut().show_info(info.as_str().into());
        self.lobby_request(call);
    }

    /// Leaves the room on the server and returns to the registry.
    #[func]
    pub fn leave_room(&mut self) {
        let Some(code) = self.room.code().map(str::to_owned) else {
            return;
        };
        self.drop_socket();
        let call = routes::leave_lobby(&code);
        if let Some(mut client) = BackendClient::autoload() {
            client.bind_mut().send(call, |_| {});
        }
        let text = format!("YOU LEFT ROOM {code}.");
        self.show_outside(Some((text, false)));
    }

    /// The session ended: the channel closes and the login screen opens.
    /// A sign-out from here left the room first (the farewell call set on
    /// entering it); a session ended elsewhere is the server's to clean up.
    fn on_signed_out(&mut self, _reason: GString) {
        self.drop_socket();
        let path = self.login_scene.clone();
        self.base().get_tree().change_scene_to_file(&path);
    }

    /// Leaves the lobby scene for the zone.
    #[func]
    pub fn back_to_zone(&mut self) {
        self.drop_socket();
        let path = self.zone_scene.clone();
        self.base().get_tree().change_scene_to_file(&path);
    }

    /// Room code ("" outside a room).
    #[func]
    pub fn room_code(&self) -> GString {
        GString::from(self.room.code().unwrap_or(""))
    }

    /// The room label as shown.
    #[func]
    pub fn room_label_text(&self) -> GString {
        self.room_label.get_text()
    }

    /// Whether the room channel is connected.
    #[func]
    pub fn is_linked(&self) -> bool {
        self.connected
    }

    /// The player's username in this room.
    #[func]
    pub fn own_name(&self) -> GString {
        GString::from(self.room.me())
    }

    /// Members as listed.
    #[func]
    pub fn member_names(&self) -> PackedStringArray {
        self.room
            .members()
            .iter()
            .map(|m| GString::from(m.as_str()))
            .collect()
    }

    /// Chat log lines as shown.
    #[func]
    pub fn chat_lines(&self) -> PackedStringArray {
        self.room.chat_lines().map(GString::from).collect()
    }

    /// The registry's status line (errors of create/join).
    #[func]
    pub fn entry_status(&self) -> GString {
        self.entry.bind().status_text()
    }

    /// Avatar of `username`, if shown.
    #[func]
    pub fn avatar(&self, username: GString) -> Option<Gd<LobbyAvatar>> {
        self.avatars.get(&username.to_string()).cloned()
    }

    /// Where the player's own avatar stands.
    #[func]
    pub fn own_position(&self) -> Vector2 {
        self.avatars
            .get(self.room.me())
            .map_or(Vector2::ZERO, |a| a.get_position())
    }

    /// Puts the player's avatar at `position` (kept on the floor) and tells the room.
    #[func]
    pub fn place_self(&mut self, position: Vector2) {
        let rules = Catalog::shipped().lobby();
        let (x, y) = rules.clamp_to_floor(f64::from(position.x), f64::from(position.y));
        if let Some(avatar) = self.avatars.get_mut(self.room.me()) {
            avatar.bind_mut().place(Vector2::new(x as f32, y as f32));
        }
        // Sent by the next physics tick the interval allows: sooner, the
        // server could drop it as too close to the previous one.
        self.position_dirty = true;
    }

    /// Sends a chat line to the room.
    #[func]
    pub fn send_chat(&mut self, text: GString) -> bool {
        let text = text.to_string();
        let text = text.trim();
        if text.is_empty() {
            return false;
        }
        let sent = self.connected
            && self.socket.as_ref().is_some_and(|s| {
                s.send(LobbyClientMessage::Chat {
                    text: text.to_owned(),
                })
            });
        if !sent {
            self.system_line("NO LINK TO THE ROOM: THE LINE WAS NOT SENT.");
        }
        sent
    }

    /// Opens the trade window with `username`, if they are in the room.
    #[func]
    pub fn open_trade_with(&mut self, username: GString) -> bool {
        self.open_trade(&username.to_string())
    }
}

/// Fixtures for the in-engine tests and the screenshot tool (feature `itest`).
#[cfg(feature = "itest")]
#[godot_api(secondary)]
impl TradingFloor {
    /// Enters a room without the server (screenshots, tests): `lobby` as
    /// the API's JSON, `me` the player's username. No channel is opened.
    #[func]
    pub fn enter_fixture(&mut self, lobby_json: GString, me: GString) -> bool {
        match serde_json::from_str::<Lobby>(&lobby_json.to_string()) {
            Ok(lobby) => {
                self.enter(lobby, me.to_string(), false);
                true
            }
            Err(e) => {
                godot_error!("TradingFloor: bad lobby fixture: {e}");
                false
            }
        }
    }

    /// A server event as JSON, handled as if the channel had delivered it.
    #[func]
    pub fn apply_event_json(&mut self, json: GString) -> bool {
        match serde_json::from_str::<LobbyServerEvent>(&json.to_string()) {
            Ok(event) => {
                self.on_event(event);
                true
            }
            Err(e) => {
                godot_error!("TradingFloor: bad event fixture: {e}");
                false
            }
        }
    }
}

impl TradingFloor {
    fn open_trade(&mut self, username: &str) -> bool {
        if !self.room.can_trade_with(username) {
            return false;
        }
        let code = self.room.code().unwrap_or_default().to_owned();
        let me = self.room.me().to_owned();
        self.trade_window.bind_mut().open_with(
            me.as_str().into(),
            username.into(),
            code.as_str().into(),
        );
        true
    }

    /// Create or join: on success the answer is the room.
    fn lobby_request(&mut self, call: Call) {
        let Some(mut client) = BackendClient::autoload() else {
            self.entry
                .bind_mut()
                .show_error("NO STATION LINK IN THIS SCENE.".into());
            return;
        };
        let me = client.bind().username().unwrap_or_default().to_owned();
        self.busy = true;
        self.entry.bind_mut().set_busy(true);
        let mut this = self.to_gd();
        client
            .bind_mut()
            .send_json::<Lobby>(call, move |result: Result<Lobby, ApiError>| {
                // The scene may have been left while the request was out.
                if !this.is_instance_valid() {
                    return;
                }
                let mut floor = this.bind_mut();
                floor.busy = false;
                floor.entry.bind_mut().set_busy(false);
                match result {
                    Ok(lobby) => floor.enter(lobby, me, true),
                    Err(e) => {
                        let text = format!(
                            "REFUSED: {}",
                            lobby_text::explain(&e.code, &e.message, None)
                        );
                        floor.entry.bind_mut().show_error(text.as_str().into());
                    }
                }
            });
    }

    fn enter(&mut self, lobby: Lobby, me: String, connect: bool) {
        self.drop_socket();
        self.trade_window.bind_mut().set_identity(&me, &lobby.code);
        let changes = self.room.enter(&lobby, me);
        if let Some(mut client) = BackendClient::autoload() {
            // Signing out leaves the room first (while the session counts).
            client
                .bind_mut()
                .set_farewell(Some(routes::leave_lobby(&lobby.code)));
        }
        self.entry.set_visible(false);
        self.set_room_ui_visible(true);
        self.apply_changes(changes);
        self.show_chat();
        if connect {
            // Joining counts in the player's stats on the server.
            if let Some(mut state) = GameState::autoload() {
                state.bind_mut().refresh_player();
            }
            self.open_socket();
        } else {
            self.set_link(false, "LINK: OFFLINE");
        }
        self.position_dirty = true;
        self.base_mut().queue_redraw();
        let code = GString::from(lobby.code.as_str());
        self.signals().room_entered().emit(&code);
    }

    fn open_socket(&mut self) {
        let (Some(code), Some(client)) = (
            self.room.code().map(str::to_owned),
            BackendClient::autoload(),
        ) else {
            return;
        };
        let (Some(core), Some(handle)) = (client.bind().core(), crate::app::runtime::handle())
        else {
            self.set_link(false, "LINK: NOT AVAILABLE");
            return;
        };
        let config = SocketConfig {
            backoff_initial: std::time::Duration::from_secs_f64(
                self.reconnect_initial_s.clamp(0.1, 10.0),
            ),
            backoff_max: std::time::Duration::from_secs_f64(self.reconnect_max_s.clamp(1.0, 120.0)),
            ..SocketConfig::default()
        };
        self.socket = Some(LobbySocket::open(&handle, core, &code, config));
        self.set_link(false, "LINK: CONNECTING...");
    }

    fn drop_socket(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            socket.close();
        }
        self.connected = false;
    }

    fn pump_socket(&mut self) {
        let events = match &self.socket {
            Some(socket) => socket.poll(),
            None => return,
        };
        for event in events {
            match event {
                SocketEvent::Connected => {
                    self.set_link(true, "LINK: ONLINE");
                    self.position_dirty = true;
                    self.send_timer = self.position_interval_s;
                }
                SocketEvent::Event(event) => self.on_event(*event),
                SocketEvent::Disconnected { reason, retry_in } => {
                    let text = format!(
                        "LINK LOST, RETRY IN {:.1} S ({reason})",
                        retry_in.as_secs_f64()
                    );
                    self.set_link(false, &text);
                }
                SocketEvent::Closed { code, message } => {
                    self.socket = None;
                    if code == codes::CHANNEL_CLOSED {
                        continue;
                    }
                    let room = self.room.code().unwrap_or_default().to_owned();
                    let text = if code == codes::LEFT_LOBBY {
                        format!("YOU ARE NO LONGER IN ROOM {room}.")
                    } else {
                        format!(
                            "ROOM {room} CLOSED THE LINK: {}",
                            lobby_text::explain(&code, &message, None)
                        )
                    };
                    self.show_outside(Some((text, true)));
                }
            }
        }
    }

    fn on_event(&mut self, event: LobbyServerEvent) {
        let changes = self.room.apply(event);
        self.apply_changes(changes);
        self.show_chat();
    }

    /// Shows what the room model changed: avatars, the list, the window.
    fn apply_changes(&mut self, changes: Vec<RoomChange>) {
        let mut list_changed = false;
        for change in changes {
            match change {
                RoomChange::MemberAdded(name) => {
                    self.add_avatar(&name);
                    list_changed = true;
                }
                RoomChange::MemberRemoved(name) => {
                    if let Some(mut avatar) = self.avatars.remove(&name) {
                        avatar.queue_free();
                    }
                    if self.in_reach.as_deref() == Some(name.as_str()) {
                        self.in_reach = None;
                    }
                    list_changed = true;
                }
                RoomChange::Reconnecting {
                    username,
                    reconnecting,
                } => {
                    if let Some(avatar) = self.avatars.get_mut(&username) {
                        avatar.bind_mut().set_reconnecting(reconnecting);
                    }
                    list_changed = true;
                }
                RoomChange::Moved { username, x, y } => {
                    if let Some(avatar) = self.avatars.get_mut(&username) {
                        avatar
                            .bind_mut()
                            .move_towards(Vector2::new(x as f32, y as f32));
                    }
                }
                RoomChange::Chat { username, text } => {
                    self.signals()
                        .chat_received()
                        .emit(username.as_str(), text.as_str());
                }
                RoomChange::Trade(trade) => self.trade_window.bind_mut().on_trade(*trade),
                RoomChange::Expelled => {
                    let room = self.room.code().unwrap_or_default().to_owned();
                    self.drop_socket();
                    let text = format!("YOU ARE NO LONGER IN ROOM {room}.");
                    self.show_outside(Some((text, true)));
                    return;
                }
                RoomChange::PositionWanted => self.position_dirty = true,
            }
        }
        if list_changed {
            self.refresh_member_list();
        }
    }

    fn walk(&mut self, delta: f64) {
        let typing = self.chat_edit.has_focus();
        if typing || self.trade_window.bind().is_open() {
            return;
        }
        let Some(mut avatar) = self.avatars.get(self.room.me()).cloned() else {
            return;
        };
        let direction =
            Input::singleton().get_vector("turn_left", "turn_right", "move_up", "move_down");
        let position = avatar.get_position();
        if direction != Vector2::ZERO {
            let (x, y) = room::walk((position.x, position.y), (direction.x, direction.y), delta);
            let next = Vector2::new(x, y);
            if next != position {
                avatar.bind_mut().place(next);
                self.position_dirty = true;
            }
        }
        let own = avatar.get_position();
        self.camera.set_position(own);
    }

    fn send_position(&mut self) {
        let Some(socket) = &self.socket else {
            return;
        };
        if !self.connected {
            return;
        }
        let position = self.own_position();
        if socket.send(LobbyClientMessage::Position {
            x: f64::from(position.x),
            y: f64::from(position.y),
        }) {
            self.position_dirty = false;
            self.send_timer = 0.0;
        }
    }

    fn update_reach(&mut self) {
        let own = self.own_position();
        let me = self.room.me();
        let others: Vec<(&str, (f32, f32))> = self
            .avatars
            .iter()
            .filter(|(name, _)| name.as_str() != me && !self.room.is_reconnecting(name))
            .map(|(name, avatar)| {
                let p = avatar.get_position();
                (name.as_str(), (p.x, p.y))
            })
            .collect();
        let name = room::nearest_in_reach((own.x, own.y), others);
        if name != self.in_reach {
            for (other, avatar) in self.avatars.iter_mut() {
                avatar
                    .bind_mut()
                    .mark_in_reach(Some(other) == name.as_ref());
            }
            let hint = match &name {
                Some(n) => format!("[F] TRADE WITH {n}"),
                None => "WALK UP TO A TRADER AND PRESS [F], OR PICK ONE IN THE LIST".to_owned(),
            };
            self.hint_label.set_text(hint.as_str());
            self.in_reach = name;
        }
    }

    /// The player's chat filter (kept on the server) onto the room.
    fn apply_chat_filter(&mut self) {
        let mask = BackendClient::autoload().is_none_or(|c| c.bind().masks_chat());
        self.room.set_chat_filter(if mask {
            ChatFilter::Mask
        } else {
            ChatFilter::Off
        });
    }

    fn send_typed_chat(&mut self) {
        let text = self.chat_edit.get_text();
        if self.send_chat(text) {
            self.chat_edit.set_text("");
        }
        self.chat_edit.release_focus();
    }

    fn trade_with_member(&mut self, index: i64) {
        let Some(name) = self.room.members().get(index.max(0) as usize).cloned() else {
            return;
        };
        if !self.open_trade(&name) {
            self.system_line("PICK ANOTHER TRADER: YOU CANNOT TRADE WITH YOURSELF.");
        }
    }

    fn trade_with_selected(&mut self) {
        let selected = self.member_list.get_selected_items();
        match selected.as_slice().first() {
            Some(&index) => self.trade_with_member(i64::from(index)),
            None => self.system_line("PICK A TRADER IN THE MEMBER LIST FIRST."),
        }
    }

    fn add_avatar(&mut self, name: &str) {
        if let Some(scene) = &self.avatar_scene
            && let Some(node) = scene.instantiate()
            && let Ok(mut avatar) = node.try_cast::<LobbyAvatar>()
        {
            let (x, y) = room::spawn_point(name);
            let spawn = Vector2::new(x, y);
            avatar.set_position(spawn);
            self.avatars_root.add_child(&avatar);
            let own = name == self.room.me();
            avatar.bind_mut().setup(name, own);
            avatar.bind_mut().place(spawn);
            if own {
                self.camera.set_position(spawn);
            }
            self.avatars.insert(name.to_owned(), avatar);
        }
    }

    fn refresh_member_list(&mut self) {
        let mut list = self.member_list.clone();
        list.clear();
        for entry in self.room.member_entries() {
            list.add_item(entry.as_str());
        }
        let label = self.room.label();
        self.room_label.set_text(label.as_str());
    }

    /// Back to the registry; `message` = (text, is_error).
    fn show_outside(&mut self, message: Option<(String, bool)>) {
        // Every avatar goes, the model's members with them.
        let (code, _) = self.room.leave();
        if code.is_some()
            && let Some(mut client) = BackendClient::autoload()
        {
            client.bind_mut().set_farewell(None);
        }
        for (_, mut avatar) in std::mem::take(&mut self.avatars) {
            avatar.queue_free();
        }
        self.in_reach = None;
        self.refresh_member_list();
        self.trade_window.bind_mut().close();
        self.set_room_ui_visible(false);
        self.entry.set_visible(true);
        match message {
            Some((text, true)) => self.entry.bind_mut().show_error(text.as_str().into()),
            Some((text, false)) => self.entry.bind_mut().show_info(text.as_str().into()),
            None => {}
        }
        self.base_mut().queue_redraw();
        if let Some(code) = code {
            self.signals().room_left().emit(code.as_str());
        }
    }

    fn set_room_ui_visible(&mut self, visible: bool) {
        for path in [
            "Ui/Terminal/TopBar",
            "Ui/Terminal/Members",
            "Ui/Terminal/Chat",
        ] {
            if let Some(mut node) = self.base().try_get_node_as::<godot::classes::Control>(path) {
                node.set_visible(visible);
            }
        }
        self.hint_label.set_visible(visible);
    }

    fn set_link(&mut self, online: bool, text: &str) {
        let changed = online != self.connected;
        self.connected = online;
        self.link_label.set_text(text);
        let colour = if online { palette::OK } else { palette::WARN };
        self.link_label
            .add_theme_color_override("font_color", colour);
        if changed {
            self.signals().link_changed().emit(online);
        }
    }

    fn system_line(&mut self, text: &str) {
        self.room.system_line(text);
        self.show_chat();
    }

    fn show_chat(&mut self) {
        // Plain text: a chat line is never parsed as markup.
        let text = self.room.chat_text();
        if self.chat_log.get_text() != text.as_str() {
            self.chat_log.set_text(text.as_str());
        }
    }
}

/// Longest chat line the server relays, in characters.
fn game_chat_limit() -> i32 {
    i32::try_from(game::api::MAX_CHAT_CHARS).unwrap_or(i32::MAX)
}
