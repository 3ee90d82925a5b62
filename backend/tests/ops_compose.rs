//! `docker-compose.yml` checked without a Docker engine.
//!
//! The file is parsed as YAML (python3 with PyYAML turns it into JSON; the
//! machine's Python has it) and every promise of the operations issue is
//! checked on the structure: PostgreSQL 15+ with a named volume and a health
//! check; the backend built from `backend/Dockerfile`, waiting for a healthy
//! database, restarting, configured from `.env`, its stack-internal settings
//! overridden, published on 127.0.0.1 only, given more time to stop than
//! its shutdown grace, health-checked by `backend healthcheck`; the optional
//! profiles `tls` (nginx with the shipped configuration) and `redis`; no
//! misspelt keys. When the `docker compose` plugin is
//! installed, `docker compose config` validates the file against the
//! Compose specification too (it needs no engine).

mod ops_support;

use std::collections::BTreeMap;
use std::process::Command;

use ops_support::{TempDir, repo_root, text};
use serde_json::Value;

fn compose_json() -> Value {
    let path = repo_root().join("docker-compose.yml");
    let output = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
        ])
        .arg(&path)
        .output()
        .expect("python3 is needed to parse YAML in this test");
    assert!(
        output.status.success(),
        "docker-compose.yml does not parse as YAML (or python3 lacks PyYAML: pip install pyyaml):\n{}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON from python")
}

/// Compose's `${VAR:-default}` / `${VAR-default}` / `${VAR}` with no
/// variables set: what a fresh clone gets.
fn interpolate_defaults(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').expect("unclosed ${ in compose value");
        let expr = &after[..end];
        let default = expr
            .split_once(":-")
            .or_else(|| expr.split_once('-'))
            .map(|(_, d)| d)
            .unwrap_or("");
        out.push_str(default);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out.replace("$$", "$")
}

fn as_str(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
}

/// `environment:` as a map, whichever of the two syntaxes is used.
fn environment(service: &Value) -> BTreeMap<String, String> {
    match &service["environment"] {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let raw = v
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string());
                (k.clone(), interpolate_defaults(&raw))
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let (k, v) = as_str(item).split_once('=').expect("KEY=value");
                (k.to_owned(), interpolate_defaults(v))
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn seconds(duration: &str) -> u64 {
    let duration = duration.trim();
    if let Some(minutes) = duration.strip_suffix('m') {
        minutes.parse::<u64>().expect("minutes") * 60
    } else {
        duration.trim_end_matches('s').parse().expect("seconds")
    }
}

const SERVICE_KEYS: &[&str] = &[
    "build",
    "cap_add",
    "cap_drop",
    "command",
    "container_name",
    "depends_on",
    "deploy",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "healthcheck",
    "image",
    "init",
    "labels",
    "logging",
    "networks",
    "ports",
    "profiles",
    "read_only",
    "restart",
    "security_opt",
    "shm_size",
    "stop_grace_period",
    "stop_signal",
    "tmpfs",
    "ulimits",
    "user",
    "volumes",
    "working_dir",
];

#[test]
fn compose_file_has_the_promised_structure() {
    let compose = compose_json();
    let top = compose.as_object().expect("a mapping at the top");
    for key in top.keys() {
        assert!(
            [
                "name", "services", "volumes", "networks", "secrets", "configs"
            ]
            .contains(&key.as_str()),
            "unknown top-level key {key}"
        );
    }
    let services = compose["services"].as_object().expect("services");
    for (name, service) in services {
        for key in service.as_object().expect("service mapping").keys() {
            assert!(
                SERVICE_KEYS.contains(&key.as_str()),
                "service {name}: unknown key {key}"
            );
        }
        assert!(
            service.get("image").is_some() || service.get("build").is_some(),
            "service {name} needs an image or a build"
        );
        // Every published port is on the loopback interface by default.
        for port in service["ports"].as_array().into_iter().flatten() {
            let spec = interpolate_defaults(as_str(port));
            assert!(
                spec.starts_with("127.0.0.1:"),
                "service {name} publishes {spec} beyond localhost by default"
            );
        }
    }
    let named_volumes = compose["volumes"].as_object().expect("top-level volumes");

    // PostgreSQL 15 or newer, data on a named volume, health-checked.
    let db = &compose["services"]["db"];
    let image = as_str(&db["image"]);
    let tag = image
        .strip_prefix("postgres:")
        .expect("the official postgres image");
    let major: u32 = tag
        .split(['-', '.'])
        .next()
        .unwrap()
        .parse()
        .expect("a numbered tag");
    assert!(major >= 15, "PostgreSQL {major} is older than 15");
    let data_volume = db["volumes"]
        .as_array()
        .expect("db volumes")
        .iter()
        .map(as_str)
        .find(|v| v.ends_with(":/var/lib/postgresql/data"))
        .expect("a volume on the data directory");
    let volume_name = data_volume.split(':').next().unwrap();
    assert!(
        named_volumes.contains_key(volume_name),
        "{volume_name} must be a named volume"
    );
    let test = db["healthcheck"]["test"].to_string();
    assert!(test.contains("pg_isready"), "db health check: {test}");
    assert!(
        db.get("ports").is_none(),
        "the database port is not published"
    );

    // The backend.
    let backend = &compose["services"]["backend"];
    assert_eq!(as_str(&backend["build"]["context"]), ".");
    let dockerfile = as_str(&backend["build"]["dockerfile"]);
    assert_eq!(dockerfile, "backend/Dockerfile");
    assert!(repo_root().join(dockerfile).is_file());
    assert_eq!(
        as_str(&backend["depends_on"]["db"]["condition"]),
        "service_healthy",
        "the backend waits for a healthy database"
    );
    let restart = as_str(&backend["restart"]);
    assert!(
        ["always", "unless-stopped", "on-failure"].contains(&restart),
        "restart: {restart}"
    );
    let env_files: Vec<String> = match &backend["env_file"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| as_str(&i["path"]).to_owned())
            })
            .collect(),
        other => panic!("env_file: {other}"),
    };
    assert!(
        env_files.iter().any(|f| f == ".env"),
        "env_file must include .env"
    );
    assert!(
        repo_root().join(".env.example").is_file(),
        ".env.example is what .env is copied from"
    );
    let env = environment(backend);
    let url = env
        .get("DATABASE_URL")
        .expect("DATABASE_URL points into the stack");
    assert!(
        url.starts_with("postgres://") && url.contains("@db:5432/"),
        "{url}"
    );
    assert_eq!(
        env.get("BIND_ADDR").map(String::as_str),
        Some("0.0.0.0:8080")
    );
    assert!(env.contains_key("DATA_DIR"));
    // Those overrides matter because .env.example sets the same variables
    // for running without Docker.
    let example = std::fs::read_to_string(repo_root().join(".env.example")).expect(".env.example");
    for key in ["DATABASE_URL", "BIND_ADDR"] {
        assert!(
            example.contains(&format!("\n{key}=")),
            ".env.example sets {key}"
        );
    }
    let ports: Vec<String> = backend["ports"]
        .as_array()
        .expect("backend ports")
        .iter()
        .map(|p| interpolate_defaults(as_str(p)))
        .collect();
    assert_eq!(ports, ["127.0.0.1:8080:8080"]);
    // Longer than the backend's default SHUTDOWN_GRACE_SECS (30).
    let grace = seconds(as_str(&backend["stop_grace_period"]));
    assert!(
        grace > 30,
        "stop_grace_period {grace}s must exceed the 30 s shutdown grace"
    );
    // Volumes used by services are declared.
    for (name, service) in services {
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let source = as_str(volume).split(':').next().unwrap();
            if !source.starts_with('.') && !source.starts_with('/') {
                assert!(
                    named_volumes.contains_key(source),
                    "{name}: volume {source} is not declared"
                );
            }
        }
    }
}

#[test]
fn backend_health_is_the_binarys_own_probe() {
    let compose = compose_json();
    let backend = &compose["services"]["backend"];
    let test: Vec<&str> = backend["healthcheck"]["test"]
        .as_array()
        .expect("backend healthcheck test (exec form)")
        .iter()
        .map(as_str)
        .collect();
    assert_eq!(test, ["CMD", "/app/backend", "healthcheck"]);
    // The image's entrypoint is /app/backend (the path the probe names).
    let dockerfile =
        std::fs::read_to_string(repo_root().join("backend/Dockerfile")).expect("Dockerfile");
    assert!(dockerfile.contains("ENTRYPOINT [\"/app/backend\"]"));
    assert!(dockerfile.contains("CMD [\"/app/backend\", \"healthcheck\"]"));
    let start = seconds(as_str(&backend["healthcheck"]["start_period"]));
    assert!(
        start >= 60,
        "start_period covers the start-up retries: {start}s"
    );
}

#[test]
fn optional_profiles_add_tls_and_redis() {
    let compose = compose_json();
    let services = compose["services"].as_object().expect("services");
    for always in ["db", "backend"] {
        assert!(
            services[always].get("profiles").is_none(),
            "{always} runs without a profile"
        );
    }

    let proxy = &compose["services"]["proxy"];
    assert_eq!(proxy["profiles"], serde_json::json!(["tls"]));
    assert!(as_str(&proxy["image"]).starts_with("nginx:"));
    assert_eq!(
        as_str(&proxy["depends_on"]["backend"]["condition"]),
        "service_healthy"
    );
    let env = environment(proxy);
    assert_eq!(
        env.get("NGINX_ENVSUBST_FILTER").map(String::as_str),
        Some("^COTS_")
    );
    assert_eq!(
        env.get("COTS_UPSTREAM").map(String::as_str),
        Some("backend:8080")
    );
    let volumes: Vec<&str> = proxy["volumes"]
        .as_array()
        .expect("proxy volumes")
        .iter()
        .map(as_str)
        .collect();
    let template = volumes
        .iter()
        .find(|v| v.contains("/etc/nginx/templates/"))
        .expect("the configuration template is mounted");
    let source = template.split(':').next().unwrap();
    let text = std::fs::read_to_string(repo_root().join(source))
        .unwrap_or_else(|e| panic!("{source}: {e}"));
    // Every placeholder the configuration uses (comments aside) is set by
    // compose.
    let config: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let placeholders: Vec<&str> = config
        .split("${")
        .skip(1)
        .map(|p| p.split('}').next().unwrap())
        .collect();
    assert!(placeholders.len() >= 5, "{placeholders:?}");
    for placeholder in placeholders {
        assert!(
            env.contains_key(placeholder),
            "{source} uses ${{{placeholder}}}, which compose does not set"
        );
    }
    assert!(volumes.iter().any(|v| v.ends_with(":/etc/nginx/certs:ro")));

    let redis = &compose["services"]["redis"];
    assert_eq!(redis["profiles"], serde_json::json!(["redis"]));
    assert!(as_str(&redis["image"]).starts_with("redis:"));
    assert!(redis.get("ports").is_none(), "Redis is not published");
    assert!(redis.get("healthcheck").is_some());
}

#[test]
fn docker_compose_config_validates_when_the_plugin_is_installed() {
    let available = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        eprintln!(
            "note: `docker compose` is not installed here; the compose file was checked by \
             compose_file_has_the_promised_structure only"
        );
        return;
    }
    // A fresh clone plus `cp .env.example .env`.
    let dir = TempDir::new("compose");
    std::fs::copy(
        repo_root().join("docker-compose.yml"),
        dir.join("docker-compose.yml"),
    )
    .unwrap();
    std::fs::copy(repo_root().join(".env.example"), dir.join(".env")).unwrap();
    let output = Command::new("docker")
        .args(["compose", "config", "--quiet"])
        .current_dir(dir.path())
        .output()
        .expect("docker compose config");
    assert!(
        output.status.success(),
        "docker compose config:\n{}",
        text(&output.stderr)
    );
}
