//! Production configuration, through the real binary: production mode
//! refuses a missing or weak `JWT_SECRET` (both `check-config` and `serve`,
//! which must not even listen), accepts a strong one without echoing it,
//! and `.env.example` is a valid configuration as shipped.

mod ops_support;

use std::time::Duration;

use ops_support::{STRONG_SECRET, TempDir, free_port, run_backend, text};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn production_check_config_refuses_a_missing_secret() {
    let dir = TempDir::new("cfg-missing");
    let output = run_backend(
        dir.path(),
        &[("APP_ENV", "production")],
        &["check-config"],
        LIMIT,
    );
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "must fail; stderr:\n{stderr}");
    assert!(
        stderr.contains("JWT_SECRET is required in production"),
        "clear message expected, got:\n{stderr}"
    );
}

#[test]
fn production_check_config_refuses_weak_secrets() {
    let dir = TempDir::new("cfg-weak");
    let cases = [
        ("short-secret-1", "too short"),
        ("changeme-changeme-changeme-changeme-2024", "placeholder"),
        ("abababababababababababababababababababab", "variety"),
    ];
    for (secret, why) in cases {
        let output = run_backend(
            dir.path(),
            &[("APP_ENV", "production"), ("JWT_SECRET", secret)],
            &["check-config"],
            LIMIT,
        );
        let stdout = text(&output.stdout);
        let stderr = text(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{secret}: exit code; stderr:\n{stderr}"
        );
        assert!(
            stderr.contains("invalid configuration")
                && stderr.contains("JWT_SECRET")
                && stderr.contains(why),
            "{secret}: expected a message about JWT_SECRET ({why}), got:\n{stderr}"
        );
        assert!(
            !stderr.contains(secret) && !stdout.contains(secret),
            "the rejected secret must not be echoed"
        );
    }
}

#[test]
fn production_serve_with_a_weak_secret_exits_before_touching_anything() {
    let dir = TempDir::new("cfg-serve");
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let db = dir.join("never.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let output = run_backend(
        dir.path(),
        &[
            ("APP_ENV", "production"),
            ("JWT_SECRET", "hunter2hunter2"),
            ("BIND_ADDR", &bind),
            ("DATABASE_URL", &url),
        ],
        &["serve"],
        LIMIT,
    );
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "serve must refuse; stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("JWT_SECRET"),
        "message names the problem:\n{stderr}"
    );
    assert!(!db.exists(), "the database must not be created");
    assert!(
        std::net::TcpStream::connect(&bind).is_err(),
        "nothing may listen on {bind}"
    );
}

#[test]
fn production_with_a_strong_secret_passes_and_redacts() {
    let dir = TempDir::new("cfg-ok");
    let output = run_backend(
        dir.path(),
        &[
            ("APP_ENV", "production"),
            ("JWT_SECRET", STRONG_SECRET),
            ("SMTP_HOST", "smtp.example.org"),
            (
                "DATABASE_URL",
                "postgres://cots:Pg-pass-9f8e7d@db.internal.example:5432/cots",
            ),
        ],
        &["check-config"],
        LIMIT,
    );
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("configuration OK"), "{stdout}");
    assert!(stdout.contains("APP_ENV=production"), "{stdout}");
    assert!(stdout.contains("JWT_SECRET=set"), "{stdout}");
    assert!(
        stdout.contains("postgres://cots:***@db.internal.example"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(STRONG_SECRET),
        "the secret must not be printed"
    );
    assert!(
        !stdout.contains("Pg-pass-9f8e7d"),
        "the database password must not be printed"
    );
    assert!(
        stdout.contains("without sslmode=require"),
        "a remote PostgreSQL without TLS deserves a warning:\n{stdout}"
    );
}

#[test]
fn env_example_is_a_valid_configuration() {
    // What `cp .env.example .env && make env-check` does, without make.
    let dir = TempDir::new("cfg-example");
    let example = ops_support::repo_root().join(".env.example");
    std::fs::copy(&example, dir.join(".env")).expect("copy .env.example");
    let output = run_backend(dir.path(), &[], &["check-config"], LIMIT);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        ".env.example must pass check-config:\n{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("configuration OK: APP_ENV=development"),
        "{stdout}"
    );

    // The same file switched to production needs a strong secret and a
    // mail relay (or the explicit consent to keep mail in the outbox).
    let output = run_backend(
        dir.path(),
        &[("APP_ENV", "production"), ("JWT_SECRET", STRONG_SECRET)],
        &["check-config"],
        LIMIT,
    );
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("SMTP_HOST is required in production"),
        "{}",
        text(&output.stderr)
    );
    for mail in [
        ("SMTP_HOST", "smtp.example.org"),
        ("MAIL_OUTBOX_IN_PRODUCTION", "true"),
    ] {
        let output = run_backend(
            dir.path(),
            &[
                ("APP_ENV", "production"),
                ("JWT_SECRET", STRONG_SECRET),
                mail,
            ],
            &["check-config"],
            LIMIT,
        );
        assert!(
            output.status.success(),
            "{}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        );
    }
}
