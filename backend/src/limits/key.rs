//! Who spends from a budget: a user, or a client address (IPv6 per /64).

use std::net::{IpAddr, Ipv6Addr};

use super::types::Scope;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// A signed-in user's id.
    User(String),
    /// The client address as the backend sees it (the last
    /// `X-Forwarded-For` hop when `TRUST_PROXY_HEADERS` is on).
    Ip(IpAddr),
}

impl ClientKey {
    pub fn scope(&self) -> Scope {
        match self {
            ClientKey::User(_) => Scope::User,
            ClientKey::Ip(_) => Scope::Ip,
        }
    }

    /// The key's text within its budget: the user id, or [`ip_key`].
    pub fn to_key(&self) -> String {
        match self {
            ClientKey::User(id) => id.clone(),
            ClientKey::Ip(ip) => ip_key(*ip),
        }
    }
}

/// An address's budget key: IPv4 as is; IPv6 by its /64 prefix (what one
/// subscriber gets, so rotating through its own addresses does not reset
/// the budget); IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as the IPv4 address.
pub fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
    }
}
