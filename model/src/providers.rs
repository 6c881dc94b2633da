//! Upstream OpenID providers a person may sign in through (SPEC §6b), as the portal and the
//! admin API show them: never with the client secret, only whether one is set.

use serde::{Deserialize, Serialize};

/// How a first sign-in through a provider finds the local user it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MatchBy {
    /// A local person with the same address, when the provider says it verified it.
    #[default]
    Email,
    /// A local person whose login name is the provider's `preferred_username`.
    PreferredUsername,
    /// Only a stored link (or a new user when `create_users` is on).
    None,
}

impl MatchBy {
    pub const ALL: [MatchBy; 3] = [MatchBy::Email, MatchBy::PreferredUsername, MatchBy::None];
    pub fn as_str(self) -> &'static str {
        match self {
            MatchBy::Email => "email",
            MatchBy::PreferredUsername => "preferred_username",
            MatchBy::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<MatchBy> {
        MatchBy::ALL.into_iter().find(|m| m.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            MatchBy::Email => "The same verified e-mail address",
            MatchBy::PreferredUsername => "The same login name (preferred_username)",
            MatchBy::None => "Only people who signed in through it before",
        }
    }
}

/// An upstream OpenID provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityProvider {
    pub id: String,
    pub name: String,
    /// Its issuer: discovery is read from `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Whether a client secret is stored (it is never shown again).
    pub client_secret_set: bool,
    pub scopes: Vec<String>,
    /// "Sign in with {button_label}" on the login page.
    pub button_label: String,
    pub match_by: MatchBy,
    /// A person no local user matches gets one.
    pub create_users: bool,
    /// The role such a new user joins (a role name).
    pub default_role: Option<String>,
    pub enabled: bool,
    /// Where the provider sends the person back (register it there).
    pub redirect_uri: String,
    pub created_at: String,
}

/// A local user's link to their account at a provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserLink {
    pub provider_id: String,
    pub provider_name: String,
    pub issuer: String,
    /// The person's `sub` at the provider.
    pub subject: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// A provider's button on the login page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderButton {
    pub id: String,
    pub label: String,
}
