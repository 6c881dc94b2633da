//! The domain's errors; each door maps them to its own format in one place.

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input breaks a rule; `field` is the JSON name (with a path for nested values).
    #[error("{message}")]
    Validation { field: String, message: String },
    /// A unique value is already taken.
    #[error("{message}")]
    Duplicate {
        field: &'static str,
        message: String,
    },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// An unexpected failure; the text is the full cause, for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }
    /// The same error with `prefix` put before its field (`scopes[1]` + `name`).
    pub fn under(self, prefix: &str) -> Self {
        match self {
            DomainError::Validation { field, message } => DomainError::Validation {
                field: format!("{prefix}{field}"),
                message,
            },
            other => other,
        }
    }
}

impl From<sqlx::Error> for DomainError {
    fn from(e: sqlx::Error) -> Self {
        // Logged once, in full, where the error becomes a response (never shown to a client).
        DomainError::Internal(format!("database error: {e}"))
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;
