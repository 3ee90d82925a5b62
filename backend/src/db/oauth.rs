//! `oauth_accounts`, `oauth_flows`, `oauth_grants`: provider identities
//! linked to accounts, and the short-lived rows of a sign-in in progress.

use super::Conn;

/// A provider identity linked to an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub provider: String,
    pub subject: String,
    pub user_id: String,
    pub created_at: i64,
}

/// A started sign-in (see the migration for what each field is).
#[derive(Clone, sqlx::FromRow)]
pub struct FlowRow {
    pub provider: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub redirect_uri: String,
    pub client_state: String,
    pub client_challenge: String,
}

/// A checked provider answer waiting for the game (a code) or for one more
/// step (a ticket).
#[derive(Clone, sqlx::FromRow)]
pub struct GrantRow {
    pub kind: String,
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: i64,
    pub name: Option<String>,
    pub client_challenge: Option<String>,
    pub user_id: Option<String>,
}

pub const GRANT_CODE: &str = "code";
pub const GRANT_TICKET: &str = "ticket";

pub async fn find_link(
    conn: &mut Conn,
    provider: &str,
    subject: &str,
) -> Result<Option<LinkRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT provider, subject, user_id, created_at FROM oauth_accounts
         WHERE provider = $1 AND subject = $2",
    )
    .bind(provider)
    .bind(subject)
    .fetch_optional(conn)
    .await
}

pub async fn links_of(conn: &mut Conn, user_id: &str) -> Result<Vec<LinkRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT provider, subject, user_id, created_at FROM oauth_accounts
         WHERE user_id = $1 ORDER BY provider",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

pub async fn insert_link(
    conn: &mut Conn,
    provider: &str,
    subject: &str,
    user_id: &str,
    email: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_accounts (provider, subject, user_id, email, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(provider)
    .bind(subject)
    .bind(user_id)
    .bind(email)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// True when a link was removed.
pub async fn delete_link(
    conn: &mut Conn,
    user_id: &str,
    provider: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM oauth_accounts WHERE user_id = $1 AND provider = $2")
        .bind(user_id)
        .bind(provider)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub struct NewFlow<'a> {
    pub state_hash: &'a str,
    pub provider: &'a str,
    pub pkce_verifier: &'a str,
    pub nonce: &'a str,
    pub redirect_uri: &'a str,
    pub client_state: &'a str,
    pub client_challenge: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert_flow(conn: &mut Conn, flow: &NewFlow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_flows (state_hash, provider, pkce_verifier, nonce, redirect_uri,
                                  client_state, client_challenge, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(flow.state_hash)
    .bind(flow.provider)
    .bind(flow.pkce_verifier)
    .bind(flow.nonce)
    .bind(flow.redirect_uri)
    .bind(flow.client_state)
    .bind(flow.client_challenge)
    .bind(flow.now)
    .bind(flow.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes a started flow: once, while unexpired, for that provider.
pub async fn take_flow(
    conn: &mut Conn,
    state_hash: &str,
    provider: &str,
    now: i64,
) -> Result<Option<FlowRow>, sqlx::Error> {
    let row: Option<(FlowRow, i64)> = sqlx::query_as::<_, FlowRowWithExpiry>(
        "DELETE FROM oauth_flows WHERE state_hash = $1 AND provider = $2
         RETURNING provider, pkce_verifier, nonce, redirect_uri, client_state, client_challenge,
                   expires_at",
    )
    .bind(state_hash)
    .bind(provider)
    .fetch_optional(conn)
    .await?
    .map(|r| (r.flow, r.expires_at));
    Ok(row.and_then(|(flow, expires_at)| (expires_at > now).then_some(flow)))
}

#[derive(sqlx::FromRow)]
struct FlowRowWithExpiry {
    #[sqlx(flatten)]
    flow: FlowRow,
    expires_at: i64,
}

pub struct NewGrant<'a> {
    pub token_hash: &'a str,
    pub kind: &'a str,
    pub provider: &'a str,
    pub subject: &'a str,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub name: Option<&'a str>,
    pub client_challenge: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert_grant(conn: &mut Conn, grant: &NewGrant<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_grants (token_hash, kind, provider, subject, email, email_verified,
                                   name, client_challenge, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(grant.token_hash)
    .bind(grant.kind)
    .bind(grant.provider)
    .bind(grant.subject)
    .bind(grant.email)
    .bind(i64::from(grant.email_verified))
    .bind(grant.name)
    .bind(grant.client_challenge)
    .bind(grant.user_id)
    .bind(grant.now)
    .bind(grant.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes a grant of that kind: once, while unexpired (an expired one is
/// removed too).
pub async fn take_grant(
    conn: &mut Conn,
    token_hash: &str,
    kind: &str,
    now: i64,
) -> Result<Option<GrantRow>, sqlx::Error> {
    let row: Option<GrantRowWithExpiry> = sqlx::query_as(
        "DELETE FROM oauth_grants WHERE token_hash = $1 AND kind = $2
         RETURNING kind, provider, subject, email, email_verified, name, client_challenge,
                   user_id, expires_at",
    )
    .bind(token_hash)
    .bind(kind)
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|r| (r.expires_at > now).then_some(r.grant)))
}

/// Reads a grant without using it up (a ticket survives a wrong password).
pub async fn find_grant(
    conn: &mut Conn,
    token_hash: &str,
    kind: &str,
    now: i64,
) -> Result<Option<GrantRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, provider, subject, email, email_verified, name, client_challenge, user_id
         FROM oauth_grants WHERE token_hash = $1 AND kind = $2 AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(kind)
    .bind(now)
    .fetch_optional(conn)
    .await
}

#[derive(sqlx::FromRow)]
struct GrantRowWithExpiry {
    #[sqlx(flatten)]
    grant: GrantRow,
    expires_at: i64,
}

/// Removes flows and grants past their end; how many rows went.
pub async fn purge_expired(conn: &mut Conn, now: i64) -> Result<u64, sqlx::Error> {
    let flows = sqlx::query("DELETE FROM oauth_flows WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let grants = sqlx::query("DELETE FROM oauth_grants WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(flows + grants)
}
