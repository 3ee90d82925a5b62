//! The trading lobby's rules: room capacity and codes, the floor and how
//! fast an avatar walks on it, how close two traders must stand, offer
//! expiry and limits. The numbers come from `catalog.toml`'s `[lobby]`
//! table; the checks are here so the client (before asking) and the server
//! (before acting) apply the same ones.

use serde::{Deserialize, Serialize};

/// Trading lobby limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LobbyRules {
    pub capacity: u32,
    pub code_length: u32,
    pub code_alphabet: String,
    pub floor_width: f64,
    pub floor_height: f64,
    pub walk_speed: f64,
    pub trade_reach: f64,
    pub offer_expiry_seconds: u64,
    pub max_pending_offers: u32,
}

/// Why a typed room code cannot be one. Nothing is asked of the server then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LobbyCodeError {
    #[error("a room code has {expected} characters; this one has {got}")]
    WrongLength { expected: u32, got: usize },
    #[error("`{found}` never appears in a room code (they use only {alphabet})")]
    BadCharacter { found: char, alphabet: String },
}

impl LobbyRules {
    /// A code as typed (any case, blanks around it) in its stored form, or
    /// why it cannot be a room code. The client checks this before asking
    /// the server, and the server before looking the room up.
    pub fn normalise_code(&self, typed: &str) -> Result<String, LobbyCodeError> {
        let code = typed.trim().to_uppercase();
        if let Some(found) = code.chars().find(|c| !self.code_alphabet.contains(*c)) {
            return Err(LobbyCodeError::BadCharacter {
                found,
                alphabet: self.code_alphabet.clone(),
            });
        }
        let got = code.chars().count();
        if got != self.code_length as usize {
            return Err(LobbyCodeError::WrongLength {
                expected: self.code_length,
                got,
            });
        }
        Ok(code)
    }

    /// Whether two avatars stand close enough to open a trade.
    pub fn within_trade_reach(&self, a: (f64, f64), b: (f64, f64)) -> bool {
        let (dx, dy) = (a.0 - b.0, a.1 - b.1);
        dx * dx + dy * dy <= self.trade_reach * self.trade_reach
    }

    /// A position kept on the trading floor (`0..=width`, `0..=height`).
    pub fn clamp_to_floor(&self, x: f64, y: f64) -> (f64, f64) {
        let x = if x.is_finite() { x } else { 0.0 };
        let y = if y.is_finite() { y } else { 0.0 };
        (
            x.clamp(0.0, self.floor_width),
            y.clamp(0.0, self.floor_height),
        )
    }
}

/// Words the chat filter ([`crate::account::ChatFilter::Mask`]) hides,
/// lower case. Matched as whole words, in any case.
pub const MASKED_WORDS: &[&str] = &[
    "arse", "arsehole", "asshole", "bastard", "bitch", "bollocks", "bullshit", "crap", "cunt",
    "damn", "dick", "fuck", "fucked", "fucker", "fucking", "piss", "prick", "shit", "shitty",
    "slut", "twat", "wanker", "whore",
];

/// `text` with every word on [`MASKED_WORDS`] replaced by as many `*` as it
/// has characters; everything else as it was.
pub fn mask_chat(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if MASKED_WORDS.contains(&word.to_lowercase().as_str()) {
            out.extend(std::iter::repeat_n('*', word.chars().count()));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_words_are_hidden_whole_and_in_any_case() {
        assert_eq!(
            mask_chat("well SHIT, the hold is full"),
            "well ****, the hold is full"
        );
        assert_eq!(mask_chat("shitake? scrap!"), "shitake? scrap!");
        assert_eq!(mask_chat("Damn-damn"), "****-****");
        assert_eq!(mask_chat(""), "");
        assert_eq!(mask_chat("ünïcode stays"), "ünïcode stays");
    }
}
