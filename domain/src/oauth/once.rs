//! Identifiers that may be used once on every instance: the `jti` of a client assertion
//! (RFC 7523) and of a DPoP proof (RFC 9449). The first instance to store one wins; any later
//! use is a replay. Stored in `client_assertions` until they could no longer be accepted anyway
//! (their lifetime or window has passed), purged by housekeeping.
//!
//! Written by a batching task like issued tokens (`batch`): a DPoP-bound token request stores
//! one id per request, and one INSERT per request would serialise them on SQLite's single
//! writer. One statement stores every id queued meanwhile and returns those it stored
//! (`ON CONFLICT DO NOTHING RETURNING`), so each request learns whether its id was new.

use std::collections::HashSet;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::store::Backend;

const INSERT: &str = "INSERT INTO client_assertions (jti_hash, expires_at) VALUES ($1, $2) ON CONFLICT (jti_hash) DO NOTHING";
/// SQLite needs the `WHERE true` to read `ON CONFLICT` as the upsert clause, not a join's.
const INSERT_JSON_SQLITE: &str = "INSERT INTO client_assertions (jti_hash, expires_at) \
     SELECT value ->> 0, value ->> 1 FROM json_each($1) WHERE true \
     ON CONFLICT (jti_hash) DO NOTHING RETURNING jti_hash";
const INSERT_JSON_POSTGRES: &str = "INSERT INTO client_assertions (jti_hash, expires_at) \
     SELECT value ->> 0, (value ->> 1)::BIGINT FROM json_array_elements($1::json) \
     ON CONFLICT (jti_hash) DO NOTHING RETURNING jti_hash";

const MAX_BATCH: usize = 256;

/// An id (its hash) and until when it must be remembered.
type Job = ((String, i64), oneshot::Sender<Result<bool, String>>);

/// The queue of the batching task.
#[derive(Clone)]
pub(crate) struct OnceWriter(mpsc::Sender<Job>);

impl OnceWriter {
    pub(crate) fn new(pool: AnyPool, backend: Backend) -> OnceWriter {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        super::batch::spawn_writer("once-writer", run(pool, backend, rx));
        OnceWriter(tx)
    }

    /// Stores `hash` until `expires_at`: `true` when it was new (first use), `false` when it
    /// was stored before (a replay).
    pub(crate) async fn first_use(&self, hash: String, expires_at: i64) -> Result<bool, String> {
        let (done, answer) = oneshot::channel();
        let stopped = || "the one-time id writer has stopped".to_string();
        self.0
            .send(((hash, expires_at), done))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(pool: AnyPool, backend: Backend, mut rx: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let started = std::time::Instant::now();
        let outcome = write(&pool, backend, &jobs).await;
        metrics::histogram!("gatehouse_db_query_duration_seconds", "query" => "once_batch_commit")
            .record(started.elapsed().as_secs_f64());
        for (i, (_, done)) in jobs.drain(..).enumerate() {
            let _ = done.send(outcome.as_ref().map(|new| new[i]).map_err(Clone::clone));
        }
    }
}

/// Stores the batch; for each job, whether its id was new. The same id twice in one batch is
/// new only the first time.
async fn write(pool: &AnyPool, backend: Backend, jobs: &[Job]) -> Result<Vec<bool>, String> {
    if let [((hash, exp), _)] = jobs {
        let stored = sqlx::query(INSERT)
            .bind(hash.as_str())
            .bind(*exp)
            .execute(pool)
            .await
            .map_err(|e| e.to_string())?
            .rows_affected();
        return Ok(vec![stored == 1]);
    }
    let mut seen = HashSet::with_capacity(jobs.len());
    let firsts: Vec<bool> = jobs.iter().map(|((h, _), _)| seen.insert(h)).collect();
    let rows: Vec<(&str, i64)> = jobs
        .iter()
        .zip(&firsts)
        .filter(|(_, first)| **first)
        .map(|(((h, exp), _), _)| (h.as_str(), *exp))
        .collect();
    let rows = serde_json::to_string(&rows).map_err(|e| e.to_string())?;
    let insert = match backend {
        Backend::Sqlite => INSERT_JSON_SQLITE,
        Backend::Postgres => INSERT_JSON_POSTGRES,
    };
    let stored: HashSet<String> = sqlx::query_scalar::<_, String>(insert)
        .bind(rows)
        .fetch_all(pool)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    Ok(jobs
        .iter()
        .zip(firsts)
        .map(|(((h, _), _), first)| first && stored.contains(h))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many concurrent ids, some repeated (within a batch and across batches): each id is new
    /// exactly once, and every one is stored.
    #[tokio::test]
    async fn each_id_is_new_exactly_once() {
        let dir = tempfile::tempdir().expect("dir");
        let store = super::super::batch::tests::fresh_store(dir.path()).await;
        let writer = OnceWriter::new(store.writer.clone(), store.backend);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..600 {
            let w = writer.clone();
            // 200 distinct ids, each sent three times.
            tasks.spawn(async move { (i % 200, w.first_use(format!("id-{}", i % 200), 99).await) });
        }
        let mut new = [0u32; 200];
        while let Some(r) = tasks.join_next().await {
            let (id, r) = r.expect("task");
            if r.expect("stored") {
                new[id] += 1;
            }
        }
        assert!(new.iter().all(|n| *n == 1), "{new:?}");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM client_assertions")
            .fetch_one(&store.pool)
            .await
            .expect("count");
        assert_eq!(n, 200);
        assert!(!writer.first_use("id-7".into(), 99).await.expect("again"));
    }
}
