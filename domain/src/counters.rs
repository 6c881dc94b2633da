//! `gatehouse_cache_lookups_total{cache, result}`: counted on every token request, introspection
//! and bearer call, so each series' handle is taken once (no label key built or looked up in the
//! recorder per request) — once the process's recorder is live: a handle taken before is a no-op
//! for good.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// The in-memory caches whose lookups are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cache {
    App = 0,
    ClientSecret = 1,
    Token = 2,
    RegisteredClient = 3,
}

impl Cache {
    fn label(self) -> &'static str {
        match self {
            Cache::App => "app",
            Cache::ClientSecret => "client_secret",
            Cache::Token => "token",
            Cache::RegisteredClient => "registered_client",
        }
    }
}

static RECORDER_LIVE: AtomicBool = AtomicBool::new(false);
static HANDLES: [OnceLock<metrics::Counter>; 8] = [const { OnceLock::new() }; 8];

/// The server installed the process's metrics recorder (it is never uninstalled).
pub fn recorder_installed() {
    RECORDER_LIVE.store(true, Ordering::Release);
}

/// Whether `recorder_installed` was called.
pub fn recorder_live() -> bool {
    RECORDER_LIVE.load(Ordering::Acquire)
}

/// One lookup of `cache`, a hit or a miss.
pub fn cache_lookup(cache: Cache, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    let make = || metrics::counter!("gatehouse_cache_lookups_total", "cache" => cache.label(), "result" => result);
    if !recorder_live() {
        make().increment(1);
        return;
    }
    HANDLES[cache as usize * 2 + usize::from(hit)]
        .get_or_init(make)
        .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each (cache, result) pair counts in its own series under its labels. (The cached handles
    /// are used once the server's recorder is live; the metrics integration test reads them.)
    #[test]
    fn each_cache_and_result_has_its_own_series() {
        let recorder = metrics_util::debugging::DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || {
            for (cache, hits, misses) in [
                (Cache::App, 3, 1),
                (Cache::ClientSecret, 0, 2),
                (Cache::Token, 5, 0),
            ] {
                for _ in 0..hits {
                    cache_lookup(cache, true);
                }
                for _ in 0..misses {
                    cache_lookup(cache, false);
                }
            }
        });
        let mut seen: Vec<(String, String, u64)> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter_map(|(key, _, _, value)| {
                let labels: Vec<String> =
                    key.key().labels().map(|l| l.value().to_string()).collect();
                match value {
                    metrics_util::debugging::DebugValue::Counter(n) => {
                        Some((labels[0].clone(), labels[1].clone(), n))
                    }
                    _ => None,
                }
            })
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            vec![
                ("app".into(), "hit".into(), 3),
                ("app".into(), "miss".into(), 1),
                ("client_secret".into(), "miss".into(), 2),
                ("token".into(), "hit".into(), 5),
            ]
        );
    }
}
