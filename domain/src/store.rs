//! The database behind one handle: SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! All SQL is portable: `$n` placeholders (SQLite accepts them too), TEXT and BIGINT columns only,
//! `ON CONFLICT` upserts. The backend is chosen from the `DATABASE_URL` scheme at start-up.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

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
    instance: Arc<str>,
}

fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

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
                .acquire_timeout(Duration::from_secs(10))
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
                            conn.execute("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;")
                                .await?;
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
        }
        Ok(store)
    }

    /// Closes both pools (shutdown; tests simulate an outage with it).
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// `SELECT 1`, for readiness.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
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

pub fn get_bool(row: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
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
