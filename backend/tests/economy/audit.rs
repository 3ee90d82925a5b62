//! `backend audit`: ledger sums equal live balances, and the command exits
//! non-zero when they do not.

use std::process::Command;

use reqwest::StatusCode;

use crate::both_databases;
use crate::econ::{json_of, pilot};
use crate::helpers::TestApp;

fn run_audit(app: &TestApp) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("cots-audit-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_backend"))
        .arg("audit")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.database_url)
        .env("DATA_DIR", dir.join("data"))
        .env("RUST_LOG", "warn")
        .current_dir(&dir)
        .output()
        .expect("run backend audit");
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

both_databases!(audit_catches_a_balance_without_ledger);
async fn audit_catches_a_balance_without_ledger(app: &TestApp) {
    let ada = pilot(app).await;
    app.gather(&ada, 5, false).await;
    app.sell_all(&ada).await;
    json_of(app.purchase(&ada, "speed_boost").await, StatusCode::OK).await;
    app.gather(&ada, 2, false).await;
    assert_eq!(app.audit().await, Vec::<String>::new());
    let (ok, text) = run_audit(app);
    assert!(ok, "{text}");
    assert!(text.contains("audit: OK"), "{text}");

    // Money from nowhere: a balance change that bypassed the ledger.
    sqlx::query("UPDATE players SET credits = credits + 7")
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE player_items SET count = count + 1")
        .execute(app.db.pool())
        .await
        .unwrap();
    let findings = app.audit().await;
    assert!(
        findings
            .iter()
            .any(|f| f.contains("credits") && f.contains("ledger")),
        "{findings:?}"
    );
    assert!(findings.iter().any(|f| f.contains("item:")), "{findings:?}");
    let (ok, text) = run_audit(app);
    assert!(!ok, "audit must fail: {text}");
    assert!(text.contains("finding"), "{text}");
}
