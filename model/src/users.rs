//! A user of the directory as the doors and the portal show it: never a password or its hash.

use serde::{Deserialize, Serialize};

/// A user as the doors show it: never a password or its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub login_name: String,
    pub email: String,
    pub display_name: String,
    pub is_oauth_confidential_client: bool,
    pub enabled: bool,
    pub created_at: String,
    /// A confidential client's public keys (a JWK set) for `private_key_jwt` authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub jwks: Option<serde_json::Value>,
    /// The person proved the address is theirs (a verification or password-reset link).
    #[serde(default)]
    pub email_verified: bool,
}
