//! Building and running the application, zero-to-production style: the
//! listener is bound in [`Application::build`] (port 0 in tests) and the port
//! reported, so many servers can run side by side.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::accounts::Accounts;
use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHasher;
use crate::config::Config;
use crate::db::Db;
use crate::http::{AppState, build_router};
use crate::metrics::Metrics;

/// How long the pool may take to close after the shutdown grace.
const DB_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: axum::Router,
    state: AppState,
}

impl Application {
    /// Connects (with retries) and migrates the database, then binds.
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        config.resolve_jwt_secret()?;
        let db = Db::connect(&config.database).await?;
        db.migrate().await?;
        Self::build_with_db(config, db).await
    }

    /// Binds on an already connected and migrated database.
    pub async fn build_with_db(mut config: Config, db: Db) -> anyhow::Result<Self> {
        config.resolve_jwt_secret()?;
        let listener = TcpListener::bind(config.bind_addr)
            .await
            .with_context(|| format!("binding {}", config.bind_addr))?;
        let local_addr = listener.local_addr()?;
        let jwt = JwtKeys::new(config.jwt_secret(), config.auth.access_token_ttl);
        let hasher = PasswordHasher::new(config.auth.max_concurrent_hashes).await?;
        let mailer = crate::mail::from_config(&config.mail, db.clone())?;
        let limiter = crate::limits::RateLimiter::connect(&config.limits).await?;
        tracing::info!(limits = %config.limits.summary(), store = limiter.store_kind(), "rate limits");
        let economy =
            crate::economy::Economy::start(&db, &config.database, &config.economy).await?;
        let config = Arc::new(config);
        let mut metrics = Metrics::new();
        limiter.metrics().register(metrics.registry_mut());
        let metrics = Arc::new(metrics);
        let accounts = Accounts::new(
            db.clone(),
            config.clone(),
            Arc::new(jwt),
            hasher,
            mailer,
            metrics.clone(),
        );
        let state = AppState {
            db,
            config,
            accounts,
            metrics,
            limiter,
            economy,
            openapi_json: Arc::new(OnceLock::new()),
        };
        let router = build_router(state.clone());
        Ok(Self {
            listener,
            local_addr,
            router,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes; then stops accepting connections,
    /// lets in-flight requests finish (at most `SHUTDOWN_GRACE_SECS`) and
    /// closes the database pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            local_addr,
            router,
            state,
        } = self;
        tracing::info!(address = %local_addr, env = state.config.app_env.as_str(), "listening");

        let prune = state.limiter.clone();
        let pruner = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                prune.prune();
            }
        });

        let retention = crate::retention::spawn(
            state.db.clone(),
            state.config.retention.clone(),
            state.metrics.clone(),
        );

        let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown.await;
            tracing::info!("shutdown requested: finishing in-flight requests");
            let _ = stopping_tx.send(true);
        };
        let grace = state.config.http.shutdown_grace;
        let server = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal);
        let deadline = async move {
            let _ = stopping_rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = server => result.context("HTTP server")?,
            () = deadline => tracing::warn!(grace_secs = grace.as_secs(), "grace period over: dropping remaining connections"),
        }
        pruner.abort();
        if let Some(retention) = retention {
            retention.abort();
        }
        // Connections still borrowed by dropped requests come back when their
        // futures are dropped; never wait on them forever.
        if tokio::time::timeout(DB_CLOSE_TIMEOUT, state.db.close())
            .await
            .is_err()
        {
            tracing::warn!(
                timeout_secs = DB_CLOSE_TIMEOUT.as_secs(),
                "closing the database pool timed out: exiting anyway"
            );
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// SIGTERM (container orchestrators) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
