//! Tokens recently found valid, so that introspection and bearer calls repeating the same token
//! do not read the database each time (a resource server introspects the token of every call it
//! serves). `moka` keeps them for at most `CACHE_TTL`, bounded in number.
//!
//! Every revocation made on this instance bumps a generation and entries of an older one are
//! misses, so a revoked token is refused at once here. Revocations made on another instance
//! reach this one through PostgreSQL `NOTIFY` (`listen` in the server), also at once; while that
//! channel is down, or on SQLite shared by several processes, the bound is `CACHE_TTL`. Refresh
//! tokens are never kept (their use is a write).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::TokenInfo;
use crate::clients::CACHE_TTL;

/// The channel revocations are announced on (PostgreSQL).
pub const CHANNEL: &str = "gatehouse_revoked";

#[derive(Clone)]
pub struct SeenTokens {
    entries: moka::sync::Cache<[u8; 32], (Arc<TokenInfo>, u64)>,
    generation: Arc<AtomicU64>,
    /// Off while revocations from other instances cannot be heard (PostgreSQL without its
    /// listener): then every lookup reads the database.
    on: Arc<AtomicBool>,
}

impl Default for SeenTokens {
    fn default() -> Self {
        SeenTokens {
            entries: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(CACHE_TTL)
                .build(),
            generation: Default::default(),
            on: Arc::new(AtomicBool::new(true)),
        }
    }
}

impl SeenTokens {
    /// The generation to pass to `put` for a lookup starting now.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The token's info if it was found valid in the current generation and has not expired.
    pub(crate) fn get(&self, key: &[u8; 32], now: i64) -> Option<Arc<TokenInfo>> {
        if !self.on.load(Ordering::Acquire) {
            return None;
        }
        let (info, generation) = self.entries.get(key)?;
        (generation == self.generation() && info.exp > now).then_some(info)
    }

    /// Keeps what a lookup begun in `generation` found, unless something was revoked since.
    pub(crate) fn put(&self, key: [u8; 32], info: Arc<TokenInfo>, generation: u64) {
        if !info.is_refresh && generation == self.generation() && self.on.load(Ordering::Acquire) {
            self.entries.insert(key, (info, generation));
        }
    }

    /// Something was revoked (here or, announced, elsewhere): every entry is stale.
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
    }

    /// Turns the cache on (revocations elsewhere are heard) or off (they may not be).
    pub fn set_enabled(&self, on: bool) {
        self.invalidate_all();
        self.on.store(on, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(exp: i64, is_refresh: bool) -> Arc<TokenInfo> {
        Arc::new(TokenInfo {
            app_id: "a".into(),
            aud: vec!["a".into()],
            client_id: "c".into(),
            sub: "u".into(),
            username: None,
            scope: "s".into(),
            iat: 0,
            exp,
            jti: "j".into(),
            iss: "i".into(),
            is_refresh,
            amr: vec![],
            act: None,
            jkt: None,
        })
    }

    #[test]
    fn a_revocation_or_expiry_makes_entries_misses() {
        let c = SeenTokens::default();
        let g = c.generation();
        c.put([1; 32], info(100, false), g);
        assert!(c.get(&[1; 32], 50).is_some());
        assert!(c.get(&[1; 32], 100).is_none(), "expired");
        c.invalidate_all();
        assert!(c.get(&[1; 32], 50).is_none(), "revoked since");
        // A lookup that began before a revocation does not store what it read.
        let g = c.generation();
        c.invalidate_all();
        c.put([2; 32], info(100, false), g);
        assert!(c.get(&[2; 32], 50).is_none());
        // Refresh tokens are never kept; nothing is while the cache is off.
        c.put([3; 32], info(100, true), c.generation());
        assert!(c.get(&[3; 32], 50).is_none());
        c.set_enabled(false);
        c.put([4; 32], info(100, false), c.generation());
        assert!(c.get(&[4; 32], 50).is_none());
        c.set_enabled(true);
        c.put([4; 32], info(100, false), c.generation());
        assert!(c.get(&[4; 32], 50).is_some());
    }
}
