//! Sign-in through an upstream OpenID provider (SPEC §6b, Keycloak's identity brokering): the
//! person signs in at their company's or a public provider and Gatehouse signs them in here.
//!
//! - Providers are configured by a System Administrator (the portal and the admin API); the
//!   client secret is sealed with the system secret and never shown again.
//! - The flow is the code flow with PKCE (S256), `state` and `nonce`, by the `openidconnect`
//!   crate: discovery (cached for an hour, read again when the ID token names a key the cached
//!   set lacks), the code exchange with the client's secret, and the ID token's verification
//!   (signature by the provider's JWKS, `iss`, `aud`, `exp`, `nonce`). The started sign-in lives
//!   in the database for 10 minutes (state hashed, verifier sealed), used once, so any instance
//!   finishes what another began.
//! - A first sign-in's e-mail address, login name and name come from the ID token, and what it
//!   leaves out from the provider's UserInfo endpoint (many providers, node-oidc-provider by default among
//!   them, put the `email` and `profile` scopes' claims only there), whose `sub` must be the ID
//!   token's.
//! - The local user is the one a stored link (issuer + `sub`) names; else, the first time, one
//!   found as the provider is set up (`match_by`: a verified e-mail address, or the login name);
//!   else a new one when `create_users` is on, in the provider's default role; else none.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use model::providers::{IdentityProvider, MatchBy, ProviderButton, UserLink};
use openidconnect::core::CoreUserInfoClaims;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, SubjectIdentifier, TokenResponse,
};
use serde::Deserialize;
use sqlx::Row;

use crate::audit::{Entry, Who};
use crate::clock::{now, rfc3339};
use crate::error::{DomainError, Result};
use crate::rights::Principal;
use crate::tokens::sha256_hex;
use crate::users::{NewUser, User};
use crate::Services;

/// A started sign-in may be finished within this many seconds.
const STATE_SECS: i64 = 600;
/// How long a provider's discovery document and keys are kept.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);

/// The changes an administrator makes to a provider; every field optional on a change, the
/// first five needed to create one.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderFields {
    pub name: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    /// Write-only: stored sealed, never returned.
    pub client_secret: Option<String>,
    pub button_label: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub match_by: Option<MatchBy>,
    pub create_users: Option<bool>,
    /// A role name; `null` for none.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub default_role: Option<Option<String>>,
    pub enabled: Option<bool>,
    /// Read-only fields a client may echo back from a read; ignored.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub client_secret_set: Option<bool>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// `Some(None)` for an explicit `null`, `None` when absent.
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Ok(Some(Option::<String>::deserialize(d)?))
    }
}

/// Outbound calls to providers and what they said, per instance.
pub struct Upstreams {
    http: OnceLock<reqwest::Client>,
    discovered: moka::sync::Cache<String, Arc<CoreProviderMetadata>>,
}

impl Default for Upstreams {
    fn default() -> Self {
        Upstreams {
            http: OnceLock::new(),
            discovered: moka::sync::Cache::builder()
                .max_capacity(1000)
                .time_to_live(DISCOVERY_TTL)
                .build(),
        }
    }
}

/// Why a federated sign-in did not end with a person signed in.
#[derive(Debug)]
pub enum FederationError {
    /// No such enabled provider.
    NotFound,
    /// Refused: a wrong or used state, an ID token that does not verify (nonce, signature…),
    /// the provider's own error, or no local account for the person. Shown to the person.
    Refused(String),
    /// The provider could not be reached or answered nonsense.
    Upstream(String),
    Domain(DomainError),
}

impl From<DomainError> for FederationError {
    fn from(e: DomainError) -> Self {
        FederationError::Domain(e)
    }
}

impl From<sqlx::Error> for FederationError {
    fn from(e: sqlx::Error) -> Self {
        FederationError::Domain(e.into())
    }
}

/// A federated sign-in that found its person.
pub struct Federated {
    pub user: User,
    pub credential: i64,
    pub return_to: String,
    pub provider_name: String,
}

/// Who the upstream says signed in: the ID token's claims a local user is found or made by.
struct UpstreamPerson {
    subject: String,
    email: Option<String>,
    email_verified: bool,
    username: Option<String>,
    name: Option<String>,
}

/// A client of a discovered provider: authorization and token endpoints set, UserInfo and JWKS
/// as the provider publishes them.
type UpstreamClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

impl UpstreamPerson {
    /// Whether a claim the local user is found or made by is missing.
    fn incomplete(&self) -> bool {
        self.email.is_none() || self.username.is_none() || self.name.is_none()
    }

    /// Fills what is missing from the provider's UserInfo answer. The e-mail address and whether
    /// it is verified come together, from the same answer.
    fn complete_with(&mut self, info: &CoreUserInfoClaims) {
        if self.email.is_none() {
            self.email = info.email().map(|e| e.to_string());
            self.email_verified = info.email_verified().unwrap_or(false);
        }
        if self.username.is_none() {
            self.username = info.preferred_username().map(|u| u.to_string());
        }
        if self.name.is_none() {
            self.name = info.name().and_then(|n| n.get(None)).map(|n| n.to_string());
        }
    }
}

/// A provider's row, with its sealed secret.
struct StoredProvider {
    p: IdentityProvider,
    sealed_secret: String,
}

const COLS: &str = "id, name, issuer, client_id, client_secret, scopes, button_label, match_by, create_users, default_role, enabled, created_at";

fn issuer_ok(issuer: &str) -> std::result::Result<(), &'static str> {
    let url = url::Url::parse(issuer).map_err(|_| "the issuer is not an absolute URL")?;
    let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
        || matches!(url.host(), Some(url::Host::Ipv4(a)) if a.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(a)) if a.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("the issuer must be https (http only on this machine, for development)"),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err("the issuer has no query, fragment or credentials");
    }
    Ok(())
}

fn text_field(field: &str, v: &str, max: usize) -> Result<String> {
    let v = crate::names::normal_form(v);
    if v.is_empty() || v.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("between 1 and {max} characters"),
        ));
    }
    Ok(v)
}

impl Services {
    /// Where a provider sends the person back.
    pub fn federation_callback(&self, provider_id: &str) -> String {
        format!("{}/login/federated/{provider_id}/callback", self.public_url)
    }

    fn provider_of(
        &self,
        row: &sqlx::any::AnyRow,
    ) -> std::result::Result<StoredProvider, sqlx::Error> {
        let id: String = row.try_get("id")?;
        let scopes: String = row.try_get("scopes")?;
        let match_by: String = row.try_get("match_by")?;
        let sealed_secret: String = row.try_get("client_secret")?;
        Ok(StoredProvider {
            p: IdentityProvider {
                redirect_uri: self.federation_callback(&id),
                id,
                name: row.try_get("name")?,
                issuer: row.try_get("issuer")?,
                client_id: row.try_get("client_id")?,
                client_secret_set: !sealed_secret.is_empty(),
                scopes: scopes
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                button_label: row.try_get("button_label")?,
                match_by: MatchBy::parse(&match_by).unwrap_or(MatchBy::None),
                create_users: crate::store::get_bool(row, "create_users")?,
                default_role: row.try_get("default_role")?,
                enabled: crate::store::get_bool(row, "enabled")?,
                created_at: rfc3339(row.try_get("created_at")?),
            },
            sealed_secret,
        })
    }

    async fn provider_row(&self, id: &str) -> Result<Option<StoredProvider>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM identity_providers WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.store.pool)
        .await?;
        Ok(row.map(|r| self.provider_of(&r)).transpose()?)
    }

    /// Every provider (System Administrators).
    pub async fn list_providers(&self, actor: &Principal) -> Result<crate::Page<IdentityProvider>> {
        actor.require_sysadmin()?;
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM identity_providers ORDER BY name, id"
        ))
        .fetch_all(&self.store.pool)
        .await?;
        let items: Vec<IdentityProvider> = rows
            .iter()
            .map(|r| self.provider_of(r).map(|r| r.p))
            .collect::<std::result::Result<_, _>>()?;
        Ok(crate::Page {
            total: items.len() as i64,
            items,
        })
    }

    pub async fn get_provider(&self, actor: &Principal, id: &str) -> Result<IdentityProvider> {
        actor.require_sysadmin()?;
        Ok(self
            .provider_row(id)
            .await?
            .ok_or(DomainError::NotFound("identity provider"))?
            .p)
    }

    /// The checked fields of `f` over `base`, and the new secret if one was given.
    async fn apply_provider(
        &self,
        base: IdentityProvider,
        f: ProviderFields,
    ) -> Result<(IdentityProvider, Option<String>)> {
        let mut p = base;
        if let Some(v) = f.name {
            p.name = text_field("name", &v, 100)?;
        }
        if let Some(v) = f.issuer {
            let v = v.trim().to_string();
            issuer_ok(&v).map_err(|m| DomainError::invalid("issuer", m))?;
            p.issuer = v;
        }
        if let Some(v) = f.client_id {
            let v = v.trim().to_string();
            if v.is_empty() || v.len() > 255 || v.chars().any(char::is_control) {
                return Err(DomainError::invalid(
                    "client_id",
                    "between 1 and 255 characters",
                ));
            }
            p.client_id = v;
        }
        if let Some(v) = f.button_label {
            p.button_label = text_field("button_label", &v, 60)?;
        }
        if let Some(v) = f.scopes {
            let mut scopes = vec!["openid".to_string()];
            for (i, s) in v.iter().enumerate() {
                let ok = !s.is_empty()
                    && s.len() <= 100
                    && s.bytes()
                        .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
                if !ok {
                    return Err(DomainError::invalid(
                        format!("scopes[{i}]"),
                        "a scope is printable ASCII without spaces, quotes or backslashes",
                    ));
                }
                if !scopes.contains(s) {
                    scopes.push(s.clone());
                }
            }
            p.scopes = scopes;
        }
        if let Some(v) = f.match_by {
            p.match_by = v;
        }
        if let Some(v) = f.create_users {
            p.create_users = v;
        }
        if let Some(v) = f.enabled {
            p.enabled = v;
        }
        if let Some(v) = f.default_role {
            p.default_role = match v.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()) {
                Some(r) => {
                    let found: Option<String> =
                        sqlx::query_scalar("SELECT name FROM roles WHERE LOWER(name) = $1")
                            .bind(r.to_lowercase())
                            .fetch_optional(&self.store.pool)
                            .await?;
                    Some(found.ok_or_else(|| DomainError::Unknown {
                        field: "default_role".into(),
                        message: format!("there is no role {r:?}"),
                    })?)
                }
                None => None,
            };
        }
        let secret = match f.client_secret {
            Some(s) if s.len() > 1024 || s.chars().any(char::is_control) => {
                return Err(DomainError::invalid(
                    "client_secret",
                    "at most 1024 characters",
                ))
            }
            Some(s) if !s.is_empty() => Some(s),
            _ => None,
        };
        Ok((p, secret))
    }

    /// Adds a provider (System Administrators; audited `idp.create`).
    pub async fn create_provider(
        &self,
        actor: &Principal,
        f: ProviderFields,
    ) -> Result<IdentityProvider> {
        actor.require_sysadmin()?;
        for (field, given) in [
            ("name", f.name.is_some()),
            ("issuer", f.issuer.is_some()),
            ("client_id", f.client_id.is_some()),
            (
                "client_secret",
                f.client_secret.as_deref().is_some_and(|s| !s.is_empty()),
            ),
            ("button_label", f.button_label.is_some()),
        ] {
            if !given {
                return Err(DomainError::invalid(field, "required"));
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let base = IdentityProvider {
            id: id.clone(),
            name: String::new(),
            issuer: String::new(),
            client_id: String::new(),
            client_secret_set: true,
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            button_label: String::new(),
            match_by: MatchBy::Email,
            create_users: false,
            default_role: None,
            enabled: true,
            redirect_uri: self.federation_callback(&id),
            created_at: rfc3339(now()),
        };
        let (p, secret) = self.apply_provider(base, f).await?;
        let sealed = self
            .secrets
            .seal(&secret.unwrap_or_default(), &format!("idp:{id}"))?;
        self.store_provider(actor, &p, &sealed, "idp.create")
            .await?;
        Ok(p)
    }

    /// Changes a provider (System Administrators; audited `idp.update`). A new secret replaces
    /// the old; none given keeps it.
    pub async fn update_provider(
        &self,
        actor: &Principal,
        id: &str,
        f: ProviderFields,
    ) -> Result<IdentityProvider> {
        actor.require_sysadmin()?;
        let current = self
            .provider_row(id)
            .await?
            .ok_or(DomainError::NotFound("identity provider"))?;
        let (p, secret) = self.apply_provider(current.p, f).await?;
        let sealed = match secret {
            Some(s) => self.secrets.seal(&s, &format!("idp:{id}"))?,
            None => current.sealed_secret,
        };
        self.store_provider(actor, &p, &sealed, "idp.update")
            .await?;
        self.upstreams.discovered.invalidate(id);
        Ok(p)
    }

    /// Writes a provider (new or changed) and its audit record in one transaction.
    async fn store_provider(
        &self,
        actor: &Principal,
        p: &IdentityProvider,
        sealed: &str,
        action: &'static str,
    ) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        sqlx::query(
            "INSERT INTO identity_providers (id, name, issuer, client_id, client_secret, scopes, button_label, match_by, create_users, default_role, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
             ON CONFLICT (id) DO UPDATE SET name = $2, issuer = $3, client_id = $4, client_secret = $5, scopes = $6, \
             button_label = $7, match_by = $8, create_users = $9, default_role = $10, enabled = $11, updated_at = $12",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.issuer)
        .bind(&p.client_id)
        .bind(sealed)
        .bind(p.scopes.join(" "))
        .bind(&p.button_label)
        .bind(p.match_by.as_str())
        .bind(p.create_users as i64)
        .bind(&p.default_role)
        .bind(p.enabled as i64)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        crate::audit::write(
            &mut tx,
            Who::Principal(actor),
            &Entry::new(action, "idp", &p.id).named(&p.name),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a provider and its links (System Administrators; audited `idp.delete`).
    pub async fn delete_provider(&self, actor: &Principal, id: &str) -> Result<()> {
        actor.require_sysadmin()?;
        let current = self
            .provider_row(id)
            .await?
            .ok_or(DomainError::NotFound("identity provider"))?;
        let mut tx = self.store.begin_write().await?;
        sqlx::query("DELETE FROM identity_providers WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        crate::audit::write(
            &mut tx,
            Who::Principal(actor),
            &Entry::new("idp.delete", "idp", id).named(&current.p.name),
        )
        .await?;
        tx.commit().await?;
        self.upstreams.discovered.invalidate(id);
        Ok(())
    }

    /// The login page's buttons: every enabled provider.
    pub async fn provider_buttons(&self) -> Result<Vec<ProviderButton>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, button_label FROM identity_providers WHERE enabled = 1 ORDER BY button_label, id",
        )
        .fetch_all(&self.store.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, label)| ProviderButton { id, label })
            .collect())
    }

    /// A user's links to providers (the `users` right).
    pub async fn user_links(
        &self,
        actor: &Principal,
        user_id: &str,
    ) -> Result<crate::Page<UserLink>> {
        actor.require(crate::rights::Right::Users)?;
        self.user_row_by_id(user_id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        let rows: Vec<(String, String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT l.provider_id, p.name, l.issuer, l.subject, l.created_at, l.last_used_at FROM user_links l \
             JOIN identity_providers p ON p.id = l.provider_id WHERE l.user_id = $1 ORDER BY p.name",
        )
        .bind(user_id)
        .fetch_all(&self.store.pool)
        .await?;
        let items: Vec<UserLink> = rows
            .into_iter()
            .map(
                |(provider_id, provider_name, issuer, subject, created, used)| UserLink {
                    provider_id,
                    provider_name,
                    issuer,
                    subject,
                    created_at: rfc3339(created),
                    last_used_at: used.map(rfc3339),
                },
            )
            .collect();
        Ok(crate::Page {
            total: items.len() as i64,
            items,
        })
    }

    /// Removes a user's link to a provider (an administrator over the user; audited
    /// `user.unlinked`): their next sign-in there is a first one again.
    pub async fn remove_user_link(
        &self,
        actor: &Principal,
        user_id: &str,
        provider_id: &str,
    ) -> Result<()> {
        actor.require(crate::rights::Right::Users)?;
        let row = self
            .user_row_by_id(user_id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        self.require_over_user(actor, user_id, &row.user.login_name, "user.unlink")
            .await?;
        let mut tx = self.store.begin_write().await?;
        let gone = sqlx::query("DELETE FROM user_links WHERE user_id = $1 AND provider_id = $2")
            .bind(user_id)
            .bind(provider_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(DomainError::NotFound("link"));
        }
        crate::audit::write(
            &mut tx,
            Who::Principal(actor),
            &Entry::new("user.unlinked", "user", user_id).named(&row.user.login_name),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    fn http(&self) -> std::result::Result<&reqwest::Client, FederationError> {
        if let Some(c) = self.upstreams.http.get() {
            return Ok(c);
        }
        let c = reqwest::Client::builder()
            // openidconnect asks for no redirects (an SSRF and a mix-up would follow them).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| FederationError::Upstream(e.to_string()))?;
        Ok(self.upstreams.http.get_or_init(|| c))
    }

    /// The provider's discovery document and keys (cached; `fresh` reads them again).
    async fn discover(
        &self,
        p: &IdentityProvider,
        fresh: bool,
    ) -> std::result::Result<Arc<CoreProviderMetadata>, FederationError> {
        if !fresh {
            if let Some(m) = self.upstreams.discovered.get(&p.id) {
                return Ok(m);
            }
        }
        let issuer = IssuerUrl::new(p.issuer.clone())
            .map_err(|e| FederationError::Upstream(e.to_string()))?;
        let m = CoreProviderMetadata::discover_async(issuer, self.http()?)
            .await
            .map_err(|e| FederationError::Upstream(format!("discovery of {}: {e}", p.issuer)))?;
        let m = Arc::new(m);
        self.upstreams.discovered.insert(p.id.clone(), m.clone());
        Ok(m)
    }

    async fn enabled_provider(
        &self,
        id: &str,
    ) -> std::result::Result<StoredProvider, FederationError> {
        match self.provider_row(id).await? {
            Some(r) if r.p.enabled => Ok(r),
            _ => Err(FederationError::NotFound),
        }
    }

    fn oidc_client(
        &self,
        r: &StoredProvider,
        m: &CoreProviderMetadata,
    ) -> std::result::Result<UpstreamClient, FederationError> {
        let (secret, _) = self
            .secrets
            .open(&r.sealed_secret, &format!("idp:{}", r.p.id))
            .map_err(FederationError::Domain)?;
        let redirect = RedirectUrl::new(r.p.redirect_uri.clone())
            .map_err(|e| FederationError::Upstream(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            m.clone(),
            ClientId::new(r.p.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in at provider `id`: where to send the browser, and the state (the door
    /// keeps it in the browser's session, so the answer is taken only in the browser that
    /// started the sign-in: no one can sign a victim in as themselves).
    pub async fn federated_start(
        &self,
        id: &str,
        return_to: &str,
    ) -> std::result::Result<(String, String), FederationError> {
        let r = self.enabled_provider(id).await?;
        let m = self.discover(&r.p, false).await?;
        let client = self.oidc_client(&r, &m)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for s in r.p.scopes.iter().filter(|s| *s != "openid") {
            req = req.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = req.set_pkce_challenge(challenge).url();
        let sealed = self
            .secrets
            .seal(verifier.secret(), &format!("federation:{}", r.p.id))?;
        sqlx::query("INSERT INTO federation_states (state_hash, provider_id, nonce, verifier, return_to, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(sha256_hex(state.secret()))
            .bind(&r.p.id)
            .bind(nonce.secret())
            .bind(&sealed)
            .bind(return_to)
            .bind(now() + STATE_SECS)
            .execute(&self.store.writer)
            .await?;
        Ok((url.to_string(), state.secret().clone()))
    }

    /// Finishes a sign-in at provider `id` with what the provider sent back.
    pub async fn federated_finish(
        &self,
        id: &str,
        code: Option<&str>,
        state: Option<&str>,
        error: Option<&str>,
        address: &str,
    ) -> std::result::Result<Federated, FederationError> {
        let r = self.enabled_provider(id).await?;
        let refused = |m: &str| FederationError::Refused(m.to_string());
        let state = state
            .filter(|s| !s.is_empty() && s.len() <= 512)
            .ok_or_else(|| refused("the answer has no state"))?;
        // Used once: the first request with the state takes it.
        let row: Option<(String, String, String)> = sqlx::query_as(
            "DELETE FROM federation_states WHERE state_hash = $1 AND provider_id = $2 AND expires_at > $3 RETURNING nonce, verifier, return_to",
        )
        .bind(sha256_hex(state))
        .bind(id)
        .bind(now())
        .fetch_optional(&self.store.writer)
        .await?;
        let (nonce, sealed_verifier, return_to) = row.ok_or_else(|| {
            refused("the sign-in was not started here, took too long, or was used already (state)")
        })?;
        if let Some(e) = error {
            let e: String = e
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(64)
                .collect();
            return Err(FederationError::Refused(format!(
                "the provider answered {e}"
            )));
        }
        let code = code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| refused("the answer has no code"))?;
        let (verifier, _) = self
            .secrets
            .open(&sealed_verifier, &format!("federation:{}", r.p.id))?;
        let m = self.discover(&r.p, false).await?;
        let client = self.oidc_client(&r, &m)?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| FederationError::Upstream(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(self.http()?)
            .await
            .map_err(|e| {
                FederationError::Refused(format!("the provider did not take the code: {e}"))
            })?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| refused("the provider sent no ID token"))?;
        let nonce = Nonce::new(nonce);
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(c) => c.clone(),
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                // Perhaps the provider rotated its keys: read them again, once.
                let m = self.discover(&r.p, true).await?;
                let client = self.oidc_client(&r, &m)?;
                let verifier = client.id_token_verifier();
                let claims = id_token
                    .claims(&verifier, &nonce)
                    .map_err(|e| {
                        FederationError::Refused(format!("the ID token does not verify: {e}"))
                    })?
                    .clone();
                claims
            }
            Err(e) => {
                return Err(FederationError::Refused(format!(
                    "the ID token does not verify: {e}"
                )))
            }
        };
        let mut person = UpstreamPerson {
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            username: claims.preferred_username().map(|u| u.to_string()),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
        };
        let subject = person.subject.clone();
        let (user_id, created) = match self.linked_user(&r.p, &subject).await? {
            Some(u) => (u, false),
            None => {
                // Only a first sign-in finds or makes its local person by these claims.
                if person.incomplete() {
                    self.complete_from_userinfo(&client, tokens.access_token(), &mut person)
                        .await?;
                }
                self.local_user(&r.p, &person, address).await?
            }
        };
        let row = self
            .user_row_by_id(&user_id)
            .await?
            .ok_or_else(|| refused("the account here is gone"))?;
        if !row.user.enabled || row.user.is_oauth_confidential_client {
            return Err(refused("your account here is disabled"));
        }
        sqlx::query("UPDATE user_links SET last_used_at = $1 WHERE issuer = $2 AND subject = $3")
            .bind(now())
            .bind(&r.p.issuer)
            .bind(&subject)
            .execute(&self.store.writer)
            .await?;
        if created {
            self.on_roles_changed().await?;
        }
        Ok(Federated {
            credential: row.secret_version,
            user: row.user,
            return_to,
            provider_name: r.p.name,
        })
    }

    /// Asks the provider's UserInfo endpoint, with the access token of this sign-in, for what the
    /// ID token left out. The answer must be about the ID token's subject (openidconnect checks
    /// `sub`); one that fails refuses the sign-in rather than matching on less. A provider with no
    /// UserInfo endpoint has said all it will in the ID token.
    async fn complete_from_userinfo(
        &self,
        client: &UpstreamClient,
        access_token: &AccessToken,
        person: &mut UpstreamPerson,
    ) -> std::result::Result<(), FederationError> {
        let Ok(request) = client.user_info(
            access_token.clone(),
            Some(SubjectIdentifier::new(person.subject.clone())),
        ) else {
            return Ok(());
        };
        let info: CoreUserInfoClaims =
            request
                .request_async(self.http()?)
                .await
                .map_err(|e| match e {
                    // Not reached, or no answer: the provider's trouble (502), not a refusal.
                    openidconnect::UserInfoError::Request(e) => {
                        FederationError::Upstream(format!("UserInfo: {e}"))
                    }
                    openidconnect::UserInfoError::ClaimsVerification(e) => {
                        FederationError::Refused(format!(
                            "the provider's UserInfo answer does not verify: {e}"
                        ))
                    }
                    other => FederationError::Refused(format!(
                        "the provider's UserInfo answer was refused: {other}"
                    )),
                })?;
        person.complete_with(&info);
        Ok(())
    }

    /// The local user a stored link names for `subject` at provider `p`.
    async fn linked_user(
        &self,
        p: &IdentityProvider,
        subject: &str,
    ) -> std::result::Result<Option<String>, FederationError> {
        Ok(
            sqlx::query_scalar("SELECT user_id FROM user_links WHERE issuer = $1 AND subject = $2")
                .bind(&p.issuer)
                .bind(subject)
                .fetch_optional(&self.store.pool)
                .await?,
        )
    }

    /// The local user of `person` at provider `p`, who has no link yet: matched or made.
    async fn local_user(
        &self,
        p: &IdentityProvider,
        person: &UpstreamPerson,
        address: &str,
    ) -> std::result::Result<(String, bool), FederationError> {
        let subject = person.subject.as_str();
        let (email, email_verified) = (person.email.as_deref(), person.email_verified);
        let username = person.username.as_deref();
        let matched: Option<String> = match p.match_by {
            MatchBy::Email => match email.filter(|_| email_verified) {
                Some(e) => {
                    let ids: Vec<String> = sqlx::query_scalar(
                        "SELECT id FROM users WHERE LOWER(email) = $1 AND is_oauth_confidential_client = 0 LIMIT 2",
                    )
                    .bind(e.to_lowercase())
                    .fetch_all(&self.store.pool)
                    .await?;
                    // Two people with the address: neither is taken for the other.
                    (ids.len() == 1).then(|| ids[0].clone())
                }
                None => None,
            },
            MatchBy::PreferredUsername => match username {
                Some(u) => self
                    .user_row_by_login(u)
                    .await?
                    .filter(|r| !r.user.is_oauth_confidential_client)
                    .map(|r| r.user.id),
                None => None,
            },
            MatchBy::None => None,
        };
        let (user_id, login, created) = match matched {
            Some(id) => {
                // An administrator's account is never linked by a matching address or login
                // name: that would hand its rights to whoever controls the upstream account.
                if let Some(who) = self.principal(&id).await? {
                    if who.sysadmin || !who.rights.is_empty() {
                        return Err(FederationError::Refused(format!(
                            "an administrator's account here is not linked to {} automatically",
                            p.name
                        )));
                    }
                }
                let login = self.user_row_by_id(&id).await?.map(|r| r.user.login_name).unwrap_or_default();
                (id, login, false)
            }
            None if p.create_users => {
                let user = self.create_federated_user(p, person, address).await?;
                (user.id, user.login_name, true)
            }
            None => {
                return Err(FederationError::Refused(format!(
                    "no account here is yours yet: ask an administrator to make one, then sign in with {} again",
                    p.name
                )))
            }
        };
        let mut tx = self.store.begin_write().await?;
        sqlx::query("INSERT INTO user_links (issuer, subject, provider_id, user_id, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (issuer, subject) DO NOTHING")
            .bind(&p.issuer)
            .bind(subject)
            .bind(&p.id)
            .bind(&user_id)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        crate::audit::write(
            &mut tx,
            Who::Person {
                login: &login,
                address: Some(address),
            },
            &Entry::new("user.linked", "user", &user_id).named(&format!("{login} ({})", p.name)),
        )
        .await?;
        tx.commit().await?;
        Ok((user_id, created))
    }

    /// A new person for a first sign-in at `p`: the login name from `preferred_username` (or the
    /// address), made unique; no password (they sign in through the provider); in its role.
    async fn create_federated_user(
        &self,
        p: &IdentityProvider,
        person: &UpstreamPerson,
        address: &str,
    ) -> std::result::Result<User, FederationError> {
        let UpstreamPerson {
            subject,
            email,
            email_verified,
            username,
            name,
        } = person;
        let (email, username, name) = (email.as_deref(), username.as_deref(), name.as_deref());
        let base = username
            .or_else(|| email.and_then(|e| e.split('@').next()))
            .map(str::to_string)
            .unwrap_or_else(|| format!("user-{}", &sha256_hex(subject)[..8]));
        let mut candidates = vec![base.clone()];
        candidates.extend((2..10).map(|i| format!("{base}-{i}")));
        candidates.push(format!(
            "{base}-{}",
            &sha256_hex(&format!("{}{subject}", p.issuer))[..8]
        ));
        for login in candidates {
            if crate::names::login_name(&login).is_err()
                || self.user_row_by_login(&login).await?.is_some()
            {
                continue;
            }
            let email = email
                .filter(|e| crate::names::Email::parse(e).is_ok())
                .unwrap_or_default();
            let new = NewUser {
                login_name: login.clone(),
                email: email.to_string(),
                display_name: name.unwrap_or_default().to_string(),
                password: String::new(),
                is_oauth_confidential_client: false,
                enabled: true,
                jwks: None,
            };
            let prepared = crate::users::prepare_user(
                &self.hasher,
                new,
                Some(crate::signin::passwords::UNUSABLE.to_string()),
            )
            .await?;
            let mut tx = self.store.begin_write().await?;
            let user = crate::users::insert_user_in(
                &mut tx,
                prepared,
                Who::Person {
                    login: &login,
                    address: Some(address),
                },
            )
            .await?;
            if *email_verified && !email.is_empty() {
                sqlx::query("UPDATE users SET email_verified = 1 WHERE id = $1")
                    .bind(&user.id)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(role) = &p.default_role {
                crate::roles::add_to_role_named_in(&mut tx, role, &user.id).await?;
            }
            tx.commit().await?;
            return Ok(user);
        }
        Err(FederationError::Refused(
            "no free login name for you here: ask an administrator".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(email: Option<&str>, verified: bool, username: Option<&str>) -> UpstreamPerson {
        UpstreamPerson {
            subject: "s-1".into(),
            email: email.map(str::to_string),
            email_verified: verified,
            username: username.map(str::to_string),
            name: None,
        }
    }

    /// A UserInfo answer about `s-1`.
    fn info(
        email: Option<&str>,
        verified: Option<bool>,
        username: Option<&str>,
        name: Option<&str>,
    ) -> CoreUserInfoClaims {
        use openidconnect::{
            EmptyAdditionalClaims, EndUserEmail, EndUserName, EndUserUsername, LocalizedClaim,
            StandardClaims, UserInfoClaims,
        };
        let mut names = LocalizedClaim::new();
        if let Some(n) = name {
            names.insert(None, EndUserName::new(n.into()));
        }
        UserInfoClaims::new(
            StandardClaims::new(SubjectIdentifier::new("s-1".into()))
                .set_email(email.map(|e| EndUserEmail::new(e.into())))
                .set_email_verified(verified)
                .set_preferred_username(username.map(|u| EndUserUsername::new(u.into())))
                .set_name(name.map(|_| names)),
            EmptyAdditionalClaims {},
        )
    }

    /// What the person's claims say: e-mail, verified, login name, name.
    fn claims(p: &UpstreamPerson) -> (Option<&str>, bool, Option<&str>, Option<&str>) {
        (
            p.email.as_deref(),
            p.email_verified,
            p.username.as_deref(),
            p.name.as_deref(),
        )
    }

    #[test]
    fn userinfo_fills_only_what_the_id_token_left_out() {
        let answer = info(
            Some("ada@upstream.example"),
            Some(true),
            Some("ada"),
            Some("Ada L."),
        );
        // Nothing in the ID token: everything from UserInfo.
        let mut p = person(None, false, None);
        assert!(p.incomplete());
        p.complete_with(&answer);
        assert_eq!(
            claims(&p),
            (
                Some("ada@upstream.example"),
                true,
                Some("ada"),
                Some("Ada L.")
            )
        );
        assert!(!p.incomplete());
        // What the ID token said stays, and the address keeps its own (unverified) flag: a
        // verified flag from UserInfo never vouches for another address.
        let mut p = person(Some("other@upstream.example"), false, Some("other"));
        p.complete_with(&answer);
        assert_eq!(
            claims(&p),
            (
                Some("other@upstream.example"),
                false,
                Some("other"),
                Some("Ada L.")
            )
        );
    }

    #[test]
    fn an_address_without_its_verified_flag_is_unverified() {
        let mut p = person(None, false, None);
        p.complete_with(&info(Some("ada@upstream.example"), None, None, None));
        assert_eq!(p.email.as_deref(), Some("ada@upstream.example"));
        assert!(!p.email_verified);
        assert!(p.incomplete(), "no login name nor name yet");
    }
}
