//! Trading lobbies: room codes, the lobby view, chat sanitising.

use game::Catalog;
use game::api::{Lobby, LobbyMember};

use crate::clock::rfc3339;
use crate::db::{Conn, lobbies};
use crate::http::error::Result;

/// Longest chat line, in characters.
pub const MAX_CHAT_CHARS: usize = game::api::MAX_CHAT_CHARS;

/// A random room code from the catalog's alphabet (no ambiguous 0/O, 1/I).
pub fn new_code(catalog: &Catalog) -> anyhow::Result<String> {
    let rules = catalog.lobby();
    let alphabet: Vec<char> = rules.code_alphabet.chars().collect();
    anyhow::ensure!(
        !alphabet.is_empty() && alphabet.len() <= 256,
        "lobby code alphabet must have 1-256 characters"
    );
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - 256 % alphabet.len();
    let mut code = String::new();
    while code.chars().count() < rules.code_length as usize {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
        for byte in bytes {
            if (byte as usize) < limit && code.chars().count() < rules.code_length as usize {
                code.push(alphabet[byte as usize % alphabet.len()]);
            }
        }
    }
    Ok(code)
}

/// A code as typed (any case, surrounding blanks), if it can be one at all
/// (the rule is `game`'s, shared with the client).
pub fn normalise_code(catalog: &Catalog, code: &str) -> Option<String> {
    catalog.lobby().normalise_code(code).ok()
}

/// The API's lobby object.
pub async fn view(conn: &mut Conn, code: &str, capacity: i64) -> Result<Lobby> {
    let members = lobbies::members(conn, code)
        .await?
        .into_iter()
        .map(|m| LobbyMember {
            username: m.username,
            joined_at: rfc3339(m.joined_at),
        })
        .collect();
    Ok(Lobby {
        code: code.to_owned(),
        capacity: u32::try_from(capacity).unwrap_or(u32::MAX),
        members,
    })
}

/// A chat line fit to show: control and invisible formatting characters
/// (bidi overrides, zero-width) removed, whitespace runs collapsed, at most
/// [`MAX_CHAT_CHARS`]. None when nothing is left.
///
/// Clients still render it as plain text (no BBCode or HTML).
pub fn sanitise_chat(text: &str) -> Option<String> {
    let invisible = |c: char| {
        c.is_control()
            || matches!(c,
                '\u{00AD}' | '\u{061C}' | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}')
    };
    let mut out = String::new();
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if invisible(c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
        if out.chars().count() >= MAX_CHAT_CHARS {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_alphabet() {
        let catalog = Catalog::shipped();
        for _ in 0..200 {
            let code = new_code(catalog).unwrap();
            assert_eq!(code.len(), 6);
            assert!(
                code.chars()
                    .all(|c| "ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(c))
            );
            assert_eq!(normalise_code(catalog, &code.to_lowercase()), Some(code));
        }
        assert_eq!(normalise_code(catalog, "ABCDE0"), None);
        assert_eq!(normalise_code(catalog, "ABCDEFG"), None);
    }

    #[test]
    fn chat_is_sanitised() {
        assert_eq!(
            sanitise_chat("  hello \n\t world  ").as_deref(),
            Some("hello world")
        );
        assert_eq!(
            sanitise_chat("a\u{202E}b\u{200B}c\u{0007}").as_deref(),
            Some("abc")
        );
        assert_eq!(sanitise_chat(" \u{200B}\n "), None);
        assert_eq!(
            sanitise_chat(&"x".repeat(500)).unwrap().chars().count(),
            MAX_CHAT_CHARS
        );
        assert_eq!(sanitise_chat("ünïcödé ✓").as_deref(), Some("ünïcödé ✓"));
    }
}
