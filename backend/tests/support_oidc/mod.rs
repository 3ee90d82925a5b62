//! A real OpenID Connect provider on loopback for the tests of "Sign in with
//! Google / Discord": `scripts/oidc-test-provider/provider.mjs` (the certified
//! `oidc-provider` package from npm) as a child process, set up by
//! `scripts/ensure-oidc-provider.sh`.
//!
//! A test file includes this with `mod support_oidc;` (or
//! `#[path = "support_oidc/mod.rs"] mod support_oidc;` from a subdirectory),
//! takes the provider shared by its test binary, registers the backend as a
//! client and drives the sign-in as the user's browser would:
//!
//! ```ignore
//! let op = support_oidc::shared().await;
//! op.register_client("google-id", "google-secret", &callback_url, "oidc").await;
//! let who = Identity::random();
//! let done = op.drive(&start_url, &who, DriveOptions::default()).await;
//! assert_eq!(done.status, 200);
//! ```
//!
//! The provider's issuer is `http://127.0.0.1:<port>` (discovery at
//! `<issuer>/.well-known/openid-configuration`); the Discord-shaped user
//! endpoint is `<issuer>/users/@me` and the provider's authorization and
//! token endpoints (`/auth`, `/token`) serve the Discord kind too.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long the provider may take to print its `LISTENING` line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// One call to the provider's test API (a drive walks through the backend).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Lines of the provider's stderr kept for failure messages.
const LOG_LINES: usize = 200;

/// The running provider. The process ends when this is dropped and, for the
/// shared one that never is, when the test binary exits (its stdin closes).
pub struct OidcProvider {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub issuer: String,
    child: Mutex<Child>,
    /// Kept open: the provider exits when its stdin closes.
    stdin: Mutex<Option<ChildStdin>>,
    log: Arc<Mutex<VecDeque<String>>>,
}

/// The person who signs in at the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The subject: Google's `sub`, Discord's user `id`.
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    /// Google's `name`, Discord's `global_name`.
    pub name: String,
    /// `preferred_username` in the ID token, Discord's `username`.
    pub username: String,
}

/// How the drive behaves at the provider. `Default`: no denial, no
/// tampering, and the walk stops at the game's loopback URL without
/// requesting it (`follow_loopback: false`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriveOptions {
    /// The user refuses: the provider answers `error=access_denied`.
    pub deny: bool,
    /// Replace the next ID token issued for this identity's `sub`:
    /// `"bad_signature"`, `"wrong_audience"`, `"expired"` or `"wrong_nonce"`.
    pub tamper: Option<&'static str>,
    /// Also GET the first URL outside the backend and the provider (the
    /// game's loopback listener) and report its answer (status 0 and the
    /// error in `body` when nothing answers there); when false, report that
    /// URL with status 302 and an empty body without requesting it.
    pub follow_loopback: bool,
}

/// Where a drive ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveResult {
    /// The game's loopback URL the walk was sent to, or the URL of the last
    /// page when the walk ended on a page that is no redirect.
    pub final_url: String,
    /// That URL's answer status (302 when `follow_loopback` was false, 0
    /// when the loopback URL could not be reached).
    pub status: u16,
    /// That URL's answer body ("" when `follow_loopback` was false, the
    /// connection error when it could not be reached).
    pub body: String,
    /// Every URL the walk requested, in order (the start, the provider's
    /// pages, the backend's callback).
    pub visited: Vec<String>,
}

impl DriveResult {
    /// A query parameter of `final_url`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(&self.final_url).ok()?;
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }
}

impl Identity {
    /// A new identity, unique in this process and (by chance) across
    /// processes: a 20-digit numeric `sub` like Google's and Discord's ids,
    /// an `@example.com` address (verified), and a username of 20 characters
    /// that the game accepts as it is (`pilot_` and 14 digits).
    pub fn random() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let sub = format!(
            "1{:015}{:04}",
            random_u64() % 1_000_000_000_000_000,
            n % 10_000
        );
        // 20 characters of [a-z0-9_]: a valid game username (3-24) as it is.
        let tail = &sub[sub.len() - 14..];
        Self {
            email: format!("player{sub}@example.com"),
            email_verified: true,
            name: format!("Pilot {tail}"),
            username: format!("pilot_{tail}"),
            sub,
        }
    }
}

/// Random bits without a `rand` dependency: the standard library's randomly
/// keyed hasher over the clock, the process id and a counter.
fn random_u64() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// The provider shared by every test of this test binary, started by the
/// first caller. Works from any tokio runtime (each `#[tokio::test]` has its
/// own): the process is a plain `std::process::Child` and every call below
/// makes its own HTTP client.
pub async fn shared() -> &'static OidcProvider {
    static SHARED: OnceLock<OidcProvider> = OnceLock::new();
    if let Some(provider) = SHARED.get() {
        return provider;
    }
    match tokio::task::spawn_blocking(|| SHARED.get_or_init(start_blocking)).await {
        Ok(provider) => provider,
        Err(err) => match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(err) => panic!("starting the OIDC test provider: {err}"),
        },
    }
}

/// Runs `scripts/ensure-oidc-provider.sh` and returns the directory it
/// prints (where `node provider.mjs` runs with its `node_modules`).
fn ensure() -> PathBuf {
    let root = repo_root();
    let script = root.join("scripts/ensure-oidc-provider.sh");
    let output = Command::new("bash")
        .arg(&script)
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let dir = stdout.lines().rev().find(|line| !line.trim().is_empty());
    match dir {
        Some(dir) if output.status.success() => PathBuf::from(dir.trim()),
        _ => panic!(
            "{} failed ({}): the OIDC test provider needs Node.js v20.19+ and npm\n\
             --- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            script.display(),
            output.status
        ),
    }
}

fn start_blocking() -> OidcProvider {
    let dir = ensure();
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .arg("--port")
        .arg("0")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot start `node provider.mjs` in {}: {err}",
                dir.display()
            )
        });
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");

    // Its stderr: kept (the last lines) for failure messages, and echoed to
    // ours with OIDC_PROVIDER_LOG=1.
    let log = Arc::new(Mutex::new(VecDeque::new()));
    let echo = std::env::var_os("OIDC_PROVIDER_LOG").is_some_and(|v| v != "0" && !v.is_empty());
    {
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if echo {
                    eprintln!("[oidc-provider] {line}");
                }
                let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                if log.len() == LOG_LINES {
                    log.pop_front();
                }
                log.push_back(line);
            }
        });
    }

    // Its stdout: the LISTENING line, then drained until it closes.
    let (tx, rx) = mpsc::channel::<Result<String, String>>();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let first = match reader.read_line(&mut line) {
            Ok(0) => Err("its stdout closed before the LISTENING line".to_string()),
            Ok(_) => match line.trim_end().strip_prefix("LISTENING ") {
                Some(issuer) => Ok(issuer.to_string()),
                None => Err(format!("unexpected first line {:?}", line.trim_end())),
            },
            Err(err) => Err(format!("reading its stdout: {err}")),
        };
        let _ = tx.send(first);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });

    let issuer = match rx.recv_timeout(START_TIMEOUT) {
        Ok(Ok(issuer)) => issuer,
        outcome => {
            let why = match outcome {
                Ok(Err(why)) => why,
                Err(_) => format!("no LISTENING line within {START_TIMEOUT:?}"),
                Ok(Ok(_)) => unreachable!(),
            };
            let _ = child.kill();
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            std::thread::sleep(Duration::from_millis(100));
            let tail = log_text(&log);
            panic!(
                "the OIDC test provider (node provider.mjs in {}) did not start: {why} \
                 ({status})\n--- its stderr ---\n{tail}",
                dir.display()
            );
        }
    };

    OidcProvider {
        issuer,
        child: Mutex::new(child),
        stdin: Mutex::new(Some(stdin)),
        log,
    }
}

fn log_text(log: &Mutex<VecDeque<String>>) -> String {
    let log = log.lock().unwrap_or_else(|e| e.into_inner());
    log.iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(CALL_TIMEOUT)
        .build()
        .expect("reqwest client")
}

impl OidcProvider {
    /// A provider of its own (most tests want [`shared`]).
    pub async fn start() -> OidcProvider {
        match tokio::task::spawn_blocking(start_blocking).await {
            Ok(provider) => provider,
            Err(err) => match err.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(err) => panic!("starting the OIDC test provider: {err}"),
            },
        }
    }

    /// `<issuer>/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }

    /// The provider's authorization endpoint (Google's and Discord's kind).
    pub fn authorization_url(&self) -> String {
        format!("{}/auth", self.issuer)
    }

    /// The provider's token endpoint (Google's and Discord's kind).
    pub fn token_url(&self) -> String {
        format!("{}/token", self.issuer)
    }

    /// The Discord-shaped user endpoint (`GET /users/@me` with a bearer token).
    pub fn discord_user_url(&self) -> String {
        format!("{}/users/@me", self.issuer)
    }

    /// The last lines the provider wrote to stderr (never codes or tokens).
    pub fn log_tail(&self) -> String {
        log_text(&self.log)
    }

    /// Registers (or replaces) a confidential client: `kind` "oidc" (scope
    /// `openid email profile`, an ID token) or "oauth2" (scope
    /// `identify email`, Discord's kind). Both authenticate at the token
    /// endpoint with `client_secret_basic` and must use PKCE (S256).
    pub async fn register_client(
        &self,
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
        kind: &str,
    ) {
        let response = http_client()
            .post(format!("{}/test/clients", self.issuer))
            .json(&serde_json::json!({
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uris": [redirect_uri],
                "kind": kind,
            }))
            .send()
            .await
            .unwrap_or_else(|err| panic!("POST {}/test/clients: {err}", self.issuer));
        let status = response.status();
        if status != reqwest::StatusCode::NO_CONTENT {
            let body = response.text().await.unwrap_or_default();
            panic!(
                "registering client {client_id:?} at the OIDC test provider: {status} {body}\n\
                 --- provider stderr ---\n{}",
                self.log_tail()
            );
        }
    }

    /// Acts as the user's browser: GETs `url` (the sign-in start on the
    /// backend) and follows the redirects with a cookie jar of its own; at
    /// the provider, `identity` signs in and consents (or denies); stops at
    /// the first redirect that leaves both the provider and the origin of
    /// `url` (the game's loopback listener), or at the first page that is no
    /// redirect.
    pub async fn drive(
        &self,
        url: &str,
        identity: &Identity,
        options: DriveOptions,
    ) -> DriveResult {
        let response = http_client()
            .post(format!("{}/test/drive", self.issuer))
            .json(&serde_json::json!({
                "url": url,
                "identity": {
                    "sub": identity.sub,
                    "email": identity.email,
                    "email_verified": identity.email_verified,
                    "name": identity.name,
                    "username": identity.username,
                },
                "deny": options.deny,
                "tamper": options.tamper,
                "follow_loopback": options.follow_loopback,
            }))
            .send()
            .await
            .unwrap_or_else(|err| panic!("POST {}/test/drive: {err}", self.issuer));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status != reqwest::StatusCode::OK {
            panic!(
                "driving {url} through the OIDC test provider: {status} {text}\n\
                 --- provider stderr ---\n{}",
                self.log_tail()
            );
        }
        let value: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("drive answer is not JSON ({err}): {text}"));
        DriveResult {
            final_url: value["final_url"].as_str().unwrap_or_default().to_string(),
            status: value["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or_else(|| panic!("drive answer without a status: {text}")),
            body: value["body"].as_str().unwrap_or_default().to_string(),
            visited: value["visited"]
                .as_array()
                .map(|urls| {
                    urls.iter()
                        .filter_map(|u| u.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        // Closing stdin asks it to exit; kill makes sure.
        drop(self.stdin.lock().unwrap_or_else(|e| e.into_inner()).take());
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}
