//! `GET /player` and `GET /catalog`.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_databases;
use crate::econ::{catalog, json_of, pilot};
use crate::helpers::{TestApp, assert_error};

both_databases!(a_new_player_has_the_starting_state);
async fn a_new_player_has_the_starting_state(app: &TestApp) {
    let ada = pilot(app).await;
    let player = app.player(&ada).await;
    assert_eq!(
        player,
        json!({
            "username": ada.username,
            "credits": 100,
            "inventory": {},
            "hold": {"used": 0, "capacity": 10},
            "upgrades": {
                "speed_boost": 0, "inventory_expansion": 0, "collection_efficiency": 0,
                "cargo_magnet": 0, "zone_access": 0, "debris_scanner": 0
            },
            "zone_access": 1,
            "stats": {"debris_collected": 0, "credits_earned": 0, "trades_completed": 0},
            "version": 0
        })
    );
    // Reading again creates nothing more: one player row, one opening entry.
    assert_eq!(app.player(&ada).await, player);
    assert_eq!(app.count("players").await, 1);
    assert_eq!(app.ledger_rows().await, 1);
    assert!(app.audit().await.is_empty());
}

both_databases!(player_needs_a_token);
async fn player_needs_a_token(app: &TestApp) {
    assert_error(
        app.get("/api/v1/player").await,
        StatusCode::UNAUTHORIZED,
        "missing_token",
    )
    .await;
    assert_error(
        app.get_authed("/api/v1/player", "not-a-jwt").await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
}

both_databases!(catalog_is_the_game_crates);
async fn catalog_is_the_game_crates(app: &TestApp) {
    let body = json_of(app.get("/api/v1/catalog").await, StatusCode::OK).await;
    assert_eq!(body, serde_json::to_value(catalog()).unwrap());
    assert_eq!(body["debris"].as_array().unwrap().len(), 8);
    assert_eq!(body["zones"].as_array().unwrap().len(), 4);
    assert_eq!(
        body["upgrades"]["speed_boost"]["costs"],
        json!([100, 150, 225, 338, 506])
    );
}

both_databases!(export_and_api_docs_cover_the_economy);
async fn export_and_api_docs_cover_the_economy(app: &TestApp) {
    let ada = pilot(app).await;
    app.gather(&ada, 2, false).await;
    let export = json_of(
        app.get_authed("/api/v1/me/export", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    let game = &export["game"];
    assert_eq!(game["player"], app.player(&ada).await);
    assert_eq!(game["runs"].as_array().unwrap().len(), 1);
    assert!(game["ledger"].as_array().unwrap().len() >= 2, "{game}");
    assert!(
        game["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "first_collection")
    );

    let docs = json_of(app.get("/openapi.json").await, StatusCode::OK).await;
    for path in [
        "/api/v1/player",
        "/api/v1/catalog",
        "/api/v1/zones/{zone}/runs",
        "/api/v1/runs/{run_id}/collect",
        "/api/v1/hub/sell",
        "/api/v1/upgrades/{upgrade}/purchase",
        "/api/v1/messages",
        "/api/v1/messages/{id}/seen",
        "/api/v1/lobbies",
        "/api/v1/lobbies/{code}",
        "/api/v1/lobbies/{code}/join",
        "/api/v1/lobbies/{code}/leave",
        "/api/v1/lobbies/{code}/ws",
        "/api/v1/lobbies/{code}/trades",
        "/api/v1/trades/{id}/accept",
        "/api/v1/trades/{id}/decline",
        "/api/v1/trades/{id}/cancel",
    ] {
        assert!(docs["paths"][path].is_object(), "{path} is documented");
    }
}
