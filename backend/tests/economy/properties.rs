//! Property test: random sequences of economy operations (collections,
//! sales, purchases, trades accepted or declined) against a real server.
//! After every operation each player's state equals the `game` crate's
//! model of it, and after every sequence the ledger audit passes, so
//! credits, items and levels are conserved: they change only by what the
//! rules say (sales create credits, purchases burn them, collections create
//! items, sales destroy them, trades move them).

use std::collections::{BTreeMap, HashSet};

use game::api::Player;
use game::economy::{TradeError, TradeParty, apply_trade};
use game::verify::debris_at;
use game::{PlayerState, TradeBundle, UpgradeId};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_databases;
use crate::econ::{Pilot, catalog, pilot, plan_route};
use crate::helpers::TestApp;

#[derive(Debug, Clone)]
enum Op {
    Gather {
        who: usize,
        count: usize,
    },
    SellOne {
        who: usize,
        pick: usize,
    },
    SellAll {
        who: usize,
    },
    /// A sale claiming a dock the ship could not have reached: refused
    /// (`not_docked`), nothing changes.
    SellAway {
        who: usize,
    },
    Buy {
        who: usize,
        upgrade: usize,
    },
    Trade {
        from: usize,
        give_credits: u64,
        give_item: Option<usize>,
        want_credits: u64,
        accept: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, 1..6usize).prop_map(|(who, count)| Op::Gather { who, count }),
        2 => (0..2usize, 0..8usize).prop_map(|(who, pick)| Op::SellOne { who, pick }),
        1 => (0..2usize).prop_map(|who| Op::SellAll { who }),
        1 => (0..2usize).prop_map(|who| Op::SellAway { who }),
        2 => (0..2usize, 0..6usize).prop_map(|(who, upgrade)| Op::Buy { who, upgrade }),
        2 => (0..2usize, 0..150u64, proptest::option::of(0..8usize), 0..150u64, any::<bool>()).prop_map(
            |(from, give_credits, give_item, want_credits, accept)| Op::Trade {
                from, give_credits, give_item, want_credits, accept,
            }
        ),
    ]
}

struct World<'a> {
    app: &'a TestApp,
    pilots: [Pilot; 2],
    models: [PlayerState; 2],
    code: String,
}

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

impl World<'_> {
    /// The server's player equals the model (the version aside).
    async fn check(&self, who: usize, step: &str) -> Result<(), TestCaseError> {
        let actual = self.app.player(&self.pilots[who]).await;
        let mut expected = serde_json::to_value(Player::from_state(
            catalog(),
            self.pilots[who].username.clone(),
            &self.models[who],
            0,
        ))
        .unwrap();
        expected["version"] = actual["version"].clone();
        if actual != expected {
            return Err(fail(format!(
                "after {step}: server {actual} != model {expected}"
            )));
        }
        Ok(())
    }

    async fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let c = catalog();
        match *op {
            Op::Gather { who, count } => {
                let (run, seed) = self.app.start_run(&self.pilots[who], 1).await;
                self.app.backdate_run(&run, 3600).await;
                let plan = plan_route(1, seed, count, &HashSet::new(), false);
                let body: Value = self
                    .app
                    .collect(&self.pilots[who], &run, &plan)
                    .await
                    .json()
                    .await
                    .unwrap();
                for index in body["accepted"].as_array().unwrap() {
                    let piece = plan
                        .iter()
                        .find(|p| u64::from(p.index) == index.as_u64().unwrap())
                        .unwrap();
                    let found = debris_at(c, 1, seed, piece.index, piece.at).unwrap();
                    self.models[who]
                        .collect(c, &c.kind(found.kind).unwrap().id, 1)
                        .map_err(|e| {
                            fail(format!("server accepted what the model refuses: {e}"))
                        })?;
                }
            }
            Op::SellOne { who, pick } => {
                let held: Vec<String> = self.models[who].inventory.keys().cloned().collect();
                let kind = if held.is_empty() {
                    "scrap_metal".to_owned()
                } else {
                    held[pick % held.len()].clone()
                };
                let items = BTreeMap::from([(kind.clone(), 1)]);
                let expected = self.models[who].sell(c, &items);
                let response = self
                    .app
                    .post_authed(
                        "/api/v1/hub/sell",
                        &self.pilots[who].token,
                        Some(
                            &self
                                .app
                                .docked(&self.pilots[who], json!({"items": {kind: 1}}))
                                .await,
                        ),
                    )
                    .await;
                same_outcome(response, expected.map(|_| ()).map_err(|e| e.code())).await?;
            }
            Op::SellAll { who } => {
                let expected = self.models[who].sell_all(c);
                let response = self
                    .app
                    .post_authed(
                        "/api/v1/hub/sell",
                        &self.pilots[who].token,
                        Some(
                            &self
                                .app
                                .docked(&self.pilots[who], json!({"all": true}))
                                .await,
                        ),
                    )
                    .await;
                same_outcome(response, expected.map(|_| ()).map_err(|e| e.code())).await?;
            }
            Op::SellAway { who } => {
                // The hub farthest from the spawn point, half a second in.
                let mut dock = self.app.dock(&self.pilots[who]).await;
                let hubs = &c.zone(1).unwrap().hubs;
                let far = (0..hubs.len())
                    .max_by(|&a, &b| {
                        hubs[a]
                            .x
                            .hypot(hubs[a].y)
                            .total_cmp(&hubs[b].x.hypot(hubs[b].y))
                    })
                    .unwrap();
                dock["hub"] = json!(far);
                dock["at"] = json!(0.5);
                let response = self
                    .app
                    .post_authed(
                        "/api/v1/hub/sell",
                        &self.pilots[who].token,
                        Some(&json!({"all": true, "dock": dock})),
                    )
                    .await;
                same_outcome(response, Err("not_docked")).await?;
            }
            Op::Buy { who, upgrade } => {
                let id = UpgradeId::ALL[upgrade];
                let expected = self.models[who].purchase(c, id);
                let response = self.app.purchase(&self.pilots[who], id.as_str()).await;
                same_outcome(response, expected.map(|_| ()).map_err(|e| e.code())).await?;
            }
            Op::Trade {
                from,
                give_credits,
                give_item,
                want_credits,
                accept,
            } => {
                let to = 1 - from;
                let mut give = TradeBundle {
                    credits: give_credits,
                    ..Default::default()
                };
                if let Some(pick) = give_item {
                    let held: Vec<String> = self.models[from].inventory.keys().cloned().collect();
                    if !held.is_empty() {
                        give.items.insert(held[pick % held.len()].clone(), 1);
                    }
                }
                let want = TradeBundle {
                    credits: want_credits,
                    ..Default::default()
                };
                let response = self
                    .app
                    .offer(
                        &self.pilots[from],
                        &self.code,
                        &self.pilots[to].username,
                        json!(give),
                        json!(want),
                    )
                    .await;
                let status = response.status();
                let body: Value = response.json().await.unwrap();
                if status == StatusCode::TOO_MANY_REQUESTS {
                    return Ok(()); // the offer spam limit: nothing happened
                }
                if give.is_empty() && want.is_empty() {
                    prop_assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
                    return Ok(());
                }
                if let Err(error) = self.models[from]
                    .check_can_give(c, &give)
                    .and_then(|()| self.models[from].check_transferable(c, &give, false))
                {
                    prop_assert_eq!(body["code"].as_str(), Some(error.code()), "{}", body);
                    return Ok(());
                }
                prop_assert_eq!(status, StatusCode::CREATED, "{}", body);
                let id = body["id"].as_str().unwrap().to_owned();
                let action = if accept { "accept" } else { "decline" };
                let response = self.app.trade_action(&self.pilots[to], &id, action).await;
                if !accept {
                    prop_assert_eq!(response.status(), StatusCode::OK);
                    return Ok(());
                }
                let (mut a, mut b) = (self.models[from].clone(), self.models[to].clone());
                // The server's order: the trade rules, then start credits
                // (fresh accounts, never verified) on each side.
                let outcome = apply_trade(c, &mut a, &mut b, &give, &want).and_then(|()| {
                    let (giver, taker) = (&self.models[from], &self.models[to]);
                    giver
                        .check_transferable(c, &give, false)
                        .map_err(|error| TradeError {
                            party: TradeParty::Offerer,
                            error,
                        })?;
                    taker
                        .check_transferable(c, &want, false)
                        .map_err(|error| TradeError {
                            party: TradeParty::Receiver,
                            error,
                        })
                });
                match outcome {
                    Ok(()) => {
                        prop_assert_eq!(response.status(), StatusCode::OK);
                        self.models[from] = a;
                        self.models[to] = b;
                    }
                    Err(error) => {
                        let body: Value = response.json().await.unwrap();
                        prop_assert_eq!(
                            body["code"].as_str(),
                            Some(error.error.code()),
                            "{}",
                            body
                        );
                        // Refused trades stay open: close them so the
                        // pending-offer limit does not fill up.
                        self.app
                            .trade_action(&self.pilots[from], &id, "cancel")
                            .await;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The server answered 2xx exactly when the model succeeded, and with the
/// model's error code otherwise.
async fn same_outcome(
    response: reqwest::Response,
    expected: Result<(), &str>,
) -> Result<(), TestCaseError> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match expected {
        Ok(()) => prop_assert!(status.is_success(), "server refused: {}", body),
        Err(code) => prop_assert_eq!(body["code"].as_str(), Some(code), "{}", body),
    }
    Ok(())
}

both_databases!(random_operation_sequences_conserve);
async fn random_operation_sequences_conserve(app: &TestApp) {
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 10,
        max_shrink_iters: 20,
        failure_persistence: None,
        ..Config::default()
    });
    let total_ops = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&proptest::collection::vec(op(), 1..25), |ops| {
        total_ops.fetch_add(ops.len(), std::sync::atomic::Ordering::Relaxed);
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                let pilots = [pilot(app).await, pilot(app).await];
                let code = app.create_lobby(&pilots[0]).await;
                assert_eq!(app.join(&pilots[1], &code).await.status(), StatusCode::OK);
                let models = [
                    PlayerState::new_player(catalog()),
                    PlayerState::new_player(catalog()),
                ];
                let mut world = World {
                    app,
                    pilots,
                    models,
                    code,
                };
                // Lobby joins count in the stats the model does not see.
                world.models[0].stats.lobbies_joined = 1;
                world.models[1].stats.lobbies_joined = 1;
                for (step, op) in ops.iter().enumerate() {
                    world.apply(op).await?;
                    for who in 0..2 {
                        world.check(who, &format!("step {step} {op:?}")).await?;
                    }
                }
                let findings = app.audit().await;
                prop_assert!(findings.is_empty(), "audit: {:?}", findings);
                Ok(())
            })
        })
    });
    println!(
        "property test: {} operations over 10 cases (shrinking included)",
        total_ops.load(std::sync::atomic::Ordering::Relaxed)
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}
