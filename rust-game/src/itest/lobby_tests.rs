//! In-engine tests of the trading lobby's nodes without a backend: room
//! codes refused locally, server events (as the WebSocket delivers them)
//! driving members, avatars, chat and the trade window. The two-process
//! test against the real backend is `tests/suites/test_lobby_flow.gd`.

use game::Catalog;
use game::api::{Lobby, LobbyMember, LobbyServerEvent, PresenceState, Trade, TradeStatus};
use godot::classes::{Button, INode2D, Input, PackedScene};
use godot::prelude::*;

use super::harness::{EngineTest, TestContext};
use crate::app::game_state::GameState;
use crate::lobby::trade_window::TradeWindow;
use crate::lobby::trading_floor::TradingFloor;
use client::player_mirror::starting_player;

pub fn tests() -> Vec<EngineTest> {
    vec![
        EngineTest {
            name: "lobby_scenes_instantiate",
            run: scenes_instantiate,
        },
        EngineTest {
            name: "lobby_entry_refuses_malformed_room_codes_before_asking",
            run: entry_refuses_codes,
        },
        EngineTest {
            name: "lobby_floor_follows_members_chat_and_positions_from_events",
            run: floor_follows_events,
        },
        EngineTest {
            name: "lobby_floor_dims_a_reconnecting_trader_and_drops_them_when_gone",
            run: floor_shows_presence,
        },
        EngineTest {
            name: "lobby_trade_window_checks_offers_with_the_rules_and_shows_them_live",
            run: trade_window_flow,
        },
        EngineTest {
            name: "lobby_own_avatar_walks_with_the_movement_actions_inside_the_floor",
            run: own_avatar_walks,
        },
        EngineTest {
            name: "lobby_hub_navigation_leads_to_the_trading_lobby",
            run: hub_leads_to_lobby,
        },
    ]
}

fn floor(ctx: &TestContext) -> Gd<TradingFloor> {
    let scene = try_load::<PackedScene>("res://scenes/lobby/trading_floor.tscn")
        .expect("trading_floor.tscn loads");
    let floor = scene
        .instantiate()
        .expect("instantiates")
        .try_cast::<TradingFloor>()
        .expect("a TradingFloor");
    ctx.root().add_child(&floor);
    floor
}

fn lobby(code: &str, names: &[&str]) -> String {
    let lobby = Lobby {
        code: code.into(),
        capacity: 8,
        members: names
            .iter()
            .map(|n| LobbyMember {
                username: (*n).into(),
                joined_at: "2026-11-24T05:00:00Z".into(),
            })
            .collect(),
    };
    serde_json::to_string(&lobby).expect("serialises")
}

fn event(floor: &mut Gd<TradingFloor>, event: &LobbyServerEvent) {
    let json = serde_json::to_string(event).expect("serialises");
    assert!(floor.bind_mut().apply_event_json(json.as_str().into()));
}

fn game_state(ctx: &TestContext) -> Gd<GameState> {
    ctx.root().get_node_as::<GameState>(GameState::AUTOLOAD)
}

fn scenes_instantiate(ctx: &TestContext) {
    for path in [
        "res://scenes/lobby/trading_floor.tscn",
        "res://scenes/lobby/lobby_entry.tscn",
        "res://scenes/lobby/lobby_avatar.tscn",
        "res://scenes/lobby/trade_window.tscn",
    ] {
        let scene = try_load::<PackedScene>(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut node = scene.instantiate().expect("instantiates");
        ctx.root().add_child(&node);
        node.queue_free();
    }
}

fn entry_refuses_codes(ctx: &TestContext) {
    let mut floor = floor(ctx);
    let requests_before = ctx
        .root()
        .get_node_as::<crate::app::backend_client::BackendClient>(
            crate::app::backend_client::BackendClient::AUTOLOAD,
        )
        .bind()
        .requests_in_flight();
    floor.bind_mut().join_room("ABCDE0".into());
    let status = floor.bind().entry_status().to_string();
    assert!(status.contains("`0` never appears"), "{status}");
    floor.bind_mut().join_room("ABC".into());
    let status = floor.bind().entry_status().to_string();
    assert!(status.contains("6 characters"), "{status}");
    // Through the registry's own field and button path.
    let mut entry = floor.get_node_as::<crate::lobby::lobby_entry::LobbyEntry>("%LobbyEntry");
    entry.bind_mut().type_code("k7qx2o".into());
    crate::lobby::lobby_entry::LobbyEntry::submit(entry.clone());
    let status = entry.bind().status_text().to_string();
    assert!(status.contains("`O` never appears"), "{status}");
    let requests_after = ctx
        .root()
        .get_node_as::<crate::app::backend_client::BackendClient>(
            crate::app::backend_client::BackendClient::AUTOLOAD,
        )
        .bind()
        .requests_in_flight();
    assert_eq!(requests_before, requests_after, "nothing was sent");
    assert_eq!(floor.bind().room_code(), "");
    floor.queue_free();
}

fn floor_follows_events(ctx: &TestContext) {
    let mut floor = floor(ctx);
    assert!(floor.bind_mut().enter_fixture(
        lobby("K7QX2M", &["Ada", "Bo"]).as_str().into(),
        "Ada".into()
    ));
    assert_eq!(floor.bind().room_code(), "K7QX2M");
    assert!(
        floor
            .bind()
            .room_label_text()
            .to_string()
            .contains("K7QX2M")
    );
    let members: Vec<String> = floor
        .bind()
        .member_names()
        .as_slice()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(members, ["Ada", "Bo"]);
    let mut bo = floor.bind().avatar("Bo".into()).expect("Bo has an avatar");
    assert_eq!(bo.bind().name_tag_text(), "Bo");
    let ada = floor.bind().avatar("Ada".into()).expect("own avatar");
    assert_eq!(ada.bind().name_tag_text(), "Ada (YOU)");

    // A position update moves the other avatar (smoothly).
    let before = bo.get_position();
    event(
        &mut floor,
        &LobbyServerEvent::Position {
            username: "Bo".into(),
            x: 1200.0,
            y: 300.0,
        },
    );
    assert_eq!(bo.bind().target(), Vector2::new(1200.0, 300.0));
    for _ in 0..120 {
        bo.bind_mut().process(1.0 / 60.0);
    }
    let after = bo.get_position();
    assert!(
        after.distance_to(Vector2::new(1200.0, 300.0)) < 1.0,
        "{before:?} -> {after:?}"
    );
    // Our own echo does not move us.
    let own = floor.bind().own_position();
    event(
        &mut floor,
        &LobbyServerEvent::Position {
            username: "Ada".into(),
            x: 10.0,
            y: 10.0,
        },
    );
    assert_eq!(floor.bind().own_position(), own);

    // Chat lines land in the log.
    event(
        &mut floor,
        &LobbyServerEvent::Chat {
            username: "Bo".into(),
            text: "two scrap for a cell?".into(),
            at: "2026-11-24T05:12:00Z".into(),
        },
    );
    let lines = floor.bind().chat_lines();
    let last = lines.as_slice().last().expect("a line").to_string();
    assert_eq!(last, "[05:12] Bo: two scrap for a cell?");

    // A line the server refused is explained in the log, not lost in silence.
    event(
        &mut floor,
        &LobbyServerEvent::Refused {
            code: game::api::codes::CHAT_RATE_LIMITED.into(),
            message: "too many lines".into(),
        },
    );
    let lines = floor.bind().chat_lines();
    let last = lines.as_slice().last().expect("a line").to_string();
    assert!(
        last.starts_with("// ") && last.contains("NOT SENT"),
        "refusal shown as a system line: {last}"
    );

    // Members come and go.
    event(
        &mut floor,
        &LobbyServerEvent::MemberJoined {
            username: "Cy".into(),
            joined_at: "2026-11-24T05:13:00Z".into(),
        },
    );
    assert!(floor.bind().avatar("Cy".into()).is_some());
    event(
        &mut floor,
        &LobbyServerEvent::MemberLeft {
            username: "Bo".into(),
        },
    );
    assert!(floor.bind().avatar("Bo".into()).is_none());
    assert_eq!(floor.bind().member_names().len(), 2);
    // Walking within reach of Cy and picking them opens the trade window.
    assert!(floor.bind_mut().open_trade_with("Cy".into()));
    assert!(
        !floor.bind_mut().open_trade_with("Ada".into()),
        "not with oneself"
    );
    floor.queue_free();
}

fn floor_shows_presence(ctx: &TestContext) {
    let mut floor = floor(ctx);
    assert!(floor.bind_mut().enter_fixture(
        lobby("K7QX2M", &["Ada", "Bo", "Cy"]).as_str().into(),
        "Ada".into()
    ));
    let presence = |who: &str, state| LobbyServerEvent::Presence {
        username: who.into(),
        state,
    };
    let bo = floor.bind().avatar("Bo".into()).expect("Bo has an avatar");
    event(&mut floor, &presence("Bo", PresenceState::Reconnecting));
    assert!(bo.bind().is_reconnecting());
    assert!(bo.get_modulate().a < 0.5, "dimmed: {:?}", bo.get_modulate());
    assert_eq!(bo.bind().name_tag_text(), "Bo · RECONNECTING");
    assert!(
        !floor.bind_mut().open_trade_with("Bo".into()),
        "no trade with a trader whose link is down"
    );
    let lines = floor.bind().chat_lines();
    let last = lines.as_slice().last().expect("a line").to_string();
    assert_eq!(last, "// Bo LOST THE LINK: RECONNECTING...");

    // Back within the grace period.
    event(&mut floor, &presence("Bo", PresenceState::Connected));
    assert!(!bo.bind().is_reconnecting());
    assert_eq!(bo.get_modulate().a, 1.0);
    assert_eq!(bo.bind().name_tag_text(), "Bo");
    assert!(floor.bind_mut().open_trade_with("Bo".into()));

    // Gone: the server removes Cy after the grace period.
    event(&mut floor, &presence("Cy", PresenceState::Reconnecting));
    event(
        &mut floor,
        &LobbyServerEvent::MemberLeft {
            username: "Cy".into(),
        },
    );
    assert!(floor.bind().avatar("Cy".into()).is_none());
    assert_eq!(floor.bind().member_names().len(), 2);
    floor.queue_free();
}

fn pending_trade(from: &str, to: &str) -> Trade {
    let mut want = game::TradeBundle::default();
    want.items.insert("quantum_core".into(), 5);
    let mut give = game::TradeBundle {
        credits: 300,
        ..Default::default()
    };
    give.upgrades.insert(game::UpgradeId::SpeedBoost, 1);
    Trade {
        id: "t-1".into(),
        lobby: "K7QX2M".into(),
        from: from.into(),
        to: to.into(),
        give,
        want,
        status: TradeStatus::Pending,
        created_at: "2026-11-24T05:14:00Z".into(),
        expires_at: "2026-11-24T05:19:00Z".into(),
    }
}

fn trade_window_flow(ctx: &TestContext) {
    let catalog = Catalog::shipped();
    let mut player = starting_player(catalog, "Ada");
    player.version = 1;
    let json = serde_json::to_string(&player).expect("serialises");
    game_state(ctx)
        .bind_mut()
        .apply_fixture_json(json.as_str().into());
    let mut floor = floor(ctx);
    floor.bind_mut().enter_fixture(
        lobby("K7QX2M", &["Ada", "Bo"]).as_str().into(),
        "Ada".into(),
    );
    let window = floor.get_node_as::<TradeWindow>("%TradeWindow");
    assert!(!window.bind().is_open());
    assert!(floor.bind_mut().open_trade_with("Bo".into()));
    assert!(window.bind().is_open());
    let actions = window.bind().visible_actions().to_string();
    assert!(
        actions.contains("offer") && !actions.contains("accept"),
        "{actions}"
    );

    // Nothing set: the rule refuses before anything is sent.
    let mut w = window.clone();
    w.bind_mut().offer();
    let status = window.bind().status_text().to_string();
    assert!(status.contains("NOTHING WOULD CHANGE HANDS"), "{status}");
    // Giving is capped by what the hold has (100 credits to start).
    assert!(
        w.bind_mut()
            .set_amount("give".into(), "credits".into(), 5000)
    );
    let summary = window.bind().summary_text().to_string();
    assert!(summary.contains("YOU GIVE: 100 CR"), "{summary}");

    // An offer from Bo arrives over the socket: shown live, read-only.
    let trade = pending_trade("Bo", "Ada");
    event(
        &mut floor,
        &LobbyServerEvent::Trade {
            trade: trade.clone(),
        },
    );
    assert_eq!(window.bind().shown_trade_id(), "t-1");
    let actions = window.bind().visible_actions().to_string();
    assert!(
        actions.contains("accept") && actions.contains("decline"),
        "{actions}"
    );
    let summary = window.bind().summary_text().to_string();
    assert!(summary.contains("YOU GIVE: 5 Quantum Core"), "{summary}");
    assert!(
        summary.contains("YOU GET:  300 CR, Thrusters +1"),
        "{summary}"
    );
    let chat = floor.bind().chat_lines().to_string();
    assert!(chat.contains("Bo SENT YOU AN OFFER"), "{chat}");

    // Accepting without the five cores is refused by the shared rule, in words.
    w.bind_mut().accept();
    let status = window.bind().status_text().to_string();
    assert!(status.contains("You no longer hold the debris"), "{status}");

    // Bo withdraws: both sides see it at once.
    let mut cancelled = trade;
    cancelled.status = TradeStatus::Cancelled;
    event(&mut floor, &LobbyServerEvent::Trade { trade: cancelled });
    assert_eq!(window.bind().shown_status(), "cancelled");
    let status = window.bind().status_text().to_string();
    assert!(status.contains("Bo WITHDREW"), "{status}");
    let actions = window.bind().visible_actions().to_string();
    assert!(!actions.contains("accept"), "{actions}");
    floor.queue_free();
    game_state(ctx).bind_mut().reset();
}

fn own_avatar_walks(ctx: &TestContext) {
    let mut floor = floor(ctx);
    floor
        .bind_mut()
        .enter_fixture(lobby("K7QX2M", &["Ada"]).as_str().into(), "Ada".into());
    floor.bind_mut().place_self(Vector2::new(800.0, 450.0));
    let mut input = Input::singleton();
    input.action_press("turn_right");
    // Half a second at the default 200 px/s.
    for _ in 0..30 {
        floor.bind_mut().physics_process(1.0 / 60.0);
    }
    input.action_release("turn_right");
    let moved = floor.bind().own_position();
    assert!(
        (moved.x - 900.0).abs() < 0.5 && (moved.y - 450.0).abs() < 0.01,
        "{moved:?}"
    );
    // The floor's edge holds (the catalog's 1600 x 900).
    floor.bind_mut().place_self(Vector2::new(1590.0, 10.0));
    input.action_press("turn_right");
    input.action_press("move_up");
    for _ in 0..30 {
        floor.bind_mut().physics_process(1.0 / 60.0);
    }
    input.action_release("turn_right");
    input.action_release("move_up");
    assert_eq!(floor.bind().own_position(), Vector2::new(1600.0, 0.0));
    floor.queue_free();
}

fn hub_leads_to_lobby(ctx: &TestContext) {
    let scene = try_load::<PackedScene>("res://scenes/hub/hub_panel.tscn").expect("loads");
    let mut panel = scene
        .instantiate()
        .expect("instantiates")
        .try_cast::<crate::hub::hub_panel::HubPanel>()
        .expect("a HubPanel");
    ctx.root().add_child(&panel);
    panel.bind_mut().open("Kessler Exchange".into());
    let asked = std::rc::Rc::new(std::cell::Cell::new(false));
    let seen = asked.clone();
    panel
        .signals()
        .lobby_requested()
        .connect(move || seen.set(true));
    let mut button = panel.get_node_as::<Button>("%LobbyButton");
    button.emit_signal("pressed", &[]);
    assert!(asked.get(), "the lobby was requested");
    assert!(!panel.bind().is_open(), "the panel closed on the way out");
    panel.queue_free();
}
