//! Throttling of authentication attempts, kept in the database so every instance shares it.
//!
//! Every attempt is counted *before* its secret is verified, in one atomic statement, so
//! concurrent attempts cannot overtake the limit: of any number of simultaneous guesses, at most
//! `limit` are verified within the window; the rest are refused with a back-off that doubles
//! from 30 s up to 15 minutes. A success resets the account's count.
//!
//! Blocks seen by this instance are mirrored in memory so the verified-secret cache (which skips
//! the database) still honours them: a right guess is refused while its account is locked.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sqlx::Row;

use crate::clock::now;
use crate::error::AuthError;
use crate::Services;

pub const ACCOUNT_LIMIT: i64 = 10;
pub const ADDRESS_LIMIT: i64 = 50;
const WINDOW_SECS: i64 = 600;
const MAX_BACKOFF_SECS: i64 = 900;
const MIRROR_MAX: usize = 100_000;

/// Seconds of back-off once `failures` reached `limit`.
pub fn backoff_secs(failures: i64, limit: i64) -> i64 {
    let over = (failures - limit).clamp(0, 10) as u32;
    (30_i64 << over).min(MAX_BACKOFF_SECS)
}

/// The throttle keys of one attempt: the account (if it is counted) and the client address.
///
/// People are counted per account (SPEC §6: ten failures lock the account wherever they come
/// from, which protects a person's password from a distributed guess). Confidential clients are
/// counted per (client, address) instead: a machine's secret is long and random, and a count per
/// client would let anyone lock it out from elsewhere. A failed `private_key_jwt` assertion
/// counts against the sending address only: a signature cannot be guessed, so its failures
/// protect nothing when counted against the client.
pub struct AttemptKeys {
    pub account: Option<String>,
    pub address: String,
}

impl AttemptKeys {
    /// A person signing in (hosted login, password grant).
    pub fn new(login: &str, client_addr: &str) -> Self {
        AttemptKeys {
            account: Some(format!("acct:{}", login.trim().to_lowercase())),
            address: format!("addr:{client_addr}"),
        }
    }
    /// A confidential client proving its secret from `client_addr`.
    pub fn client(login: &str, client_addr: &str) -> Self {
        AttemptKeys {
            account: Some(format!(
                "client:{}@{client_addr}",
                login.trim().to_lowercase()
            )),
            address: format!("addr:{client_addr}"),
        }
    }
    /// An attempt counted against its address alone (a client assertion).
    pub fn address(client_addr: &str) -> Self {
        AttemptKeys {
            account: None,
            address: format!("addr:{client_addr}"),
        }
    }
    fn keys(&self) -> impl Iterator<Item = &String> {
        self.account.iter().chain(std::iter::once(&self.address))
    }
}

/// Blocks this instance has seen, key → blocked until (unix seconds).
#[derive(Clone, Default)]
pub struct BlockMirror(Arc<RwLock<HashMap<String, i64>>>);

impl BlockMirror {
    fn set(&self, key: &str, until: i64) {
        if let Ok(mut m) = self.0.write() {
            if m.len() >= MIRROR_MAX {
                let t = now();
                m.retain(|_, u| *u > t);
                if m.len() >= MIRROR_MAX {
                    m.clear();
                }
            }
            m.insert(key.to_string(), until);
        }
    }
    fn clear(&self, key: &str) {
        if let Ok(mut m) = self.0.write() {
            m.remove(key);
        }
    }
    /// Seconds left of a block on any of the keys, as far as this instance knows.
    pub fn blocked(&self, keys: &AttemptKeys) -> Option<i64> {
        let t = now();
        let m = self.0.read().ok()?;
        keys.keys()
            .filter_map(|k| m.get(k.as_str()))
            .filter(|u| **u > t)
            .map(|u| u - t)
            .max()
    }
}

impl Services {
    /// Lifts the block on an account (a password reset from the command line). Other
    /// instances keep their mirror of the block until it expires.
    pub(crate) async fn lift_throttle(&self, login: &str) -> crate::Result<()> {
        let key = format!("acct:{}", login.trim().to_lowercase());
        sqlx::query("DELETE FROM auth_failures WHERE key = $1")
            .bind(&key)
            .execute(&self.store.pool)
            .await?;
        self.blocks.clear(&key);
        Ok(())
    }

    /// Counts one attempt on each key before the secret is verified. Refuses (without counting
    /// the address) when the account is already over its limit, or when the address is.
    pub async fn throttle_begin(&self, keys: &AttemptKeys) -> Result<(), AuthError> {
        if let Some(account) = &keys.account {
            self.throttle_count(account, ACCOUNT_LIMIT).await?;
        }
        self.throttle_count(&keys.address, ADDRESS_LIMIT).await
    }

    /// The secret verified: the account starts afresh and the address gets its attempt back.
    pub async fn throttle_succeeded(&self, keys: &AttemptKeys) -> Result<(), AuthError> {
        if let Some(account) = &keys.account {
            sqlx::query("DELETE FROM auth_failures WHERE key = $1")
                .bind(account)
                .execute(&self.store.pool)
                .await?;
            self.blocks.clear(account);
        }
        self.give_back(&keys.address).await
    }

    /// The attempt was counted but never verified (Argon2 was busy): each key gets it back.
    pub async fn throttle_unverified(&self, keys: &AttemptKeys) -> Result<(), AuthError> {
        for key in keys.keys() {
            self.give_back(key).await?;
        }
        Ok(())
    }

    async fn give_back(&self, key: &str) -> Result<(), AuthError> {
        sqlx::query(
            "UPDATE auth_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0",
        )
        .bind(key)
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }

    /// Re-reads the blocks of both keys from the database (another instance may have set them)
    /// and mirrors them; refuses when one is active.
    pub async fn throttle_check(&self, keys: &AttemptKeys) -> Result<(), AuthError> {
        let t = now();
        for key in keys.keys() {
            let row = sqlx::query("SELECT blocked_until FROM auth_failures WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.store.pool)
                .await?;
            if let Some(row) = row {
                let until: i64 = row.try_get("blocked_until")?;
                if until > t {
                    self.blocks.set(key, until);
                    return Err(AuthError::Throttled(until - t));
                }
            }
        }
        Ok(())
    }

    /// Counts an attempt and, when the count reaches the limit, starts the block — in one
    /// statement, so concurrent attempts see each other. While a block is active the statement
    /// changes nothing and returns no row: the attempt is refused and not counted.
    async fn throttle_count(&self, key: &str, limit: i64) -> Result<(), AuthError> {
        let t = now();
        let counted = sqlx::query(&COUNT_SQL)
            .bind(key)
            .bind(t)
            .bind(t - WINDOW_SECS)
            .bind(limit)
            .fetch_optional(&self.store.pool)
            .await?;
        match counted {
            Some(row) => {
                let until: i64 = row.try_get("blocked_until")?;
                if until > t {
                    // This attempt is the last one allowed before the back-off; a success of
                    // this very attempt lifts the block again.
                    self.blocks.set(key, until);
                }
                Ok(())
            }
            None => {
                // (The row may just have been reset by a success: then a second's wait.)
                let until: i64 =
                    sqlx::query("SELECT blocked_until FROM auth_failures WHERE key = $1")
                        .bind(key)
                        .fetch_optional(&self.store.pool)
                        .await?
                        .map(|r| r.try_get("blocked_until"))
                        .transpose()?
                        .unwrap_or(t + 1);
                self.blocks.set(key, until);
                Err(AuthError::Throttled((until - t).max(1)))
            }
        }
    }
}

/// `$1` key, `$2` now, `$3` start of the current window, `$4` limit. The back-off table is
/// generated from `backoff_secs` so the two cannot drift.
static COUNT_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let steps: String = (0..=10)
        .map(|over| format!(" WHEN {over} THEN {}", backoff_secs(over, 0)))
        .collect();
    let new_count = "auth_failures.failures + 1";
    format!(
        "INSERT INTO auth_failures (key, failures, window_start, blocked_until) VALUES ($1, 1, $2, 0) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN auth_failures.window_start < $3 THEN 1 ELSE {new_count} END, \
           window_start = CASE WHEN auth_failures.window_start < $3 THEN $2 ELSE auth_failures.window_start END, \
           blocked_until = CASE WHEN auth_failures.window_start < $3 OR {new_count} < $4 THEN 0 \
             ELSE $2 + CASE {new_count} - $4{steps} ELSE {max} END END \
         WHERE auth_failures.blocked_until <= $2 \
         RETURNING failures, blocked_until",
        max = MAX_BACKOFF_SECS
    )
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_fifteen_minutes() {
        assert_eq!(backoff_secs(10, 10), 30);
        assert_eq!(backoff_secs(11, 10), 60);
        assert_eq!(backoff_secs(30, 10), 900);
    }

    #[test]
    fn the_mirror_reports_the_longest_active_block() {
        let m = BlockMirror::default();
        let keys = AttemptKeys::new(" Alice ", "10.0.0.1");
        assert_eq!(keys.account.as_deref(), Some("acct:alice"));
        assert_eq!(
            AttemptKeys::client("Robot", "10.0.0.2").account.as_deref(),
            Some("client:robot@10.0.0.2"),
            "a client is counted per address, never everywhere"
        );
        assert_eq!(AttemptKeys::address("10.0.0.3").account, None);
        assert_eq!(m.blocked(&keys), None);
        m.set("addr:10.0.0.1", now() + 100);
        m.set("acct:alice", now() - 1);
        assert!(m.blocked(&keys).is_some_and(|s| (99..=100).contains(&s)));
        m.clear("addr:10.0.0.1");
        assert_eq!(m.blocked(&keys), None);
    }
}
