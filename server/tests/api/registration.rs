//! Clients that register themselves (RFC 7591) and manage their registration (RFC 7592): what
//! an MCP client does against an app whose Client ID Type is `registered`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::authorize::{alice, authorize, challenge, query_of, setup, VERIFIER};
use crate::helpers::*;

const MCP: &str = "https://mcp.example/mcp";

/// An app for MCP clients: registered clients, open registration, code + refresh, a resource.
async fn mcp_app(app: &TestApp, id: &str, registration: &str) {
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({
                "app_id": id, "name": format!("MCP {id}"), "client_id_type": "registered",
                "client_registration": registration, "token_type": "jwt_rs256",
                "auth_methods": ["authorization_code", "client_credentials"], "issue_refresh_tokens": true,
                "scopes": [{"name": "tools", "description": "Call tools"}],
                "resources": [MCP], "user_access_roles": ["People"]
            })),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

async fn register(
    url: &str,
    app_id: &str,
    body: Value,
    token: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = client()
        .post(format!("{url}/oauth2/register/{app_id}"))
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("register");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.json().await.unwrap_or(Value::Null), headers)
}

fn mcp_client() -> Value {
    json!({
        "client_name": "An MCP client",
        "redirect_uris": ["http://127.0.0.1/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none"
    })
}

fn claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap_or_default()).unwrap_or(Value::Null)
}

#[tokio::test]
async fn an_mcp_client_registers_signs_a_person_in_and_refreshes() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "mcp", "open").await;
    mcp_app(&app, "other", "open").await;
    let meta = as_metadata(&app.url, "mcp").await;
    assert_eq!(
        meta["registration_endpoint"],
        format!("{}/oauth2/register/mcp", app.url)
    );
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["client_id_metadata_document_supported"], false);
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    assert!(meta["token_endpoint_auth_methods_supported"]
        .as_array()
        .is_some_and(|m| m.contains(&json!("none"))));

    let (s, reg, headers) = register(&app.url, "mcp", mcp_client(), None).await;
    assert_eq!(s, 201, "{reg}");
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let client_id = reg["client_id"].as_str().unwrap_or_default().to_string();
    assert!(client_id.len() >= 20, "{reg}");
    assert!(
        reg.get("client_secret").is_none(),
        "a public client gets no secret"
    );
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    assert_eq!(
        reg["registration_client_uri"],
        format!("{}/oauth2/register/mcp/{client_id}", app.url)
    );
    assert!(reg["registration_access_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 40));

    // A person signs in; the loopback redirect matches on any port (RFC 8252).
    let c = alice(&app).await;
    let ch = challenge(VERIFIER);
    let redirect = "http://127.0.0.1:49152/callback";
    let res = authorize(
        &c,
        &app.url,
        "mcp",
        &[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", redirect),
            ("state", "st"),
            ("code_challenge", ch.as_str()),
            ("code_challenge_method", "S256"),
            ("scope", "tools"),
            ("resource", MCP),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let loc = location(&res);
    assert!(loc.starts_with(redirect), "{loc}");
    let q = query_of(&loc);
    assert_eq!(
        q.get("iss").map(String::as_str),
        Some(format!("{}/oauth2/mcp", app.url).as_str())
    );
    let code = q.get("code").cloned().unwrap_or_default();
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
    assert_eq!(
        claims(r["access_token"].as_str().unwrap_or_default())["aud"],
        MCP
    );

    // The client is this app's only: at another app it is unknown, at authorize and token.
    let res = authorize(
        &c,
        &app.url,
        "other",
        &[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", redirect),
            ("code_challenge", ch.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(res.status(), 400, "an error page, never a redirect");
    let (s, b, _) = form_token(
        &app.url,
        "other",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (401, Some("invalid_client")),
        "{b}"
    );
    // A grant it did not register is refused; so is a redirect URI it did not register.
    let (s, b, _) = form_token(
        &app.url,
        "mcp",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{b}"
    );
    let res = authorize(
        &c,
        &app.url,
        "mcp",
        &[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", "https://evil.example/cb"),
            ("code_challenge", ch.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn registration_metadata_is_checked_and_registration_follows_the_apps_setting() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "open", "open").await;
    mcp_app(&app, "closed", "off").await;
    mcp_app(&app, "invite", "token").await;
    // Not https nor loopback; a fragment; no redirect URIs for the code grant.
    for uris in [
        json!(["http://evil.example/cb"]),
        json!(["https://a.example/cb#x"]),
        json!([]),
    ] {
        let mut body = mcp_client();
        body["redirect_uris"] = uris.clone();
        let (s, b, _) = register(&app.url, "open", body, None).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (400, Some("invalid_redirect_uri")),
            "{uris}: {b}"
        );
    }
    for (k, v) in [
        ("grant_types", json!(["password"])),
        ("token_endpoint_auth_method", json!("client_secret_jwt")),
        ("scope", json!("tools admin")),
        ("logo_uri", json!("javascript:alert(1)")),
    ] {
        let mut body = mcp_client();
        body[k] = v;
        let (s, b, _) = register(&app.url, "open", body, None).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (400, Some("invalid_client_metadata")),
            "{k}: {b}"
        );
    }
    // Off: refused. Token: only with an initial access token the administrator issued.
    let (s, b, _) = register(&app.url, "closed", mcp_client(), None).await;
    assert_eq!(s, 403, "{b}");
    let (s, _, headers) = register(&app.url, "invite", mcp_client(), None).await;
    assert_eq!(s, 401);
    assert!(headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer")));
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps/invite/initial-access-tokens",
            Some(json!({"expires_in": 3600})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let iat = b["initial_access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (s, _, _) = register(&app.url, "invite", mcp_client(), Some("not-the-token")).await;
    assert_eq!(s, 401);
    let (s, b, _) = register(&app.url, "invite", mcp_client(), Some(&iat)).await;
    assert_eq!(s, 201, "{b}");
    // Nothing was stored for the refused requests: only the one client exists.
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM app_clients")
        .fetch_one(&app.services.store.pool)
        .await
        .expect("count");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_registration_is_read_changed_and_deleted_only_with_its_token() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "mcp", "open").await;
    // A machine client: client credentials with a secret in the Basic header.
    let (s, reg, _) = register(
        &app.url,
        "mcp",
        json!({"client_name": "Worker", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_basic"}),
        None,
    )
    .await;
    assert_eq!(s, 201, "{reg}");
    let id = reg["client_id"].as_str().unwrap_or_default().to_string();
    let secret = reg["client_secret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let token = reg["registration_access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let uri = reg["registration_client_uri"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let cc = |how: &'static str, secret: String| {
        let (url, id) = (app.url.clone(), id.clone());
        async move {
            let req = client().post(format!("{url}/oauth2/token/mcp"));
            let req = if how == "basic" {
                req.basic_auth(&id, Some(&secret))
                    .form(&[("grant_type", "client_credentials")])
            } else {
                req.form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", id.as_str()),
                    ("client_secret", secret.as_str()),
                ])
            };
            let res = req.send().await.expect("token");
            (
                res.status().as_u16(),
                res.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (s, t) = cc("basic", secret.clone()).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        claims(t["access_token"].as_str().unwrap_or_default())["sub"],
        id.as_str()
    );
    assert_eq!(cc("basic", "wrong".into()).await.0, 401);
    assert_eq!(
        cc("post", secret.clone()).await.0,
        401,
        "it registered the Basic header"
    );

    let call = |method: Method, bearer: &str, body: Option<Value>| {
        let (uri, bearer) = (uri.clone(), bearer.to_string());
        async move {
            let mut req = client().request(method, &uri).bearer_auth(bearer);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let res = req.send().await.expect("manage");
            (
                res.status().as_u16(),
                res.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (s, read) = call(Method::GET, &token, None).await;
    assert_eq!(
        (s, read["client_name"].as_str()),
        (200, Some("Worker")),
        "{read}"
    );
    assert!(
        read.get("client_secret").is_none(),
        "the secret is never shown again"
    );
    assert_eq!(call(Method::GET, "wrong-token", None).await.0, 401);
    let mut changed = read.clone();
    changed["client_name"] = json!("Worker 2");
    assert_eq!(
        call(Method::PUT, "wrong-token", Some(changed.clone()))
            .await
            .0,
        401
    );
    let (s, after) = call(Method::PUT, &token, Some(changed)).await;
    assert_eq!(
        (s, after["client_name"].as_str()),
        (200, Some("Worker 2")),
        "{after}"
    );
    assert_eq!(
        cc("basic", secret.clone()).await.0,
        200,
        "the secret is kept"
    );
    assert_eq!(call(Method::DELETE, "wrong-token", None).await.0, 401);
    assert_eq!(call(Method::DELETE, &token, None).await.0, 204);
    assert_eq!(
        cc("basic", secret).await.0,
        401,
        "a deleted client is unknown"
    );
    assert_eq!(call(Method::GET, &token, None).await.0, 401);
    // Registration, change and deletion are each audited, as the system's doing.
    let (_, audit) = app.api(Method::GET, "/api/v1/audit", None).await;
    let mut actions: Vec<String> = audit["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["object_type"] == "client" && r["object_id"] == id.as_str())
                .filter_map(|r| r["action"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    actions.sort();
    assert_eq!(
        actions,
        ["client.delete", "client.register", "client.update"],
        "{audit}"
    );
}

#[tokio::test]
async fn open_registration_stops_at_the_apps_cap() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "mcp", "open").await;
    let mut cfg = config(&app.db);
    cfg.registration_max_clients = 2;
    let (url, _) = start(cfg).await;
    for _ in 0..2 {
        let (s, b, _) = register(&url, "mcp", mcp_client(), None).await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, b, _) = register(&url, "mcp", mcp_client(), None).await;
    assert_eq!(s, 429, "{b}");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM app_clients WHERE app_id = 'mcp'")
        .fetch_one(&app.services.store.pool)
        .await
        .expect("count");
    assert_eq!(n, 2);
}

#[tokio::test]
async fn registrations_from_one_address_are_rate_limited() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "mcp", "open").await;
    let mut cfg = config(&app.db);
    cfg.registration_rate = 3;
    let (url, _) = start(cfg).await;
    let mut bad = mcp_client();
    bad["redirect_uris"] = json!(["http://evil.example/cb"]);
    // Refused registrations count too.
    let (s, _, _) = register(&url, "mcp", bad, None).await;
    assert_eq!(s, 400);
    for _ in 0..2 {
        assert_eq!(register(&url, "mcp", mcp_client(), None).await.0, 201);
    }
    let (s, b, headers) = register(&url, "mcp", mcp_client(), None).await;
    assert_eq!((s, b["error"].as_str()), (429, Some("slow_down")), "{b}");
    assert!(headers.get("retry-after").is_some());
}

#[tokio::test]
async fn administrators_add_change_rotate_and_delete_clients_and_each_change_is_audited() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "mcp", "off").await;
    let base = "/api/v1/apps/mcp/clients";
    let (s, c) = app
        .api(
            Method::POST,
            base,
            Some(
                json!({"client_name": "Nightly job", "grant_types": ["client_credentials"],
                        "token_endpoint_auth_method": "client_secret_post"}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let id = c["client_id"].as_str().unwrap_or_default().to_string();
    let secret = c["client_secret"].as_str().unwrap_or_default().to_string();
    assert!(secret.len() >= 40);
    let token = |secret: String| {
        let (url, id) = (app.url.clone(), id.clone());
        async move {
            form_token(
                &url,
                "mcp",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                ],
            )
            .await
            .0
        }
    };
    assert_eq!(token(secret.clone()).await, 200);
    // Listed and read without the secret.
    let (_, list) = app.api(Method::GET, base, None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert!(list[0].get("client_secret").is_none());
    assert_eq!(
        list[0]["created_by"].as_str().map(|v| v != "registration"),
        Some(true)
    );
    // A change is checked like a registration, and what was refused is not stored.
    let path = format!("{base}/{id}");
    let (s, e) = app
        .api(Method::PATCH, &path, Some(json!({"grant_types": ["authorization_code"], "redirect_uris": ["http://evil.example/cb"]})))
        .await;
    assert_eq!(
        (s, e["field"].as_str()),
        (422, Some("redirect_uris")),
        "{e}"
    );
    let (_, read) = app.api(Method::GET, &path, None).await;
    assert_eq!(read["grant_types"], json!(["client_credentials"]));
    let (s, read) = app
        .api(
            Method::PATCH,
            &path,
            Some(json!({"client_name": "Nightly job v2"})),
        )
        .await;
    assert_eq!(
        (s, read["client_name"].as_str()),
        (200, Some("Nightly job v2")),
        "{read}"
    );
    // A new secret: the old one stops working.
    let (s, r) = app.api(Method::POST, &format!("{path}/secret"), None).await;
    assert_eq!(s, 200, "{r}");
    let rotated = r["client_secret"].as_str().unwrap_or_default().to_string();
    assert_eq!(token(secret).await, 401);
    assert_eq!(token(rotated.clone()).await, 200);
    // Without the apps right: refused, and nothing changes.
    let user = app.create_user("helpdesk", "helpdesk-pass", false).await;
    let role = app.create_role("Helpdesk", &["users"]).await;
    app.add_member(&role, &user).await;
    let c2 = client();
    sign_in(&c2, &app.url, "helpdesk", "helpdesk-pass", "/admin").await;
    let (s, _) = api_call(&c2, &app.url, Method::DELETE, &path, None).await;
    assert_eq!(s, 403);
    assert_eq!(token(rotated.clone()).await, 200, "still there");
    // Deleted: its tokens and secret end.
    let (s, _) = app.api(Method::DELETE, &path, None).await;
    assert_eq!(s, 204);
    assert_eq!(token(rotated).await, 401);
    assert_eq!(app.api(Method::GET, &path, None).await.0, 404);
    // Each change is in the audit log.
    let (_, audit) = app.api(Method::GET, "/api/v1/audit", None).await;
    let mut actions: Vec<String> = audit["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["object_type"] == "client" && r["object_id"] == id.as_str())
                .filter_map(|r| r["action"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    actions.sort();
    assert_eq!(
        actions,
        [
            "client.create",
            "client.delete",
            "client.rotate_secret",
            "client.update"
        ],
        "{audit}"
    );
    // Apps of another Client ID Type take no clients.
    crate::authorize::make_app(&app, "plain", json!({})).await;
    let (s, _) = app
        .api(
            Method::POST,
            "/api/v1/apps/plain/clients",
            Some(json!({"redirect_uris": ["https://a.example/cb"]})),
        )
        .await;
    assert_eq!(s, 409);
}

/// Housekeeping deletes self-registered clients nobody used for the idle time (and expired
/// initial access tokens), never an administrator's client or one in use.
#[tokio::test]
async fn unused_self_registered_clients_are_purged() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "mcp", "open").await;
    let (_, idle, _) = register(&app.url, "mcp", mcp_client(), None).await;
    let (_, used, _) = register(&app.url, "mcp", mcp_client(), None).await;
    let (s, admins) = app
        .api(Method::POST, "/api/v1/apps/mcp/clients", Some(mcp_client()))
        .await;
    assert_eq!(s, 201, "{admins}");
    let pool = &app.services.store.pool;
    let long_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 31 * 86_400;
    sqlx::query("UPDATE app_clients SET created_at = $1")
        .bind(long_ago)
        .execute(pool)
        .await
        .expect("age");
    sqlx::query("UPDATE app_clients SET last_used_at = $1 WHERE client_id = $2")
        .bind(long_ago + 30 * 86_400)
        .bind(used["client_id"].as_str())
        .execute(pool)
        .await
        .expect("used");
    let report = app.services.purge_expired(10).await.expect("purge");
    assert_eq!(report.registered_clients, 1, "{report:?}");
    let left: Vec<String> =
        sqlx::query_scalar("SELECT client_id FROM app_clients ORDER BY client_id")
            .fetch_all(pool)
            .await
            .expect("left");
    let mut expected = vec![
        used["client_id"].as_str().unwrap_or_default().to_string(),
        admins["client_id"].as_str().unwrap_or_default().to_string(),
    ];
    expected.sort();
    assert_eq!(left, expected);
    assert!(!left.contains(&idle["client_id"].as_str().unwrap_or_default().to_string()));
}

/// The consent page names the registered client and where it returns the person: clients
/// name themselves, so the host is what a person can check.
#[tokio::test]
async fn the_consent_page_names_the_registered_client_and_its_host() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "mcp", "open").await;
    let (s, b) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/mcp",
            Some(json!({"user_must_confirm": true})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let mut body = mcp_client();
    body["client_name"] = json!("Friendly <Tool>");
    let (_, reg, _) = register(&app.url, "mcp", body, None).await;
    let client_id = reg["client_id"].as_str().unwrap_or_default().to_string();
    let c = alice(&app).await;
    let ch = challenge(VERIFIER);
    let res = authorize(
        &c,
        &app.url,
        "mcp",
        &[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", "http://127.0.0.1:8123/callback"),
            ("code_challenge", ch.as_str()),
            ("code_challenge_method", "S256"),
            ("resource", MCP),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap_or_default();
    assert!(
        page.contains("Requested by <strong>Friendly &lt;Tool&gt; (returns to 127.0.0.1)</strong>"),
        "{page}"
    );
    // The resource is carried through the consent form.
    assert!(
        page.contains(&format!("name=\"resource\" value=\"{MCP}\"")),
        "{page}"
    );
}

/// Configuration as code carries registered clients: an export with secrets imported into an
/// empty Gatehouse gives the same document, and the client's secret still works there; without
/// secrets its hashes are left out and an import keeps the ones in place.
#[tokio::test]
async fn clients_travel_in_the_configuration_document() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "mcp", "open").await;
    let (_, public, _) = register(&app.url, "mcp", mcp_client(), None).await;
    let (s, worker) = app
        .api(
            Method::POST,
            "/api/v1/apps/mcp/clients",
            Some(json!({"client_name": "Worker", "grant_types": ["client_credentials"]})),
        )
        .await;
    assert_eq!(s, 201, "{worker}");
    let secret = worker["client_secret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let worker_id = worker["client_id"].as_str().unwrap_or_default().to_string();

    let (_, plain) = app.api(Method::GET, "/api/v1/export", None).await;
    let clients = &plain["apps"][0]["clients"];
    assert_eq!(clients.as_array().map(Vec::len), Some(2), "{plain}");
    assert!(clients
        .as_array()
        .is_some_and(|c| c.iter().all(|c| c.get("secret_hash").is_none())));
    let (_, full) = app
        .api(Method::GET, "/api/v1/export?with_secrets=true", None)
        .await;
    let listed: Vec<&Value> = full["apps"][0]["clients"]
        .as_array()
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    assert!(listed
        .iter()
        .any(|c| c["client_id"] == public["client_id"] && c["self_registered"] == true));
    assert!(listed
        .iter()
        .any(|c| c["client_id"] == worker_id.as_str() && c["secret_hash"].is_string()));

    // Into an empty Gatehouse: the same document, and the worker's secret works there.
    // (Its apps and the role they name; its users would replace this Gatehouse's admin.)
    let other = spawn_app().await;
    let only_apps = |doc: &Value| {
        json!({"gatehouse_config": 1, "apps": doc["apps"],
               "roles": [{"name": "People", "description": "", "admin_rights": [], "members": []}]})
    };
    let (s, plan) = other
        .api(Method::POST, "/api/v1/import", Some(only_apps(&full)))
        .await;
    assert_eq!(s, 200, "{plan}");
    let (s, again) = other
        .api(Method::GET, "/api/v1/export?with_secrets=true", None)
        .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["apps"], full["apps"]);
    let (s, t, _) = form_token(
        &other.url,
        "mcp",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &worker_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    // The worker registered client_secret_basic by default: the secret goes in the header.
    assert_eq!(
        (s, t["error"].as_str()),
        (401, Some("invalid_client")),
        "{t}"
    );
    let res = client()
        .post(format!("{}/oauth2/token/mcp", other.url))
        .basic_auth(&worker_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 200);

    // Re-importing the export without secrets changes nothing and keeps the secret.
    let (s, plan) = other
        .api(Method::POST, "/api/v1/import", Some(only_apps(&plain)))
        .await;
    assert_eq!(s, 200, "{plan}");
    assert_eq!(plan["steps"], json!([]), "{plan}");
    let res = client()
        .post(format!("{}/oauth2/token/mcp", other.url))
        .basic_auth(&worker_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 200);

    // A client whose metadata breaks the rules is refused with its path, and nothing changes.
    let mut bad = only_apps(&plain);
    bad["apps"][0]["clients"][0]["redirect_uris"] = json!(["http://evil.example/cb"]);
    let (s, e) = other.api(Method::POST, "/api/v1/import", Some(bad)).await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("apps[0].clients[")),
        "{e}"
    );
}

/// Browser-based clients (MCP Inspector, single-page apps) read the metadata, register and get
/// tokens across origins: CORS without cookies on the endpoints programs call.
#[tokio::test]
async fn the_endpoints_programs_call_answer_cross_origin_requests() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "mcp", "open").await;
    for (path, method) in [
        ("/oauth2/register/mcp", "POST"),
        ("/oauth2/token/mcp", "POST"),
        ("/.well-known/oauth-authorization-server/oauth2/mcp", "GET"),
        ("/.well-known/oauth-protected-resource/api/v1", "GET"),
    ] {
        let res = client()
            .request(Method::OPTIONS, format!("{}{path}", app.url))
            .header("Origin", "https://inspector.example")
            .header("Access-Control-Request-Method", method)
            .header(
                "Access-Control-Request-Headers",
                "content-type, authorization",
            )
            .send()
            .await
            .expect("preflight");
        assert!(res.status().is_success(), "{path}: {}", res.status());
        assert_eq!(
            res.headers()
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok()),
            Some("*"),
            "{path}"
        );
        assert!(res
            .headers()
            .get("access-control-allow-credentials")
            .is_none());
    }
    let res = client()
        .post(format!("{}/oauth2/register/mcp", app.url))
        .header("Origin", "https://inspector.example")
        .json(&mcp_client())
        .send()
        .await
        .expect("register");
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("*")
    );
    // The portal's own API stays same-origin.
    let res = client()
        .request(Method::OPTIONS, format!("{}/api/v1/users", app.url))
        .header("Origin", "https://inspector.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .expect("preflight");
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

/// A registered client's `localhost` redirect matches on any port (SPEC §3b), and error
/// redirects name the issuer (RFC 9207 §2).
#[tokio::test]
async fn localhost_matches_any_port_and_error_redirects_carry_the_issuer() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "mcp", "open").await;
    let mut body = mcp_client();
    body["redirect_uris"] = json!(["http://localhost:4444/callback"]);
    let (_, reg, _) = register(&app.url, "mcp", body, None).await;
    let client_id = reg["client_id"].as_str().unwrap_or_default().to_string();
    let c = alice(&app).await;
    let ch = challenge(VERIFIER);
    let q = |resource: &'static str| {
        vec![
            ("response_type", "code".to_string()),
            ("client_id", client_id.clone()),
            ("redirect_uri", "http://localhost:5555/callback".to_string()),
            ("state", "st".to_string()),
            ("code_challenge", ch.clone()),
            ("code_challenge_method", "S256".to_string()),
            ("resource", resource.to_string()),
        ]
    };
    let ok = q(MCP);
    let ok: Vec<(&str, &str)> = ok.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = authorize(&c, &app.url, "mcp", &ok).await;
    assert_eq!(res.status(), 303);
    assert!(
        location(&res).starts_with("http://localhost:5555/callback?code="),
        "{}",
        location(&res)
    );
    let bad = q("https://unlisted.example/");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = authorize(&c, &app.url, "mcp", &bad).await;
    let back = query_of(&location(&res));
    assert_eq!(
        back.get("error").map(String::as_str),
        Some("invalid_target")
    );
    assert_eq!(
        back.get("iss").map(String::as_str),
        Some(format!("{}/oauth2/mcp", app.url).as_str())
    );
}

/// Introspection (RFC 7662 §4: the server decides who may): a resource server an administrator
/// added as a confidential client reads the app's tokens; a client that registered itself, a
/// public client or a wrong secret may not.
#[tokio::test]
async fn an_administrator_added_confidential_client_introspects_and_self_registered_ones_cannot() {
    let app = spawn_app().await;
    setup(&app).await;
    mcp_app(&app, "mcp", "open").await;
    let (s, rs) = app
        .api(
            Method::POST,
            "/api/v1/apps/mcp/clients",
            Some(
                json!({"client_name": "MCP server", "grant_types": ["client_credentials"],
                        "token_endpoint_auth_method": "client_secret_basic"}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{rs}");
    let rs_id = rs["client_id"].as_str().unwrap_or_default().to_string();
    let rs_secret = rs["client_secret"].as_str().unwrap_or_default().to_string();
    let mut body = mcp_client();
    body["grant_types"] = json!(["client_credentials"]);
    body["response_types"] = json!([]);
    body["token_endpoint_auth_method"] = json!("client_secret_basic");
    body.as_object_mut().unwrap().remove("redirect_uris");
    let (s, me, _) = register(&app.url, "mcp", body, None).await;
    assert_eq!(s, 201, "{me}");
    let me_id = me["client_id"].as_str().unwrap_or_default().to_string();
    let me_secret = me["client_secret"].as_str().unwrap_or_default().to_string();
    let (_, public, _) = register(&app.url, "mcp", mcp_client(), None).await;
    let public_id = public["client_id"].as_str().unwrap_or_default().to_string();

    // A token of the self-registered client, read by the resource server.
    let res = client()
        .post(format!("{}/oauth2/token/mcp", app.url))
        .basic_auth(&me_id, Some(&me_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 200);
    let t: Value = res.json().await.expect("json");
    let token = t["access_token"].as_str().unwrap_or_default();
    let (s, i) = introspect_with(&app.url, "mcp", Some((&rs_id, &rs_secret)), token).await;
    assert_eq!((s, i["active"].as_bool()), (200, Some(true)), "{i}");
    assert_eq!(i["client_id"], me_id.as_str());
    for (who, secret) in [
        (me_id.as_str(), me_secret.as_str()),
        (public_id.as_str(), ""),
        (rs_id.as_str(), "wrong"),
    ] {
        let (s, e) = introspect_with(&app.url, "mcp", Some((who, secret)), token).await;
        assert_eq!(
            (s, e["error"].as_str()),
            (401, Some("invalid_client")),
            "{who}: {e}"
        );
    }
}
