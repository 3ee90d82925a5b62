//! Issue 16, the economy: one ship on one clock, selling and buying only
//! docked, quotas on runs and lobbies, traded levels from the top, start
//! credits that stay with their account, and an audit that traces every
//! credit. Each test fails on the code before the fix.

use std::time::Duration;

use game::api::CollectedPiece;
use game::verify::{RUN_HORIZON_SECONDS, debris_at};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_databases;
use crate::econ::{Pilot, WsAuth, catalog, json_of, pilot, plan_route, ws_connect};
use crate::helpers::{PASSWORD, TestApp, assert_error};

/// A piece of run `seed` (zone 1) within `radius` px of the spawn point at
/// `at` s: a ship could have collected it by then.
fn piece_near_spawn(seed: u64, at: f64, radius: f64) -> CollectedPiece {
    let initial = catalog().zone(1).unwrap().initial_debris;
    (0..initial)
        .find(|&index| {
            let piece = debris_at(catalog(), 1, seed, index, at).unwrap();
            piece.x.hypot(piece.y) < radius
        })
        .map(|index| CollectedPiece { index, at })
        .expect("a piece near the spawn point")
}

async fn accepted(app: &TestApp, who: &Pilot, run: &str, pieces: &[CollectedPiece]) -> Value {
    json_of(app.collect(who, run, pieces).await, StatusCode::OK).await
}

fn count(body: &Value, list: &str) -> usize {
    body[list].as_array().unwrap().len()
}

// ---- one ship, one clock ----------------------------------------------------

// The farming script of issue 16: N runs opened at once, one piece
// collected in each "at the same instant". One ship has one clock: only
// the last run is live, the others ended when the next one started.
both_databases!(parallel_runs_cannot_collect_at_the_same_instant);
async fn parallel_runs_cannot_collect_at_the_same_instant(app: &TestApp) {
    let ada = pilot(app).await;
    let mut runs = Vec::new();
    for _ in 0..4 {
        runs.push(app.start_run(&ada, 1).await);
    }
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let mut total = 0;
    for (i, (run, seed)) in runs.iter().enumerate() {
        let body = accepted(app, &ada, run, &[piece_near_spawn(*seed, 2.5, 450.0)]).await;
        let last = i == runs.len() - 1;
        assert_eq!(
            count(&body, "accepted"),
            usize::from(last),
            "run {i}: {body}"
        );
        if !last {
            assert_eq!(body["rejected"][0]["code"], "too_early", "run {i}: {body}");
        }
        total += count(&body, "accepted");
    }
    assert_eq!(total, 1, "one ship collects one piece at one instant");
    let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE ended_at IS NULL")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(active, 1, "at most one active run per player");
    assert!(app.audit().await.is_empty());
}

// An ended run still takes the claims of its own time (an offline queue
// replays them late), and none after its end.
both_databases!(an_ended_run_takes_claims_up_to_its_end);
async fn an_ended_run_takes_claims_up_to_its_end(app: &TestApp) {
    let ada = pilot(app).await;
    let (first, seed) = app.start_run(&ada, 1).await;
    app.backdate_run(&first, 120).await;
    app.start_run(&ada, 1).await;
    let plan = plan_route(1, seed, 3, &Default::default(), false);
    assert!(plan.iter().all(|p| p.at < 110.0), "{plan:?}");
    let body = accepted(app, &ada, &first, &plan).await;
    assert_eq!(count(&body, "accepted"), plan.len(), "{body}");
    // 121 s is after the end (the run lasted 120 s), tolerance or not.
    let late = piece_near_spawn(seed, 121.0, 3000.0);
    let body = accepted(app, &ada, &first, &[late]).await;
    assert_eq!(body["rejected"][0]["code"], "too_early", "{body}");
}

// A run left open ends when the client's offline horizon passes.
both_databases!(a_run_ends_at_the_offline_horizon);
async fn a_run_ends_at_the_offline_horizon(app: &TestApp) {
    let ada = pilot(app).await;
    let (run, seed) = app.start_run(&ada, 1).await;
    let horizon = RUN_HORIZON_SECONDS as i64;
    app.backdate_run(&run, horizon + 3600).await;
    let after = piece_near_spawn(seed, RUN_HORIZON_SECONDS + 60.0, 3000.0);
    let body = accepted(app, &ada, &run, &[after]).await;
    assert_eq!(body["rejected"][0]["code"], "too_early", "{body}");
    let within = plan_route(1, seed, 1, &Default::default(), false);
    let body = accepted(app, &ada, &run, &within).await;
    assert_eq!(count(&body, "accepted"), 1, "{body}");
}

// ---- docked to sell and buy ---------------------------------------------------

both_databases!(selling_and_buying_away_from_a_hub_is_refused);
async fn selling_and_buying_away_from_a_hub_is_refused(app: &TestApp) {
    let ada = pilot(app).await;
    let player = app.gather(&ada, 4, false).await;
    let ledger = app.ledger_rows().await;

    // No dock claim at all.
    let bare = app
        .post_authed("/api/v1/hub/sell", &ada.token, Some(&json!({"all": true})))
        .await;
    assert_error(bare, StatusCode::CONFLICT, "not_docked").await;
    let bare = app
        .post_authed("/api/v1/upgrades/speed_boost/purchase", &ada.token, None)
        .await;
    assert_error(bare, StatusCode::CONFLICT, "not_docked").await;

    // A hub the ship could not have reached since its last piece.
    let honest = app.dock(&ada).await;
    let run = honest["run_id"].as_str().unwrap().to_owned();
    let last: f64 = sqlx::query_scalar("SELECT MAX(claimed_at) FROM run_pieces WHERE run_id = $1")
        .bind(&run)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let hubs = &catalog().zone(1).unwrap().hubs;
    let (run_id, zone_seed) = app.active_run(&ada).await.map(|r| (r.0, r.2)).unwrap();
    assert_eq!(run_id, run);
    let seed: u64 = zone_seed.parse().unwrap();
    let last_piece: i64 = sqlx::query_scalar(
        "SELECT debris_index FROM run_pieces WHERE run_id = $1 AND claimed_at = $2",
    )
    .bind(&run)
    .bind(last)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let here = debris_at(catalog(), 1, seed, last_piece as u32, last).unwrap();
    let far = (0..hubs.len())
        .max_by(|&a, &b| {
            let d = |i: usize| (hubs[i].x - here.x).hypot(hubs[i].y - here.y);
            d(a).total_cmp(&d(b))
        })
        .unwrap();
    let teleport = json!({"all": true, "dock": {"run_id": run, "hub": far, "at": last + 0.5}});
    let refused = app
        .post_authed("/api/v1/hub/sell", &ada.token, Some(&teleport))
        .await;
    assert_error(refused, StatusCode::CONFLICT, "not_docked").await;
    // Docked before the last collection: stale.
    let stale =
        json!({"all": true, "dock": {"run_id": run, "hub": honest["hub"], "at": last - 0.25}});
    let refused = app
        .post_authed("/api/v1/hub/sell", &ada.token, Some(&stale))
        .await;
    assert_error(refused, StatusCode::CONFLICT, "not_docked").await;
    // No such hub, no such run.
    let nowhere = json!({"all": true, "dock": {"run_id": run, "hub": 99, "at": last + 600.0}});
    let refused = app
        .post_authed("/api/v1/hub/sell", &ada.token, Some(&nowhere))
        .await;
    assert_error(refused, StatusCode::NOT_FOUND, "unknown_hub").await;
    let other = json!({"all": true, "dock": {"run_id": "no-such-run", "hub": 0, "at": 10.0}});
    let refused = app
        .post_authed("/api/v1/hub/sell", &ada.token, Some(&other))
        .await;
    assert_error(refused, StatusCode::NOT_FOUND, "unknown_run").await;
    assert_eq!(app.player(&ada).await, player);
    assert_eq!(app.ledger_rows().await, ledger);
    assert_eq!(app.count("run_docks").await, 0);

    // Docked for real: sold, and the dock is on record.
    let sold = app
        .post_authed(
            "/api/v1/hub/sell",
            &ada.token,
            Some(&json!({"all": true, "dock": honest})),
        )
        .await;
    json_of(sold, StatusCode::OK).await;
    assert_eq!(app.count("run_docks").await, 1);
    // The next run starts: the old dock is no good for what it collects.
    app.gather(&ada, 2, false).await;
    let old = app
        .post_authed(
            "/api/v1/hub/sell",
            &ada.token,
            Some(&json!({"all": true, "dock": honest})),
        )
        .await;
    assert_error(old, StatusCode::CONFLICT, "not_docked").await;
    app.sell_all(&ada).await;
    assert!(app.audit().await.is_empty());
}

both_databases!(
    runs_and_lobbies_have_per_player_quotas,
    [
        ("RUN_STARTS_PER_MINUTE", "1"),
        ("RUN_START_BURST", "2"),
        ("LOBBY_OPENS_PER_MINUTE", "1"),
        ("LOBBY_OPEN_BURST", "1"),
        ("SOCKET_OPENS_PER_MINUTE", "1"),
        ("SOCKET_OPEN_BURST", "2")
    ]
);
async fn runs_and_lobbies_have_per_player_quotas(app: &TestApp) {
    let ada = pilot(app).await;
    let bob = pilot(app).await;
    app.start_run(&ada, 1).await;
    app.start_run(&ada, 1).await;
    let third = app
        .post_authed("/api/v1/zones/1/runs", &ada.token, None)
        .await;
    assert!(third.headers().get("retry-after").is_some());
    assert_error(third, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Another player has a quota of their own.
    app.start_run(&bob, 1).await;

    app.create_lobby(&ada).await;
    let second = app.post_authed("/api/v1/lobbies", &ada.token, None).await;
    let wait: u64 = second.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_error(second, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let code = app.create_lobby(&bob).await;

    // Lobby sockets: a burst of two, then 429 on the upgrade.
    let address = app.address.clone();
    let _first = ws_connect(&address, &code, &bob.token, WsAuth::Header)
        .await
        .expect("first socket");
    let _second = ws_connect(&address, &code, &bob.token, WsAuth::Header)
        .await
        .expect("second socket");
    let third = ws_connect(&address, &code, &bob.token, WsAuth::Header).await;
    assert_eq!(
        third.err(),
        Some(429),
        "the third socket in a burst of two is refused"
    );
}

// ---- upgrade levels and gifts -------------------------------------------------

async fn buy(app: &TestApp, who: &Pilot, upgrade: &str) {
    json_of(app.purchase(who, upgrade).await, StatusCode::OK).await;
}

// A traded level is the giver's top one and lands right above the
// receiver's: a level bought for 100 never becomes a receiver's fifth.
both_databases!(traded_levels_move_from_the_top);
async fn traded_levels_move_from_the_top(app: &TestApp) {
    let ada = pilot(app).await;
    let bob = pilot(app).await;
    app.earn(&ada, 250).await;
    buy(app, &ada, "speed_boost").await;
    buy(app, &ada, "speed_boost").await;
    let code = app.create_lobby(&ada).await;
    assert_eq!(app.join(&bob, &code).await.status(), StatusCode::OK);
    let one_level = json!({"upgrades": {"speed_boost": 1}});

    // Ada is at 2, Bob at 0: her second level cannot become his first.
    let offer = json_of(
        app.offer(&ada, &code, &bob.username, one_level.clone(), json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = offer["id"].as_str().unwrap();
    let refused = assert_error(
        app.trade_action(&bob, id, "accept").await,
        StatusCode::CONFLICT,
        "upgrade_not_transferable",
    )
    .await;
    assert!(
        refused["message"].as_str().unwrap().starts_with("receiver"),
        "{refused}"
    );
    app.trade_action(&ada, id, "cancel").await;

    // Bob at 1: Ada's level 2 lands right above his.
    app.earn(&bob, 100).await;
    buy(app, &bob, "speed_boost").await;
    let offer = json_of(
        app.offer(&ada, &code, &bob.username, one_level, json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let done = json_of(
        app.trade_action(&bob, offer["id"].as_str().unwrap(), "accept")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["player"]["upgrades"]["speed_boost"], 2);
    assert_eq!(app.player(&ada).await["upgrades"]["speed_boost"], 1);
    assert!(app.audit().await.is_empty());
}

fn gifts_completed(metrics: &str) -> u64 {
    metrics
        .lines()
        .find(|line| line.contains("economy_events_total") && line.contains("\"gift_completed\""))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

// Throw-away registrations cannot funnel their start credits into one
// account: a fresh account's gift is refused until it has earned its own
// or verified its email; gifts are counted in `/metrics`.
both_databases!(start_credits_cannot_be_gifted);
async fn start_credits_cannot_be_gifted(app: &TestApp) {
    let ada = pilot(app).await;
    let bob = pilot(app).await;
    let (carol_user, carol_tokens) = app.signup().await;
    let carol = Pilot {
        username: carol_user.username.clone(),
        token: carol_tokens.access_token,
    };
    let code = app.create_lobby(&bob).await;
    for who in [&ada, &carol] {
        assert_eq!(app.join(who, &code).await.status(), StatusCode::OK);
    }
    let gift = json!({"credits": 60});

    // Fresh: refused at the offer.
    let refused = assert_error(
        app.offer(&ada, &code, &bob.username, gift.clone(), json!({}))
            .await,
        StatusCode::CONFLICT,
        "start_credits_locked",
    )
    .await;
    assert!(
        refused["message"].as_str().unwrap().contains("earned"),
        "{refused}"
    );
    // Asked for in exchange from a fresh account: refused at the accept.
    let ask = json_of(
        app.offer(&bob, &code, &ada.username, json!({}), gift.clone())
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_error(
        app.trade_action(&ada, ask["id"].as_str().unwrap(), "accept")
            .await,
        StatusCode::CONFLICT,
        "start_credits_locked",
    )
    .await;
    assert_eq!(app.player(&bob).await["credits"], 100);

    // Earned its own: the gift goes through.
    app.earn(&ada, 260).await;
    assert!(
        app.player(&ada).await["stats"]["credits_earned"]
            .as_u64()
            .unwrap()
            >= 100
    );
    let offer = json_of(
        app.offer(&ada, &code, &bob.username, gift.clone(), json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    json_of(
        app.trade_action(&bob, offer["id"].as_str().unwrap(), "accept")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(app.player(&bob).await["credits"], 160);

    // Verified its email: so does Carol's, without earning.
    let code_mail = app.mailed_code(&carol_user.email, "confirm").await;
    let verified = app
        .post_json("/api/v1/auth/verify-email", &json!({ "token": code_mail }))
        .await;
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
    let offer = json_of(
        app.offer(&carol, &code, &bob.username, gift, json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    json_of(
        app.trade_action(&bob, offer["id"].as_str().unwrap(), "accept")
            .await,
        StatusCode::OK,
    )
    .await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(gifts_completed(&metrics), 2, "{metrics}");
    assert!(app.audit().await.is_empty());
}

// ---- the audit traces every credit -----------------------------------------

/// A world with every kind of entry: pieces, sales, a purchase, a trade.
async fn busy_world(app: &TestApp) -> (Pilot, Pilot) {
    let ada = pilot(app).await;
    let bob = pilot(app).await;
    app.earn(&ada, 150).await;
    buy(app, &ada, "speed_boost").await;
    app.gather(&ada, 3, false).await;
    app.earn(&bob, 110).await;
    let code = app.create_lobby(&ada).await;
    assert_eq!(app.join(&bob, &code).await.status(), StatusCode::OK);
    let offer = json_of(
        app.offer(&bob, &code, &ada.username, json!({"credits": 5}), json!({}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    json_of(
        app.trade_action(&ada, offer["id"].as_str().unwrap(), "accept")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(app.audit().await, Vec::<String>::new());
    (ada, bob)
}

async fn user_id(app: &TestApp, who: &Pilot) -> String {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(&who.username)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn exec(app: &TestApp, sql: &str, binds: &[&str]) {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
    for bind in binds {
        query = query.bind(*bind);
    }
    query.execute(app.db.pool()).await.expect(sql);
}

fn has(findings: &[String], check: &str, words: &str) -> bool {
    findings
        .iter()
        .any(|f| f.starts_with(&format!("[{check}]")) && f.contains(words))
}

// A one-sided trade row with an invented reference, its balance raised to
// match: the ledger sums agree, the trade trace does not.
both_databases!(audit_finds_a_one_sided_invented_trade);
async fn audit_finds_a_one_sided_invented_trade(app: &TestApp) {
    let (ada, _) = busy_world(app).await;
    let ada_id = user_id(app, &ada).await;
    let credits: i64 = sqlx::query_scalar("SELECT credits FROM players WHERE user_id = $1")
        .bind(&ada_id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO ledger (id, user_id, entry_id, reason, reference, asset, delta, balance_after, created_at)
         VALUES ($1, $2, $3, 'trade', 'invented-trade', 'credits', 500, $4, 0)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&ada_id)
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(credits + 500)
    .execute(app.db.pool())
    .await
    .unwrap();
    exec(
        app,
        "UPDATE players SET credits = credits + 500 WHERE user_id = $1",
        &[&ada_id],
    )
    .await;
    let findings = app.audit().await;
    assert!(
        has(
            &findings,
            "trades",
            "references trade `invented-trade`, which does not exist"
        ),
        "{findings:?}"
    );
    assert!(
        !findings.iter().any(|f| f.starts_with("[ledger]")),
        "{findings:?}"
    );
}

// A falsified `balance_after` breaks the chain at that row.
both_databases!(audit_finds_a_falsified_balance_after);
async fn audit_finds_a_falsified_balance_after(app: &TestApp) {
    let (ada, _) = busy_world(app).await;
    let ada_id = user_id(app, &ada).await;
    let row: String = sqlx::query_scalar(
        "SELECT id FROM ledger WHERE user_id = $1 AND asset = 'credits' AND reason = 'sell' ORDER BY id LIMIT 1",
    )
    .bind(&ada_id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    exec(
        app,
        "UPDATE ledger SET balance_after = balance_after + 1000 WHERE id = $1",
        &[&row],
    )
    .await;
    let findings = app.audit().await;
    assert!(has(&findings, "chain", &row), "{findings:?}");
}

// A piece whose kind was edited no longer matches its seed; a sale paid
// more than the catalog price; a purchase paid less.
both_databases!(audit_recomputes_pieces_sales_and_purchases);
async fn audit_recomputes_pieces_sales_and_purchases(app: &TestApp) {
    let (ada, _) = busy_world(app).await;
    let ada_id = user_id(app, &ada).await;
    let (run, index, kind): (String, i64, String) = sqlx::query_as(
        "SELECT p.run_id, p.debris_index, p.kind FROM run_pieces p JOIN runs r ON r.id = p.run_id
         WHERE r.user_id = $1 ORDER BY p.run_id, p.debris_index LIMIT 1",
    )
    .bind(&ada_id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let forged = if kind == "quantum_core" {
        "scrap_metal"
    } else {
        "quantum_core"
    };
    sqlx::query("UPDATE run_pieces SET kind = $3 WHERE run_id = $1 AND debris_index = $2")
        .bind(&run)
        .bind(index)
        .bind(forged)
        .execute(app.db.pool())
        .await
        .unwrap();
    let findings = app.audit().await;
    assert!(
        has(
            &findings,
            "pieces",
            &format!("piece {index} is stored as `{forged}` but its seed makes it `{kind}`")
        ),
        "{findings:?}"
    );

    // A sale paid 100 more than the goods were worth, the player's balance
    // and every later row adjusted so that only the price gives it away.
    let (sale_row, entry): (String, String) = sqlx::query_as(
        "SELECT id, entry_id FROM ledger WHERE user_id = $1 AND reason = 'sell' AND asset = 'credits' ORDER BY id LIMIT 1",
    )
    .bind(&ada_id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    exec(
        app,
        "UPDATE ledger SET delta = delta + 100 WHERE id = $1",
        &[&sale_row],
    )
    .await;
    exec(
        app,
        "UPDATE ledger SET balance_after = balance_after + 100 WHERE user_id = $1 AND asset = 'credits' AND id >= $2",
        &[&ada_id, &sale_row],
    )
    .await;
    exec(
        app,
        "UPDATE players SET credits = credits + 100 WHERE user_id = $1",
        &[&ada_id],
    )
    .await;
    let findings = app.audit().await;
    assert!(
        has(&findings, "sales", &format!("sale entry {entry}")),
        "{findings:?}"
    );
    assert!(
        !findings
            .iter()
            .any(|f| f.starts_with("[chain]") || f.starts_with("[ledger]")),
        "{findings:?}"
    );

    // A purchase entry that paid 1 credit.
    let purchase: String = sqlx::query_scalar(
        "SELECT entry_id FROM ledger WHERE user_id = $1 AND reason = 'purchase' LIMIT 1",
    )
    .bind(&ada_id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    exec(
        app,
        "UPDATE ledger SET delta = -1 WHERE entry_id = $1 AND asset = 'credits'",
        &[&purchase],
    )
    .await;
    let findings = app.audit().await;
    assert!(has(&findings, "purchases", &purchase), "{findings:?}");
}

// A trade whose partner deleted the account leaves half an entry behind:
// recorded as retired, it is no finding.
both_databases!(audit_accepts_the_half_of_a_trade_whose_partner_left);
async fn audit_accepts_the_half_of_a_trade_whose_partner_left(app: &TestApp) {
    let (_, bob) = busy_world(app).await;
    let gone = app
        .delete_authed(
            "/api/v1/me",
            &bob.token,
            Some(&json!({"password": PASSWORD})),
        )
        .await;
    assert!(gone.status().is_success(), "{}", gone.status());
    assert_eq!(app.count("retired_trades").await, 1);
    assert_eq!(app.audit().await, Vec::<String>::new());
}
