//! Gatehouse's rules, with no web types: apps, scopes, users, roles, tokens, keys, storage.
//! One set of services used by the portal's server functions and by the HTTP endpoints.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod activity;
pub mod apps;
pub mod audit;
pub mod authorize;
pub mod bearer;
pub mod branding;
pub mod changes;
pub mod clients;
pub mod clock;
pub mod config_doc;
pub mod counters;
pub mod delegation;
pub mod error;
pub mod housekeeping;
pub mod jwks;
pub mod keys;
pub mod mail;
pub mod names;
pub mod net;
pub mod oauth;
pub mod oidc;
pub mod registration;
pub mod rights;
pub mod roles;
pub mod scopes;
pub mod secrets;
pub mod signin;
pub mod store;
pub mod tokens;
pub mod users;

pub use error::{DomainError, Result};
pub use model::branding as brand;
pub use model::factors;
pub use model::providers;
pub use rights::{Principal, Right};
pub use signin::{passwords, throttle};
pub use store::Store;

pub use model::{clamp_page, Page};

/// The one handle the doors hold: one `Arc`, so the clone every layer and extractor makes per
/// request is a reference count, not a copy of every cache handle.
#[derive(Clone)]
pub struct Services(std::sync::Arc<ServicesInner>);

impl std::ops::Deref for Services {
    type Target = ServicesInner;
    fn deref(&self) -> &ServicesInner {
        &self.0
    }
}

/// What `Services` holds.
pub struct ServicesInner {
    pub store: Store,
    /// The externally visible base URL, without a trailing slash.
    pub public_url: String,
    pub(crate) keys: keys::KeyCache,
    pub(crate) apps: oauth::AppCache,
    pub(crate) clients: clients::ClientCache,
    pub(crate) blocks: throttle::BlockMirror,
    /// Seals the private signing keys at rest.
    pub(crate) secrets: std::sync::Arc<secrets::SecretBox>,
    /// Writes issued tokens (group commit on SQLite); started on first use, inside the runtime.
    pub(crate) token_writer: std::sync::Arc<std::sync::OnceLock<oauth::TokenWriter>>,
    /// Stores one-time ids (assertion and DPoP `jti`s), batched; started on first use.
    pub(crate) once_writer: std::sync::OnceLock<oauth::OnceWriter>,
    /// DPoP proofs must carry the server's nonce (`GATEHOUSE_DPOP_NONCE`).
    pub dpop_nonce: std::sync::atomic::AtomicBool,
    pub(crate) principals: bearer::PrincipalCache,
    /// Activity counts for the dashboard, flushed to the database every few seconds.
    pub activity: activity::Counters,
    /// Tokens recently found valid (introspection and bearer calls).
    pub seen: oauth::seen::SeenTokens,
    /// Where every password and secret is hashed and verified, bounded.
    pub hasher: passwords::Hasher,
    /// Identical concurrent sign-ins of people and clients share one verification.
    pub(crate) person_flights:
        signin::single_flight::SingleFlight<[u8; 32], signin::SharedOutcome<(users::User, i64)>>,
    pub(crate) client_flights:
        signin::single_flight::SingleFlight<[u8; 32], Result<clients::Client, error::OAuthError>>,
    /// How many self-registered clients an app takes (RFC 7591 open registration).
    pub registration_cap: std::sync::atomic::AtomicUsize,
    /// How long a self-registered client may stay unused before housekeeping deletes it.
    pub registration_idle: std::sync::atomic::AtomicI64,
    /// The portal's administrators need a second factor (`GATEHOUSE_ADMIN_REQUIRE_MFA`).
    pub admin_require_mfa: std::sync::atomic::AtomicBool,
    /// Outbound HTTPS that cannot be pointed at the inside (client ID metadata documents).
    pub outbound: net::Outbound,
    pub(crate) documents: registration::documents::DocumentCache,
    pub(crate) client_records: registration::ClientRecords,
    /// The WebAuthn relying party (passkeys), from the public URL.
    pub(crate) relying_party: signin::passkeys::RelyingParty,
    /// Password reset and sign-up by e-mail (set at start).
    pub(crate) self_service: std::sync::OnceLock<signin::selfservice::SelfService>,
    pub(crate) self_service_limit: signin::selfservice::AddressLimit,
    /// Upstream OpenID providers' discovery and the client that reaches them.
    pub(crate) upstreams: signin::upstream::Upstreams,
    /// The hosted pages' product name, colour and logo, as last read.
    pub(crate) branding: branding::BrandingCache,
}

impl Services {
    pub fn new(store: Store, public_url: &str, secrets: secrets::SecretBox) -> Services {
        Services::with_hash_limits(store, public_url, secrets, Default::default())
    }

    /// As `new`, with the bounds of password hashing (`passwords::HashLimits`).
    pub fn with_hash_limits(
        store: Store,
        public_url: &str,
        secrets: secrets::SecretBox,
        limits: passwords::HashLimits,
    ) -> Services {
        Services(std::sync::Arc::new(ServicesInner {
            store,
            public_url: public_url.trim_end_matches('/').to_string(),
            keys: Default::default(),
            apps: Default::default(),
            clients: Default::default(),
            blocks: Default::default(),
            secrets: std::sync::Arc::new(secrets),
            token_writer: Default::default(),
            once_writer: Default::default(),
            dpop_nonce: Default::default(),
            principals: Default::default(),
            activity: Default::default(),
            seen: Default::default(),
            hasher: passwords::Hasher::new(limits),
            person_flights: Default::default(),
            client_flights: Default::default(),
            registration_cap: std::sync::atomic::AtomicUsize::new(1000),
            registration_idle: std::sync::atomic::AtomicI64::new(30 * 86_400),
            admin_require_mfa: Default::default(),
            outbound: Default::default(),
            documents: Default::default(),
            client_records: Default::default(),
            relying_party: Default::default(),
            self_service: Default::default(),
            self_service_limit: Default::default(),
            upstreams: Default::default(),
            branding: Default::default(),
        }))
    }

    /// Called when a user's password, enabled flag or client flag changed, or before it is
    /// deleted: whatever was issued on the old credentials must stop working.
    /// Their portal sessions end too: a session remembers the credential version it was signed
    /// in with (`users.secret_version`), and every request compares it with the database's.
    pub(crate) async fn on_user_credentials_changed(&self, user_id: &str) -> Result<()> {
        self.clients.invalidate_user(user_id);
        self.principals.invalidate_all();
        // Refresh tokens and opaque access tokens: one statement.
        self.revoke_with(vec![sqlx::query(
            "UPDATE tokens SET revoked = 1 WHERE user_id = $1 AND revoked = 0",
        )
        .bind(user_id)])
            .await?;
        self.announce_change(changes::Change::User(user_id)).await;
        Ok(())
    }

    /// Called before a user is deleted: every token issued to or for them stops working.
    pub(crate) async fn before_user_deleted(&self, user_id: &str) -> Result<()> {
        self.clients.invalidate_user(user_id);
        self.principals.invalidate_all();
        self.announce_change(changes::Change::User(user_id)).await;
        self.revoke_subject(&format!("user:{user_id}")).await
    }

    /// Called after role membership or rights changed.
    pub(crate) async fn on_roles_changed(&self) -> Result<()> {
        self.clients.invalidate_all();
        self.principals.invalidate_all();
        // Apps name the roles whose members may use them.
        self.apps.invalidate_all();
        // Tokens remembered as valid are checked again: their user may have lost access.
        self.announce_revocation().await?;
        self.announce_change(changes::Change::Roles).await;
        Ok(())
    }

    /// Called after a role was deleted: apps stop granting access through it (the app_roles
    /// rows go with the role).
    pub(crate) async fn on_role_deleted(&self, _name: &str) -> Result<()> {
        Ok(())
    }

    /// Called after an app was created, changed or deleted.
    pub(crate) async fn on_app_changed(&self, app_id: &str) {
        self.apps.invalidate(app_id);
        // Its registered clients may have changed with it (configuration import, deletion).
        self.client_records.invalidate_all();
        // Its User Access may have changed: tokens remembered as valid are checked again.
        if let Err(e) = self.announce_revocation().await {
            tracing::warn!(error = %e, app = app_id, "cannot announce an app change to other instances");
        }
        self.announce_change(changes::Change::App(app_id)).await;
    }
}
