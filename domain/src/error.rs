//! The domain's errors; each door maps them to its own format in one place: `DomainError` for
//! the admin rules, `AuthError` for signing in, `OAuthError` for the OAuth2 endpoints (RFC 6749).

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Input breaks a rule; `field` is the JSON name (with a path for nested values).
    #[error("{message}")]
    Validation { field: String, message: String },
    /// A unique value is already taken.
    #[error("{message}")]
    Duplicate { field: String, message: String },
    /// The body names an object that does not exist (a role in `user_access_roles`): 404 with
    /// the field, as a path naming a missing object is.
    #[error("{message}")]
    Unknown { field: String, message: String },
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

impl From<model::Invalid> for DomainError {
    fn from(e: model::Invalid) -> Self {
        if e.duplicate {
            DomainError::Duplicate {
                field: e.field,
                message: e.message,
            }
        } else {
            DomainError::Validation {
                field: e.field,
                message: e.message,
            }
        }
    }
}

impl From<model::Forbidden> for DomainError {
    fn from(e: model::Forbidden) -> Self {
        DomainError::Forbidden(e.0)
    }
}

/// Whether a failure's cause is the database pool's wait running out: every connection busy
/// (an overload), not a bug — the doors answer 503 with `Retry-After`, never a 500.
pub fn is_overload(cause: &str) -> bool {
    cause.contains("pool timed out while waiting for an open connection")
}

impl From<sqlx::Error> for DomainError {
    fn from(e: sqlx::Error) -> Self {
        // Logged once, in full, where the error becomes a response (never shown to a client).
        DomainError::Internal(format!("database error: {e}"))
    }
}

/// Why a person or client could not sign in.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid login name or password")]
    InvalidCredentials,
    #[error("too many failed attempts; try again in {0} seconds")]
    Throttled(i64),
    /// Too many verifications are waiting for Argon2: try again in a moment (503).
    #[error("busy verifying other sign-ins; try again in a moment")]
    Busy,
    #[error(transparent)]
    Domain(DomainError),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        AuthError::Domain(e.into())
    }
}

impl From<DomainError> for AuthError {
    fn from(e: DomainError) -> Self {
        AuthError::Domain(e)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    /// RFC 8707 §2: a `resource` the app does not serve, or wider than the grant.
    InvalidTarget,
    AccessDenied,
    /// OpenID Connect Core §3.1.2.6, for `prompt=none`.
    LoginRequired,
    ConsentRequired,
    /// The person must do something first (set up or give a second factor).
    InteractionRequired,
    TooManyRequests,
    /// RFC 8628 §3.5: the person has not decided yet (poll again).
    AuthorizationPending,
    /// RFC 8628 §3.5: polling faster than the interval (which grows by 5 s).
    SlowDown,
    /// RFC 8628 §3.5: the device code expired.
    ExpiredToken,
    /// RFC 6749 §4.1.2.1: the server is overloaded (503 with `Retry-After`).
    TemporarilyUnavailable,
    /// RFC 9449 §5: the DPoP proof is missing where required, or not valid.
    InvalidDpopProof,
    /// RFC 9449 §8: the proof must carry the server's nonce (given in `DPoP-Nonce`).
    UseDpopNonce,
    ServerError,
}

impl OAuthErrorCode {
    /// Every code, for `parse`.
    const ALL: [OAuthErrorCode; 20] = [
        OAuthErrorCode::InvalidRequest,
        OAuthErrorCode::InvalidClient,
        OAuthErrorCode::InvalidGrant,
        OAuthErrorCode::UnauthorizedClient,
        OAuthErrorCode::UnsupportedGrantType,
        OAuthErrorCode::UnsupportedResponseType,
        OAuthErrorCode::InvalidScope,
        OAuthErrorCode::InvalidTarget,
        OAuthErrorCode::AccessDenied,
        OAuthErrorCode::LoginRequired,
        OAuthErrorCode::ConsentRequired,
        OAuthErrorCode::InteractionRequired,
        OAuthErrorCode::TooManyRequests,
        OAuthErrorCode::AuthorizationPending,
        OAuthErrorCode::SlowDown,
        OAuthErrorCode::ExpiredToken,
        OAuthErrorCode::TemporarilyUnavailable,
        OAuthErrorCode::InvalidDpopProof,
        OAuthErrorCode::UseDpopNonce,
        OAuthErrorCode::ServerError,
    ];
    /// The code named `s` (its RFC name).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnauthorizedClient => "unauthorized_client",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::UnsupportedResponseType => "unsupported_response_type",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::InvalidTarget => "invalid_target",
            OAuthErrorCode::AccessDenied => "access_denied",
            OAuthErrorCode::LoginRequired => "login_required",
            OAuthErrorCode::ConsentRequired => "consent_required",
            OAuthErrorCode::InteractionRequired => "interaction_required",
            OAuthErrorCode::TooManyRequests => "slow_down",
            OAuthErrorCode::AuthorizationPending => "authorization_pending",
            OAuthErrorCode::SlowDown => "slow_down",
            OAuthErrorCode::ExpiredToken => "expired_token",
            OAuthErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            OAuthErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            OAuthErrorCode::UseDpopNonce => "use_dpop_nonce",
            OAuthErrorCode::ServerError => "server_error",
        }
    }
}

/// An RFC 6749 §5.2 error; the door renders it with its status and headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
    /// The client authenticated with HTTP Basic: a 401 carries `WWW-Authenticate: Basic`.
    pub basic_challenge: bool,
    pub retry_after: Option<i64>,
    /// The app does not exist (404).
    pub not_found: bool,
    /// For `server_error`: the underlying failure, logged once where the error becomes a
    /// response and never shown to the client.
    pub cause: Option<String>,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
            basic_challenge: false,
            retry_after: None,
            not_found: false,
            cause: None,
        }
    }
    pub fn unknown_app() -> Self {
        OAuthError {
            not_found: true,
            ..OAuthError::new(OAuthErrorCode::InvalidRequest, "unknown application")
        }
    }
    /// An unexpected failure (database, signing): a bare 500 that keeps its cause for the log;
    /// an overloaded database pool is `temporarily_unavailable` (503, `Retry-After`) instead.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let cause = cause.to_string();
        if is_overload(&cause) {
            return OAuthError {
                retry_after: Some(1),
                cause: Some(cause),
                ..OAuthError::new(
                    OAuthErrorCode::TemporarilyUnavailable,
                    "the server is busy; try again in a moment",
                )
            };
        }
        OAuthError {
            cause: Some(cause),
            ..OAuthError::new(OAuthErrorCode::ServerError, "internal error")
        }
    }
    pub(crate) fn request(d: &str) -> Self {
        OAuthError::new(OAuthErrorCode::InvalidRequest, d)
    }
    pub(crate) fn grant(d: &str) -> Self {
        OAuthError::new(OAuthErrorCode::InvalidGrant, d)
    }
}

/// A refused DPoP proof at the token endpoint (RFC 9449 §5.10, §8).
impl From<crate::oauth::dpop::ProofError> for OAuthError {
    fn from(e: crate::oauth::dpop::ProofError) -> Self {
        use crate::oauth::dpop::ProofError;
        match e {
            ProofError::Invalid(why) => OAuthError::new(OAuthErrorCode::InvalidDpopProof, why),
            ProofError::UseNonce => OAuthError::new(
                OAuthErrorCode::UseDpopNonce,
                "the DPoP proof must carry the nonce given in the DPoP-Nonce header",
            ),
            ProofError::Internal(cause) => OAuthError::internal(cause),
        }
    }
}

/// A refused sign-in at an OAuth2 endpoint: throttled is `slow_down` with `Retry-After`, wrong
/// credentials `invalid_grant` (the password grant; client authentication says `invalid_client`
/// itself), a failure underneath a 500 that keeps its cause.
impl From<AuthError> for OAuthError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Throttled(secs) => OAuthError {
                retry_after: Some(secs),
                ..OAuthError::new(OAuthErrorCode::TooManyRequests, "too many failed attempts")
            },
            AuthError::Busy => OAuthError {
                retry_after: Some(1),
                ..OAuthError::new(
                    OAuthErrorCode::TemporarilyUnavailable,
                    "busy verifying other sign-ins; try again in a moment",
                )
            },
            AuthError::InvalidCredentials => OAuthError::grant("invalid username or password"),
            AuthError::Domain(d) => d.into(),
        }
    }
}

impl From<DomainError> for OAuthError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Internal(cause) => OAuthError::internal(cause),
            other => OAuthError::internal(format!("unexpected domain error: {other}")),
        }
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;

#[cfg(test)]
mod overload_tests {
    use super::*;

    /// Every pool connection busy is an overload (503 with Retry-After), never a 500; any other
    /// database failure stays a 500 that keeps its cause.
    #[test]
    fn a_busy_pool_is_temporarily_unavailable() {
        let busy = OAuthError::internal(DomainError::from(sqlx::Error::PoolTimedOut));
        assert_eq!(busy.code, OAuthErrorCode::TemporarilyUnavailable);
        assert_eq!(busy.retry_after, Some(1));
        assert!(busy.cause.is_some_and(|c| is_overload(&c)));
        let broken = OAuthError::internal(DomainError::from(sqlx::Error::RowNotFound));
        assert_eq!(broken.code, OAuthErrorCode::ServerError);
        assert!(broken.cause.is_some());
    }
}
