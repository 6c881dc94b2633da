//! The database behind one handle: SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! All SQL is portable: `$n` placeholders (SQLite accepts them too), TEXT and BIGINT columns only,
//! `ON CONFLICT` upserts. The backend is chosen from the `DATABASE_URL` scheme at start-up.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

use crate::clock::{now, now_ms};
use crate::error::DomainError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pub pool: AnyPool,
    /// Where the hot path writes (issued tokens and codes). On SQLite a pool of one connection:
    /// concurrent writers wait their turn in the pool's queue instead of in SQLite's busy
    /// handler, which sleeps (1, 2, 5 … 100 ms) and made the token endpoint's tail latency.
    /// On PostgreSQL the same pool as `pool`.
    pub writer: AnyPool,
    pub backend: Backend,
    /// When a write last failed (unix ms; 0: never). Connections opened before it are not
    /// handed out again: a connection that was opened read-only (a read-only file, a database
    /// in read-only mode) stays read-only, so the pool replaces them and recovers on its own
    /// once the fault is gone.
    fault_at_ms: Arc<AtomicI64>,
    /// The last probe failed: the next success marks the recovery too, so connections opened
    /// while the fault lasted are replaced as well.
    failing: Arc<std::sync::atomic::AtomicBool>,
    /// When the token writer last failed to write anything it was given (unix ms; 0: never).
    /// The probe alone can miss a full disk: a one-row update may still fit where a batch of
    /// new tokens does not.
    pub(crate) hot_write_failed_at_ms: Arc<AtomicI64>,
    instance: Arc<str>,
}

/// How long a failed token write keeps the instance not ready.
const HOT_WRITE_FAILURE_MS: i64 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreOpenError {
    #[error("DATABASE_URL must start with sqlite:// or postgres:// (got scheme {0:?})")]
    UnknownScheme(String),
    #[error("cannot open the database: {0}")]
    Connect(sqlx::Error),
    #[error("cannot apply the database migrations: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("the database is not writable: {0}")]
    NotWritable(sqlx::Error),
}

/// Puts a SQLite database in `auto_vacuum = INCREMENTAL`, so the pages of purged rows can be
/// returned to the file system (housekeeping does it). A database made before this setting takes
/// it through one `VACUUM` (a rewrite of the file, once); a new one at once.
async fn incremental_vacuum_mode(writer: &AnyPool) -> Result<(), sqlx::Error> {
    let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum")
        .fetch_one(writer)
        .await?;
    if mode != 2 {
        let mut conn = writer.acquire().await?;
        sqlx::query("PRAGMA auto_vacuum = INCREMENTAL")
            .execute(&mut *conn)
            .await?;
        tracing::info!("switching the SQLite database to incremental auto-vacuum (one VACUUM)");
        sqlx::query("VACUUM").execute(&mut *conn).await?;
    }
    Ok(())
}

/// Every SQLite connection's settings. WAL with `synchronous=NORMAL`: a commit appends to the WAL
/// without waiting for the disk. WAL checkpoints are `checkpoint_wal`'s work: a commit past
/// `wal_autocheckpoint` pages would copy the WAL into the database and wait for two fsyncs
/// before its requests are answered (most of the token endpoint's p99); the limit stays as a
/// backstop should the checkpointer stop. `journal_size_limit`: the first commit after the
/// WAL starts over trims its file to 32 MiB (twice what it holds between restarts), so the
/// file is reused without being truncated and grown again each time (which cost a third of
/// the token endpoint's rate) and a burst does not keep its disk space. A full disk can still
/// take small writes into that space: readiness watches the token writer too.
const SQLITE_PRAGMAS: &str =
    "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; \
     PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=16384; PRAGMA journal_size_limit=33554432;";

/// WAL pages (4 KiB) past which the checkpointer also restarts the WAL from its beginning.
const WAL_RESTART_PAGES: i64 = 4096;

/// The SQLite checkpointer. A passive checkpoint on its own connection, every 20 ms while
/// commits come, copies committed pages into the database beside the writer, never blocking
/// it. Under steady writes the WAL would still grow (a passive checkpoint never catches up with
/// a writer that never pauses), so past `WAL_RESTART_PAGES` `restart_wal` starts it over. Ends
/// when the store closes; a failure (a full disk) is logged once per change.
async fn checkpoint_wal(mut conn: sqlx::AnyConnection, writer: AnyPool) {
    let mut failing = false;
    let mut last = (0, 0);
    let mut pause = Duration::from_millis(250);
    while !writer.is_closed() {
        tokio::time::sleep(pause).await;
        let started = std::time::Instant::now();
        let mut r = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut conn)
            .await;
        if let Ok((_, log, done)) = r {
            // Every 20 ms while commits come, every 250 ms while none do.
            pause = Duration::from_millis(if (log, done) == last { 250 } else { 20 });
            last = (log, done);
            if log >= WAL_RESTART_PAGES {
                r = restart_wal(&writer).await;
            }
        }
        metrics::histogram!("gatehouse_db_query_duration_seconds", "query" => "wal_checkpoint")
            .record(started.elapsed().as_secs_f64());
        match r {
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
            }
            Ok(_) if failing => {
                failing = false;
                tracing::info!("WAL checkpoints work again");
            }
            _ => {}
        }
    }
}

/// A RESTART checkpoint: copies the pages written since the last pass, waits for readers of the
/// old WAL, and makes the next commit write the WAL from its beginning. It holds the write lock
/// meanwhile, so it runs on the writer connection, between two of the token writer's batches:
/// they wait their turn in the pool's queue, not in SQLite's busy handler (which sleeps 1, 2,
/// 5 … ms and would stretch a 2 ms checkpoint into a 10 ms stall). Readers are waited for 20 ms
/// at most (a long reader would otherwise hold every writer); the next pass tries again.
async fn restart_wal(writer: &AnyPool) -> Result<(i64, i64, i64), sqlx::Error> {
    let mut conn = writer.acquire().await?;
    conn.execute("PRAGMA busy_timeout=20").await?;
    let r = sqlx::query_as("PRAGMA wal_checkpoint(RESTART)")
        .fetch_one(&mut *conn)
        .await;
    if conn.execute("PRAGMA busy_timeout=10000").await.is_err() {
        // Never hand out a connection that gives up on a lock after 20 ms.
        conn.close_on_drop();
    }
    r
}

impl Store {
    /// Opens the pool, sets SQLite to WAL with a busy timeout, and applies the migrations.
    pub async fn open(url: &str) -> Result<Store, StoreOpenError> {
        sqlx::any::install_default_drivers();
        let scheme = url
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let (backend, url) = match scheme.as_str() {
            "sqlite" => {
                let url = if url.contains("mode=") || url.contains(":memory:") {
                    url.to_string()
                } else if url.contains('?') {
                    format!("{url}&mode=rwc")
                } else {
                    format!("{url}?mode=rwc")
                };
                (Backend::Sqlite, url)
            }
            "postgres" | "postgresql" => (Backend::Postgres, url.to_string()),
            other => return Err(StoreOpenError::UnknownScheme(other.to_string())),
        };
        let max = match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let fault_at_ms = Arc::new(AtomicI64::new(0));
        let fault = fault_at_ms.clone();
        let connect = |max: u32| {
            let fault = fault.clone();
            AnyPoolOptions::new()
                .max_connections(max)
                // A bounded wait: while the database is unreachable a request is answered (503)
                // within this, not after a long hang.
                .acquire_timeout(Duration::from_secs(3))
                .before_acquire(move |_conn, meta| {
                    let fault = fault.load(Ordering::Relaxed);
                    Box::pin(async move {
                        let opened_ms = now_ms() - meta.age.as_millis() as i64;
                        Ok(fault == 0 || opened_ms > fault)
                    })
                })
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            conn.execute(SQLITE_PRAGMAS).await?;
                        }
                        Ok(())
                    })
                })
                .connect(&url)
        };
        let pool = connect(max).await.map_err(StoreOpenError::Connect)?;
        // One set of migrations serves both backends: the SQL is portable (TEXT, BIGINT).
        sqlx::migrate!("../migrations")
            .run(&pool)
            .await
            .map_err(StoreOpenError::Migrate)?;
        let writer = match backend {
            Backend::Sqlite => connect(1).await.map_err(StoreOpenError::Connect)?,
            Backend::Postgres => pool.clone(),
        };
        let store = Store {
            pool,
            writer,
            backend,
            fault_at_ms,
            failing: Default::default(),
            hot_write_failed_at_ms: Default::default(),
            instance: crate::tokens::random_token(12).into(),
        };
        store
            .probe_write()
            .await
            .map_err(StoreOpenError::NotWritable)?;
        if backend == Backend::Sqlite {
            // Not fatal: the database works without it, only purged space stays in the file.
            if let Err(e) = incremental_vacuum_mode(&store.writer).await {
                tracing::warn!(error = %e, "could not switch SQLite to incremental auto-vacuum");
            }
            let checkpointer = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
                .await
                .map_err(StoreOpenError::Connect)?;
            tokio::spawn(checkpoint_wal(checkpointer, store.writer.clone()));
        }
        Ok(store)
    }

    /// Closes both pools (shutdown; tests simulate an outage with it).
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// `SELECT 1`, for readiness.
    /// Whether the database answers within a second (an error path asks: outage or bug?).
    pub async fn reachable(&self) -> bool {
        tokio::time::timeout(std::time::Duration::from_secs(1), self.ping())
            .await
            .unwrap_or(false)
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Whether the token writer failed in the last few seconds (readiness reports it).
    pub fn hot_write_failed_recently(&self) -> bool {
        let at = self.hot_write_failed_at_ms.load(Ordering::Relaxed);
        at != 0 && now_ms() - at < HOT_WRITE_FAILURE_MS
    }

    /// Writes this instance's probe row. A failure marks the pool's current connections for
    /// replacement (see `fault_at_ms`) and is returned with its cause.
    pub async fn probe_write(&self) -> Result<(), sqlx::Error> {
        let r = sqlx::query(
            "INSERT INTO write_probes (instance, at) VALUES ($1, $2) \
             ON CONFLICT (instance) DO UPDATE SET at = $2",
        )
        .bind(&*self.instance)
        .bind(now())
        .execute(&self.pool)
        .await;
        let failed = r.is_err();
        if failed || self.failing.swap(false, Ordering::Relaxed) {
            self.fault_at_ms.store(now_ms(), Ordering::Relaxed);
        }
        if failed {
            self.failing.store(true, Ordering::Relaxed);
        }
        r.map(|_| ())
    }
}

/// Turns a unique-constraint violation into the domain's duplicate error for `field`,
/// anything else into an internal error.
pub fn on_unique(
    field: &'static str,
    message: &'static str,
) -> impl FnOnce(sqlx::Error) -> DomainError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => DomainError::Duplicate {
            field: field.to_string(),
            message: message.to_string(),
        },
        _ => DomainError::from(e),
    }
}

/// Whether `e` is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

pub fn get_bool(row: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

impl Store {
    /// A transaction for an admin change. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a transaction that reads first and writes later would otherwise fail with
    /// `SQLITE_BUSY_SNAPSHOT` whenever another connection (the token writer) committed in
    /// between, instead of waiting its turn.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }
}

/// `rows` groups of `width` numbered placeholders for a multi-row `VALUES` list:
/// `($1, $2), ($3, $4)` for 2 × 2.
pub(crate) fn value_rows(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_rows_number_every_placeholder_once() {
        assert_eq!(value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(value_rows(1, 1), "($1)");
    }

    /// (busy, pages in the WAL, pages copied to the database) on a connection of its own.
    async fn wal_state(url: &str) -> (i64, i64, i64) {
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
            .await
            .expect("connect");
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut conn)
            .await
            .expect("state")
    }

    /// Writes far past `WAL_RESTART_PAGES` (but short of the commits' own backstop) are copied
    /// into the database and the WAL starts over, with no commit doing it: the checkpointer
    /// did. Without it the WAL would hold every page written.
    #[tokio::test]
    async fn the_checkpointer_copies_the_wal_and_starts_it_over() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.expect("store");
        sqlx::query("CREATE TABLE filler (n BIGINT, b TEXT)")
            .execute(&store.writer)
            .await
            .expect("table");
        let chunk = "x".repeat(1 << 20);
        for n in 0..(WAL_RESTART_PAGES / 256 + 8) {
            sqlx::query("INSERT INTO filler (n, b) VALUES ($1, $2)")
                .bind(n)
                .bind(&chunk)
                .execute(&store.writer)
                .await
                .expect("insert");
        }
        let mut state = (0, 0, 0);
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            sqlx::query("INSERT INTO filler (n, b) VALUES (-1, 'small')")
                .execute(&store.writer)
                .await
                .expect("insert");
            state = wal_state(&url).await;
            if state.1 < 64 {
                break;
            }
        }
        assert!(state.1 < 64, "the WAL started over: {state:?}");
        let in_file = std::fs::metadata(dir.path().join("t.db"))
            .expect("db")
            .len();
        assert!(
            in_file > (WAL_RESTART_PAGES as u64) * 4096,
            "copied into the database: {in_file} bytes"
        );
        store.close().await;
    }
}
