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
        "SELECT id, user_id, zone, seed, started_at, hold_full_at FROM runs
         WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
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
