//! The backend client's network core: plain Rust on the tokio runtime, no
//! Godot types, so it runs on the runtime's worker threads.
//!
//! The `BackendClient` node of the game (or [`crate::api::ApiClient`]) hands [`Call`]s to
//! [`execute`] and receives [`NetEvent`]s over a channel it polls on the main
//! thread. Access tokens live only in memory here; a rotated refresh token is
//! reported as [`NetEvent::RefreshRotated`] so the node can persist it with
//! Godot's encrypted file API (which must run on the main thread).
//!
//! Token rules (ARCHITECTURE.md "Backend contract"): the access token is
//! refreshed when it is within `refresh_margin` of expiry, and once more when a
//! request is answered 401. Refreshes are serialised by holding the token
//! mutex across the refresh call, so a rotated (single-use) refresh token is
//! never sent twice.

use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use game::api::oauth::OAuthOutcome;
use game::api::{ErrorBody, LoginRequest, RefreshRequest, TokenResponse, codes};
use reqwest::Method;

/// `status` of an [`ApiError`] that never reached the server.
pub const STATUS_UNREACHABLE: u16 = 0;

/// A failed call: the server's `{"code","message"}` with its status and
/// `Retry-After`, or a transport failure (`status` 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Seconds from a `Retry-After` header (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn unreachable(message: impl Into<String>) -> Self {
        ApiError::new(STATUS_UNREACHABLE, codes::UNREACHABLE, message)
    }

    pub fn not_signed_in() -> Self {
        ApiError::new(401, codes::NOT_SIGNED_IN, "not signed in")
    }

    /// The server was not reached at all (the game may keep playing offline).
    pub fn is_unreachable(&self) -> bool {
        self.status == STATUS_UNREACHABLE
    }
}

/// A successful answer: status 2xx and the raw body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// What a call does about authentication.
#[derive(Debug, Clone, PartialEq)]
pub enum CallKind {
    /// No `Authorization` header.
    Public,
    /// `Authorization: Bearer`, refreshing the access token as needed.
    Authenticated,
    /// `POST /auth/login`: on success the tokens are kept and the refresh
    /// token reported.
    Login(LoginRequest),
    /// `POST /auth/oauth/exchange` or `/auth/oauth/finish` without a
    /// session (public): an `OAuthOutcome` that carries tokens (status
    /// `signed_in`) has them kept exactly as a login's are.
    ProviderSignIn,
    /// Restore from a stored refresh token: rotate it now.
    Resume { refresh_token: String },
    /// `POST /auth/logout` with the current refresh token, then forget both.
    Logout,
}

/// One HTTP request to the backend.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: Method,
    /// Path below the base URL, e.g. `/api/v1/player`.
    pub path: String,
    pub body: Option<serde_json::Value>,
    pub kind: CallKind,
    /// Sent as `Idempotency-Key` (mutating economy calls).
    pub idempotency_key: Option<String>,
}

impl Call {
    pub fn get(path: impl Into<String>) -> Self {
        Call {
            method: Method::GET,
            path: path.into(),
            body: None,
            kind: CallKind::Authenticated,
            idempotency_key: None,
        }
    }

    pub fn post(path: impl Into<String>, body: Option<serde_json::Value>) -> Self {
        Call {
            method: Method::POST,
            path: path.into(),
            body,
            kind: CallKind::Authenticated,
            idempotency_key: None,
        }
    }

    pub fn patch(path: impl Into<String>, body: Option<serde_json::Value>) -> Self {
        Call {
            method: Method::PATCH,
            ..Call::post(path, body)
        }
    }

    pub fn put(path: impl Into<String>, body: Option<serde_json::Value>) -> Self {
        Call {
            method: Method::PUT,
            ..Call::post(path, body)
        }
    }

    pub fn delete(path: impl Into<String>, body: Option<serde_json::Value>) -> Self {
        Call {
            method: Method::DELETE,
            ..Call::post(path, body)
        }
    }

    pub fn public(mut self) -> Self {
        self.kind = CallKind::Public;
        self
    }

    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// What the network side tells the node.
#[derive(Debug, Clone, PartialEq)]
pub enum NetEvent {
    /// Call `id` finished.
    Finished {
        id: u64,
        result: Result<Reply, ApiError>,
    },
    /// A new refresh token was issued: persist it (the old one is dead).
    RefreshRotated(String),
    /// The refresh token was refused: the session is over, sign in again.
    SessionEnded { code: String },
    /// Whether the last request reached the server.
    Reachable(bool),
}

#[derive(Debug, Default)]
struct Tokens {
    access: Option<String>,
    access_expires: Option<Instant>,
    refresh: Option<String>,
}

/// State shared by every in-flight call.
#[derive(Debug)]
pub struct NetCore {
    http: reqwest::Client,
    base_url: String,
    refresh_margin: Duration,
    tokens: tokio::sync::Mutex<Tokens>,
    events: std::sync::Mutex<Sender<NetEvent>>,
    /// With an extra root CA: the TLS configuration of `wss://` (the
    /// system's roots plus that CA; verification always on).
    ws_tls: Option<Arc<rustls::ClientConfig>>,
}

impl NetCore {
    pub fn new(
        base_url: &str,
        timeout: Duration,
        refresh_margin: Duration,
        events: Sender<NetEvent>,
    ) -> Result<Arc<NetCore>, String> {
        Self::with_root_ca(base_url, timeout, refresh_margin, events, None)
    }

    /// Like [`NetCore::new`], trusting `extra_root_ca_pem` (PEM
    /// certificates) besides the system's roots, for HTTPS and `wss://`:
    /// a private CA in front of a test or staging backend. Certificates are
    /// always verified; there is no option to turn that off.
    pub fn with_root_ca(
        base_url: &str,
        timeout: Duration,
        refresh_margin: Duration,
        events: Sender<NetEvent>,
        extra_root_ca_pem: Option<&[u8]>,
    ) -> Result<Arc<NetCore>, String> {
        let mut builder = reqwest::Client::builder();
        let mut ws_tls = None;
        if let Some(pem) = extra_root_ca_pem {
            install_tls_provider();
            let certs = pem_certificates(pem)?;
            let mut reqwest_certs = Vec::new();
            for cert in &certs {
                reqwest_certs.push(
                    reqwest::Certificate::from_der(cert.as_ref())
                        .map_err(|e| format!("extra root CA: {e}"))?,
                );
            }
            builder = builder.tls_certs_merge(reqwest_certs);
            ws_tls = Some(ws_tls_config(certs)?);
        }
        let http = builder
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!(
                "children-of-the-singularity/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(NetCore {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            refresh_margin,
            tokens: tokio::sync::Mutex::new(Tokens::default()),
            events: std::sync::Mutex::new(events),
            ws_tls,
        }))
    }

    /// The `wss://` TLS configuration when an extra root CA is set.
    pub fn ws_tls(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.ws_tls.clone()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Forgets both tokens (the session ended).
    pub async fn clear_tokens(self: Arc<Self>) {
        *self.tokens.lock().await = Tokens::default();
    }

    fn emit(&self, event: NetEvent) {
        if let Ok(sender) = self.events.lock() {
            // The node may be gone (quitting); nothing to tell then.
            let _ = sender.send(event);
        }
    }

    /// Runs `call` and reports [`NetEvent::Finished`] with `id`.
    pub async fn run(self: Arc<Self>, id: u64, call: Call) {
        let result = self.execute(call).await;
        match &result {
            Err(e) if e.is_unreachable() => self.emit(NetEvent::Reachable(false)),
            // Refused here without a request: says nothing about the link.
            Err(e) if e.code == codes::NOT_SIGNED_IN => {}
            _ => self.emit(NetEvent::Reachable(true)),
        }
        self.emit(NetEvent::Finished { id, result });
    }

    /// Runs `call` and returns its answer (no event is reported).
    pub async fn request(&self, call: Call) -> Result<Reply, ApiError> {
        self.execute(call).await
    }

    async fn execute(&self, call: Call) -> Result<Reply, ApiError> {
        match call.kind.clone() {
            CallKind::Public => self.send(&call, None).await,
            CallKind::Authenticated => {
                let token = self.access_token().await?;
                match self.send(&call, Some(&token)).await {
                    Err(e) if e.status == 401 => {
                        // Maybe revoked or expired early: one refresh, one retry.
                        let token = self.refresh_after_rejection(&token).await?;
                        self.send(&call, Some(&token)).await
                    }
                    other => other,
                }
            }
            CallKind::Login(request) => {
                let call = Call {
                    body: Some(serde_json::to_value(&request).unwrap_or_default()),
                    ..call
                };
                let reply = self.send(&call, None).await?;
                let tokens: TokenResponse = parse(&reply)?;
                let mut held = self.tokens.lock().await;
                self.store_tokens(&mut held, tokens);
                Ok(reply)
            }
            CallKind::ProviderSignIn => {
                let reply = self.send(&call, None).await?;
                let outcome: OAuthOutcome = parse(&reply)?;
                if let Some(tokens) = outcome.tokens {
                    let mut held = self.tokens.lock().await;
                    self.store_tokens(&mut held, tokens);
                }
                Ok(reply)
            }
            CallKind::Resume { refresh_token } => {
                let mut held = self.tokens.lock().await;
                held.refresh = Some(refresh_token);
                held.access = None;
                self.refresh_locked(&mut held).await?;
                Ok(Reply {
                    status: 200,
                    body: b"{}".to_vec(),
                })
            }
            CallKind::Logout => {
                let mut held = self.tokens.lock().await;
                let refresh = held.refresh.take();
                let access = held.access.take();
                held.access_expires = None;
                drop(held);
                match refresh {
                    Some(refresh_token) => {
                        let call = Call {
                            body: Some(
                                serde_json::to_value(RefreshRequest { refresh_token })
                                    .unwrap_or_default(),
                            ),
                            ..call
                        };
                        self.send(&call, access.as_deref()).await
                    }
                    None => Ok(Reply {
                        status: 204,
                        body: Vec::new(),
                    }),
                }
            }
        }
    }

    /// The access token for a connection that cannot go through [`Call`]
    /// (the lobby WebSocket), refreshed as an HTTP call would be.
    pub async fn bearer_token(&self) -> Result<String, ApiError> {
        self.access_token().await
    }

    /// `token` was refused (401): a fresh one, unless the session is over.
    pub async fn bearer_token_after_rejection(&self, token: &str) -> Result<String, ApiError> {
        self.refresh_after_rejection(token).await
    }

    /// A valid access token, refreshing first when it is missing or about to expire.
    async fn access_token(&self) -> Result<String, ApiError> {
        let mut held = self.tokens.lock().await;
        let fresh = match (&held.access, held.access_expires) {
            (Some(_), Some(expires)) => Instant::now() + self.refresh_margin < expires,
            (Some(_), None) => true,
            _ => false,
        };
        if fresh {
            return Ok(held.access.clone().unwrap_or_default());
        }
        self.refresh_locked(&mut held).await
    }

    /// After a 401 with `rejected`: refresh unless another call already did.
    async fn refresh_after_rejection(&self, rejected: &str) -> Result<String, ApiError> {
        let mut held = self.tokens.lock().await;
        if let Some(current) = &held.access
            && current != rejected
        {
            return Ok(current.clone());
        }
        self.refresh_locked(&mut held).await
    }

    /// Rotates the refresh token; the caller holds the token lock, which is
    /// what serialises refreshes.
    async fn refresh_locked(&self, held: &mut Tokens) -> Result<String, ApiError> {
        let Some(refresh_token) = held.refresh.clone() else {
            return Err(ApiError::not_signed_in());
        };
        let call = refresh(refresh_token);
        match self.send(&call, None).await {
            Ok(reply) => {
                let tokens: TokenResponse = parse(&reply)?;
                let access = tokens.access_token.clone();
                self.store_tokens(held, tokens);
                Ok(access)
            }
            Err(e) if e.is_unreachable() || e.status == 429 || e.status >= 500 => Err(e),
            Err(e) => {
                // Refused (expired, revoked, reused): the session is over.
                *held = Tokens::default();
                self.emit(NetEvent::SessionEnded {
                    code: e.code.clone(),
                });
                Err(e)
            }
        }
    }

    fn store_tokens(&self, held: &mut Tokens, tokens: TokenResponse) {
        held.access = Some(tokens.access_token);
        held.access_expires = Some(Instant::now() + Duration::from_secs(tokens.expires_in));
        held.refresh = Some(tokens.refresh_token.clone());
        self.emit(NetEvent::RefreshRotated(tokens.refresh_token));
    }

    async fn send(&self, call: &Call, bearer: Option<&str>) -> Result<Reply, ApiError> {
        let url = format!("{}{}", self.base_url, call.path);
        let mut request = self.http.request(call.method.clone(), &url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(key) = &call.idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ApiError::unreachable(describe_transport_error(&e)))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = response
            .bytes()
            .await
            .map_err(|e| ApiError::unreachable(describe_transport_error(&e)))?
            .to_vec();
        if status.is_success() {
            return Ok(Reply {
                status: status.as_u16(),
                body,
            });
        }
        let mut error = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(err) => ApiError::new(status.as_u16(), err.code, err.message),
            Err(_) => ApiError::new(
                status.as_u16(),
                fallback_code(status.as_u16()),
                status.canonical_reason().unwrap_or("error").to_owned(),
            ),
        };
        error.retry_after = retry_after;
        Err(error)
    }
}

/// The code of an error answer without a body we can read, from its status.
pub(crate) fn fallback_code(status: u16) -> &'static str {
    match status {
        401 => codes::UNAUTHORIZED,
        403 => codes::FORBIDDEN,
        404 => codes::NOT_FOUND,
        409 => codes::CONFLICT,
        429 => codes::RATE_LIMITED,
        s if s >= 500 => codes::INTERNAL,
        _ => codes::INVALID_REQUEST,
    }
}

fn describe_transport_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the station did not answer in time".to_owned()
    } else if error.is_connect() {
        "cannot reach the station".to_owned()
    } else {
        format!("network error: {error}")
    }
}

/// Parses a reply body as the contract's type.
pub fn parse<T: serde::de::DeserializeOwned>(reply: &Reply) -> Result<T, ApiError> {
    serde_json::from_slice(&reply.body).map_err(|e| {
        ApiError::new(
            reply.status,
            codes::BAD_RESPONSE,
            format!("unexpected answer from the station: {e}"),
        )
    })
}

/// `POST /auth/refresh` (public) with a refresh token in the body. It lives
/// here, beside the token store that sends it, so `routes` (which builds on
/// [`Call`]) is not needed by this module.
pub fn refresh(refresh_token: String) -> Call {
    Call::post(
        format!("{}/auth/refresh", game::api::API_PREFIX),
        serde_json::to_value(RefreshRequest { refresh_token }).ok(),
    )
    .public()
}

/// A fresh `Idempotency-Key` (UUID v4, 36 printable characters).
pub fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Every certificate of a PEM bundle (at least one).
fn pem_certificates(pem: &[u8]) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject as _;
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("extra root CA: not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("extra root CA: no certificate in the PEM".to_owned());
    }
    Ok(certs)
}

/// The system's roots plus `extra`, verified by rustls with the process's
/// crypto provider (aws-lc-rs).
fn ws_tls_config(
    extra: Vec<rustls::pki_types::CertificateDer<'static>>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A broken system certificate is skipped, like the platform does.
        let _ = roots.add(cert);
    }
    for cert in extra {
        roots.add(cert).map_err(|e| format!("extra root CA: {e}"))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// `wss://` goes through rustls; with more than one crypto provider compiled
/// in (feature unification in a workspace build) rustls needs a process
/// default, so the one reqwest uses is installed once (by the lobby socket
/// and [`NetCore::with_root_ca`]).
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err = a default was already installed; that one is fine too.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_unique_and_within_the_limit() {
        let a = new_idempotency_key();
        let b = new_idempotency_key();
        assert_ne!(a, b);
        assert!(a.len() <= game::api::MAX_IDEMPOTENCY_KEY_LEN);
        assert!(a.chars().all(|c| c.is_ascii_graphic()));
    }

    #[test]
    fn fallback_codes_follow_the_status() {
        use reqwest::StatusCode;
        assert_eq!(fallback_code(StatusCode::NOT_FOUND.as_u16()), "not_found");
        assert_eq!(
            fallback_code(StatusCode::TOO_MANY_REQUESTS.as_u16()),
            "rate_limited"
        );
        assert_eq!(fallback_code(StatusCode::BAD_GATEWAY.as_u16()), "internal");
    }

    #[test]
    fn parse_reports_a_bad_body() {
        let reply = Reply {
            status: 200,
            body: b"not json".to_vec(),
        };
        let err = parse::<game::api::Player>(&reply).unwrap_err();
        assert_eq!(err.code, codes::BAD_RESPONSE);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn unreachable_server_is_reported_as_status_zero() {
        let (tx, rx) = std::sync::mpsc::channel();
        // Port 9 (discard) on loopback: nothing listens there.
        let core = NetCore::new(
            "http://127.0.0.1:9",
            Duration::from_secs(2),
            Duration::from_secs(60),
            tx,
        )
        .unwrap();
        core.clone().run(7, Call::get("/health").public()).await;
        let events: Vec<_> = rx.try_iter().collect();
        assert!(events.contains(&NetEvent::Reachable(false)));
        let finished = events
            .iter()
            .find_map(|e| match e {
                NetEvent::Finished { id: 7, result } => Some(result.clone()),
                _ => None,
            })
            .unwrap();
        assert!(finished.unwrap_err().is_unreachable());
    }

    /// A one-shot HTTP server on loopback: answers each of `answers` in
    /// turn (status line + JSON body) and returns every request head it read.
    async fn fake_server(
        answers: Vec<(&'static str, String)>,
    ) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut heads = Vec::new();
            for (status, body) in answers {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                let mut chunk = [0u8; 4096];
                // Head, then the body by its Content-Length.
                loop {
                    let n = stream.read(&mut chunk).await.unwrap();
                    request.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length || n == 0 {
                            break;
                        }
                    }
                }
                heads.push(String::from_utf8_lossy(&request).to_string());
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).await.unwrap();
                stream.shutdown().await.unwrap();
            }
            heads
        });
        (url, task)
    }

    /// What `routes::oauth_exchange` builds (not imported: routes builds on net).
    fn provider_sign_in_call(exchange: &game::api::oauth::ExchangeRequest) -> Call {
        Call {
            kind: CallKind::ProviderSignIn,
            ..Call::post(
                game::api::oauth::EXCHANGE_PATH,
                serde_json::to_value(exchange).ok(),
            )
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_provider_sign_in_keeps_the_tokens_like_a_login() {
        let outcome = serde_json::json!({
            "status": "signed_in", "provider": "google",
            "tokens": {"access_token": "acc-1", "refresh_token": "ref-1",
                       "token_type": "Bearer", "expires_in": 900}
        });
        let (url, server) = fake_server(vec![
            ("200 OK", outcome.to_string()),
            ("200 OK", "{}".to_owned()),
        ])
        .await;
        let (tx, rx) = std::sync::mpsc::channel();
        let core = NetCore::new(&url, Duration::from_secs(5), Duration::from_secs(60), tx).unwrap();
        let exchange = game::api::oauth::ExchangeRequest {
            code: "c0de".into(),
            code_verifier: "v".repeat(43),
        };
        core.request(provider_sign_in_call(&exchange))
            .await
            .unwrap();
        assert!(
            rx.try_iter()
                .any(|e| e == NetEvent::RefreshRotated("ref-1".into()))
        );
        core.request(Call::get("/api/v1/me")).await.unwrap();
        let heads = server.await.unwrap();
        assert!(heads[0].starts_with("POST /api/v1/auth/oauth/exchange"));
        assert!(!heads[0].to_ascii_lowercase().contains("authorization:"));
        assert!(
            heads[1].contains("authorization: Bearer acc-1"),
            "{}",
            heads[1]
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_provider_step_keeps_no_tokens() {
        let outcome = serde_json::json!({
            "status": "choose_username", "provider": "discord", "ticket": "t", "username": "ada"
        });
        let (url, _server) = fake_server(vec![("200 OK", outcome.to_string())]).await;
        let (tx, rx) = std::sync::mpsc::channel();
        let core = NetCore::new(&url, Duration::from_secs(5), Duration::from_secs(60), tx).unwrap();
        let exchange = game::api::oauth::ExchangeRequest {
            code: "c0de".into(),
            code_verifier: "v".repeat(43),
        };
        core.request(provider_sign_in_call(&exchange))
            .await
            .unwrap();
        assert_eq!(rx.try_iter().count(), 0);
        let err = core.request(Call::get("/api/v1/me")).await.unwrap_err();
        assert_eq!(err.code, codes::NOT_SIGNED_IN);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn authenticated_call_without_a_session_is_refused_locally() {
        let (tx, _rx) = std::sync::mpsc::channel();
        let core = NetCore::new(
            "http://127.0.0.1:9",
            Duration::from_secs(2),
            Duration::from_secs(60),
            tx,
        )
        .unwrap();
        let err = core.execute(Call::get("/api/v1/player")).await.unwrap_err();
        assert_eq!(err.code, codes::NOT_SIGNED_IN);
    }
}
