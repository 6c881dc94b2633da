//! `POST /CDirectoryService/CreateUser`: the documents' sample call, so their client works
//! unchanged. The path is matched case-insensitively (see `lib.rs`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::users::NewUser;
use domain::{DomainError, Services};
use serde::Deserialize;
use serde_json::json;

use super::extract::Actor;

pub const PATH: &str = "/cdirectoryservice/createuser";

#[derive(Deserialize)]
struct CreateUser {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Mail", default)]
    mail: String,
    #[serde(rename = "Password")]
    password: String,
    #[serde(rename = "DisplayName", default)]
    display_name: Option<String>,
}

fn failure(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"success": false, "Message": message.into()})),
    )
        .into_response()
}

pub async fn create_user(State(s): State<Services>, Actor(p): Actor, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<CreateUser>(&body) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "expected {\"Name\", \"Mail\", \"Password\", \"DisplayName\"?}",
        );
    };
    // The documents' sample sends no Mail: a login name that is an address serves as one.
    let email = if req.mail.trim().is_empty() && req.name.contains('@') {
        req.name.clone()
    } else {
        req.mail
    };
    let new = NewUser {
        display_name: req.display_name.unwrap_or_default(),
        login_name: req.name,
        email,
        password: req.password,
        is_oauth_confidential_client: false,
        enabled: true,
        jwks: None,
    };
    match s.create_user(&p, new).await {
        Ok(u) => Json(json!({"success": true, "Result": u.id})).into_response(),
        Err(DomainError::Forbidden(m)) => failure(StatusCode::FORBIDDEN, m),
        Err(DomainError::Duplicate { message, .. }) => failure(StatusCode::CONFLICT, message),
        Err(DomainError::Validation { message, .. }) => {
            failure(StatusCode::UNPROCESSABLE_ENTITY, message)
        }
        Err(_) => failure(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
}
