//! Network details of a request: who the client is behind our proxies,
//! which budget an address spends from, which request ids are kept.

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::config::IpNet;

/// Longest client-chosen `X-Request-Id` kept.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// Does a client-sent `X-Request-Id` look like one (1-64 characters of
/// `A-Z a-z 0-9 - _ . :`)? Anything else (log injection, a megabyte of
/// text) is replaced by a fresh id.
pub fn is_plausible_request_id(value: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&value.len())
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The client's address behind trusted proxies: over every
/// `X-Forwarded-For` line (in order, each a comma-separated list), walking
/// from the right, the entries our own `hops` proxies wrote are passed
/// (the last of them is the address the outermost proxy saw), as are
/// entries of `trusted` proxy blocks; the first other entry is the client.
/// With a non-empty `trusted` list, a peer outside it is not a proxy of
/// ours and its header is ignored. Anything unparseable ends the walk at
/// the last good entry (or the peer).
pub fn forwarded_client(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    hops: usize,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    if let Some(peer) = peer
        && !trusted.is_empty()
        && !trusted.iter().any(|net| net.contains(peer))
    {
        return Some(peer);
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    let mut candidate = peer;
    for (index, entry) in entries.iter().rev().enumerate() {
        let Some(ip) = parse_forwarded_entry(entry) else {
            return candidate;
        };
        candidate = Some(ip);
        let ours = index + 1 < hops.max(1);
        if !ours && !trusted.iter().any(|net| net.contains(ip)) {
            return Some(ip);
        }
    }
    candidate
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_forwarded_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_screened() {
        assert!(is_plausible_request_id(
            b"0190c3f2-7a1b-7c3d-9e4f-0123456789ab"
        ));
        assert!(is_plausible_request_id(b"edge.42:abc_DEF"));
        assert!(!is_plausible_request_id(b""));
        assert!(!is_plausible_request_id(&[b'a'; 65]));
        assert!(!is_plausible_request_id(b"id with spaces"));
        assert!(!is_plausible_request_id(b"x\"\nforged=1"));
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_entry() {
        let peer: Option<IpAddr> = Some("10.0.0.2".parse().unwrap());
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", "6.6.6.6, 1.1.1.1".parse().unwrap());
        headers.append("x-forwarded-for", "203.0.113.9".parse().unwrap());
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // One proxy of ours: the last entry of the last line, whatever the
        // client put in front (and whatever line it sits on).
        assert_eq!(forwarded_client(peer, &headers, 1, &[]), ip("203.0.113.9"));
        // Two: a CDN wrote the client, our proxy wrote the CDN's address.
        assert_eq!(forwarded_client(peer, &headers, 2, &[]), ip("1.1.1.1"));
        // A proxy block skipped wherever it stands.
        let cdn = [
            "203.0.113.0/24".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        assert_eq!(forwarded_client(peer, &headers, 1, &cdn), ip("1.1.1.1"));
        // A peer outside the trusted blocks: the header is not ours to read.
        let other = Some("192.0.2.1".parse().unwrap());
        assert_eq!(forwarded_client(other, &headers, 1, &cdn), other);
        // No header: the peer; garbage: the last good entry.
        assert_eq!(forwarded_client(peer, &HeaderMap::new(), 1, &[]), peer);
        let mut junk = HeaderMap::new();
        junk.append(
            "x-forwarded-for",
            "nonsense, [2001:db8::7]:443".parse().unwrap(),
        );
        assert_eq!(forwarded_client(peer, &junk, 1, &[]), ip("2001:db8::7"));
        assert_eq!(forwarded_client(peer, &junk, 2, &[]), ip("2001:db8::7"));
    }
}
