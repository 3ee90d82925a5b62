//! Storage: one code base for SQLite and PostgreSQL through sqlx's `Any`
//! driver.
//!
//! Rules that keep the SQL portable (follow them in new queries):
//! - ids are TEXT (UUIDv7 strings), money and counts BIGINT, timestamps BIGINT
//!   milliseconds since the epoch, flags nullable timestamps rather than
//!   booleans (the two databases disagree on booleans);
//! - placeholders are `$1, $2, ...` (SQLite accepts them too);
//! - `INSERT ... ON CONFLICT ... DO UPDATE` and `RETURNING` work on both;
//! - a transaction that writes starts with [`Db::begin_write`]: on SQLite it
//!   takes the write lock up front (`BEGIN IMMEDIATE`), because a deferred
//!   transaction that reads and then writes can fail with SQLITE_BUSY when
//!   another writer got there first.
//!
//! Every statement lives here, in a submodule per table (plus
//! [`consistency`] for `backend audit`); services and HTTP handlers never
//! hold SQL strings.

pub mod account_tokens;
pub mod audit;
pub mod consistency;
pub mod idempotency;
pub mod ledger;
pub mod lobbies;
pub mod messages;
pub mod moderation;
pub mod oauth;
pub mod outbox;
pub mod players;
pub mod retention;
pub mod runs;
pub mod sessions;
pub mod throttle;
pub mod trades;
pub mod users;

use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Transaction};

use crate::config::DatabaseConfig;

pub use sqlx::AnyConnection as Conn;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The connection pool plus the dialect it speaks. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
}

pub type Tx = Transaction<'static, Any>;

impl Db {
    /// Connects with exponential backoff (a managed PostgreSQL may still be
    /// starting), creating the SQLite file and its directory if needed.
    pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = if config.is_sqlite() {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        };
        if let Some(file) = config.sqlite_file()
            && let Some(dir) = file.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the database directory {}", dir.display()))?;
        }
        let options: AnyConnectOptions = config
            .url
            .expose_secret()
            .parse()
            .with_context(|| format!("DATABASE_URL {} is not valid", config.redacted_url()))?;
        let busy_timeout_ms = config.sqlite_busy_timeout.as_millis();

        let mut delay = config.backoff_initial;
        let mut attempt = 1;
        loop {
            let pool_options = AnyPoolOptions::new()
                .max_connections(config.max_connections)
                .min_connections(config.min_connections)
                .acquire_timeout(config.acquire_timeout)
                .idle_timeout(Some(config.idle_timeout))
                // A ping before every acquire checks a network connection
                // that may have died; an embedded SQLite connection cannot,
                // and on SQLite the ping is one more round trip to the
                // connection's worker thread (two per state read: `make
                // bench` measured ~11 context switches per read).
                .test_before_acquire(dialect == Dialect::Postgres)
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
                            // WAL: readers never block the writer; NORMAL sync is
                            // durable across crashes of the process in WAL mode.
                            let pragmas = format!(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {busy_timeout_ms};"
                            );
                            sqlx::raw_sql(sqlx::AssertSqlSafe(pragmas))
                                .execute(conn)
                                .await?;
                        }
                        Ok(())
                    })
                });
            match pool_options.connect_with(options.clone()).await {
                Ok(pool) => return Ok(Self { pool, dialect }),
                Err(error) if attempt < config.connect_attempts => {
                    tracing::warn!(
                        attempt,
                        max_attempts = config.connect_attempts,
                        retry_in_ms = delay.as_millis() as u64,
                        error = %error,
                        database = %config.redacted_url(),
                        "database not reachable yet, retrying"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(config.backoff_max);
                    attempt += 1;
                }
                Err(error) => {
                    return Err(error).with_context(|| {
                        format!(
                            "could not connect to {} after {attempt} attempts",
                            config.redacted_url()
                        )
                    });
                }
            }
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn migrator(&self) -> &'static Migrator {
        match self.dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies every pending migration (PostgreSQL: under an advisory lock, so
    /// replicas starting together do not race).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.migrator()
            .run(&self.pool)
            .await
            .context("applying database migrations")
    }

    /// Reverts applied migrations newer than `target` (0 = all of them).
    pub async fn migrate_down(&self, target: i64) -> anyhow::Result<()> {
        self.migrator()
            .undo(&self.pool, target)
            .await
            .context("reverting database migrations")
    }

    /// Versions known to this binary, oldest first.
    pub fn known_migrations(&self) -> Vec<(i64, String)> {
        self.migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }

    /// Versions applied to the database, oldest first.
    pub async fn applied_migrations(&self) -> anyhow::Result<Vec<i64>> {
        use sqlx::migrate::Migrate as _;
        let mut conn = self.pool.acquire().await?;
        conn.ensure_migrations_table("_sqlx_migrations").await?;
        let mut applied: Vec<i64> = conn
            .list_applied_migrations("_sqlx_migrations")
            .await?
            .into_iter()
            .map(|m| m.version)
            .collect();
        applied.sort_unstable();
        Ok(applied)
    }

    /// A transaction that will write. See the module docs for why SQLite needs
    /// `BEGIN IMMEDIATE`.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
    }

    /// A read-only unit of work (consistent snapshot on PostgreSQL).
    pub async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        self.pool.begin().await
    }

    /// A read-only transaction that sees one snapshot of the whole database
    /// even while others write (PostgreSQL: REPEATABLE READ; SQLite: a read
    /// transaction in WAL mode already does).
    pub async fn begin_snapshot(&self) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin_read().await?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// PostgreSQL `pg_notify(channel, payload)`: delivered to every
    /// `LISTEN`er when the sending transaction (here: this statement)
    /// commits.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// `/ready`: one round trip within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> bool {
        let query = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&self.pool);
        matches!(tokio::time::timeout(timeout, query).await, Ok(Ok(1)))
    }

    /// Closes every connection; waits for borrowed ones to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// (connections open, of which idle): exported by `/metrics`.
    pub fn pool_usage(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }
}

/// The constraint (PostgreSQL) or message (SQLite) of a unique violation,
/// for mapping it to a 409 with a specific code.
pub fn unique_violation(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) if db.is_unique_violation() => Some(
            db.constraint()
                .map(str::to_owned)
                .unwrap_or_else(|| db.message().to_owned()),
        ),
        _ => None,
    }
}

/// A PostgreSQL connection of its own that `LISTEN`s on `channel`; its
/// `recv()` reconnects (and listens again) by itself.
pub type Listener = sqlx::postgres::PgListener;

/// Opens a [`Listener`] on `channel`, established before this returns.
pub async fn listen(config: &DatabaseConfig, channel: &str) -> anyhow::Result<Listener> {
    let mut listener = Listener::connect(config.url.expose_secret()).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

/// A fresh time-ordered id (UUIDv7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
