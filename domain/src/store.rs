//! The database behind one handle: SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! All SQL is portable: `$n` placeholders (SQLite accepts them too), TEXT and BIGINT columns only,
//! `ON CONFLICT` upserts. The backend is chosen from the `DATABASE_URL` scheme at start-up.

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
    pub backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreOpenError {
    #[error("DATABASE_URL must start with sqlite:// or postgres:// (got scheme {0:?})")]
    UnknownScheme(String),
    #[error("cannot open the database: {0}")]
    Connect(sqlx::Error),
    #[error("cannot apply the database migrations: {0}")]
    Migrate(sqlx::migrate::MigrateError),
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
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
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
            .await
            .map_err(StoreOpenError::Connect)?;
        // One set of migrations serves both backends: the SQL is portable (TEXT, BIGINT).
        sqlx::migrate!("../migrations")
            .run(&pool)
            .await
            .map_err(StoreOpenError::Migrate)?;
        Ok(Store { pool, backend })
    }

    /// `SELECT 1`, for readiness.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
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
            field,
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
