//! `LobbyEntry` (`scenes/lobby/lobby_entry.tscn`): the room registry shown before
//! the trading floor: open a new room, or join one by its code. The code is
//! checked with the shared rule (`game::lobby::LobbyRules::normalise_code`)
//! before anything is sent; the floor reports the server's refusals here.

use game::Catalog;
use godot::classes::{Button, Control, IControl, Label, LineEdit};
use godot::prelude::*;

use crate::theme::palette;

/// The room registry. See the module docs.
#[derive(GodotClass)]
#[class(base = Control, init)]
pub struct LobbyEntry {
    /// Longest text the code field accepts (longer codes are refused with a message).
    #[export(range = (6.0, 32.0, 1.0))]
    #[init(val = 12)]
    code_field_length: i32,
    #[init(node = "%CreateButton")]
    create_button: OnReady<Gd<Button>>,
    #[init(node = "%CodeEdit")]
    code_edit: OnReady<Gd<LineEdit>>,
    #[init(node = "%JoinButton")]
    join_button: OnReady<Gd<Button>>,
    #[init(node = "%BackButton")]
    back_button: OnReady<Gd<Button>>,
    #[init(node = "%HintLabel")]
    hint_label: OnReady<Gd<Label>>,
    #[init(node = "%StatusLabel")]
    status_label: OnReady<Gd<Label>>,
    base: Base<Control>,
}

#[godot_api]
impl IControl for LobbyEntry {
    fn ready(&mut self) {
        // The signals are emitted with no borrow of this node held, so a
        // listener may call back into it (show an error, set busy).
        let entry = self.to_gd();
        self.create_button
            .signals()
            .pressed()
            .connect(move || entry.signals().create_requested().emit());
        let entry = self.to_gd();
        self.join_button
            .signals()
            .pressed()
            .connect(move || Self::submit(entry.clone()));
        let entry = self.to_gd();
        self.code_edit
            .signals()
            .text_submitted()
            .connect(move |_| Self::submit(entry.clone()));
        let entry = self.to_gd();
        self.back_button
            .signals()
            .pressed()
            .connect(move || entry.signals().back_requested().emit());
        let length = self.code_field_length;
        self.code_edit.set_max_length(length);
        let rules = Catalog::shipped().lobby();
        let hint = format!(
            "A room code has {} characters from {}.",
            rules.code_length, rules.code_alphabet
        );
        self.hint_label.set_text(hint.as_str());
        self.status_label.set_text("");
    }
}

#[godot_api]
impl LobbyEntry {
    /// "Open a new room" was pressed.
    #[signal]
    pub fn create_requested();
    /// A well-formed code was entered (upper case, trimmed).
    #[signal]
    pub fn join_requested(code: GString);
    /// "Back to the zone" was pressed.
    #[signal]
    pub fn back_requested();

    /// Checks the typed code; emits `join_requested` or shows why not.
    #[func(gd_self)]
    pub fn submit(mut this: Gd<Self>) {
        let code = {
            let mut entry = this.bind_mut();
            let typed = entry.code_edit.get_text().to_string();
            match Catalog::shipped().lobby().normalise_code(&typed) {
                Ok(code) => {
                    entry.code_edit.set_text(code.as_str());
                    Some(code)
                }
                Err(e) => {
                    let text = format!("NOT A ROOM CODE: {e}.");
                    entry.show_error(text.as_str().into());
                    None
                }
            }
        };
        if let Some(code) = code {
            this.signals().join_requested().emit(code.as_str());
        }
    }

    /// Types `code` into the field (tests, fixtures).
    #[func]
    pub fn type_code(&mut self, code: GString) {
        self.code_edit.set_text(&code);
    }

    /// Shows a refusal in red.
    #[func]
    pub fn show_error(&mut self, text: GString) {
        self.set_status(&text.to_string(), palette::DANGER);
    }

    /// Shows progress or information.
    #[func]
    pub fn show_info(&mut self, text: GString) {
        self.set_status(&text.to_string(), palette::AMBER);
    }

    /// The status line as shown.
    #[func]
    pub fn status_text(&self) -> GString {
        self.status_label.get_text()
    }

    /// Disables the buttons while a request is out.
    #[func]
    pub fn set_busy(&mut self, busy: bool) {
        self.create_button.set_disabled(busy);
        self.join_button.set_disabled(busy);
    }
}

impl LobbyEntry {
    fn set_status(&mut self, text: &str, colour: Color) {
        palette::paint(&mut self.status_label, text, colour);
    }
}
