//! A role as the doors and the portal show it, and the names of the built-in roles.

use serde::{Deserialize, Serialize};

use crate::rights::Right;

pub const SYSADMIN: &str = "System Administrator";
pub const EVERYBODY: &str = "Everybody";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    pub admin_rights: Vec<Right>,
    /// `"sysadmin"`, `"everybody"` or absent for a role an administrator made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builtin: Option<String>,
    /// Explicit members' user ids. Everybody's membership is implicit: every enabled user.
    pub members: Vec<String>,
    pub created_at: String,
}
