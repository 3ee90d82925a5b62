//! The offline queue: mutating economy calls (collect, sell, purchase) that
//! wait their turn, persisted per account so they survive a lost link and a
//! restart of the game. Plain Rust (unit-tested with `cargo test`); the
//! [`crate::session::Session`] owns one and hands out its head.
//!
//! Rules (docs/ARCHITECTURE.md "Offline queue"):
//! - Ops are sent one at a time, in the order they were made; each carries
//!   the `Idempotency-Key` chosen when it was queued, so a replay after a lost
//!   answer (or after a restart) can never apply twice.
//! - [`classify`] decides what an answer means for the head op: done, retry
//!   later (no answer, 5xx, 429), hold until signed in again (401), or drop
//!   with an explanation (any other 4xx: the server will never accept it).
//! - [`backoff_delay`]: exponential, capped, jittered.
//! - The file is JSON ([`QueueFile`]), written to a temporary file and renamed
//!   over the old one, so a crash leaves either the old or the new queue.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use game::UpgradeId;
use game::api::{CollectRequest, CollectedPiece, Dock, Player, PurchaseRequest, SellRequest};
use serde::{Deserialize, Serialize};

use crate::net::{ApiError, Call};
use crate::player_mirror::PredictedPiece;
use crate::routes;

/// Format version of the queue file.
pub const FILE_VERSION: u32 = 1;

/// A piece inside a queued collect op.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedPiece {
    pub index: u32,
    /// Run clock (s) when collected.
    pub at: f64,
    /// Debris kind id (for the prediction while it waits).
    pub kind: String,
}

/// A mutating call waiting its turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Collect {
        key: String,
        run_id: String,
        pieces: Vec<QueuedPiece>,
    },
    /// A sale; `request.dock` is where the ship was docked when it was made,
    /// so a sale queued offline replays with its dock claim.
    Sell { key: String, request: SellRequest },
    /// A purchase, with the dock claim of the moment it was made.
    Purchase {
        key: String,
        upgrade: UpgradeId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dock: Option<Dock>,
    },
}

impl Op {
    pub fn key(&self) -> &str {
        match self {
            Op::Collect { key, .. } | Op::Sell { key, .. } | Op::Purchase { key, .. } => key,
        }
    }

    /// Words for the player ("collection of 3 pieces", "sale", "purchase of X").
    pub fn describe(&self) -> String {
        match self {
            Op::Collect { pieces, .. } => format!("collection claim ({} pieces)", pieces.len()),
            Op::Sell { request, .. } => match &request.items {
                Some(items) => {
                    let n: u64 = items.values().map(|&n| u64::from(n)).sum();
                    format!("sale of {n} items")
                }
                None => "sale of the entire hold".to_owned(),
            },
            Op::Purchase { upgrade, .. } => format!("purchase of {upgrade}"),
        }
    }

    /// The HTTP call that performs it.
    pub fn call(&self) -> Call {
        match self {
            Op::Collect {
                run_id,
                pieces,
                key,
            } => {
                let request = CollectRequest {
                    pieces: pieces
                        .iter()
                        .map(|p| CollectedPiece {
                            index: p.index,
                            at: p.at,
                        })
                        .collect(),
                };
                routes::collect(run_id, &request, key)
            }
            Op::Sell { request, key } => routes::sell(request, key),
            Op::Purchase { upgrade, key, dock } => {
                routes::purchase(*upgrade, &PurchaseRequest { dock: dock.clone() }, key)
            }
        }
    }
}

/// What the queue file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueFile {
    pub version: u32,
    pub username: String,
    pub backend_url: String,
    /// The server's last word on the player (shown while offline after a restart).
    #[serde(default)]
    pub player: Option<Player>,
    /// Ops in order; the first one may have been sent already (the key makes
    /// sending it again safe).
    #[serde(default)]
    pub ops: Vec<Op>,
    /// Collections recorded but not yet put into an op.
    #[serde(default)]
    pub unsent: Vec<PredictedPiece>,
    /// Station AI messages marked seen here whose mark has not reached the
    /// server yet: sent after the next sign-in, and never shown again.
    #[serde(default)]
    pub seen_unsent: Vec<String>,
}

/// What an answer means for the op that was sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// 2xx: the server applied it (or had already, for a replay).
    Done,
    /// Not reached, 5xx or 429: keep it at the head and try again later
    /// (`Retry-After` seconds when the server gave them).
    Retry(Option<u64>),
    /// 401: no session. Keep it until the player signs in again.
    Hold,
    /// Any other 4xx: the server will never take it. Drop it and say why.
    Drop,
}

pub fn classify(error: &ApiError) -> Verdict {
    match error.status {
        0 => Verdict::Retry(None),
        429 => Verdict::Retry(error.retry_after),
        s if s >= 500 => Verdict::Retry(None),
        401 => Verdict::Hold,
        _ => Verdict::Drop,
    }
}

/// Seconds before retry number `attempt` (0 = the first retry):
/// `min(cap, base × 2^attempt)`, scaled by `1 - jitter × unit` where `unit`
/// is a random number in `[0, 1)`, so many clients do not retry in step.
pub fn backoff_delay(attempt: u32, base_s: f64, cap_s: f64, jitter: f64, unit: f64) -> f64 {
    let base = base_s.max(0.01);
    let cap = cap_s.max(base);
    let raw = (base * 2f64.powi(attempt.min(30) as i32)).min(cap);
    let jitter = jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0);
    raw * (1.0 - jitter)
}

/// A random number in `[0, 1)` for the backoff jitter.
pub fn random_unit() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() as u64;
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// File name of the queue of `username` on `backend_url`: the name plus a
/// short hash of the URL (an account belongs to one backend).
pub fn file_name(username: &str, backend_url: &str) -> String {
    let safe: String = username
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // FNV-1a: stable across runs and platforms (unlike std's hasher).
    let mut hash: u32 = 0x811c_9dc5;
    for byte in backend_url.as_bytes() {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("queue-{safe}-{hash:08x}.json")
}

/// Writes `file` to `path` atomically: a temporary file in the same folder,
/// flushed to disk, then renamed over `path`.
pub fn write_atomically(path: &Path, file: &QueueFile) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(file).map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = PathBuf::from(path);
    tmp.set_extension("json.tmp");
    {
        let mut out = std::fs::File::create(&tmp)?;
        out.write_all(&text)?;
        out.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Reads a queue file; `Ok(None)` when there is none.
pub fn read(path: &Path) -> std::io::Result<Option<QueueFile>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(std::io::Error::other),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Splits recorded pieces into collect ops of at most `max_batch` pieces,
/// one run at a time, in order.
pub fn batch_collections(pieces: Vec<PredictedPiece>, max_batch: usize) -> Vec<Op> {
    let mut by_run: BTreeMap<String, Vec<QueuedPiece>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for piece in pieces {
        if !by_run.contains_key(&piece.run_id) {
            order.push(piece.run_id.clone());
        }
        by_run.entry(piece.run_id).or_default().push(QueuedPiece {
            index: piece.index,
            at: piece.at,
            kind: piece.kind,
        });
    }
    let mut ops = Vec::new();
    for run_id in order {
        let pieces = by_run.remove(&run_id).unwrap_or_default();
        for chunk in pieces.chunks(max_batch.max(1)) {
            ops.push(Op::Collect {
                key: crate::net::new_idempotency_key(),
                run_id: run_id.clone(),
                pieces: chunk.to_vec(),
            });
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(run: &str, index: u32) -> PredictedPiece {
        PredictedPiece {
            run_id: run.into(),
            index,
            at: f64::from(index),
            kind: "scrap_metal".into(),
        }
    }

    #[test]
    fn verdicts_follow_the_status() {
        assert_eq!(classify(&ApiError::unreachable("x")), Verdict::Retry(None));
        assert_eq!(
            classify(&ApiError::new(503, "internal", "x")),
            Verdict::Retry(None)
        );
        let mut limited = ApiError::new(429, "rate_limited", "x");
        limited.retry_after = Some(7);
        assert_eq!(classify(&limited), Verdict::Retry(Some(7)));
        assert_eq!(
            classify(&ApiError::new(401, "not_signed_in", "x")),
            Verdict::Hold
        );
        assert_eq!(
            classify(&ApiError::new(409, "insufficient_items", "x")),
            Verdict::Drop
        );
        assert_eq!(
            classify(&ApiError::new(404, "not_found", "x")),
            Verdict::Drop
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_only_shortens() {
        assert_eq!(backoff_delay(0, 1.0, 30.0, 0.0, 0.5), 1.0);
        assert_eq!(backoff_delay(3, 1.0, 30.0, 0.0, 0.5), 8.0);
        assert_eq!(backoff_delay(10, 1.0, 30.0, 0.0, 0.5), 30.0);
        assert_eq!(backoff_delay(1000, 1.0, 30.0, 0.0, 0.5), 30.0);
        let jittered = backoff_delay(2, 1.0, 30.0, 0.5, 0.999);
        assert!((2.0..=4.0).contains(&jittered), "{jittered}");
    }

    #[test]
    fn collections_batch_per_run_in_order() {
        let pieces = vec![piece("b", 1), piece("a", 2), piece("b", 3), piece("b", 4)];
        let ops = batch_collections(pieces, 2);
        let shape: Vec<(String, Vec<u32>)> = ops
            .iter()
            .map(|op| match op {
                Op::Collect { run_id, pieces, .. } => {
                    (run_id.clone(), pieces.iter().map(|p| p.index).collect())
                }
                _ => panic!("not a collect"),
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                ("b".to_owned(), vec![1, 3]),
                ("b".to_owned(), vec![4]),
                ("a".to_owned(), vec![2])
            ]
        );
        let keys: std::collections::BTreeSet<&str> = ops.iter().map(Op::key).collect();
        assert_eq!(keys.len(), 3, "one key per op");
    }

    fn dock() -> Dock {
        Dock {
            run_id: "r".into(),
            hub: 1,
            at: 42.5,
        }
    }

    #[test]
    fn the_file_round_trips_and_is_replaced_atomically() {
        let dir = std::env::temp_dir().join(format!("cots-queue-{}", uuid::Uuid::new_v4()));
        let path = dir.join(file_name("Ada_1", "http://127.0.0.1:8080"));
        assert_eq!(read(&path).unwrap(), None);
        let mut file = QueueFile {
            version: FILE_VERSION,
            username: "Ada_1".into(),
            backend_url: "http://127.0.0.1:8080".into(),
            player: None,
            ops: vec![
                Op::Sell {
                    key: "k1".into(),
                    request: SellRequest::all().docked(dock()),
                },
                Op::Purchase {
                    key: "k2".into(),
                    upgrade: UpgradeId::SpeedBoost,
                    dock: Some(dock()),
                },
            ],
            unsent: vec![piece("r", 5)],
            seen_unsent: vec!["first_sale".into()],
        };
        write_atomically(&path, &file).unwrap();
        assert_eq!(read(&path).unwrap().as_ref(), Some(&file));
        // The dock claims are in the file, and in the calls they replay as.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("\"run_id\": \"r\"").count(), 2 + 1, "{text}");
        for op in &file.ops {
            let body = op.call().body.unwrap();
            assert_eq!(
                body["dock"],
                serde_json::json!({"run_id": "r", "hub": 1, "at": 42.5})
            );
        }
        file.ops.remove(0);
        write_atomically(&path, &file).unwrap();
        assert_eq!(read(&path).unwrap(), Some(file));
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_names_are_per_account_and_backend() {
        let a = file_name("ada", "http://a");
        assert_ne!(a, file_name("bob", "http://a"));
        assert_ne!(a, file_name("ada", "http://b"));
        assert_eq!(a, file_name("ada", "http://a"));
        assert!(file_name("../x", "u").starts_with("queue-___x-"));
    }
}
