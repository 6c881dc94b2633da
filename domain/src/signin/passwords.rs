//! Argon2id hashing and verification in one bounded place (`Hasher`): at most `concurrency`
//! runs at once (19 MiB each), at most `queue` verifications waiting for one, and beyond that an
//! immediate `Busy` (the doors answer 503 with `Retry-After`) — never unbounded memory, and
//! legitimate sign-ins are not buried under a flood. Unknown names and users without a password
//! are verified against a dummy hash through the same queue, so they cost the same time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use tokio::sync::Semaphore;

use crate::error::{DomainError, Result};

/// The stored "password" of a user who has none (imported without a hash): no password
/// verifies against it. Not a PHC string, so it can never be mistaken for a hash.
pub const UNUSABLE: &str = "!unusable";

/// The Argon2 queue is full: try again in a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy;

/// How many Argon2 runs at once, and how many verifications may wait for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashLimits {
    pub concurrency: usize,
    pub queue: usize,
}

impl Default for HashLimits {
    /// As many runs as the machine has cores, and a queue of 32 per core (about half a second
    /// of work at 15-30 ms a run).
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        HashLimits {
            concurrency: cores,
            queue: 32 * cores,
        }
    }
}

/// The one place passwords and secrets are hashed and verified.
pub struct Hasher {
    permits: Semaphore,
    waiting: AtomicUsize,
    running: AtomicUsize,
    /// Argon2 runs so far (hashes and verifications).
    runs: AtomicUsize,
    queue: usize,
}

impl Hasher {
    pub fn new(limits: HashLimits) -> Hasher {
        Hasher {
            permits: Semaphore::new(limits.concurrency.max(1)),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            runs: AtomicUsize::new(0),
            queue: limits.queue,
        }
    }

    /// Runs `f` (Argon2) on a blocking thread once a permit is free. `bounded`: refuse at once
    /// when the queue is full (sign-in and client authentication); otherwise wait (an
    /// administrator setting a password).
    async fn run<T: Send + 'static>(
        &self,
        bounded: bool,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::result::Result<T, Busy> {
        let queued = self.waiting.fetch_add(1, Ordering::AcqRel);
        if bounded && queued >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let Ok(_permit) = permit else {
            return Err(Busy);
        };
        self.runs.fetch_add(1, Ordering::AcqRel);
        let running = self.running.fetch_add(1, Ordering::AcqRel) + 1;
        metrics::gauge!("gatehouse_password_hashes_in_flight").set(running as f64);
        let out = tokio::task::spawn_blocking(f).await;
        let running = self.running.fetch_sub(1, Ordering::AcqRel) - 1;
        metrics::gauge!("gatehouse_password_hashes_in_flight").set(running as f64);
        out.map_err(|_| Busy)
    }

    /// Whether a verification would be queued now rather than refused.
    pub fn has_room(&self) -> bool {
        self.waiting.load(Ordering::Acquire) < self.queue
    }

    /// Argon2 runs so far.
    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::Acquire)
    }

    /// Argon2 runs now (for tests and the metric).
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    /// Hashes with Argon2id and the crate's recommended parameters (m=19 MiB, t=2, p=1); waits
    /// for a permit rather than refusing (administrators setting passwords).
    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(false, move || hash_blocking(&password))
            .await
            .map_err(|_| DomainError::Internal("hashing task failed".into()))?
    }

    /// Verifies `password` against `hash`; with `None` (an unknown name) or the unusable marker
    /// it verifies against a dummy hash, so every answer takes the same time, and is false.
    pub async fn verify(
        &self,
        password: String,
        hash: Option<String>,
    ) -> std::result::Result<bool, Busy> {
        self.run(true, move || verify_blocking(&password, hash))
            .await
    }
}

pub fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::Internal(format!("password hashing failed: {e}")))
}

fn verify_blocking(password: &str, hash: Option<String>) -> bool {
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
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking("dummy password that never matches").unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG".into()
        })
    })
}

/// A hasher shared by the services (an `Arc`, so `Services` stays one pointer to clone).
pub type SharedHasher = Arc<Hasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let h = Hasher::new(HashLimits::default());
        let hash = h.hash("correct horse".into()).await.unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert_eq!(
            h.verify("correct horse".into(), Some(hash.clone())).await,
            Ok(true)
        );
        assert_eq!(h.verify("wrong horse".into(), Some(hash)).await, Ok(false));
        assert_eq!(
            h.verify("dummy password that never matches".into(), None)
                .await,
            Ok(false)
        );
        assert_eq!(
            h.verify(String::new(), Some(UNUSABLE.into())).await,
            Ok(false)
        );
        assert_eq!(
            h.verify(UNUSABLE.into(), Some(UNUSABLE.into())).await,
            Ok(false)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_queue_verification_is_refused_at_once_and_never_runs_more_than_allowed() {
        let h = Arc::new(Hasher::new(HashLimits {
            concurrency: 1,
            queue: 2,
        }));
        let hash = hash_blocking("pw").ok();
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let (h, hash) = (h.clone(), hash.clone());
            tasks.push(tokio::spawn(
                async move { h.verify("pw".into(), hash).await },
            ));
        }
        let mut ok = 0;
        let mut busy = 0;
        for t in tasks {
            match t.await {
                Ok(Ok(true)) => ok += 1,
                Ok(Err(Busy)) => busy += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        // One running and two waiting at most while the burst arrives: the rest are refused.
        assert!(ok >= 1 && busy >= 1, "ok {ok}, busy {busy}");
        assert_eq!(ok + busy, 12);
        assert_eq!(h.running(), 0);
    }
}
