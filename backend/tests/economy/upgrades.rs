//! `POST /upgrades/{id}/purchase`.

use reqwest::StatusCode;

use crate::both_databases;
use crate::econ::{json_of, pilot};
use crate::helpers::{TestApp, assert_error};

both_databases!(purchase_next_levels_until_max);
async fn purchase_next_levels_until_max(app: &TestApp) {
    let ada = pilot(app).await;
    let body = json_of(app.purchase(&ada, "speed_boost").await, StatusCode::OK).await;
    assert_eq!(body["upgrade"], "speed_boost");
    assert_eq!(body["level"], 1);
    assert_eq!(body["cost"], 100);
    assert_eq!(body["player"]["credits"], 0);
    assert_eq!(body["player"]["upgrades"]["speed_boost"], 1);

    let poor = app.purchase(&ada, "speed_boost").await;
    assert_error(poor, StatusCode::CONFLICT, "insufficient_credits").await;
    assert_eq!(app.player(&ada).await["upgrades"]["speed_boost"], 1);

    // Debris scanner: 300 + 480 + 768, then max.
    app.earn(&ada, 1548).await;
    for (level, cost) in [(1, 300), (2, 480), (3, 768)] {
        let body = json_of(app.purchase(&ada, "debris_scanner").await, StatusCode::OK).await;
        assert_eq!(
            (
                body["level"].as_u64().unwrap(),
                body["cost"].as_u64().unwrap()
            ),
            (level, cost)
        );
    }
    let before = app.player(&ada).await;
    assert_error(
        app.purchase(&ada, "debris_scanner").await,
        StatusCode::CONFLICT,
        "max_level",
    )
    .await;
    assert_eq!(app.player(&ada).await, before);
    assert!(app.audit().await.is_empty());

    let messages = json_of(
        app.get_authed("/api/v1/messages", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        messages["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "first_upgrade")
    );
}

both_databases!(purchase_unknown_upgrade);
async fn purchase_unknown_upgrade(app: &TestApp) {
    let ada = pilot(app).await;
    assert_error(
        app.purchase(&ada, "warp_drive").await,
        StatusCode::NOT_FOUND,
        "unknown_upgrade",
    )
    .await;
    assert_error(
        app.purchase(&ada, "SPEED_BOOST").await,
        StatusCode::NOT_FOUND,
        "unknown_upgrade",
    )
    .await;
    assert_eq!(app.player(&ada).await["credits"], 100);
}

both_databases!(zone_access_opens_zone_two);
async fn zone_access_opens_zone_two(app: &TestApp) {
    let ada = pilot(app).await;
    app.earn(&ada, 500).await;
    let body = json_of(app.purchase(&ada, "zone_access").await, StatusCode::OK).await;
    assert_eq!(body["player"]["zone_access"], 2);
    app.start_run(&ada, 2).await;
    let messages = json_of(
        app.get_authed("/api/v1/messages", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        messages["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "zone_2_unlocked")
    );
}
