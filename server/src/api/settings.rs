//! `/api/v1/settings/branding…` (SPEC §6b): the hosted pages' product name, accent colour and
//! logo, for System Administrators.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use domain::branding::BrandingPatch;
use domain::Services;

use super::error::ApiError;
use super::extract::{Actor, ApiJson};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/settings/branding", get(read).patch(update))
        .route(
            "/api/v1/settings/branding/logo",
            put(set_logo).delete(remove_logo),
        )
}

#[utoipa::path(get, path = "/api/v1/settings/branding", tag = "settings",
    responses((status = 200, body = domain::brand::Branding)))]
pub async fn read(
    State(s): State<Services>,
    Actor(_p): Actor,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json((*s.branding()).clone()))
}

/// The product name and the accent colour (`#rrggbb`, contrast-checked for WCAG AA; `null`: the default).
#[utoipa::path(patch, path = "/api/v1/settings/branding", tag = "settings", request_body = BrandingPatch,
    responses((status = 200, body = domain::brand::Branding), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn update(
    State(s): State<Services>,
    Actor(p): Actor,
    ApiJson(patch): ApiJson<BrandingPatch>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json((*s.update_branding(&p, patch).await?).clone()))
}

/// The logo: the image's bytes as the body (PNG, JPEG, WebP or GIF, at most 100 KB).
#[utoipa::path(put, path = "/api/v1/settings/branding/logo", tag = "settings",
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 200, body = domain::brand::Branding), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn set_logo(
    State(s): State<Services>,
    Actor(p): Actor,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json((*s.set_logo(&p, &body).await?).clone()))
}

#[utoipa::path(delete, path = "/api/v1/settings/branding/logo", tag = "settings",
    responses((status = 204), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn remove_logo(
    State(s): State<Services>,
    Actor(p): Actor,
) -> Result<impl IntoResponse, ApiError> {
    s.remove_logo(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}
