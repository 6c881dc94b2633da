//! `POST /api/v1/keys/rotate`.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use domain::Services;

use super::error::ApiError;
use super::extract::Actor;

#[utoipa::path(post, path = "/api/v1/keys/rotate", tag = "keys",
    responses((status = 200, body = super::openapi::KeyRotated), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn rotate(
    State(s): State<Services>,
    Actor(p): Actor,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(super::openapi::KeyRotated {
        kid: s.rotate_keys(&p).await?,
    }))
}
