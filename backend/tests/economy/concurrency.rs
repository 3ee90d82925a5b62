//! Many tasks hammering sells, purchases, collections and trades for the
//! same players at once. Afterwards: `backend audit` passes, no balance is
//! negative, and the totals are exactly what the successful answers say.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value, json};

use crate::both_databases;
use crate::econ::{Pilot, inventory, pilot, plan_route};
use crate::helpers::TestApp;

/// What the successful answers say happened, and what went wrong.
#[derive(Default)]
pub struct Figures {
    pub operations: AtomicI64,
    pub succeeded: AtomicI64,
    pub refused: AtomicI64,
    pub credits_delta: AtomicI64,
    pub items_delta: AtomicI64,
    pub levels_delta: AtomicI64,
    pub violations: AtomicI64,
}

impl Figures {
    fn add(counter: &AtomicI64, n: i64) {
        counter.fetch_add(n, Ordering::SeqCst);
    }

    /// Counts one answer: 2xx ok, 4xx a refusal the rules allow (listed
    /// codes only), anything else a violation.
    pub async fn answer(&self, response: reqwest::Response, allowed: &[&str]) -> Option<Value> {
        Self::add(&self.operations, 1);
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Self::add(&self.succeeded, 1);
            return Some(body);
        }
        let code = body["code"].as_str().unwrap_or("");
        if status.is_client_error() && allowed.contains(&code) {
            Self::add(&self.refused, 1);
        } else {
            eprintln!("violation: unexpected {status} {body}");
            Self::add(&self.violations, 1);
        }
        None
    }

    pub fn report(&self, what: &str) -> i64 {
        let get = |c: &AtomicI64| c.load(Ordering::SeqCst);
        println!(
            "{what}: operations={} succeeded={} refused={} violations={}",
            get(&self.operations),
            get(&self.succeeded),
            get(&self.refused),
            get(&self.violations)
        );
        get(&self.violations)
    }
}

async fn seller(app: &TestApp, who: Pilot, figures: &Figures, rounds: usize) {
    for round in 0..rounds {
        let player = app.player(&who).await;
        let held = inventory(&player);
        let body = if round % 4 == 3 || held.is_empty() {
            json!({"all": true})
        } else {
            let kind = held.keys().nth(round % held.len()).unwrap();
            json!({"items": {kind: 1}})
        };
        // Docked where the ship last was; a run started meanwhile makes the
        // claim stale (`not_docked`), as it would for a real ship.
        let body = app.docked(&who, body).await;
        let response = app
            .post_authed("/api/v1/hub/sell", &who.token, Some(&body))
            .await;
        if let Some(body) = figures
            .answer(response, &["insufficient_items", "not_docked"])
            .await
        {
            let sold: i64 = body["sold"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_i64().unwrap())
                .sum();
            Figures::add(&figures.items_delta, -sold);
            Figures::add(
                &figures.credits_delta,
                body["credits_gained"].as_i64().unwrap(),
            );
        }
    }
}

async fn buyer(app: &TestApp, who: Pilot, figures: &Figures, rounds: usize) {
    let upgrades = [
        "speed_boost",
        "debris_scanner",
        "collection_efficiency",
        "cargo_magnet",
    ];
    for round in 0..rounds {
        let response = app.purchase(&who, upgrades[round % upgrades.len()]).await;
        if let Some(body) = figures
            .answer(
                response,
                &["insufficient_credits", "max_level", "not_docked"],
            )
            .await
        {
            Figures::add(&figures.credits_delta, -body["cost"].as_i64().unwrap());
            Figures::add(&figures.levels_delta, 1);
        }
    }
}

async fn collector(app: &TestApp, who: Pilot, figures: &Figures, rounds: usize) {
    for _ in 0..rounds {
        let (run, seed) = app.start_run(&who, 1).await;
        app.backdate_run(&run, 3600).await;
        let plan = plan_route(1, seed, 4, &HashSet::new(), false);
        // The same batch twice at once: the second must not collect again.
        let (a, b) = tokio::join!(
            app.collect(&who, &run, &plan),
            app.collect(&who, &run, &plan)
        );
        let mut accepted = 0;
        for response in [a, b] {
            if let Some(body) = figures.answer(response, &[]).await {
                accepted += body["accepted"].as_array().unwrap().len();
            }
        }
        if accepted > plan.len() {
            eprintln!(
                "violation: {accepted} accepted from a plan of {}",
                plan.len()
            );
            Figures::add(&figures.violations, 1);
        }
        Figures::add(&figures.items_delta, accepted as i64);
    }
}

/// Checks the aftermath; returns the number of violations found.
pub async fn check_aftermath(app: &TestApp, before: crate::econ::Totals, figures: &Figures) -> i64 {
    let after = app.totals().await;
    let get = |c: &AtomicI64| c.load(Ordering::SeqCst);
    let mut violations = 0;
    let expected_credits = before.credits + get(&figures.credits_delta);
    let expected_items = before.items + get(&figures.items_delta);
    let expected_levels = before.levels + get(&figures.levels_delta);
    println!(
        "totals: credits {} (expected {expected_credits}), items {} (expected {expected_items}), \
         upgrade levels {} (expected {expected_levels}), negative balances {}",
        after.credits, after.items, after.levels, after.negative
    );
    violations += i64::from(after.credits != expected_credits);
    violations += i64::from(after.items != expected_items);
    violations += i64::from(after.levels != expected_levels);
    violations += after.negative;
    let findings = app.audit().await;
    for finding in &findings {
        eprintln!("audit: {finding}");
    }
    violations += findings.len() as i64;
    violations
}

/// A task of the hammering: runs concurrently with the others (the server
/// sees the requests in parallel).
pub type Task<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

both_databases!(hammering_sells_purchases_and_collections);
async fn hammering_sells_purchases_and_collections(app: &TestApp) {
    let mut pilots = Vec::new();
    for _ in 0..3 {
        let who = pilot(app).await;
        app.earn(&who, 1200).await;
        app.gather(&who, 10, false).await;
        pilots.push(who);
    }
    let before = app.totals().await;
    let figures = Figures::default();
    let mut tasks: Vec<Task<'_>> = Vec::new();
    for who in &pilots {
        for _ in 0..3 {
            tasks.push(Box::pin(seller(app, who.clone(), &figures, 8)));
        }
        for _ in 0..2 {
            tasks.push(Box::pin(buyer(app, who.clone(), &figures, 5)));
        }
        tasks.push(Box::pin(collector(app, who.clone(), &figures, 3)));
    }
    futures::future::join_all(tasks).await;
    let violations =
        check_aftermath(app, before, &figures).await + figures.report("concurrency (economy)");
    println!("concurrency (economy): violations={violations}");
    assert_eq!(violations, 0);
}

const ACCEPT_REFUSALS: &[&str] = &[
    "trade_not_pending",
    "insufficient_items",
    "insufficient_credits",
    "insufficient_upgrades",
    "hold_full",
    "max_level",
];

/// Accepts one trade twice at once; at most one may win.
async fn double_accept(
    app: &TestApp,
    receiver: Pilot,
    trade_id: String,
    figures: &Figures,
    wins: &AtomicI64,
) {
    let path = format!("/api/v1/trades/{trade_id}/accept");
    let (a, b) = tokio::join!(
        app.post_authed(&path, &receiver.token, None),
        app.post_authed(&path, &receiver.token, None)
    );
    let mut won = 0;
    for response in [a, b] {
        if figures.answer(response, ACCEPT_REFUSALS).await.is_some() {
            won += 1;
        }
    }
    if won > 1 {
        eprintln!("violation: trade {trade_id} accepted twice");
        Figures::add(&figures.violations, 1);
    }
    wins.fetch_add(won, Ordering::SeqCst);
}

both_databases!(hammering_with_trades);
async fn hammering_with_trades(app: &TestApp) {
    let mut pilots = Vec::new();
    for _ in 0..4 {
        let who = pilot(app).await;
        app.earn(&who, 400).await;
        // Room left in the hold: received items must fit.
        app.gather(&who, 6, false).await;
        pilots.push(who);
    }
    let code = app.create_lobby(&pilots[0]).await;
    for who in &pilots[1..] {
        assert_eq!(app.join(who, &code).await.status(), reqwest::StatusCode::OK);
    }
    // Every player offers the next one five trades of held items.
    let mut offers = Vec::new();
    for (i, from) in pilots.iter().enumerate() {
        let to = &pilots[(i + 1) % pilots.len()];
        let held = inventory(&app.player(from).await);
        for n in 0..5 {
            let kind = held.keys().nth(n % held.len()).unwrap();
            // Items (racing the sales of them) or credits only.
            let (give, want) = if n % 2 == 0 {
                (
                    json!({"items": {kind: 1}, "credits": 10}),
                    json!({"credits": 25}),
                )
            } else {
                (json!({"credits": 10}), json!({"credits": 5}))
            };
            let response = app.offer(from, &code, &to.username, give, want).await;
            let trade = crate::econ::json_of(response, reqwest::StatusCode::CREATED).await;
            offers.push((to.clone(), trade["id"].as_str().unwrap().to_owned()));
        }
    }
    let before = app.totals().await;
    let figures = Figures::default();
    let wins = AtomicI64::new(0);
    let mut tasks: Vec<Task<'_>> = Vec::new();
    for (receiver, trade_id) in &offers {
        tasks.push(Box::pin(double_accept(
            app,
            receiver.clone(),
            trade_id.clone(),
            &figures,
            &wins,
        )));
    }
    for who in &pilots {
        // Sales of the very items on offer race the accepts.
        tasks.push(Box::pin(seller(app, who.clone(), &figures, 4)));
        tasks.push(Box::pin(buyer(app, who.clone(), &figures, 3)));
        tasks.push(Box::pin(collector(app, who.clone(), &figures, 1)));
    }
    futures::future::join_all(tasks).await;

    // Every trade ended completed (exactly when an accept won) or pending.
    let mut completed = 0;
    for (_, trade_id) in &offers {
        match app.trade_status(trade_id).await.as_str() {
            "completed" => completed += 1,
            "pending" => {}
            other => {
                eprintln!("violation: trade {trade_id} is {other}");
                Figures::add(&figures.violations, 1);
            }
        }
    }
    let won = wins.load(Ordering::SeqCst);
    println!(
        "trades: offered={} accepted={won} completed={completed}",
        offers.len()
    );
    if completed == 0 {
        eprintln!("no trade completed: the race tested nothing");
        Figures::add(&figures.violations, 1);
    }
    if won != completed {
        Figures::add(&figures.violations, 1);
    }
    let ledgered: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT entry_id) FROM ledger WHERE reason = 'trade'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    if ledgered != completed {
        eprintln!("violation: {ledgered} trade ledger entries for {completed} completed trades");
        Figures::add(&figures.violations, 1);
    }
    // Trades move assets, never create them: the totals only change by the
    // sales, purchases and collections the answers report.
    let violations =
        check_aftermath(app, before, &figures).await + figures.report("concurrency (with trades)");
    println!("concurrency (with trades): violations={violations}");
    assert_eq!(violations, 0);
}
