//! `/api/v1/identity-providers…` (SPEC §6b): upstream OpenID providers, for System
//! Administrators; and `/api/v1/users/{id}/links…`, a user's links to them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use axum::{Json, Router};
use domain::signin::upstream::ProviderFields;
use domain::Services;

use super::error::ApiError;
use super::extract::{Actor, ApiJson};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/identity-providers", get(list).post(create))
        .route(
            "/api/v1/identity-providers/{id}",
            get(read).patch(update).delete(remove),
        )
        .route("/api/v1/users/{id}/links", get(links))
        .route("/api/v1/users/{id}/links/{provider_id}", delete(unlink))
}

#[utoipa::path(get, path = "/api/v1/identity-providers", tag = "identity providers",
    responses((status = 200, body = domain::Page<domain::providers::IdentityProvider>), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn list(
    State(s): State<Services>,
    Actor(p): Actor,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(s.list_providers(&p).await?))
}

/// Adds an upstream OpenID provider; its `redirect_uri` is what to register there.
#[utoipa::path(post, path = "/api/v1/identity-providers", tag = "identity providers", request_body = ProviderFields,
    responses((status = 201, body = domain::providers::IdentityProvider), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn create(
    State(s): State<Services>,
    Actor(p): Actor,
    ApiJson(f): ApiJson<ProviderFields>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(s.create_provider(&p, f).await?)))
}

#[utoipa::path(get, path = "/api/v1/identity-providers/{id}", tag = "identity providers", params(("id" = String, Path)),
    responses((status = 200, body = domain::providers::IdentityProvider), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn read(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(s.get_provider(&p, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/identity-providers/{id}", tag = "identity providers", params(("id" = String, Path)), request_body = ProviderFields,
    responses((status = 200, body = domain::providers::IdentityProvider), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn update(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(id): Path<String>,
    ApiJson(f): ApiJson<ProviderFields>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(s.update_provider(&p, &id, f).await?))
}

#[utoipa::path(delete, path = "/api/v1/identity-providers/{id}", tag = "identity providers", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn remove(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    s.delete_provider(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's links to upstream providers (who they are there).
#[utoipa::path(get, path = "/api/v1/users/{id}/links", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = domain::Page<domain::providers::UserLink>), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn links(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(s.user_links(&p, &id).await?))
}

/// Removes a user's link to a provider (audited `user.unlinked`).
#[utoipa::path(delete, path = "/api/v1/users/{id}/links/{provider_id}", tag = "users", params(("id" = String, Path), ("provider_id" = String, Path)),
    responses((status = 204), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn unlink(
    State(s): State<Services>,
    Actor(p): Actor,
    Path((id, provider_id)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    s.remove_user_link(&p, &id, &provider_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
