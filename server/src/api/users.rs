//! `/api/v1/users…`

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use domain::users::{NewUser, UserFilter, UserPatch};
use domain::Services;

use super::error::ApiError;
use super::extract::{Actor, ApiJson, ListParams};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list).post(create))
        .route("/api/v1/users/{id}", get(read).patch(update).delete(delete))
        .route(
            "/api/v1/users/{id}/factors",
            get(factors).delete(reset_factors),
        )
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(("login_name" = Option<String>, Query, description = "exact login name, case-insensitive"), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, body = domain::Page<domain::users::User>), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn list(
    State(s): State<Services>,
    Actor(p): Actor,
    q: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    let filter = q
        .login_name
        .as_deref()
        .map(UserFilter::Exact)
        .unwrap_or(UserFilter::All);
    Ok(Json(
        s.list_users(&p, filter, q.limit.unwrap_or(0), q.offset.unwrap_or(0))
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser, responses((status = 201, body = domain::users::User), (status = 409, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn create(
    State(s): State<Services>,
    Actor(p): Actor,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((StatusCode::CREATED, Json(s.create_user(&p, new).await?)))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), responses((status = 200, body = domain::users::User), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn read(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(s.get_user(&p, &id).await?))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), request_body = UserPatch, responses((status = 200, body = domain::users::User), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn update(
    State(s): State<Services>,
    Actor(p): Actor,
    session: Option<axum::Extension<tower_sessions::Session>>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<impl IntoResponse, ApiError> {
    let user = s.update_user(&p, &id, patch).await?;
    // A person changing their own password stays signed in where they did it.
    if let Some(axum::Extension(session)) = session.filter(|_| p.user_id == id) {
        app::api::ssr::keep_session(&session, &s, &id).await?;
    }
    Ok(Json(user))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)), responses((status = 204), (status = 404, body = super::openapi::ErrorBody), (status = 409, body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    s.delete_user(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person's second factors (SPEC §6a): an authenticator app, unused recovery codes, passkeys
/// (names and dates; never a secret).
#[utoipa::path(get, path = "/api/v1/users/{id}/factors", tag = "users", params(("id" = String, Path)), responses((status = 200, body = domain::factors::Factors), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn factors(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(s.user_factors(&p, &id).await?))
}

/// Removes every second factor of a person who lost theirs (audited `user.factors_reset`).
#[utoipa::path(delete, path = "/api/v1/users/{id}/factors", tag = "users", params(("id" = String, Path)), responses((status = 204), (status = 403, body = super::openapi::ErrorBody), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn reset_factors(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    s.reset_factors(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
