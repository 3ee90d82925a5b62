//! One trading room as the client sees it: who is in it, the chat log, and
//! what each server event changes. The Godot `TradingFloor` node draws this
//! (one avatar per member, the member list, the log) and walks the player's
//! avatar with [`walk`]; every decision about members and lines is here, so
//! it is tested with plain `cargo test`.

use std::collections::{BTreeSet, VecDeque};

use game::Catalog;
use game::account::ChatFilter;
use game::api::{Lobby, LobbyServerEvent, PresenceState, Trade, TradeStatus};

use crate::text::lobby as lobby_text;

/// What an event (or entering) changed, for the owner to show.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomChange {
    /// A member to give an avatar to.
    MemberAdded(String),
    /// A member whose avatar goes.
    MemberRemoved(String),
    /// Another trader's avatar glides to `(x, y)`.
    Moved { username: String, x: f64, y: f64 },
    /// A chat line arrived (already in the log).
    Chat { username: String, text: String },
    /// A trade event for the trade window.
    Trade(Box<Trade>),
    /// The player is no longer in the room (removed elsewhere).
    Expelled,
    /// The others should learn where the player stands (a newcomer).
    PositionWanted,
    /// A member's live link dropped (`true`: shown reconnecting) or came
    /// back.
    Reconnecting {
        username: String,
        reconnecting: bool,
    },
}

/// The room. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct Room {
    code: Option<String>,
    me: String,
    members: Vec<String>,
    chat: VecDeque<String>,
    chat_history: usize,
    /// How others' chat is shown (the player's preference).
    chat_filter: ChatFilter,
    /// Members whose live link is down (within the server's grace period).
    reconnecting: BTreeSet<String>,
}

impl Room {
    /// An empty room registry that keeps `chat_history` log lines.
    pub fn new(chat_history: usize) -> Self {
        Room {
            chat_history: chat_history.max(1),
            ..Room::default()
        }
    }

    pub fn set_chat_history(&mut self, lines: usize) {
        self.chat_history = lines.max(1);
    }

    /// How chat from others is shown from now on (`Mask`: the words of
    /// `game::lobby::MASKED_WORDS` as asterisks; one's own lines as typed).
    pub fn set_chat_filter(&mut self, filter: ChatFilter) {
        self.chat_filter = filter;
    }

    /// Room code while inside a room.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    pub fn is_inside(&self) -> bool {
        self.code.is_some()
    }

    /// The player's username in this room.
    pub fn me(&self) -> &str {
        &self.me
    }

    pub fn members(&self) -> &[String] {
        &self.members
    }

    pub fn has_member(&self, name: &str) -> bool {
        self.members.iter().any(|m| m == name)
    }

    /// Whether `name`'s live link is down (the server keeps them in the
    /// room for a grace period).
    pub fn is_reconnecting(&self, name: &str) -> bool {
        self.reconnecting.contains(name)
    }

    /// Chat log lines, oldest first.
    pub fn chat_lines(&self) -> impl Iterator<Item = &str> {
        self.chat.iter().map(String::as_str)
    }

    /// The log as one text (plain: a line is never parsed as markup).
    pub fn chat_text(&self) -> String {
        self.chat_lines().collect::<Vec<_>>().join("\n")
    }

    /// Enters `lobby` as `me`: the member list and a fresh log.
    pub fn enter(&mut self, lobby: &Lobby, me: String) -> Vec<RoomChange> {
        let mut changes = self.clear();
        self.code = Some(lobby.code.clone());
        self.me = me.clone();
        self.add_member(&me, &mut changes);
        let names: Vec<String> = lobby.members.iter().map(|m| m.username.clone()).collect();
        self.sync_members(&names, &mut changes);
        self.chat.clear();
        self.system_line(&format!(
            "ROOM {} OPEN. GIVE THIS CODE TO TRADERS YOU EXPECT.",
            lobby.code
        ));
        changes
    }

    /// Out of the room: returns the code it had, and the avatars to remove.
    pub fn leave(&mut self) -> (Option<String>, Vec<RoomChange>) {
        let code = self.code.take();
        (code, self.clear())
    }

    fn clear(&mut self) -> Vec<RoomChange> {
        self.reconnecting.clear();
        self.members
            .drain(..)
            .map(RoomChange::MemberRemoved)
            .collect()
    }

    /// What a server event changes.
    pub fn apply(&mut self, event: LobbyServerEvent) -> Vec<RoomChange> {
        let mut changes = Vec::new();
        match event {
            LobbyServerEvent::Snapshot { lobby } => {
                let names: Vec<String> = lobby.members.into_iter().map(|m| m.username).collect();
                self.sync_members(&names, &mut changes);
                // A snapshot's members count as connected.
                for username in std::mem::take(&mut self.reconnecting) {
                    changes.push(RoomChange::Reconnecting {
                        username,
                        reconnecting: false,
                    });
                }
            }
            LobbyServerEvent::Presence { username, state } => {
                if username != self.me && self.has_member(&username) {
                    let reconnecting = state == PresenceState::Reconnecting;
                    let changed = if reconnecting {
                        self.reconnecting.insert(username.clone())
                    } else {
                        self.reconnecting.remove(&username)
                    };
                    if changed {
                        self.system_line(&if reconnecting {
                            format!("{username} LOST THE LINK: RECONNECTING...")
                        } else {
                            format!("{username} IS BACK.")
                        });
                        changes.push(RoomChange::Reconnecting {
                            username,
                            reconnecting,
                        });
                    }
                }
            }
            LobbyServerEvent::MemberJoined { username, .. } => {
                if !self.has_member(&username) {
                    self.add_member(&username, &mut changes);
                    self.system_line(&format!("{username} ENTERED THE ROOM."));
                }
                // Let the newcomer see where I stand.
                changes.push(RoomChange::PositionWanted);
            }
            LobbyServerEvent::MemberLeft { username } => {
                if username == self.me {
                    changes.push(RoomChange::Expelled);
                } else {
                    self.remove_member(&username, &mut changes);
                    self.system_line(&format!("{username} LEFT THE ROOM."));
                }
            }
            LobbyServerEvent::Position { username, x, y } => {
                if username != self.me {
                    if !self.has_member(&username) {
                        self.add_member(&username, &mut changes);
                    }
                    changes.push(RoomChange::Moved { username, x, y });
                }
            }
            LobbyServerEvent::Chat { username, text, at } => {
                let text = if self.chat_filter == ChatFilter::Mask && username != self.me {
                    game::lobby::mask_chat(&text)
                } else {
                    text
                };
                // `at` is RFC 3339: keep HH:MM.
                let time = at.get(11..16).unwrap_or("--:--");
                self.push_line(format!("[{time}] {username}: {text}"));
                changes.push(RoomChange::Chat { username, text });
            }
            LobbyServerEvent::Trade { trade } => {
                if trade.to == self.me && trade.status == TradeStatus::Pending {
                    self.system_line(&format!("{} SENT YOU AN OFFER.", trade.from));
                }
                changes.push(RoomChange::Trade(Box::new(trade)));
            }
            LobbyServerEvent::Refused { code, message } => {
                let text = lobby_text::explain(&code, &message, None).to_uppercase();
                self.system_line(&text);
            }
        }
        changes
    }

    fn sync_members(&mut self, names: &[String], changes: &mut Vec<RoomChange>) {
        let gone: Vec<String> = self
            .members
            .iter()
            .filter(|m| !names.contains(m) && **m != self.me)
            .cloned()
            .collect();
        for name in gone {
            self.remove_member(&name, changes);
        }
        for name in names {
            if !self.has_member(name) {
                self.add_member(name, changes);
            }
        }
    }

    fn add_member(&mut self, name: &str, changes: &mut Vec<RoomChange>) {
        if self.has_member(name) {
            return;
        }
        self.members.push(name.to_owned());
        changes.push(RoomChange::MemberAdded(name.to_owned()));
    }

    fn remove_member(&mut self, name: &str, changes: &mut Vec<RoomChange>) {
        self.members.retain(|m| m != name);
        self.reconnecting.remove(name);
        changes.push(RoomChange::MemberRemoved(name.to_owned()));
    }

    /// A line of the room's own (`// ...`).
    pub fn system_line(&mut self, text: &str) {
        self.push_line(format!("// {text}"));
    }

    fn push_line(&mut self, line: String) {
        self.chat.push_back(line);
        while self.chat.len() > self.chat_history.max(1) {
            self.chat.pop_front();
        }
    }

    /// The member list as shown (`NAME (YOU)` for the player).
    pub fn member_entries(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|name| {
                if *name == self.me {
                    format!("{name} (YOU)")
                } else if self.is_reconnecting(name) {
                    format!("{name} (RECONNECTING)")
                } else {
                    name.clone()
                }
            })
            .collect()
    }

    /// `ROOM CODE   N/CAP TRADERS`, or "" outside a room.
    pub fn label(&self) -> String {
        let capacity = Catalog::shipped().lobby().capacity;
        match &self.code {
            Some(code) => format!("ROOM {code}   {}/{capacity} TRADERS", self.members.len()),
            None => String::new(),
        }
    }

    /// Whether the player may open a trade with `name` here (not while
    /// their link is down: they could not see the offer).
    pub fn can_trade_with(&self, name: &str) -> bool {
        self.code.is_some()
            && name != self.me
            && self.has_member(name)
            && !self.is_reconnecting(name)
    }
}

/// Where a trader's avatar first appears, spread by name so two traders do
/// not start on top of each other.
pub fn spawn_point(name: &str) -> (f32, f32) {
    let rules = Catalog::shipped().lobby();
    let mut hash: u32 = 2_166_136_261;
    for byte in name.bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(16_777_619);
    }
    let (w, h) = (rules.floor_width as f32, rules.floor_height as f32);
    let x = w * (0.3 + 0.4 * ((hash & 0xffff) as f32 / 65535.0));
    let y = h * (0.35 + 0.3 * ((hash >> 16) as f32 / 65535.0));
    (x, y)
}

/// One walking step of the player's avatar at the catalog's
/// `[lobby] walk_speed`, kept on the floor.
pub fn walk(position: (f32, f32), direction: (f32, f32), delta: f64) -> (f32, f32) {
    let rules = Catalog::shipped().lobby();
    let speed = rules.walk_speed as f32 * delta as f32;
    let next = (
        position.0 + direction.0 * speed,
        position.1 + direction.1 * speed,
    );
    let (x, y) = rules.clamp_to_floor(f64::from(next.0), f64::from(next.1));
    (x as f32, y as f32)
}

/// The nearest other trader within trade reach of `own`, if any.
pub fn nearest_in_reach<'a>(
    own: (f32, f32),
    others: impl IntoIterator<Item = (&'a str, (f32, f32))>,
) -> Option<String> {
    let rules = Catalog::shipped().lobby();
    let mut best: Option<(f32, &str)> = None;
    for (name, p) in others {
        if rules.within_trade_reach(
            (f64::from(own.0), f64::from(own.1)),
            (f64::from(p.0), f64::from(p.1)),
        ) {
            let d = ((own.0 - p.0).powi(2) + (own.1 - p.1).powi(2)).sqrt();
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, name));
            }
        }
    }
    best.map(|(_, n)| n.to_owned())
}

/// Where a glide towards `target` is after `delta` s: exponential smoothing
/// at `rate` per second, snapping when closer than a quarter pixel.
pub fn follow_step(position: (f32, f32), target: (f32, f32), rate: f32, delta: f64) -> (f32, f32) {
    let (dx, dy) = (target.0 - position.0, target.1 - position.1);
    if (dx * dx + dy * dy).sqrt() < 0.25 {
        return target;
    }
    let t = (1.0 - (-rate * delta as f32).exp()).clamp(0.0, 1.0);
    (position.0 + dx * t, position.1 + dy * t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use game::api::LobbyMember;

    fn lobby(code: &str, names: &[&str]) -> Lobby {
        Lobby {
            code: code.to_owned(),
            capacity: 8,
            members: names
                .iter()
                .map(|n| LobbyMember {
                    username: (*n).to_owned(),
                    joined_at: "2026-01-01T00:00:00Z".to_owned(),
                })
                .collect(),
        }
    }

    #[test]
    fn entering_lists_me_first_and_greets() {
        let mut room = Room::new(10);
        let changes = room.enter(&lobby("AB2CD9", &["bob", "ada"]), "ada".into());
        assert_eq!(room.members(), ["ada", "bob"]);
        assert_eq!(
            changes,
            vec![
                RoomChange::MemberAdded("ada".into()),
                RoomChange::MemberAdded("bob".into())
            ]
        );
        assert_eq!(room.member_entries(), ["ada (YOU)", "bob"]);
        assert!(room.label().starts_with("ROOM AB2CD9   2/"));
        assert!(room.chat_text().starts_with("// ROOM AB2CD9 OPEN."));
    }

    #[test]
    fn events_change_members_and_the_log() {
        let mut room = Room::new(3);
        room.enter(&lobby("AB2CD9", &["ada"]), "ada".into());
        let joined = room.apply(LobbyServerEvent::MemberJoined {
            username: "bob".into(),
            joined_at: "2026-01-01T00:00:00Z".into(),
        });
        assert!(joined.contains(&RoomChange::MemberAdded("bob".into())));
        assert!(joined.contains(&RoomChange::PositionWanted));
        let moved = room.apply(LobbyServerEvent::Position {
            username: "cy".into(),
            x: 1.0,
            y: 2.0,
        });
        assert_eq!(moved[0], RoomChange::MemberAdded("cy".into()));
        room.apply(LobbyServerEvent::Chat {
            username: "bob".into(),
            text: "hi".into(),
            at: "2026-01-01T12:34:56Z".into(),
        });
        assert_eq!(room.chat_lines().last(), Some("[12:34] bob: hi"));
        let left = room.apply(LobbyServerEvent::MemberLeft {
            username: "ada".into(),
        });
        assert_eq!(left, vec![RoomChange::Expelled]);
        // Three lines kept.
        assert_eq!(room.chat_lines().count(), 3);
        assert!(room.can_trade_with("bob"));
        assert!(!room.can_trade_with("ada"));
    }

    #[test]
    fn a_member_reconnecting_is_marked_until_back_or_gone() {
        let mut room = Room::new(10);
        room.enter(&lobby("AB2CD9", &["ada", "bob", "cy"]), "ada".into());
        let presence = |who: &str, state| LobbyServerEvent::Presence {
            username: who.into(),
            state,
        };
        let dropped = room.apply(presence("bob", PresenceState::Reconnecting));
        assert_eq!(
            dropped,
            vec![RoomChange::Reconnecting {
                username: "bob".into(),
                reconnecting: true
            }]
        );
        assert!(room.is_reconnecting("bob"));
        assert!(!room.can_trade_with("bob"));
        assert_eq!(
            room.member_entries(),
            ["ada (YOU)", "bob (RECONNECTING)", "cy"]
        );
        assert_eq!(
            room.chat_lines().last(),
            Some("// bob LOST THE LINK: RECONNECTING...")
        );
        // Twice is once; strangers and oneself are ignored.
        assert!(
            room.apply(presence("bob", PresenceState::Reconnecting))
                .is_empty()
        );
        assert!(
            room.apply(presence("zed", PresenceState::Reconnecting))
                .is_empty()
        );
        assert!(
            room.apply(presence("ada", PresenceState::Reconnecting))
                .is_empty()
        );
        // Back.
        let back = room.apply(presence("bob", PresenceState::Connected));
        assert_eq!(
            back,
            vec![RoomChange::Reconnecting {
                username: "bob".into(),
                reconnecting: false
            }]
        );
        assert!(!room.is_reconnecting("bob"));
        // Gone after the grace period: the server says member_left.
        room.apply(presence("cy", PresenceState::Reconnecting));
        let gone = room.apply(LobbyServerEvent::MemberLeft {
            username: "cy".into(),
        });
        assert!(gone.contains(&RoomChange::MemberRemoved("cy".into())));
        assert!(!room.is_reconnecting("cy"));
        // A fresh snapshot (after our own reconnection) counts everyone connected.
        room.apply(presence("bob", PresenceState::Reconnecting));
        let snapshot = room.apply(LobbyServerEvent::Snapshot {
            lobby: lobby("AB2CD9", &["ada", "bob"]),
        });
        assert!(snapshot.contains(&RoomChange::Reconnecting {
            username: "bob".into(),
            reconnecting: false
        }));
        assert!(!room.is_reconnecting("bob"));
    }

    #[test]
    fn the_chat_filter_masks_others_but_not_me() {
        let mut room = Room::new(10);
        room.enter(&lobby("AB2CD9", &["ada", "bob"]), "ada".into());
        let line = |who: &str, text: &str| LobbyServerEvent::Chat {
            username: who.into(),
            text: text.into(),
            at: "2026-01-01T12:34:56Z".into(),
        };
        room.set_chat_filter(ChatFilter::Mask);
        let changes = room.apply(line("bob", "shit, full hold"));
        assert_eq!(
            room.chat_lines().last(),
            Some("[12:34] bob: ****, full hold")
        );
        assert!(changes.contains(&RoomChange::Chat {
            username: "bob".into(),
            text: "****, full hold".into()
        }));
        room.apply(line("ada", "damn"));
        assert_eq!(room.chat_lines().last(), Some("[12:34] ada: damn"));
        room.set_chat_filter(ChatFilter::Off);
        room.apply(line("bob", "shit"));
        assert_eq!(room.chat_lines().last(), Some("[12:34] bob: shit"));
    }

    #[test]
    fn walking_uses_the_catalog_speed_and_stays_on_the_floor() {
        let rules = Catalog::shipped().lobby();
        let (x, _) = walk((100.0, 100.0), (1.0, 0.0), 0.5);
        assert!((x - (100.0 + rules.walk_speed as f32 * 0.5)).abs() < 1e-3);
        let (x, y) = walk((1.0, 1.0), (-1.0, -1.0), 10.0);
        assert_eq!((x, y), (0.0, 0.0));
    }

    #[test]
    fn reach_picks_the_nearest_and_glides_converge() {
        let reach = Catalog::shipped().lobby().trade_reach as f32;
        let others = [("far", (reach * 3.0, 0.0)), ("near", (reach * 0.5, 0.0))];
        assert_eq!(nearest_in_reach((0.0, 0.0), others), Some("near".into()));
        let mut p = (0.0, 0.0);
        for _ in 0..200 {
            p = follow_step(p, (100.0, 50.0), 12.0, 1.0 / 60.0);
        }
        assert_eq!(p, (100.0, 50.0));
        let (sx, sy) = spawn_point("ada");
        assert!(sx > 0.0 && sy > 0.0);
    }
}
