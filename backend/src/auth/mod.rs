//! Credentials and tokens: password hashing, access JWTs, opaque refresh and
//! mail tokens, and the extractor that authenticates a request.
//!
//! Nothing here logs a password, token or hash, and secret-bearing types
//! redact themselves in `Debug`.

pub mod extractor;
pub mod jwt;
pub mod password;
pub mod tokens;

pub use extractor::AuthUser;
