//! Client ID metadata documents (SPEC §3b): a client named by an https URL whose JSON document
//! says who it is. The documents are served by a real HTTPS server on loopback with its own
//! certificate authority, which the Gatehouse under test trusts through
//! `GATEHOUSE_OUTBOUND_CA_FILE`; loopback is reachable only when the host is allow-listed
//! (`GATEHOUSE_CIMD_ALLOW_HOSTS`), which is the point of half of these tests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509Builder, X509NameBuilder, X509};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::authorize::{alice, authorize, challenge, query_of, setup, VERIFIER};
use crate::helpers::*;

const MCP: &str = "https://mcp.example/mcp";

/// What the document server answers for a path: status, extra headers, body.
type Page = (u16, Vec<(&'static str, String)>, Vec<u8>);

/// An HTTPS server on 127.0.0.1 with a certificate for `localhost` and 127.0.0.1 from its own
/// CA; it counts connections and requests per path.
struct DocServer {
    port: u16,
    ca: tempfile::NamedTempFile,
    pages: Arc<Mutex<HashMap<String, Page>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    connections: Arc<AtomicUsize>,
}

fn key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("curve");
    PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey")
}

fn certificate(cn: &str, key: &PKey<Private>, issuer: Option<(&X509, &PKey<Private>)>) -> X509 {
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", cn).expect("cn");
    let name = name.build();
    let mut b = X509Builder::new().expect("builder");
    b.set_version(2).expect("version");
    let serial = BigNum::from_u32(rand::random::<u32>() >> 1)
        .and_then(|n| n.to_asn1_integer())
        .expect("serial");
    b.set_serial_number(&serial).expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_pubkey(key).expect("pubkey");
    b.set_not_before(&Asn1Time::days_from_now(0).expect("t"))
        .expect("not before");
    b.set_not_after(&Asn1Time::days_from_now(2).expect("t"))
        .expect("not after");
    match issuer {
        None => {
            b.set_issuer_name(&name).expect("issuer");
            b.append_extension(BasicConstraints::new().critical().ca().build().expect("bc"))
                .expect("bc");
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()
                    .expect("ku"),
            )
            .expect("ku");
            b.sign(key, MessageDigest::sha256()).expect("sign");
        }
        Some((ca, ca_key)) => {
            b.set_issuer_name(ca.subject_name()).expect("issuer");
            b.append_extension(BasicConstraints::new().build().expect("bc"))
                .expect("bc");
            b.append_extension(ExtendedKeyUsage::new().server_auth().build().expect("eku"))
                .expect("eku");
            let san = SubjectAlternativeName::new()
                .dns("localhost")
                .ip("127.0.0.1")
                .build(&b.x509v3_context(Some(ca), None))
                .expect("san");
            b.append_extension(san).expect("san");
            b.sign(ca_key, MessageDigest::sha256()).expect("sign");
        }
    }
    b.build()
}

impl DocServer {
    async fn start() -> DocServer {
        let ca_key = key();
        let ca = certificate("Gatehouse test CA", &ca_key, None);
        let leaf_key = key();
        let leaf = certificate("localhost", &leaf_key, Some((&ca, &ca_key)));
        let mut ca_file = tempfile::NamedTempFile::new().expect("ca file");
        std::io::Write::write_all(&mut ca_file, &ca.to_pem().expect("pem")).expect("write ca");
        let identity = native_tls::Identity::from_pkcs8(
            &leaf.to_pem().expect("pem"),
            &leaf_key.private_key_to_pem_pkcs8().expect("pkcs8"),
        )
        .expect("identity");
        let acceptor = tokio_native_tls::TlsAcceptor::from(
            native_tls::TlsAcceptor::new(identity).expect("acceptor"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = DocServer {
            port,
            ca: ca_file,
            pages: Default::default(),
            hits: Default::default(),
            connections: Default::default(),
        };
        let (pages, hits, connections) = (
            server.pages.clone(),
            server.hits.clone(),
            server.connections.clone(),
        );
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                let (acceptor, pages, hits) = (acceptor.clone(), pages.clone(), hits.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16_384 {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&head);
                    let path = text.split(' ').nth(1).unwrap_or("").to_string();
                    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
                    let page = pages.lock().unwrap().get(&path).cloned();
                    let (status, headers, body) =
                        page.unwrap_or((404, vec![], b"not here".to_vec()));
                    let mut out = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    let _ = tls.write_all(out.as_bytes()).await;
                    let _ = tls.write_all(&body).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        server
    }

    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    fn serve(&self, path: &str, status: u16, headers: Vec<(&'static str, String)>, body: Vec<u8>) {
        self.pages
            .lock()
            .unwrap()
            .insert(path.to_string(), (status, headers, body));
    }

    /// Serves a valid document for a client at `path`, fresh for ten minutes.
    fn serve_document(&self, path: &str, name: &str) -> String {
        let id = self.url(path);
        let doc = json!({
            "client_id": id,
            "client_name": name,
            "redirect_uris": ["http://127.0.0.1/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        });
        self.serve(
            path,
            200,
            vec![("Cache-Control", "max-age=600".into())],
            serde_json::to_vec(&doc).unwrap(),
        );
        id
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    fn ca_path(&self) -> std::path::PathBuf {
        self.ca.path().to_path_buf()
    }
}

/// A Gatehouse that trusts the document server's CA and, with `allow`, reaches `localhost`.
async fn gatehouse(docs: &DocServer, allow: bool) -> TestApp {
    let ca = docs.ca_path();
    let app = spawn_app_with(|c| {
        c.outbound_ca_file = Some(ca);
        if allow {
            c.cimd_allow_hosts = vec!["localhost".into()];
        }
    })
    .await;
    setup(&app).await;
    app
}

/// An app for MCP clients that takes client ID metadata documents.
async fn documents_app(app: &TestApp, id: &str, documents: bool) {
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({
                "app_id": id, "name": format!("MCP {id}"), "client_id_type": "registered",
                "client_id_metadata_documents": documents, "token_type": "jwt_es256",
                "auth_methods": ["authorization_code"], "issue_refresh_tokens": true,
                "scopes": [{"name": "tools", "description": "Call tools"}],
                "resources": [MCP], "user_access_roles": ["People"]
            })),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["client_id_metadata_documents"], documents, "{b}");
}

async fn authorize_as(
    c: &reqwest::Client,
    app: &TestApp,
    client_id: &str,
    redirect: &str,
) -> reqwest::Response {
    let ch = challenge(VERIFIER);
    authorize(
        c,
        &app.url,
        "mcp",
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("state", "st"),
            ("code_challenge", ch.as_str()),
            ("code_challenge_method", "S256"),
            ("scope", "tools"),
            ("resource", MCP),
        ],
    )
    .await
}

fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap_or_default();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap_or_default(),
    )
    .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_client_named_by_its_document_signs_a_person_in_and_refreshes() {
    let docs = DocServer::start().await;
    let app = gatehouse(&docs, true).await;
    documents_app(&app, "mcp", true).await;
    let meta = as_metadata(&app.url, "mcp").await;
    assert_eq!(meta["client_id_metadata_document_supported"], true);
    let client_id = docs.serve_document("/tools/client.json", "Doc <Tool>");

    // The consent page names the client and the host that publishes its document.
    let (s, b) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/mcp",
            Some(json!({"user_must_confirm": true})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let c = alice(&app).await;
    let res = authorize_as(&c, &app, &client_id, "http://127.0.0.1:50123/callback").await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap_or_default();
    assert!(
        page.contains(
            "Requested by <strong>Doc &lt;Tool&gt;, published by localhost (returns to 127.0.0.1)</strong>"
        ),
        "{page}"
    );
    let (s, b) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/mcp",
            Some(json!({"user_must_confirm": false})),
        )
        .await;
    assert_eq!(s, 200, "{b}");

    // Code + PKCE with the document's redirect URI (any loopback port), then refresh.
    let redirect = "http://127.0.0.1:50124/callback";
    let res = authorize_as(&c, &app, &client_id, redirect).await;
    assert_eq!(res.status(), 303);
    let loc = location(&res);
    assert!(loc.starts_with(redirect), "{loc}");
    let code = query_of(&loc).get("code").cloned().unwrap_or_default();
    let (s, t, _) = form_token(
        &app.url,
        "mcp",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", VERIFIER),
            ("client_id", &client_id),
            ("resource", MCP),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let at = claims(t["access_token"].as_str().unwrap_or_default());
    assert_eq!(
        (at["aud"].as_str(), at["client_id"].as_str()),
        (Some(MCP), Some(client_id.as_str()))
    );
    let refresh = t["refresh_token"].as_str().unwrap_or_default().to_string();
    let (s, r, _) = form_token(
        &app.url,
        "mcp",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(s, 200, "{r}");
    // Fetched once: the document said it stays fresh for ten minutes.
    assert_eq!(docs.hits("/tools/client.json"), 1);

    // A document has no secret: a client that sends one is refused; so is a redirect URI the
    // document does not list.
    let (s, b, _) = form_token(
        &app.url,
        "mcp",
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                r["refresh_token"].as_str().unwrap_or_default(),
            ),
            ("client_id", &client_id),
            ("client_secret", "guess"),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (401, Some("invalid_client")),
        "{b}"
    );
    let res = authorize_as(&c, &app, &client_id, "https://evil.example/callback").await;
    assert_eq!(res.status(), 400, "an error page, never a redirect");
}

#[tokio::test]
async fn documents_that_are_not_what_they_claim_are_refused() {
    let docs = DocServer::start().await;
    let app = gatehouse(&docs, true).await;
    documents_app(&app, "mcp", true).await;
    let c = alice(&app).await;
    let redirect = "http://127.0.0.1/callback";
    let good = |id: &str| {
        serde_json::to_vec(&json!({
            "client_id": id, "client_name": "T", "redirect_uris": [redirect],
            "token_endpoint_auth_method": "none"
        }))
        .unwrap()
    };
    // Another client's id; a redirect elsewhere; more than 5 KB; not JSON; a secret inside.
    docs.serve("/other", 200, vec![], good(&docs.url("/someone-else")));
    docs.serve("/moved", 302, vec![("Location", docs.url("/ok"))], vec![]);
    docs.serve("/ok", 200, vec![], good(&docs.url("/ok")));
    let mut big = json!({
        "client_id": docs.url("/big"), "redirect_uris": [redirect],
        "token_endpoint_auth_method": "none", "client_name": "x".repeat(100)
    });
    big["padding"] = json!("p".repeat(5200));
    docs.serve("/big", 200, vec![], serde_json::to_vec(&big).unwrap());
    docs.serve("/html", 200, vec![], b"<html>hello</html>".to_vec());
    let mut secret: Value = serde_json::from_slice(&good(&docs.url("/secret"))).unwrap();
    secret["client_secret"] = json!("s3cret");
    docs.serve("/secret", 200, vec![], serde_json::to_vec(&secret).unwrap());
    for path in ["/other", "/moved", "/big", "/html", "/secret", "/missing"] {
        let res = authorize_as(&c, &app, &docs.url(path), redirect).await;
        assert_eq!(res.status(), 400, "{path}: an error page");
        assert_eq!(docs.hits(path), 1, "{path} was fetched");
    }
    assert_eq!(docs.hits("/ok"), 0, "a redirect is not followed");
    // A failure is remembered for a while, so a refused client cannot make Gatehouse fetch
    // again and again.
    let res = authorize_as(&c, &app, &docs.url("/missing"), redirect).await;
    assert_eq!(res.status(), 400);
    assert_eq!(docs.hits("/missing"), 1);

    // `no-store` means fetched on every use.
    let id = docs.url("/fresh");
    docs.serve(
        "/fresh",
        200,
        vec![("Cache-Control", "no-store".into())],
        good(&id),
    );
    for n in 1..=2 {
        let res = authorize_as(&c, &app, &id, redirect).await;
        assert_eq!(res.status(), 303);
        assert_eq!(docs.hits("/fresh"), n);
    }
}

#[tokio::test]
async fn documents_on_inside_addresses_are_never_fetched() {
    let docs = DocServer::start().await;
    // Trusts the CA, but `localhost` is not allow-listed.
    let app = gatehouse(&docs, false).await;
    documents_app(&app, "mcp", true).await;
    let c = alice(&app).await;
    let redirect = "http://127.0.0.1/callback";
    let by_name = docs.serve_document("/client.json", "Local");
    let by_address = format!("https://127.0.0.1:{}/client.json", docs.port);
    for id in [
        by_name.as_str(),
        by_address.as_str(),
        "https://169.254.169.254/latest/meta-data/client.json",
        "https://[::ffff:169.254.169.254]/client.json",
        "https://[::1]/client.json",
        "https://10.0.0.1/client.json",
    ] {
        let res = authorize_as(&c, &app, id, redirect).await;
        assert_eq!(res.status(), 400, "{id}");
        let (s, b, _) = form_token(
            &app.url,
            "mcp",
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("redirect_uri", redirect),
                ("code_verifier", VERIFIER),
                ("client_id", id),
            ],
        )
        .await;
        assert_eq!(
            (s, b["error"].as_str()),
            (401, Some("invalid_client")),
            "{id}: {b}"
        );
    }
    assert_eq!(
        docs.connections.load(Ordering::SeqCst),
        0,
        "nothing connected to the loopback server"
    );
}

#[tokio::test]
async fn only_apps_that_take_documents_fetch_them() {
    let docs = DocServer::start().await;
    let app = gatehouse(&docs, true).await;
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({
                "app_id": "web", "name": "Web", "client_id_type": "anything",
                "client_id_metadata_documents": true, "auth_methods": ["authorization_code"],
                "redirect_uris": ["https://client.example/cb"]
            })),
        )
        .await;
    assert_eq!(
        (s, b["field"].as_str()),
        (422, Some("client_id_metadata_documents")),
        "{b}"
    );
    let (s, _) = app.api(Method::GET, "/api/v1/apps/web", None).await;
    assert_eq!(s, 404, "the refused app was not made");
    documents_app(&app, "mcp", false).await;
    let meta = as_metadata(&app.url, "mcp").await;
    assert_eq!(meta["client_id_metadata_document_supported"], false);
    let id = docs.serve_document("/client.json", "Tool");
    let c = alice(&app).await;
    let res = authorize_as(&c, &app, &id, "http://127.0.0.1/callback").await;
    assert_eq!(res.status(), 400);
    assert_eq!(docs.hits("/client.json"), 0);
    // Switched on, the same client works.
    let (s, b) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/mcp",
            Some(json!({"client_id_metadata_documents": true})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let res = authorize_as(&c, &app, &id, "http://127.0.0.1/callback").await;
    assert_eq!(res.status(), 303);
    assert_eq!(docs.hits("/client.json"), 1);
}
