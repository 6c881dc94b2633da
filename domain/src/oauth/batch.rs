//! Group commit of issued tokens on SQLite. SQLite has one writer at a time: one transaction per
//! token made concurrent requests queue for the lock (and sleep in its busy handler), so the
//! token endpoint was slower than its peers. Here one task owns the writer connection and
//! INSERTs every token queued meanwhile in one transaction; each request is answered only after
//! the transaction holding its token has committed, so nothing acknowledged can be lost.
//! PostgreSQL takes concurrent writers well and inserts directly.

use sqlx::{Any, AnyPool};
use tokio::sync::{mpsc, oneshot};

/// One `tokens` row.
pub(crate) struct NewToken {
    pub token_hash: String,
    pub kind: &'static str,
    pub app_id: String,
    pub client_id: String,
    pub user_id: String,
    pub username: Option<String>,
    pub scope: String,
    pub jti: String,
    pub family: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub auth_time: Option<i64>,
}

const INSERT: &str = "INSERT INTO tokens (token_hash, kind, app_id, client_id, user_id, username, scope, jti, family_id, issued_at, expires_at, auth_time) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/// At most this many tokens per transaction (a bounded commit latency).
const MAX_BATCH: usize = 256;

type Job = (NewToken, oneshot::Sender<Result<(), String>>);

/// Where issued tokens are written.
#[derive(Clone)]
pub(crate) enum TokenWriter {
    Direct(AnyPool),
    Batched(mpsc::Sender<Job>),
}

impl TokenWriter {
    /// Batched on SQLite (`batched`), direct otherwise. Starts the batching task.
    pub(crate) fn new(pool: AnyPool, batched: bool) -> TokenWriter {
        if !batched {
            return TokenWriter::Direct(pool);
        }
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, rx));
        TokenWriter::Batched(tx)
    }

    /// Writes `t`; returns once it is committed. The error keeps the database's cause.
    pub(crate) async fn insert(&self, t: NewToken) -> Result<(), String> {
        match self {
            TokenWriter::Direct(pool) => {
                let started = std::time::Instant::now();
                let r = bind(sqlx::query(INSERT), &t)
                    .execute(pool)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                metrics::histogram!("gatehouse_db_query_duration_seconds", "query" => "token_insert")
                    .record(started.elapsed().as_secs_f64());
                r
            }
            TokenWriter::Batched(tx) => {
                let (done, answer) = oneshot::channel();
                tx.send((t, done))
                    .await
                    .map_err(|_| "the token writer has stopped".to_string())?;
                answer
                    .await
                    .map_err(|_| "the token writer has stopped".to_string())?
            }
        }
    }
}

fn bind<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    t: &'q NewToken,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    q.bind(t.token_hash.as_str())
        .bind(t.kind)
        .bind(t.app_id.as_str())
        .bind(t.client_id.as_str())
        .bind(t.user_id.as_str())
        .bind(t.username.as_deref())
        .bind(t.scope.as_str())
        .bind(t.jti.as_str())
        .bind(t.family.as_deref())
        .bind(t.issued_at)
        .bind(t.expires_at)
        .bind(t.auth_time)
}

/// The batching task: takes what is queued (waiting only for the first), writes it in one
/// transaction, answers everyone in it. Ends when every sender is gone.
async fn run(pool: AnyPool, mut rx: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let started = std::time::Instant::now();
        let outcome = write(&pool, &jobs).await;
        // One sample per transaction: the commit latency every token in the batch waited for.
        metrics::histogram!("gatehouse_db_query_duration_seconds", "query" => "token_batch_commit")
            .record(started.elapsed().as_secs_f64());
        for (i, (_, done)) in jobs.drain(..).enumerate() {
            let r = match &outcome {
                Ok(failed) => match failed.iter().find(|(j, _)| *j == i) {
                    Some((_, e)) => Err(e.clone()),
                    None => Ok(()),
                },
                Err(e) => Err(e.clone()),
            };
            let _ = done.send(r);
        }
    }
}

/// One transaction for the batch: `Ok` with the rows that failed on their own (the others are
/// committed), `Err` when the transaction itself failed (nothing is committed).
async fn write(pool: &AnyPool, jobs: &[Job]) -> Result<Vec<(usize, String)>, String> {
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    let mut failed = Vec::new();
    for (i, (row, _)) in jobs.iter().enumerate() {
        // A failed statement is rolled back alone; the transaction goes on.
        if let Err(e) = bind(sqlx::query(INSERT), row).execute(&mut *tx).await {
            failed.push((i, e.to_string()));
        }
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(failed)
}
