//! What a token stands for: signature or lookup, expiry, revocation — for introspection
//! (RFC 7662) and for bearer tokens on Gatehouse's own API.

use std::sync::Arc;

use jsonwebtoken::Validation;
use sha2::{Digest, Sha256};

use super::{Claims, TokenInfo};
use crate::apps::ClientIdType;
use crate::clients::ClientCredentials;
use crate::clock::now;
use crate::error::OAuthError;
use crate::Services;

pub(crate) fn looks_like_jwt(t: &str) -> bool {
    t.len() > 20 && t.split('.').count() == 3
}

/// A row of `tokens`, read whole: a row that does not decode refuses the request rather than
/// counting as "not revoked".
#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub kind: String,
    pub app_id: String,
    pub client_id: String,
    pub user_id: String,
    pub username: Option<String>,
    pub scope: String,
    pub jti: String,
    pub family_id: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used: i64,
    pub revoked: i64,
    pub auth_time: Option<i64>,
    pub resources: Option<String>,
    pub amr: Option<String>,
    pub act: Option<String>,
    pub jkt: Option<String>,
}

/// `SELECT` of every `TokenRow` column from `tokens` with the given condition.
macro_rules! select_token_row {
    ($cond:literal) => {
        concat!(
            "SELECT kind, app_id, client_id, user_id, username, scope, jti, family_id, issued_at, \
             expires_at, used, revoked, auth_time, resources, amr, act, jkt FROM tokens WHERE ",
            $cond
        )
    };
}

impl TokenRow {
    pub const SELECT: &str = select_token_row!("token_hash = $1");
    pub const SELECT_REFRESH: &str =
        select_token_row!("token_hash = $1 AND kind = 'refresh' AND app_id = $2");
}

impl Services {
    pub(crate) async fn is_revoked(
        &self,
        user: &str,
        app: &str,
        family: Option<&str>,
        iat: i64,
        jti: Option<&str>,
    ) -> Result<bool, OAuthError> {
        let subjects = [
            format!("user:{user}"),
            format!("app:{app}"),
            format!("family:{}", family.unwrap_or("-")),
        ];
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) AS n FROM revocations WHERE subject IN ($1, $2, $3) AND revoked_before > $4",
        )
        .bind(&subjects[0])
        .bind(&subjects[1])
        .bind(&subjects[2])
        .bind(iat)
        .fetch_one(&self.store.pool)
        .await
        .map_err(OAuthError::internal)?;
        if n > 0 {
            return Ok(true);
        }
        if let Some(j) = jti {
            let hit = sqlx::query("SELECT jti FROM revoked_jtis WHERE jti = $1")
                .bind(j)
                .fetch_optional(&self.store.pool)
                .await
                .map_err(OAuthError::internal)?;
            return Ok(hit.is_some());
        }
        Ok(false)
    }

    /// What a token stands for if it is valid now: signature or lookup, expiry, not revoked.
    /// Repeated lookups of a valid access token are answered from memory (see `seen`).
    pub async fn inspect_token(&self, token: &str) -> Result<Option<Arc<TokenInfo>>, OAuthError> {
        if token.is_empty() || token.len() > 16 * 1024 {
            return Ok(None);
        }
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(info) = self.seen.get(&key, now()) {
            crate::counters::cache_lookup(crate::counters::Cache::Token, true);
            return Ok(Some(info));
        }
        crate::counters::cache_lookup(crate::counters::Cache::Token, false);
        let generation = self.seen.generation();
        let Some(info) = self.inspect_uncached(token, &key).await? else {
            return Ok(None);
        };
        // A token whose user is disabled or may no longer use the app is inactive. Checked
        // once per cache entry: a change to users, roles or apps empties the cache.
        let Some((app, _)) = self.cached_app(&info.app_id).await? else {
            return Ok(None);
        };
        // A registered client's own token (client credentials) lives as long as the client;
        // a person's, as long as the person may use the app.
        // A registered client's tokens end with the client.
        let registered = app.client_id_type == crate::apps::ClientIdType::Registered;
        // A client described by a metadata document is not stored: its tokens live while the
        // app takes documents (no fetch here; the document was checked when they were issued).
        let document = app.client_id_metadata_documents
            && crate::registration::documents::document_url(&info.client_id).is_some();
        let may_use = if registered
            && !document
            && self
                .registered_client(&app.app_id, &info.client_id)
                .await?
                .is_none()
        {
            false
        } else if registered && info.sub == info.client_id {
            true
        } else {
            self.user_may_use(&app, &info.sub).await?
        };
        if !may_use {
            return Ok(None);
        }
        let info = Arc::new(info);
        self.seen.put(key, info.clone(), generation);
        Ok(Some(info))
    }

    async fn inspect_uncached(
        &self,
        token: &str,
        key: &[u8; 32],
    ) -> Result<Option<TokenInfo>, OAuthError> {
        if looks_like_jwt(token) {
            let Some((alg, key)) = self.verifier_of(token).await? else {
                return Ok(None);
            };
            // The key decides the algorithm, never the token's header (RFC 8725 §3.1).
            let mut v = Validation::new(alg);
            v.validate_aud = false;
            v.validate_nbf = true;
            v.leeway = 0;
            v.set_required_spec_claims(&["exp", "iat", "nbf", "sub", "aud", "iss"]);
            let Ok(data) = jsonwebtoken::decode::<Claims>(token, &key, &v) else {
                return Ok(None);
            };
            let c = data.claims;
            let aud = c.aud.values();
            // A token for a resource names its app; otherwise the audience is the app.
            let app_id = match (c.app_id, &c.aud) {
                (Some(app), _) => app,
                (None, super::resources::Audience::One(app)) => app.clone(),
                (None, super::resources::Audience::Many(_)) => return Ok(None),
            };
            let family = c.jti.split_once('.').map(|(f, _)| f.to_string());
            if self
                .is_revoked(&c.sub, &app_id, family.as_deref(), c.iat, Some(&c.jti))
                .await?
            {
                return Ok(None);
            }
            return Ok(Some(TokenInfo {
                aud,
                app_id,
                client_id: c.client_id,
                sub: c.sub,
                username: c.username,
                scope: c.scope,
                iat: c.iat,
                exp: c.exp,
                jti: c.jti,
                iss: c.iss,
                is_refresh: false,
                amr: c.amr,
                act: c.act.map(|a| a.sub),
                jkt: c.cnf.map(|c| c.jkt),
            }));
        }
        if token.is_empty() || token.len() > 512 {
            return Ok(None);
        }
        let Some(r) = sqlx::query_as::<_, TokenRow>(TokenRow::SELECT)
            .bind(crate::tokens::opaque_token_key(token, key))
            .fetch_optional(&self.store.pool)
            .await
            .map_err(OAuthError::internal)?
        else {
            return Ok(None);
        };
        let is_refresh = r.kind == "refresh";
        if r.revoked != 0 || r.expires_at <= now() || (is_refresh && r.used != 0) {
            return Ok(None);
        }
        if self
            .is_revoked(
                &r.user_id,
                &r.app_id,
                r.family_id.as_deref(),
                r.issued_at,
                None,
            )
            .await?
        {
            return Ok(None);
        }
        let iss = self
            .cached_app(&r.app_id)
            .await?
            .map(|(a, _)| a.issuer.clone())
            .unwrap_or_default();
        let aud = match super::resources::parse_stored(r.resources.as_deref()) {
            none if none.is_empty() => vec![r.app_id.clone()],
            resources => resources,
        };
        Ok(Some(TokenInfo {
            aud,
            app_id: r.app_id,
            client_id: r.client_id,
            sub: r.user_id,
            username: r.username,
            scope: r.scope,
            iat: r.issued_at,
            exp: r.expires_at,
            jti: r.jti,
            iss,
            is_refresh,
            amr: crate::oidc::SignIn::amr_of(r.amr.as_deref()),
            act: r.act,
            jkt: r.jkt,
        }))
    }

    /// Who may look at an app's tokens (RFC 7662 §4: the server decides): a confidential
    /// client of *this* app — a confidential-client user in one of its roles, or, for an app
    /// of registered clients, a client an administrator added that proves a secret or a key
    /// (a resource server). Public and self-registered clients may not: anyone can be one.
    async fn authenticate_introspector(
        &self,
        app: &crate::apps::App,
        creds: &ClientCredentials,
        addr: &str,
    ) -> Result<(), OAuthError> {
        let registered = match creds.client_id.as_deref().map(str::trim) {
            Some(id) if app.client_id_type == ClientIdType::Registered && !id.is_empty() => {
                self.registered_client(&app.app_id, id).await?
            }
            _ => None,
        };
        let Some(c) = registered else {
            return self
                .authenticate_app_client(app, ClientIdType::Confidential, creds, addr)
                .await
                .map(|_| ());
        };
        self.authenticate_app_client(app, ClientIdType::Registered, creds, addr)
            .await?;
        if c.created_by == crate::registration::SELF_REGISTERED
            || c.metadata.token_endpoint_auth_method == "none"
        {
            return Err(OAuthError {
                basic_challenge: creds.via_basic,
                ..OAuthError::new(
                    crate::error::OAuthErrorCode::InvalidClient,
                    "only a confidential client an administrator added may introspect",
                )
            });
        }
        Ok(())
    }

    /// `POST /oauth2/introspect/{app}`: the caller is a confidential client of the app.
    pub async fn introspect(
        &self,
        app_id: &str,
        creds: &ClientCredentials,
        token: Option<&str>,
        addr: &str,
    ) -> Result<Option<Arc<TokenInfo>>, OAuthError> {
        let app = self.app_or_404(app_id).await?;
        self.authenticate_introspector(&app, creds, addr).await?;
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::request("token is required"))?;
        Ok(self
            .inspect_token(token)
            .await?
            .filter(|i| i.app_id == app.app_id))
    }
}
