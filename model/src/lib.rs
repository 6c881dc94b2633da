//! Gatehouse's plain model, shared by the server and the browser: ids and names with their
//! validating constructors, the enums, `App`, `Scope`, `User`, `Role`, rights and the principal.
//! Nothing here does I/O, so the portal's wasm runs exactly the checks the server runs.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod apps;
pub mod branding;
pub mod factors;
pub mod i18n;
pub mod names;
pub mod operations;
pub mod providers;
pub mod rights;
pub mod roles;
pub mod scopes;
pub mod users;

#[cfg(test)]
mod proptests;

use serde::{Deserialize, Serialize};

/// Input that breaks a rule; `field` is the JSON name, with a path for nested values
/// (`scopes[1].rest_regexes[0]`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
    /// The value is well-formed but already used (a scope name twice in one app): the doors
    /// answer this as a duplicate (409), not as a broken rule (422).
    pub duplicate: bool,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid {
            field: field.into(),
            message: message.into(),
            duplicate: false,
        }
    }
    /// A well-formed value used twice.
    pub fn duplicate(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid {
            duplicate: true,
            ..Invalid::new(field, message)
        }
    }
    /// The same error with `prefix` put before its field (`scopes[1].` + `name`).
    pub fn under(self, prefix: &str) -> Self {
        Invalid {
            field: format!("{prefix}{}", self.field),
            ..self
        }
    }
}

/// The acting principal lacks a right.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Forbidden(pub String);

pub type Result<T, E = Invalid> = std::result::Result<T, E>;

/// A page of a list: `{"items": [...], "total": n}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// `limit` defaults to 50 and is at most 500; `offset` is never negative.
pub fn clamp_page(limit: i64, offset: i64) -> (i64, i64) {
    let limit = if limit <= 0 { 50 } else { limit.min(500) };
    (limit, offset.max(0))
}

/// Percent-encodes a query or fragment value (RFC 3986 unreserved characters pass).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn encode_leaves_unreserved_characters() {
        assert_eq!(super::encode("a b/c?d=é~"), "a%20b%2Fc%3Fd%3D%C3%A9~");
    }
}
