//! Building and running the application, zero-to-production style: the
//! listener is bound in [`Application::build`] (port 0 in tests) and the port
//! reported, so many servers can run side by side.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::accounts::providers::Providers;
use crate::accounts::{AccountEvent, AccountEvents, Accounts, EventFuture};
use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHasher;
use crate::config::Config;
use crate::db::Db;
use crate::economy::bus::{Publisher, SessionEnded};
use crate::http::{AppState, build_router};
use crate::metrics::Metrics;

/// How long the pool may take to close after the shutdown grace.
const DB_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    /// `METRICS_BIND_ADDR`'s listener, when set.
    metrics_listener: Option<TcpListener>,
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
        let metrics_listener = match config.hardening.metrics_bind_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding METRICS_BIND_ADDR {addr}"))?,
            ),
            None => None,
        };
        let jwt = JwtKeys::new(config.jwt_secret(), config.auth.access_token_ttl);
        let hasher = PasswordHasher::new(config.auth.max_concurrent_hashes).await?;
        let mailer = crate::mail::from_config(&config.mail, db.clone())?;
        let limiter = crate::limits::RateLimiter::connect(&config.limits).await?;
        tracing::info!(limits = %config.limits.summary(), store = limiter.store_kind(), "rate limits");
        let economy = crate::economy::Economy::start(
            &db,
            &config.database,
            &limiter,
            config.hardening.lobby_presence_grace,
        )
        .await?;
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
            Arc::new(BusAccountEvents(economy.bus.publisher().clone())),
        )
        .with_providers(Arc::new(Providers::new(
            &config.oauth,
            &config
                .oauth
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{local_addr}")),
        )?));
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
            metrics_listener,
            router,
            state,
        })
    }

    /// Where `/metrics` is served when `METRICS_BIND_ADDR` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
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
            metrics_listener,
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
        let limits = Limits::from(&state.config.hardening);
        let metrics_server = metrics_listener.map(|listener| {
            let router = crate::http::metrics_router(state.clone());
            tokio::spawn(serve(listener, router, limits, stopping_rx.clone()))
        });
        let server = serve(listener, router, limits, stopping_rx.clone());
        let signal = tokio::spawn(signal);
        let deadline = async move {
            let _ = stopping_rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = server => result.context("HTTP server")?,
            () = deadline => tracing::warn!(grace_secs = grace.as_secs(), "grace period over: dropping remaining connections"),
        }
        signal.abort();
        if let Some(metrics_server) = metrics_server {
            metrics_server.abort();
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

/// What [`serve`] enforces per listener.
#[derive(Clone, Copy)]
struct Limits {
    header_read_timeout: Duration,
    idle_timeout: Duration,
    max_connections: usize,
}

impl From<&crate::config::HardeningConfig> for Limits {
    fn from(config: &crate::config::HardeningConfig) -> Self {
        Self {
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.idle_timeout,
            max_connections: config.max_connections,
        }
    }
}

/// Serves `router` on `listener` until `stopping` turns true, then waits for
/// the open connections to finish (the caller bounds that wait).
///
/// hyper with a timer, so its timeouts fire (`axum::serve` runs it without
/// one, which leaves the header-read timeout inert):
/// - a request head must be complete [`Limits::header_read_timeout`] after
///   the connection is ready for it; hyper re-arms that timer when a
///   keep-alive connection goes idle, so it also bounds the idle time
///   between HTTP/1 requests;
/// - a connection that moves no byte for [`Limits::idle_timeout`] is
///   dropped (HTTP/2 included);
/// - at most [`Limits::max_connections`] connections are served at once: a
///   slot is taken before `accept`, so beyond the cap new connections wait
///   in the kernel's listen backlog while the served ones carry on. A lobby
///   socket keeps its connection's slot while it is open.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioTimer};
    use hyper_util::server::conn::auto;

    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(20));
    let builder = Arc::new(builder);
    let mut full_logged = false;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                full_logged = false;
                slot
            }
            Err(_) => {
                if !full_logged {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection cap reached: new connections wait in the backlog"
                    );
                    full_logged = true;
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot.context("connection slots")?,
                    () = stopped(&mut stopping) => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopped(&mut stopping) => break,
        };
        tokio::spawn(serve_connection(
            builder.clone(),
            stream,
            peer,
            router.clone(),
            crate::http::middleware::ConnectionSlot::new(slot),
            limits.idle_timeout,
            stopping.clone(),
        ));
    }
    drop(listener);
    // Every connection (and lobby socket) gives its slot back when it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

async fn serve_connection(
    builder: Arc<hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>>,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    slot: crate::http::middleware::ConnectionSlot,
    idle_timeout: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    use tower::ServiceExt as _;

    let _ = stream.set_nodelay(true);
    let activity = Activity::new();
    let io = hyper_util::rt::TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let service = hyper::service::service_fn(
        move |mut request: axum::http::Request<hyper::body::Incoming>| {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            request.extensions_mut().insert(slot.clone());
            router.clone().oneshot(request)
        },
    );
    let connection = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(connection);
    let mut check = tokio::time::interval((idle_timeout / 4).max(Duration::from_millis(100)));
    let mut draining = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(error = %error, "connection ended with an error");
                }
                return;
            }
            _ = check.tick() => {
                if activity.idle_for() >= idle_timeout {
                    tracing::debug!("idle connection closed");
                    return;
                }
            }
            () = stopped(&mut stopping), if !draining => {
                connection.as_mut().graceful_shutdown();
                draining = true;
            }
        }
    }
}

/// Resolves once `stopping` is true (the guard is not held across awaits).
async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stopping| *stopping).await;
}

/// When a connection last moved a byte (milliseconds since it opened).
#[derive(Clone)]
struct Activity {
    opened: std::time::Instant,
    last_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: std::time::Instant::now(),
            last_ms: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms
            .store(now, std::sync::atomic::Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(std::sync::atomic::Ordering::Relaxed));
        self.opened.elapsed().saturating_sub(last)
    }
}

/// A stream that records its reads and writes in an [`Activity`].
struct Tracked {
    inner: tokio::net::TcpStream,
    activity: Activity,
}

impl tokio::io::AsyncRead for Tracked {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl tokio::io::AsyncWrite for Tracked {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Account events onto the lobby bus, so every replica closes the sockets
/// of ended sessions and the rooms of a deleted account hear it leave.
struct BusAccountEvents(Publisher);

impl AccountEvents for BusAccountEvents {
    fn publish(&self, event: AccountEvent) -> EventFuture<'_> {
        Box::pin(async move {
            match event {
                AccountEvent::SessionsEnded {
                    user_id,
                    only,
                    except,
                    reason,
                } => {
                    self.0
                        .session_ended(SessionEnded {
                            user_id,
                            session_id: only,
                            except,
                            reason: reason.to_owned(),
                        })
                        .await;
                }
                AccountEvent::AccountDeleted {
                    user_id,
                    username,
                    lobbies,
                } => {
                    self.0
                        .session_ended(SessionEnded {
                            user_id: user_id.clone(),
                            session_id: None,
                            except: None,
                            reason: game::api::codes::ACCOUNT_DELETED.to_owned(),
                        })
                        .await;
                    for lobby in lobbies {
                        self.0.member_left(&lobby, &user_id, username.clone()).await;
                    }
                }
            }
        })
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
