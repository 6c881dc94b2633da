//! Group commit of issued tokens. SQLite has one writer at a time: one transaction per token made
//! concurrent requests queue for the lock (and sleep in its busy handler), so the token endpoint
//! was slower than its peers. On PostgreSQL each token's transaction was a round trip and a
//! WAL flush of its own. Here one task INSERTs every token queued meanwhile in one statement;
//! each request is answered only after the statement holding its token has committed, so
//! nothing acknowledged can be lost. Each instance batches its own tokens: nothing is shared
//! between instances but the database.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use sqlx::{Any, AnyPool};

use crate::store::Backend;
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
    /// The resources (RFC 8707) it is for, space-separated; None: the app itself.
    pub resources: Option<String>,
    /// How the person signed in (`amr`, space-separated); None for a client's own token.
    pub amr: Option<String>,
    /// The client that acted, for a token from an exchange (RFC 8693).
    pub act: Option<String>,
    /// The DPoP key it is bound to (RFC 9449 `cnf.jkt`).
    pub jkt: Option<String>,
}

const INSERT: &str = "INSERT INTO tokens (token_hash, kind, app_id, client_id, user_id, username, scope, jti, family_id, issued_at, expires_at, auth_time, resources, amr, act, jkt) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
/// The same for a batch: its rows are a JSON array of arrays (`as_json_row`), one parameter.
const INSERT_JSON_SQLITE: &str = "INSERT INTO tokens (token_hash, kind, app_id, client_id, user_id, username, scope, jti, family_id, issued_at, expires_at, auth_time, resources, amr, act, jkt) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, value ->> 12, value ->> 13, value ->> 14, value ->> 15 \
     FROM json_each($1)";
/// PostgreSQL's `->>` yields text: the integer columns are cast back.
const INSERT_JSON_POSTGRES: &str = "INSERT INTO tokens (token_hash, kind, app_id, client_id, user_id, username, scope, jti, family_id, issued_at, expires_at, auth_time, resources, amr, act, jkt) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, \
            (value ->> 9)::BIGINT, (value ->> 10)::BIGINT, (value ->> 11)::BIGINT, value ->> 12, value ->> 13, value ->> 14, value ->> 15 \
     FROM json_array_elements($1::json)";

/// At most this many tokens per transaction (a bounded commit latency).
const MAX_BATCH: usize = 256;

type Job = (NewToken, oneshot::Sender<Result<(), String>>);

/// Where issued tokens are written: the queue of the batching task.
#[derive(Clone)]
pub(crate) struct TokenWriter(mpsc::Sender<Job>);

impl TokenWriter {
    /// Starts the batching task.
    /// A batch it could not write at all is noted in `failed_at_ms` (unix ms).
    pub(crate) fn new(
        pool: AnyPool,
        backend: Backend,
        failed_at_ms: Arc<AtomicI64>,
    ) -> TokenWriter {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        spawn_writer("token-writer", run(pool, backend, rx, failed_at_ms));
        TokenWriter(tx)
    }

    /// Writes `t`; returns once it is committed. The error keeps the database's cause.
    pub(crate) async fn insert(&self, t: NewToken) -> Result<(), String> {
        let (done, answer) = oneshot::channel();
        self.0
            .send((t, done))
            .await
            .map_err(|_| "the token writer has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the token writer has stopped".to_string())?
    }
}

/// Runs a batching task on a thread of its own: on the shared workers the task waited behind
/// every HTTP request for each round trip to the database, and that wait was most of a batch's
/// latency.
pub(crate) fn spawn_writer(
    name: &str,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(task),
                Err(e) => tracing::error!(error = %e, "cannot start a database writer"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, name, "cannot start a database writer thread");
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
        .bind(t.resources.as_deref())
        .bind(t.amr.as_deref())
        .bind(t.act.as_deref())
        .bind(t.jkt.as_deref())
}

/// The batching task: takes what is queued (waiting only for the first), writes it in one
/// transaction, answers everyone in it. Ends when every sender is gone.
async fn run(
    pool: AnyPool,
    backend: Backend,
    mut rx: mpsc::Receiver<Job>,
    failed_at_ms: Arc<AtomicI64>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let started = std::time::Instant::now();
        let outcome = write(&pool, backend, &jobs).await;
        let nothing_written = match &outcome {
            Ok(failed) => failed.len() == jobs.len(),
            Err(_) => true,
        };
        if nothing_written {
            failed_at_ms.store(crate::clock::now_ms(), Ordering::Relaxed);
        }
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

/// Writes the batch: `Ok` with the rows that failed on their own (the others are committed),
/// `Err` when nothing could be committed. The whole batch is one INSERT reading its rows from
/// one JSON parameter: one statement, prepared once, one round trip and one implicit
/// transaction, however many rows. Should it fail, the rows are written again one by one, so a
/// bad row fails alone: on SQLite in one transaction (a failed statement is rolled back alone),
/// on PostgreSQL each in its own (a failed statement aborts the transaction it is in).
async fn write(
    pool: &AnyPool,
    backend: Backend,
    jobs: &[Job],
) -> Result<Vec<(usize, String)>, String> {
    if jobs.len() > 1 {
        let rows: Vec<_> = jobs.iter().map(|(t, _)| as_json_row(t)).collect();
        let rows = serde_json::to_string(&rows).map_err(|e| e.to_string())?;
        let insert = match backend {
            Backend::Sqlite => INSERT_JSON_SQLITE,
            Backend::Postgres => INSERT_JSON_POSTGRES,
        };
        match sqlx::query(insert).bind(rows).execute(pool).await {
            Ok(_) => return Ok(Vec::new()),
            Err(e) => {
                tracing::debug!(error = %e, "a token batch failed; writing its rows one by one")
            }
        }
    }
    let mut failed = Vec::new();
    if backend == Backend::Postgres {
        for (i, (row, _)) in jobs.iter().enumerate() {
            if let Err(e) = bind(sqlx::query(INSERT), row).execute(pool).await {
                failed.push((i, e.to_string()));
            }
        }
        return Ok(failed);
    }
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    for (i, (row, _)) in jobs.iter().enumerate() {
        // A failed statement is rolled back alone; the transaction goes on.
        if let Err(e) = bind(sqlx::query(INSERT), row).execute(&mut *tx).await {
            failed.push((i, e.to_string()));
        }
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(failed)
}

/// A row as the JSON array `INSERT_JSON` reads, in column order.
type JsonRow<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    &'a str,
    Option<&'a str>,
    i64,
    i64,
    Option<i64>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

fn as_json_row(t: &NewToken) -> JsonRow<'_> {
    (
        &t.token_hash,
        t.kind,
        &t.app_id,
        &t.client_id,
        &t.user_id,
        t.username.as_deref(),
        &t.scope,
        &t.jti,
        t.family.as_deref(),
        t.issued_at,
        t.expires_at,
        t.auth_time,
        t.resources.as_deref(),
        t.amr.as_deref(),
        t.act.as_deref(),
        t.jkt.as_deref(),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sqlx::Row;

    fn token(i: usize, hash: &str) -> NewToken {
        NewToken {
            token_hash: hash.to_string(),
            kind: "access",
            app_id: "app-\"quoted\"".into(),
            client_id: "client".into(),
            user_id: format!("user-{i}"),
            username: i.is_multiple_of(2).then(|| format!("name {i} é")),
            scope: "a b".into(),
            jti: format!("jti-{i}"),
            family: None,
            issued_at: 1_000 + i as i64,
            expires_at: 2_000_000_000,
            auth_time: i.is_multiple_of(3).then_some(i as i64),
            resources: i
                .is_multiple_of(5)
                .then(|| "https://r.example/ https://s.example/".into()),
            amr: i.is_multiple_of(4).then(|| "pwd otp mfa".into()),
            act: i.is_multiple_of(7).then(|| "actor-client".into()),
            jkt: i.is_multiple_of(6).then(|| "thumbprint".into()),
        }
    }

    /// A fresh database: SQLite, or PostgreSQL when GATEHOUSE_TEST_POSTGRES names a server
    /// (`scripts/test-rust.sh` runs this module's tests there too).
    pub(crate) async fn fresh_store(dir: &std::path::Path) -> crate::store::Store {
        let url = match std::env::var("GATEHOUSE_TEST_POSTGRES") {
            Ok(base) => {
                sqlx::any::install_default_drivers();
                let name = format!("gh_batch_{}", crate::tokens::random_token(8).to_lowercase());
                let name: String = name
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let mut admin =
                    <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("{base}/postgres"))
                        .await
                        .expect("connect to test PostgreSQL");
                sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create database");
                format!("{base}/{name}")
            }
            Err(_) => format!("sqlite://{}", dir.join("t.db").display()),
        };
        crate::store::Store::open(&url).await.expect("store")
    }

    /// Concurrent tokens land in batches, every column as given (text with quotes and
    /// non-ASCII, NULLs, integers); a row that cannot be written (a duplicate hash) fails alone.
    #[tokio::test]
    async fn a_batch_writes_every_row_and_a_bad_row_fails_alone() {
        let dir = tempfile::tempdir().expect("dir");
        let store = fresh_store(dir.path()).await;
        let writer = TokenWriter::new(
            store.writer.clone(),
            store.backend,
            store.hot_write_failed_at_ms.clone(),
        );
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..200 {
            let w = writer.clone();
            // Row 7 reuses row 3's hash.
            let hash = if i == 7 {
                "hash-3".to_string()
            } else {
                format!("hash-{i}")
            };
            tasks.spawn(async move { (i, w.insert(token(i, &hash)).await) });
        }
        let mut failed = vec![];
        while let Some(r) = tasks.join_next().await {
            let (i, r) = r.expect("task");
            if r.is_err() {
                failed.push(i);
            }
        }
        assert!(
            failed == vec![7] || failed == vec![3],
            "only one of the two rows with the same hash fails: {failed:?}"
        );
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokens")
            .fetch_one(&store.pool)
            .await
            .expect("count");
        assert_eq!(n, 199);
        let row = sqlx::query("SELECT app_id, username, auth_time, issued_at, family_id FROM tokens WHERE token_hash = 'hash-12'")
            .fetch_one(&store.pool)
            .await
            .expect("row");
        assert_eq!(row.get::<String, _>(0), "app-\"quoted\"");
        assert_eq!(
            row.get::<Option<String>, _>(1).as_deref(),
            Some("name 12 é")
        );
        assert_eq!(row.get::<Option<i64>, _>(2), Some(12));
        assert_eq!(row.get::<i64, _>(3), 1_012);
        assert_eq!(row.get::<Option<String>, _>(4), None);
        let amr = |hash: &'static str| {
            let pool = store.pool.clone();
            async move {
                sqlx::query_scalar::<_, Option<String>>(
                    "SELECT amr FROM tokens WHERE token_hash = $1",
                )
                .bind(hash)
                .fetch_one(&pool)
                .await
                .expect("amr")
            }
        };
        assert_eq!(amr("hash-12").await.as_deref(), Some("pwd otp mfa"));
        assert_eq!(amr("hash-13").await, None);
        let row =
            sqlx::query("SELECT username, auth_time FROM tokens WHERE token_hash = 'hash-13'")
                .fetch_one(&store.pool)
                .await
                .expect("row");
        assert_eq!(row.get::<Option<String>, _>(0), None);
        assert_eq!(row.get::<Option<i64>, _>(1), None);
    }
}
