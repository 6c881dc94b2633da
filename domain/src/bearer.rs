//! Bearer tokens on Gatehouse's own REST API (SPEC §4, RFC 6750): the token is valid, one of
//! its granted scopes has a REST regex matching the request path, and its user may act.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::clients::CACHE_TTL;
use crate::error::OAuthError;
use crate::rights::Principal;
use crate::Services;

/// Why a bearer token does not let a request through.
#[derive(Debug)]
pub enum BearerError {
    /// 401 `invalid_token`: invalid, expired or revoked, or its app or user is gone.
    InvalidToken(&'static str),
    /// 403 `insufficient_scope`: no granted scope allows this path.
    InsufficientScope,
    /// 401: a valid token that did not come the way its DPoP binding asks (RFC 9449 §7).
    Binding(crate::oauth::dpop::BindingError),
    /// An unexpected failure (database): a 500 whose cause is logged by the door.
    Internal(OAuthError),
}

impl From<OAuthError> for BearerError {
    fn from(e: OAuthError) -> Self {
        BearerError::Internal(e)
    }
}

impl From<crate::DomainError> for BearerError {
    fn from(e: crate::DomainError) -> Self {
        BearerError::Internal(e.into())
    }
}

impl Services {
    /// The resource identifier of Gatehouse's own admin API (RFC 9728): what a client names in
    /// `resource` to get a token for it.
    pub fn admin_api_resource(&self) -> String {
        format!("{}/api/v1", self.public_url.trim_end_matches('/'))
    }

    /// The principal a token acts as on `path` (the request path with its leading `/`): a Bearer
    /// token, or a DPoP-bound one with its proof.
    pub async fn bearer_principal(
        &self,
        presented: &crate::oauth::dpop::Presented<'_>,
        path: &str,
    ) -> Result<Principal, BearerError> {
        let info = self
            .inspect_token(presented.token)
            .await?
            .filter(|i| !i.is_refresh)
            .ok_or(BearerError::InvalidToken(
                "the access token is invalid, expired or revoked",
            ))?;
        self.check_presented(info.jkt.as_deref(), presented)
            .await
            .map_err(BearerError::Binding)?;
        // A token for another resource (RFC 8707) is not for this API; one for Gatehouse's
        // admin API (its RFC 9728 resource identifier) or for no resource is.
        if info.aud != [info.app_id.as_str()] && !info.aud.contains(&self.admin_api_resource()) {
            return Err(BearerError::InvalidToken(
                "the access token is for another resource",
            ));
        }
        let (_, matcher) =
            self.cached_app(&info.app_id)
                .await?
                .ok_or(BearerError::InvalidToken(
                    "the token's app no longer exists",
                ))?;
        if !matcher.allows(info.scope.split(' '), path) {
            return Err(BearerError::InsufficientScope);
        }
        let mut p = match self.principals.get(&info.sub) {
            Some(p) => p,
            None => {
                let generation = self.principals.generation();
                let p = self
                    .principal(&info.sub)
                    .await?
                    .ok_or(BearerError::InvalidToken(
                        "the token's user is gone or disabled",
                    ))?;
                self.principals.put(p.clone(), generation);
                p
            }
        };
        p.origin.client_id = Some(info.client_id.clone());
        Ok(p)
    }
}

/// The principals bearer tokens act as, for `CACHE_TTL`: a token-authenticated call reads its
/// user and roles once per window instead of twice per request. A change made on this instance
/// (rights, membership, a user disabled or deleted) takes effect at once; one made on another
/// instance within `CACHE_TTL`, as for the client cache.
#[derive(Clone, Default)]
pub struct PrincipalCache {
    entries: Arc<RwLock<HashMap<String, CachedPrincipal>>>,
    generation: Arc<AtomicU64>,
}

/// A principal, the cache generation it was read in, and when.
type CachedPrincipal = (Principal, u64, Instant);

impl PrincipalCache {
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
    fn get(&self, user_id: &str) -> Option<Principal> {
        let m = self.entries.read().ok()?;
        let (p, generation, at) = m.get(user_id)?;
        (*generation == self.generation() && at.elapsed() < CACHE_TTL).then(|| p.clone())
    }
    /// Keeps `p` unless something changed since `generation` was read (before the lookup).
    fn put(&self, p: Principal, generation: u64) {
        if let Ok(mut m) = self.entries.write() {
            if generation != self.generation() {
                return;
            }
            if m.len() >= 10_000 {
                m.clear();
            }
            m.insert(p.user_id.clone(), (p, generation, Instant::now()));
        }
    }
    /// Every entry is stale (roles, rights or a user changed).
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut m) = self.entries.write() {
            m.clear();
        }
    }
}

impl Services {
    /// The issuers of the apps whose tokens Gatehouse's admin API accepts (RFC 9728
    /// `authorization_servers`): apps with a scope that can reach the API, or that list its
    /// resource identifier among their `resources`.
    pub async fn admin_api_issuers(&self, resource: &str) -> crate::Result<Vec<String>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT app_id FROM apps ORDER BY app_id")
            .fetch_all(&self.store.pool)
            .await?;
        let mut out = Vec::new();
        for id in ids {
            let Some((app, matcher)) = self
                .cached_app(&id)
                .await
                .map_err(|e| crate::DomainError::Internal(e.cause.unwrap_or(e.description)))?
            else {
                continue;
            };
            let scopes = app.scopes.iter().map(|s| s.name.as_str());
            if app.resources.iter().any(|r| r == resource) || matcher.any_administrative(scopes) {
                out.push(app.issuer.clone());
            }
        }
        Ok(out)
    }
}
