//! `POST /oauth2/par/{app}` (RFC 9126, SPEC §3c): the authorize parameters, posted by the
//! authenticated client, are checked and kept for 60 seconds under a `request_uri` the browser
//! then carries. The rules are the domain's (`domain::oauth::par`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::Services;

use super::error::OAuthResponse;
use super::params::Params;
use crate::client_addr::ClientAddr;

pub async fn push(
    State(s): State<Services>,
    Path(app): Path<String>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthResponse> {
    let p = Params::parse(&headers, &body)?;
    let creds = p.credentials(&headers, "par")?;
    let pairs = super::authorize::form_pairs(&body).map_err(|m| {
        domain::error::OAuthError::new(domain::error::OAuthErrorCode::InvalidRequest, m)
    })?;
    let req = super::authorize::authorize_request_of(&pairs).map_err(|m| {
        domain::error::OAuthError::new(domain::error::OAuthErrorCode::InvalidRequest, m)
    })?;
    let (request_uri, expires_in) = s
        .push_authorization_request(&app, &creds, &pairs, &req, &addr.to_string())
        .await?;
    let mut res = super::error::json_no_store(serde_json::json!({
        "request_uri": request_uri,
        "expires_in": expires_in,
    }));
    *res.status_mut() = StatusCode::CREATED;
    Ok(res.into_response())
}
