//! `MessageLog` (`scenes/overlays/message_log.tscn`): every station AI message the
//! player has unlocked, newest first, in a scrollable panel.
//!
//! Opened and closed with the `message_log` action (M) or from the pause
//! menu; `pause`/`dismiss` close it; `move_up`/`move_down` scroll. The list
//! is re-fetched from the server on every opening (`GameState::fetch_messages`)
//! and redrawn when it changes. While open it holds the game (pauses the
//! scene tree) unless the tree was already paused; it runs with
//! `process_mode = Always` so it works from the pause menu.

use godot::classes::{
    Control, IControl, InputEvent, Label, ScrollContainer, VBoxContainer, text_server::AutowrapMode,
};
use godot::prelude::*;

use crate::app::game_state::GameState;
use crate::theme::palette;

/// `2026-11-24T05:33:10.123Z` -> `2026-11-24 05:33 UTC` (anything else as given).
pub fn format_stamp(rfc3339: &str) -> String {
    let bytes = rfc3339.as_bytes();
    if rfc3339.len() >= 16 && bytes.get(10) == Some(&b'T') && rfc3339.is_char_boundary(16) {
        format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..16])
    } else {
        rfc3339.to_owned()
    }
}

/// The message log. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct MessageLog {
    /// InputMap action that opens and closes the log.
    #[export]
    #[init(val = StringName::from("message_log"))]
    toggle_action: StringName,
    /// Pixels scrolled per press of `move_up` / `move_down`.
    #[export(range = (8.0, 400.0, 1.0))]
    #[init(val = 60.0)]
    scroll_step: f32,
    /// Hold the game (pause the scene tree) while the log is open.
    #[export]
    #[init(val = true)]
    pause_while_open: bool,
    /// Answer the toggle action (off where another node opens the log).
    #[export]
    #[init(val = true)]
    toggle_enabled: bool,
    #[init(node = "%Entries")]
    entries: OnReady<Gd<VBoxContainer>>,
    #[init(node = "%Scroll")]
    scroll: OnReady<Gd<ScrollContainer>>,
    #[init(node = "%CountLabel")]
    count_label: OnReady<Gd<Label>>,
    paused_by_me: bool,
    base: Base<Control>,
}

#[godot_api]
impl IControl for MessageLog {
    fn ready(&mut self) {
        self.base_mut().set_visible(false);
        let this = self.to_gd();
        if let Some(state) = GameState::autoload() {
            state
                .signals()
                .messages_changed()
                .connect_other(&this, |s| {
                    if s.base().is_visible() {
                        s.rebuild();
                    }
                });
        }
    }

    fn unhandled_input(&mut self, event: Gd<InputEvent>) {
        let open = self.base().is_visible();
        let handled = if self.toggle_enabled && event.is_action_pressed(&self.toggle_action) {
            self.toggle();
            true
        } else if open && (event.is_action_pressed("pause") || event.is_action_pressed("dismiss")) {
            self.close();
            true
        } else if open
            && event
                .is_action_pressed_ex("move_down")
                .allow_echo(true)
                .done()
        {
            self.scroll_by(self.scroll_step);
            true
        } else if open
            && event
                .is_action_pressed_ex("move_up")
                .allow_echo(true)
                .done()
        {
            self.scroll_by(-self.scroll_step);
            true
        } else {
            false
        };
        if handled && let Some(mut viewport) = self.base().get_viewport() {
            viewport.set_input_as_handled();
        }
    }
}

#[godot_api]
impl MessageLog {
    #[signal]
    pub fn opened();
    #[signal]
    pub fn closed();

    /// Opens the log (fetches the list again).
    #[func]
    pub fn open(&mut self) {
        if self.base().is_visible() {
            return;
        }
        if let Some(mut state) = GameState::autoload() {
            state.bind_mut().fetch_messages();
        }
        self.rebuild();
        self.scroll.set_v_scroll(0);
        self.base_mut().set_visible(true);
        if self.pause_while_open
            && let Some(mut tree) = self.base().get_tree_or_null()
            && !tree.is_paused()
        {
            tree.set_pause(true);
            self.paused_by_me = true;
        }
        self.signals().opened().emit();
    }

    /// Closes the log (and resumes the game if opening it paused it).
    #[func]
    pub fn close(&mut self) {
        if !self.base().is_visible() {
            return;
        }
        self.base_mut().set_visible(false);
        if std::mem::take(&mut self.paused_by_me)
            && let Some(mut tree) = self.base().get_tree_or_null()
        {
            tree.set_pause(false);
        }
        self.signals().closed().emit();
    }

    #[func]
    pub fn toggle(&mut self) {
        if self.base().is_visible() {
            self.close();
        } else {
            self.open();
        }
    }

    #[func]
    pub fn is_open(&self) -> bool {
        self.base().is_visible()
    }

    /// Number of entries listed.
    #[func]
    pub fn entry_count(&self) -> i64 {
        i64::from(self.entries.get_child_count())
    }

    /// Text of entry `index` (0 = newest), "" when out of range.
    #[func]
    pub fn entry_text(&self, index: i32) -> GString {
        self.entries
            .get_child(index)
            .and_then(|row| row.get_node_or_null("Text"))
            .and_then(|n| n.try_cast::<Label>().ok())
            .map_or_else(GString::new, |l| l.get_text())
    }

    /// Redraws the list from `GameState`.
    #[func]
    pub fn rebuild(&mut self) {
        for mut child in self.entries.get_children().iter_shared() {
            self.entries.remove_child(&child);
            child.queue_free();
        }
        let messages = GameState::autoload()
            .map(|s| s.bind().messages().to_vec())
            .unwrap_or_default();
        self.count_label.set_text(&format!(
            "{} TRANSMISSION{} ON FILE",
            messages.len(),
            if messages.len() == 1 { "" } else { "S" }
        ));
        if messages.is_empty() {
            let mut empty = Label::new_alloc();
            empty.set_name("Empty");
            empty.set_text("No transmissions on file. The station has nothing to say to you yet.");
            empty.add_theme_color_override("font_color", palette::MUTED);
            self.entries.add_child(&empty);
            return;
        }
        for (i, m) in messages.iter().rev().enumerate() {
            let mut row = VBoxContainer::new_alloc();
            row.set_name(&format!("Entry{i}"));
            row.add_theme_constant_override("separation", 2);
            let mut stamp = Label::new_alloc();
            stamp.set_name("Stamp");
            stamp.set_text(&format!(
                "{} · REF {}",
                format_stamp(&m.unlocked_at),
                m.id.to_uppercase()
            ));
            stamp.add_theme_color_override("font_color", palette::CYAN_DIM);
            stamp.add_theme_font_size_override("font_size", 13);
            let mut text = Label::new_alloc();
            text.set_name("Text");
            text.set_text(&m.text);
            text.set_autowrap_mode(AutowrapMode::WORD_SMART);
            text.set_custom_minimum_size(Vector2::new(200.0, 0.0));
            row.add_child(&stamp);
            row.add_child(&text);
            self.entries.add_child(&row);
        }
    }
}

impl MessageLog {
    fn scroll_by(&mut self, px: f32) {
        let now = self.scroll.get_v_scroll();
        self.scroll.set_v_scroll((now as f32 + px).max(0.0) as i32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_short_and_utc() {
        assert_eq!(
            format_stamp("2026-11-24T05:33:10.123Z"),
            "2026-11-24 05:33 UTC"
        );
        assert_eq!(format_stamp("soon"), "soon");
    }
}
