//! Credentials and tokens: password hashing, access JWTs, opaque refresh and
//! mail tokens. Primitives only: the account services
//! ([`crate::accounts`]) use them, the HTTP layer's `AuthUser` extractor
//! checks a request through those services.
//!
//! Nothing here logs a password, token or hash, and secret-bearing types
//! redact themselves in `Debug`.

pub mod jwt;
pub mod password;
pub mod tokens;
