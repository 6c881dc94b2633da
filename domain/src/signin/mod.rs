//! How a person or a client proves who it is: passwords and secrets (Argon2id, bounded),
//! throttling of failed attempts, and sharing one verification among identical concurrent
//! attempts; second factors and passkeys; sign-in through upstream OpenID providers; password
//! reset and sign-up by e-mail.

pub mod factors;
pub mod passkeys;
pub mod passwords;
pub mod selfservice;
pub mod single_flight;
pub mod throttle;
pub mod upstream;

/// The key a sign-in attempt is shared under: who, with what secret, from where (SHA-256, so
/// the secret is not kept in memory as such).
pub(crate) fn attempt_key(login: &str, secret: &str, address: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [
        login.trim().to_lowercase().as_bytes(),
        secret.as_bytes(),
        address.as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// A sign-in's outcome in a form every sharer of the attempt can hold (errors as text).
#[derive(Clone, Debug)]
pub enum SharedOutcome<T> {
    Ok(T),
    Invalid,
    Throttled(i64),
    Busy,
    Failed(String),
}

impl<T> SharedOutcome<T> {
    pub(crate) fn of(r: Result<T, crate::error::AuthError>) -> Self {
        use crate::error::AuthError;
        match r {
            Ok(v) => SharedOutcome::Ok(v),
            Err(AuthError::InvalidCredentials) => SharedOutcome::Invalid,
            Err(AuthError::Throttled(s)) => SharedOutcome::Throttled(s),
            Err(AuthError::Busy) => SharedOutcome::Busy,
            Err(AuthError::Domain(e)) => SharedOutcome::Failed(e.to_string()),
        }
    }
    pub(crate) fn into_result(self) -> Result<T, crate::error::AuthError> {
        use crate::error::{AuthError, DomainError};
        match self {
            SharedOutcome::Ok(v) => Ok(v),
            SharedOutcome::Invalid => Err(AuthError::InvalidCredentials),
            SharedOutcome::Throttled(s) => Err(AuthError::Throttled(s)),
            SharedOutcome::Busy => Err(AuthError::Busy),
            SharedOutcome::Failed(e) => Err(AuthError::Domain(DomainError::Internal(e))),
        }
    }
}
