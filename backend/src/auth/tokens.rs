//! Opaque tokens: refresh tokens and the single-use tokens sent by mail.
//!
//! 256 bits from the OS generator, base64url without padding. Only their
//! SHA-256 is stored, so the database alone cannot be used to log in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// Bytes of randomness in a refresh or mail token (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// `len` random bytes, base64url-encoded.
pub fn random_token(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new 256-bit opaque token.
pub fn new_opaque_token() -> String {
    random_token(TOKEN_BYTES)
}

/// Hex SHA-256: the form stored in the database and used for look-ups.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Seals `successor` so only a holder of `token` can open it (see the
/// `refresh_tokens.successor_sealed` column). The key stream is
/// SHA-256(tag || token), which the database does not know: it keeps only
/// SHA-256(token).
pub fn seal_successor(token: &str, successor: &str) -> Option<String> {
    let plain = URL_SAFE_NO_PAD.decode(successor).ok()?;
    if plain.len() != TOKEN_BYTES {
        return None;
    }
    let key = successor_key(token);
    Some(hex::encode(
        plain
            .iter()
            .zip(key.iter())
            .map(|(a, b)| a ^ b)
            .collect::<Vec<u8>>(),
    ))
}

/// Opens what [`seal_successor`] produced, given the same `token`.
pub fn open_successor(token: &str, sealed: &str) -> Option<String> {
    let cipher = hex::decode(sealed).ok()?;
    if cipher.len() != TOKEN_BYTES {
        return None;
    }
    let key = successor_key(token);
    Some(
        URL_SAFE_NO_PAD.encode(
            cipher
                .iter()
                .zip(key.iter())
                .map(|(a, b)| a ^ b)
                .collect::<Vec<u8>>(),
        ),
    )
}

fn successor_key(token: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"cots refresh successor v1\0");
    hasher.update(token.as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let a = new_opaque_token();
        let b = new_opaque_token();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_eq!(hash_token(&a).len(), 64);
    }

    #[test]
    fn sealed_successor_opens_only_with_the_old_token() {
        let old = new_opaque_token();
        let next = new_opaque_token();
        let sealed = seal_successor(&old, &next).unwrap();
        assert_eq!(open_successor(&old, &sealed).unwrap(), next);
        assert_ne!(open_successor(&new_opaque_token(), &sealed).unwrap(), next);
        assert!(!sealed.contains(&next));
    }
}
