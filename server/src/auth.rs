//! Bearer tokens on Gatehouse's own REST API (SPEC §4).

use axum::http::request::Parts;
use domain::Principal;

use crate::api::error::ApiError;
use crate::AppState;

/// The principal of a bearer token, when the request carries one. Until tokens are issued no
/// bearer token is valid.
pub async fn bearer_principal(
    parts: &Parts,
    _state: &AppState,
) -> Result<Option<Principal>, ApiError> {
    let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = value.to_str().unwrap_or("");
    if v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ") {
        let mut e = ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the bearer token is not valid",
        );
        e.challenge = Some("Bearer error=\"invalid_token\"".into());
        return Err(e);
    }
    Ok(None)
}
