//! `/api/v1/roles…`

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use domain::roles::{NewRole, RolePatch};
use domain::Services;

use super::error::ApiError;
use super::extract::{Actor, ApiJson, ListParams};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/roles", get(list).post(create))
        .route("/api/v1/roles/{id}", get(read).patch(update).delete(delete))
        .route(
            "/api/v1/roles/{id}/members/{user_id}",
            put(add_member).delete(remove_member),
        )
}

#[utoipa::path(get, path = "/api/v1/roles", tag = "roles", params(("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, body = domain::Page<domain::roles::Role>), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn list(
    State(s): State<Services>,
    Actor(p): Actor,
    q: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        s.list_roles(&p, q.limit.unwrap_or(0), q.offset.unwrap_or(0))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/roles", tag = "roles", request_body = NewRole, responses((status = 201, body = domain::roles::Role), (status = 409, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn create(
    State(s): State<Services>,
    Actor(p): Actor,
    ApiJson(new): ApiJson<NewRole>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(s.create_role(&p, new).await?)))
}

#[utoipa::path(get, path = "/api/v1/roles/{id}", tag = "roles", params(("id" = String, Path)), responses((status = 200, body = domain::roles::Role), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn read(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(s.get_role(&p, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/roles/{id}", tag = "roles", params(("id" = String, Path)), request_body = RolePatch, responses((status = 200, body = domain::roles::Role), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn update(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<RolePatch>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(s.update_role(&p, &id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/roles/{id}", tag = "roles", params(("id" = String, Path)), responses((status = 204), (status = 404, body = super::openapi::ErrorBody), (status = 409, body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    s.delete_role(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/roles/{id}/members/{user_id}", tag = "roles", params(("id" = String, Path), ("user_id" = String, Path)), responses((status = 204), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn add_member(
    State(s): State<Services>,
    Actor(p): Actor,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    s.add_role_member(&p, &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/roles/{id}/members/{user_id}", tag = "roles", params(("id" = String, Path), ("user_id" = String, Path)), responses((status = 204), (status = 404, body = super::openapi::ErrorBody), (status = 409, body = super::openapi::ErrorBody)))]
pub async fn remove_member(
    State(s): State<Services>,
    Actor(p): Actor,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    s.remove_role_member(&p, &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
