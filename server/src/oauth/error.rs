//! Renders domain OAuth errors as RFC 6749 §5.2 responses, in one place.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::oauth::{OAuthError, OAuthErrorCode};

/// An OAuth error as an HTTP response (never cached).
pub struct OAuthResponse(pub OAuthError);

impl From<OAuthError> for OAuthResponse {
    fn from(e: OAuthError) -> Self {
        OAuthResponse(e)
    }
}

pub fn no_store(res: &mut Response) {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// A JSON answer of a token-endpoint style call, never cached.
pub fn json_no_store(body: impl serde::Serialize) -> Response {
    let mut res = Json(body).into_response();
    no_store(&mut res);
    res
}

impl IntoResponse for OAuthResponse {
    fn into_response(self) -> Response {
        let e = self.0;
        match &e.cause {
            Some(cause) if e.code == OAuthErrorCode::TemporarilyUnavailable => {
                tracing::error!(error = %cause, "an OAuth endpoint had no database connection in time")
            }
            Some(cause) => tracing::error!(error = %cause, "internal error at an OAuth endpoint"),
            None => {}
        }
        let status = match e.code {
            _ if e.not_found => StatusCode::NOT_FOUND,
            OAuthErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            OAuthErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            OAuthErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            OAuthErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut res = (
            status,
            Json(serde_json::json!({"error": e.code.as_str(), "error_description": e.description})),
        )
            .into_response();
        no_store(&mut res);
        if e.basic_challenge && status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"gatehouse\""),
            );
        }
        if let Some(secs) = e
            .retry_after
            .and_then(|s| HeaderValue::from_str(&s.max(1).to_string()).ok())
        {
            res.headers_mut().insert(header::RETRY_AFTER, secs);
        }
        res
    }
}
