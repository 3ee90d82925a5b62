//! `backend healthcheck`: the container's health probe (the image has no
//! shell and no curl, so the binary checks itself).
//!
//! Healthy means, within a few seconds:
//! 1. the server in this container answers `GET /ready` with 200 on the
//!    port of `BIND_ADDR` over loopback (so the process serves HTTP and its
//!    own pool reaches the database); skipped with `--database-only`;
//! 2. the configured database answers a query on a fresh connection (one
//!    attempt, no start-up retries); and
//! 3. every migration this binary knows is applied, none it does not know.
//!
//! Exit 0 with one `healthcheck: ok ...` line, or 1 with the reason (Docker
//! keeps the output of the last probes: `docker inspect` shows it).
//! `/health` stays the liveness answer of the HTTP server (no dependency).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::config::Config;
use crate::db::Db;

/// Each step's limit; the whole probe stays under Docker's 5 s timeout.
const STEP_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs the checks and prints the outcome.
pub async fn run(config: &Config, check_http: bool) -> ExitCode {
    match check(config, check_http).await {
        Ok(summary) => {
            println!("healthcheck: ok: {summary}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("healthcheck: unhealthy: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `Ok(summary)` when healthy.
pub async fn check(config: &Config, check_http: bool) -> anyhow::Result<String> {
    let mut parts = Vec::new();
    if check_http {
        let addr = probe_address(config.bind_addr);
        let status = tokio::time::timeout(STEP_TIMEOUT, http_status(addr, "/ready"))
            .await
            .map_err(|_| {
                anyhow::anyhow!("GET /ready on {addr}: no answer within {STEP_TIMEOUT:?}")
            })?
            .with_context(|| format!("GET /ready on {addr}"))?;
        anyhow::ensure!(
            status == 200,
            "GET /ready on {addr} answered {status} (the server cannot reach its database)"
        );
        parts.push(format!("{addr} ready"));
    }

    let mut database = config.database.clone();
    database.connect_attempts = 1;
    database.max_connections = 1;
    database.min_connections = 0;
    database.acquire_timeout = STEP_TIMEOUT;
    let shown = database.redacted_url();
    let db = tokio::time::timeout(STEP_TIMEOUT * 2, Db::connect(&database))
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "database {shown}: no connection within {:?}",
                STEP_TIMEOUT * 2
            )
        })?
        .with_context(|| format!("database {shown}"))?;
    let result = async {
        anyhow::ensure!(
            db.ping(STEP_TIMEOUT).await,
            "database {shown}: no answer to a query within {STEP_TIMEOUT:?}"
        );
        let applied = tokio::time::timeout(STEP_TIMEOUT, db.applied_migrations())
            .await
            .map_err(|_| anyhow::anyhow!("database {shown}: reading the migrations timed out"))?
            .with_context(|| format!("database {shown}: reading the migrations"))?;
        let known: Vec<i64> = db.known_migrations().into_iter().map(|(v, _)| v).collect();
        let pending: Vec<i64> = known.iter().copied().filter(|v| !applied.contains(v)).collect();
        let unknown: Vec<i64> = applied.iter().copied().filter(|v| !known.contains(v)).collect();
        anyhow::ensure!(
            pending.is_empty(),
            "database {shown}: migrations not applied yet: {pending:?}"
        );
        anyhow::ensure!(
            unknown.is_empty(),
            "database {shown}: migrations this binary does not know: {unknown:?} (an older release?)"
        );
        Ok(format!("database answers, {} migrations applied", applied.len()))
    }
    .await;
    let _ = tokio::time::timeout(STEP_TIMEOUT, db.close()).await;
    parts.push(result?);
    Ok(parts.join("; "))
}

/// `0.0.0.0:8080` (every interface) is asked over loopback.
fn probe_address(bind: SocketAddr) -> SocketAddr {
    match bind {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => {
            SocketAddr::from((Ipv4Addr::LOCALHOST, v4.port()))
        }
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => {
            SocketAddr::from((Ipv6Addr::LOCALHOST, v6.port()))
        }
        other => other,
    }
}

/// A bare HTTP/1.1 GET; the status code of the answer.
async fn http_status(addr: SocketAddr, path: &str) -> anyhow::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: backend-healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(64);
    let mut buf = [0u8; 64];
    while head.len() < 12 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    head.strip_prefix("HTTP/1.1 ")
        .or_else(|| head.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .with_context(|| {
            format!(
                "not an HTTP answer: {:?}",
                head.lines().next().unwrap_or("")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interface_is_probed_over_loopback() {
        assert_eq!(
            probe_address("0.0.0.0:8080".parse().unwrap()),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            probe_address("[::]:9000".parse().unwrap()),
            "[::1]:9000".parse().unwrap()
        );
        assert_eq!(
            probe_address("10.0.0.5:8080".parse().unwrap()),
            "10.0.0.5:8080".parse().unwrap()
        );
    }
}
