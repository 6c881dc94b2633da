//! Extractors of the admin API: JSON bodies and query strings whose rejections answer in the
//! API's error format, and the acting principal (session cookie or bearer token).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use domain::Principal;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::AppState;

/// `Json<T>` whose every rejection is a 400/422 in the API's format, never a bare text body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(axum::extract::rejection::JsonRejection::JsonDataError(e)) => Err(
                ApiError::validation("", format!("the JSON does not fit: {}", e.body_text())),
            ),
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

/// Paging and filters of list calls.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListParams {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub login_name: Option<String>,
    pub category: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ListParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<ListParams>::from_request_parts(parts, state)
            .await
            .map(|q| q.0)
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// The principal behind the request: a bearer token (checked against the path by its scopes) or
/// the portal's session.
pub struct Actor(pub Principal);

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(p) = crate::auth::bearer_principal(parts, state).await? {
            return Ok(Actor(p));
        }
        let Some(session) = parts.extensions.get::<tower_sessions::Session>().cloned() else {
            return Err(ApiError::unauthorized());
        };
        let uid = session
            .get::<String>(app::api::ssr::SESSION_USER)
            .await
            .ok()
            .flatten()
            .ok_or_else(ApiError::unauthorized)?;
        let p = state
            .services
            .principal(&uid)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Actor(p))
    }
}
