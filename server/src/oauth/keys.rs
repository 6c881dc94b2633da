//! `GET /oauth2/keys/{app}`: the JWKS (RFC 7517).

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::Json;
use domain::oauth::OAuthError;
use domain::Services;

use super::error::OAuthResponse;

pub async fn jwks(
    State(s): State<Services>,
    Path(app): Path<String>,
) -> Result<impl IntoResponse, OAuthResponse> {
    s.cached_app(&app)
        .await?
        .ok_or_else(OAuthError::unknown_app)?;
    let keys = s.jwks().await.map_err(OAuthError::from)?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "public, max-age=60")],
        Json(serde_json::json!({"keys": keys})),
    ))
}
