//! `ZoneSelect` (`scenes/hub/zone_select.tscn`): the zones of the catalog, each
//! open (with a JUMP button) or locked with what it needs.

use game::Catalog;
use godot::classes::control::SizeFlags;
use godot::classes::{Button, HBoxContainer, IVBoxContainer, Label, VBoxContainer};
use godot::prelude::*;

use crate::app::game_state::GameState;
use crate::theme::palette;
use client::text::upgrade as upgrade_text;

/// List of zones. Rebuilt whenever the player changes.
#[derive(GodotClass)]
#[class(base = VBoxContainer, init)]
pub struct ZoneSelect {
    /// Width of the zone name column, px.
    #[export(range = (80.0, 600.0, 1.0))]
    #[init(val = 300.0)]
    name_column: f32,
    jump_buttons: Vec<(u8, Gd<Button>)>,
    base: Base<VBoxContainer>,
}

#[godot_api]
impl IVBoxContainer for ZoneSelect {
    fn ready(&mut self) {
        let this = self.to_gd();
        if let Some(state) = GameState::autoload() {
            state
                .signals()
                .player_changed()
                .connect_other(&this, Self::rebuild);
        }
        self.rebuild();
    }
}

#[godot_api]
impl ZoneSelect {
    /// The player picked zone `zone` (open, not the current one).
    #[signal]
    pub fn zone_chosen(zone: i64);

    /// Rebuilds the rows from the catalog and the player's clearance.
    #[func]
    pub fn rebuild(&mut self) {
        for mut child in self.base().get_children().iter_shared() {
            self.base_mut().remove_child(&child);
            child.queue_free();
        }
        self.jump_buttons.clear();
        let (access, current) = GameState::autoload()
            .map(|s| {
                let s = s.bind();
                (s.zone_access(), i64::from(s.current_zone()))
            })
            .unwrap_or((1, 1));
        let this = self.to_gd();
        let catalog = Catalog::shipped();
        let mut header = Label::new_alloc();
        header.set_text("JUMP AUTHORISATIONS ON FILE");
        header.add_theme_color_override("font_color", palette::CYAN_DIM);
        self.base_mut().add_child(&header);
        for zone in catalog.zones() {
            let open = i64::from(zone.id) <= access;
            let is_current = i64::from(zone.id) == current;
            let mut row = HBoxContainer::new_alloc();
            row.set_name(&format!("Zone{}", zone.id));
            row.add_theme_constant_override("separation", 16);
            let mut name = Label::new_alloc();
            name.set_text(&format!("{}  {}", zone.id, zone.name.to_uppercase()));
            name.set_custom_minimum_size(Vector2::new(self.name_column, 0.0));
            row.add_child(&name);
            let mut state = Label::new_alloc();
            state.set_h_size_flags(SizeFlags::EXPAND_FILL);
            let (text, colour) = if is_current {
                ("CURRENT POSITION".to_owned(), palette::CYAN)
            } else if open {
                ("CLEARED".to_owned(), palette::OK)
            } else {
                (
                    format!(
                        "LOCKED · {}",
                        upgrade_text::zone_requirement(catalog, zone.access)
                    ),
                    palette::DANGER,
                )
            };
            state.set_text(&text);
            state.add_theme_color_override("font_color", colour);
            row.add_child(&state);
            let mut jump = Button::new_alloc();
            jump.set_text(if open { "JUMP" } else { "LOCKED" });
            jump.set_disabled(!open || is_current);
            jump.set_custom_minimum_size(Vector2::new(100.0, 0.0));
            let id = zone.id;
            jump.signals().pressed().connect_other(&this, move |s| {
                s.signals().zone_chosen().emit(i64::from(id))
            });
            row.add_child(&jump);
            if !open {
                row.set_modulate(Color::from_rgba(1.0, 1.0, 1.0, 0.7));
            }
            self.base_mut().add_child(&row);
            self.jump_buttons.push((zone.id, jump));
        }
    }

    /// The JUMP button of `zone`, for tests.
    #[func]
    pub fn jump_button(&self, zone: i64) -> Option<Gd<Button>> {
        self.jump_buttons
            .iter()
            .find(|(id, _)| i64::from(*id) == zone)
            .map(|(_, b)| b.clone())
    }

    /// Zones listed as open.
    #[func]
    pub fn open_zone_count(&self) -> i32 {
        self.jump_buttons
            .iter()
            .filter(|(_, b)| b.get_text() == "JUMP")
            .count() as i32
    }
}

impl ZoneSelect {}
