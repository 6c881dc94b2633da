//! Throttling of failed authentication, kept in the database so every instance shares it.
//!
//! After `limit` failures for one key within 10 minutes, attempts are refused for a back-off that
//! doubles from 30 s up to 15 minutes. A success resets the account's count.

use sqlx::Row;

use crate::store::now;
use crate::users::AuthError;
use crate::Services;

pub const ACCOUNT_LIMIT: i64 = 10;
pub const ADDRESS_LIMIT: i64 = 50;
const WINDOW_SECS: i64 = 600;
const MAX_BACKOFF_SECS: i64 = 900;

/// Seconds of back-off once `failures` reached `limit`.
pub fn backoff_secs(failures: i64, limit: i64) -> i64 {
    let over = (failures - limit).clamp(0, 10) as u32;
    (30_i64 << over).min(MAX_BACKOFF_SECS)
}

impl Services {
    /// Refuses when any key is in its back-off window.
    pub async fn throttle_check(&self, keys: &[&str]) -> Result<(), AuthError> {
        let t = now();
        for key in keys {
            let row = sqlx::query("SELECT blocked_until FROM auth_failures WHERE key = $1")
                .bind(*key)
                .fetch_optional(&self.store.pool)
                .await
                .map_err(|e| AuthError::Domain(e.into()))?;
            if let Some(row) = row {
                let until: i64 = row.try_get("blocked_until").unwrap_or(0);
                if until > t {
                    return Err(AuthError::Throttled(until - t));
                }
            }
        }
        Ok(())
    }

    pub async fn throttle_failure(&self, key: &str, limit: i64) {
        let t = now();
        let current =
            sqlx::query("SELECT failures, window_start FROM auth_failures WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.store.pool)
                .await
                .ok()
                .flatten();
        let (failures, start) = match current {
            Some(r) => {
                let f: i64 = r.try_get("failures").unwrap_or(0);
                let s: i64 = r.try_get("window_start").unwrap_or(t);
                if t - s > WINDOW_SECS {
                    (1, t)
                } else {
                    (f + 1, s)
                }
            }
            None => (1, t),
        };
        let blocked_until = if failures >= limit {
            t + backoff_secs(failures, limit)
        } else {
            0
        };
        let res = sqlx::query(
            "INSERT INTO auth_failures (key, failures, window_start, blocked_until) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET failures = $2, window_start = $3, blocked_until = $4",
        )
        .bind(key)
        .bind(failures)
        .bind(start)
        .bind(blocked_until)
        .execute(&self.store.pool)
        .await;
        if let Err(e) = res {
            tracing::error!(error = %e, "cannot record an authentication failure");
        }
    }

    pub async fn throttle_success(&self, key: &str) {
        let _ = sqlx::query("DELETE FROM auth_failures WHERE key = $1")
            .bind(key)
            .execute(&self.store.pool)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_fifteen_minutes() {
        assert_eq!(backoff_secs(10, 10), 30);
        assert_eq!(backoff_secs(11, 10), 60);
        assert_eq!(backoff_secs(30, 10), 900);
    }
}
