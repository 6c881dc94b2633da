//! Resource indicators (RFC 8707) and Gatehouse's own protected resource metadata (RFC 9728):
//! a token asked for a resource has it as its audience, nothing else is issued, a grant only
//! narrows, and a token for another resource is refused by Gatehouse's own API.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::authorize::{alice, authorize, challenge, make_app, query_of, setup, CB, VERIFIER};
use crate::helpers::*;

const MCP: &str = "https://mcp.example/mcp";
const FILES: &str = "https://files.example/";

/// The claims of a JWT, unverified (the signature is checked by the OIDC tests).
fn claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap_or_default()).unwrap_or(Value::Null)
}

async fn code_for(app: &TestApp, c: &reqwest::Client, app_id: &str, resources: &[&str]) -> String {
    let ch = challenge(VERIFIER);
    let mut q = vec![
        ("response_type", "code"),
        ("client_id", "web-client"),
        ("redirect_uri", CB),
        ("state", "s"),
        ("code_challenge", ch.as_str()),
        ("code_challenge_method", "S256"),
        ("scope", "read"),
    ];
    q.extend(resources.iter().map(|r| ("resource", *r)));
    let res = authorize(c, &app.url, app_id, &q).await;
    assert_eq!(res.status(), 303);
    let loc = location(&res);
    query_of(&loc)
        .get("code")
        .cloned()
        .unwrap_or_else(|| panic!("no code: {loc}"))
}

async fn exchange_for(app: &TestApp, app_id: &str, code: &str, resources: &[&str]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
        ("client_id", "web-client"),
        ("client_secret", "web-secret-123"),
    ];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    let (s, b, _) = form_token(&app.url, app_id, &form).await;
    (s, b)
}

#[tokio::test]
async fn a_token_for_a_resource_has_it_as_its_audience_and_a_grant_only_narrows() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(
        &app,
        "mcp",
        json!({"token_type": "jwt_rs256", "resources": [MCP, FILES]}),
    )
    .await;
    let c = alice(&app).await;

    // Asked for one resource at authorize and at the exchange: that is the audience.
    let code = code_for(&app, &c, "mcp", &[MCP]).await;
    let (s, t) = exchange_for(&app, "mcp", &code, &[MCP]).await;
    assert_eq!(s, 200, "{t}");
    let at = claims(t["access_token"].as_str().unwrap_or_default());
    assert_eq!(at["aud"], MCP, "{at}");
    assert_eq!(at["app_id"], "mcp", "the app that issued it is named");

    // The refresh keeps it; asking for a resource the grant was not for is invalid_target,
    // and does not spend the refresh token.
    let refresh = t["refresh_token"].as_str().unwrap_or_default().to_string();
    let refresh_with = |resource: Option<&'static str>, token: String| {
        let url = app.url.clone();
        async move {
            let mut form = vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", token),
                ("client_id", "web-client".to_string()),
                ("client_secret", "web-secret-123".to_string()),
            ];
            if let Some(r) = resource {
                form.push(("resource", r.to_string()));
            }
            let (s, b, _) = form_token(
                &url,
                "mcp",
                &form
                    .iter()
                    .map(|(k, v)| (*k, v.as_str()))
                    .collect::<Vec<_>>(),
            )
            .await;
            (s, b)
        }
    };
    let (s, b) = refresh_with(Some(FILES), refresh.clone()).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_target")),
        "{b}"
    );
    let (s, b) = refresh_with(None, refresh).await;
    assert_eq!(s, 200, "the refused request did not spend it: {b}");
    assert_eq!(
        claims(b["access_token"].as_str().unwrap_or_default())["aud"],
        MCP
    );

    // Both resources at authorize; the exchange narrows to one.
    let code = code_for(&app, &c, "mcp", &[MCP, FILES]).await;
    let (s, t) = exchange_for(&app, "mcp", &code, &[FILES]).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        claims(t["access_token"].as_str().unwrap_or_default())["aud"],
        FILES
    );
    // …and without narrowing the audience is both.
    let code = code_for(&app, &c, "mcp", &[MCP, FILES]).await;
    let (_, t) = exchange_for(&app, "mcp", &code, &[]).await;
    assert_eq!(
        claims(t["access_token"].as_str().unwrap_or_default())["aud"],
        json!([MCP, FILES])
    );
    // A code for one resource cannot be exchanged for another.
    let code = code_for(&app, &c, "mcp", &[MCP]).await;
    let (s, b) = exchange_for(&app, "mcp", &code, &[FILES]).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_target")),
        "{b}"
    );
    // Without resources the audience is the app, as before.
    let code = code_for(&app, &c, "mcp", &[]).await;
    let (_, t) = exchange_for(&app, "mcp", &code, &[]).await;
    let at = claims(t["access_token"].as_str().unwrap_or_default());
    assert_eq!(at["aud"], "mcp");
    assert!(at.get("app_id").is_none(), "{at}");

    // A resource the app does not list: an error redirect with invalid_target, no code.
    let ch = challenge(VERIFIER);
    let res = authorize(
        &c,
        &app.url,
        "mcp",
        &[
            ("response_type", "code"),
            ("client_id", "web-client"),
            ("redirect_uri", CB),
            ("state", "s"),
            ("code_challenge", ch.as_str()),
            ("code_challenge_method", "S256"),
            ("resource", "https://evil.example/"),
        ],
    )
    .await;
    let back = query_of(&location(&res));
    assert_eq!(
        back.get("error").map(String::as_str),
        Some("invalid_target")
    );
    assert!(!back.contains_key("code"));
}

#[tokio::test]
async fn client_credentials_tokens_for_a_resource_introspect_with_it_and_are_refused_by_gatehouses_api(
) {
    let app = spawn_app().await;
    client_app(&app, "svc", "opaque").await;
    let (s, b) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/svc",
            Some(json!({"resources": [MCP, app_api(&app)]})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let token = |resource: Option<String>| {
        let url = app.url.clone();
        async move {
            let mut form = vec![
                ("grant_type", "client_credentials".to_string()),
                ("client_id", CLIENT.to_string()),
                ("client_secret", SECRET.to_string()),
                ("scope", "users".to_string()),
            ];
            if let Some(r) = resource {
                form.push(("resource", r));
            }
            let (s, b, _) = form_token(
                &url,
                "svc",
                &form
                    .iter()
                    .map(|(k, v)| (*k, v.as_str()))
                    .collect::<Vec<_>>(),
            )
            .await;
            (s, b)
        }
    };
    // Outside the app's resources: invalid_target, nothing issued.
    let (s, b) = token(Some("https://other.example/".into())).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_target")),
        "{b}"
    );
    assert!(b.get("access_token").is_none());

    // For the MCP server: introspection says so, and Gatehouse's own API refuses it.
    let (s, b) = token(Some(MCP.into())).await;
    assert_eq!(s, 200, "{b}");
    let mcp_token = b["access_token"].as_str().unwrap_or_default().to_string();
    let (_, info) = introspect_with(&app.url, "svc", Some((CLIENT, SECRET)), &mcp_token).await;
    assert_eq!(
        (info["active"].as_bool(), &info["aud"]),
        (Some(true), &json!(MCP)),
        "{info}"
    );
    assert_eq!(
        bearer_status(&app.url, "/api/v1/users", &mcp_token).await,
        401
    );

    // For Gatehouse's API (its RFC 9728 resource identifier), and for no resource: accepted.
    let (_, b) = token(Some(app_api(&app))).await;
    let api_token = b["access_token"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        bearer_status(&app.url, "/api/v1/users", &api_token).await,
        200
    );
    let (_, b) = token(None).await;
    let plain = b["access_token"].as_str().unwrap_or_default().to_string();
    let (_, info) = introspect_with(&app.url, "svc", Some((CLIENT, SECRET)), &plain).await;
    assert_eq!(info["aud"], "svc", "{info}");
    assert_eq!(bearer_status(&app.url, "/api/v1/users", &plain).await, 200);
}

fn app_api(app: &TestApp) -> String {
    format!("{}/api/v1", app.url)
}

#[tokio::test]
async fn gatehouses_api_publishes_its_protected_resource_metadata_and_names_it_on_401() {
    let app = spawn_app().await;
    client_app(&app, "admin-client", "opaque").await;
    setup(&app).await;
    make_app(&app, "unrelated", json!({})).await;
    let doc: Value = client()
        .get(format!(
            "{}/.well-known/oauth-protected-resource/api/v1",
            app.url
        ))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["resource"], app_api(&app));
    // The app whose scopes reach the API issues tokens for it; the unrelated one does not.
    assert_eq!(
        doc["authorization_servers"],
        json!([format!("{}/oauth2/admin-client", app.url)]),
        "{doc}"
    );
    let res = client()
        .get(format!("{}/api/v1/users", app.url))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401);
    let challenge = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        challenge.starts_with("Bearer")
            && challenge.contains(&format!(
                "resource_metadata=\"{}/.well-known/oauth-protected-resource/api/v1\"",
                app.url
            )),
        "{challenge}"
    );
}
