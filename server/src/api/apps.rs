//! `/api/v1/apps…` and the changelog.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use domain::apps::AppFields;
use domain::Services;

use super::error::ApiError;
use super::extract::{Actor, ApiJson, ListParams};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps", get(list).post(create))
        .route("/api/v1/apps/{app}", get(read).patch(update).delete(delete))
        .route("/api/v1/apps/{app}/changelog", get(changelog))
}

#[utoipa::path(get, path = "/api/v1/apps", tag = "apps",
    params(("category" = Option<String>, Query, description = "only apps of this category"),
           ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = domain::Page<domain::apps::App>), (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn list(
    State(s): State<Services>,
    Actor(p): Actor,
    q: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        s.list_apps(
            &p,
            q.category.as_deref(),
            None,
            q.limit.unwrap_or(0),
            q.offset.unwrap_or(0),
        )
        .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/apps", tag = "apps", request_body = AppFields,
    responses((status = 201, body = domain::apps::App), (status = 409, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn create(
    State(s): State<Services>,
    Actor(p): Actor,
    ApiJson(f): ApiJson<AppFields>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(s.create_app(&p, f).await?)))
}

#[utoipa::path(get, path = "/api/v1/apps/{app}", tag = "apps", params(("app" = String, Path, description = "Application ID")),
    responses((status = 200, body = domain::apps::App), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn read(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(app): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let app = s.get_app(&p, &app).await?;
    Ok(Json(&*app).into_response())
}

#[utoipa::path(patch, path = "/api/v1/apps/{app}", tag = "apps", params(("app" = String, Path)), request_body = AppFields,
    responses((status = 200, body = domain::apps::App), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn update(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(app): Path<String>,
    ApiJson(f): ApiJson<AppFields>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(s.update_app(&p, &app, f).await?))
}

#[utoipa::path(delete, path = "/api/v1/apps/{app}", tag = "apps", params(("app" = String, Path)),
    responses((status = 204), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(app): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    s.delete_app(&p, &app).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/apps/{app}/changelog", tag = "apps", params(("app" = String, Path), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, body = domain::Page<domain::apps::Change>), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn changelog(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(app): Path<String>,
    q: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(
        s.app_changelog(&p, &app, q.limit.unwrap_or(0), q.offset.unwrap_or(0))
            .await?,
    ))
}
