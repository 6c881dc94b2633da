//! Clients registered with an app (SPEC §3b): the app's Client ID Type is `registered`, and
//! each client has its own record — redirect URIs, grant types, authentication method —
//! made by RFC 7591 dynamic registration (when the app's `client_registration` allows it) and
//! managed with its registration access token (RFC 7592). Secrets and registration access
//! tokens are 256 random bits generated here and stored as SHA-256 only: a slow hash protects
//! guessable secrets, and keeps Argon2 off the token endpoint.

mod admin;
pub mod documents;
mod metadata;

pub use admin::ClientView;

use serde_json::{json, Value};
use sqlx::Row;

pub use metadata::{check_metadata, ClientMetadata, AUTH_METHODS};

use crate::apps::{App, ClientIdType, ClientRegistration};
use crate::audit::{Entry, Who};
use crate::clock::now;
use crate::tokens::{constant_time_eq, random_token, sha256_hex};
use crate::Services;

/// Who made a client that registered itself.
pub const SELF_REGISTERED: &str = "registration";

/// An RFC 7591 §3.2.2 / RFC 6750 error, with its HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationError {
    pub status: u16,
    pub code: &'static str,
    pub description: String,
    /// Answered with `WWW-Authenticate: Bearer …` (a missing or wrong token).
    pub bearer_challenge: bool,
}

impl RegistrationError {
    pub fn new(status: u16, code: &'static str, description: impl Into<String>) -> Self {
        RegistrationError {
            status,
            code,
            description: description.into(),
            bearer_challenge: false,
        }
    }
    pub(crate) fn metadata(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_client_metadata", description)
    }
    pub(crate) fn redirect(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_redirect_uri", description)
    }
    fn token(description: &str) -> Self {
        RegistrationError {
            bearer_challenge: true,
            ..Self::new(401, "invalid_token", description)
        }
    }
    /// An unexpected failure: logged here, once and in full; a bare 500.
    fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error in client registration");
        Self::new(500, "server_error", "internal error")
    }
}

impl From<crate::DomainError> for RegistrationError {
    fn from(e: crate::DomainError) -> Self {
        RegistrationError::internal(e)
    }
}

impl From<sqlx::Error> for RegistrationError {
    fn from(e: sqlx::Error) -> Self {
        RegistrationError::internal(e)
    }
}

/// Registered clients recently read, for the token and authorize endpoints (one query less
/// per request). A change made on this instance empties it at once; one made on another
/// arrives through `changes` (the app's), or within `CACHE_TTL`.
pub struct ClientRecords(moka::sync::Cache<(String, String), RegisteredClient>);

impl Default for ClientRecords {
    fn default() -> Self {
        ClientRecords(
            moka::sync::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(crate::clients::CACHE_TTL)
                .build(),
        )
    }
}

impl ClientRecords {
    pub fn invalidate_all(&self) {
        self.0.invalidate_all();
    }
}

/// A registered client as the token and authorize endpoints need it.
#[derive(Clone, Debug)]
pub struct RegisteredClient {
    pub client_id: String,
    pub app_id: String,
    pub metadata: ClientMetadata,
    pub(crate) secret_hash: Option<String>,
    registration_token_hash: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Described by a client ID metadata document at `client_id`, not stored here.
    pub document: bool,
}

impl RegisteredClient {
    /// The client a metadata document at `client_id` describes.
    pub(crate) fn from_document(app: &App, client_id: &str, metadata: ClientMetadata) -> Self {
        RegisteredClient {
            client_id: client_id.to_string(),
            app_id: app.app_id.clone(),
            metadata,
            secret_hash: None,
            registration_token_hash: None,
            created_by: "metadata document".into(),
            created_at: 0,
            last_used_at: None,
            document: true,
        }
    }

    pub fn has_grant(&self, grant: &str) -> bool {
        self.metadata.grant_types.iter().any(|g| g == grant)
    }
    /// Whether `secret` is this client's secret (constant time over the hashes).
    pub fn secret_matches(&self, secret: &str) -> bool {
        self.secret_hash
            .as_deref()
            .is_some_and(|h| constant_time_eq(h, &sha256_hex(secret)))
    }
}

impl Services {
    /// The app, if it takes registered clients (else a 404 in RFC 7591's format).
    async fn registering_app(
        &self,
        app_id: &str,
    ) -> Result<std::sync::Arc<App>, RegistrationError> {
        let app = self
            .cached_app(app_id)
            .await
            .map_err(|e| RegistrationError::internal(e.cause.unwrap_or(e.description)))?
            .map(|(a, _)| a)
            .filter(|a| a.client_id_type == ClientIdType::Registered)
            .ok_or_else(|| {
                RegistrationError::new(
                    404,
                    "invalid_request",
                    "no such application takes registered clients",
                )
            })?;
        Ok(app)
    }

    /// `POST /oauth2/register/{app}` (RFC 7591): checks who may register (`client_registration`),
    /// the metadata, and the app's cap; answers the RFC 7591 §3.2.1 document.
    pub async fn register_client(
        &self,
        app_id: &str,
        initial_access_token: Option<&str>,
        body: &Value,
    ) -> Result<Value, RegistrationError> {
        let app = self.registering_app(app_id).await?;
        match app.client_registration {
            ClientRegistration::Off => {
                return Err(RegistrationError::new(
                    403,
                    "access_denied",
                    "this application does not take registrations",
                ))
            }
            ClientRegistration::Token => {
                let token = initial_access_token.ok_or_else(|| {
                    RegistrationError::token("an initial access token is required")
                })?;
                let found: Option<i64> = sqlx::query_scalar(
                    "SELECT expires_at FROM initial_access_tokens WHERE token_hash = $1 AND app_id = $2",
                )
                .bind(sha256_hex(token))
                .bind(&app.app_id)
                .fetch_optional(&self.store.pool)
                .await?;
                if found.is_none_or(|exp| exp <= now()) {
                    return Err(RegistrationError::token(
                        "the initial access token is not valid",
                    ));
                }
            }
            ClientRegistration::Open => {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM app_clients WHERE app_id = $1 AND created_by = $2",
                )
                .bind(&app.app_id)
                .bind(SELF_REGISTERED)
                .fetch_one(&self.store.pool)
                .await?;
                if n >= self.registration_cap() as i64 {
                    return Err(RegistrationError::new(
                        429,
                        "access_denied",
                        "this application has as many self-registered clients as it takes",
                    ));
                }
            }
        }
        let metadata = check_metadata(&app, body)?;
        let (client, secret, token) = self
            .insert_registered(
                &app,
                metadata,
                SELF_REGISTERED,
                Who::System,
                "client.register",
            )
            .await?;
        Ok(self.registration_document(&client, secret.as_deref(), Some(&token)))
    }

    /// Stores a new client of `app` with fresh credentials: the client, its secret (unless it
    /// authenticates without one) and its registration access token; with its audit record
    /// (`action` by `who`) in the same transaction.
    pub(crate) async fn insert_registered(
        &self,
        app: &App,
        metadata: ClientMetadata,
        created_by: &str,
        who: Who<'_>,
        action: &'static str,
    ) -> Result<(RegisteredClient, Option<String>, String), RegistrationError> {
        let client_id = random_token(16);
        let secret = metadata.needs_secret().then(|| random_token(32));
        let token = random_token(32);
        let t = now();
        let client = RegisteredClient {
            client_id,
            app_id: app.app_id.clone(),
            secret_hash: secret.as_deref().map(sha256_hex),
            registration_token_hash: Some(sha256_hex(&token)),
            metadata,
            created_by: created_by.to_string(),
            created_at: t,
            last_used_at: None,
            document: false,
        };
        let mut tx = self.store.begin_write().await?;
        sqlx::query(
            "INSERT INTO app_clients (client_id, app_id, metadata, secret_hash, registration_token_hash, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&client.client_id)
        .bind(&client.app_id)
        .bind(serde_json::to_string(&client.metadata).unwrap_or_default())
        .bind(client.secret_hash.as_deref())
        .bind(client.registration_token_hash.as_deref())
        .bind(&client.created_by)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        audit_client(&mut tx, who, action, &client).await?;
        tx.commit().await?;
        Ok((client, secret, token))
    }

    /// The RFC 7591 §3.2.1 answer: the metadata, the id and (when just made) the credentials.
    fn registration_document(
        &self,
        c: &RegisteredClient,
        secret: Option<&str>,
        token: Option<&str>,
    ) -> Value {
        let mut doc = serde_json::to_value(&c.metadata).unwrap_or_else(|_| json!({}));
        doc["client_id"] = json!(c.client_id);
        doc["client_id_issued_at"] = json!(c.created_at);
        if let Some(s) = secret {
            doc["client_secret"] = json!(s);
            doc["client_secret_expires_at"] = json!(0);
        }
        if let Some(t) = token {
            doc["registration_access_token"] = json!(t);
        }
        doc["registration_client_uri"] = json!(format!(
            "{}/oauth2/register/{}/{}",
            self.public_url, c.app_id, c.client_id
        ));
        doc
    }

    /// A client registered with `app_id`, if there is one.
    pub async fn registered_client(
        &self,
        app_id: &str,
        client_id: &str,
    ) -> crate::Result<Option<RegisteredClient>> {
        let Some(row) = sqlx::query(
            "SELECT client_id, app_id, metadata, secret_hash, registration_token_hash, created_by, created_at, last_used_at \
             FROM app_clients WHERE client_id = $1 AND app_id = $2",
        )
        .bind(client_id)
        .bind(app_id)
        .fetch_optional(&self.store.pool)
        .await?
        else {
            return Ok(None);
        };
        let metadata: String = row.try_get("metadata")?;
        Ok(Some(RegisteredClient {
            client_id: row.try_get("client_id")?,
            app_id: row.try_get("app_id")?,
            metadata: serde_json::from_str(&metadata).map_err(|e| {
                crate::DomainError::Internal(format!("bad stored client metadata: {e}"))
            })?,
            secret_hash: row.try_get("secret_hash")?,
            registration_token_hash: row.try_get("registration_token_hash")?,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
            document: false,
        }))
    }

    /// Notes that a client was used, at most once an hour (not a write per token request).
    pub(crate) async fn touch_registered(&self, c: &RegisteredClient) -> crate::Result<()> {
        let t = now();
        if c.last_used_at.is_some_and(|u| t - u < 3600) {
            return Ok(());
        }
        sqlx::query("UPDATE app_clients SET last_used_at = $1 WHERE client_id = $2")
            .bind(t)
            .bind(&c.client_id)
            .execute(&self.store.writer)
            .await?;
        // The next request reads the new time, rather than touching again for `CACHE_TTL`.
        self.client_records
            .0
            .invalidate(&(c.app_id.clone(), c.client_id.clone()));
        Ok(())
    }

    /// `registered_client` through `client_records`.
    pub(crate) async fn cached_registered_client(
        &self,
        app_id: &str,
        client_id: &str,
    ) -> crate::Result<Option<RegisteredClient>> {
        let key = (app_id.to_string(), client_id.to_string());
        if let Some(c) = self.client_records.0.get(&key) {
            crate::counters::cache_lookup(crate::counters::Cache::RegisteredClient, true);
            return Ok(Some(c));
        }
        crate::counters::cache_lookup(crate::counters::Cache::RegisteredClient, false);
        let found = self.registered_client(app_id, client_id).await?;
        if let Some(c) = &found {
            self.client_records.0.insert(key, c.clone());
        }
        Ok(found)
    }

    /// The client a registration access token manages (RFC 7592 §3: a wrong token, an
    /// unknown client and a client of another app are all the same 401).
    async fn managed_client(
        &self,
        app_id: &str,
        client_id: &str,
        token: Option<&str>,
    ) -> Result<RegisteredClient, RegistrationError> {
        let token = token
            .ok_or_else(|| RegistrationError::token("the registration access token is required"))?;
        self.registering_app(app_id).await?;
        let c = self
            .registered_client(app_id, client_id)
            .await?
            .filter(|c| {
                c.registration_token_hash
                    .as_deref()
                    .is_some_and(|h| constant_time_eq(h, &sha256_hex(token)))
            })
            .ok_or_else(|| {
                RegistrationError::token("the registration access token is not valid")
            })?;
        Ok(c)
    }

    /// `GET /oauth2/register/{app}/{client_id}` (RFC 7592 §2.1).
    pub async fn read_registration(
        &self,
        app_id: &str,
        client_id: &str,
        token: Option<&str>,
    ) -> Result<Value, RegistrationError> {
        let c = self.managed_client(app_id, client_id, token).await?;
        Ok(self.registration_document(&c, None, None))
    }

    /// `PUT /oauth2/register/{app}/{client_id}` (RFC 7592 §2.2): the metadata replaced whole,
    /// checked as at registration. A client that did not authenticate with a secret and now
    /// does gets one (answered once).
    pub async fn update_registration(
        &self,
        app_id: &str,
        client_id: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Result<Value, RegistrationError> {
        let mut c = self.managed_client(app_id, client_id, token).await?;
        if body.get("client_id").and_then(Value::as_str) != Some(client_id) {
            return Err(RegistrationError::metadata(
                "client_id must be the client's id",
            ));
        }
        if let Some(sent) = body.get("client_secret").and_then(Value::as_str) {
            if !c.secret_matches(sent) {
                return Err(RegistrationError::metadata(
                    "client_secret is not the client's secret",
                ));
            }
        }
        let app = self.registering_app(app_id).await?;
        let metadata = check_metadata(&app, body)?;
        let new_secret = self
            .store_metadata(&mut c, metadata, Who::System, "client.update")
            .await?;
        Ok(self.registration_document(&c, new_secret.as_deref(), None))
    }

    /// Replaces a client's metadata (already checked): a client that now authenticates with a
    /// secret and had none gets one (returned, to be shown once); one that no longer does
    /// loses it. Audited as `action` by `who`, in the same transaction.
    pub(crate) async fn store_metadata(
        &self,
        c: &mut RegisteredClient,
        metadata: ClientMetadata,
        who: Who<'_>,
        action: &'static str,
    ) -> crate::Result<Option<String>> {
        let new_secret =
            (metadata.needs_secret() && c.secret_hash.is_none()).then(|| random_token(32));
        if !metadata.needs_secret() {
            c.secret_hash = None;
        }
        if let Some(s) = &new_secret {
            c.secret_hash = Some(sha256_hex(s));
        }
        c.metadata = metadata;
        let mut tx = self.store.begin_write().await?;
        sqlx::query(
            "UPDATE app_clients SET metadata = $1, secret_hash = $2, updated_at = $3 WHERE client_id = $4 AND app_id = $5",
        )
        .bind(serde_json::to_string(&c.metadata).unwrap_or_default())
        .bind(c.secret_hash.as_deref())
        .bind(now())
        .bind(&c.client_id)
        .bind(&c.app_id)
        .execute(&mut *tx)
        .await?;
        audit_client(&mut tx, who, action, c).await?;
        tx.commit().await?;
        self.clients_changed(&c.app_id).await;
        Ok(new_secret)
    }

    /// `DELETE /oauth2/register/{app}/{client_id}` (RFC 7592 §2.3): the client and every
    /// token it holds end.
    pub async fn delete_registration(
        &self,
        app_id: &str,
        client_id: &str,
        token: Option<&str>,
    ) -> Result<(), RegistrationError> {
        let c = self.managed_client(app_id, client_id, token).await?;
        Ok(self.delete_registered(&c, Who::System).await?)
    }

    /// Deletes a client with every token it holds and its audit record, all or nothing.
    pub(crate) async fn delete_registered(
        &self,
        c: &RegisteredClient,
        who: Who<'_>,
    ) -> crate::Result<()> {
        let mut tx = self.store.begin_write().await?;
        sqlx::query("DELETE FROM app_clients WHERE client_id = $1 AND app_id = $2")
            .bind(&c.client_id)
            .bind(&c.app_id)
            .execute(&mut *tx)
            .await?;
        self.revoke_in(
            &mut tx,
            vec![sqlx::query(
                "UPDATE tokens SET revoked = 1 WHERE app_id = $1 AND client_id = $2 AND revoked = 0",
            )
            .bind(c.app_id.clone())
            .bind(c.client_id.clone())],
        )
        .await?;
        audit_client(&mut tx, who, "client.delete", c).await?;
        tx.commit().await?;
        self.clients_changed(&c.app_id).await;
        Ok(())
    }

    /// A client of `app_id` changed: cached token answers and client records may be stale,
    /// here and on the other instances.
    async fn clients_changed(&self, app_id: &str) {
        self.seen.invalidate_all();
        self.client_records.invalidate_all();
        self.announce_change(crate::changes::Change::App(app_id))
            .await;
    }

    /// Seconds a self-registered client may stay unused (`GATEHOUSE_REGISTRATION_IDLE_DAYS`).
    pub fn registration_idle_secs(&self) -> i64 {
        self.registration_idle
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many self-registered clients an app takes (`GATEHOUSE_REGISTRATION_MAX_CLIENTS`).
    pub fn registration_cap(&self) -> usize {
        self.registration_cap
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Issues an initial access token for `app_id` (RFC 7591 §3), valid for `secs`; only the
    /// caller sees it.
    pub async fn issue_initial_access_token(
        &self,
        actor: &crate::Principal,
        app_id: &str,
        secs: i64,
    ) -> crate::Result<(String, i64)> {
        if !actor.has(crate::Right::Apps) {
            return Err(crate::DomainError::Forbidden(
                "this needs the admin right \"apps\"".into(),
            ));
        }
        self.app(app_id)
            .await?
            .ok_or(crate::DomainError::NotFound("app"))?;
        let token = random_token(32);
        let t = now();
        let expires = t + secs.clamp(60, 30 * 24 * 3600);
        sqlx::query(
            "INSERT INTO initial_access_tokens (token_hash, app_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&token))
        .bind(app_id)
        .bind(&actor.user_id)
        .bind(t)
        .bind(expires)
        .execute(&self.store.writer)
        .await?;
        Ok((token, expires))
    }
}

/// The audit record of a change to client `c`, written with the change.
pub(crate) async fn audit_client(
    conn: &mut sqlx::AnyConnection,
    who: Who<'_>,
    action: &'static str,
    c: &RegisteredClient,
) -> crate::Result<()> {
    let name = c.metadata.client_name.clone().unwrap_or_default();
    crate::audit::write(
        conn,
        who,
        &Entry::new(action, "client", &c.client_id).named(&name),
    )
    .await
}
