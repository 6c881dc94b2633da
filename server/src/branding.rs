//! The branding's doors (SPEC §6b): `/branding.css` (the accent colour as a custom property,
//! linked by every page after the site's stylesheet), `/branding/logo/{hash}` (the logo under its
//! content hash, cacheable for a year), and the portal's logo upload `POST /admin/settings/logo`
//! (a plain multipart form: it works without JavaScript).

use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

/// The public routes (no session).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/branding.css", get(css))
        .route("/branding/logo/{hash}", get(logo))
}

/// The portal's upload (the session and the Origin check apply).
pub fn portal_router() -> Router<AppState> {
    Router::new().route("/admin/settings/logo", post(upload))
}

async fn css(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let body = state.services.branding_css();
    let etag = format!("\"{}\"", &domain::tokens::sha256_hex(&body)[..16]);
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    let mut res = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], body).into_response()
    };
    let h = res.headers_mut();
    // Asked again on every page (a change shows at once), answered 304 while it is the same.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}

async fn logo(State(state): State<AppState>, Path(hash): Path<String>) -> Response {
    match state.services.logo(&hash) {
        Some(l) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(l.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            l.bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn back(m: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, format!("/admin/settings?logo={m}")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
    )
        .into_response()
}

/// `POST /admin/settings/logo` (multipart, field `logo`): a System Administrator's new logo;
/// back to the Settings page with `?logo=saved` or the reason (`too-large`, `not-an-image`).
async fn upload(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    mut form: Multipart,
) -> Response {
    let principal = match app::api::ssr::session_principal(&session, &state.services).await {
        Ok(Some(p)) => p,
        Ok(None) => return back("signed-out"),
        Err(e) => {
            tracing::error!(error = %e, "internal error in the logo upload");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let mut bytes = None;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("logo") {
            match field.bytes().await {
                Ok(b) => bytes = Some(b),
                Err(_) => return back("too-large"),
            }
        }
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return back("not-an-image");
    };
    if bytes.len() > domain::branding::MAX_LOGO {
        return back("too-large");
    }
    match state.services.set_logo(&principal, &bytes).await {
        Ok(_) => back("saved"),
        Err(domain::DomainError::Forbidden(_)) => (
            StatusCode::FORBIDDEN,
            "this needs membership of System Administrator",
        )
            .into_response(),
        Err(domain::DomainError::Validation { .. }) => back("not-an-image"),
        Err(e) => {
            tracing::error!(error = %e, "internal error in the logo upload");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
