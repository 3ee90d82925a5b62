//! Slow clients cannot hold the server (issue 16, item 5): the header-read
//! and idle timeouts fire, and the connection cap queues new connections
//! while the ones already served carry on.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp, spawn_app_with};

async fn app(overrides: &[(&str, &str)]) -> TestApp {
    spawn_app_with(Backend::Sqlite, overrides)
        .await
        .expect("sqlite app")
}

/// How long until the server closes `stream` (reads and drops whatever it
/// sends first, e.g. a 408); None if still open after `limit`.
async fn closed_after(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(
            tokio::time::Instant::from_std(started + limit),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n";

/// Sends `GET /health` and reads the whole answer; its status line.
async fn health_on(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    stream.write_all(HEALTH).await.ok()?;
    read_response(stream, limit).await
}

async fn read_response(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return head.lines().next().map(str::to_owned);
            }
        }
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_is_closed_in_time() {
    let app = app(&[("HTTP_HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    // The head never ends (slowloris): no blank line.
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: 1\r\n")
        .await
        .unwrap();
    let closed = closed_after(&mut stream, Duration::from_secs(5))
        .await
        .expect("the half-sent request is dropped");
    println!("half-sent request closed after {closed:?} (HTTP_HEADER_READ_TIMEOUT_SECS=1)");
    assert!(closed >= Duration::from_millis(900), "{closed:?}");
    assert!(closed < Duration::from_secs(3), "{closed:?}");
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_in_time() {
    let app = app(&[("HTTP_HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let status = health_on(&mut stream, Duration::from_secs(5)).await;
    assert_eq!(status.as_deref(), Some("HTTP/1.1 200 OK"));
    let closed = closed_after(&mut stream, Duration::from_secs(5))
        .await
        .expect("the idle keep-alive connection is closed");
    println!("idle keep-alive connection closed after {closed:?}");
    assert!(closed < Duration::from_secs(3), "{closed:?}");
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_dropped_after_the_idle_timeout() {
    // The header timeout is long; the idle timeout catches the silence.
    let app = app(&[
        ("HTTP_HEADER_READ_TIMEOUT_SECS", "30"),
        ("REQUEST_TIMEOUT_SECS", "1"),
        ("HTTP_IDLE_TIMEOUT_SECS", "2"),
    ])
    .await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let closed = closed_after(&mut stream, Duration::from_secs(6))
        .await
        .expect("the silent connection is dropped");
    println!("silent connection dropped after {closed:?} (HTTP_IDLE_TIMEOUT_SECS=2)");
    assert!(closed >= Duration::from_millis(1900), "{closed:?}");
    assert!(closed < Duration::from_secs(4), "{closed:?}");
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_queues_newcomers_and_serves_the_others() {
    let app = app(&[
        ("HTTP_MAX_CONNECTIONS", "2"),
        ("HTTP_HEADER_READ_TIMEOUT_SECS", "30"),
    ])
    .await;
    let connect = || TcpStream::connect(("127.0.0.1", app.port));
    let mut first = connect().await.unwrap();
    let mut second = connect().await.unwrap();
    let ok = Some("HTTP/1.1 200 OK".to_owned());
    assert_eq!(health_on(&mut first, Duration::from_secs(5)).await, ok);
    assert_eq!(health_on(&mut second, Duration::from_secs(5)).await, ok);

    // A third connection is over the cap: it waits, unanswered.
    let mut third = connect().await.unwrap();
    third.write_all(HEALTH).await.unwrap();
    assert_eq!(
        read_response(&mut third, Duration::from_millis(1500)).await,
        None,
        "beyond the cap a connection waits"
    );
    // The connections already served carry on meanwhile.
    assert_eq!(health_on(&mut first, Duration::from_secs(5)).await, ok);
    assert_eq!(health_on(&mut second, Duration::from_secs(5)).await, ok);

    // One closes: the waiting connection is served.
    drop(first);
    let started = Instant::now();
    assert_eq!(read_response(&mut third, Duration::from_secs(5)).await, ok);
    println!(
        "cap 2: the third connection waited and was served {:?} after a slot freed",
        started.elapsed()
    );
    app.teardown().await;
}
