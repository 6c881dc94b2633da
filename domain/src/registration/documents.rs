//! Client ID metadata documents (SPEC §3b; draft-ietf-oauth-client-id-metadata-document): with
//! the app's `client_id_metadata_documents` on, a `client_id` that is an https URL names a JSON
//! document at that URL which says who the client is — its name, redirect URIs, grant types
//! and (for `private_key_jwt`) its keys. Nothing about such a client is stored: the document
//! is fetched through the SSRF-safe fetcher (`crate::net`) when the client is used, and kept
//! for as long as its `Cache-Control` allows, never longer than `MAX_FRESHNESS`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{check_metadata, ClientMetadata, RegisteredClient};
use crate::apps::App;
use crate::net::FetchError;
use crate::Services;

/// The most a document may weigh.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// How long a document is reused at most, whatever its `Cache-Control` says.
pub const MAX_FRESHNESS: Duration = Duration::from_secs(3600);
/// How long a document is reused when its response does not say.
pub const DEFAULT_FRESHNESS: Duration = Duration::from_secs(300);
/// How long a failed fetch is remembered, so one client id cannot make this server fetch
/// again and again.
pub const FAILURE_FRESHNESS: Duration = Duration::from_secs(30);

/// Whether `client_id` names a document (draft §3): an https URL with a path other than `/`,
/// no fragment, no user or password, no `.` or `..` segment, written as a URL parser would
/// write it back (so the string compared with the document's `client_id` is unambiguous).
pub fn document_url(client_id: &str) -> Option<url::Url> {
    if !client_id.starts_with("https://") || client_id.len() > 2048 {
        return None;
    }
    let u = url::Url::parse(client_id).ok()?;
    let dot_segment = client_id
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .split('/')
        .skip(3)
        .any(|s| s == "." || s == "..");
    let ok = u.scheme() == "https"
        && u.host_str().is_some_and(|h| !h.is_empty())
        && u.path() != "/"
        && u.fragment().is_none()
        && u.username().is_empty()
        && u.password().is_none()
        && !dot_segment
        && u.as_str() == client_id;
    ok.then_some(u)
}

/// Checks a fetched document for `app`: JSON naming itself by `url` exactly, the metadata
/// RFC 7591 registration takes, and no shared secret (a public document cannot hold one, so
/// the client authenticates with `none` + PKCE or `private_key_jwt`).
pub fn check_document(app: &App, url: &str, body: &[u8]) -> Result<ClientMetadata, String> {
    let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(body) else {
        return Err("the document is not a JSON object".into());
    };
    match m.remove("client_id") {
        Some(Value::String(id)) if id == url => {}
        _ => return Err("the document's client_id is not its own URL".into()),
    }
    for field in ["client_secret", "client_secret_expires_at"] {
        if m.contains_key(field) {
            return Err(format!(
                "a client ID metadata document may not hold {field}"
            ));
        }
    }
    let auth = m
        .entry("token_endpoint_auth_method")
        .or_insert_with(|| Value::String("none".into()));
    if !matches!(auth.as_str(), Some("none" | "private_key_jwt")) {
        return Err(
            "token_endpoint_auth_method must be none or private_key_jwt (a document has no secret)"
                .into(),
        );
    }
    check_metadata(app, &Value::Object(m)).map_err(|e| e.description)
}

/// A fetched document (or why there is none), and until when it may be used.
#[derive(Clone)]
struct Cached {
    body: Result<Arc<Vec<u8>>, FetchError>,
    fresh_for: Duration,
}

/// Documents by URL, each for its own freshness.
pub struct DocumentCache(moka::sync::Cache<String, Cached>);

struct Freshness;

impl moka::Expiry<String, Cached> for Freshness {
    fn expire_after_create(&self, _: &String, v: &Cached, _: Instant) -> Option<Duration> {
        Some(v.fresh_for)
    }
}

impl Default for DocumentCache {
    fn default() -> Self {
        DocumentCache(
            moka::sync::Cache::builder()
                .max_capacity(10_000)
                .expire_after(Freshness)
                .build(),
        )
    }
}

impl Services {
    /// The client a document at `client_id` describes for `app`, if the app takes documents
    /// and the document can be fetched and is valid; `None` otherwise (the reason is logged).
    pub(crate) async fn document_client(
        &self,
        app: &App,
        client_id: &str,
    ) -> Option<RegisteredClient> {
        let url = document_url(client_id)?;
        let body = match self.documents.0.get(client_id) {
            Some(c) => c.body,
            None => {
                let fetched = self
                    .outbound
                    .get(&url, "application/json", MAX_DOCUMENT_BYTES)
                    .await;
                let fresh_for = match &fetched {
                    Ok(f) => f
                        .max_age
                        .map(Duration::from_secs)
                        .unwrap_or(DEFAULT_FRESHNESS)
                        .min(MAX_FRESHNESS),
                    Err(_) => FAILURE_FRESHNESS,
                };
                let body = fetched.map(|f| Arc::new(f.body));
                if !fresh_for.is_zero() {
                    self.documents.0.insert(
                        client_id.to_string(),
                        Cached {
                            body: body.clone(),
                            fresh_for,
                        },
                    );
                }
                body
            }
        };
        let checked = body
            .map_err(|e| e.to_string())
            .and_then(|b| check_document(app, client_id, &b));
        match checked {
            Ok(metadata) => Some(RegisteredClient::from_document(app, client_id, metadata)),
            Err(why) => {
                tracing::info!(app_id = %app.app_id, client_id, why, "client ID metadata document refused");
                None
            }
        }
    }

    /// A client of `app`: its record, or (when the app takes them) its metadata document.
    pub async fn app_client(
        &self,
        app: &App,
        client_id: &str,
    ) -> crate::Result<Option<RegisteredClient>> {
        if app.client_id_metadata_documents && client_id.starts_with("https://") {
            return Ok(self.document_client(app, client_id).await);
        }
        self.cached_registered_client(&app.app_id, client_id).await
    }

    /// The address setting of the fetcher (`GATEHOUSE_CIMD_ALLOW_HOSTS`).
    pub fn allow_document_hosts(&self, hosts: &[String]) {
        self.outbound.allow_hosts(hosts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::{AuthMethod, ClientIdType};
    use serde_json::json;

    fn app() -> App {
        let mut a = App::new_app();
        a.app_id = "mcp".into();
        a.client_id_type = ClientIdType::Registered;
        a.client_id_metadata_documents = true;
        a.auth_methods = vec![AuthMethod::AuthorizationCode];
        a.issue_refresh_tokens = true;
        a
    }

    const URL: &str = "https://tool.example/oauth/client.json";

    fn doc(extra: Value) -> Vec<u8> {
        let mut d = json!({
            "client_id": URL,
            "client_name": "Tool",
            "redirect_uris": ["http://127.0.0.1/callback", "https://tool.example/cb"],
            "grant_types": ["authorization_code", "refresh_token"],
        });
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        serde_json::to_vec(&d).unwrap()
    }

    #[test]
    fn client_ids_that_name_documents() {
        assert!(document_url(URL).is_some());
        assert!(document_url("https://tool.example:8443/c?v=1").is_some());
        for bad in [
            "http://tool.example/c",
            "https://tool.example",
            "https://tool.example/",
            "https://tool.example/c#frag",
            "https://me@tool.example/c",
            "https://me:pw@tool.example/c",
            "https://tool.example/a/../c",
            "https://tool.example/./c",
            "https://TOOL.example/c",
            "https://tool.example:443/c",
            "my-client",
            "https:///c",
        ] {
            assert!(document_url(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_document_names_itself_and_gives_the_client() {
        let m = check_document(&app(), URL, &doc(json!({}))).unwrap();
        assert_eq!(m.token_endpoint_auth_method, "none");
        assert_eq!(m.client_name.as_deref(), Some("Tool"));
        assert_eq!(m.redirect_uris.len(), 2);
        assert_eq!(m.grant_types, ["authorization_code", "refresh_token"]);
        let other = check_document(&app(), "https://other.example/c", &doc(json!({})));
        assert!(other.unwrap_err().contains("its own URL"));
        let mut no_id = serde_json::from_slice::<Value>(&doc(json!({}))).unwrap();
        no_id.as_object_mut().unwrap().remove("client_id");
        assert!(check_document(&app(), URL, &serde_json::to_vec(&no_id).unwrap()).is_err());
    }

    #[test]
    fn a_document_holds_no_secret_and_valid_metadata() {
        for extra in [
            json!({"client_secret": "s"}),
            json!({"client_secret_expires_at": 0}),
            json!({"token_endpoint_auth_method": "client_secret_basic"}),
            json!({"token_endpoint_auth_method": "client_secret_post"}),
            json!({"redirect_uris": ["http://tool.example/cb"]}),
            json!({"redirect_uris": []}),
            json!({"grant_types": ["client_credentials"]}),
            json!({"token_endpoint_auth_method": "private_key_jwt"}),
        ] {
            assert!(
                check_document(&app(), URL, &doc(extra.clone())).is_err(),
                "{extra}"
            );
        }
        assert!(check_document(&app(), URL, b"[1]").is_err());
        assert!(check_document(&app(), URL, b"not json").is_err());
    }
}
