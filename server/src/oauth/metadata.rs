//! RFC 8414 authorization server metadata, listing only what the app allows.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::Json;
use domain::apps::{App, AuthMethod, ClientIdType};
use domain::Services;
use serde_json::{json, Value};

use super::error::OAuthResponse;

pub async fn metadata(
    State(s): State<Services>,
    Path(app_id): Path<String>,
) -> Result<impl IntoResponse, OAuthResponse> {
    let app = s.app_or_404(&app_id).await?;
    Ok(Json(document(&s.public_url, &app)))
}

/// The RFC 8414 document of `app`; OpenID discovery adds its fields to it.
pub(super) fn document(base: &str, app: &App) -> Value {
    let app_id = &app.app_id;
    let url = |p: &str| format!("{base}/oauth2/{p}/{app_id}");
    let mut grants: Vec<&str> = Vec::new();
    let mut responses: Vec<&str> = Vec::new();
    for m in &app.auth_methods {
        match m {
            AuthMethod::ClientCredentials
                if matches!(
                    app.client_id_type,
                    ClientIdType::Confidential | ClientIdType::Registered
                ) =>
            {
                grants.push("client_credentials")
            }
            AuthMethod::Password => grants.push("password"),
            AuthMethod::AuthorizationCode => {
                grants.push("authorization_code");
                responses.push("code");
            }
            AuthMethod::Implicit => {
                grants.push("implicit");
                responses.extend(["token", "id_token", "id_token token"]);
            }
            AuthMethod::DeviceCode if domain::oauth::device::offered(app) => {
                grants.push(domain::oauth::device::GRANT_TYPE)
            }
            AuthMethod::TokenExchange => grants.push(domain::oauth::exchange::GRANT_TYPE),
            _ => {}
        }
    }
    if app.issue_refresh_tokens
        && (app.allows(AuthMethod::AuthorizationCode) || domain::oauth::device::offered(app))
    {
        grants.push("refresh_token");
    }
    let auth_methods: Vec<&str> = match app.client_id_type {
        ClientIdType::Registered => domain::registration::AUTH_METHODS.to_vec(),
        ClientIdType::Confidential => {
            vec![
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
            ]
        }
        _ => vec!["none"],
    };
    let mut doc = json!({
        "issuer": app.issuer,
        "token_endpoint": url("token"),
        "jwks_uri": url("keys"),
        "introspection_endpoint": url("introspect"),
        "revocation_endpoint": url("revoke"),
        "grant_types_supported": grants,
        "token_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "scopes_supported": domain::oidc::STANDARD_SCOPES
            .iter()
            .map(|(n, _)| n.to_string())
            .chain(
                app.scopes
                    .iter()
                    .filter(|s| !domain::oidc::is_standard_scope(&s.name))
                    .map(|s| s.name.clone()),
            )
            .collect::<Vec<_>>(),
        "authorization_response_iss_parameter_supported": true,
        "dpop_signing_alg_values_supported": domain::oauth::dpop::ALGORITHMS,
        "ui_locales_supported": model::i18n::Lang::ALL.map(|l| l.tag()),
    });
    if app.allows(AuthMethod::AuthorizationCode) || app.allows(AuthMethod::Implicit) {
        doc["pushed_authorization_request_endpoint"] = json!(url("par"));
        doc["require_pushed_authorization_requests"] = json!(app.require_par);
    }
    if domain::oauth::device::offered(app) {
        doc["device_authorization_endpoint"] = json!(url("device"));
    }
    if app.client_id_type == ClientIdType::Registered
        && app.client_registration != domain::apps::ClientRegistration::Off
    {
        doc["registration_endpoint"] = json!(url("register"));
    }
    if app.client_id_type == ClientIdType::Registered {
        // Whether an https client_id is fetched as the client's metadata document (SPEC §3b).
        doc["client_id_metadata_document_supported"] = json!(app.client_id_metadata_documents);
    }
    if matches!(
        app.client_id_type,
        ClientIdType::Confidential | ClientIdType::Registered
    ) {
        doc["token_endpoint_auth_signing_alg_values_supported"] =
            json!(["RS256", "PS256", "RS512", "ES256", "ES384", "EdDSA"]);
    }
    if !responses.is_empty() {
        doc["authorization_endpoint"] = json!(url("authorize"));
        doc["response_types_supported"] = json!(responses);
        doc["response_modes_supported"] = json!(if responses.contains(&"token") {
            vec!["query", "fragment"]
        } else {
            vec!["query"]
        });
        doc["code_challenge_methods_supported"] = json!(["S256"]);
    }
    doc
}
