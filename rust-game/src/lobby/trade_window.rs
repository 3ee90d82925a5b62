//! `TradeWindow` (`scenes/lobby/trade_window.tscn`): one offer between the player
//! and another trader in the room.
//!
//! Two columns: YOU GIVE (credits, debris per kind with what the hold has,
//! upgrade levels) and YOU GET (the same, asked of the other trader). While
//! composing, the player sets the amounts and presses OFFER; the rules of
//! the `game` crate check the offer first (something must move, the player
//! must own what they give). A pending offer shows read-only with ACCEPT /
//! DECLINE for the receiver and CANCEL for the offerer; both see its state
//! change live, because the floor forwards every WebSocket `trade` event to
//! [`TradeWindow::on_trade`]. After an accept the player comes from the
//! server's answer; after the other side accepted, from a refresh.
//!
//! What an offer is made of, its checks, which trade to show after an event
//! and the words for it live in [`client::trade`]; this node is the spin
//! boxes, the buttons and the calls.

use client::net::{ApiError, Call};
use client::routes::{self, TradeAction};
use client::text::lobby as lobby_text;
use client::trade::{self, OfferField, Tone, TradeBook};
use game::api::{AcceptTradeResponse, Trade, TradeResponse};
use game::{Catalog, TradeBundle};
use godot::classes::{Button, Control, GridContainer, IControl, InputEvent, Label, SpinBox};
use godot::prelude::*;

use crate::app::backend_client::BackendClient;
use crate::app::game_state::GameState;
use crate::theme::palette;

struct Row {
    field: OfferField,
    spin: Gd<SpinBox>,
    held: Option<Gd<Label>>,
}

/// The trade window. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct TradeWindow {
    /// Width of the name column, px.
    #[export(range = (80.0, 400.0, 1.0))]
    #[init(val = 190.0)]
    name_column: f32,
    /// Width of the amount pickers, px.
    #[export(range = (60.0, 300.0, 1.0))]
    #[init(val = 118.0)]
    spin_width: f32,
    /// Most credits the other side can be asked for in one offer.
    #[export(range = (100.0, 1000000000.0, 100.0))]
    #[init(val = 1_000_000.0)]
    max_credits_asked: f64,
    /// Most units of one debris kind the other side can be asked for.
    #[export(range = (1.0, 1000.0, 1.0))]
    #[init(val = 60.0)]
    max_items_asked: f64,
    #[init(node = "%TitleLabel")]
    title_label: OnReady<Gd<Label>>,
    #[init(node = "%StatusLabel")]
    status_label: OnReady<Gd<Label>>,
    #[init(node = "%SummaryLabel")]
    summary_label: OnReady<Gd<Label>>,
    #[init(node = "%GiveRows")]
    give_box: OnReady<Gd<GridContainer>>,
    #[init(node = "%WantRows")]
    want_box: OnReady<Gd<GridContainer>>,
    #[init(node = "%WantCaption")]
    want_caption: OnReady<Gd<Label>>,
    #[init(node = "%OfferButton")]
    offer_button: OnReady<Gd<Button>>,
    #[init(node = "%AcceptButton")]
    accept_button: OnReady<Gd<Button>>,
    #[init(node = "%DeclineButton")]
    decline_button: OnReady<Gd<Button>>,
    #[init(node = "%CancelButton")]
    cancel_button: OnReady<Gd<Button>>,
    #[init(node = "%NewOfferButton")]
    new_offer_button: OnReady<Gd<Button>>,
    #[init(node = "%CloseButton")]
    close_button: OnReady<Gd<Button>>,
    give_rows: Vec<Row>,
    want_rows: Vec<Row>,
    /// Who trades with whom, the trades seen, the one on show.
    book: TradeBook,
    busy: bool,
    base: Base<Control>,
}

#[godot_api]
impl IControl for TradeWindow {
    fn ready(&mut self) {
        let this = self.to_gd();
        self.offer_button
            .signals()
            .pressed()
            .connect_other(&this, Self::offer);
        self.accept_button
            .signals()
            .pressed()
            .connect_other(&this, Self::accept);
        self.decline_button
            .signals()
            .pressed()
            .connect_other(&this, Self::decline);
        self.cancel_button
            .signals()
            .pressed()
            .connect_other(&this, Self::cancel);
        self.new_offer_button
            .signals()
            .pressed()
            .connect_other(&this, Self::compose);
        self.close_button
            .signals()
            .pressed()
            .connect_other(&this, Self::close);
        if let Some(state) = GameState::autoload() {
            state
                .signals()
                .player_changed()
                .connect_other(&this, Self::refresh_held);
        }
        self.build_rows();
        self.base_mut().set_visible(false);
    }

    fn process(&mut self, _delta: f64) {
        // Polled rather than connected to `value_changed`: the amounts are
        // also set from inside this node's own methods.
        if self.base().is_visible() {
            self.update_summary();
        }
    }

    fn unhandled_input(&mut self, event: Gd<InputEvent>) {
        if self.base().is_visible() && event.is_action_pressed("pause") {
            self.close();
            if let Some(mut viewport) = self.base().get_viewport() {
                viewport.set_input_as_handled();
            }
        }
    }
}

#[godot_api]
impl TradeWindow {
    /// The window was closed.
    #[signal]
    pub fn closed();

    /// Opens the window for a trade between `me` and `partner` in room
    /// `lobby`: their open offer if there is one, else a blank offer.
    #[func]
    pub fn open_with(&mut self, me: GString, partner: GString, lobby: GString) {
        let open = self
            .book
            .open_with(&me.to_string(), &partner.to_string(), &lobby.to_string());
        match open {
            Some(trade) => self.show_trade(trade),
            None => self.compose(),
        }
        self.base_mut().set_visible(true);
    }

    #[func]
    pub fn close(&mut self) {
        if self.base().is_visible() {
            self.base_mut().set_visible(false);
            self.signals().closed().emit();
        }
    }

    #[func]
    pub fn is_open(&self) -> bool {
        self.base().is_visible()
    }

    /// Username of the other trader.
    #[func]
    pub fn partner(&self) -> GString {
        GString::from(self.book.partner())
    }

    /// Id of the offer on show ("" while composing).
    #[func]
    pub fn shown_trade_id(&self) -> GString {
        GString::from(self.book.shown().map_or("", |t| t.id.as_str()))
    }

    /// Status of the offer on show (`pending`, `completed`...; "" while composing).
    #[func]
    pub fn shown_status(&self) -> GString {
        let status = self.book.shown().map(|t| t.status);
        GString::from(status.map_or("", trade::status_id))
    }

    #[func]
    pub fn status_text(&self) -> GString {
        self.status_label.get_text()
    }

    #[func]
    pub fn summary_text(&self) -> GString {
        self.summary_label.get_text()
    }

    /// Sets an amount of the offer being composed: `side` "give" or "want",
    /// `field` "credits", a debris id or an upgrade id.
    #[func]
    pub fn set_amount(&mut self, side: GString, field: GString, amount: i64) -> bool {
        let field = OfferField::parse(&field.to_string());
        let rows = if side == "give" {
            &mut self.give_rows
        } else {
            &mut self.want_rows
        };
        match rows.iter_mut().find(|r| Some(&r.field) == field.as_ref()) {
            Some(row) => {
                row.spin.set_value(amount as f64);
                self.update_summary();
                true
            }
            None => false,
        }
    }

    /// Which buttons are on show, e.g. `["accept", "decline", "close"]`.
    #[func]
    pub fn visible_actions(&self) -> PackedStringArray {
        let mut out = PackedStringArray::new();
        for (name, button) in [
            ("offer", &self.offer_button),
            ("accept", &self.accept_button),
            ("decline", &self.decline_button),
            ("cancel", &self.cancel_button),
            ("new_offer", &self.new_offer_button),
            ("close", &self.close_button),
        ] {
            if button.is_visible() {
                out.push(name);
            }
        }
        out
    }

    /// Blank offer to the current partner.
    #[func]
    pub fn compose(&mut self) {
        self.book.compose();
        for row in self.give_rows.iter_mut().chain(self.want_rows.iter_mut()) {
            row.spin.set_value(0.0);
            row.spin.set_editable(true);
        }
        self.refresh_held();
        self.update_view();
        self.set_status(
            "SET WHAT CHANGES HANDS, THEN OFFER. BOTH HOLDS ARE CHECKED AGAIN AT ACCEPTANCE.",
            palette::AMBER_DIM,
        );
    }

    /// Sends the offer being composed.
    #[func]
    pub fn offer(&mut self) {
        if self.busy || self.book.shown().is_some() {
            return;
        }
        let own = GameState::autoload().map(|state| state.bind().economy_state());
        let request = match trade::check_offer(
            self.book.partner(),
            bundle_of(&self.give_rows),
            bundle_of(&self.want_rows),
            own.as_ref(),
        ) {
            Ok(request) => request,
            Err(text) => {
                self.set_status(&text, palette::DANGER);
                return;
            }
        };
        let call = routes::offer_trade(self.book.lobby(), &request);
        self.set_status("SENDING THE OFFER...", palette::AMBER_DIM);
        let mut this = self.to_gd();
        self.request::<Trade>(call, move |result| {
            let mut window = this.bind_mut();
            match result {
                Ok(trade) => {
                    window.book.remember(trade.clone());
                    window.show_trade(trade);
                }
                Err(e) => window.show_error(&e, Some(true)),
            }
        });
    }

    /// Accepts the offer on show (the receiver only; the server decides).
    #[func]
    pub fn accept(&mut self) {
        let Some(trade) = self.book.shown().cloned() else {
            return;
        };
        if self.busy {
            return;
        }
        // My side of the offer is what the offerer wants.
        let own = GameState::autoload().map(|state| state.bind().economy_state());
        if let Err(text) = trade::check_accept(&trade, own.as_ref()) {
            self.set_status(&text, palette::DANGER);
            return;
        }
        let call = routes::trade_action(&trade.id, TradeAction::Accept);
        self.set_status("ACCEPTING...", palette::AMBER_DIM);
        let mut this = self.to_gd();
        self.request::<AcceptTradeResponse>(call, move |result| {
            let mut window = this.bind_mut();
            match result {
                Ok(answer) => {
                    if let Some(mut state) = GameState::autoload() {
                        state.bind_mut().accept_server_player(answer.player);
                    }
                    window.book.remember(answer.trade.clone());
                    window.show_trade(answer.trade);
                }
                Err(e) => window.show_error(&e, Some(false)),
            }
        });
    }

    /// Declines the offer on show (receiver).
    #[func]
    pub fn decline(&mut self) {
        self.finish(TradeAction::Decline, Some(false));
    }

    /// Withdraws the offer on show (offerer).
    #[func]
    pub fn cancel(&mut self) {
        self.finish(TradeAction::Cancel, Some(true));
    }
}

/// Fixtures for the in-engine tests and the screenshot tool (feature `itest`).
#[cfg(feature = "itest")]
#[godot_api(secondary)]
impl TradeWindow {
    /// A trade as JSON (fixtures, tests): as if the server had pushed it.
    #[func]
    pub fn apply_trade_json(&mut self, json: GString) -> bool {
        match serde_json::from_str::<Trade>(&json.to_string()) {
            Ok(trade) => {
                self.on_trade(trade);
                true
            }
            Err(e) => {
                godot_error!("TradeWindow: bad trade fixture: {e}");
                false
            }
        }
    }
}

impl TradeWindow {
    /// Sets who the player is (the floor does, when it enters a room).
    pub fn set_identity(&mut self, me: &str, lobby: &str) {
        self.book.set_identity(me, lobby);
    }

    /// A trade event (WebSocket or answer): shows it when it is the one on
    /// show or a new offer to the player; refreshes the player after a trade
    /// the other side completed.
    pub fn on_trade(&mut self, trade: Trade) {
        let visible = self.base().is_visible();
        let outcome = self.book.on_trade(&trade, visible);
        if outcome.refresh_player
            && let Some(mut state) = GameState::autoload()
        {
            state.bind_mut().refresh_player();
        }
        if outcome.show {
            self.show_trade(trade);
            self.base_mut().set_visible(true);
        }
    }

    fn show_trade(&mut self, trade: Trade) {
        let i_offer = trade.from == self.book.me();
        let (mine, theirs) = if i_offer {
            (&trade.give, &trade.want)
        } else {
            (&trade.want, &trade.give)
        };
        fill_rows(&mut self.give_rows, mine);
        fill_rows(&mut self.want_rows, theirs);
        for row in self.give_rows.iter_mut().chain(self.want_rows.iter_mut()) {
            row.spin.set_editable(false);
        }
        let (text, tone) = trade::status_line(&trade, self.book.me(), self.book.partner());
        self.book.show(trade);
        self.update_view();
        self.set_status(&text, tone_colour(tone));
    }

    fn update_view(&mut self) {
        let title = format!("TRADE // {}", self.book.partner());
        self.title_label.set_text(title.as_str());
        let caption = format!("YOU GET FROM {}", self.book.partner());
        self.want_caption.set_text(caption.as_str());
        let actions = trade::actions(self.book.shown(), self.book.me());
        self.offer_button.set_visible(actions.offer);
        self.accept_button.set_visible(actions.accept);
        self.decline_button.set_visible(actions.decline);
        self.cancel_button.set_visible(actions.cancel);
        self.new_offer_button.set_visible(actions.new_offer);
        let busy = self.busy;
        for button in [
            &mut self.offer_button,
            &mut self.accept_button,
            &mut self.decline_button,
            &mut self.cancel_button,
        ] {
            button.set_disabled(busy);
        }
        self.update_summary();
    }

    fn update_summary(&mut self) {
        let text = trade::summary(&bundle_of(&self.give_rows), &bundle_of(&self.want_rows));
        if self.summary_label.get_text() != text.as_str() {
            self.summary_label.set_text(text.as_str());
        }
    }

    fn finish(&mut self, action: TradeAction, i_am_offerer: Option<bool>) {
        let Some(trade) = self.book.shown().cloned() else {
            return;
        };
        if self.busy {
            return;
        }
        let call = routes::trade_action(&trade.id, action);
        let mut this = self.to_gd();
        self.request::<TradeResponse>(call, move |result| {
            let mut window = this.bind_mut();
            match result {
                Ok(answer) => {
                    window.book.remember(answer.trade.clone());
                    window.show_trade(answer.trade);
                }
                Err(e) => window.show_error(&e, i_am_offerer),
            }
        });
    }

    fn request<T: serde::de::DeserializeOwned + 'static>(
        &mut self,
        call: Call,
        done: impl FnOnce(Result<T, ApiError>) + 'static,
    ) {
        let Some(mut client) = BackendClient::autoload() else {
            self.set_status("NO STATION LINK IN THIS SCENE.", palette::DANGER);
            return;
        };
        self.busy = true;
        self.update_view();
        let mut this = self.to_gd();
        client.bind_mut().send_json::<T>(call, move |result| {
            // The window may be gone (scene left) before the answer came.
            if !this.is_instance_valid() {
                return;
            }
            {
                let mut window = this.bind_mut();
                window.busy = false;
                window.update_view();
            }
            done(result);
        });
    }

    fn show_error(&mut self, error: &ApiError, i_am_offerer: Option<bool>) {
        let text = lobby_text::explain(&error.code, &error.message, i_am_offerer);
        let line = format!("REFUSED: {text}");
        self.set_status(&line, palette::DANGER);
    }

    fn set_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.status_label, text, colour);
    }

    fn build_rows(&mut self) {
        let catalog = Catalog::shipped();
        let fields = OfferField::all(catalog);
        let (name_width, spin_width) = (self.name_column, self.spin_width);
        for mine in [true, false] {
            let mut grid = if mine {
                self.give_box.clone()
            } else {
                self.want_box.clone()
            };
            grid.set_columns(3);
            let mut rows = Vec::new();
            for (field, name) in &fields {
                let mut label = Label::new_alloc();
                label.set_text(name.as_str());
                label.set_custom_minimum_size(Vector2::new(name_width, 0.0));
                grid.add_child(&label);
                let mut held = Label::new_alloc();
                held.set_custom_minimum_size(Vector2::new(64.0, 0.0));
                held.add_theme_color_override("font_color", palette::AMBER_DIM);
                grid.add_child(&held);
                let mut spin = SpinBox::new_alloc();
                spin.set_custom_minimum_size(Vector2::new(spin_width, 0.0));
                spin.set_step(1.0);
                spin.set_min(0.0);
                spin.set_max(match field {
                    OfferField::Credits => self.max_credits_asked,
                    OfferField::Item(_) => self.max_items_asked,
                    OfferField::Upgrade(id) => f64::from(catalog.upgrade(*id).max_level()),
                });
                grid.add_child(&spin);
                rows.push(Row {
                    field: field.clone(),
                    spin,
                    held: mine.then_some(held),
                });
            }
            if mine {
                self.give_rows = rows;
            } else {
                self.want_rows = rows;
            }
        }
        self.refresh_held();
    }

    /// "has N" next to each of the player's own rows; caps what can be given.
    fn refresh_held(&mut self) {
        let Some(state) = GameState::autoload() else {
            return;
        };
        let own = state.bind().economy_state();
        let composing = self.book.shown().is_none();
        for row in &mut self.give_rows {
            let have = row.field.held_by(&own);
            if let Some(label) = &mut row.held {
                let text = format!("/{have}");
                label.set_text(text.as_str());
            }
            if composing {
                row.spin.set_max(have as f64);
            }
        }
    }
}

fn bundle_of(rows: &[Row]) -> TradeBundle {
    trade::bundle_from(rows.iter().map(|r| (&r.field, r.spin.get_value())))
}

fn fill_rows(rows: &mut [Row], bundle: &TradeBundle) {
    for row in rows {
        let value = row.field.amount_in(bundle);
        let max = row.spin.get_max().max(value as f64);
        row.spin.set_max(max);
        row.spin.set_value(value as f64);
    }
}

fn tone_colour(tone: Tone) -> Color {
    match tone {
        Tone::Attention => palette::AMBER,
        Tone::Good => palette::OK,
        Tone::Warning => palette::WARN,
    }
}
