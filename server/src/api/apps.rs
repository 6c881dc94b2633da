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
        .route(
            "/api/v1/apps/{app}/initial-access-tokens",
            axum::routing::post(initial_access_token),
        )
}

/// How long an initial access token is valid.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitialAccessTokenRequest {
    /// Seconds, 60 .. 2,592,000 (30 days); default 86,400.
    pub expires_in: Option<i64>,
}

/// An initial access token (RFC 7591 §3) for registering clients with an app whose
/// `client_registration` is `token`: shown once, stored hashed.
#[utoipa::path(post, path = "/api/v1/apps/{app}/initial-access-tokens", tag = "apps", params(("app" = String, Path)),
    request_body = InitialAccessTokenRequest,
    responses((status = 201, description = "{\"initial_access_token\": …, \"expires_at\": unix seconds}"), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn initial_access_token(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(app): Path<String>,
    ApiJson(req): ApiJson<InitialAccessTokenRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let secs = req.expires_in.unwrap_or(86_400);
    if !(60..=2_592_000).contains(&secs) {
        return Err(ApiError::validation(
            "expires_in",
            "expires_in must be 60 .. 2592000 seconds",
        ));
    }
    let (token, expires_at) = s.issue_initial_access_token(&p, &app, secs).await?;
    let mut res = (
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({"initial_access_token": token, "expires_at": expires_at})),
    )
        .into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
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
