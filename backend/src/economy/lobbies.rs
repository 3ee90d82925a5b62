//! Trading lobbies: room codes, create / join / leave, the lobby view,
//! chat sanitising. Rooms and members live in the database; what a room's
//! sockets should hear after a change is returned to the caller, which
//! publishes it once the change has committed.

use game::Catalog;
use game::api::ws::MAX_CHAT_CHARS;
use game::api::{Lobby, LobbyMember, Trade};
use game::milestones::MilestoneEvent;

use super::account::{self, Cause};
use super::error::{Error, Result};
use super::milestones::{self, Happened};
use super::trades;
use crate::clock::rfc3339;
use crate::db::{self, Conn, Db, Dialect, ledger::Reason, lobbies, trades as trade_rows};

/// The code as stored, or [`Error::UnknownLobby`] for anything that cannot
/// be a code.
pub fn lobby_code(catalog: &Catalog, code: &str) -> Result<String> {
    normalise_code(catalog, code).ok_or(Error::UnknownLobby)
}

/// Adds the caller to the room, counting the join in their stats (and its
/// milestone). The caller's player row is locked after the lobby's.
async fn add_member(
    conn: &mut Conn,
    dialect: Dialect,
    catalog: &Catalog,
    code: &str,
    user_id: &str,
    now: i64,
) -> Result<()> {
    let player = account::lock(conn, dialect, catalog, user_id, now).await?;
    lobbies::add_member(conn, code, user_id, now).await?;
    let mut next = player.state.clone();
    next.stats.lobbies_joined += 1;
    let entry_id = db::new_id();
    // A stats-only change: no balance moves, so no ledger row is written.
    account::save(
        conn,
        &player,
        &next,
        Cause {
            reason: Reason::Trade,
            reference: Some(code),
            entry_id: &entry_id,
        },
        now,
    )
    .await?;
    milestones::record(
        conn,
        catalog,
        user_id,
        Happened {
            event: MilestoneEvent::LobbyJoined,
            before: &player.state,
            after: &next,
            run_id: None,
        },
        now,
    )
    .await?;
    Ok(())
}

pub(super) async fn username_of(conn: &mut Conn, user_id: &str) -> Result<String> {
    Ok(db::users::find_by_id(conn, user_id)
        .await?
        .ok_or(Error::AccountGone)?
        .username)
}

/// Creates a room with the caller as its first member (inside the caller's
/// transaction).
pub async fn create(
    conn: &mut Conn,
    dialect: Dialect,
    catalog: &Catalog,
    user_id: &str,
    now: i64,
) -> Result<Lobby> {
    // 32^6 codes: a collision is rare; checked before inserting because a
    // failed INSERT would abort the whole PostgreSQL transaction.
    let mut code = new_code(catalog)?;
    let mut attempts = 1;
    while lobbies::exists(conn, &code).await? {
        attempts += 1;
        if attempts > 10 {
            return Err(anyhow::anyhow!("no free lobby code after 10 attempts").into());
        }
        code = new_code(catalog)?;
    }
    let capacity = i64::from(catalog.lobby().capacity);
    lobbies::insert(conn, &code, capacity, user_id, now).await?;
    add_member(conn, dialect, catalog, &code, user_id, now).await?;
    view(conn, &code, capacity).await
}

/// The room and its members (one read transaction).
pub async fn get(db: &Db, code: &str) -> Result<Lobby> {
    let mut tx = db.begin_read().await?;
    let lobby = lobbies::find(&mut tx, code, None)
        .await?
        .ok_or(Error::UnknownLobby)?;
    let lobby = view(&mut tx, &lobby.code, lobby.capacity).await?;
    tx.commit().await?;
    Ok(lobby)
}

/// Joins a room (joining a room one is in changes nothing). Returns the
/// room and, if the caller was not a member before, their username.
pub async fn join(
    conn: &mut Conn,
    dialect: Dialect,
    catalog: &Catalog,
    code: &str,
    user_id: &str,
    now: i64,
) -> Result<(Lobby, Option<String>)> {
    // Locked: two joins racing for the last place run one after the other.
    let lobby = lobbies::find(conn, code, Some(dialect))
        .await?
        .ok_or(Error::UnknownLobby)?;
    let joined = if lobbies::is_member(conn, code, user_id).await? {
        false
    } else {
        let members = lobbies::members(conn, code).await?.len();
        if i64::try_from(members).unwrap_or(i64::MAX) >= lobby.capacity {
            return Err(Error::LobbyFull);
        }
        add_member(conn, dialect, catalog, code, user_id, now).await?;
        true
    };
    let view = view(conn, code, lobby.capacity).await?;
    let username = username_of(conn, user_id).await?;
    Ok((view, joined.then_some(username)))
}

/// Leaves a room; the leaver's pending trades there are cancelled. Returns
/// the cancelled trades and the leaver's username.
pub async fn leave(
    conn: &mut Conn,
    dialect: Dialect,
    code: &str,
    user_id: &str,
    now: i64,
) -> Result<(Vec<Trade>, String)> {
    lobbies::find(conn, code, Some(dialect))
        .await?
        .ok_or(Error::UnknownLobby)?;
    if !lobbies::remove_member(conn, code, user_id).await? {
        return Err(Error::NotAMember);
    }
    let cancelled = trade_rows::cancel_for_member(conn, code, user_id, now).await?;
    let cancelled = trades::views(conn, &cancelled, now).await?;
    let username = username_of(conn, user_id).await?;
    Ok((cancelled, username))
}

/// The room exists and the user is in it (before a socket opens).
pub async fn check_member(db: &Db, code: &str, user_id: &str) -> Result<()> {
    let mut conn = db.pool().acquire().await?;
    lobbies::find(&mut conn, code, None)
        .await?
        .ok_or(Error::UnknownLobby)?;
    if !lobbies::is_member(&mut conn, code, user_id).await? {
        return Err(Error::NotAMember);
    }
    Ok(())
}

/// The room as a socket's first event, or None if it is gone.
pub async fn snapshot(db: &Db, code: &str) -> Result<Option<Lobby>> {
    let mut conn = db.pool().acquire().await?;
    let Some(lobby) = lobbies::find(&mut conn, code, None).await? else {
        return Ok(None);
    };
    Ok(Some(view(&mut conn, &lobby.code, lobby.capacity).await?))
}

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
