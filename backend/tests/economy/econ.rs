//! Economy test helpers: typed calls, an honest "pilot" that plans
//! collection claims the verifier must accept, and DB assertions (audit,
//! totals).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};

use game::api::CollectedPiece;
use game::economy::ShipEffects;
use game::verify::{ReachLimits, Waypoint, debris_at};
use game::{Catalog, UpgradeLevels, ZoneId};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

pub fn catalog() -> &'static Catalog {
    Catalog::shipped()
}

/// A logged-in player: `(username, access token)`.
#[derive(Debug, Clone)]
pub struct Pilot {
    pub username: String,
    pub token: String,
}

pub async fn pilot(app: &TestApp) -> Pilot {
    let (user, tokens) = app.signup().await;
    Pilot {
        username: user.username,
        token: tokens.access_token,
    }
}

/// A logged-in player whose email is verified (the real confirmation
/// mail): its start credits are transferable from the start.
pub async fn verified_pilot(app: &TestApp) -> Pilot {
    let (user, tokens) = app.signup().await;
    let code = app.mailed_code(&user.email, "confirm").await;
    let verified = app
        .post_json("/api/v1/auth/verify-email", &json!({ "token": code }))
        .await;
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
    Pilot {
        username: user.username,
        token: tokens.access_token,
    }
}

pub async fn json_of(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

impl TestApp {
    pub async fn post_keyed(
        &self,
        path: &str,
        token: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.client.post(self.url(path)).bearer_auth(token);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request")
    }

    pub async fn player(&self, pilot: &Pilot) -> Value {
        json_of(
            self.get_authed("/api/v1/player", &pilot.token).await,
            StatusCode::OK,
        )
        .await
    }

    /// Starts a run (asserting 201): `(run id, seed)`.
    pub async fn start_run(&self, pilot: &Pilot, zone: ZoneId) -> (String, u64) {
        let body = json_of(
            self.post_authed(&format!("/api/v1/zones/{zone}/runs"), &pilot.token, None)
                .await,
            StatusCode::CREATED,
        )
        .await;
        let seed = body["seed"]
            .as_str()
            .expect("seed string")
            .parse()
            .expect("u64 seed");
        (body["run_id"].as_str().expect("run id").to_owned(), seed)
    }

    /// Moves a run's start `secs` into the past (the server clock then
    /// allows claims that late), without touching any balance.
    pub async fn backdate_run(&self, run_id: &str, secs: i64) {
        sqlx::query("UPDATE runs SET started_at = started_at - $2 WHERE id = $1")
            .bind(run_id)
            .bind(secs * 1000)
            .execute(self.db.pool())
            .await
            .expect("backdate run");
    }

    pub async fn collect(
        &self,
        pilot: &Pilot,
        run_id: &str,
        pieces: &[CollectedPiece],
    ) -> Response {
        self.post_authed(
            &format!("/api/v1/runs/{run_id}/collect"),
            &pilot.token,
            Some(&json!({ "pieces": pieces })),
        )
        .await
    }

    /// Collects up to `count` pieces honestly in a new zone-1 run (most
    /// valuable reachable first when `greedy`); returns the player after.
    pub async fn gather(&self, pilot: &Pilot, count: usize, greedy: bool) -> Value {
        let (run_id, seed) = self.start_run(pilot, 1).await;
        self.backdate_run(&run_id, 3600).await;
        let plan = plan_route(1, seed, count, &HashSet::new(), greedy);
        let body = json_of(self.collect(pilot, &run_id, &plan).await, StatusCode::OK).await;
        body["player"].clone()
    }

    /// Sells everything, docked (asserting 200); credits gained.
    pub async fn sell_all(&self, pilot: &Pilot) -> u64 {
        let dock = self.dock(pilot).await;
        let body = json_of(
            self.post_authed(
                "/api/v1/hub/sell",
                &pilot.token,
                Some(&json!({"all": true, "dock": dock})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        body["credits_gained"].as_u64().expect("credits_gained")
    }

    /// `{"all": true}` or `{"items": ...}` with an honest dock claim added.
    pub async fn docked(&self, pilot: &Pilot, mut body: Value) -> Value {
        body["dock"] = self.dock(pilot).await;
        body
    }

    /// The pilot's active run: `(id, zone, seed, started_at)`.
    pub async fn active_run(&self, pilot: &Pilot) -> Option<(String, i64, String, i64)> {
        sqlx::query_as(
            "SELECT r.id, r.zone, r.seed, r.started_at FROM runs r JOIN users u ON u.id = r.user_id
             WHERE lower(u.username) = lower($1) AND r.ended_at IS NULL",
        )
        .bind(&pilot.username)
        .fetch_optional(self.db.pool())
        .await
        .expect("active run")
    }

    /// An honest dock claim for the pilot now: in its active run (a new
    /// backdated one if none), at the hub nearest to where the ship last
    /// was, late enough to have flown there at half the base speed (the
    /// run is backdated further if the server clock is not there yet).
    pub async fn dock(&self, pilot: &Pilot) -> Value {
        let (run_id, zone, seed, started_at) = match self.active_run(pilot).await {
            Some(run) => run,
            None => {
                let (run_id, _) = self.start_run(pilot, 1).await;
                self.backdate_run(&run_id, 3600).await;
                self.active_run(pilot).await.expect("the run just started")
            }
        };
        let zone = ZoneId::try_from(zone).unwrap();
        let seed: u64 = seed.parse().unwrap();
        let c = catalog();
        let hubs = &c.zone(zone).expect("zone").hubs;
        let pieces: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT debris_index, claimed_at FROM run_pieces WHERE run_id = $1 ORDER BY claimed_at DESC LIMIT 1",
        )
        .bind(&run_id)
        .fetch_all(self.db.pool())
        .await
        .unwrap();
        let docks: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT hub, claimed_at FROM run_docks WHERE run_id = $1 ORDER BY claimed_at DESC LIMIT 1",
        )
        .bind(&run_id)
        .fetch_all(self.db.pool())
        .await
        .unwrap();
        let mut last = (0.0f64, 0.0f64, 0.0f64);
        if let Some(&(index, at)) = pieces.first() {
            let piece = debris_at(c, zone, seed, index as u32, at).expect("stored piece");
            last = (at, piece.x, piece.y);
        }
        if let Some(&(hub, at)) = docks.first()
            && at > last.0
        {
            last = (at, hubs[hub as usize].x, hubs[hub as usize].y);
        }
        let (hub, distance) = hubs
            .iter()
            .enumerate()
            .map(|(i, h)| (i, (h.x - last.1).hypot(h.y - last.2)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        let speed = ShipEffects::from_levels(c, &UpgradeLevels::default()).max_forward_speed;
        let at = (last.0 + distance / (0.5 * speed) + 1.0).ceil();
        let elapsed = (backend::clock::now_ms() - started_at) as f64 / 1000.0;
        if at > elapsed - 1.0 {
            self.backdate_run(&run_id, (at - elapsed) as i64 + 5).await;
        }
        json!({"run_id": run_id, "hub": hub, "at": at})
    }

    /// Gathers and sells until the player has at least `credits`.
    pub async fn earn(&self, pilot: &Pilot, credits: u64) -> Value {
        loop {
            let player = self.player(pilot).await;
            if player["credits"].as_u64().unwrap() >= credits {
                return player;
            }
            self.gather(pilot, 10, true).await;
            self.sell_all(pilot).await;
        }
    }

    /// Buys the next level, docked.
    pub async fn purchase(&self, pilot: &Pilot, upgrade: &str) -> Response {
        let dock = self.dock(pilot).await;
        self.post_authed(
            &format!("/api/v1/upgrades/{upgrade}/purchase"),
            &pilot.token,
            Some(&json!({ "dock": dock })),
        )
        .await
    }

    /// `backend audit`'s findings, as strings.
    pub async fn audit(&self) -> Vec<String> {
        backend::commands::audit(&self.db)
            .await
            .expect("audit runs")
            .into_iter()
            .map(|f| format!("[{}] {}", f.check, f.detail))
            .collect()
    }

    pub async fn ledger_rows(&self) -> i64 {
        self.count("ledger").await
    }

    /// Sum of every player's credits, items and upgrade levels.
    pub async fn totals(&self) -> Totals {
        let credits: Option<i64> =
            sqlx::query_scalar("SELECT CAST(SUM(credits) AS BIGINT) FROM players")
                .fetch_one(self.db.pool())
                .await
                .expect("credits");
        let items: Option<i64> =
            sqlx::query_scalar("SELECT CAST(SUM(count) AS BIGINT) FROM player_items")
                .fetch_one(self.db.pool())
                .await
                .expect("items");
        let levels: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(speed_boost + inventory_expansion + collection_efficiency + cargo_magnet
                + zone_access + debris_scanner) AS BIGINT) FROM players",
        )
        .fetch_one(self.db.pool())
        .await
        .expect("levels");
        let negative: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM players WHERE credits < 0 OR speed_boost < 0 OR inventory_expansion < 0
               OR collection_efficiency < 0 OR cargo_magnet < 0 OR zone_access < 0 OR debris_scanner < 0",
        )
        .fetch_one(self.db.pool())
        .await
        .expect("negative");
        let negative_items: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM player_items WHERE count <= 0")
                .fetch_one(self.db.pool())
                .await
                .expect("negative items");
        Totals {
            credits: credits.unwrap_or(0),
            items: items.unwrap_or(0),
            levels: levels.unwrap_or(0),
            negative: negative + negative_items,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub credits: i64,
    pub items: i64,
    pub levels: i64,
    pub negative: i64,
}

/// Plans `count` claims from the run start that the verifier accepts with
/// base upgrades: a route through initial debris, each leg slow enough for
/// the ship. `greedy` prefers valuable pieces.
pub fn plan_route(
    zone: ZoneId,
    seed: u64,
    count: usize,
    exclude: &HashSet<u32>,
    greedy: bool,
) -> Vec<CollectedPiece> {
    let c = catalog();
    let effects = ShipEffects::from_levels(c, &UpgradeLevels::default());
    let limits = ReachLimits::from_effects(c, &effects);
    let initial = c.zone(zone).expect("zone").initial_debris;
    let mut taken: HashSet<u32> = exclude.clone();
    let mut here = Waypoint::RUN_START;
    let mut route = Vec::new();
    while route.len() < count {
        let mut best: Option<(f64, u32)> = None;
        for index in 0..initial {
            if taken.contains(&index) {
                continue;
            }
            let Ok(piece) = debris_at(c, zone, seed, index, here.at) else {
                continue;
            };
            let distance = (piece.x - here.x).hypot(piece.y - here.y);
            let score = if greedy {
                -(piece.value as f64) / (distance + 400.0)
            } else {
                distance
            };
            if best.is_none_or(|(s, _)| score < s) {
                best = Some((score, index));
            }
        }
        let Some((_, index)) = best else { break };
        taken.insert(index);
        let mut at = here.at + 0.5;
        loop {
            let piece = debris_at(c, zone, seed, index, at).expect("initial debris exists");
            let next = Waypoint {
                at,
                x: piece.x,
                y: piece.y,
                exact: false,
            };
            // Margin: half the speed the bound allows.
            let slow = ReachLimits {
                max_speed: limits.max_speed * 0.5,
                ..limits
            };
            if slow.reachable(here, next) {
                route.push(CollectedPiece { index, at });
                here = next;
                break;
            }
            at += 1.0;
        }
    }
    route
}

/// Item counts of a player JSON.
pub fn inventory(player: &Value) -> BTreeMap<String, u64> {
    player["inventory"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

pub fn hold_used(player: &Value) -> u64 {
    player["hold"]["used"].as_u64().unwrap()
}

// ---- lobbies, trades, WebSockets --------------------------------------------

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestApp {
    /// Creates a lobby (asserting 201); its code.
    pub async fn create_lobby(&self, pilot: &Pilot) -> String {
        let body = json_of(
            self.post_authed("/api/v1/lobbies", &pilot.token, None)
                .await,
            StatusCode::CREATED,
        )
        .await;
        body["code"].as_str().expect("code").to_owned()
    }

    pub async fn join(&self, pilot: &Pilot, code: &str) -> Response {
        self.post_authed(&format!("/api/v1/lobbies/{code}/join"), &pilot.token, None)
            .await
    }

    pub async fn offer(
        &self,
        from: &Pilot,
        code: &str,
        to: &str,
        give: Value,
        want: Value,
    ) -> Response {
        self.post_authed(
            &format!("/api/v1/lobbies/{code}/trades"),
            &from.token,
            Some(&json!({"to": to, "give": give, "want": want})),
        )
        .await
    }

    pub async fn trade_action(&self, who: &Pilot, trade_id: &str, action: &str) -> Response {
        self.post_authed(
            &format!("/api/v1/trades/{trade_id}/{action}"),
            &who.token,
            None,
        )
        .await
    }

    pub async fn trade_status(&self, trade_id: &str) -> String {
        sqlx::query_scalar("SELECT status FROM trades WHERE id = $1")
            .bind(trade_id)
            .fetch_one(self.db.pool())
            .await
            .expect("trade status")
    }
}

/// How a socket authenticates.
#[derive(Debug, Clone, Copy)]
pub enum WsAuth {
    Header,
    Subprotocol,
    None,
}

/// Opens a lobby socket on `address` (`http://127.0.0.1:port`).
pub async fn ws_connect(
    address: &str,
    code: &str,
    token: &str,
    auth: WsAuth,
) -> Result<Socket, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let url = format!(
        "{}/api/v1/lobbies/{code}/ws",
        address.replacen("http://", "ws://", 1)
    );
    let mut request = url.into_client_request().expect("ws request");
    match auth {
        WsAuth::Header => {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        WsAuth::Subprotocol => {
            request.headers_mut().insert(
                "sec-websocket-protocol",
                format!("cots.v1, bearer.{token}").parse().unwrap(),
            );
        }
        WsAuth::None => {}
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            if let WsAuth::Subprotocol = auth {
                assert_eq!(response.headers()["sec-websocket-protocol"], "cots.v1");
            }
            Ok(socket)
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(other) => panic!("websocket: {other}"),
    }
}

/// The next JSON event, or None at close / after `secs`.
pub async fn next_event(socket: &mut Socket, secs: f64) -> Option<Value> {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        match message.ok()? {
            Message::Text(text) => {
                return Some(serde_json::from_str(text.as_str()).expect("JSON event"));
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// Reads events until one has `type == kind` (panics after 10 s).
pub async fn expect_event(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let event = next_event(socket, 10.0)
            .await
            .unwrap_or_else(|| panic!("no `{kind}` event"));
        if event["type"] == kind {
            return event;
        }
    }
}

pub async fn send_json(socket: &mut Socket, value: Value) {
    use futures::SinkExt as _;
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(
            value.to_string().into(),
        ))
        .await
        .expect("send");
}
