//! `AiOverlay` (`scenes/overlays/ai_overlay.tscn`): the station AI speaking.
//!
//! Listens to `GameState::messages_changed` and queues every unlocked message
//! the server has not recorded as seen (and this overlay has not shown yet).
//! One at a time: the text types itself out, then stays `auto_dismiss_s`
//! seconds, or until the `dismiss_action` is pressed; then the next one. A
//! message is marked seen on the server the moment it is shown, so it shows
//! once, across restarts; the message log keeps it.

use std::collections::{BTreeSet, VecDeque};

use godot::classes::{Control, IControl, InputEvent, Label};
use godot::prelude::*;

use crate::app::game_state::GameState;

/// Typewriter progress: characters visible after `elapsed` seconds.
pub fn visible_chars(elapsed: f64, chars_per_second: f64, total: usize) -> usize {
    let shown = (elapsed.max(0.0) * chars_per_second.max(1.0)).floor() as usize;
    shown.min(total)
}

/// The AI message overlay. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct AiOverlay {
    /// Typewriter speed, characters per second.
    #[export(range = (5.0, 500.0, 1.0))]
    #[init(val = 55.0)]
    chars_per_second: f64,
    /// Seconds a fully typed message stays before it goes by itself.
    #[export(range = (0.5, 60.0, 0.5))]
    #[init(val = 6.0)]
    auto_dismiss_s: f64,
    /// InputMap action that dismisses the message on screen.
    #[export]
    #[init(val = StringName::from("dismiss"))]
    dismiss_action: StringName,
    /// Fetch the message list when the overlay enters the tree.
    #[export]
    #[init(val = true)]
    fetch_on_ready: bool,
    #[init(node = "%Body")]
    body: OnReady<Gd<Label>>,
    #[init(node = "%Counter")]
    counter: OnReady<Gd<Label>>,
    queue: VecDeque<(String, String)>,
    current: Option<(String, String)>,
    /// Ids queued or shown by this overlay (never queued twice).
    announced: BTreeSet<String>,
    /// Ids in the order they were shown (tests).
    shown: Vec<String>,
    elapsed: f64,
    base: Base<Control>,
}

#[godot_api]
impl IControl for AiOverlay {
    fn ready(&mut self) {
        self.base_mut().set_visible(false);
        let this = self.to_gd();
        if let Some(mut state) = GameState::autoload() {
            state
                .signals()
                .messages_changed()
                .connect_other(&this, Self::collect_unseen);
            if self.fetch_on_ready {
                state.bind_mut().fetch_messages();
            }
        }
        self.collect_unseen();
    }

    fn process(&mut self, delta: f64) {
        if self.current.is_none() {
            self.next();
            return;
        }
        self.elapsed += delta;
        let total = self.body.get_text().chars().len();
        let shown = visible_chars(self.elapsed, self.chars_per_second, total);
        self.body.set_visible_characters(shown as i32);
        let typing_s = total as f64 / self.chars_per_second.max(1.0);
        if self.elapsed >= typing_s + self.auto_dismiss_s {
            self.dismiss();
        }
    }

    fn unhandled_input(&mut self, event: Gd<InputEvent>) {
        if self.current.is_some() && event.is_action_pressed(&self.dismiss_action) {
            self.dismiss();
            if let Some(mut viewport) = self.base().get_viewport() {
                viewport.set_input_as_handled();
            }
        }
    }
}

#[godot_api]
impl AiOverlay {
    /// A message appeared on screen.
    #[signal]
    pub fn message_shown(id: GString);
    /// The message on screen went away (key or timeout).
    #[signal]
    pub fn message_dismissed(id: GString);

    /// Queues a message (already known ids are ignored).
    #[func]
    pub fn announce(&mut self, id: GString, text: GString) {
        let id = id.to_string();
        if self.announced.insert(id.clone()) {
            self.queue.push_back((id, text.to_string()));
        }
    }

    /// Dismisses the message on screen (the next one follows).
    #[func]
    pub fn dismiss(&mut self) {
        if let Some((id, _)) = self.current.take() {
            self.signals().message_dismissed().emit(id.as_str());
        }
        self.base_mut().set_visible(false);
        self.next();
    }

    /// Shows the whole text of the current message at once.
    #[func]
    pub fn finish_typing(&mut self) {
        if self.current.is_none() {
            self.next();
        }
        let total = self.body.get_text().chars().len();
        self.elapsed = self
            .elapsed
            .max(total as f64 / self.chars_per_second.max(1.0));
        self.body.set_visible_characters(-1);
    }

    /// Id of the message on screen ("" when none).
    #[func]
    pub fn current_id(&self) -> GString {
        self.current
            .as_ref()
            .map_or_else(GString::new, |(id, _)| GString::from(id.as_str()))
    }

    /// Characters of the current message visible now.
    #[func]
    pub fn visible_text(&self) -> GString {
        let text = self.body.get_text().to_string();
        let n = self.body.get_visible_characters();
        if n < 0 {
            return GString::from(text.as_str());
        }
        GString::from(text.chars().take(n as usize).collect::<String>().as_str())
    }

    /// Messages waiting behind the current one.
    #[func]
    pub fn queued_count(&self) -> i64 {
        self.queue.len() as i64
    }

    /// How many times this overlay has shown message `id`.
    #[func]
    pub fn shown_count(&self, id: GString) -> i64 {
        let id = id.to_string();
        self.shown.iter().filter(|s| **s == id).count() as i64
    }

    /// Every message id shown so far, in order.
    #[func]
    pub fn shown_ids(&self) -> PackedStringArray {
        self.shown
            .iter()
            .map(|s| GString::from(s.as_str()))
            .collect()
    }

    /// Reads `GameState`'s list and queues the unseen messages.
    #[func]
    pub fn collect_unseen(&mut self) {
        let Some(state) = GameState::autoload() else {
            return;
        };
        let unseen: Vec<(String, String)> = state
            .bind()
            .messages()
            .iter()
            .filter(|m| !m.seen)
            .map(|m| (m.id.clone(), m.text.clone()))
            .collect();
        for (id, text) in unseen {
            self.announce(id.as_str().into(), text.as_str().into());
        }
    }
}

impl AiOverlay {
    fn next(&mut self) {
        let Some((id, text)) = self.queue.pop_front() else {
            return;
        };
        self.elapsed = 0.0;
        self.body.set_text(&text);
        self.body.set_visible_characters(0);
        let waiting = self.queue.len();
        self.counter.set_text(&if waiting > 0 {
            format!("+{waiting} QUEUED · [SPACE] DISMISS")
        } else {
            "[SPACE] DISMISS".to_owned()
        });
        self.base_mut().set_visible(true);
        self.shown.push(id.clone());
        if let Some(mut state) = GameState::autoload() {
            state.bind_mut().mark_message_seen(id.as_str().into());
        }
        self.current = Some((id.clone(), text));
        self.signals().message_shown().emit(id.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typewriter_counts_up_and_stops_at_the_end() {
        assert_eq!(visible_chars(0.0, 50.0, 10), 0);
        assert_eq!(visible_chars(0.1, 50.0, 10), 5);
        assert_eq!(visible_chars(9.0, 50.0, 10), 10);
        assert_eq!(visible_chars(-1.0, 50.0, 10), 0);
    }
}
