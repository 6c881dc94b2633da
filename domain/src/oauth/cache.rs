//! Apps as the endpoints and the admin API's reads need them, with their compiled scope
//! regexes: invalidated at once by a change here or (PostgreSQL) announced by another instance,
//! and re-read after `CACHE_TTL` in any case.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::apps::App;
use crate::clients::CACHE_TTL;
use crate::error::OAuthError;
use crate::scopes::ScopeMatcher;
use crate::Services;

/// Apps by id, each with its compiled scopes and when it was read, and a generation that every
/// change bumps: a read that started before a change never stores what it read, so a change made
/// on this instance is seen at once (an admin reads back what it wrote). One made on another
/// instance arrives through PostgreSQL `NOTIFY` (`changes`), or within `CACHE_TTL`.
#[derive(Clone, Default)]
pub struct AppCache {
    entries: Arc<RwLock<HashMap<String, CachedApp>>>,
    generation: Arc<AtomicU64>,
    /// Overridden issuers' paths → app id, with the generation and time they were read: the
    /// discovery lookup by issuer path reads the apps table once per change or `CACHE_TTL`,
    /// not on every (unauthenticated) request.
    issuers: Arc<RwLock<Option<IssuerIndex>>>,
}

/// Issuer path → app id, the cache generation it was read in, and when.
type IssuerIndex = (Arc<HashMap<String, String>>, u64, Instant);

/// An app, its compiled scope regexes, and when they were read.
type CachedApp = (Arc<App>, Arc<ScopeMatcher>, Instant);

impl AppCache {
    pub fn invalidate(&self, app_id: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut m) = self.entries.write() {
            m.remove(app_id);
        }
    }
    /// Every app is read again (roles were renamed or deleted, or a notification was missed).
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut m) = self.entries.write() {
            m.clear();
        }
    }
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
    fn fresh(&self, app_id: &str) -> Option<(Arc<App>, Arc<ScopeMatcher>)> {
        let m = self.entries.read().ok()?;
        let (a, matcher, at) = m.get(app_id)?;
        (at.elapsed() < CACHE_TTL).then(|| (a.clone(), matcher.clone()))
    }
    /// Keeps `app` (read after `generation` was taken) unless something changed meanwhile.
    fn put(&self, app: App, generation: u64) -> (Arc<App>, Arc<ScopeMatcher>) {
        let matcher = Arc::new(
            ScopeMatcher::new(&app.scopes)
                .with_admin_scopes(crate::scopes::admin_api_scopes(&app.scopes)),
        );
        let app = Arc::new(app);
        if let Ok(mut c) = self.entries.write() {
            if generation == self.generation() {
                if c.len() > 10_000 {
                    c.clear();
                }
                c.insert(
                    app.app_id.clone(),
                    (app.clone(), matcher.clone(), Instant::now()),
                );
            }
        }
        (app, matcher)
    }
}

impl AppCache {
    /// The issuer index, when it is still current.
    pub(crate) fn issuer_index(&self) -> Option<Arc<HashMap<String, String>>> {
        let g = self.issuers.read().ok()?;
        let (index, generation, at) = g.as_ref()?;
        (*generation == self.generation() && at.elapsed() < CACHE_TTL).then(|| index.clone())
    }
    /// The current generation, to take before reading the index from the database.
    pub(crate) fn index_generation(&self) -> u64 {
        self.generation()
    }
    /// Keeps `index` (read after `generation` was taken) unless an app changed meanwhile.
    pub(crate) fn put_issuer_index(&self, index: Arc<HashMap<String, String>>, generation: u64) {
        if generation != self.generation() {
            return;
        }
        if let Ok(mut g) = self.issuers.write() {
            *g = Some((index, generation, Instant::now()));
        }
    }
}

impl Services {
    /// The app with its compiled scopes, from the cache when fresh.
    pub async fn cached_app(
        &self,
        app_id: &str,
    ) -> Result<Option<(Arc<App>, Arc<ScopeMatcher>)>, OAuthError> {
        Ok(self.app_through_cache(app_id).await?)
    }

    /// The app (cached as `cached_app`), for the endpoints and the admin API alike.
    pub(crate) async fn app_through_cache(
        &self,
        app_id: &str,
    ) -> crate::Result<Option<(Arc<App>, Arc<ScopeMatcher>)>> {
        if let Some(hit) = self.apps.fresh(app_id) {
            crate::counters::cache_lookup(crate::counters::Cache::App, true);
            return Ok(Some(hit));
        }
        crate::counters::cache_lookup(crate::counters::Cache::App, false);
        let generation = self.apps.generation();
        Ok(self
            .app(app_id)
            .await?
            .map(|app| self.apps.put(app, generation)))
    }

    pub async fn app_or_404(&self, app_id: &str) -> Result<Arc<App>, OAuthError> {
        Ok(self
            .cached_app(app_id)
            .await?
            .ok_or_else(OAuthError::unknown_app)?
            .0)
    }
}
