//! The OAuth2 rules of SPEC §2-§3, one file per step: `grants` parses a token request and runs
//! its grant, `issue` turns a grant into tokens (JWT RS256 or opaque), `introspect` says what a
//! token stands for, `revoke` ends tokens, `cache` holds apps with their compiled scopes.

mod batch;
mod cache;
pub mod device;
pub mod dpop;
pub mod exchange;
mod grants;
mod introspect;
mod issue;
mod once;
pub mod par;
pub mod resources;
mod revoke;
pub mod seen;

use serde::{Deserialize, Serialize};

use crate::clients::ClientCredentials;

pub use crate::error::{OAuthError, OAuthErrorCode};
pub(crate) use batch::TokenWriter;
pub use cache::AppCache;
pub use grants::{pkce_matches, resolve_scopes, GrantType};
pub(crate) use once::OnceWriter;

/// The parameters of a token request, whatever their encoding.
#[derive(Clone, Debug, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
    /// RFC 8628 `device_code`.
    pub device_code: Option<String>,
    /// RFC 8693: the token exchanged, the actor's, and their types; what is asked for.
    pub subject_token: Option<String>,
    pub subject_token_type: Option<String>,
    pub actor_token: Option<String>,
    pub actor_token_type: Option<String>,
    pub requested_token_type: Option<String>,
    /// RFC 8693 `audience` (read like `resource`).
    pub audience: Vec<String>,
    /// RFC 8707 `resource` parameters (the parameter may repeat).
    pub resources: Vec<String>,
    pub credentials: ClientCredentials,
    pub client_addr: String,
    /// The request's `DPoP` header (RFC 9449), when it has one.
    pub dpop: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// With `openid` granted to a person's sign-in (OpenID Connect Core 1.0 §3.1.3.3).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id_token: Option<String>,
    /// RFC 8693 §2.2.1: what a token exchange issued.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub issued_token_type: Option<String>,
}

/// JWT access token claims (RFC 9068).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    /// The app's id, or the resource(s) the token is for (RFC 8707).
    pub aud: resources::Audience,
    /// The app that issued a token for a resource (whose `aud` then names the resource).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub app_id: Option<String>,
    pub client_id: String,
    pub scope: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub username: Option<String>,
    /// A person's token: how they signed in (RFC 8176), and `acr` for it.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub amr: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub acr: Option<String>,
    /// A token from an exchange (RFC 8693 §4.1): the client that acted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub act: Option<Actor>,
    /// A DPoP-bound token (RFC 9449 §6.1): the thumbprint of the client's key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cnf: Option<dpop::Confirmation>,
}

/// RFC 8693 §4.1 `act`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
}

/// What a valid token stands for (introspection, bearer checks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub app_id: String,
    /// The audience: the app's id, or the resources the token is for (RFC 8707).
    pub aud: Vec<String>,
    pub client_id: String,
    pub sub: String,
    pub username: Option<String>,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
    pub is_refresh: bool,
    /// How the person signed in (empty for a client's own token, or when not known).
    pub amr: Vec<String>,
    /// A token from an exchange: the client that acted (RFC 8693 `act.sub`).
    pub act: Option<String>,
    /// A DPoP-bound token: the thumbprint of the key that must sign a proof with each use.
    pub jkt: Option<String>,
}
