//! Trades: offer, accept (atomic swap), decline, cancel, expiry; every
//! error path leaves both players and the trade unchanged.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_databases;
use crate::econ::{Pilot, inventory, json_of, verified_pilot};
use crate::helpers::{TestApp, assert_error};

/// Ada (with items) and Bob in one lobby; Carol outside it.
async fn setup(app: &TestApp) -> (Pilot, Pilot, Pilot, String, String) {
    let ada = verified_pilot(app).await;
    let bob = verified_pilot(app).await;
    let carol = verified_pilot(app).await;
    let player = app.gather(&ada, 4, false).await;
    let kind = inventory(&player).keys().next().unwrap().clone();
    let code = app.create_lobby(&ada).await;
    json_of(app.join(&bob, &code).await, StatusCode::OK).await;
    (ada, bob, carol, code, kind)
}

fn id_of(trade: &Value) -> String {
    trade["id"].as_str().unwrap().to_owned()
}

both_databases!(offer_and_accept_swaps_everything);
async fn offer_and_accept_swaps_everything(app: &TestApp) {
    let (ada, bob, _, code, kind) = setup(app).await;
    json_of(app.purchase(&ada, "speed_boost").await, StatusCode::OK).await;
    let ada_before = app.player(&ada).await;
    let bob_before = app.player(&bob).await;
    let give = json!({"credits": 0, "items": {&kind: 1}, "upgrades": {"speed_boost": 1}});
    let want = json!({"credits": 60});
    let trade = json_of(
        app.offer(&ada, &code, &bob.username, give.clone(), want)
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(trade["status"], "pending");
    assert_eq!(trade["lobby"], code);
    assert_eq!(
        (
            trade["from"].as_str().unwrap(),
            trade["to"].as_str().unwrap()
        ),
        (ada.username.as_str(), bob.username.as_str())
    );
    assert_eq!(trade["give"]["items"][&kind], 1);
    assert_eq!(trade["want"]["credits"], 60);
    assert!(trade["expires_at"].as_str().unwrap() > trade["created_at"].as_str().unwrap());

    let accepted = json_of(
        app.trade_action(&bob, &id_of(&trade), "accept").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(accepted["trade"]["status"], "completed");
    let bob_after = &accepted["player"];
    assert_eq!(bob_after, &app.player(&bob).await);
    let ada_after = app.player(&ada).await;
    assert_eq!(
        bob_after["credits"].as_u64().unwrap(),
        bob_before["credits"].as_u64().unwrap() - 60
    );
    assert_eq!(
        ada_after["credits"].as_u64().unwrap(),
        ada_before["credits"].as_u64().unwrap() + 60
    );
    assert_eq!(inventory(bob_after).get(&kind), Some(&1));
    assert_eq!(
        inventory(&ada_after).get(&kind).copied().unwrap_or(0),
        inventory(&ada_before)[&kind] - 1
    );
    // The traded level left the giver and works for the receiver.
    assert_eq!(ada_after["upgrades"]["speed_boost"], 0);
    assert_eq!(bob_after["upgrades"]["speed_boost"], 1);
    assert_eq!(ada_after["stats"]["trades_completed"], 1);
    assert_eq!(bob_after["stats"]["trades_completed"], 1);
    // Credits earned count sales only.
    assert_eq!(bob_after["stats"]["credits_earned"], 0);
    let messages = json_of(
        app.get_authed("/api/v1/messages", &bob.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        messages["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "first_trade")
    );
    // Ledgered: one entry moving the assets, netting to zero.
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ledger WHERE reason = 'trade' AND reference = $1")
            .bind(id_of(&trade))
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(rows, 6, "credits, item and upgrade on both sides");
    assert!(app.audit().await.is_empty());

    assert_error(
        app.trade_action(&bob, &id_of(&trade), "accept").await,
        StatusCode::CONFLICT,
        "trade_not_pending",
    )
    .await;
    assert_error(
        app.trade_action(&ada, &id_of(&trade), "cancel").await,
        StatusCode::CONFLICT,
        "trade_not_pending",
    )
    .await;

    // Operators see trades in /metrics.
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for needle in [
        "cots_economy_events_total{event=\"trade_offered\"} 1",
        "cots_economy_events_total{event=\"trade_completed\"} 1",
        "cots_economy_events_total{event=\"purchase\"} 1",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
}

both_databases!(offers_are_checked);
async fn offers_are_checked(app: &TestApp) {
    let (ada, bob, carol, code, kind) = setup(app).await;
    let none = json!({});
    let credits = |n: u64| json!({"credits": n});
    // Membership.
    assert_error(
        app.offer(&carol, &code, &ada.username, credits(1), none.clone())
            .await,
        StatusCode::FORBIDDEN,
        "not_a_member",
    )
    .await;
    assert_error(
        app.offer(&ada, &code, &carol.username, credits(1), none.clone())
            .await,
        StatusCode::FORBIDDEN,
        "not_a_member",
    )
    .await;
    assert_error(
        app.offer(&ada, &code, "nobody_at_all", credits(1), none.clone())
            .await,
        StatusCode::FORBIDDEN,
        "not_a_member",
    )
    .await;
    assert_error(
        app.offer(&ada, "ZZZZZZ", &bob.username, credits(1), none.clone())
            .await,
        StatusCode::NOT_FOUND,
        "unknown_lobby",
    )
    .await;
    // Ownership at offer time.
    assert_error(
        app.offer(&ada, &code, &bob.username, credits(101), none.clone())
            .await,
        StatusCode::CONFLICT,
        "insufficient_credits",
    )
    .await;
    assert_error(
        app.offer(
            &ada,
            &code,
            &bob.username,
            json!({"items": {&kind: 99}}),
            none.clone(),
        )
        .await,
        StatusCode::CONFLICT,
        "insufficient_items",
    )
    .await;
    assert_error(
        app.offer(
            &ada,
            &code,
            &bob.username,
            json!({"upgrades": {"cargo_magnet": 1}}),
            none.clone(),
        )
        .await,
        StatusCode::CONFLICT,
        "insufficient_upgrades",
    )
    .await;
    // Shape.
    for (give, want) in [
        (none.clone(), none.clone()),
        (json!({"items": {"moon_rock": 1}}), none.clone()),
        (json!({"items": {&kind: 0}}), none.clone()),
        (none.clone(), json!({"upgrades": {"speed_boost": 6}})),
        (none.clone(), json!({"upgrades": {"warp": 1}})),
        (json!({"credits": -5}), none.clone()),
    ] {
        let response = app.offer(&ada, &code, &bob.username, give, want).await;
        assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        )
        .await;
    }
    assert_error(
        app.offer(&ada, &code, &ada.username, credits(1), none.clone())
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    )
    .await;
    assert_eq!(app.count("trades").await, 0);

    // At most five pending offers.
    for _ in 0..5 {
        json_of(
            app.offer(&ada, &code, &bob.username, credits(1), none.clone())
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    assert_error(
        app.offer(&ada, &code, &bob.username, credits(1), none.clone())
            .await,
        StatusCode::CONFLICT,
        "too_many_offers",
    )
    .await;
}

both_databases!(accept_rechecks_both_sides);
async fn accept_rechecks_both_sides(app: &TestApp) {
    let (ada, bob, carol, code, kind) = setup(app).await;
    let have = inventory(&app.player(&ada).await)[&kind];
    let trade = json_of(
        app.offer(
            &ada,
            &code,
            &bob.username,
            json!({"items": {&kind: have}}),
            json!({"credits": 10}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = id_of(&trade);
    // Only the receiver accepts (403 for anyone else).
    for (who, action) in [
        (&ada, "accept"),
        (&carol, "accept"),
        (&carol, "cancel"),
        (&carol, "decline"),
    ] {
        assert_error(
            app.trade_action(who, &id, action).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    assert_error(
        app.trade_action(&bob, "no-such-trade", "accept").await,
        StatusCode::NOT_FOUND,
        "unknown_trade",
    )
    .await;

    // The offerer sells what they offered: accept fails on their side.
    let sale = app.docked(&ada, json!({"items": {&kind: 1}})).await;
    json_of(
        app.post_authed("/api/v1/hub/sell", &ada.token, Some(&sale))
            .await,
        StatusCode::OK,
    )
    .await;
    let ada_before = app.player(&ada).await;
    let bob_before = app.player(&bob).await;
    let failed = assert_error(
        app.trade_action(&bob, &id, "accept").await,
        StatusCode::CONFLICT,
        "insufficient_items",
    )
    .await;
    assert!(
        failed["message"].as_str().unwrap().starts_with("offerer"),
        "{failed}"
    );
    assert_eq!(app.trade_status(&id).await, "pending");
    assert_eq!(app.player(&ada).await, ada_before);
    assert_eq!(app.player(&bob).await, bob_before);

    // The receiver cannot pay: their side fails.
    let pricey = json_of(
        app.offer(
            &ada,
            &code,
            &bob.username,
            json!({"credits": 1}),
            json!({"credits": 500}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let failed = assert_error(
        app.trade_action(&bob, &id_of(&pricey), "accept").await,
        StatusCode::CONFLICT,
        "insufficient_credits",
    )
    .await;
    assert!(
        failed["message"].as_str().unwrap().starts_with("receiver"),
        "{failed}"
    );

    // The receiver's hold would overflow.
    app.gather(&bob, 10, false).await;
    let spare = app.gather(&ada, 1, false).await;
    let spare = inventory(&spare).keys().next().unwrap().clone();
    let full = json_of(
        app.offer(
            &ada,
            &code,
            &bob.username,
            json!({"items": {&spare: 1}}),
            json!({}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_error(
        app.trade_action(&bob, &id_of(&full), "accept").await,
        StatusCode::CONFLICT,
        "hold_full",
    )
    .await;
    assert_eq!(app.trade_status(&id_of(&full)).await, "pending");
    assert!(app.audit().await.is_empty());
}

both_databases!(decline_cancel_and_expiry);
async fn decline_cancel_and_expiry(app: &TestApp) {
    let (ada, bob, _, code, _) = setup(app).await;
    let offer = || app.offer(&ada, &code, &bob.username, json!({"credits": 5}), json!({}));
    let one = id_of(&json_of(offer().await, StatusCode::CREATED).await);
    assert_error(
        app.trade_action(&ada, &one, "decline").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let declined = json_of(
        app.trade_action(&bob, &one, "decline").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(declined["trade"]["status"], "declined");
    assert_error(
        app.trade_action(&bob, &one, "accept").await,
        StatusCode::CONFLICT,
        "trade_not_pending",
    )
    .await;

    let two = id_of(&json_of(offer().await, StatusCode::CREATED).await);
    assert_error(
        app.trade_action(&bob, &two, "cancel").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let cancelled = json_of(app.trade_action(&ada, &two, "cancel").await, StatusCode::OK).await;
    assert_eq!(cancelled["trade"]["status"], "cancelled");
    assert_error(
        app.trade_action(&bob, &two, "decline").await,
        StatusCode::CONFLICT,
        "trade_not_pending",
    )
    .await;

    // Five minutes later (moved back in the database): expired.
    let three = id_of(&json_of(offer().await, StatusCode::CREATED).await);
    let created: (i64, i64) =
        sqlx::query_as("SELECT created_at, expires_at FROM trades WHERE id = $1")
            .bind(&three)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(created.1 - created.0, 300_000);
    sqlx::query("UPDATE trades SET expires_at = expires_at - 300001 WHERE id = $1")
        .bind(&three)
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_error(
        app.trade_action(&bob, &three, "accept").await,
        StatusCode::CONFLICT,
        "trade_not_pending",
    )
    .await;
    assert_eq!(app.trade_status(&three).await, "expired");

    // Leaving the room cancels one's pending trades there.
    let four = id_of(&json_of(offer().await, StatusCode::CREATED).await);
    let left = app
        .post_authed(&format!("/api/v1/lobbies/{code}/leave"), &bob.token, None)
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.trade_status(&four).await, "cancelled");
    assert_eq!(app.player(&ada).await["credits"], 100, "no credits moved");
}

both_databases!(accept_with_a_key_replays);
async fn accept_with_a_key_replays(app: &TestApp) {
    let (ada, bob, _, code, _) = setup(app).await;
    let trade = json_of(
        app.offer(&ada, &code, &bob.username, json!({"credits": 7}), json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/api/v1/trades/{}/accept", id_of(&trade));
    let first = json_of(
        app.post_keyed(&path, &bob.token, Some("accept-1"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    let again = json_of(
        app.post_keyed(&path, &bob.token, Some("accept-1"), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first, again);
    assert_eq!(app.player(&bob).await["credits"], 107);
    // Without the key a second accept is a conflict.
    assert_error(
        app.post_keyed(&path, &bob.token, None, None).await,
        StatusCode::CONFLICT,
        "trade_not_pending",
    )
    .await;
}

both_databases!(offers_are_rate_limited);
async fn offers_are_rate_limited(app: &TestApp) {
    let (ada, bob, _, code, _) = setup(app).await;
    let mut limited = None;
    for _ in 0..12 {
        let response = app
            .offer(&ada, &code, &bob.username, json!({"credits": 1}), json!({}))
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
        let trade = json_of(response, StatusCode::CREATED).await;
        json_of(
            app.trade_action(&ada, &id_of(&trade), "cancel").await,
            StatusCode::OK,
        )
        .await;
    }
    let limited = limited.expect("offers are rate limited");
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

both_databases!(deleting_a_trader_keeps_the_books_straight);
async fn deleting_a_trader_keeps_the_books_straight(app: &TestApp) {
    let (ada, bob, _, code, kind) = setup(app).await;
    let trade = json_of(
        app.offer(
            &ada,
            &code,
            &bob.username,
            json!({"items": {&kind: 1}}),
            json!({"credits": 20}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    json_of(
        app.trade_action(&bob, &id_of(&trade), "accept").await,
        StatusCode::OK,
    )
    .await;
    let deleted = app
        .delete_authed(
            "/api/v1/me",
            &ada.token,
            Some(&json!({"password": crate::helpers::PASSWORD})),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.audit().await, Vec::<String>::new());
    let bob_now = app.player(&bob).await;
    assert_eq!(bob_now["credits"], 80);
    assert_eq!(inventory(&bob_now).get(&kind), Some(&1));
}
