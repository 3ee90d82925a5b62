//! `POST /zones/{zone}/runs` and `POST /runs/{run}/collect`.

use std::collections::HashSet;

use game::api::CollectedPiece;
use game::verify::debris_at;
use reqwest::StatusCode;
use serde_json::json;

use crate::both_databases;
use crate::econ::{catalog, hold_used, json_of, pilot, plan_route};
use crate::helpers::{TestApp, assert_error};

both_databases!(start_run_checks_the_zone);
async fn start_run_checks_the_zone(app: &TestApp) {
    let ada = pilot(app).await;
    let response = app
        .post_authed("/api/v1/zones/1/runs", &ada.token, None)
        .await;
    let body = json_of(response, StatusCode::CREATED).await;
    assert_eq!(body["zone"], 1);
    assert!(body["run_id"].is_string());
    assert!(body["started_at"].as_str().unwrap().ends_with('Z'));
    let seed = body["seed"].as_str().expect("the seed is a string");
    seed.parse::<u64>().expect("a decimal u64");

    let two = app
        .post_authed("/api/v1/zones/2/runs", &ada.token, None)
        .await;
    assert_error(two, StatusCode::FORBIDDEN, "zone_locked").await;
    for zone in ["0", "5", "99999", "abc", "-1"] {
        let response = app
            .post_authed(&format!("/api/v1/zones/{zone}/runs"), &ada.token, None)
            .await;
        assert_error(response, StatusCode::NOT_FOUND, "unknown_zone").await;
    }
    assert_eq!(app.count("runs").await, 1);
    let anonymous = app.post_json("/api/v1/zones/1/runs", &json!({})).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

both_databases!(collect_accepts_honest_pieces);
async fn collect_accepts_honest_pieces(app: &TestApp) {
    let ada = pilot(app).await;
    let (run, seed) = app.start_run(&ada, 1).await;
    app.backdate_run(&run, 600).await;
    let plan = plan_route(1, seed, 4, &HashSet::new(), false);
    let body = json_of(app.collect(&ada, &run, &plan).await, StatusCode::OK).await;
    let indices: Vec<u32> = plan.iter().map(|p| p.index).collect();
    assert_eq!(body["accepted"], json!(indices));
    assert_eq!(body["rejected"], json!([]));
    let player = &body["player"];
    assert_eq!(hold_used(player), 4);
    assert_eq!(player["stats"]["debris_collected"], 4);
    assert_eq!(player["version"], 1);
    // The server derived the kinds from the seed.
    let c = catalog();
    let mut expected = std::collections::BTreeMap::<String, u64>::new();
    for piece in &plan {
        let found = debris_at(c, 1, seed, piece.index, piece.at).unwrap();
        *expected
            .entry(c.kind(found.kind).unwrap().id.clone())
            .or_default() += 1;
    }
    assert_eq!(player["inventory"], json!(expected));
    assert_eq!(app.player(&ada).await, *player);
    assert!(app.audit().await.is_empty());
}

both_databases!(collect_rejects_each_bad_piece_on_its_own);
async fn collect_rejects_each_bad_piece_on_its_own(app: &TestApp) {
    let ada = pilot(app).await;
    let (run, seed) = app.start_run(&ada, 1).await;
    app.backdate_run(&run, 600).await;
    let plan = plan_route(1, seed, 2, &HashSet::new(), false);
    json_of(app.collect(&ada, &run, &plan[..1]).await, StatusCode::OK).await;

    // A piece far from the route at the same moment as the last one.
    let c = catalog();
    let last = plan[1];
    let here = debris_at(c, 1, seed, last.index, last.at).unwrap();
    let far = (0..400)
        .find(|&i| {
            let d = debris_at(c, 1, seed, i, last.at).unwrap();
            (d.x - here.x).hypot(d.y - here.y) > 2500.0
        })
        .unwrap();
    let batch = vec![
        plan[0], // already collected
        last,    // fine
        CollectedPiece {
            index: far,
            at: last.at + 0.01,
        }, // teleport
        CollectedPiece {
            index: 1_000_000,
            at: 1.0,
        }, // never spawned by then
        CollectedPiece {
            index: 401,
            at: 5000.0,
        }, // later than the server clock
        CollectedPiece {
            index: 402,
            at: -1.0,
        }, // negative time
    ];
    let body = json_of(app.collect(&ada, &run, &batch).await, StatusCode::OK).await;
    assert_eq!(body["accepted"], json!([last.index]));
    let rejected: std::collections::BTreeMap<u64, String> = body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().unwrap(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(rejected[&u64::from(plan[0].index)], "already_collected");
    assert_eq!(rejected[&u64::from(far)], "implausible");
    assert_eq!(rejected[&1_000_000], "unknown_debris");
    assert_eq!(rejected[&401], "too_early");
    assert_eq!(rejected[&402], "implausible");
    assert_eq!(hold_used(&body["player"]), 2);
    assert!(app.audit().await.is_empty());
}

both_databases!(collect_stops_at_a_full_hold);
async fn collect_stops_at_a_full_hold(app: &TestApp) {
    let ada = pilot(app).await;
    let (run, seed) = app.start_run(&ada, 1).await;
    app.backdate_run(&run, 3600).await;
    let route = plan_route(1, seed, 13, &HashSet::new(), false);
    let (plan, more) = route.split_at(12);
    let body = json_of(app.collect(&ada, &run, plan).await, StatusCode::OK).await;
    assert_eq!(body["accepted"].as_array().unwrap().len(), 10);
    let codes: Vec<&str> = body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["hold_full", "hold_full"]);
    assert_eq!(body["player"]["hold"], json!({"used": 10, "capacity": 10}));

    // The hold_full message fires once per run, not once per request.
    let messages = json_of(
        app.get_authed("/api/v1/messages", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"hold_full")
            && ids.contains(&"first_collection")
            && ids.contains(&"debris_10"),
        "{ids:?}"
    );
    let seen = app
        .post_authed("/api/v1/messages/hold_full/seen", &ada.token, None)
        .await;
    assert_eq!(seen.status(), StatusCode::NO_CONTENT);
    let again = json_of(app.collect(&ada, &run, more).await, StatusCode::OK).await;
    assert_eq!(again["rejected"][0]["code"], "hold_full");
    let messages = json_of(
        app.get_authed("/api/v1/messages", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    let hold_full = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "hold_full")
        .unwrap()
        .clone();
    assert_eq!(hold_full["seen"], true, "same run: not fired again");
    // A new run re-arms it.
    let (run2, seed2) = app.start_run(&ada, 1).await;
    app.backdate_run(&run2, 600).await;
    let one = plan_route(1, seed2, 1, &HashSet::new(), false);
    let again = json_of(app.collect(&ada, &run2, &one).await, StatusCode::OK).await;
    assert_eq!(again["accepted"], json!([]));
    let messages = json_of(
        app.get_authed("/api/v1/messages", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    let hold_full = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "hold_full")
        .unwrap()
        .clone();
    assert_eq!(hold_full["seen"], false, "new run: fired again");
}

both_databases!(collect_limits_and_ownership);
async fn collect_limits_and_ownership(app: &TestApp) {
    let ada = pilot(app).await;
    let bob = pilot(app).await;
    let (run, _) = app.start_run(&ada, 1).await;
    let pieces: Vec<CollectedPiece> = (0..65)
        .map(|index| CollectedPiece { index, at: 0.0 })
        .collect();
    assert_error(
        app.collect(&ada, &run, &pieces).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "batch_too_large",
    )
    .await;
    assert_error(
        app.collect(&bob, &run, &pieces[..1]).await,
        StatusCode::NOT_FOUND,
        "unknown_run",
    )
    .await;
    assert_error(
        app.collect(&ada, "no-such-run", &pieces[..1]).await,
        StatusCode::NOT_FOUND,
        "unknown_run",
    )
    .await;
    let bad = app
        .post_authed(
            &format!("/api/v1/runs/{run}/collect"),
            &ada.token,
            Some(&json!({"pieces": [{"index": "x"}]})),
        )
        .await;
    assert_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request").await;
    assert_eq!(app.count("run_pieces").await, 0);
    assert_eq!(app.player(&ada).await["version"], 0);
}
