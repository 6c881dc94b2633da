//! `/api/v1/apps/{app}/clients…`: the clients registered with an app whose Client ID Type is
//! `registered` (SPEC §3b). A new or rotated secret is answered once.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::registration::ClientView;
use domain::Services;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{Actor, ApiJson};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps/{app}/clients", get(list).post(create))
        .route(
            "/api/v1/apps/{app}/clients/{client_id}",
            get(read).patch(update).delete(delete),
        )
        .route(
            "/api/v1/apps/{app}/clients/{client_id}/secret",
            post(rotate_secret),
        )
}

/// RFC 7591 client metadata, as the registration endpoint takes it.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ClientBody {
    pub redirect_uris: Option<Vec<String>>,
    /// `none`, `client_secret_basic` (default), `client_secret_post` or `private_key_jwt`.
    pub token_endpoint_auth_method: Option<String>,
    /// Subset of `authorization_code` (default), `refresh_token`, `client_credentials`.
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub scope: Option<String>,
    pub contacts: Option<Vec<String>>,
    /// Public keys (a JWK set) for `private_key_jwt`.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
}

/// The client, with its secret when one was just made (shown once).
fn with_secret(status: StatusCode, c: ClientView, secret: Option<String>) -> Response {
    let mut body = serde_json::to_value(c).unwrap_or_else(|_| json!({}));
    if let Some(s) = secret {
        body["client_secret"] = json!(s);
    }
    let mut res = (status, Json(body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[utoipa::path(get, path = "/api/v1/apps/{app}/clients", tag = "clients", params(("app" = String, Path)),
    responses((status = 200, body = Vec<ClientView>), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn list(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(app): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(s.list_clients(&p, &app).await?))
}

#[utoipa::path(post, path = "/api/v1/apps/{app}/clients", tag = "clients", params(("app" = String, Path)),
    request_body = ClientBody,
    responses((status = 201, body = ClientView, description = "the client, with `client_secret` when it authenticates with one (shown once)"),
        (status = 404, body = super::openapi::ErrorBody), (status = 409, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn create(
    State(s): State<Services>,
    Actor(p): Actor,
    Path(app): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let (c, secret) = s.create_client(&p, &app, &body).await?;
    Ok(with_secret(StatusCode::CREATED, c, secret))
}

#[utoipa::path(get, path = "/api/v1/apps/{app}/clients/{client_id}", tag = "clients",
    params(("app" = String, Path), ("client_id" = String, Path)),
    responses((status = 200, body = ClientView), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn read(
    State(s): State<Services>,
    Actor(p): Actor,
    Path((app, client_id)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(s.get_client(&p, &app, &client_id).await?))
}

#[utoipa::path(patch, path = "/api/v1/apps/{app}/clients/{client_id}", tag = "clients",
    params(("app" = String, Path), ("client_id" = String, Path)), request_body = ClientBody,
    responses((status = 200, body = ClientView), (status = 404, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn update(
    State(s): State<Services>,
    Actor(p): Actor,
    Path((app, client_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let (c, secret) = s.update_client(&p, &app, &client_id, &body).await?;
    Ok(with_secret(StatusCode::OK, c, secret))
}

#[utoipa::path(delete, path = "/api/v1/apps/{app}/clients/{client_id}", tag = "clients",
    params(("app" = String, Path), ("client_id" = String, Path)),
    responses((status = 204), (status = 404, body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(s): State<Services>,
    Actor(p): Actor,
    Path((app, client_id)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    s.delete_client(&p, &app, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/apps/{app}/clients/{client_id}/secret", tag = "clients",
    params(("app" = String, Path), ("client_id" = String, Path)),
    responses((status = 200, description = "{\"client_secret\": …} (shown once)"), (status = 404, body = super::openapi::ErrorBody), (status = 409, body = super::openapi::ErrorBody)))]
pub async fn rotate_secret(
    State(s): State<Services>,
    Actor(p): Actor,
    Path((app, client_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let secret = s.rotate_client_secret(&p, &app, &client_id).await?;
    let mut res = Json(json!({"client_secret": secret})).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
