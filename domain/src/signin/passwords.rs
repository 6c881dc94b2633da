//! Argon2id hashing and verification in one bounded place (`Hasher`): a fixed set of worker
//! threads (as many as the machine has cores, or as configured), each verifying in one memory
//! area of its own that it keeps and reuses (19 MiB), at most `queue` verifications waiting for
//! them, and beyond that an immediate `Busy` (the doors answer 503 with `Retry-After`) — memory
//! stays bounded whatever the load, and legitimate sign-ins are not buried under a flood. Unknown
//! names and users without a password are verified against a dummy hash through the same queue,
//! so they cost the same time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
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
    /// One run fewer than the machine has cores (at least one): a core stays free for the
    /// requests that need no Argon2 (tokens of clients already proven, introspection), which
    /// would otherwise queue behind a flood of guesses. A queue of 32 per core.
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        HashLimits {
            concurrency: cores.saturating_sub(1).max(1),
            queue: 32 * cores,
        }
    }
}

/// A piece of Argon2 work for a worker, with the worker's reusable memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The one place passwords and secrets are hashed and verified.
pub struct Hasher {
    permits: Semaphore,
    waiting: AtomicUsize,
    running: AtomicUsize,
    /// Argon2 runs so far (hashes and verifications).
    runs: AtomicUsize,
    queue: usize,
    /// The workers' queue; a permit is held for every job in it, so it never holds more jobs
    /// than there are workers.
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl Hasher {
    /// Starts `limits.concurrency` worker threads; they end when the hasher is dropped.
    pub fn new(limits: HashLimits) -> Hasher {
        let workers = limits.concurrency.max(1);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    // This worker's Argon2 memory, allocated once and reused by every run.
                    let mut blocks: Vec<Block> = Vec::new();
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut blocks),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start an Argon2 worker");
            }
        }
        Hasher {
            permits: Semaphore::new(workers),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            runs: AtomicUsize::new(0),
            queue: limits.queue,
            jobs: Mutex::new(tx),
        }
    }

    /// Runs `f` (Argon2) on a worker once a permit is free. `bounded`: refuse at once when the
    /// queue is full (sign-in and client authentication); otherwise wait (an administrator
    /// setting a password).
    async fn run<T: Send + 'static>(
        &self,
        bounded: bool,
        f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
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
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sent = self.jobs.lock().map_err(|_| Busy).and_then(|jobs| {
            jobs.send(Box::new(move |blocks: &mut Vec<Block>| {
                let _ = tx.send(f(blocks));
            }))
            .map_err(|_| Busy)
        });
        let out = match sent {
            Ok(()) => rx.await.map_err(|_| Busy),
            Err(b) => Err(b),
        };
        let running = self.running.fetch_sub(1, Ordering::AcqRel) - 1;
        metrics::gauge!("gatehouse_password_hashes_in_flight").set(running as f64);
        out
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
        self.run(false, move |_| hash_blocking(&password))
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
        self.run(true, move |blocks| verify_blocking(&password, hash, blocks))
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

/// Verifies `password` against the PHC string `hash` (or the dummy hash, answering false) in
/// `blocks`, the worker's own memory: no 19 MiB allocation per run.
fn verify_blocking(password: &str, hash: Option<String>, blocks: &mut Vec<Block>) -> bool {
    let hash = hash.and_then(|h| PasswordHash::new(&h).is_ok().then_some(h));
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
    let ok = verify_in(password.as_bytes(), &hash, blocks).unwrap_or(false);
    ok && known
}

/// What `PasswordVerifier::verify_password` does, with the memory given.
fn verify_in(password: &[u8], hash: &str, blocks: &mut Vec<Block>) -> Option<bool> {
    let parsed = PasswordHash::new(hash).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let needed = params.block_count();
    // A stored hash asking for more than 64 MiB (an imported one) is refused, not run: every
    // worker keeps the memory it grew to.
    if needed > 64 * 1024 {
        return None;
    }
    if blocks.len() < needed {
        blocks.resize(needed, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut blocks[..needed])
        .ok()?;
    Some(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
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
