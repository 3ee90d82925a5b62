//! Graceful shutdown of the real binary on SIGTERM (what `docker stop` and
//! every orchestrator send): a request in flight when the signal arrives
//! completes and its effect is committed, new connections are refused at
//! once, the process exits 0; and a request that outlives
//! `SHUTDOWN_GRACE_SECS` cannot keep the process alive.
//!
//! The in-flight request is a registration whose body the client sends in
//! two halves, with the SIGTERM in between: the handler is running (reading
//! its body) when the signal arrives, like a slow upload from a player on a
//! bad connection.

mod ops_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use ops_support::{PASSWORD, Server, TempDir, base_env, login, send_signal};

fn sqlite_env(dir: &TempDir, grace_secs: &str) -> Vec<(String, String)> {
    let url = format!("sqlite://{}?mode=rwc", dir.join("backend.db").display());
    let mut env = base_env(&dir.join("data"), &url);
    env.push(("SHUTDOWN_GRACE_SECS".into(), grace_secs.into()));
    env
}

/// Opens a request whose body is only half sent; returns the connection and
/// the rest of the body.
fn start_slow_registration(addr: SocketAddr, username: &str) -> (TcpStream, Vec<u8>) {
    let body = serde_json::json!({
        "email": format!("{username}@example.org"),
        "username": username,
        "password": PASSWORD,
    })
    .to_string()
    .into_bytes();
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let head = format!(
        "POST /api/v1/auth/register HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send head");
    let half = body.len() / 2;
    stream.write_all(&body[..half]).expect("send first half");
    stream.flush().expect("flush");
    (stream, body[half..].to_vec())
}

/// True once a fresh TCP connection to `addr` is refused.
fn refuses_connections(addr: SocketAddr, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => return true,
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_in_flight_request_finish_and_refuses_new_connections() {
    let dir = TempDir::new("shutdown");
    let env = sqlite_env(&dir, "20");
    let mut server = Server::start(dir.path(), &env);
    let addr = server.addr;
    let ready = reqwest::get(server.url("/ready")).await.expect("ready");
    assert_eq!(ready.status(), 200);

    let (mut stream, rest) = start_slow_registration(addr, "slow_pilot");
    // Let the server parse the head and enter the handler.
    tokio::time::sleep(Duration::from_millis(300)).await;

    send_signal(server.pid(), "TERM");
    server.wait_for_log("shutdown requested", Duration::from_secs(10));

    // No new connection is accepted any more.
    assert!(
        tokio::task::block_in_place(|| refuses_connections(addr, Duration::from_secs(5))),
        "a new connection was still accepted after SIGTERM:\n{}",
        server.logs()
    );

    // The request in flight completes normally.
    let response = tokio::task::block_in_place(move || {
        stream.write_all(&rest).expect("send the rest of the body");
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .expect("read the response");
        String::from_utf8_lossy(&response).into_owned()
    });
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "the in-flight registration must succeed, got:\n{response}\nlogs:\n{}",
        server.logs()
    );

    let status = tokio::task::block_in_place(|| server.wait(Duration::from_secs(15)));
    assert!(
        status.success(),
        "clean exit expected, got {status}:\n{}",
        server.logs()
    );
    let logs = server.logs();
    assert!(
        logs.contains("\"stopped\""),
        "pool closed and stopped:\n{logs}"
    );
    assert!(
        !logs.contains("grace period over"),
        "nothing was cut off:\n{logs}"
    );
    drop(server);

    // Its effect was committed: after a restart on the same database the
    // account logs in.
    let server = Server::start(dir.path(), &env);
    let (status, _) = login(&server, "slow_pilot", PASSWORD).await;
    assert_eq!(
        status, 200,
        "the registration made during shutdown was kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_never_finishes_cannot_hold_the_shutdown_beyond_the_grace_period() {
    let dir = TempDir::new("shutdown-grace");
    let env = sqlite_env(&dir, "1");
    let mut server = Server::start(dir.path(), &env);
    let (_stream, _rest) = start_slow_registration(server.addr, "stuck_pilot");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let status = tokio::task::block_in_place(|| server.terminate(Duration::from_secs(15)));
    let took = started.elapsed();
    assert!(status.success(), "exit status {status}:\n{}", server.logs());
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} with SHUTDOWN_GRACE_SECS=1"
    );
    assert!(
        server.logs().contains("grace period over"),
        "the cut-off is logged:\n{}",
        server.logs()
    );
}
