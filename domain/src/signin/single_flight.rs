//! Identical concurrent attempts share one verification: a client starting 32 requests at once
//! with a cold cache pays one Argon2 run and one throttle count, not 32 (and does not lock
//! itself out with its own right secret).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// Runs at most one future per key at a time; callers with the same key meanwhile get its
/// result. A finished key is forgotten at once: later callers run afresh.
pub struct SingleFlight<K, V> {
    running: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        SingleFlight {
            running: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> SingleFlight<K, V> {
    /// The result of `f` for `key`, shared with every concurrent caller of the same key. If the
    /// caller running it goes away (its request was dropped), a waiting caller runs it.
    pub async fn run<F, Fut>(&self, key: K, f: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = match self.running.lock() {
            Ok(mut m) => m
                .entry(key.clone())
                .or_insert_with(|| Arc::new(OnceCell::new()))
                .clone(),
            // A poisoned map only loses the sharing, never the answer.
            Err(_) => Arc::new(OnceCell::new()),
        };
        let value = cell.get_or_init(f).await.clone();
        if let Ok(mut m) = self.running.lock() {
            if m.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                m.remove(&key);
            }
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_of_one_key_share_one_run() {
        let flight: Arc<SingleFlight<&'static str, usize>> = Arc::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (flight, runs, gate) = (flight.clone(), runs.clone(), gate.clone());
            tasks.push(tokio::spawn(async move {
                flight
                    .run("k", || async move {
                        gate.notified().await;
                        runs.fetch_add(1, Ordering::SeqCst) + 1
                    })
                    .await
            }));
        }
        // Every caller holds the one cell (the map's reference and 16 more) before the run may
        // finish.
        while flight
            .running
            .lock()
            .ok()
            .and_then(|m| m.get("k").map(Arc::strong_count))
            != Some(17)
        {
            tokio::task::yield_now().await;
        }
        gate.notify_one();
        for t in tasks {
            assert_eq!(t.await.ok(), Some(1));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Afterwards a new call runs again.
        let again = flight.run("k", || async { 7 }).await;
        assert_eq!(again, 7);
    }
}
