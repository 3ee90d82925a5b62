//! In-engine tests of the client's nodes: instantiate the real scenes, drive
//! them, check what they show. No backend needed (fixtures go through
//! `GameState::apply_fixture_json`).

use game::Catalog;
use game::api::Player;
use game::sim::DebrisView;
use godot::classes::{Button, Control, Input, Label, LineEdit, Node, PackedScene};
use godot::prelude::*;

use super::harness::{EngineTest, TestContext};
use crate::app::backend_client::BackendClient;
use crate::app::game_state::GameState;
use crate::hub::hub_panel::HubPanel;
use crate::hub::inventory_panel::InventoryPanel;
use crate::hub::zone_select::ZoneSelect;
use crate::screens::login_screen::LoginScreen;
use crate::screens::register_screen::RegisterScreen;
use crate::zone::debris_field::DebrisField;
use crate::zone::hud::Hud;
use crate::zone::player_ship::PlayerShip;
use crate::zone::zone::Zone;
use client::player_mirror::starting_player;

pub fn tests() -> Vec<EngineTest> {
    vec![
        EngineTest {
            name: "debris_field_draws_ten_thousand_pieces_in_one_multimesh",
            run: debris_field_batches,
        },
        EngineTest {
            name: "player_ship_reads_the_input_map_actions",
            run: ship_reads_actions,
        },
        EngineTest {
            name: "hud_shows_credits_hold_and_upgrades_from_game_state",
            run: hud_shows_state,
        },
        EngineTest {
            name: "hub_panel_lists_held_kinds_and_greys_unaffordable_upgrades",
            run: hub_panel_rows,
        },
        EngineTest {
            name: "inventory_panel_lists_the_hold",
            run: inventory_rows,
        },
        EngineTest {
            name: "zone_select_shows_locked_zones_with_their_requirement",
            run: zone_select_locks,
        },
        EngineTest {
            name: "zone_local_run_places_hubs_and_draws_visible_debris",
            run: zone_local_run,
        },
        EngineTest {
            name: "magnet_collections_flash_play_a_sound_and_count_as_predictions",
            run: magnet_feedback,
        },
        EngineTest {
            name: "hud_warns_at_the_wall_and_shows_radar_and_hub_direction",
            run: hud_telemetry,
        },
        EngineTest {
            name: "login_button_waits_for_both_fields",
            run: login_validation,
        },
        EngineTest {
            name: "login_screen_offers_one_button_per_provider",
            run: login_provider_buttons,
        },
        EngineTest {
            name: "register_rules_tick_off_as_typed",
            run: register_rules,
        },
        EngineTest {
            name: "ai_overlay_queues_messages_and_shows_one_at_a_time",
            run: ai_overlay_queue,
        },
        EngineTest {
            name: "every_scene_instantiates",
            run: scenes_instantiate,
        },
    ]
}

fn game_state(ctx: &TestContext) -> Gd<GameState> {
    ctx.root().get_node_as::<GameState>(GameState::AUTOLOAD)
}

fn fixture(ctx: &TestContext, player: &Player) {
    let json = serde_json::to_string(player).expect("fixture serialises");
    let mut state = game_state(ctx);
    assert!(state.bind_mut().apply_fixture_json(json.as_str().into()));
}

fn rich_player() -> Player {
    let catalog = Catalog::shipped();
    let mut player = starting_player(catalog, "tester");
    player.credits = 1234;
    player.inventory.insert("scrap_metal".into(), 3);
    player.inventory.insert("ai_component".into(), 1);
    player.hold.used = 4;
    player.upgrades.set(game::UpgradeId::SpeedBoost, 2);
    player.version = 1;
    player
}

fn instantiate<T: GodotClass + Inherits<Node>>(ctx: &TestContext, path: &str) -> Gd<T> {
    let scene = try_load::<PackedScene>(path).unwrap_or_else(|e| panic!("{path} loads: {e}"));
    let node = scene
        .instantiate()
        .unwrap_or_else(|| panic!("{path} instantiates"));
    let typed = node
        .try_cast::<T>()
        .unwrap_or_else(|_| panic!("{path} root has the expected class"));
    ctx.root().add_child(&typed.clone().upcast::<Node>());
    typed
}

fn debris_field_batches(ctx: &TestContext) {
    let mut field = DebrisField::new_alloc();
    ctx.root().add_child(&field);
    assert!(field.bind().capacity() >= 10_000, "room for 10k pieces");
    let views: Vec<DebrisView> = (0..10_000)
        .map(|i| DebrisView {
            index: i,
            kind: game::KindIndex((i % 8) as u8),
            x: (i % 100) as f32 * 20.0,
            y: (i / 100) as f32 * 20.0,
            rotation: i as f32 * 0.1,
            pulled: i % 50 == 0,
        })
        .collect();
    field.bind_mut().show(&views);
    assert_eq!(field.bind().drawn_count(), 10_000);
    let multimesh = field.get_multimesh().expect("one MultiMesh");
    assert_eq!(multimesh.get_visible_instance_count(), 10_000);
    field.bind_mut().show(&views[..10]);
    assert_eq!(
        multimesh.get_visible_instance_count(),
        10,
        "only what is shown is drawn"
    );
    field.queue_free();
}

fn ship_reads_actions(ctx: &TestContext) {
    let mut ship = PlayerShip::new_alloc();
    ctx.root().add_child(&ship);
    let mut input = Input::singleton();
    input.action_press("move_up");
    input.action_press("turn_right");
    let read = ship.bind().read_input();
    assert!(read.thrust && read.turn_right && !read.turn_left && !read.reverse);
    ship.bind_mut().lock_controls(true);
    assert_eq!(
        ship.bind().read_input(),
        Default::default(),
        "locked while docked"
    );
    input.action_release("move_up");
    input.action_release("turn_right");
    ship.queue_free();
}

fn hud_shows_state(ctx: &TestContext) {
    fixture(ctx, &rich_player());
    let hud = instantiate::<Hud>(ctx, "res://scenes/zone/hud.tscn");
    assert_eq!(hud.bind().credits_text(), "CR 1 234");
    assert_eq!(hud.bind().hold_text(), "4/10");
    let mut full = rich_player();
    full.inventory.insert("scrap_metal".into(), 9);
    full.hold.used = 10;
    fixture(ctx, &full);
    let mut hud2 = hud.clone();
    hud2.bind_mut().refresh_player();
    assert_eq!(hud.bind().hold_text(), "10/10");
    assert_eq!(hud.bind().hold_bar_colour(), crate::theme::palette::DANGER);
    let upgrades = hud
        .get_node_as::<Label>("%UpgradesLabel")
        .get_text()
        .to_string();
    assert!(upgrades.contains("THR 2"), "{upgrades}");
    assert!(!hud.bind().radar_visible(), "no scanner, no radar");
    let mut hud = hud;
    hud.queue_free();
    game_state(ctx).bind_mut().reset();
}

fn hub_panel_rows(ctx: &TestContext) {
    fixture(ctx, &rich_player());
    let mut panel = instantiate::<HubPanel>(ctx, "res://scenes/hub/hub_panel.tscn");
    panel.bind_mut().open("Kessler Exchange".into());
    assert!(panel.bind().is_open());
    assert_eq!(
        panel.bind().sell_row_count(),
        2,
        "scrap and the AI component"
    );
    let total = panel.bind().total_text().to_string();
    // 3 x 5 + 1 x 500, all selected by default.
    assert!(total.contains("SELECTED 515 CR"), "{total}");
    panel.bind_mut().set_sell_quantity("scrap_metal".into(), 1);
    let total = panel.bind().total_text().to_string();
    assert!(total.contains("SELECTED 505 CR"), "{total}");
    // 1234 credits: zone access (500) affordable, cargo magnet level 1 (400) too,
    // thrusters level 3 costs 225; nothing is maxed. The scanner is 300.
    let speed = panel.bind().buy_button("speed_boost".into()).expect("row");
    assert!(!speed.is_disabled());
    let mut poor = rich_player();
    poor.credits = 120;
    fixture(ctx, &poor);
    panel.bind_mut().open("Kessler Exchange".into());
    let magnet = panel.bind().buy_button("cargo_magnet".into()).expect("row");
    assert!(magnet.is_disabled(), "400 CR > 120 CR: greyed");
    panel.bind_mut().ask_purchase("speed_boost".into());
    assert!(panel.bind().confirm_visible());
    let body = panel.bind().confirm_body().to_string();
    assert!(body.contains("225 CR"), "{body}");
    assert!(
        body.contains("max speed 360 px/s"),
        "new effect shown: {body}"
    );
    let mut cancel = panel.get_node_as::<Button>("%CancelButton");
    cancel.emit_signal("pressed", &[]);
    assert!(!panel.bind().confirm_visible());
    panel.bind_mut().close();
    assert!(!panel.bind().is_open());
    panel.queue_free();
    game_state(ctx).bind_mut().reset();
}

fn inventory_rows(ctx: &TestContext) {
    fixture(ctx, &rich_player());
    let mut inventory = instantiate::<InventoryPanel>(ctx, "res://scenes/hub/inventory_panel.tscn");
    inventory.bind_mut().toggle();
    assert!(inventory.is_visible());
    assert_eq!(inventory.bind().item_row_count(), 2);
    let value = inventory
        .get_node_as::<Label>("%ValueLabel")
        .get_text()
        .to_string();
    assert!(value.contains("515"), "{value}");
    inventory.queue_free();
    game_state(ctx).bind_mut().reset();
}

fn zone_select_locks(ctx: &TestContext) {
    fixture(ctx, &rich_player());
    let mut select = instantiate::<ZoneSelect>(ctx, "res://scenes/hub/zone_select.tscn");
    assert_eq!(
        select.bind().open_zone_count(),
        1,
        "only zone 1 at clearance 0"
    );
    let locked = select.bind().jump_button(3).expect("zone 3 listed");
    assert!(locked.is_disabled());
    let row = select.get_node_as::<Node>("Zone3");
    let text: Vec<String> = row
        .get_children()
        .iter_shared()
        .filter_map(|c| c.try_cast::<Label>().ok())
        .map(|l| l.get_text().to_string())
        .collect();
    assert!(
        text.iter()
            .any(|t| t.contains("needs Deep Space Clearance level 2")),
        "{text:?}"
    );
    select.queue_free();
    game_state(ctx).bind_mut().reset();
}

/// The zone scene in the tree, flying a local run of zone 1 from seed 42
/// (no backend involved).
fn local_zone(ctx: &TestContext) -> Gd<Zone> {
    let scene = try_load::<PackedScene>("res://scenes/zone/zone.tscn").expect("zone.tscn loads");
    let mut zone = scene
        .instantiate()
        .expect("instantiates")
        .try_cast::<Zone>()
        .expect("a Zone");
    zone.set("start_on_ready", &false.to_variant());
    ctx.root().add_child(&zone);
    zone.bind_mut().start_local_run(1, 42);
    zone
}

fn zone_local_run(ctx: &TestContext) {
    let mut zone = local_zone(ctx);
    assert!(zone.bind().is_running());
    assert_eq!(zone.bind().hub_count(), 2);
    assert_eq!(zone.bind().hub_position(0), Vector2::new(420.0, -260.0));
    let field = zone.get_node_as::<DebrisField>("DebrisField");
    let drawn = field.bind().drawn_count();
    assert!(drawn > 0 && drawn < 400, "only pieces in view: {drawn}");
    assert!(zone.bind().nearest_debris(Vector2::ZERO, 3000.0) >= 0);
    assert!((zone.bind().max_speed() - 240.0).abs() < 1e-6);
    zone.queue_free();
}

fn login_validation(ctx: &TestContext) {
    let mut login = instantiate::<LoginScreen>(ctx, "res://scenes/screens/login_screen.tscn");
    login.set("navigate", &false.to_variant());
    let button = login.get_node_as::<Button>("%SignInButton");
    assert!(button.is_disabled());
    let mut edit = login.get_node_as::<LineEdit>("%LoginEdit");
    edit.set_text("ada");
    edit.emit_signal("text_changed", &["ada".to_variant()]);
    assert!(button.is_disabled(), "password still empty");
    let mut password = login.get_node_as::<LineEdit>("%PasswordEdit");
    password.set_text("x");
    password.emit_signal("text_changed", &["x".to_variant()]);
    assert!(!button.is_disabled());
    login.queue_free();
}

fn login_provider_buttons(ctx: &TestContext) {
    let mut login = instantiate::<LoginScreen>(ctx, "res://scenes/screens/login_screen.tscn");
    login.set("navigate", &false.to_variant());
    let client = BackendClient::autoload().expect("the BackendClient autoload");
    let offered = r#"{"providers": [
        {"name": "google", "display_name": "Google", "available": true},
        {"name": "discord", "display_name": "Discord", "available": false}]}"#;
    client.signals().providers_loaded().emit(offered);
    let box_ = login.get_node_as::<Control>("%ProvidersBox");
    assert!(box_.is_visible(), "providers offered: the box is shown");
    assert_eq!(login.bind().provider_button_count(), 2);
    let google = login.get_node_as::<Button>("%ProviderButtons/Provider_google");
    assert_eq!(google.get_text().to_string(), "SIGN IN WITH GOOGLE");
    assert!(!google.is_disabled());
    let discord = login.get_node_as::<Button>("%ProviderButtons/Provider_discord");
    assert_eq!(discord.get_text().to_string(), "DISCORD — UNAVAILABLE");
    assert!(
        discord.is_disabled(),
        "an unreachable provider cannot be pressed"
    );
    assert_eq!(login.bind().provider_stage().to_string(), "idle");
    // None offered (or no station): no buttons, no box.
    client
        .signals()
        .providers_loaded()
        .emit(r#"{"providers": []}"#);
    assert!(!box_.is_visible());
    assert_eq!(login.bind().provider_button_count(), 0);
    login.queue_free();
}

fn register_rules(ctx: &TestContext) {
    let mut register =
        instantiate::<RegisterScreen>(ctx, "res://scenes/screens/register_screen.tscn");
    register.set("navigate", &false.to_variant());
    assert_eq!(register.bind().rules_met(), 0);
    let type_into = |name: &str, text: &str| {
        let mut edit = register.get_node_as::<LineEdit>(name);
        edit.set_text(text);
        edit.emit_signal("text_changed", &[text.to_variant()]);
    };
    type_into("%UsernameEdit", "Voyager");
    type_into("%EmailEdit", "voyager@example.org");
    assert_eq!(register.bind().rules_met(), 3);
    type_into("%PasswordEdit", "orbital-debris");
    assert_eq!(register.bind().rules_met(), 5);
    assert!(!register.bind().can_submit(), "repeat missing");
    type_into("%RepeatEdit", "orbital-debris");
    assert!(register.bind().can_submit());
    type_into("%PasswordEdit", "voyager-orbital");
    assert!(!register.bind().can_submit(), "contains the username");
    let rules = register.get_node_as::<Node>("%Rules");
    let ticked = rules
        .get_children()
        .iter_shared()
        .filter_map(|c| c.try_cast::<Label>().ok())
        .filter(|l| l.get_text().to_string().starts_with("[x]"))
        .count();
    assert_eq!(
        ticked, 4,
        "username x2 and email ok; password contains the name; repeat differs"
    );
    register.queue_free();
}

fn scenes_instantiate(ctx: &TestContext) {
    for path in [
        "res://scenes/zone/player_ship.tscn",
        "res://scenes/zone/trading_hub.tscn",
        "res://scenes/zone/starfield.tscn",
        "res://scenes/zone/hud.tscn",
        "res://scenes/hub/inventory_panel.tscn",
        "res://scenes/hub/zone_select.tscn",
        "res://scenes/hub/hub_panel.tscn",
        "res://scenes/overlays/ai_overlay.tscn",
        "res://scenes/overlays/message_log.tscn",
        "res://scenes/overlays/pause_menu.tscn",
    ] {
        let mut node = instantiate::<Node>(ctx, path);
        node.queue_free();
    }
}

fn ai_overlay_queue(ctx: &TestContext) {
    game_state(ctx).bind_mut().reset();
    let mut overlay = instantiate::<crate::overlays::ai_overlay::AiOverlay>(
        ctx,
        "res://scenes/overlays/ai_overlay.tscn",
    );
    overlay.set("fetch_on_ready", &false.to_variant());
    overlay
        .bind_mut()
        .announce("first_sale".into(), "Transaction complete.".into());
    overlay.bind_mut().announce(
        "first_upgrade".into(),
        "Hardware modification approved.".into(),
    );
    // The same id again is ignored.
    overlay
        .bind_mut()
        .announce("first_sale".into(), "Transaction complete.".into());
    overlay.bind_mut().dismiss();
    assert_eq!(overlay.bind().current_id(), GString::from("first_sale"));
    assert_eq!(overlay.bind().queued_count(), 1);
    assert!(overlay.is_visible());
    assert_eq!(
        overlay.bind().visible_text(),
        GString::new(),
        "types from nothing"
    );
    overlay.bind_mut().finish_typing();
    assert_eq!(
        overlay.bind().visible_text(),
        GString::from("Transaction complete.")
    );
    overlay.bind_mut().dismiss();
    assert_eq!(overlay.bind().current_id(), GString::from("first_upgrade"));
    overlay.bind_mut().dismiss();
    assert_eq!(overlay.bind().current_id(), GString::new());
    assert!(!overlay.is_visible());
    assert_eq!(overlay.bind().shown_count("first_sale".into()), 1);
    overlay.queue_free();
}

fn magnet_feedback(ctx: &TestContext) {
    let catalog = Catalog::shipped();
    let mut player = starting_player(catalog, "tester");
    player.upgrades.set(game::UpgradeId::CargoMagnet, 3);
    player.upgrades.set(game::UpgradeId::InventoryExpansion, 10);
    player.version = 1;
    fixture(ctx, &player);
    let mut zone = local_zone(ctx);
    let effects =
        zone.get_node_as::<crate::zone::collect_effects::CollectEffects>("CollectEffects");
    let mut beams_seen = false;
    for _ in 0..40 {
        zone.bind_mut().simulate(0.1);
        beams_seen |= effects.bind().beam_count() > 0;
    }
    let collected = zone.bind().collected_count();
    assert!(collected > 0, "the magnet pulled something in 4 s");
    assert!(beams_seen, "pulled pieces get a visible beam");
    let blips = effects.bind().sounds_played();
    assert!(
        blips >= 1 && blips <= collected,
        "a blip per landing frame: {blips}/{collected}"
    );
    assert!(effects.bind().active_bursts() > 0, "flashes alive");
    assert!(effects.bind().blip_bytes() > 1000, "the blip was generated");
    let state = game_state(ctx);
    assert_eq!(
        state.bind().pending_collections(),
        collected,
        "predicted at once"
    );
    assert_eq!(state.bind().hold_used(), collected);
    zone.queue_free();
    game_state(ctx).bind_mut().reset();
}

fn hud_telemetry(ctx: &TestContext) {
    let mut hud = instantiate::<Hud>(ctx, "res://scenes/zone/hud.tscn");
    let warning = hud.get_node_as::<Label>("%WarningLabel");
    assert!(!warning.is_visible());
    hud.bind_mut().show_telemetry(&crate::zone::hud::Telemetry {
        speed: 120.0,
        wall_warning: true,
        hub_in_range: Some("Kessler Exchange".into()),
        nearest_hub: Some((
            "Kessler Exchange".into(),
            120.0,
            -std::f32::consts::FRAC_PI_2,
        )),
        radar: Some((
            1200.0,
            vec![crate::zone::radar::Blip {
                offset: Vector2::new(100.0, 0.0),
                colour: crate::theme::palette::CYAN,
                value: Some(500),
            }],
        )),
    });
    assert!(warning.is_visible(), "perimeter warning");
    assert!(hud.bind().radar_visible());
    let hub = hud.bind().hub_text().to_string();
    assert!(
        hub.contains("↑") && hub.contains("KESSLER EXCHANGE"),
        "{hub}"
    );
    let prompt = hud.get_node_as::<Label>("%PromptLabel");
    assert!(prompt.is_visible() && prompt.get_text().to_string().contains("[F] DOCK"));
    hud.queue_free();
}
