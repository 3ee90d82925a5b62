//! `dev_outbox`: where mail goes when no SMTP server is configured.

use super::Conn;

#[derive(Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
}

pub async fn insert(
    conn: &mut Conn,
    id: &str,
    to: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO dev_outbox (id, to_address, subject, body, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(to)
    .bind(subject)
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Newest first; all recipients when `to` is None.
pub async fn latest(
    conn: &mut Conn,
    to: Option<&str>,
    limit: i64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    match to {
        Some(to) => {
            sqlx::query_as(
                "SELECT id, to_address, subject, body, created_at FROM dev_outbox
                 WHERE to_address = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            )
            .bind(to.to_lowercase())
            .bind(limit)
            .fetch_all(conn)
            .await
        }
        None => {
            sqlx::query_as(
                "SELECT id, to_address, subject, body, created_at FROM dev_outbox
                 ORDER BY created_at DESC, id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(conn)
            .await
        }
    }
}

pub async fn delete_for_address(conn: &mut Conn, to: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM dev_outbox WHERE to_address = $1")
        .bind(to)
        .execute(conn)
        .await?;
    Ok(())
}
