//! The admin API's error format (SPEC §5): `{"error", "message", "field"?}` with its status.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::DomainError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// `WWW-Authenticate` for 401/403 on bearer requests.
    pub challenge: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            challenge: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
    /// No credentials at all (RFC 6750 §3: the challenge carries no error code).
    pub fn unauthorized() -> Self {
        ApiError {
            challenge: Some("Bearer realm=\"gatehouse\"".into()),
            ..ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "sign in or send a bearer token",
            )
        }
    }
    /// An unexpected failure: logged here, once and in full; the client sees a bare 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let cause = cause.to_string();
        if domain::error::is_overload(&cause) {
            // Every database connection busy: an overload, answered 503 (the edge adds nothing).
            tracing::error!(error = %cause, "the admin API had no database connection in time");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server is busy; try again in a moment",
            );
        }
        tracing::error!(error = %cause, "internal error in the admin API");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error",
        )
    }
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            field: Some(field.to_string()),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            )
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation { field, message } => ApiError::validation(&field, message),
            DomainError::Duplicate { field, message } => ApiError {
                field: Some(field),
                ..ApiError::new(StatusCode::CONFLICT, "duplicate", message)
            },
            DomainError::Unknown { field, message } => ApiError {
                field: Some(field),
                ..ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
            },
            DomainError::NotFound(what) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            ),
            DomainError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            DomainError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            DomainError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.code, "message": self.message});
        if let Some(f) = &self.field {
            body["field"] = json!(f);
        }
        let mut res = (self.status, Json(body)).into_response();
        if let Some(c) = self.challenge.and_then(|c| c.parse().ok()) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, c);
        }
        res
    }
}
