//! `backend/Dockerfile` and `.dockerignore`, checked without a Docker engine.
//!
//! - The Dockerfile's promises, read from the file: the Rust image matches
//!   the workspace's `rust-version`, only `backend` is built (`--locked`),
//!   nothing is fetched from a URL, the runtime stage only copies files from
//!   the build stage and runs as a non-root user with a HEALTHCHECK.
//! - `.dockerignore` sends only the workspace, never secrets or build output,
//!   and everything the build embeds lies inside what it sends.
//! - The HEALTHCHECK command (`/app/backend healthcheck`) is run, with the
//!   binary cargo built, against a live backend and without one.
//! - The runtime file tree is assembled by the Dockerfile's own command
//!   (paths swapped), and the backend serves from it under chroot as uid
//!   10001 with the image's ENV — what the container does, minus Docker.
//!   Needs root (chroot); skipped with a note otherwise.

mod ops_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ops_support::{STRONG_SECRET, Server, TempDir, base_env, client, register, repo_root, text};

fn dockerfile() -> String {
    std::fs::read_to_string(repo_root().join("backend/Dockerfile")).expect("backend/Dockerfile")
}

/// The Dockerfile as instructions: comments dropped, continuation lines
/// joined, heredoc bodies attached to their instruction.
fn instructions(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = source.lines();
    let mut current = String::new();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if current.is_empty() && (trimmed.starts_with('#') || trimmed.is_empty()) {
            continue;
        }
        if let Some(stripped) = line.strip_suffix('\\') {
            current.push_str(stripped);
            continue;
        }
        current.push_str(line);
        if current.contains("<<'EOF'") || current.contains("<<EOF") {
            for body in lines.by_ref() {
                if body == "EOF" {
                    break;
                }
                current.push('\n');
                current.push_str(body);
            }
        }
        out.push(std::mem::take(&mut current));
    }
    out
}

fn workspace_rust_version() -> String {
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).expect("Cargo.toml");
    manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("rust-version = "))
        .expect("rust-version in the workspace manifest")
        .trim_matches('"')
        .to_owned()
}

#[test]
fn dockerfile_keeps_its_promises() {
    let source = dockerfile();
    let all = instructions(&source);
    let arg = all
        .iter()
        .find_map(|i| i.strip_prefix("ARG RUST_VERSION="))
        .expect("ARG RUST_VERSION");
    assert_eq!(
        arg.trim(),
        workspace_rust_version(),
        "the build image must match rust-version"
    );

    let stages: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, i)| i.starts_with("FROM "))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(stages.len(), 2, "build and runtime stages");
    assert!(
        all[stages[0]].starts_with("FROM rust:${RUST_VERSION}-slim-"),
        "build stage: {}",
        all[stages[0]]
    );

    let build = &all[stages[0]..stages[1]];
    let cargo: Vec<&String> = build.iter().filter(|i| i.contains("cargo ")).collect();
    assert!(
        cargo
            .iter()
            .any(|i| i.contains("cargo build --release --locked -p backend")),
        "a locked release build of backend only: {cargo:?}"
    );
    for instruction in &all {
        let lower = instruction.to_lowercase();
        assert!(
            !lower.contains("rust-game") || instruction.starts_with("COPY "),
            "the Godot crate is only copied (for the workspace manifest), never built: {instruction}"
        );
        assert!(!lower.contains("--workspace"), "{instruction}");
        if ["RUN ", "COPY ", "ADD "]
            .iter()
            .any(|k| instruction.starts_with(k))
        {
            for fetcher in ["curl ", "wget ", "://", "git clone", "rustup "] {
                assert!(
                    !lower.contains(fetcher),
                    "no download outside cargo and apt: {instruction}"
                );
            }
        }
        assert!(
            !instruction.starts_with("ADD "),
            "ADD can fetch URLs; use COPY: {instruction}"
        );
    }

    // The runtime stage: files from the build stage, metadata, nothing else.
    let runtime = &all[stages[1]..];
    assert_eq!(runtime[0], "FROM scratch AS runtime");
    let mut user = None;
    let mut healthcheck = None;
    for instruction in &runtime[1..] {
        let keyword = instruction.split_whitespace().next().unwrap();
        match keyword {
            "COPY" => assert!(
                instruction.starts_with("COPY --from=build "),
                "{instruction}"
            ),
            "USER" => user = Some(instruction.clone()),
            "HEALTHCHECK" => healthcheck = Some(instruction.clone()),
            "ENV" | "WORKDIR" | "EXPOSE" | "VOLUME" | "STOPSIGNAL" | "ENTRYPOINT" | "CMD"
            | "LABEL" => {}
            other => panic!("unexpected {other} in the runtime stage: {instruction}"),
        }
    }
    let user = user.expect("a USER in the runtime stage");
    let uid = user
        .split_whitespace()
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap();
    assert!(uid != "0" && uid != "root", "must not run as root: {user}");
    let healthcheck = healthcheck.expect("a HEALTHCHECK");
    assert_eq!(
        healthcheck_argv(&source),
        ["/app/backend", "healthcheck"],
        "the probe is the binary's own subcommand (no shell, no curl in the image): {healthcheck}"
    );
    assert!(
        !source.contains("/probe/") && !source.contains("rustc "),
        "no separately compiled probe any more"
    );
}

/// The exec-form command of the HEALTHCHECK instruction.
fn healthcheck_argv(source: &str) -> Vec<String> {
    let instruction = instructions(source)
        .into_iter()
        .find(|i| i.starts_with("HEALTHCHECK "))
        .expect("a HEALTHCHECK");
    let array = instruction
        .split_once("CMD ")
        .expect("HEALTHCHECK ... CMD [...]")
        .1
        .trim();
    serde_json::from_str(array).unwrap_or_else(|e| panic!("exec form (a JSON array): {array}: {e}"))
}

#[test]
fn dockerignore_sends_the_workspace_and_nothing_secret() {
    let ignore = std::fs::read_to_string(repo_root().join(".dockerignore")).expect(".dockerignore");
    let patterns: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        patterns.first(),
        Some(&"*"),
        "allow-list: everything is excluded first"
    );
    let allowed = [
        "Cargo.toml",
        "Cargo.lock",
        "game/",
        "rust-game/",
        "backend/",
        "migrations/",
    ];
    for pattern in patterns.iter().filter_map(|p| p.strip_prefix('!')) {
        assert!(
            allowed.contains(&pattern),
            "{pattern} should not be sent to the builder"
        );
    }
    for pattern in ["**/.env", "**/target/"] {
        assert!(
            patterns.contains(&pattern),
            ".dockerignore must exclude {pattern}"
        );
    }

    // Everything the build embeds lies inside what is sent.
    let roots: Vec<PathBuf> = ["game", "rust-game", "backend", "migrations"]
        .iter()
        .map(|d| repo_root().join(d))
        .collect();
    let mut checked = 0;
    for crate_dir in ["backend", "game"] {
        for file in rust_files(&repo_root().join(crate_dir).join("src")) {
            let code = std::fs::read_to_string(&file).unwrap();
            for (macro_name, base) in [
                ("include_str!(\"", file.parent().unwrap().to_path_buf()),
                ("include_bytes!(\"", file.parent().unwrap().to_path_buf()),
                ("sqlx::migrate!(\"", repo_root().join(crate_dir)),
            ] {
                for piece in code.split(macro_name).skip(1) {
                    let relative = piece.split('"').next().unwrap();
                    let target = normalize(&base.join(relative));
                    assert!(
                        roots.iter().any(|r| target.starts_with(r)),
                        "{} embeds {} from outside the build context",
                        file.display(),
                        target.display()
                    );
                    assert!(
                        target.exists(),
                        "{} embeds a missing {}",
                        file.display(),
                        target.display()
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked >= 3,
        "expected the migrations and the password list to be embedded"
    );
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The Dockerfile's HEALTHCHECK command with `/app/backend` swapped for the
/// binary cargo built, and the environment the container would have.
fn health_command(bind: &str, database_url: &str, data_dir: &Path) -> Command {
    let argv = healthcheck_argv(&dockerfile());
    assert_eq!(argv[0], "/app/backend");
    let mut command = Command::new(ops_support::BACKEND);
    command
        .args(&argv[1..])
        .env_clear()
        .env("BIND_ADDR", bind)
        .env("DATABASE_URL", database_url)
        .env("DATA_DIR", data_dir)
        .current_dir(data_dir.parent().unwrap());
    command
}

fn probe(bind: &str, database_url: &str, data_dir: &Path) -> bool {
    let output = health_command(bind, database_url, data_dir)
        .output()
        .expect("run backend healthcheck");
    eprintln!(
        "healthcheck (BIND_ADDR={bind}): {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    output.status.success()
}

#[test]
fn health_probe_passes_on_a_live_backend_and_fails_without_one() {
    let dir = TempDir::new("probe");
    let data = dir.join("data");
    let url = format!("sqlite://{}?mode=rwc", dir.join("probe.db").display());
    let mut server = Server::start(dir.path(), &base_env(&data, &url));
    let port = server.addr.port();
    assert!(
        probe(&format!("127.0.0.1:{port}"), &url, &data),
        "healthy backend"
    );
    // BIND_ADDR=0.0.0.0:PORT (the image's) is probed over loopback.
    assert!(
        probe(&format!("0.0.0.0:{port}"), &url, &data),
        "0.0.0.0 means loopback"
    );
    assert!(server.terminate(Duration::from_secs(30)).success());
    assert!(
        !probe(&format!("127.0.0.1:{port}"), &url, &data),
        "nothing listens any more"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| text(&o.stdout).trim() == "0")
}

/// The runtime stage's `ENV` settings.
fn runtime_env(source: &str) -> Vec<(String, String)> {
    let all = instructions(source);
    let runtime_start = all.iter().rposition(|i| i.starts_with("FROM ")).unwrap();
    let mut env = Vec::new();
    for instruction in &all[runtime_start..] {
        if let Some(rest) = instruction.strip_prefix("ENV ") {
            for pair in rest.split_whitespace() {
                let (k, v) = pair.split_once('=').expect("ENV KEY=value");
                env.push((k.to_owned(), v.to_owned()));
            }
        }
    }
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_tree_serves_as_the_service_user() {
    if !is_root() {
        eprintln!("note: runtime_tree_serves_as_the_service_user skipped: chroot needs root");
        return;
    }
    let source = dockerfile();
    let dir = TempDir::new("rootfs");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::copy(ops_support::BACKEND, out.join("backend")).unwrap();

    // The Dockerfile's own assembly command, with its four paths swapped.
    let run = instructions(&source)
        .into_iter()
        .find(|i| i.starts_with("RUN set -eu; out=/out;"))
        .expect("the rootfs RUN");
    let original = "out=/out; rootfs=/rootfs; datafs=/rootfs-data; migrations=/src/migrations;";
    assert!(run.contains(original), "{run}");
    let rootfs = dir.join("rootfs");
    let datafs = dir.join("rootfs-data");
    let script = run.trim_start_matches("RUN ").replace(
        original,
        &format!(
            "out='{}'; rootfs='{}'; datafs='{}'; migrations='{}';",
            out.display(),
            rootfs.display(),
            datafs.display(),
            repo_root().join("migrations").display()
        ),
    );
    let output = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("sh");
    assert!(
        output.status.success(),
        "the Dockerfile's rootfs command failed:\n{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    // `COPY --from=build --chown=10001:10001 /rootfs-data/ /app/`.
    let data = rootfs.join("app/data");
    std::fs::rename(datafs.join("data"), &data).unwrap();
    let chown = Command::new("chown")
        .arg("10001:10001")
        .arg(&data)
        .status()
        .unwrap();
    assert!(chown.success());

    // Without the binary, the tree is small (libraries, certificates, SQL).
    let overhead = dir_size(&rootfs) - std::fs::metadata(rootfs.join("app/backend")).unwrap().len();
    assert!(
        overhead < 15 * 1024 * 1024,
        "runtime tree besides the binaries: {overhead} bytes"
    );

    // Serve from the tree as the service user, with the image's ENV.
    // Resolved here: the child's environment is cleared, PATH included.
    let chroot = find_program("chroot").expect("chroot (coreutils)");
    let mut command = Command::new(&chroot);
    command
        .arg("--userspec=10001:10001")
        .arg(&rootfs)
        .args(["/app/backend", "serve"]);
    command.env_clear();
    for (key, value) in runtime_env(&source) {
        command.env(key, value);
    }
    command
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("JWT_SECRET", STRONG_SECRET)
        // The image runs as production, which wants SMTP; this test keeps
        // mail in the outbox table on purpose.
        .env("MAIL_OUTBOX_IN_PRODUCTION", "true")
        .env("AUTH_RATE_LIMIT_PER_MINUTE", "1000")
        .env("AUTH_RATE_LIMIT_BURST", "1000");
    let mut server = Server::spawn(command);
    let http = client();
    assert_eq!(
        http.get(server.url("/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        register(&server, "chrooted_pilot").await,
        201,
        "writes as uid 10001"
    );
    let db = data.join("backend.db");
    use std::os::unix::fs::MetadataExt as _;
    assert_eq!(
        std::fs::metadata(&db)
            .expect("the SQLite file in /app/data")
            .uid(),
        10001
    );

    // The HEALTHCHECK command as Docker runs it: inside, as the user, with
    // the image's ENV (the database in /app/data).
    let argv = healthcheck_argv(&source);
    let mut health = Command::new(&chroot);
    health
        .arg("--userspec=10001:10001")
        .arg(&rootfs)
        .args(&argv)
        .env_clear();
    for (key, value) in runtime_env(&source) {
        health.env(key, value);
    }
    let health = health
        .env("BIND_ADDR", server.addr.to_string())
        .env("JWT_SECRET", STRONG_SECRET)
        .env("MAIL_OUTBOX_IN_PRODUCTION", "true")
        .output()
        .unwrap();
    assert!(
        health.status.success(),
        "{}{}",
        text(&health.stdout),
        text(&health.stderr)
    );

    assert!(
        server.terminate(Duration::from_secs(30)).success(),
        "{}",
        server.logs()
    );
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let meta = entry.path().symlink_metadata().unwrap();
        if meta.is_dir() {
            total += dir_size(&entry.path());
        } else {
            total += meta.len();
        }
    }
    total
}
