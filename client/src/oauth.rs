//! Signing in through a provider (Google, Discord) from a desktop game:
//! OAuth 2.0 for native apps (RFC 8252) with PKCE (RFC 7636). The wire
//! contract (paths, bodies, limits) is `game::api::oauth`; this module is
//! the game's half of the browser dance:
//!
//! 1. [`Pkce::generate`] and [`new_state`]: a random verifier (43 URL-safe
//!    characters, 256 bits), its S256 challenge, and a random `state`.
//! 2. [`LoopbackListener::bind`]: a TCP listener on `127.0.0.1:<free port>`
//!    whose [`LoopbackListener::redirect_uri`] is
//!    `http://127.0.0.1:<port>/callback`.
//! 3. [`start_url`]: the backend's start address the system browser opens
//!    (opening it is the caller's: Godot's `OS.shell_open`).
//! 4. [`LoopbackListener::wait`]: answers requests until ONE `GET /callback`
//!    arrives (anything else gets a 404 and the wait goes on), reads its
//!    query ([`parse_query`]), checks the `state` ([`judge`]), shows the
//!    browser a small page in words and closes. A timeout and a
//!    [`Canceller`] end it too.
//! 5. The caller posts the code with the verifier ([`crate::routes::oauth_exchange`]).
//!
//! Bad input (a junk request, an oversized head, a slow client) gets an
//! HTTP error and never a panic. Nothing here logs, and the `Debug` of the
//! verifier and of the code is redacted: neither may reach a log.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use game::api::codes;
use game::api::oauth::{
    CHALLENGE_METHOD_S256, ExchangeRequest, LOOPBACK_PATH, LoopbackAnswer, StartQuery,
    is_token_param, start_path,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::text::auth as words;

/// Longest request head (request line and headers) the listener reads.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// Longest request line (the query carries the code, the `state` and at
/// most a sentence of `error_description`).
pub const MAX_REQUEST_LINE_BYTES: usize = 4 * 1024;
/// Most header lines in one request.
pub const MAX_HEADERS: usize = 64;
/// How much of an `error_description` is kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 300;
/// How long one connection may take to send its request head (a browser's
/// idle pre-connection is dropped after that; the wait goes on).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long writing the answer page may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; more are closed on arrival.
pub const MAX_CONNECTIONS: usize = 16;
/// Random bytes in a verifier: 32 bytes are 43 base64url characters
/// (RFC 7636 §4.1 recommends exactly that).
const VERIFIER_BYTES: usize = 32;
/// Random bytes in a `state`.
const STATE_BYTES: usize = 24;
/// The code of [`LoopbackError::Cancelled`]: the player stopped the wait
/// (client-only, `game::codes::CANCELLED`).
pub use game::codes::CANCELLED;

/// A PKCE pair (RFC 7636): the `verifier` stays in the game until the
/// exchange, the `challenge` goes to the backend in the start address.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkce {
    verifier: String,
    challenge: String,
}

impl Pkce {
    /// A fresh pair from the system's random source.
    pub fn generate() -> Result<Pkce, LoopbackError> {
        Ok(Pkce::from_verifier(random_token(VERIFIER_BYTES)?))
    }

    /// The pair of a known verifier (tests; RFC 7636 appendix B).
    pub fn from_verifier(verifier: impl Into<String>) -> Pkce {
        let verifier = verifier.into();
        let challenge = challenge_s256(&verifier);
        Pkce {
            verifier,
            challenge,
        }
    }

    /// Sent once, in the exchange body; never logged.
    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    /// `BASE64URL(SHA256(verifier))`, no padding.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("verifier", &"<redacted>")
            .field("challenge", &self.challenge)
            .finish()
    }
}

/// The S256 challenge of `verifier` (the rule lives in the `game` crate).
pub use game::api::oauth::challenge_s256;

/// A fresh random `state` (32 URL-safe characters).
pub fn new_state() -> Result<String, LoopbackError> {
    random_token(STATE_BYTES)
}

fn random_token(bytes: usize) -> Result<String, LoopbackError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| LoopbackError::Io(format!("no random numbers from the system: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// The start address the system browser opens:
/// `<base>/api/v1/auth/oauth/<provider>/start?redirect_uri=..&state=..&code_challenge=..&code_challenge_method=S256`.
/// `None` when `provider` is not a plain name (it becomes a path segment).
pub fn start_url(base_url: &str, provider: &str, query: &StartQuery) -> Option<String> {
    if !is_provider_name(provider) {
        return None;
    }
    let encoded = form_urlencoded::Serializer::new(String::new())
        .append_pair("redirect_uri", &query.redirect_uri)
        .append_pair("state", &query.state)
        .append_pair("code_challenge", &query.code_challenge)
        .append_pair("code_challenge_method", &query.code_challenge_method)
        .finish();
    Some(format!(
        "{}{}?{encoded}",
        base_url.trim_end_matches('/'),
        start_path(provider)
    ))
}

/// Whether `name` can be a provider's path segment: lowercase letters,
/// digits, `_` and `-`, 1 to 32 of them.
pub fn is_provider_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Everything a sign-in needs before the browser opens: the PKCE pair, the
/// bound listener (its `state` inside) and the start address.
#[derive(Debug)]
pub struct Prepared {
    pub pkce: Pkce,
    pub listener: LoopbackListener,
    pub url: String,
}

/// Makes the PKCE pair and the `state`, binds the listener and builds the
/// start address on `base_url` for `provider`.
pub fn prepare(base_url: &str, provider: &str) -> Result<Prepared, LoopbackError> {
    if !is_provider_name(provider) {
        return Err(LoopbackError::BadAnswer(format!(
            "\"{provider}\" is not a provider's name"
        )));
    }
    let pkce = Pkce::generate()?;
    let listener = LoopbackListener::bind(new_state()?)
        .map_err(|e| LoopbackError::Io(format!("no loopback port: {e}")))?;
    let query = StartQuery {
        redirect_uri: listener.redirect_uri(),
        state: listener.state().to_owned(),
        code_challenge: pkce.challenge().to_owned(),
        code_challenge_method: CHALLENGE_METHOD_S256.to_owned(),
    };
    let url = start_url(base_url, provider, &query).ok_or_else(|| {
        LoopbackError::BadAnswer(format!("\"{provider}\" is not a provider's name"))
    })?;
    Ok(Prepared {
        pkce,
        listener,
        url,
    })
}

/// A sign-in (or link) whose listener waits on a runtime while the caller
/// (the game's main thread) polls for the browser's answer. Dropping it
/// cancels the wait and closes the port.
#[derive(Debug)]
pub struct PendingFlow {
    provider: String,
    link: bool,
    pkce: Pkce,
    canceller: Canceller,
    answer: std::sync::mpsc::Receiver<Result<LoopbackCode, LoopbackError>>,
}

impl PendingFlow {
    /// [`prepare`]s a sign-in through `provider` on `base_url` and spawns
    /// its wait (at most `timeout`) on `runtime`; returns the flow and the
    /// start address to open in the browser.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        base_url: &str,
        provider: &str,
        link: bool,
        timeout: Duration,
    ) -> Result<(PendingFlow, String), LoopbackError> {
        let Prepared {
            pkce,
            listener,
            url,
        } = prepare(base_url, provider)?;
        let (tx, answer) = std::sync::mpsc::channel();
        let canceller = listener.canceller();
        runtime.spawn(async move {
            // The flow may be gone (cancelled): nobody to tell then.
            let _ = tx.send(listener.wait(timeout).await);
        });
        let flow = PendingFlow {
            provider: provider.to_owned(),
            link,
            pkce,
            canceller,
            answer,
        };
        Ok((flow, url))
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Linking to the signed-in account rather than signing in.
    pub fn is_link(&self) -> bool {
        self.link
    }

    /// The browser's answer, once it came (never blocks).
    pub fn poll(&self) -> Option<Result<LoopbackCode, LoopbackError>> {
        match self.answer.try_recv() {
            Ok(answer) => Some(answer),
            Err(std::sync::mpsc::TryRecvError::Empty) => None,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Some(Err(LoopbackError::Io(
                "the listener stopped without an answer".to_owned(),
            ))),
        }
    }

    /// The exchange body for the browser's `code` (with the verifier).
    pub fn exchange_request(&self, code: LoopbackCode) -> ExchangeRequest {
        ExchangeRequest {
            code: code.into_inner(),
            code_verifier: self.pkce.verifier().to_owned(),
        }
    }
}

impl Drop for PendingFlow {
    fn drop(&mut self) {
        self.canceller.cancel();
    }
}

/// The one-time code the browser brought back. Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct LoopbackCode(String);

impl LoopbackCode {
    /// The code, for the exchange body only.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for LoopbackCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoopbackCode(<redacted>)")
    }
}

/// Why a wait for the browser ended without a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopbackError {
    /// Nothing came back within the timeout.
    TimedOut { after: Duration },
    /// [`Canceller::cancel`] was called.
    Cancelled,
    /// An answer with another `state`, or none: not this sign-in's.
    StateMismatch,
    /// The station sent the browser back with `error` (a code of
    /// `game::codes`: `oauth_denied`, `oauth_failed`, ...) and its words.
    Refused { code: String, description: String },
    /// An answer the game cannot read (no code, a malformed one, a
    /// parameter twice), or a provider name that cannot be used.
    BadAnswer(String),
    /// Listening failed: no port, no random numbers.
    Io(String),
}

impl LoopbackError {
    /// The code the game's words are chosen by (`game::codes`, or
    /// [`CANCELLED`]).
    pub fn code(&self) -> &str {
        match self {
            LoopbackError::TimedOut { .. } => codes::REQUEST_TIMEOUT,
            LoopbackError::Cancelled => CANCELLED,
            LoopbackError::StateMismatch | LoopbackError::BadAnswer(_) | LoopbackError::Io(_) => {
                codes::OAUTH_FAILED
            }
            LoopbackError::Refused { code, .. } => code,
        }
    }

    /// What happened, in lower-case words (the player reads [`Self::words`]).
    pub fn message(&self) -> String {
        match self {
            LoopbackError::TimedOut { after } => format!(
                "the browser did not come back within {}: try again",
                words::format_wait(after.as_secs())
            ),
            LoopbackError::Cancelled => "the sign-in was cancelled".to_owned(),
            LoopbackError::StateMismatch => {
                "the browser brought back an answer that does not belong to this sign-in".to_owned()
            }
            LoopbackError::Refused { description, .. } => description.clone(),
            LoopbackError::BadAnswer(why) => {
                format!("the browser brought back an answer the game cannot read ({why})")
            }
            LoopbackError::Io(why) => {
                format!("the game cannot listen for the browser's answer ({why})")
            }
        }
    }

    /// What the player reads.
    pub fn words(&self) -> String {
        words::explain_error(self.code(), &self.message(), None)
    }
}

impl fmt::Display for LoopbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.code())
    }
}

impl std::error::Error for LoopbackError {}

/// Stops a [`LoopbackListener::wait`] from any thread: the wait ends with
/// [`LoopbackError::Cancelled`] and the port is closed.
#[derive(Debug, Clone)]
pub struct Canceller(Arc<watch::Sender<bool>>);

impl Canceller {
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }
}

/// The game's loopback redirect target: a TCP listener on
/// `127.0.0.1:<port>`, bound at once (so the start address can name the
/// port) and served by [`LoopbackListener::wait`] on the runtime.
#[derive(Debug)]
pub struct LoopbackListener {
    listener: std::net::TcpListener,
    port: u16,
    state: String,
    cancel: Arc<watch::Sender<bool>>,
}

impl LoopbackListener {
    /// Binds `127.0.0.1:0` for an answer carrying `state`. Needs no runtime.
    pub fn bind(state: String) -> io::Result<LoopbackListener> {
        let listener = std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let (cancel, _) = watch::channel(false);
        Ok(LoopbackListener {
            listener,
            port,
            state,
            cancel: Arc::new(cancel),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{LOOPBACK_PATH}", self.port)
    }

    /// The `state` an answer must carry.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// A handle that ends the wait.
    pub fn canceller(&self) -> Canceller {
        Canceller(self.cancel.clone())
    }

    /// Serves the port until one `GET /callback` arrives (its verdict is the
    /// result), `timeout` passes or the wait is cancelled; then closes it.
    /// Other requests get 404 (405 for another method on the callback, 400
    /// or 431 for junk) and the wait goes on.
    pub async fn wait(self, timeout: Duration) -> Result<LoopbackCode, LoopbackError> {
        let LoopbackListener {
            listener,
            state,
            cancel,
            ..
        } = self;
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| LoopbackError::Io(e.to_string()))?;
        let state: Arc<str> = Arc::from(state);
        let mut cancelled = cancel.subscribe();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut deadline => return Err(LoopbackError::TimedOut { after: timeout }),
                // `cancel` (held here) keeps a sender alive: no spurious end.
                () = until_cancelled(&mut cancelled) => return Err(LoopbackError::Cancelled),
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) if connections.len() < MAX_CONNECTIONS => {
                        connections.spawn(serve(stream, state.clone()));
                    }
                    // Over the limit: closed on arrival.
                    Ok(_) => {}
                    // Out of descriptors and the like: breathe, go on.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                },
                Some(done) = connections.join_next(), if !connections.is_empty() => {
                    if let Ok(Some(verdict)) = done {
                        return verdict;
                    }
                }
            }
        }
    }
}

/// Resolves once the flag is set (its guard is not held across an await:
/// the wait stays `Send`).
async fn until_cancelled(flag: &mut watch::Receiver<bool>) {
    // Err: every sender is gone, which `wait` prevents by holding one.
    let _ = flag.wait_for(|c| *c).await.is_ok();
}

/// Reads the query of the loopback redirect (percent-decoded, `+` as a
/// space). Unknown parameters are ignored; one given twice is refused.
pub fn parse_query(query: &str) -> Result<LoopbackAnswer, LoopbackError> {
    let mut answer = LoopbackAnswer::default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "code" => &mut answer.code,
            "state" => &mut answer.state,
            "error" => &mut answer.error,
            "error_description" => &mut answer.error_description,
            _ => continue,
        };
        if slot.is_some() {
            return Err(LoopbackError::BadAnswer(format!("{key} given twice")));
        }
        *slot = Some(value.into_owned());
    }
    Ok(answer)
}

/// The verdict on an answer for a sign-in that sent `expected_state`: its
/// code, or why not. The `state` is checked first, also on an error answer.
pub fn judge(answer: &LoopbackAnswer, expected_state: &str) -> Result<LoopbackCode, LoopbackError> {
    let state_ok = answer
        .state
        .as_deref()
        .is_some_and(|s| constant_time_eq(s.as_bytes(), expected_state.as_bytes()));
    if !state_ok {
        return Err(LoopbackError::StateMismatch);
    }
    if let Some(error) = &answer.error {
        let code = if is_token_param(error) {
            error.clone()
        } else {
            codes::OAUTH_FAILED.to_owned()
        };
        let description: String = answer
            .error_description
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_DESCRIPTION_CHARS)
            .collect();
        return Err(LoopbackError::Refused { code, description });
    }
    match &answer.code {
        Some(code) if is_token_param(code) => Ok(LoopbackCode(code.clone())),
        Some(_) => Err(LoopbackError::BadAnswer("a malformed code".to_owned())),
        None => Err(LoopbackError::BadAnswer("no code".to_owned())),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a request head could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadError {
    /// The peer closed (or never sent anything): no answer is owed.
    Closed,
    /// Not an HTTP/1 request head.
    Malformed,
    /// Request line or head over the limits.
    TooLarge,
}

/// The parts of a request the listener cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RequestHead {
    method: String,
    path: String,
    query: String,
}

/// One connection: reads its head, answers it, and returns a verdict when
/// it was THE callback (`None`: keep waiting).
async fn serve(
    mut stream: TcpStream,
    state: Arc<str>,
) -> Option<Result<LoopbackCode, LoopbackError>> {
    let head = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(bytes)) => parse_head(&bytes),
        Ok(Err(e)) => Err(e),
        // A silent pre-connection: dropped.
        Err(_) => Err(HeadError::Closed),
    };
    let head = match head {
        Ok(head) => head,
        Err(HeadError::Closed) => return None,
        Err(HeadError::TooLarge) => {
            let page = page("Not understood", "That request is too large.");
            respond(&mut stream, "431 Request Header Fields Too Large", &page).await;
            drain(&mut stream).await;
            return None;
        }
        Err(HeadError::Malformed) => {
            let page = page("Not understood", "That is not a request this page answers.");
            respond(&mut stream, "400 Bad Request", &page).await;
            drain(&mut stream).await;
            return None;
        }
    };
    if head.path != LOOPBACK_PATH {
        let page = page("Not here", "Nothing to see at this address.");
        respond(&mut stream, "404 Not Found", &page).await;
        return None;
    }
    if head.method != "GET" {
        let page = page("Not understood", "The sign-in answer comes by GET.");
        respond(&mut stream, "405 Method Not Allowed", &page).await;
        return None;
    }
    let verdict = parse_query(&head.query).and_then(|answer| judge(&answer, &state));
    match &verdict {
        Ok(_) => {
            let page = page(
                "Signed in",
                "Signed in: you can close this tab and return to the game.",
            );
            respond(&mut stream, "200 OK", &page).await;
        }
        Err(error) => {
            let text = format!(
                "{} You can close this tab and return to the game.",
                error.words()
            );
            respond(
                &mut stream,
                "400 Bad Request",
                &page("Not signed in", &text),
            )
            .await;
        }
    }
    Some(verdict)
}

/// Reads up to the blank line that ends a request head, within the limits.
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, HeadError> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream
            .read(&mut chunk)
            .await
            .map_err(|_| HeadError::Closed)?;
        if read == 0 {
            return Err(if head.is_empty() {
                HeadError::Closed
            } else {
                HeadError::Malformed
            });
        }
        head.extend_from_slice(&chunk[..read]);
        if let Some(end) = head_end(&head) {
            head.truncate(end);
            return Ok(head);
        }
        let line_open = !head.contains(&b'\n');
        if head.len() > MAX_HEAD_BYTES || (line_open && head.len() > MAX_REQUEST_LINE_BYTES) {
            return Err(HeadError::TooLarge);
        }
    }
}

/// Where the head ends (index of its blank line), `\r\n\r\n` or `\n\n`.
fn head_end(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = bytes.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `METHOD /path?query HTTP/1.x` and well-formed header lines, within the limits.
fn parse_head(bytes: &[u8]) -> Result<RequestHead, HeadError> {
    if bytes.len() > MAX_HEAD_BYTES {
        return Err(HeadError::TooLarge);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| HeadError::Malformed)?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().ok_or(HeadError::Malformed)?;
    if request_line.len() > MAX_REQUEST_LINE_BYTES {
        return Err(HeadError::TooLarge);
    }
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed);
    };
    let method_ok = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    if !method_ok || !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Err(HeadError::Malformed);
    }
    let mut headers = 0;
    for line in lines.filter(|l| !l.is_empty()) {
        headers += 1;
        let well_formed = line
            .split_once(':')
            .is_some_and(|(name, _)| !name.is_empty() && !name.contains(' '));
        if !well_formed {
            return Err(HeadError::Malformed);
        }
    }
    if headers > MAX_HEADERS {
        return Err(HeadError::TooLarge);
    }
    let target = target.split('#').next().unwrap_or(target);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok(RequestHead {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
    })
}

/// Writes a complete answer and closes the sending side.
async fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 {status}\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Cache-Control: no-store\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         Referrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.flush().await?;
        stream.shutdown().await
    };
    // A browser that went away is no one's problem.
    let _ = tokio::time::timeout(WRITE_TIMEOUT, write).await;
}

/// Reads and drops what the peer still sends (a little, briefly) before
/// the socket closes: closing with unread input resets the connection,
/// and the peer might lose the error page it was just sent.
async fn drain(stream: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    let mut left: usize = 64 * 1024;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(read) => left = left.saturating_sub(read),
            }
        }
    })
    .await;
}

/// The small self-contained page the browser shows: the game's terminal look.
fn page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Children of the Singularity</title>\
         <style>body{{margin:0;min-height:100vh;display:flex;align-items:center;\
         justify-content:center;background:#060b18;color:#73e0f2;\
         font:16px/1.5 ui-monospace,Menlo,Consolas,monospace}}\
         main{{max-width:34em;padding:2em 2.5em;border:1px solid #4f99ad;\
         background:#0a1429}}h1{{font-size:1.1em;letter-spacing:.12em;margin:0 0 1em}}\
         p{{margin:0;color:#cfeff5}}</style></head>\
         <body><main><h1>STATION ACCESS TERMINAL · {heading}</h1><p>{text}</p></main></body></html>\n",
        title = escape_html(title),
        heading = escape_html(&title.to_uppercase()),
        text = escape_html(text),
    )
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use game::api::oauth::{is_loopback_redirect, is_verifier};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn rfc_7636_appendix_b_test_vector() {
        let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            pkce.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn fresh_pairs_are_valid_random_and_redacted() {
        let a = Pkce::generate().unwrap();
        let b = Pkce::generate().unwrap();
        assert_ne!(a.verifier(), b.verifier());
        assert_eq!(a.verifier().len(), 43);
        assert!(is_verifier(a.verifier()));
        assert_eq!(a.challenge(), challenge_s256(a.verifier()));
        assert!(!format!("{a:?}").contains(a.verifier()));
        let state = new_state().unwrap();
        assert!(is_token_param(&state) && state.len() >= 32);
        assert_ne!(state, new_state().unwrap());
        let code = LoopbackCode("secret-code".into());
        assert!(!format!("{code:?}").contains("secret"));
    }

    #[test]
    fn the_start_url_carries_the_query_encoded() {
        let query = StartQuery {
            redirect_uri: "http://127.0.0.1:5000/callback".into(),
            state: "st4te".into(),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            code_challenge_method: CHALLENGE_METHOD_S256.into(),
        };
        let url = start_url("http://127.0.0.1:8080/", "google", &query).unwrap();
        assert_eq!(
            url,
            "http://127.0.0.1:8080/api/v1/auth/oauth/google/start\
             ?redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcallback&state=st4te\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
        );
        assert!(start_url("http://x", "../admin", &query).is_none());
        assert!(start_url("http://x", "", &query).is_none());
        assert!(start_url("http://x", "Google", &query).is_none());
    }

    #[test]
    fn prepare_binds_a_loopback_redirect_and_names_it_in_the_url() {
        let prepared = prepare("http://127.0.0.1:8080", "discord").unwrap();
        let redirect = prepared.listener.redirect_uri();
        assert!(is_loopback_redirect(&redirect), "{redirect}");
        let (_, query) = prepared.url.split_once('?').unwrap();
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).unwrap().1.clone();
        assert_eq!(get("redirect_uri"), redirect);
        assert_eq!(get("state"), prepared.listener.state());
        assert_eq!(get("code_challenge"), prepared.pkce.challenge());
        assert_eq!(get("code_challenge_method"), "S256");
        assert!(!prepared.url.contains(prepared.pkce.verifier()));
        assert!(prepare("http://127.0.0.1:8080", "no such/provider").is_err());
    }

    #[test]
    fn the_query_is_percent_decoded() {
        let answer =
            parse_query("code=abc-_.~9&state=s%2D1&error_description=you+said%20no%21&x=1")
                .unwrap();
        assert_eq!(answer.code.as_deref(), Some("abc-_.~9"));
        assert_eq!(answer.state.as_deref(), Some("s-1"));
        assert_eq!(answer.error_description.as_deref(), Some("you said no!"));
        assert_eq!(answer.error, None);
        assert_eq!(parse_query("").unwrap(), LoopbackAnswer::default());
        assert!(matches!(
            parse_query("code=a&code=b&state=s"),
            Err(LoopbackError::BadAnswer(_))
        ));
        // Broken escapes and bytes do not panic.
        assert!(parse_query("code=%zz%&state=%ff%fe").is_ok());
    }

    #[test]
    fn the_verdict_checks_the_state_first() {
        let answer = |q: &str| parse_query(q).unwrap();
        assert_eq!(
            judge(&answer("code=c0de&state=S"), "S").unwrap().reveal(),
            "c0de"
        );
        assert_eq!(
            judge(&answer("code=c0de&state=T"), "S"),
            Err(LoopbackError::StateMismatch)
        );
        assert_eq!(
            judge(&answer("code=c0de"), "S"),
            Err(LoopbackError::StateMismatch)
        );
        assert_eq!(
            judge(&answer("error=oauth_denied&state=T"), "S"),
            Err(LoopbackError::StateMismatch)
        );
        assert_eq!(
            judge(
                &answer("error=oauth_denied&error_description=access+denied&state=S"),
                "S"
            ),
            Err(LoopbackError::Refused {
                code: codes::OAUTH_DENIED.into(),
                description: "access denied".into()
            })
        );
        let odd = judge(&answer("error=%3Cscript%3E&state=S"), "S").unwrap_err();
        assert_eq!(odd.code(), codes::OAUTH_FAILED);
        assert!(matches!(
            judge(&answer("state=S"), "S"),
            Err(LoopbackError::BadAnswer(_))
        ));
        assert!(matches!(
            judge(&answer("code=a%20b&state=S"), "S"),
            Err(LoopbackError::BadAnswer(_))
        ));
    }

    #[test]
    fn request_heads_are_bounded_and_checked() {
        let ok =
            parse_head(b"GET /callback?code=a&state=b HTTP/1.1\r\nHost: x\r\nAccept: */*").unwrap();
        assert_eq!(ok.method, "GET");
        assert_eq!(ok.path, "/callback");
        assert_eq!(ok.query, "code=a&state=b");
        assert_eq!(parse_head(b"GET /x HTTP/1.0").unwrap().query, "");
        for junk in [
            &b"\x16\x03\x01\x02\x00\x01"[..],
            b"GET /callback",
            b"GET  /callback HTTP/1.1",
            b"get /callback HTTP/1.1",
            b"GET callback HTTP/1.1",
            b"GET /callback HTTP/2",
            b"GET /callback HTTP/1.1\r\nno colon here",
            b"\xff\xfe",
        ] {
            assert_eq!(parse_head(junk), Err(HeadError::Malformed), "{junk:?}");
        }
        let long = format!(
            "GET /callback?{} HTTP/1.1",
            "a".repeat(MAX_REQUEST_LINE_BYTES)
        );
        assert_eq!(parse_head(long.as_bytes()), Err(HeadError::TooLarge));
        let many = format!("GET / HTTP/1.1\r\n{}", "X-A: b\r\n".repeat(MAX_HEADERS + 1));
        assert_eq!(parse_head(many.as_bytes()), Err(HeadError::TooLarge));
    }

    #[test]
    fn error_words_are_escaped_in_the_page() {
        let html = page("Not signed in", "<b>no</b> & \"yes\"");
        assert!(html.contains("&lt;b&gt;no&lt;/b&gt; &amp; &quot;yes&quot;"));
        assert!(!html.contains("<b>"));
    }

    /// Sends `request` raw to the listener and returns the whole answer.
    async fn send_raw(port: u16, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream.write_all(request).await.unwrap();
        stream.shutdown().await.unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).into_owned()
    }

    fn get(path: &str) -> Vec<u8> {
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n").into_bytes()
    }

    fn listener() -> (LoopbackListener, u16) {
        let listener = LoopbackListener::bind("the-state".to_owned()).unwrap();
        let port = listener.port();
        assert!(is_loopback_redirect(&listener.redirect_uri()));
        (listener, port)
    }

    #[tokio::test]
    async fn a_good_answer_gives_the_code_after_other_requests_get_404() {
        let (listener, port) = listener();
        let wait = tokio::spawn(listener.wait(Duration::from_secs(10)));
        // A browser's idle pre-connection must not block the real request.
        let idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let favicon = send_raw(port, &get("/favicon.ico")).await;
        assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
        let post = send_raw(
            port,
            b"POST /callback?code=x&state=the-state HTTP/1.1\r\n\r\n",
        )
        .await;
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        let answer = send_raw(port, &get("/callback?code=C0de_1&state=the-state")).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("Signed in: you can close this tab and return to the game."));
        assert!(answer.contains("Cache-Control: no-store"));
        let code = wait.await.unwrap().unwrap();
        assert_eq!(code.reveal(), "C0de_1");
        drop(idle);
        // One answer only: the port is closed now.
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn a_wrong_state_ends_the_wait_with_a_mismatch() {
        let (listener, port) = listener();
        let wait = tokio::spawn(listener.wait(Duration::from_secs(10)));
        let answer = send_raw(port, &get("/callback?code=abc&state=another")).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(
            answer.contains("does not belong to this sign-in"),
            "{answer}"
        );
        assert!(!answer.contains("abc"), "the code is not echoed");
        assert_eq!(wait.await.unwrap(), Err(LoopbackError::StateMismatch));
    }

    #[tokio::test]
    async fn an_error_answer_is_shown_in_words_and_returned() {
        let (listener, port) = listener();
        let wait = tokio::spawn(listener.wait(Duration::from_secs(10)));
        let answer = send_raw(
            port,
            &get("/callback?error=oauth_denied&error_description=%3Cb%3Eno%3C%2Fb%3E&state=the-state"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(answer.contains("You declined"), "{answer}");
        assert!(!answer.contains("<b>"));
        let error = wait.await.unwrap().unwrap_err();
        assert_eq!(error.code(), codes::OAUTH_DENIED);
        assert_eq!(
            error,
            LoopbackError::Refused {
                code: codes::OAUTH_DENIED.into(),
                description: "<b>no</b>".into()
            }
        );
    }

    #[tokio::test]
    async fn junk_gets_an_error_and_the_wait_goes_on() {
        let (listener, port) = listener();
        let wait = tokio::spawn(listener.wait(Duration::from_secs(10)));
        let junk = send_raw(port, b"\x16\x03\x01 hello there\r\n\r\n").await;
        assert!(junk.starts_with("HTTP/1.1 400"), "{junk}");
        let huge = format!(
            "GET /callback?code={} HTTP/1.1\r\n\r\n",
            "a".repeat(MAX_HEAD_BYTES * 2)
        );
        let huge = send_raw(port, huge.as_bytes()).await;
        assert!(huge.starts_with("HTTP/1.1 431"), "{huge}");
        let fat = format!(
            "GET /callback HTTP/1.1\r\n{}\r\n",
            "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(400)
        );
        let fat = send_raw(port, fat.as_bytes()).await;
        assert!(fat.starts_with("HTTP/1.1 431"), "{fat}");
        // Closed without a word: nothing owed.
        drop(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
        assert!(!wait.is_finished());
        let answer = send_raw(port, &get("/callback?state=the-state&code=fine")).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(wait.await.unwrap().unwrap().reveal(), "fine");
    }

    #[tokio::test]
    async fn the_wait_times_out_and_closes_the_port() {
        let (listener, port) = listener();
        let result = listener.wait(Duration::from_millis(200)).await;
        assert_eq!(
            result,
            Err(LoopbackError::TimedOut {
                after: Duration::from_millis(200)
            })
        );
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn a_cancel_ends_the_wait_and_closes_the_port() {
        let (listener, port) = listener();
        let canceller = listener.canceller();
        let wait = tokio::spawn(listener.wait(Duration::from_secs(30)));
        let favicon = send_raw(port, &get("/favicon.ico")).await;
        assert!(favicon.starts_with("HTTP/1.1 404"));
        canceller.cancel();
        assert!(canceller.is_cancelled());
        let result = tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .expect("the cancel ends the wait")
            .unwrap();
        assert_eq!(result, Err(LoopbackError::Cancelled));
        assert_eq!(result.unwrap_err().code(), CANCELLED);
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn a_cancel_before_the_wait_starts_still_counts() {
        let (listener, _) = listener();
        listener.canceller().cancel();
        assert_eq!(
            listener.wait(Duration::from_secs(30)).await,
            Err(LoopbackError::Cancelled)
        );
    }

    #[test]
    fn a_pending_flow_delivers_the_code_and_a_drop_closes_the_port() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (flow, url) = PendingFlow::start(
            runtime.handle(),
            "http://127.0.0.1:8080",
            "google",
            false,
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(url.starts_with("http://127.0.0.1:8080/api/v1/auth/oauth/google/start?"));
        assert_eq!(flow.provider(), "google");
        assert!(!flow.is_link());
        assert!(flow.poll().is_none());
        let query = url.split_once('?').unwrap().1;
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let param = |k: &str| pairs.iter().find(|(key, _)| key == k).unwrap().1.clone();
        let port: u16 = param("redirect_uri")
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches("/callback")
            .parse()
            .unwrap();
        let state = param("state");
        let answer = runtime.block_on(send_raw(
            port,
            &get(&format!("/callback?code=the-code&state={state}")),
        ));
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let mut code = None;
        for _ in 0..200 {
            code = flow.poll();
            if code.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let request = flow.exchange_request(code.unwrap().unwrap());
        assert_eq!(request.code, "the-code");
        assert_eq!(
            challenge_s256(&request.code_verifier),
            param("code_challenge")
        );

        let (second, url) = PendingFlow::start(
            runtime.handle(),
            "http://127.0.0.1:8080",
            "discord",
            true,
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(second.is_link());
        let redirect = form_urlencoded::parse(url.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1
            .into_owned();
        let port: u16 = redirect
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches("/callback")
            .parse()
            .unwrap();
        drop(second);
        let mut closed = false;
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                closed = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(closed, "dropping the flow closes its port");
    }

    #[test]
    fn loopback_errors_have_words() {
        let timeout = LoopbackError::TimedOut {
            after: Duration::from_secs(300),
        };
        assert_eq!(timeout.code(), codes::REQUEST_TIMEOUT);
        assert!(timeout.words().contains("5 min"), "{}", timeout.words());
        assert!(
            LoopbackError::StateMismatch
                .words()
                .contains("does not belong")
        );
        let io = LoopbackError::Io("no port".into());
        assert!(io.words().contains("no port"), "{}", io.words());
    }
}
