//! `runs` (a zone run and its seed) and `run_pieces` (what it collected).

use super::Conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub id: String,
    pub user_id: String,
    pub zone: i64,
    /// Decimal u64.
    pub seed: String,
    pub started_at: i64,
    pub hold_full_at: Option<i64>,
    /// Set when a later run started (see `game::verify::RunClock`).
    pub ended_at: Option<i64>,
}

pub async fn insert(
    conn: &mut Conn,
    id: &str,
    user_id: &str,
    zone: i64,
    seed: u64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO runs (id, user_id, zone, seed, started_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(user_id)
    .bind(zone)
    .bind(seed.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The run if it belongs to `user_id` (another player's run is "not found").
pub async fn find_owned(
    conn: &mut Conn,
    id: &str,
    user_id: &str,
) -> Result<Option<RunRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, user_id, zone, seed, started_at, hold_full_at, ended_at FROM runs
         WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// Ends the player's active run (if any) at `now`, or at its horizon end
/// if that came first (`horizon_ms` after its start). Run before starting
/// another: at most one run per player is active.
pub async fn end_active(
    conn: &mut Conn,
    user_id: &str,
    now: i64,
    horizon_ms: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE runs SET ended_at = CASE WHEN started_at + $3 < $2 THEN started_at + $3 ELSE $2 END
         WHERE user_id = $1 AND ended_at IS NULL",
    )
    .bind(user_id)
    .bind(now)
    .bind(horizon_ms)
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

/// The player's latest run that collected anything: `(run id, started_at,
/// latest claimed time)`. Runs never overlap, so its last piece is the
/// player's last collection.
pub async fn latest_collection(
    conn: &mut Conn,
    user_id: &str,
) -> Result<Option<(String, i64, f64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, r.started_at, MAX(p.claimed_at) FROM runs r
         JOIN run_pieces p ON p.run_id = r.id
         WHERE r.user_id = $1
         GROUP BY r.id, r.started_at
         ORDER BY r.started_at DESC, r.id DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// `(hub, claimed time)` of every dock the run had accepted.
pub async fn docks(conn: &mut Conn, run_id: &str) -> Result<Vec<(i64, f64)>, sqlx::Error> {
    sqlx::query_as("SELECT hub, claimed_at FROM run_docks WHERE run_id = $1 ORDER BY claimed_at")
        .bind(run_id)
        .fetch_all(conn)
        .await
}

/// Records an accepted dock (the same claim twice is one row).
pub async fn insert_dock(
    conn: &mut Conn,
    run_id: &str,
    hub: i64,
    claimed_at: f64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO run_docks (run_id, hub, claimed_at, docked_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(run_id)
    .bind(hub)
    .bind(claimed_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// `(index, claimed time)` of every piece the run collected.
pub async fn pieces(conn: &mut Conn, run_id: &str) -> Result<Vec<(i64, f64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT debris_index, claimed_at FROM run_pieces WHERE run_id = $1 ORDER BY debris_index",
    )
    .bind(run_id)
    .fetch_all(conn)
    .await
}

pub async fn insert_piece(
    conn: &mut Conn,
    run_id: &str,
    index: i64,
    claimed_at: f64,
    kind: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO run_pieces (run_id, debris_index, claimed_at, kind, collected_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(run_id)
    .bind(index)
    .bind(claimed_at)
    .bind(kind)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the run's "hold full" message as recorded. True the first time.
pub async fn mark_hold_full(conn: &mut Conn, run_id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("UPDATE runs SET hold_full_at = $2 WHERE id = $1 AND hold_full_at IS NULL")
            .bind(run_id)
            .bind(now)
            .execute(conn)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// `(run id, zone, seed, started_at, pieces collected)` of a user's runs.
pub async fn list_for_user(
    conn: &mut Conn,
    user_id: &str,
) -> Result<Vec<(String, i64, String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id, r.zone, r.seed, r.started_at,
                (SELECT COUNT(*) FROM run_pieces p WHERE p.run_id = r.id)
         FROM runs r WHERE r.user_id = $1 ORDER BY r.started_at, r.id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// One collected piece with its run's zone and seed, for the audit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditPiece {
    pub run_id: String,
    pub zone: i64,
    pub seed: String,
    pub debris_index: i64,
    pub claimed_at: f64,
    pub kind: String,
}

/// Every collected piece of every run.
pub async fn all_pieces(conn: &mut Conn) -> Result<Vec<AuditPiece>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.id AS run_id, r.zone, r.seed, p.debris_index, p.claimed_at, p.kind
         FROM run_pieces p JOIN runs r ON r.id = p.run_id
         ORDER BY r.id, p.debris_index",
    )
    .fetch_all(conn)
    .await
}

/// Ids of every run.
pub async fn all_ids(conn: &mut Conn) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM runs")
        .fetch_all(conn)
        .await
}
