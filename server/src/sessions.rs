//! The tower-sessions store on Gatehouse's own database (SQLite or PostgreSQL through the domain's
//! pool), so sessions are shared by every instance. Session ids are stored only as SHA-256 hashes.
//! (tower-sessions-sqlx-store needs a backend-specific pool; ours is sqlx `Any`.)

use async_trait::async_trait;
use domain::tokens::sha256_hex;
use sqlx::Row;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    pool: sqlx::AnyPool,
}

impl DbSessionStore {
    pub fn new(pool: sqlx::AnyPool) -> Self {
        DbSessionStore { pool }
    }

    /// Deletes expired sessions; run now and then.
    pub async fn delete_expired(&self) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Err(e) = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await
        {
            tracing::warn!(error = %e, "cannot delete expired sessions; retrying later");
        }
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let data = serde_json::to_string(&record)
                .map_err(|e| session_store::Error::Encode(e.to_string()))?;
            let res =
                sqlx::query("INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3)")
                    .bind(sha256_hex(&record.id.to_string()))
                    .bind(data)
                    .bind(record.expiry_date.unix_timestamp())
                    .execute(&self.pool)
                    .await;
            match res {
                Ok(_) => return Ok(()),
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                    record.id = Id::default()
                }
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id_hash) DO UPDATE SET data = $2, expires_at = $3",
        )
        .bind(sha256_hex(&record.id.to_string()))
        .bind(data)
        .bind(record.expiry_date.unix_timestamp())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let row = sqlx::query("SELECT data FROM sessions WHERE id_hash = $1 AND expires_at > $2")
            .bind(sha256_hex(&id.to_string()))
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        match row {
            Some(r) => {
                let data: String = r.try_get("data").map_err(backend)?;
                Ok(Some(serde_json::from_str(&data).map_err(|e| {
                    session_store::Error::Decode(e.to_string())
                })?))
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(sha256_hex(&id.to_string()))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
