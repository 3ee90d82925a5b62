//! `InventoryPanel` (`scenes/hub/inventory_panel.tscn`): what is in the hold and
//! what it is worth, and the ship's upgrades. Toggled with the `inventory`
//! action (Tab / I).

use game::{Catalog, PlayerState, UpgradeId};
use godot::classes::{Control, IControl, InputEvent, Label, VBoxContainer};
use godot::prelude::*;

use crate::app::game_state::GameState;
use crate::theme::palette;
use client::text::upgrade as upgrade_text;

/// The inventory overlay. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct InventoryPanel {
    /// Whether the `inventory` action toggles the panel (off while docked).
    #[export]
    #[init(val = true)]
    toggle_enabled: bool,
    #[init(node = "%ItemRows")]
    item_rows: OnReady<Gd<VBoxContainer>>,
    #[init(node = "%HoldLabel")]
    hold_label: OnReady<Gd<Label>>,
    #[init(node = "%ValueLabel")]
    value_label: OnReady<Gd<Label>>,
    #[init(node = "%UpgradeRows")]
    upgrade_rows: OnReady<Gd<VBoxContainer>>,
    base: Base<Control>,
}

#[godot_api]
impl IControl for InventoryPanel {
    fn ready(&mut self) {
        let this = self.to_gd();
        if let Some(state) = GameState::autoload() {
            state
                .signals()
                .player_changed()
                .connect_other(&this, Self::refresh);
        }
        self.base_mut().set_visible(false);
        self.refresh();
    }

    fn unhandled_input(&mut self, event: Gd<InputEvent>) {
        if self.toggle_enabled && event.is_action_pressed("inventory") {
            self.toggle();
            if let Some(mut viewport) = self.base().get_viewport() {
                viewport.set_input_as_handled();
            }
        } else if self.base().is_visible() && event.is_action_pressed("pause") {
            self.base_mut().set_visible(false);
            if let Some(mut viewport) = self.base().get_viewport() {
                viewport.set_input_as_handled();
            }
        }
    }
}

#[godot_api]
impl InventoryPanel {
    /// Shows or hides the panel.
    #[func]
    pub fn toggle(&mut self) {
        let visible = !self.base().is_visible();
        if visible {
            self.refresh();
        }
        self.base_mut().set_visible(visible);
    }

    /// Item rows shown (kinds held).
    #[func]
    pub fn item_row_count(&self) -> i32 {
        self.item_rows.get_child_count()
    }

    /// Re-reads the hold and upgrades.
    #[func]
    pub fn refresh(&mut self) {
        let Some(state) = GameState::autoload() else {
            return;
        };
        let (inventory, used, capacity, levels) = {
            let s = state.bind();
            (
                s.inventory(),
                s.hold_used(),
                s.hold_capacity(),
                s.upgrades(),
            )
        };
        let catalog = Catalog::shipped();
        for mut child in self.item_rows.get_children().iter_shared() {
            self.item_rows.remove_child(&child);
            child.queue_free();
        }
        let mut total = 0_u64;
        for kind in catalog.debris_kinds() {
            let count = inventory.get(&kind.id).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            // What the hub would pay: the rules' sale price, percent included.
            let line = PlayerState::sale_value(catalog, &kind.id, count).unwrap_or(0);
            total += line;
            let mut label = Label::new_alloc();
            label.set_text(&format!(
                "{:<18} x{:>3}  {:>7} CR",
                kind.name.to_uppercase(),
                count,
                palette::group_digits(line)
            ));
            label.add_theme_color_override("font_color", palette::from_hex(&kind.colour));
            self.item_rows.add_child(&label);
        }
        if total == 0 {
            let mut label = Label::new_alloc();
            label.set_text("HOLD EMPTY");
            label.add_theme_color_override("font_color", palette::MUTED);
            self.item_rows.add_child(&label);
        }
        self.hold_label.set_text(&format!("HOLD {used}/{capacity}"));
        self.hold_label
            .add_theme_color_override("font_color", crate::zone::hud::hold_colour(used, capacity));
        self.value_label.set_text(&format!(
            "DECLARED VALUE {} CR",
            palette::group_digits(total)
        ));
        for mut child in self.upgrade_rows.get_children().iter_shared() {
            self.upgrade_rows.remove_child(&child);
            child.queue_free();
        }
        for id in UpgradeId::ALL {
            let info = catalog.upgrade(id);
            let level = levels.get(id);
            let mut label = Label::new_alloc();
            label.set_text(&format!(
                "{:<21} LV {}/{}  {}",
                info.name.to_uppercase(),
                level,
                info.max_level(),
                if level > 0 {
                    upgrade_text::effect_at(catalog, id, level)
                } else {
                    "not fitted".to_owned()
                }
            ));
            label.set_autowrap_mode(godot::classes::text_server::AutowrapMode::WORD_SMART);
            if level == 0 {
                label.add_theme_color_override("font_color", palette::MUTED);
            }
            self.upgrade_rows.add_child(&label);
        }
    }
}

impl InventoryPanel {
    pub fn enable_toggle(&mut self, enabled: bool) {
        self.toggle_enabled = enabled;
    }
}
