//! Bearer tokens on Gatehouse's own REST API (SPEC §4, RFC 6750): valid token, a granted scope
//! whose REST regex matches the path, and the token's user behind it.

use axum::http::request::Parts;
use axum::http::StatusCode;
use domain::bearer::BearerError;
use domain::Principal;

use crate::api::error::ApiError;
use crate::AppState;

fn invalid_token(message: &str) -> ApiError {
    let mut e = ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", message);
    e.challenge = Some("Bearer realm=\"gatehouse\", error=\"invalid_token\"".into());
    e
}

/// The bearer token of the request, if it carries one (`None` when there is no Authorization
/// header, so the session is tried instead).
pub fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    (v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ")).then(|| v[7..].trim())
}

/// The principal of a bearer token (the decision is the domain's `bearer_principal`); this
/// door only reads the header and renders the RFC 6750 answer.
pub async fn bearer_principal(
    parts: &Parts,
    state: &AppState,
) -> Result<Option<Principal>, ApiError> {
    let Some(token) = bearer(parts) else {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
            && parts.extensions.get::<tower_sessions::Session>().is_none()
        {
            return Err(invalid_token("unsupported Authorization scheme"));
        }
        return Ok(None);
    };
    match state
        .services
        .bearer_principal(token, parts.uri.path())
        .await
    {
        Ok(mut p) => {
            p.origin.address = Some(crate::client_addr::ClientAddr::of(parts).0.to_string());
            Ok(Some(p))
        }
        Err(BearerError::InvalidToken(why)) => Err(invalid_token(why)),
        Err(BearerError::InsufficientScope) => {
            let mut e = ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                "no granted scope allows this path",
            );
            e.challenge = Some("Bearer realm=\"gatehouse\", error=\"insufficient_scope\"".into());
            Err(e)
        }
        Err(BearerError::Internal(e)) => Err(ApiError::internal(e.cause.unwrap_or(e.description))),
    }
}
