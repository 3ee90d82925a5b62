use std::fmt;

/// A syntactically valid e-mail address, normalised to lower case.
///
/// The check is deliberately about shape, not deliverability: the
/// verification mail proves the address works.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Longest address SMTP can carry (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let candidate = raw.trim();
        if candidate.is_empty() {
            return Err("email is required");
        }
        if candidate.len() > Self::MAX_LEN {
            return Err("email is too long");
        }
        let (local, domain) = candidate.rsplit_once('@').ok_or("email must contain '@'")?;
        if local.is_empty() || local.len() > 64 {
            return Err("email local part must be 1-64 characters");
        }
        let local_ok = local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !local_ok {
            return Err("email local part contains characters that are not allowed");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err("email domain must contain a dot");
        }
        let domain_ok = labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
        if !domain_ok {
            return Err("email domain is not valid");
        }
        Ok(Self(candidate.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    // Addresses are personal data: keep them out of debug output and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn accepts_and_normalises_ordinary_addresses() {
        let email = Email::parse("  Pilot.One+tag@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "pilot.one+tag@example.com");
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@@example.com",
            "a b@example.com",
            "a@exa mple.com",
            "a@-example.com",
            "a@example..com",
            ".a@example.com",
            "a..b@example.com",
            "x'; DROP TABLE users;--@example.com",
            "a@example.com\n",
        ] {
            // the trailing newline is trimmed, so that one is actually fine
            if bad.ends_with('\n') {
                assert!(Email::parse(bad).is_ok());
                continue;
            }
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn rejects_overlong_addresses() {
        let long = format!("{}@example.com", "a".repeat(64)) + &".example".repeat(30);
        assert!(Email::parse(&long).is_err());
    }
}
