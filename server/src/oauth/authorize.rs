//! `GET /oauth2/authorize/{app}`.

use axum::http::StatusCode;
use axum::response::IntoResponse;

pub async fn authorize() -> impl IntoResponse {
    StatusCode::NOT_IMPLEMENTED
}
