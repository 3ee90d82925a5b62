//! Configuration: read once from the environment (plus an optional `.env`),
//! validated as a whole, so a bad deployment fails at start with every
//! problem listed instead of at the first request that needs the value.
//!
//! `.env.example` at the repository root documents every variable read here.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// `development` (default: zero set-up, generated secrets, dev outbox) or
/// `production` (refuses weak secrets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

impl AppEnv {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub bind_addr: SocketAddr,
    /// Where development-mode files live (SQLite database, generated secret).
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    /// `None` only in development before [`Config::resolve_jwt_secret`] ran.
    pub jwt_secret: Option<SecretString>,
    pub auth: AuthConfig,
    pub http: HttpConfig,
    pub mail: MailConfig,
    pub log_format: LogFormat,
    /// Rate limits of every API route (memory, or Redis with `REDIS_URL`).
    pub limits: crate::limits::LimitsConfig,
    /// The retention job's ages and period.
    pub retention: RetentionConfig,
    /// Connections, proxies, metrics, session lifetime and recovery.
    pub hardening: HardeningConfig,
    /// Sign-in through providers (`OAUTH_*`, `PUBLIC_URL`).
    pub oauth: OAuthConfig,
}

/// Providers players may sign in with, and where they send the browser back.
#[derive(Clone, Debug, Default)]
pub struct OAuthConfig {
    /// `PUBLIC_URL`: the backend as players' browsers reach it
    /// (`https://api.example.org`); the provider redirects to
    /// `<PUBLIC_URL>/api/v1/auth/oauth/<name>/callback`. Unset: the address
    /// the server listens on (development).
    pub public_url: Option<String>,
    /// In the order of `OAUTH_PROVIDERS`; only those with a client id.
    pub providers: Vec<ProviderConfig>,
}

/// One provider (`OAUTH_<NAME>_*`).
#[derive(Clone)]
pub struct ProviderConfig {
    /// Lower-case name, the path segment (`google`).
    pub name: String,
    /// The button's words (`OAUTH_<NAME>_DISPLAY_NAME`, default `Google`).
    pub display_name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub endpoints: ProviderEndpoints,
    /// Scopes asked for (`OAUTH_<NAME>_SCOPES`, space-separated).
    pub scopes: Vec<String>,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("endpoints", &self.endpoints)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// How a provider is reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderEndpoints {
    /// OpenID Connect: discovery at `<issuer>/.well-known/openid-configuration`,
    /// identity from the ID token (`OAUTH_<NAME>_ISSUER`).
    OpenIdConnect { issuer: String },
    /// Plain OAuth 2.0: identity from a user endpoint answering
    /// `{id, username, global_name, email, verified}` (Discord's shape;
    /// `sub`, `preferred_username`, `name`, `email_verified` are read too).
    OAuth2 {
        auth_url: String,
        token_url: String,
        userinfo_url: String,
    },
}

/// Providers looked for when `OAUTH_PROVIDERS` is not set.
pub const DEFAULT_OAUTH_PROVIDERS: &str = "google,discord";

impl OAuthConfig {
    fn read<F: Fn(&str) -> Option<String>>(env: &mut Reader<'_, F>, app_env: AppEnv) -> Self {
        let public_url = env
            .string("PUBLIC_URL")
            .map(|url| url.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            env.problems.push(format!(
                "PUBLIC_URL must be an http(s) URL like https://api.example.org, got `{url}`"
            ));
        }
        let names = env
            .string("OAUTH_PROVIDERS")
            .unwrap_or_else(|| DEFAULT_OAUTH_PROVIDERS.to_owned());
        let mut providers: Vec<ProviderConfig> = Vec::new();
        for name in names.split(',').map(|n| n.trim().to_ascii_lowercase()) {
            if name.is_empty() {
                continue;
            }
            if !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                || name.len() > 32
            {
                env.problems.push(format!(
                    "OAUTH_PROVIDERS: `{name}` is not a provider name (lower-case letters and digits)"
                ));
                continue;
            }
            if providers.iter().any(|p| p.name == name) {
                continue;
            }
            let key = |suffix: &str| format!("OAUTH_{}_{suffix}", name.to_ascii_uppercase());
            let Some(client_id) = env.string(&key("CLIENT_ID")) else {
                continue;
            };
            let Some(client_secret) = env.string(&key("CLIENT_SECRET")) else {
                env.problems.push(format!(
                    "{} is set but {} is not",
                    key("CLIENT_ID"),
                    key("CLIENT_SECRET")
                ));
                continue;
            };
            let issuer = env.string(&key("ISSUER"));
            let explicit = (
                env.string(&key("AUTH_URL")),
                env.string(&key("TOKEN_URL")),
                env.string(&key("USERINFO_URL")),
            );
            let endpoints = match (issuer, explicit, name.as_str()) {
                (Some(issuer), _, _) => ProviderEndpoints::OpenIdConnect { issuer },
                (None, (Some(auth_url), Some(token_url), Some(userinfo_url)), _) => {
                    ProviderEndpoints::OAuth2 {
                        auth_url,
                        token_url,
                        userinfo_url,
                    }
                }
                (None, (None, None, None), "google") => ProviderEndpoints::OpenIdConnect {
                    issuer: "https://accounts.google.com".to_owned(),
                },
                (None, (None, None, None), "discord") => ProviderEndpoints::OAuth2 {
                    auth_url: "https://discord.com/oauth2/authorize".to_owned(),
                    token_url: "https://discord.com/api/oauth2/token".to_owned(),
                    userinfo_url: "https://discord.com/api/users/@me".to_owned(),
                },
                _ => {
                    env.problems.push(format!(
                        "provider `{name}`: set {} (OpenID Connect) or all of {}, {} and {} (OAuth 2.0)",
                        key("ISSUER"),
                        key("AUTH_URL"),
                        key("TOKEN_URL"),
                        key("USERINFO_URL")
                    ));
                    continue;
                }
            };
            let urls: Vec<&str> = match &endpoints {
                ProviderEndpoints::OpenIdConnect { issuer } => vec![issuer],
                ProviderEndpoints::OAuth2 {
                    auth_url,
                    token_url,
                    userinfo_url,
                } => vec![auth_url, token_url, userinfo_url],
            };
            for url in urls {
                let local = url.starts_with("http://127.0.0.1") || url.starts_with("http://[::1]");
                if !(url.starts_with("https://") || (local && app_env == AppEnv::Development)) {
                    env.problems.push(format!(
                        "provider `{name}`: `{url}` must be https (plain http only to 127.0.0.1 in development)"
                    ));
                }
            }
            let default_scopes = match endpoints {
                ProviderEndpoints::OpenIdConnect { .. } => "openid email profile",
                ProviderEndpoints::OAuth2 { .. } => "identify email",
            };
            let scopes = env
                .string(&key("SCOPES"))
                .unwrap_or_else(|| default_scopes.to_owned())
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            let display_name = env.string(&key("DISPLAY_NAME")).unwrap_or_else(|| {
                let mut chars = name.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            });
            providers.push(ProviderConfig {
                name,
                display_name,
                client_id,
                client_secret: SecretString::from(client_secret),
                endpoints,
                scopes,
            });
        }
        if app_env == AppEnv::Production && !providers.is_empty() && public_url.is_none() {
            env.problems.push(
                "PUBLIC_URL is required in production when a sign-in provider is configured (the provider redirects there)"
                    .to_owned(),
            );
        }
        Self {
            public_url,
            providers,
        }
    }
}

#[derive(Clone)]
pub struct DatabaseConfig {
    /// May hold a password: use [`DatabaseConfig::redacted_url`] for output.
    pub url: SecretString,
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout: Duration,
    pub idle_timeout: Duration,
    /// Start-up retries (exponential backoff between `backoff_initial` and
    /// `backoff_max`), for a managed database that comes up after us.
    pub connect_attempts: u32,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// SQLite only: how long a writer waits for the lock before giving up.
    pub sqlite_busy_timeout: Duration,
}

/// One argon2 hash keeps a core busy for tens of milliseconds and holds
/// 19 MiB: more hashes at once than cores only add memory and latency, and
/// one core is left to the rest of the API so a login storm does not stall
/// every other request (`make bench`, docs/BENCHMARKS.md).
fn default_concurrent_hashes() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1)
}

/// The retention job (`crate::retention`): how often it runs (0: never)
/// and how old each kind of row must be before it goes.
#[derive(Clone, Debug)]
pub struct RetentionConfig {
    pub interval: Duration,
    /// Sessions revoked or expired this long ago (with their refresh
    /// tokens), and refresh tokens expired this long ago.
    pub ended_sessions_after: Duration,
    /// Verification and reset codes expired or used this long ago.
    pub mail_tokens_after: Duration,
    /// Idempotency keys (stored answers) older than this.
    pub idempotency_after: Duration,
    /// Runs started this long ago (the offline horizon: at least the refresh
    /// token lifetime). The ledger keeps their rows: `backend audit` needs
    /// only the ledger and the balances.
    pub runs_after: Duration,
    /// Development-outbox mail older than this.
    pub outbox_after: Duration,
    /// Login-throttle rows untouched for this long and not locked (the
    /// lockout window, `LOCKOUT_DURATION_SECS`).
    pub throttle_window: Duration,
}

impl RetentionConfig {
    pub fn summary(&self) -> String {
        if self.interval.is_zero() {
            return "retention: off".to_owned();
        }
        format!(
            "retention: every {}s, sessions {}s, mail codes {}s, idempotency {}s, runs {}s, outbox {}s",
            self.interval.as_secs(),
            self.ended_sessions_after.as_secs(),
            self.mail_tokens_after.as_secs(),
            self.idempotency_after.as_secs(),
            self.runs_after.as_secs(),
            self.outbox_after.as_secs()
        )
    }
}

#[derive(Clone, Debug)]
pub struct AuthConfig {
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Extra tolerance after a refresh token was rotated during which a second
    /// request with it still receives the same successor. 0 = only requests
    /// that arrived before the rotation committed (true races).
    pub refresh_race_grace: Duration,
    pub lockout_max_failures: u32,
    pub lockout_duration: Duration,
    pub require_email_verification: bool,
    pub email_verification_ttl: Duration,
    pub password_reset_ttl: Duration,
    /// Concurrent argon2 computations (each takes 19 MiB).
    pub max_concurrent_hashes: usize,
}

#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub cors_allowed_origins: Vec<String>,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    /// Take the client IP from the last `X-Forwarded-For` hop (only behind a
    /// load balancer that sets it; otherwise clients could pick their IP).
    pub trust_proxy_headers: bool,
    /// Graceful shutdown: how long in-flight requests may take after SIGTERM.
    pub shutdown_grace: Duration,
}

#[derive(Clone)]
pub struct MailConfig {
    pub from: String,
    pub smtp: Option<SmtpConfig>,
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub tls: SmtpTls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Implicit TLS (port 465).
    Tls,
    /// STARTTLS upgrade (port 587), required.
    StartTls,
    /// Plain text: only for a local relay or a test catcher.
    None,
}

// ---------------------------------------------------------------------------
// Sessions and connections (issue 16: items 5, 6 and 7)
// ---------------------------------------------------------------------------

/// Connection limits and timeouts, proxy trust, where `/metrics` is served,
/// the sessions' absolute lifetime, the soft lockout and the mail policy.
/// DEPLOYMENT.md ("Connections and timeouts") documents the numbers.
#[derive(Clone)]
pub struct HardeningConfig {
    /// A request's head must be complete this long after the connection
    /// is ready for it (a new connection, or a keep-alive connection after
    /// its last answer): slow or half-sent requests are dropped.
    pub header_read_timeout: Duration,
    /// A connection that moves no byte either way for this long is closed
    /// (keep-alive and HTTP/2 connections between requests).
    pub idle_timeout: Duration,
    /// Connections served at once; beyond it new connections wait in the
    /// listen backlog until one closes (lobby sockets count while open).
    pub max_connections: usize,
    /// `X-Forwarded-For` entries appended by proxies we run (counted from
    /// the right), when `TRUST_PROXY_HEADERS` is on.
    pub trusted_proxy_hops: usize,
    /// Proxy addresses (CIDR) whose entries are skipped too, wherever they
    /// stand from the right.
    pub trusted_proxies: Vec<IpNet>,
    /// Serve `/metrics` on this address only (not on `BIND_ADDR`).
    pub metrics_bind_addr: Option<SocketAddr>,
    /// Or serve `/metrics` on `BIND_ADDR` to `Authorization: Bearer <token>`.
    pub metrics_token: Option<SecretString>,
    /// After this long from its login a session cannot be refreshed.
    pub session_absolute_lifetime: Duration,
    /// Soft lockout: the first delay after `LOCKOUT_MAX_FAILURES` failures
    /// of one login from one address; it doubles with each further failure
    /// up to `LOCKOUT_DURATION_SECS`.
    pub lockout_base_delay: Duration,
    /// Production without SMTP: only with this explicit consent, mail goes
    /// to the outbox table (and a warning is logged at start).
    pub mail_outbox_in_production: bool,
    /// A lobby member whose sockets are all gone (and who offers nothing)
    /// for this long is removed from the room.
    pub lobby_presence_grace: Duration,
}

/// An address block `a.b.c.d/n` or `x::/n` (a lone address is /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    pub addr: std::net::IpAddr,
    pub prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let bits = u32::from(self.prefix.min(32));
                let mask = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let bits = u32::from(self.prefix.min(128));
                let mask = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpNet {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: std::net::IpAddr = addr.trim().parse().map_err(|_| ())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| ())?,
            None => max,
        };
        if prefix > max {
            return Err(());
        }
        Ok(Self { addr, prefix })
    }
}

impl HardeningConfig {
    fn read<F: Fn(&str) -> Option<String>>(
        env: &mut Reader<'_, F>,
        app_env: AppEnv,
        request_timeout: Duration,
    ) -> Self {
        let trusted_proxies = env
            .string("TRUSTED_PROXIES")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|entry| !entry.is_empty())
                    .filter_map(|entry| match entry.parse::<IpNet>() {
                        Ok(net) => Some(net),
                        Err(()) => {
                            env.problems.push(format!(
                                "TRUSTED_PROXIES entry `{entry}` must be an address or a CIDR block (10.0.0.0/8, fd00::/8)"
                            ));
                            None
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let config = Self {
            header_read_timeout: env.secs("HTTP_HEADER_READ_TIMEOUT_SECS", 10),
            idle_timeout: env.secs("HTTP_IDLE_TIMEOUT_SECS", 75),
            max_connections: env.parse("HTTP_MAX_CONNECTIONS", 1024),
            trusted_proxy_hops: env.parse("TRUSTED_PROXY_HOPS", 1),
            trusted_proxies,
            metrics_bind_addr: env
                .string("METRICS_BIND_ADDR")
                .and_then(|raw| match raw.parse() {
                    Ok(addr) => Some(addr),
                    Err(_) => {
                        env.problems
                            .push(format!("METRICS_BIND_ADDR: cannot understand `{raw}`"));
                        None
                    }
                }),
            metrics_token: env.string("METRICS_TOKEN").map(SecretString::from),
            session_absolute_lifetime: env.secs("SESSION_ABSOLUTE_LIFETIME_SECS", 30 * 24 * 3600),
            lockout_base_delay: env.secs("LOCKOUT_BASE_DELAY_SECS", 2),
            mail_outbox_in_production: env.parse("MAIL_OUTBOX_IN_PRODUCTION", false),
            lobby_presence_grace: env.secs(
                "LOBBY_PRESENCE_GRACE_SECS",
                game::api::ws::PRESENCE_GRACE.as_secs(),
            ),
        };
        if config.lobby_presence_grace.is_zero() {
            env.problems
                .push("LOBBY_PRESENCE_GRACE_SECS must be at least 1".to_owned());
        }
        if config.header_read_timeout.is_zero() || config.idle_timeout.is_zero() {
            env.problems.push(
                "HTTP_HEADER_READ_TIMEOUT_SECS and HTTP_IDLE_TIMEOUT_SECS must be at least 1"
                    .to_owned(),
            );
        }
        if config.idle_timeout <= request_timeout {
            env.problems.push(
                "HTTP_IDLE_TIMEOUT_SECS must be longer than REQUEST_TIMEOUT_SECS (a request in progress moves no byte while its handler works)"
                    .to_owned(),
            );
        }
        if config.max_connections == 0 {
            env.problems
                .push("HTTP_MAX_CONNECTIONS must be at least 1".to_owned());
        }
        if config.session_absolute_lifetime.is_zero() {
            env.problems
                .push("SESSION_ABSOLUTE_LIFETIME_SECS must be at least 1".to_owned());
        }
        if config.lockout_base_delay.is_zero() {
            env.problems
                .push("LOCKOUT_BASE_DELAY_SECS must be at least 1".to_owned());
        }
        if let Some(token) = &config.metrics_token
            && token.expose_secret().len() < 16
        {
            env.problems
                .push("METRICS_TOKEN must have at least 16 characters".to_owned());
        }
        let _ = app_env;
        config
    }

    /// Is `/metrics` served on the public listener, and to whom?
    pub fn metrics_on_main_listener(&self, app_env: AppEnv) -> MetricsAccess {
        if self.metrics_bind_addr.is_some() {
            MetricsAccess::NotHere
        } else if let Some(token) = &self.metrics_token {
            MetricsAccess::Token(token.clone())
        } else if app_env == AppEnv::Production {
            // Never public by accident: a production server needs one of
            // the two settings to export metrics at all.
            MetricsAccess::NotHere
        } else {
            MetricsAccess::Open
        }
    }
}

/// Who may read `/metrics` on the public listener.
#[derive(Clone)]
pub enum MetricsAccess {
    Open,
    Token(SecretString),
    NotHere,
}

/// Everything wrong with the configuration, one problem per line.
#[derive(Debug)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// How long a stored `Idempotency-Key` answer must be kept at least (the
/// economy's promise to retrying clients: `economy::idempotency::RETENTION`,
/// which a test keeps equal to this).
pub const IDEMPOTENCY_RETENTION_SECS: u64 = 24 * 60 * 60;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/backend.db?mode=rwc";
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8080";
/// A HS256 key should carry at least 256 bits.
pub const MIN_JWT_SECRET_LEN: usize = 32;
const JWT_SECRET_FILE: &str = "jwt_secret";

impl Config {
    /// Reads the process environment. Call `dotenvy::dotenv()` before to honour
    /// a `.env` file.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Same as [`Config::from_env`] with a custom source (tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut env = Reader {
            lookup: &lookup,
            problems: Vec::new(),
        };

        let app_env = match env.string("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                env.problems.push(format!(
                    "APP_ENV must be `development` or `production`, got `{other}`"
                ));
                AppEnv::Development
            }
        };
        let bind_addr = env.parse(
            "BIND_ADDR",
            DEFAULT_BIND_ADDR.parse().expect("valid default"),
        );
        let data_dir = PathBuf::from(env.string("DATA_DIR").unwrap_or_else(|| "data".into()));

        let url = env
            .string("DATABASE_URL")
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            env.problems.push(
                "DATABASE_URL must start with `sqlite:` or `postgres://` (e.g. sqlite://data/backend.db?mode=rwc)"
                    .to_owned(),
            );
        }
        let database = DatabaseConfig {
            url: SecretString::from(url),
            max_connections: env.parse("DB_MAX_CONNECTIONS", 10),
            min_connections: env.parse("DB_MIN_CONNECTIONS", 0),
            acquire_timeout: env.secs("DB_ACQUIRE_TIMEOUT_SECS", 5),
            idle_timeout: env.secs("DB_IDLE_TIMEOUT_SECS", 600),
            connect_attempts: env.parse("DB_CONNECT_ATTEMPTS", 10),
            backoff_initial: env.millis("DB_CONNECT_BACKOFF_MS", 250),
            backoff_max: env.millis("DB_CONNECT_BACKOFF_MAX_MS", 10_000),
            sqlite_busy_timeout: env.millis("SQLITE_BUSY_TIMEOUT_MS", 5_000),
        };
        if database.max_connections == 0 {
            env.problems
                .push("DB_MAX_CONNECTIONS must be at least 1".to_owned());
        }
        if database.min_connections > database.max_connections {
            env.problems
                .push("DB_MIN_CONNECTIONS must not exceed DB_MAX_CONNECTIONS".to_owned());
        }
        if database.connect_attempts == 0 {
            env.problems
                .push("DB_CONNECT_ATTEMPTS must be at least 1".to_owned());
        }

        let jwt_secret = env.string("JWT_SECRET").map(SecretString::from);
        match (&jwt_secret, app_env) {
            (Some(secret), _) => {
                if let Err(why) = check_jwt_secret(secret.expose_secret()) {
                    env.problems.push(format!("JWT_SECRET {why}"));
                }
            }
            (None, AppEnv::Production) => env.problems.push(format!(
                "JWT_SECRET is required in production: set it to at least {MIN_JWT_SECRET_LEN} random characters (e.g. `openssl rand -base64 48`)"
            )),
            (None, AppEnv::Development) => {}
        }

        let auth = AuthConfig {
            access_token_ttl: env.secs("ACCESS_TOKEN_TTL_SECS", 15 * 60),
            refresh_token_ttl: env.secs("REFRESH_TOKEN_TTL_SECS", 7 * 24 * 3600),
            refresh_race_grace: env.millis("REFRESH_RACE_GRACE_MS", 0),
            lockout_max_failures: env.parse("LOCKOUT_MAX_FAILURES", 5),
            lockout_duration: env.secs("LOCKOUT_DURATION_SECS", 15 * 60),
            require_email_verification: env.parse("REQUIRE_EMAIL_VERIFICATION", false),
            email_verification_ttl: env.secs("EMAIL_VERIFICATION_TTL_SECS", 24 * 3600),
            password_reset_ttl: env.secs("PASSWORD_RESET_TTL_SECS", 30 * 60),
            max_concurrent_hashes: env.parse(
                "MAX_CONCURRENT_PASSWORD_HASHES",
                default_concurrent_hashes(),
            ),
        };
        if auth.lockout_max_failures == 0 {
            env.problems
                .push("LOCKOUT_MAX_FAILURES must be at least 1".to_owned());
        }
        if auth.max_concurrent_hashes == 0 {
            env.problems
                .push("MAX_CONCURRENT_PASSWORD_HASHES must be at least 1".to_owned());
        }
        if auth.access_token_ttl.is_zero() || auth.refresh_token_ttl.is_zero() {
            env.problems
                .push("token lifetimes must be greater than zero".to_owned());
        }

        let cors_allowed_origins: Vec<String> = env
            .string("CORS_ALLOWED_ORIGINS")
            .map(|list| {
                list.split(',')
                    .map(|origin| origin.trim().trim_end_matches('/').to_owned())
                    .filter(|origin| !origin.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for origin in &cors_allowed_origins {
            if origin == "*" {
                env.problems.push(
                    "CORS_ALLOWED_ORIGINS must list origins explicitly; `*` is not allowed"
                        .to_owned(),
                );
            } else if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.parse::<axum::http::HeaderValue>().is_err()
            {
                env.problems.push(format!(
                    "CORS_ALLOWED_ORIGINS entry `{origin}` must look like https://host[:port]"
                ));
            }
        }
        let http = HttpConfig {
            cors_allowed_origins,
            body_limit_bytes: env.parse("BODY_LIMIT_BYTES", 64 * 1024),
            request_timeout: env.secs("REQUEST_TIMEOUT_SECS", 30),
            trust_proxy_headers: env.parse("TRUST_PROXY_HEADERS", false),
            shutdown_grace: env.secs("SHUTDOWN_GRACE_SECS", 30),
        };
        if http.body_limit_bytes < 1024 {
            env.problems
                .push("BODY_LIMIT_BYTES must be at least 1024".to_owned());
        }

        let smtp = env.string("SMTP_HOST").map(|host| {
            let tls = match env.string("SMTP_TLS").as_deref() {
                None | Some("starttls") => SmtpTls::StartTls,
                Some("tls") => SmtpTls::Tls,
                Some("none") => SmtpTls::None,
                Some(other) => {
                    env.problems.push(format!(
                        "SMTP_TLS must be `starttls`, `tls` or `none`, got `{other}`"
                    ));
                    SmtpTls::StartTls
                }
            };
            let default_port = match tls {
                SmtpTls::Tls => 465,
                SmtpTls::StartTls => 587,
                SmtpTls::None => 25,
            };
            SmtpConfig {
                host,
                port: env.parse("SMTP_PORT", default_port),
                username: env.string("SMTP_USERNAME"),
                password: env.string("SMTP_PASSWORD").map(SecretString::from),
                tls,
            }
        });
        if let Some(smtp) = &smtp
            && smtp.tls == SmtpTls::None
            && app_env == AppEnv::Production
            && smtp.password.is_some()
        {
            env.problems.push(
                "SMTP_TLS=none would send the SMTP password in clear text in production".to_owned(),
            );
        }
        let mail = MailConfig {
            from: env
                .string("MAIL_FROM")
                .unwrap_or_else(|| "Children of the Singularity <no-reply@localhost>".to_owned()),
            smtp,
        };
        if mail.from.parse::<lettre::message::Mailbox>().is_err() {
            env.problems
                .push("MAIL_FROM must be an address like `Name <user@example.org>`".to_owned());
        }

        let log_format = match env.string("LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                env.problems.push(format!(
                    "LOG_FORMAT must be `json` or `pretty`, got `{other}`"
                ));
                LogFormat::Json
            }
        };

        // The limits and the retention job validate their own sections; their
        // problems join the list so one run shows everything.
        let limits = match crate::limits::LimitsConfig::from_lookup(&lookup) {
            Ok(limits) => Some(limits),
            Err(error) => {
                env.problems.extend(error.0);
                None
            }
        };
        let retention = RetentionConfig {
            interval: env.secs("RETENTION_INTERVAL_SECS", 3600),
            ended_sessions_after: env.secs("RETENTION_ENDED_SESSIONS_AFTER_SECS", 24 * 3600),
            mail_tokens_after: env.secs("RETENTION_MAIL_TOKENS_AFTER_SECS", 24 * 3600),
            idempotency_after: env.secs(
                "RETENTION_IDEMPOTENCY_AFTER_SECS",
                IDEMPOTENCY_RETENTION_SECS,
            ),
            runs_after: env.secs("RETENTION_RUNS_AFTER_SECS", 30 * 24 * 3600),
            outbox_after: env.secs("RETENTION_OUTBOX_AFTER_SECS", 7 * 24 * 3600),
            throttle_window: auth.lockout_duration,
        };
        if retention.idempotency_after.as_secs() < IDEMPOTENCY_RETENTION_SECS {
            env.problems.push(format!(
                "RETENTION_IDEMPOTENCY_AFTER_SECS must be at least {} (a client may retry that long)",
                IDEMPOTENCY_RETENTION_SECS
            ));
        }
        if retention.runs_after < auth.refresh_token_ttl {
            env.problems.push(
                "RETENTION_RUNS_AFTER_SECS must be at least REFRESH_TOKEN_TTL_SECS: an offline client may still file a run's collections until its session expires"
                    .to_owned(),
            );
        }
        let hardening = HardeningConfig::read(&mut env, app_env, http.request_timeout);
        let oauth = OAuthConfig::read(&mut env, app_env);
        if app_env == AppEnv::Production
            && mail.smtp.is_none()
            && !hardening.mail_outbox_in_production
        {
            env.problems.push(
                "SMTP_HOST is required in production (reset and verification codes must reach players); set MAIL_OUTBOX_IN_PRODUCTION=true to keep mail in the outbox table on purpose"
                    .to_owned(),
            );
        }

        if !env.problems.is_empty() {
            return Err(ConfigError(env.problems));
        }
        let Some(limits) = limits else {
            unreachable!("a section without a value reported a problem");
        };
        Ok(Self {
            app_env,
            bind_addr,
            data_dir,
            database,
            jwt_secret,
            auth,
            http,
            mail,
            log_format,
            limits,
            retention,
            hardening,
            oauth,
        })
    }

    /// Non-fatal remarks for `check-config` and the start-up log.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.app_env == AppEnv::Production {
            if self.mail.smtp.is_none() {
                warnings.push(
                    "SMTP_HOST is not set and MAIL_OUTBOX_IN_PRODUCTION=true: verification and password-reset mail goes to the outbox table, not to players".to_owned(),
                );
            }
            if self.hardening.metrics_bind_addr.is_none() && self.hardening.metrics_token.is_none()
            {
                warnings.push(
                    "neither METRICS_BIND_ADDR nor METRICS_TOKEN is set: /metrics is not served"
                        .to_owned(),
                );
            }
            let url = self.database.url.expose_secret();
            if url.starts_with("postgres")
                && !url.contains("sslmode=require")
                && !url.contains("sslmode=verify")
                && !url.contains("@127.0.0.1")
                && !url.contains("@localhost")
            {
                warnings.push(
                    "DATABASE_URL points at a remote PostgreSQL without sslmode=require".to_owned(),
                );
            }
            if self.database.url.expose_secret().starts_with("sqlite:") {
                warnings.push(
                    "production on SQLite: fine for one server, use PostgreSQL to run several replicas"
                        .to_owned(),
                );
            }
        }
        if self.app_env == AppEnv::Production
            && self.limits.redis_url.is_none()
            && !self.database.is_sqlite()
        {
            warnings.push(
                "REDIS_URL is not set: each replica counts the rate limits alone (N replicas, N times the budget)"
                    .to_owned(),
            );
        }
        if self.jwt_secret.is_none() {
            warnings.push(format!(
                "JWT_SECRET is not set: development mode generates one and keeps it in {}",
                self.jwt_secret_path().display()
            ));
        }
        warnings
    }

    pub fn jwt_secret_path(&self) -> PathBuf {
        self.data_dir.join(JWT_SECRET_FILE)
    }

    /// In development without `JWT_SECRET`, load the secret generated by an
    /// earlier start from the data directory, or generate and persist one, so
    /// players stay logged in across restarts.
    pub fn resolve_jwt_secret(&mut self) -> anyhow::Result<()> {
        if self.jwt_secret.is_some() {
            return Ok(());
        }
        anyhow::ensure!(
            self.app_env == AppEnv::Development,
            "JWT_SECRET is required in production"
        );
        let path = self.jwt_secret_path();
        let secret = load_or_generate_secret(&path)?;
        self.jwt_secret = Some(secret);
        Ok(())
    }

    pub fn jwt_secret(&self) -> &SecretString {
        self.jwt_secret
            .as_ref()
            .expect("resolve_jwt_secret must run before the secret is used")
    }

    /// A one-screen summary without secrets, for `check-config` and the log.
    pub fn summary(&self) -> String {
        format!(
            "APP_ENV={} BIND_ADDR={} DATABASE_URL={} JWT_SECRET={} SMTP={} REQUIRE_EMAIL_VERIFICATION={} CORS_ALLOWED_ORIGINS=[{}]",
            self.app_env.as_str(),
            self.bind_addr,
            self.database.redacted_url(),
            if self.jwt_secret.is_some() {
                "set"
            } else {
                "generated"
            },
            self.mail
                .smtp
                .as_ref()
                .map(|smtp| format!("{}:{}", smtp.host, smtp.port))
                .unwrap_or_else(|| "dev-outbox".to_owned()),
            self.auth.require_email_verification,
            self.http.cors_allowed_origins.join(","),
        ) + &format!(
            " OAUTH_PROVIDERS=[{}]",
            self.oauth
                .providers
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ) + "; "
            + &self.limits.summary()
            + "; "
            + &self.retention.summary()
    }
}

impl fmt::Debug for Config {
    // Secrets redacted: the summary never contains them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Config({})", self.summary())
    }
}

impl DatabaseConfig {
    pub fn is_sqlite(&self) -> bool {
        self.url.expose_secret().starts_with("sqlite:")
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose_secret())
    }

    /// For a SQLite URL, the database file (to create its directory).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let url = self.url.expose_secret();
        let rest = url
            .strip_prefix("sqlite://")
            .or(url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(PathBuf::from(path))
    }
}

pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((credentials, host)) = rest.split_once('@')
    {
        let user = credentials.split(':').next().unwrap_or_default();
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

/// Why a secret is not good enough for signing tokens, if it is not.
pub fn check_jwt_secret(secret: &str) -> Result<(), String> {
    if secret.len() < MIN_JWT_SECRET_LEN {
        return Err(format!(
            "is too short ({} characters): use at least {MIN_JWT_SECRET_LEN} random characters (e.g. `openssl rand -base64 48`)",
            secret.len()
        ));
    }
    let distinct: std::collections::HashSet<char> = secret.chars().collect();
    let lower = secret.to_lowercase();
    let placeholder = [
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "example",
        "replace",
    ]
    .iter()
    .any(|word| lower.contains(word));
    if distinct.len() < 10 || placeholder {
        return Err(
            "looks like a placeholder or has too little variety: generate it randomly (e.g. `openssl rand -base64 48`)"
                .to_owned(),
        );
    }
    Ok(())
}

fn load_or_generate_secret(path: &Path) -> anyhow::Result<SecretString> {
    use anyhow::Context as _;
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        check_jwt_secret(&existing)
            .map_err(|why| anyhow::anyhow!("{}: secret {why}", path.display()))?;
        return Ok(SecretString::from(existing));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let secret = crate::auth::tokens::random_token(48);
    write_private_file(path, &secret)
        .with_context(|| format!("writing the generated JWT secret to {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "JWT_SECRET not set: generated a development secret (never use this in production)"
    );
    Ok(SecretString::from(secret))
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

struct Reader<'a, F: Fn(&str) -> Option<String>> {
    lookup: &'a F,
    problems: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> Reader<'_, F> {
    fn string(&self, key: &str) -> Option<String> {
        (self.lookup)(key)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    fn parse<T: std::str::FromStr>(&mut self, key: &str, default: T) -> T {
        match self.string(key) {
            None => default,
            Some(raw) => match raw.parse() {
                Ok(value) => value,
                Err(_) => {
                    self.problems
                        .push(format!("{key}: cannot understand `{raw}`"));
                    default
                }
            },
        }
    }

    fn secs(&mut self, key: &str, default: u64) -> Duration {
        Duration::from_secs(self.parse(key, default))
    }

    fn millis(&mut self, key: &str, default: u64) -> Duration {
        Duration::from_millis(self.parse(key, default))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|key| map.get(key).cloned())
    }

    #[test]
    fn development_needs_no_configuration() {
        let config = load(&[]).unwrap();
        assert_eq!(config.app_env, AppEnv::Development);
        assert_eq!(config.bind_addr.to_string(), DEFAULT_BIND_ADDR);
        assert!(config.database.is_sqlite());
        assert_eq!(
            config.database.sqlite_file().unwrap(),
            PathBuf::from("data/backend.db")
        );
        assert_eq!(config.auth.lockout_max_failures, 5);
    }

    #[test]
    fn production_refuses_missing_or_weak_secrets() {
        let missing = load(&[("APP_ENV", "production")]).unwrap_err();
        assert!(missing.to_string().contains("JWT_SECRET is required"));
        for weak in [
            "short",
            "changeme-changeme-changeme-changeme",
            &"a".repeat(64),
        ] {
            let err = load(&[("APP_ENV", "production"), ("JWT_SECRET", weak)]).unwrap_err();
            assert!(err.to_string().contains("JWT_SECRET"), "{weak}");
        }
        let ok = load(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", "q8V3nR1xZp0LwT7mKc2YhB5sJd9FgA4eU6iO"),
            ("SMTP_HOST", "smtp.example.org"),
        ]);
        assert!(ok.is_ok());
    }

    #[test]
    fn production_needs_smtp_unless_told_to_use_the_outbox() {
        let secret = ("JWT_SECRET", "q8V3nR1xZp0LwT7mKc2YhB5sJd9FgA4eU6iO");
        let refused = load(&[("APP_ENV", "production"), secret]).unwrap_err();
        assert!(
            refused.to_string().contains("SMTP_HOST is required"),
            "{refused}"
        );
        let consented = load(&[
            ("APP_ENV", "production"),
            secret,
            ("MAIL_OUTBOX_IN_PRODUCTION", "true"),
        ])
        .unwrap();
        assert!(
            consented.warnings().iter().any(|w| w.contains("outbox")),
            "{:?}",
            consented.warnings()
        );
        // Development keeps its zero set-up outbox.
        assert!(load(&[]).is_ok());
    }

    #[test]
    fn proxy_blocks_parse() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!(load(&[("TRUSTED_PROXIES", "10.0.0.0/8, nonsense")]).is_err());
    }

    #[test]
    fn lists_every_problem() {
        let err = load(&[
            ("BIND_ADDR", "nowhere"),
            ("DB_MAX_CONNECTIONS", "many"),
            ("DATABASE_URL", "mysql://x"),
        ])
        .unwrap_err();
        assert_eq!(err.0.len(), 3, "{err}");
    }

    #[test]
    fn redacts_database_passwords() {
        assert_eq!(
            redact_url("postgres://cots:hunter2@db:5432/app?sslmode=require"),
            "postgres://cots:***@db:5432/app?sslmode=require"
        );
    }
}
