//! `HubPanel` (`scenes/hub/hub_panel.tscn`): the trading hub's counter.
//!
//! SELL: one row per debris kind held, with a quantity picker and the line
//! value, "sell selected", "sell all" and the running total. UPGRADES: each
//! upgrade with its level, next cost and next effect, greyed when maxed or
//! unaffordable; buying asks for confirmation showing the cost and the new
//! effect. NAVIGATION: the zone select and the way to the trading lobby. Every request goes through
//! `GameState`; credits update from the server's answer.

use game::api::codes;
use game::{Catalog, ItemCount, PlayerState, UpgradeId};
use godot::classes::control::SizeFlags;
use godot::classes::{
    Button, Control, HBoxContainer, IControl, InputEvent, Label, SpinBox, TabContainer,
    VBoxContainer,
};
use godot::prelude::*;

use crate::app::game_state::GameState;
use crate::hub::zone_select::ZoneSelect;
use crate::theme::palette;
use client::text::upgrade as upgrade_text;

struct SellRow {
    kind: String,
    spin: Gd<SpinBox>,
    line: Gd<Label>,
}

struct UpgradeRow {
    id: UpgradeId,
    row: Gd<HBoxContainer>,
    buy: Gd<Button>,
}

/// The hub panel. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct HubPanel {
    /// Width of the item name column, px.
    #[export(range = (80.0, 600.0, 1.0))]
    #[init(val = 250.0)]
    name_column: f32,
    /// Opacity of rows that cannot be bought.
    #[export(range = (0.1, 1.0, 0.05))]
    #[init(val = 0.45)]
    greyed_alpha: f32,
    #[init(node = "%TitleLabel")]
    title_label: OnReady<Gd<Label>>,
    #[init(node = "%CreditsLabel")]
    credits_label: OnReady<Gd<Label>>,
    #[init(node = "%CloseButton")]
    close_button: OnReady<Gd<Button>>,
    #[init(node = "%Tabs")]
    tabs: OnReady<Gd<TabContainer>>,
    #[init(node = "%SellRows")]
    sell_rows_box: OnReady<Gd<VBoxContainer>>,
    #[init(node = "%TotalLabel")]
    total_label: OnReady<Gd<Label>>,
    #[init(node = "%SellSelectedButton")]
    sell_selected_button: OnReady<Gd<Button>>,
    #[init(node = "%SellAllButton")]
    sell_all_button: OnReady<Gd<Button>>,
    #[init(node = "%UpgradeRows")]
    upgrade_rows_box: OnReady<Gd<VBoxContainer>>,
    #[init(node = "%ZoneSelect")]
    zone_select: OnReady<Gd<ZoneSelect>>,
    #[init(node = "%LobbyButton")]
    lobby_button: OnReady<Gd<Button>>,
    #[init(node = "%StatusLabel")]
    status_label: OnReady<Gd<Label>>,
    #[init(node = "%Confirm")]
    confirm: OnReady<Gd<Control>>,
    #[init(node = "%ConfirmTitle")]
    confirm_title: OnReady<Gd<Label>>,
    #[init(node = "%ConfirmText")]
    confirm_text: OnReady<Gd<Label>>,
    #[init(node = "%ConfirmButton")]
    confirm_button: OnReady<Gd<Button>>,
    #[init(node = "%CancelButton")]
    cancel_button: OnReady<Gd<Button>>,
    sell_rows: Vec<SellRow>,
    upgrade_rows: Vec<UpgradeRow>,
    confirming: Option<UpgradeId>,
    busy: bool,
    base: Base<Control>,
}

#[godot_api]
impl IControl for HubPanel {
    fn ready(&mut self) {
        let this = self.to_gd();
        self.close_button
            .signals()
            .pressed()
            .connect_other(&this, Self::close);
        self.sell_all_button
            .signals()
            .pressed()
            .connect_other(&this, Self::on_sell_all);
        self.sell_selected_button
            .signals()
            .pressed()
            .connect_other(&this, Self::on_sell_selected);
        self.confirm_button
            .signals()
            .pressed()
            .connect_other(&this, Self::on_confirm);
        self.cancel_button
            .signals()
            .pressed()
            .connect_other(&this, Self::hide_confirm);
        self.lobby_button
            .signals()
            .pressed()
            .connect_other(&this, |s| {
                s.close();
                s.signals().lobby_requested().emit();
            });
        self.zone_select
            .signals()
            .zone_chosen()
            .connect_other(&this, |s, zone| {
                s.close();
                s.signals().travel_requested().emit(zone);
            });
        if let Some(state) = GameState::autoload() {
            state
                .signals()
                .player_changed()
                .connect_other(&this, Self::on_player_changed);
            state
                .signals()
                .sale_finished()
                .connect_other(&this, Self::on_sale_finished);
            state
                .signals()
                .purchase_finished()
                .connect_other(&this, Self::on_purchase_finished);
        }
        self.build_upgrade_rows();
        self.confirm.set_visible(false);
        self.base_mut().set_visible(false);
    }

    fn unhandled_input(&mut self, event: Gd<InputEvent>) {
        if !self.base().is_visible() {
            return;
        }
        if event.is_action_pressed("pause") || event.is_action_pressed("interact") {
            if self.confirm.is_visible() {
                self.hide_confirm();
            } else {
                self.close();
            }
            if let Some(mut viewport) = self.base().get_viewport() {
                viewport.set_input_as_handled();
            }
        }
    }
}

#[godot_api]
impl HubPanel {
    /// The panel closed (the ship may fly again).
    #[signal]
    pub fn closed();
    /// The player picked a zone to jump to.
    #[signal]
    pub fn travel_requested(zone: i64);
    /// The player asked for the trading lobby.
    #[signal]
    pub fn lobby_requested();

    /// Opens the panel for hub `hub_name` on the SELL tab.
    #[func]
    pub fn open(&mut self, hub_name: GString) {
        self.title_label.set_text(&format!(
            "{} · TRADING HUB",
            hub_name.to_string().to_uppercase()
        ));
        self.set_status("", palette::CYAN_DIM);
        self.hide_confirm();
        self.rebuild();
        self.tabs.set_current_tab(0);
        self.base_mut().set_visible(true);
        self.sell_all_button.grab_focus();
    }

    /// Closes the panel.
    #[func]
    pub fn close(&mut self) {
        if !self.base().is_visible() {
            return;
        }
        self.hide_confirm();
        self.base_mut().set_visible(false);
        self.signals().closed().emit();
    }

    #[func]
    pub fn is_open(&self) -> bool {
        self.base().is_visible()
    }

    /// Shows tab 0 (sell), 1 (upgrades) or 2 (navigation).
    #[func]
    pub fn show_tab(&mut self, index: i32) {
        self.tabs.set_current_tab(index);
    }

    /// Sets the quantity picker of `kind` (for tests and fixtures).
    #[func]
    pub fn set_sell_quantity(&mut self, kind: GString, count: i64) {
        let kind = kind.to_string();
        if let Some(row) = self.sell_rows.iter_mut().find(|r| r.kind == kind) {
            row.spin.set_value_no_signal(count as f64);
        }
        self.update_total();
    }

    /// The running total line.
    #[func]
    pub fn total_text(&self) -> GString {
        self.total_label.get_text()
    }

    #[func]
    pub fn status_text(&self) -> GString {
        self.status_label.get_text()
    }

    /// Sell rows shown.
    #[func]
    pub fn sell_row_count(&self) -> i32 {
        self.sell_rows.len() as i32
    }

    /// The BUY button of upgrade `id`, for tests to press.
    #[func]
    pub fn buy_button(&self, id: GString) -> Option<Gd<Button>> {
        let id = id.to_string().parse::<UpgradeId>().ok()?;
        self.upgrade_rows
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.buy.clone())
    }

    /// Whether the confirm dialog is up.
    #[func]
    pub fn confirm_visible(&self) -> bool {
        self.confirm.is_visible()
    }

    /// The confirm dialog's body text.
    #[func]
    pub fn confirm_body(&self) -> GString {
        self.confirm_text.get_text()
    }

    /// Opens the confirm dialog for upgrade `id` (what BUY does).
    #[func]
    pub fn ask_purchase(&mut self, id: GString) {
        if let Ok(id) = id.to_string().parse::<UpgradeId>() {
            self.ask(id);
        }
    }
}

impl HubPanel {
    fn catalog(&self) -> &'static Catalog {
        Catalog::shipped()
    }

    fn set_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.status_label, text, colour);
    }

    fn on_player_changed(&mut self) {
        if self.base().is_visible() && !self.confirm.is_visible() {
            self.rebuild();
        }
    }

    fn rebuild(&mut self) {
        self.rebuild_sell_rows();
        self.refresh_upgrade_rows();
        let credits = GameState::autoload().map_or(0, |s| s.bind().credits().max(0) as u64);
        self.credits_label
            .set_text(&format!("CR {}", palette::group_digits(credits)));
    }

    fn rebuild_sell_rows(&mut self) {
        self.sell_rows.clear();
        for mut child in self.sell_rows_box.get_children().iter_shared() {
            self.sell_rows_box.remove_child(&child);
            child.queue_free();
        }
        let inventory = GameState::autoload()
            .map(|s| s.bind().inventory())
            .unwrap_or_default();
        let this = self.to_gd();
        let catalog = self.catalog();
        for kind in catalog.debris_kinds() {
            let count = inventory.get(&kind.id).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let mut row = HBoxContainer::new_alloc();
            row.add_theme_constant_override("separation", 16);
            let mut swatch = Label::new_alloc();
            swatch.set_text("■");
            swatch.add_theme_color_override("font_color", palette::from_hex(&kind.colour));
            row.add_child(&swatch);
            let mut name = Label::new_alloc();
            name.set_text(&kind.name.to_uppercase());
            name.set_custom_minimum_size(Vector2::new(self.name_column, 0.0));
            row.add_child(&name);
            let mut held = Label::new_alloc();
            held.set_text(&format!("HELD {count:>3}"));
            held.set_custom_minimum_size(Vector2::new(110.0, 0.0));
            row.add_child(&held);
            let mut unit = Label::new_alloc();
            let unit_price = PlayerState::sale_value(catalog, &kind.id, 1).unwrap_or(0);
            unit.set_text(&format!("@ {unit_price:>5} CR"));
            unit.set_custom_minimum_size(Vector2::new(120.0, 0.0));
            row.add_child(&unit);
            let mut spin = SpinBox::new_alloc();
            spin.set_name(&format!("Qty_{}", kind.id));
            spin.set_min(0.0);
            spin.set_max(f64::from(count));
            spin.set_step(1.0);
            spin.set_value(f64::from(count));
            spin.set_custom_minimum_size(Vector2::new(110.0, 0.0));
            spin.signals()
                .value_changed()
                .connect_other(&this, |s, _| s.update_total());
            row.add_child(&spin);
            let mut line = Label::new_alloc();
            line.set_h_size_flags(SizeFlags::EXPAND_FILL);
            line.set_horizontal_alignment(godot::global::HorizontalAlignment::RIGHT);
            row.add_child(&line);
            self.sell_rows_box.add_child(&row);
            self.sell_rows.push(SellRow {
                kind: kind.id.clone(),
                spin,
                line,
            });
        }
        if self.sell_rows.is_empty() {
            let mut empty = Label::new_alloc();
            empty.set_text("THE HOLD IS EMPTY. NOTHING TO DECLARE.");
            empty.add_theme_color_override("font_color", palette::MUTED);
            self.sell_rows_box.add_child(&empty);
        }
        self.update_total();
    }

    fn selected(&self) -> Vec<(String, i64)> {
        self.sell_rows
            .iter()
            .map(|r| (r.kind.clone(), r.spin.get_value().round() as i64))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    fn update_total(&mut self) {
        let catalog = self.catalog();
        // The price the hub pays: the rules' own function, as the server's.
        let price = |kind: &str, n: f64| {
            let n = n.round().clamp(0.0, f64::from(ItemCount::MAX)) as ItemCount;
            PlayerState::sale_value(catalog, kind, n).unwrap_or(0)
        };
        let mut total = 0_u64;
        let mut all = 0_u64;
        for row in &mut self.sell_rows {
            let line = price(&row.kind, row.spin.get_value());
            total += line;
            all += price(&row.kind, row.spin.get_max());
            row.line
                .set_text(&format!("= {:>7} CR", palette::group_digits(line)));
        }
        self.total_label.set_text(&format!(
            "SELECTED {} CR   ·   ALL {} CR",
            palette::group_digits(total),
            palette::group_digits(all)
        ));
        let busy = self.busy;
        self.sell_selected_button.set_disabled(busy || total == 0);
        self.sell_all_button
            .set_disabled(busy || self.sell_rows.is_empty());
    }

    fn on_sell_all(&mut self) {
        let Some(mut state) = GameState::autoload() else {
            return;
        };
        self.busy = true;
        self.update_total();
        self.set_status("Filing sale of the entire hold...", palette::CYAN_DIM);
        state.bind_mut().sell_all();
    }

    fn on_sell_selected(&mut self) {
        let Some(mut state) = GameState::autoload() else {
            return;
        };
        let mut items = VarDictionary::new();
        for (kind, n) in self.selected() {
            items.set(&kind.to_variant(), &n.to_variant());
        }
        self.busy = true;
        self.update_total();
        self.set_status("Filing sale...", palette::CYAN_DIM);
        state.bind_mut().sell_items(items);
    }

    fn on_sale_finished(&mut self, ok: bool, credits_gained: i64, code: GString, message: GString) {
        self.busy = false;
        if ok && code == codes::QUEUED {
            self.set_status(
                "Sale recorded. The station link is down: it is queued and will be filed when the link returns.",
                palette::WARN,
            );
        } else if ok {
            self.set_status(
                &format!(
                    "Sold. {} CR credited.",
                    palette::group_digits(credits_gained.max(0) as u64)
                ),
                palette::OK,
            );
        } else {
            let text =
                client::text::auth::explain_error(&code.to_string(), &message.to_string(), None);
            self.set_status(&text, palette::DANGER);
        }
        self.rebuild();
    }

    fn build_upgrade_rows(&mut self) {
        let this = self.to_gd();
        for id in UpgradeId::ALL {
            let mut row = HBoxContainer::new_alloc();
            row.set_name(id.as_str());
            row.add_theme_constant_override("separation", 16);
            for (name, width) in [("Name", self.name_column), ("Level", 90.0), ("Cost", 120.0)] {
                let mut label = Label::new_alloc();
                label.set_name(name);
                label.set_custom_minimum_size(Vector2::new(width, 0.0));
                row.add_child(&label);
            }
            let mut effect = Label::new_alloc();
            effect.set_name("Effect");
            effect.set_h_size_flags(SizeFlags::EXPAND_FILL);
            effect.set_autowrap_mode(godot::classes::text_server::AutowrapMode::WORD_SMART);
            effect.set_custom_minimum_size(Vector2::new(200.0, 0.0));
            row.add_child(&effect);
            let mut buy = Button::new_alloc();
            buy.set_name("Buy");
            buy.set_text("BUY");
            buy.set_custom_minimum_size(Vector2::new(90.0, 0.0));
            buy.signals()
                .pressed()
                .connect_other(&this, move |s| s.ask(id));
            row.add_child(&buy);
            self.upgrade_rows_box.add_child(&row);
            self.upgrade_rows.push(UpgradeRow { id, row, buy });
        }
    }

    fn refresh_upgrade_rows(&mut self) {
        let catalog = self.catalog();
        let (levels, credits) = GameState::autoload()
            .map(|s| {
                let s = s.bind();
                (s.upgrades(), s.credits().max(0) as u64)
            })
            .unwrap_or_default();
        let busy = self.busy;
        let greyed = self.greyed_alpha;
        for row in &mut self.upgrade_rows {
            let info = catalog.upgrade(row.id);
            let level = levels.get(row.id);
            let next = info.next_cost(level);
            let label = |row: &Gd<HBoxContainer>, name: &str| row.get_node_as::<Label>(name);
            label(&row.row, "Name").set_text(&info.name.to_uppercase());
            label(&row.row, "Level").set_text(&format!("LV {level}/{}", info.max_level()));
            let (cost_text, effect_text, can_buy) = match next {
                Some(cost) => (
                    format!("{} CR", palette::group_digits(cost)),
                    format!(
                        "NEXT: {}",
                        upgrade_text::effect_at(catalog, row.id, level + 1)
                    ),
                    cost <= credits,
                ),
                None => (
                    "MAX".to_owned(),
                    format!("NOW: {}", upgrade_text::effect_at(catalog, row.id, level)),
                    false,
                ),
            };
            label(&row.row, "Cost").set_text(&cost_text);
            label(&row.row, "Effect").set_text(&effect_text);
            row.buy.set_disabled(!can_buy || busy);
            row.buy
                .set_text(if next.is_none() { "MAXED" } else { "BUY" });
            let alpha = if can_buy { 1.0 } else { greyed };
            row.row.set_modulate(Color::from_rgba(1.0, 1.0, 1.0, alpha));
        }
    }

    fn ask(&mut self, id: UpgradeId) {
        let catalog = self.catalog();
        let (levels, credits) = GameState::autoload()
            .map(|s| {
                let s = s.bind();
                (s.upgrades(), s.credits().max(0) as u64)
            })
            .unwrap_or_default();
        let info = catalog.upgrade(id);
        let level = levels.get(id);
        let Some(cost) = info.next_cost(level) else {
            self.set_status(
                &format!("{} is at its maximum level.", info.name),
                palette::WARN,
            );
            return;
        };
        self.confirming = Some(id);
        self.confirm_title.set_text(&format!(
            "PURCHASE {} LEVEL {}",
            info.name.to_uppercase(),
            level + 1
        ));
        self.confirm_text.set_text(&format!(
            "Cost: {} CR (balance {} CR, after {} CR)\nNow: {}\nNew: {}",
            palette::group_digits(cost),
            palette::group_digits(credits),
            palette::group_digits(credits.saturating_sub(cost)),
            upgrade_text::effect_at(catalog, id, level),
            upgrade_text::effect_at(catalog, id, level + 1),
        ));
        self.confirm_button.set_disabled(cost > credits);
        self.confirm.set_visible(true);
        self.confirm_button.grab_focus();
    }

    fn hide_confirm(&mut self) {
        self.confirming = None;
        self.confirm.set_visible(false);
    }

    fn on_confirm(&mut self) {
        let Some(id) = self.confirming.take() else {
            return;
        };
        self.confirm.set_visible(false);
        let Some(mut state) = GameState::autoload() else {
            return;
        };
        self.busy = true;
        self.refresh_upgrade_rows();
        self.set_status("Filing purchase order...", palette::CYAN_DIM);
        state.bind_mut().purchase_upgrade(id.as_str().into());
    }

    fn on_purchase_finished(
        &mut self,
        upgrade: GString,
        ok: bool,
        level: i64,
        code: GString,
        message: GString,
    ) {
        self.busy = false;
        let name = upgrade
            .to_string()
            .parse::<UpgradeId>()
            .map(|id| self.catalog().upgrade(id).name.to_owned())
            .unwrap_or_else(|_| upgrade.to_string());
        if ok && code == codes::QUEUED {
            self.set_status(
                &format!(
                    "{name} level {level} ordered. The station link is down: the order is queued and will be filed when it returns."
                ),
                palette::WARN,
            );
        } else if ok {
            self.set_status(&format!("{name} level {level} installed."), palette::OK);
        } else {
            let text =
                client::text::auth::explain_error(&code.to_string(), &message.to_string(), None);
            self.set_status(&text, palette::DANGER);
        }
        self.rebuild();
    }
}
