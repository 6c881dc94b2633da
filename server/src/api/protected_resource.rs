//! RFC 9728 protected resource metadata of Gatehouse's own admin API: what a client (an MCP
//! client, any OAuth client that meets a 401) reads to learn which authorization servers issue
//! tokens for it and how to send them. Named in `WWW-Authenticate` on every 401 of the API.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use domain::Services;
use serde_json::json;

use super::error::ApiError;

/// Where the document is served (RFC 9728 §3.1: the well-known segment before the path).
pub const PATH: &str = "/.well-known/oauth-protected-resource/api/v1";

pub fn metadata_url(public_url: &str) -> String {
    format!("{}{PATH}", public_url.trim_end_matches('/'))
}

/// `GET /.well-known/oauth-protected-resource/api/v1`: the API's resource identifier, and the
/// issuers of the apps whose tokens it accepts (apps with a scope that reaches it or that
/// list it among their `resources`).
pub async fn document(State(s): State<Services>) -> Result<impl IntoResponse, ApiError> {
    let resource = s.admin_api_resource();
    let issuers = s.admin_api_issuers(&resource).await?;
    Ok(Json(json!({
        "resource": resource,
        "resource_name": "Gatehouse admin API",
        "authorization_servers": issuers,
        "bearer_methods_supported": ["header"],
        // RFC 9728 §2: DPoP-bound tokens are taken with a proof (RFC 9449); unbound ones too.
        "dpop_signing_alg_values_supported": domain::oauth::dpop::ALGORITHMS,
        "dpop_bound_access_tokens_required": false,
        "resource_documentation": format!("{}/api/v1/docs", s.public_url.trim_end_matches('/')),
    })))
}
