//! Apps as the endpoints need them, with their compiled scope regexes, re-read after
//! `CACHE_TTL` so a change made on another instance is seen within that bound.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::apps::App;
use crate::clients::CACHE_TTL;
use crate::error::OAuthError;
use crate::scopes::ScopeMatcher;
use crate::Services;

/// Apps by id, each with its compiled scopes and when it was read.
#[derive(Clone, Default)]
pub struct AppCache(Arc<RwLock<HashMap<String, CachedApp>>>);

/// An app, its compiled scope regexes, and when they were read.
type CachedApp = (Arc<App>, Arc<ScopeMatcher>, Instant);

impl AppCache {
    pub fn invalidate(&self, app_id: &str) {
        if let Ok(mut m) = self.0.write() {
            m.remove(app_id);
        }
    }
}

impl Services {
    /// The app with its compiled scopes, from the cache when fresh.
    pub async fn cached_app(
        &self,
        app_id: &str,
    ) -> Result<Option<(Arc<App>, Arc<ScopeMatcher>)>, OAuthError> {
        if let Some((a, m, t)) = self.apps.0.read().ok().and_then(|c| c.get(app_id).cloned()) {
            if t.elapsed() < CACHE_TTL {
                metrics::counter!("gatehouse_cache_lookups_total", "cache" => "app", "result" => "hit")
                    .increment(1);
                return Ok(Some((a, m)));
            }
        }
        metrics::counter!("gatehouse_cache_lookups_total", "cache" => "app", "result" => "miss")
            .increment(1);
        let Some(app) = self.app(app_id).await? else {
            self.apps.invalidate(app_id);
            return Ok(None);
        };
        let app = Arc::new(app);
        let matcher = Arc::new(ScopeMatcher::new(&app.scopes));
        if let Ok(mut c) = self.apps.0.write() {
            if c.len() > 10_000 {
                c.clear();
            }
            c.insert(
                app_id.to_string(),
                (app.clone(), matcher.clone(), Instant::now()),
            );
        }
        Ok(Some((app, matcher)))
    }

    pub async fn app_or_404(&self, app_id: &str) -> Result<Arc<App>, OAuthError> {
        Ok(self
            .cached_app(app_id)
            .await?
            .ok_or_else(OAuthError::unknown_app)?
            .0)
    }
}
