//! Registered clients as administrators see and manage them (SPEC §3b, the app screen's
//! Clients section and `/api/v1/apps/{app}/clients`): list, add, change, delete, rotate the
//! secret. Every change needs the `apps` right and is audited; a new or rotated secret is
//! shown once and stored as SHA-256 only.

use serde::Serialize;
use serde_json::Value;

use super::audit_client;
use super::{check_metadata, ClientMetadata, RegisteredClient, RegistrationError};
use crate::apps::ClientIdType;
use crate::audit::Who;
use crate::clock::{now, rfc3339};
use crate::error::{DomainError, Result};
use crate::tokens::{random_token, sha256_hex};
use crate::{Principal, Right, Services};

/// A registered client as the admin API and the portal show it (never a secret).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientView {
    pub client_id: String,
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: ClientMetadata,
    /// `registration` for a client that registered itself, else the administrator's user id.
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<RegisteredClient> for ClientView {
    fn from(c: RegisteredClient) -> Self {
        ClientView {
            client_id: c.client_id,
            metadata: c.metadata,
            created_by: c.created_by,
            created_at: rfc3339(c.created_at),
            last_used_at: c.last_used_at.map(rfc3339),
        }
    }
}

/// Metadata refused by RFC 7591's rules, as the admin API's field error.
fn invalid(e: RegistrationError) -> DomainError {
    match e.code {
        "invalid_redirect_uri" => DomainError::invalid("redirect_uris", e.description),
        "invalid_client_metadata" => DomainError::invalid("metadata", e.description),
        _ => DomainError::Internal(e.description),
    }
}

impl Services {
    /// The app, when it takes registered clients and `actor` may manage apps.
    async fn app_for_clients(&self, actor: &Principal, app_id: &str) -> Result<crate::apps::App> {
        actor.require(Right::Apps)?;
        let app = self
            .app(app_id)
            .await?
            .ok_or(DomainError::NotFound("app"))?;
        if app.client_id_type != ClientIdType::Registered {
            return Err(DomainError::Conflict(
                "clients are added to apps whose Client ID Type is registered".into(),
            ));
        }
        Ok(app)
    }

    async fn client_of(&self, app_id: &str, client_id: &str) -> Result<RegisteredClient> {
        self.registered_client(app_id, client_id)
            .await?
            .ok_or(DomainError::NotFound("client"))
    }

    /// The clients of an app, newest first.
    pub async fn list_clients(&self, actor: &Principal, app_id: &str) -> Result<Vec<ClientView>> {
        actor.require(Right::Apps)?;
        self.app(app_id)
            .await?
            .ok_or(DomainError::NotFound("app"))?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT client_id FROM app_clients WHERE app_id = $1 ORDER BY created_at DESC, client_id",
        )
        .bind(app_id)
        .fetch_all(&self.store.pool)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = self.registered_client(app_id, &id).await? {
                out.push(c.into());
            }
        }
        Ok(out)
    }

    pub async fn get_client(
        &self,
        actor: &Principal,
        app_id: &str,
        client_id: &str,
    ) -> Result<ClientView> {
        actor.require(Right::Apps)?;
        Ok(self.client_of(app_id, client_id).await?.into())
    }

    /// Adds a client to an app; answers it with its secret when it has one (shown once).
    pub async fn create_client(
        &self,
        actor: &Principal,
        app_id: &str,
        body: &Value,
    ) -> Result<(ClientView, Option<String>)> {
        let app = self.app_for_clients(actor, app_id).await?;
        let metadata = check_metadata(&app, body).map_err(invalid)?;
        let (client, secret, _token) = self
            .insert_registered(
                &app,
                metadata,
                &actor.user_id,
                Who::Principal(actor),
                "client.create",
            )
            .await
            .map_err(|e| DomainError::Internal(e.description))?;
        Ok((client.into(), secret))
    }

    /// Changes a client's metadata: the fields sent replace those stored, and the whole is
    /// checked again as at registration. A client that now authenticates with a secret and
    /// had none gets one (answered once); one that no longer does loses it.
    pub async fn update_client(
        &self,
        actor: &Principal,
        app_id: &str,
        client_id: &str,
        changes: &Value,
    ) -> Result<(ClientView, Option<String>)> {
        let app = self.app_for_clients(actor, app_id).await?;
        let mut c = self.client_of(app_id, client_id).await?;
        let Value::Object(changes) = changes else {
            return Err(DomainError::invalid(
                "metadata",
                "the body must be a JSON object",
            ));
        };
        let mut merged =
            serde_json::to_value(&c.metadata).map_err(|e| DomainError::Internal(e.to_string()))?;
        for (k, v) in changes {
            if matches!(
                k.as_str(),
                "client_id" | "created_by" | "created_at" | "last_used_at"
            ) {
                continue;
            }
            merged[k] = v.clone();
        }
        // New grant types without response types: the default for them, not the old ones.
        if changes.contains_key("grant_types") && !changes.contains_key("response_types") {
            if let Some(m) = merged.as_object_mut() {
                m.remove("response_types");
            }
        }
        let metadata = check_metadata(&app, &merged).map_err(invalid)?;
        let secret = self
            .store_metadata(&mut c, metadata, Who::Principal(actor), "client.update")
            .await?;
        Ok((c.into(), secret))
    }

    /// Deletes a client; every token it holds ends with it.
    pub async fn delete_client(
        &self,
        actor: &Principal,
        app_id: &str,
        client_id: &str,
    ) -> Result<()> {
        actor.require(Right::Apps)?;
        let c = self.client_of(app_id, client_id).await?;
        self.delete_registered(&c, Who::Principal(actor)).await
    }

    /// A new secret for a client that authenticates with one (the old one stops working).
    pub async fn rotate_client_secret(
        &self,
        actor: &Principal,
        app_id: &str,
        client_id: &str,
    ) -> Result<String> {
        actor.require(Right::Apps)?;
        let c = self.client_of(app_id, client_id).await?;
        if !c.metadata.needs_secret() {
            return Err(DomainError::Conflict(
                "this client authenticates without a secret".into(),
            ));
        }
        let secret = random_token(32);
        let mut tx = self.store.begin_write().await?;
        sqlx::query("UPDATE app_clients SET secret_hash = $1, updated_at = $2 WHERE client_id = $3 AND app_id = $4")
            .bind(sha256_hex(&secret))
            .bind(now())
            .bind(client_id)
            .bind(app_id)
            .execute(&mut *tx)
            .await?;
        audit_client(&mut tx, Who::Principal(actor), "client.rotate_secret", &c).await?;
        tx.commit().await?;
        // The old secret stops working now, not when a cached record expires.
        self.clients_changed(app_id).await;
        Ok(secret)
    }
}
