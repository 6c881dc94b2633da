//! RFC 7591 §2 client metadata, checked against what the app allows: every field that
//! Gatehouse acts on is validated strictly (`invalid_redirect_uri`, `invalid_client_metadata`);
//! fields it does not know are ignored, as §2 asks.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::RegistrationError;
use crate::apps::{App, AuthMethod};
use crate::names::RedirectUri;

/// The token endpoint authentication methods a registered client may use.
pub const AUTH_METHODS: [&str; 4] = [
    "none",
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];

/// A registered client's metadata as accepted (RFC 7591 §2 names).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientMetadata {
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    /// Public keys for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
}

impl ClientMetadata {
    /// Whether the client authenticates with a secret (and so gets one).
    pub fn needs_secret(&self) -> bool {
        matches!(
            self.token_endpoint_auth_method.as_str(),
            "client_secret_basic" | "client_secret_post"
        )
    }
}

fn bad(d: impl Into<String>) -> RegistrationError {
    RegistrationError::metadata(d)
}

fn text(m: &Map<String, Value>, k: &str, max: usize) -> Result<Option<String>, RegistrationError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max && !s.chars().any(char::is_control) => {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(bad(format!(
            "{k} must be a string of at most {max} characters without control characters"
        ))),
    }
}

fn list(
    m: &Map<String, Value>,
    k: &str,
    max: usize,
) -> Result<Option<Vec<String>>, RegistrationError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) if items.len() <= max => items
            .iter()
            .map(|v| match v {
                Value::String(s) if s.len() <= 2000 && !s.chars().any(char::is_control) => {
                    Ok(s.clone())
                }
                _ => Err(bad(format!("{k} must hold strings"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(bad(format!(
            "{k} must be an array of at most {max} strings"
        ))),
    }
}

/// An https URL a person may be shown (client_uri, logo_uri, policy_uri, tos_uri).
fn web_url(m: &Map<String, Value>, k: &str) -> Result<Option<String>, RegistrationError> {
    let Some(u) = text(m, k, 2000)? else {
        return Ok(None);
    };
    match url::Url::parse(&u) {
        Ok(p) if p.scheme() == "https" && p.host_str().is_some() => Ok(Some(u)),
        _ => Err(bad(format!("{k} must be an https URL"))),
    }
}

/// A registered client's redirect URI: absolute without a fragment, and https, or http on a
/// loopback host (RFC 8252 §7.3; any port matches at authorize).
fn redirect_uri(u: &str) -> Result<String, RegistrationError> {
    let parsed = RedirectUri::parse(u).map_err(|_| {
        RegistrationError::redirect(format!("{u:?} is not an absolute URI without a fragment"))
    })?;
    let url = url::Url::parse(u)
        .map_err(|_| RegistrationError::redirect(format!("{u:?} is not a URL")))?;
    let loopback = matches!(
        url.host_str(),
        Some("127.0.0.1") | Some("[::1]") | Some("localhost")
    );
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(parsed.into_inner()),
        "http" if loopback => Ok(parsed.into_inner()),
        _ => Err(RegistrationError::redirect(format!(
            "{u:?}: redirect URIs must be https, or http on 127.0.0.1, [::1] or localhost"
        ))),
    }
}

/// Reads `body` as a registration request for `app` and checks it (RFC 7591 §2, §3.2.2).
pub fn check_metadata(app: &App, body: &Value) -> Result<ClientMetadata, RegistrationError> {
    let Value::Object(m) = body else {
        return Err(bad("the body must be a JSON object"));
    };
    let auth =
        text(m, "token_endpoint_auth_method", 64)?.unwrap_or_else(|| "client_secret_basic".into());
    if !AUTH_METHODS.contains(&auth.as_str()) {
        return Err(bad(format!(
            "token_endpoint_auth_method must be one of {}",
            AUTH_METHODS.join(", ")
        )));
    }
    let mut grant_types: Vec<String> = Vec::new();
    for g in list(m, "grant_types", 10)?.unwrap_or_else(|| vec!["authorization_code".into()]) {
        let allowed = match g.as_str() {
            "authorization_code" => app.allows(AuthMethod::AuthorizationCode),
            "refresh_token" => {
                app.allows(AuthMethod::AuthorizationCode) && app.issue_refresh_tokens
            }
            "client_credentials" => app.allows(AuthMethod::ClientCredentials) && auth != "none",
            _ => false,
        };
        if !allowed {
            return Err(bad(format!(
                "the grant type {g:?} is not available to this client"
            )));
        }
        if !grant_types.contains(&g) {
            grant_types.push(g);
        }
    }
    let code = grant_types.iter().any(|g| g == "authorization_code");
    let response_types = list(m, "response_types", 10)?.unwrap_or_else(|| {
        if code {
            vec!["code".into()]
        } else {
            vec![]
        }
    });
    let expected: &[&str] = if code { &["code"] } else { &[] };
    if response_types
        .iter()
        .any(|r| !expected.contains(&r.as_str()))
        || (code && response_types.is_empty())
    {
        return Err(bad(
            "response_types must be [\"code\"] with the authorization_code grant, and empty without",
        ));
    }
    let mut redirect_uris: Vec<String> = Vec::new();
    for u in list(m, "redirect_uris", 20)?.unwrap_or_default() {
        let u = redirect_uri(&u)?;
        if !redirect_uris.contains(&u) {
            redirect_uris.push(u);
        }
    }
    if code && redirect_uris.is_empty() {
        return Err(RegistrationError::redirect(
            "redirect_uris is required for the authorization_code grant",
        ));
    }
    if m.get("jwks_uri").is_some_and(|v| !v.is_null()) {
        return Err(bad("jwks_uri is not supported: send the keys in jwks"));
    }
    let jwks = match m.get("jwks") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let set: jsonwebtoken::jwk::JwkSet =
                serde_json::from_value(v.clone()).map_err(|_| bad("jwks must be a JWK set"))?;
            let private = v["keys"].as_array().is_some_and(|keys| {
                keys.iter()
                    .any(|k| k.get("d").is_some() || k.get("k").is_some())
            });
            if set.keys.is_empty() || set.keys.len() > 10 || private {
                return Err(bad("jwks must hold 1-10 public keys"));
            }
            Some(v.clone())
        }
    };
    if auth == "private_key_jwt" && jwks.is_none() {
        return Err(bad(
            "private_key_jwt needs the client's public keys in jwks",
        ));
    }
    let scope = text(m, "scope", 2000)?;
    if let Some(s) = &scope {
        for name in s.split(' ').filter(|n| !n.is_empty()) {
            if app.scope(name).is_none() && !crate::oidc::is_standard_scope(name) {
                return Err(bad(format!(
                    "the scope {name:?} is not defined for this app"
                )));
            }
        }
    }
    let contacts = list(m, "contacts", 10)?.unwrap_or_default();
    if contacts.iter().any(|c| c.len() > 256) {
        return Err(bad("a contact is at most 256 characters"));
    }
    Ok(ClientMetadata {
        redirect_uris,
        token_endpoint_auth_method: auth,
        grant_types,
        response_types,
        client_name: text(m, "client_name", 128)?,
        client_uri: web_url(m, "client_uri")?,
        logo_uri: web_url(m, "logo_uri")?,
        policy_uri: web_url(m, "policy_uri")?,
        tos_uri: web_url(m, "tos_uri")?,
        scope,
        contacts,
        software_id: text(m, "software_id", 128)?,
        software_version: text(m, "software_version", 128)?,
        jwks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app() -> App {
        let mut a = App::new_app();
        a.app_id = "mcp".into();
        a.auth_methods = vec![AuthMethod::AuthorizationCode];
        a.issue_refresh_tokens = true;
        a
    }

    #[test]
    fn an_mcp_clients_registration_is_taken_with_defaults() {
        let m = check_metadata(
            &app(),
            &json!({"client_name": "Claude", "redirect_uris": ["http://127.0.0.1:33418/callback"],
                    "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
                    "token_endpoint_auth_method": "none", "unknown_field": 1}),
        )
        .unwrap();
        assert_eq!(m.token_endpoint_auth_method, "none");
        assert!(!m.needs_secret());
        assert_eq!(m.response_types, ["code"]);
        let d = check_metadata(
            &app(),
            &json!({"redirect_uris": ["https://app.example/cb"]}),
        )
        .unwrap();
        assert_eq!(d.token_endpoint_auth_method, "client_secret_basic");
        assert_eq!(d.grant_types, ["authorization_code"]);
        assert!(d.needs_secret());
    }

    #[test]
    fn redirect_uris_are_https_or_loopback_and_bad_metadata_names_its_field() {
        let code = |body: Value| check_metadata(&app(), &body).unwrap_err().code;
        for bad_uri in [
            "http://evil.example/cb",
            "https://a.example/cb#frag",
            "javascript:alert(1)",
            "/relative",
        ] {
            assert_eq!(
                code(json!({"redirect_uris": [bad_uri]})),
                "invalid_redirect_uri",
                "{bad_uri}"
            );
        }
        assert_eq!(
            code(json!({})),
            "invalid_redirect_uri",
            "code flow without redirect URIs"
        );
        let uris = json!(["https://a.example/cb"]);
        assert_eq!(
            code(json!({"redirect_uris": uris, "grant_types": ["password"]})),
            "invalid_client_metadata"
        );
        assert_eq!(
            code(json!({"redirect_uris": uris, "grant_types": ["client_credentials"]})),
            "invalid_client_metadata"
        );
        assert_eq!(
            code(json!({"redirect_uris": uris, "token_endpoint_auth_method": "magic"})),
            "invalid_client_metadata"
        );
        assert_eq!(
            code(json!({"redirect_uris": uris, "response_types": ["token"]})),
            "invalid_client_metadata"
        );
        assert_eq!(
            code(json!({"redirect_uris": uris, "scope": "nope"})),
            "invalid_client_metadata"
        );
        assert_eq!(
            code(json!({"redirect_uris": uris, "logo_uri": "http://a.example/x.png"})),
            "invalid_client_metadata"
        );
        assert_eq!(
            code(json!({"redirect_uris": uris, "token_endpoint_auth_method": "private_key_jwt"})),
            "invalid_client_metadata"
        );
        assert_eq!(
            code(json!({"redirect_uris": uris, "client_name": 5})),
            "invalid_client_metadata"
        );
        assert_eq!(code(json!([1])), "invalid_client_metadata");
    }
}
