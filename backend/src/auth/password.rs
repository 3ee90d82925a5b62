//! argon2id hashing, always on the blocking pool so the async workers keep
//! serving requests while a hash (tens of milliseconds, 19 MiB) is computed.

use std::sync::Arc;

use anyhow::Context as _;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::domain::Password;

/// OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

/// Longest password accepted at login; longer input fails without hashing.
pub const MAX_LOGIN_PASSWORD_BYTES: usize = 1024;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes and verifies passwords. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    /// Bounds the memory argon2 can take under a flood of logins.
    permits: Arc<Semaphore>,
    /// A real hash of a random password: unknown users are verified against
    /// it so the answer takes as long as for a real account.
    dummy_hash: Arc<String>,
}

impl PasswordHasher {
    pub async fn new(max_concurrent: usize) -> anyhow::Result<Self> {
        let random = SecretString::from(crate::auth::tokens::random_token(32));
        let dummy_hash = tokio::task::spawn_blocking(move || hash_blocking(random.expose_secret()))
            .await
            .context("hashing the dummy password")??;
        Ok(Self {
            permits: Arc::new(Semaphore::new(max_concurrent)),
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// PHC string of a new password.
    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let secret = SecretString::from(password.expose().to_owned());
        tokio::task::spawn_blocking(move || hash_blocking(secret.expose_secret()))
            .await
            .context("password hashing task")?
    }

    /// Checks `candidate` against `stored` (a PHC string), or against the
    /// dummy hash when there is no account, which always fails.
    pub async fn verify(
        &self,
        candidate: &SecretString,
        stored: Option<&str>,
    ) -> anyhow::Result<bool> {
        if candidate.expose_secret().len() > MAX_LOGIN_PASSWORD_BYTES {
            return Ok(false);
        }
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        // An account made through a provider has no password: its stored
        // value is NO_PASSWORD and nothing matches it (same work as a miss).
        let stored = stored.filter(|hash| *hash != NO_PASSWORD);
        let exists = stored.is_some();
        let stored = stored
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let candidate = candidate.clone();
        let matches = tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&stored)
                .map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
            Ok::<_, anyhow::Error>(
                argon2()
                    .verify_password(candidate.expose_secret().as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await
        .context("password verification task")??;
        Ok(exists && matches)
    }
}

/// The stored `password_hash` of an account without a password (made
/// through a provider): never matches anything.
pub const NO_PASSWORD: &str = "";

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let mut salt_bytes = [0u8; 16];
    getrandom::fill(&mut salt_bytes).map_err(|e| anyhow::anyhow!("OS randomness: {e}"))?;
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| anyhow::anyhow!("encoding salt: {e}"))?;
    let hash = argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Username;

    #[tokio::test]
    async fn hashes_with_the_documented_parameters_and_verifies() {
        let hasher = PasswordHasher::new(2).await.unwrap();
        let user = Username::parse("tester").unwrap();
        let password = Password::parse("a-long-and-odd-passphrase", &user).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let right = SecretString::from("a-long-and-odd-passphrase".to_owned());
        let wrong = SecretString::from("a-long-and-odd-passphrasE".to_owned());
        assert!(hasher.verify(&right, Some(&hash)).await.unwrap());
        assert!(!hasher.verify(&wrong, Some(&hash)).await.unwrap());
        // unknown account: never matches, even with the dummy's own secret
        assert!(!hasher.verify(&right, None).await.unwrap());
    }
}
