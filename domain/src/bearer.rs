//! Bearer tokens on Gatehouse's own REST API (SPEC §4, RFC 6750): the token is valid, one of
//! its granted scopes has a REST regex matching the request path, and its user may act.

use crate::error::OAuthError;
use crate::rights::Principal;
use crate::Services;

/// Why a bearer token does not let a request through.
#[derive(Debug)]
pub enum BearerError {
    /// 401 `invalid_token`: invalid, expired or revoked, or its app or user is gone.
    InvalidToken(&'static str),
    /// 403 `insufficient_scope`: no granted scope allows this path.
    InsufficientScope,
    /// An unexpected failure (database): a 500 whose cause is logged by the door.
    Internal(OAuthError),
}

impl From<OAuthError> for BearerError {
    fn from(e: OAuthError) -> Self {
        BearerError::Internal(e)
    }
}

impl From<crate::DomainError> for BearerError {
    fn from(e: crate::DomainError) -> Self {
        BearerError::Internal(e.into())
    }
}

impl Services {
    /// The principal a bearer `token` acts as on `path` (the request path with its leading `/`).
    pub async fn bearer_principal(
        &self,
        token: &str,
        path: &str,
    ) -> Result<Principal, BearerError> {
        let info = self
            .inspect_token(token)
            .await?
            .filter(|i| !i.is_refresh)
            .ok_or(BearerError::InvalidToken(
                "the access token is invalid, expired or revoked",
            ))?;
        let (_, matcher) =
            self.cached_app(&info.app_id)
                .await?
                .ok_or(BearerError::InvalidToken(
                    "the token's app no longer exists",
                ))?;
        if !matcher.allows(info.scope.split(' '), path) {
            return Err(BearerError::InsufficientScope);
        }
        self.principal(&info.sub)
            .await?
            .ok_or(BearerError::InvalidToken(
                "the token's user is gone or disabled",
            ))
    }
}
