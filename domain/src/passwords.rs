//! Argon2id hashing and verification, off the async threads, with a dummy hash for unknown users.

use std::sync::OnceLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::error::{DomainError, Result};

/// Hashes with Argon2id and the crate's recommended parameters (m=19 MiB, t=2, p=1).
pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| DomainError::Internal(format!("hashing task failed: {e}")))?
}

pub fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::Internal(format!("password hashing failed: {e}")))
}

/// The stored "password" of a user who has none (imported without a hash): no password
/// verifies against it. Not a PHC string, so it can never be mistaken for a hash.
pub const UNUSABLE: &str = "!unusable";

/// Verifies `password` against `hash`; with `None` (or the unusable marker) it verifies against
/// a dummy hash so that an unknown login name or a user without a password costs the same time
/// as a wrong password, and answers false.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let hash = hash.and_then(|h| PasswordHash::new(&h).is_ok().then_some(h));
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && known
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking("dummy password that never matches").unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG".into()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash("correct horse".into()).await.unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), Some(h.clone())).await);
        assert!(!verify("wrong horse".into(), Some(h)).await);
        assert!(!verify("dummy password that never matches".into(), None).await);
        assert!(!verify(String::new(), Some(UNUSABLE.into())).await);
        assert!(!verify(UNUSABLE.into(), Some(UNUSABLE.into())).await);
    }
}
