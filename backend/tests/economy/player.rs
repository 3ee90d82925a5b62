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
