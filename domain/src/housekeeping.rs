//! Housekeeping: expired rows are deleted in small batches so tokens, codes, revoked JTIs,
//! family revocations, throttling counters and long-retired signing keys do not grow for ever.
//!
//! Every instance runs it. Each batch deletes rows chosen by key (`… WHERE key IN (SELECT key
//! … LIMIT n)`), so two instances purging at once only find fewer rows; on PostgreSQL the batch
//! skips rows another instance has locked, so they never wait on each other.

use crate::clock::now;
use crate::store::Backend;
use crate::Services;

/// Rows deleted per statement: small enough not to hold the SQLite writer for long.
pub const BATCH: i64 = 500;
/// Authorization codes are kept this long after they expire, so a replay is still recognised
/// as one (and revokes what the first exchange issued).
const CODE_GRACE_SECS: i64 = 3600;
/// A refresh family's revocation is kept a year past the revocation (longer than any access
/// token may live) and while any of its refresh tokens is still stored.
const FAMILY_REVOCATION_KEEP_SECS: i64 = 31_536_000;
/// Retired signing keys are deleted a day after they stopped being published.
const KEY_GRACE_SECS: i64 = 86_400;

/// What one purge deleted, table by table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub tokens: u64,
    pub auth_codes: u64,
    pub revoked_jtis: u64,
    pub revocations: u64,
    pub auth_failures: u64,
    pub signing_keys: u64,
    pub client_assertions: u64,
    /// Self-registered clients unused for longer than the registration idle time.
    pub registered_clients: u64,
    pub initial_access_tokens: u64,
    /// WebAuthn ceremonies begun and never finished.
    pub webauthn_ceremonies: u64,
    /// Device codes expired (RFC 8628).
    pub device_codes: u64,
    /// Pushed authorization requests expired (RFC 9126).
    pub pushed_requests: u64,
    /// Some table still had expired rows when its batches ran out: run again soon.
    pub more_left: bool,
    /// SQLite pages given back to the file system afterwards (incremental vacuum).
    pub pages_freed: u64,
}

impl PurgeReport {
    pub fn total(&self) -> u64 {
        self.tokens
            + self.auth_codes
            + self.revoked_jtis
            + self.revocations
            + self.auth_failures
            + self.signing_keys
            + self.client_assertions
            + self.registered_clients
            + self.initial_access_tokens
            + self.webauthn_ceremonies
            + self.device_codes
            + self.pushed_requests
    }
}

impl Services {
    /// Deletes what has expired as of now, in batches, until nothing is left (or `max_batches`
    /// batches per table ran).
    pub async fn purge_expired(&self, max_batches: u32) -> crate::Result<PurgeReport> {
        let t = now();
        let skip = match self.store.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let stmt = |table: &str, key: &str, cond: &str| {
            format!(
                "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {cond} LIMIT {BATCH}{skip})"
            )
        };
        let failures_window = 600;
        let work = [
            (stmt("tokens", "token_hash", "expires_at < $1"), t),
            (
                stmt("auth_codes", "code_hash", "expires_at < $1"),
                t - CODE_GRACE_SECS,
            ),
            (stmt("revoked_jtis", "jti", "expires_at < $1"), t),
            (
                stmt(
                    "revocations",
                    "subject",
                    "subject LIKE 'family:%' AND revoked_before < $1 AND NOT EXISTS \
                     (SELECT 1 FROM tokens k WHERE 'family:' || k.family_id = revocations.subject)",
                ),
                t - FAMILY_REVOCATION_KEEP_SECS,
            ),
            (
                stmt(
                    "auth_failures",
                    "key",
                    &format!("window_start < $1 - {failures_window} AND blocked_until < $1"),
                ),
                t,
            ),
            (
                stmt(
                    "signing_keys",
                    "kid",
                    "retired_at IS NOT NULL AND publish_until IS NOT NULL AND publish_until < $1",
                ),
                t - KEY_GRACE_SECS,
            ),
            (stmt("client_assertions", "jti_hash", "expires_at < $1"), t),
            (
                stmt(
                    "app_clients",
                    "client_id",
                    &format!(
                        "created_by = '{}' AND COALESCE(last_used_at, created_at) < $1",
                        crate::registration::SELF_REGISTERED
                    ),
                ),
                t - self.registration_idle_secs(),
            ),
            (
                stmt("initial_access_tokens", "token_hash", "expires_at < $1"),
                t,
            ),
            (stmt("webauthn_ceremonies", "id_hash", "expires_at < $1"), t),
            (
                stmt("device_codes", "device_code_hash", "expires_at < $1"),
                t,
            ),
            (
                stmt("pushed_requests", "request_uri_hash", "expires_at < $1"),
                t,
            ),
        ];
        let mut counts = [0u64; 12];
        for (i, (sql, bound)) in work.iter().enumerate() {
            for _ in 0..max_batches {
                let n = sqlx::query(sql)
                    .bind(bound)
                    .execute(&self.store.pool)
                    .await?
                    .rows_affected();
                counts[i] += n;
                if n < BATCH as u64 {
                    break;
                }
            }
        }
        self.purge_activity().await?;
        let more_left = counts
            .iter()
            .any(|c| *c >= u64::from(max_batches) * BATCH as u64);
        let pages_freed = if counts.iter().any(|c| *c > 0) {
            self.reclaim_space().await?
        } else {
            0
        };
        let [tokens, auth_codes, revoked_jtis, revocations, auth_failures, signing_keys, client_assertions, registered_clients, initial_access_tokens, webauthn_ceremonies, device_codes, pushed_requests] =
            counts;
        Ok(PurgeReport {
            more_left,
            pages_freed,
            tokens,
            auth_codes,
            revoked_jtis,
            revocations,
            auth_failures,
            signing_keys,
            client_assertions,
            registered_clients,
            initial_access_tokens,
            webauthn_ceremonies,
            device_codes,
            pushed_requests,
        })
    }

    /// SQLite keeps deleted rows' pages in the file; with `auto_vacuum = INCREMENTAL` (set when
    /// the store opens) they are handed back here, a bounded number per step so the writer is
    /// never held for long, and the WAL is truncated afterwards. PostgreSQL's autovacuum does
    /// this on its own.
    async fn reclaim_space(&self) -> crate::Result<u64> {
        if self.store.backend != Backend::Sqlite {
            return Ok(0);
        }
        let mut freed = 0u64;
        for _ in 0..10_000 {
            let free: i64 = sqlx::query_scalar("PRAGMA freelist_count")
                .fetch_one(&self.store.writer)
                .await?;
            if free <= 0 {
                break;
            }
            sqlx::query("PRAGMA incremental_vacuum(2000)")
                .execute(&self.store.writer)
                .await?;
            freed += free.min(2000) as u64;
        }
        if freed > 0 {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.store.writer)
                .await?;
        }
        Ok(freed)
    }
}
