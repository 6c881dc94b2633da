//! The authorize endpoint, consent, and the authorization_code, password and refresh_token grants.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;

pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CB: &str = "https://client.example/cb";

pub(crate) fn challenge(v: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()))
}

/// A person "alice" in role "People"; a confidential client "web-client" in it too; apps made by `app_json`.
pub(crate) async fn setup(app: &TestApp) -> String {
    let rid = app.create_role("People", &[]).await;
    let alice = app.create_user("alice", "alice-password", false).await;
    app.add_member(&rid, &alice).await;
    let client = app.create_user("web-client", "web-secret-123", true).await;
    app.add_member(&rid, &client).await;
    alice
}

pub(crate) async fn make_app(app: &TestApp, id: &str, extra: Value) -> Value {
    let mut body = json!({
        "app_id": id, "name": format!("App {id}"), "client_id_type": "confidential",
        "redirect_uris": [CB, "http://127.0.0.1/loopback"], "token_type": "opaque",
        "auth_methods": ["authorization_code"], "issue_refresh_tokens": true,
        "scopes": [{"name": "read", "description": "Read things"}, {"name": "write", "description": "Write things"}],
        "user_access_roles": ["People"]
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let (s, a) = app.api(Method::POST, "/api/v1/apps", Some(body)).await;
    assert_eq!(s, 201, "{a}");
    a
}

pub(crate) async fn alice(app: &TestApp) -> reqwest::Client {
    let c = client();
    let res = sign_in(&c, &app.url, "alice", "alice-password", "/").await;
    assert_eq!(res.status(), 302);
    c
}

pub(crate) async fn authorize(
    c: &reqwest::Client,
    url: &str,
    app_id: &str,
    q: &[(&str, &str)],
) -> reqwest::Response {
    c.get(format!("{url}/oauth2/authorize/{app_id}"))
        .query(q)
        .send()
        .await
        .expect("authorize")
}

pub(crate) fn query_of(loc: &str) -> std::collections::HashMap<String, String> {
    let q = loc.split_once(['?', '#']).map(|x| x.1).unwrap_or("");
    serde_urlencoded::from_str(q).unwrap_or_default()
}

pub(crate) fn code_params<'a>(client_id: &'a str, ch: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CB),
        ("state", "xyz"),
        ("code_challenge", ch),
        ("code_challenge_method", "S256"),
        ("scope", "read write"),
    ]
}

pub(crate) async fn exchange(url: &str, app_id: &str, code: &str, verifier: &str) -> (u16, Value) {
    let (s, b, _) = form_token(
        url,
        app_id,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", verifier),
            ("client_id", "web-client"),
            ("client_secret", "web-secret-123"),
        ],
    )
    .await;
    (s, b)
}

/// A refresh-token request of `web-client` at `app_id`.
pub(crate) async fn refresh_with(url: &str, app_id: &str, refresh_token: &str) -> (u16, Value) {
    let (s, b, _) = form_token(
        url,
        app_id,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "web-client"),
            ("client_secret", "web-secret-123"),
        ],
    )
    .await;
    (s, b)
}

pub(crate) async fn introspect(url: &str, app_id: &str, token: &str) -> Value {
    client()
        .post(format!("{url}/oauth2/introspect/{app_id}"))
        .basic_auth("web-client", Some("web-secret-123"))
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspect")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn bad_client_or_redirect_shows_the_error_page_even_when_signed_out() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "web", json!({})).await;
    let ch = challenge(VERIFIER);
    let anon = client();
    let mut p = code_params("web-client", &ch);
    p[2] = ("redirect_uri", "https://evil.example/cb");
    let res = authorize(&anon, &app.url, "web", &p).await;
    assert_eq!(res.status(), 400, "never a redirect");
    assert!(res
        .text()
        .await
        .unwrap_or_default()
        .contains("redirect_uri is not registered"));
    let res = authorize(&anon, &app.url, "web", &code_params("not-a-client", &ch)).await;
    assert_eq!(res.status(), 400);
    // SPEC §3: an unknown app is 404 on every /oauth2/... path — still the page, never a redirect.
    let res = authorize(&anon, &app.url, "nope", &code_params("web-client", &ch)).await;
    assert_eq!(res.status(), 404);
    assert!(location(&res).is_empty(), "never a redirect");
    assert!(res
        .text()
        .await
        .unwrap_or_default()
        .contains("There is no such application."));
    let res = authorize(&anon, &app.url, "web", &code_params("web-client", &ch)).await;
    assert_eq!(res.status(), 303, "good request, anonymous: sign in first");
    assert!(
        location(&res).starts_with("/login?return_to=%2Foauth2%2Fauthorize%2Fweb%3F"),
        "{}",
        location(&res)
    );
}

#[tokio::test]
async fn code_with_pkce_then_exchange_then_replay_revokes() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "web", json!({})).await;
    let c = alice(&app).await;
    let ch = challenge(VERIFIER);
    let res = authorize(&c, &app.url, "web", &code_params("web-client", &ch)).await;
    assert_eq!(res.status(), 303);
    let loc = location(&res);
    assert!(loc.starts_with(&format!("{CB}?code=")), "{loc}");
    let q = query_of(&loc);
    assert_eq!(q["state"], "xyz");
    assert_eq!(q["iss"], format!("{}/oauth2/web", app.url));
    let code = q["code"].clone();

    let (s, wrong) = exchange(
        &app.url,
        "web",
        &code,
        "wrong-verifier-wrong-verifier-wrong-verifier-x",
    )
    .await;
    assert_eq!(
        (s, wrong["error"].as_str()),
        (400, Some("invalid_grant")),
        "a wrong verifier is refused"
    );
    let (s, again) = exchange(&app.url, "web", &code, VERIFIER).await;
    assert_eq!(
        (s, again["error"].as_str()),
        (400, Some("invalid_grant")),
        "and it spent the code: the right verifier comes too late"
    );

    // A fresh code: exchange works, the replay revokes what it issued.
    let res = authorize(&c, &app.url, "web", &code_params("web-client", &ch)).await;
    let code = query_of(&location(&res))["code"].clone();
    let (s, tokens) = exchange(&app.url, "web", &code, VERIFIER).await;
    assert_eq!(s, 200, "{tokens}");
    assert_eq!(tokens["scope"], "read write");
    let access = tokens["access_token"].as_str().expect("access").to_string();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh with authorization_code")
        .to_string();
    assert_eq!(introspect(&app.url, "web", &access).await["active"], true);
    assert_eq!(
        introspect(&app.url, "web", &access).await["username"],
        "alice"
    );
    let (s, replay) = exchange(&app.url, "web", &code, VERIFIER).await;
    assert_eq!((s, replay["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(
        introspect(&app.url, "web", &access).await["active"],
        false,
        "replay revoked the access token"
    );
    assert_eq!(
        introspect(&app.url, "web", &refresh).await["active"],
        false,
        "and the refresh token"
    );
}

#[tokio::test]
async fn code_exchange_checks_redirect_expiry_and_client() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "web", json!({})).await;
    let c = alice(&app).await;
    let ch = challenge(VERIFIER);
    let get_code = || async {
        query_of(&location(
            &authorize(&c, &app.url, "web", &code_params("web-client", &ch)).await,
        ))["code"]
            .clone()
    };

    let code = get_code().await;
    let (s, b, _) = form_token(
        &app.url,
        "web",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1/loopback"),
            ("code_verifier", VERIFIER),
            ("client_id", "web-client"),
            ("client_secret", "web-secret-123"),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "wrong redirect_uri"
    );

    let code = get_code().await;
    sqlx::query("UPDATE auth_codes SET expires_at = 1")
        .execute(&app.services.store.pool)
        .await
        .expect("age");
    let (s, b) = exchange(&app.url, "web", &code, VERIFIER).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "expired"
    );

    let (s, b) = exchange(&app.url, "web", "not-a-code", VERIFIER).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn loopback_redirects_match_any_port() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "web", json!({})).await;
    let c = alice(&app).await;
    let ch = challenge(VERIFIER);
    let mut p = code_params("web-client", &ch);
    p[2] = ("redirect_uri", "http://127.0.0.1:49152/loopback");
    let res = authorize(&c, &app.url, "web", &p).await;
    assert!(
        location(&res).starts_with("http://127.0.0.1:49152/loopback?code="),
        "{}",
        location(&res)
    );
}

#[tokio::test]
async fn public_clients_must_use_pkce() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "spa", json!({"client_id_type": "anything"})).await;
    let c = alice(&app).await;
    let res = authorize(
        &c,
        &app.url,
        "spa",
        &[
            ("response_type", "code"),
            ("client_id", "my-spa"),
            ("redirect_uri", CB),
            ("state", "s1"),
        ],
    )
    .await;
    let q = query_of(&location(&res));
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["state"], "s1");
    let ch = challenge(VERIFIER);
    let res = authorize(&c, &app.url, "spa", &code_params("my-spa", &ch)).await;
    let code = query_of(&location(&res))["code"].clone();
    let (s, b, _) = form_token(
        &app.url,
        "spa",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
            ("client_id", "my-spa"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn auth_mode_not_allowed_and_access_denied_redirect_with_state() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "codeonly", json!({})).await;
    let c = alice(&app).await;
    let res = authorize(
        &c,
        &app.url,
        "codeonly",
        &[
            ("response_type", "token"),
            ("client_id", "web-client"),
            ("redirect_uri", CB),
            ("state", "st"),
        ],
    )
    .await;
    let loc = location(&res);
    assert!(
        loc.starts_with(&format!("{CB}#")),
        "token errors go in the fragment: {loc}"
    );
    let q = query_of(&loc);
    assert_eq!(q["error"], "unauthorized_client");
    assert_eq!(q["error_description"], "auth mode not allowed");
    assert_eq!(q["state"], "st");

    // Bob is in no User Access role.
    app.create_user("bob", "bob-password", false).await;
    let b = client();
    sign_in(&b, &app.url, "bob", "bob-password", "/").await;
    let ch = challenge(VERIFIER);
    let res = authorize(&b, &app.url, "codeonly", &code_params("web-client", &ch)).await;
    let q = query_of(&location(&res));
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "xyz");
    let res = authorize(
        &c,
        &app.url,
        "codeonly",
        &[
            ("response_type", "code"),
            ("client_id", "web-client"),
            ("redirect_uri", CB),
            ("scope", "admin"),
            ("state", "s"),
        ],
    )
    .await;
    assert_eq!(query_of(&location(&res))["error"], "invalid_scope");
}

#[tokio::test]
async fn implicit_returns_the_token_in_the_fragment() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(
        &app,
        "imp",
        json!({"auth_methods": ["implicit"], "token_type": "jwt_rs256"}),
    )
    .await;
    let c = alice(&app).await;
    let res = authorize(
        &c,
        &app.url,
        "imp",
        &[
            ("response_type", "token"),
            ("client_id", "web-client"),
            ("redirect_uri", CB),
            ("state", "st"),
            ("scope", "read"),
        ],
    )
    .await;
    let loc = location(&res);
    assert!(loc.starts_with(&format!("{CB}#access_token=")), "{loc}");
    let q = query_of(&loc);
    assert_eq!(q["token_type"], "Bearer");
    assert_eq!(q["scope"], "read");
    assert_eq!(q["state"], "st");
    assert_eq!(q["expires_in"], "18000");
    assert!(!q.contains_key("refresh_token"));
}

#[tokio::test]
async fn the_documents_implicit_grant_type_exchanges_a_code() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "doc", json!({"auth_methods": ["implicit"]})).await;
    let code = app
        .services
        .create_code(
            &app.services.app("doc").await.expect("db").expect("app"),
            "web-client",
            &setup_alice_id(&app).await,
            CB,
            &["read".into()],
            None,
            &domain::oidc::SignIn::default(),
            &[],
        )
        .await
        .expect("code");
    let (s, b, _) = form_token(
        &app.url,
        "doc",
        &[
            ("grant_type", "implicit"),
            ("code", &code),
            ("redirect_uri", CB),
            ("client_id", "web-client"),
            ("client_secret", "web-secret-123"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert!(b.get("refresh_token").is_none());
}

async fn setup_alice_id(app: &TestApp) -> String {
    app.api(Method::GET, "/api/v1/users?login_name=alice", None)
        .await
        .1["items"][0]["id"]
        .as_str()
        .expect("alice")
        .to_string()
}

#[tokio::test]
async fn refresh_tokens_rotate_narrow_and_detect_reuse() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "web", json!({})).await;
    let c = alice(&app).await;
    let ch = challenge(VERIFIER);
    let code = query_of(&location(
        &authorize(&c, &app.url, "web", &code_params("web-client", &ch)).await,
    ))["code"]
        .clone();
    let (_, t) = exchange(&app.url, "web", &code, VERIFIER).await;
    let r1 = t["refresh_token"].as_str().expect("r1").to_string();
    let refresh = |rt: String, scope: Option<&'static str>| {
        let url = app.url.clone();
        async move {
            let mut f = vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", rt),
                ("client_id", "web-client".into()),
                ("client_secret", "web-secret-123".into()),
            ];
            if let Some(s) = scope {
                f.push(("scope", s.into()));
            }
            let res = client()
                .post(format!("{url}/oauth2/token/web"))
                .form(&f)
                .send()
                .await
                .expect("refresh");
            (
                res.status().as_u16(),
                res.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (s, t2) = refresh(r1.clone(), Some("read")).await;
    assert_eq!(s, 200, "{t2}");
    assert_eq!(t2["scope"], "read", "narrowed");
    let r2 = t2["refresh_token"].as_str().expect("rotated").to_string();
    assert_ne!(r1, r2);
    let (s, wide) = refresh(r2.clone(), Some("read write")).await;
    assert_eq!(
        (s, wide["error"].as_str()),
        (400, Some("invalid_scope")),
        "never widened"
    );
    let (s, t3) = refresh(r2.clone(), None).await;
    assert_eq!(s, 200, "{t3}");
    let a3 = t3["access_token"].as_str().expect("a3").to_string();
    // Reuse of r1 (already spent) revokes the family.
    let (s, reuse) = refresh(r1, None).await;
    assert_eq!((s, reuse["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(introspect(&app.url, "web", &a3).await["active"], false);
    let r3 = t3["refresh_token"].as_str().expect("r3").to_string();
    assert_eq!(
        refresh(r3, None).await.0,
        400,
        "the whole family is revoked"
    );
}

#[tokio::test]
async fn refresh_is_refused_for_a_disabled_user() {
    let app = spawn_app().await;
    let alice_id = setup(&app).await;
    make_app(&app, "web", json!({})).await;
    let c = alice(&app).await;
    let ch = challenge(VERIFIER);
    let code = query_of(&location(
        &authorize(&c, &app.url, "web", &code_params("web-client", &ch)).await,
    ))["code"]
        .clone();
    let (_, t) = exchange(&app.url, "web", &code, VERIFIER).await;
    app.api(
        Method::PATCH,
        &format!("/api/v1/users/{alice_id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    let (s, b) = refresh_with(&app.url, "web", t["refresh_token"].as_str().unwrap_or("")).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn the_password_grant_follows_the_rules() {
    let app = spawn_app().await;
    let alice_id = setup(&app).await;
    make_app(&app, "ro", json!({"auth_methods": ["password"]})).await;
    let grant = |u: &'static str, p: &'static str| {
        let url = app.url.clone();
        async move {
            form_token(
                &url,
                "ro",
                &[
                    ("grant_type", "password"),
                    ("username", u),
                    ("password", p),
                    ("client_id", "web-client"),
                    ("client_secret", "web-secret-123"),
                ],
            )
            .await
        }
    };
    let (s, b, _) = grant("ALICE", "alice-password").await;
    assert_eq!(s, 200, "{b}");
    assert!(
        b.get("refresh_token").is_none(),
        "not for the resource owner flow"
    );
    assert_eq!(
        introspect(&app.url, "ro", b["access_token"].as_str().unwrap_or("")).await["username"],
        "alice"
    );
    let (s, b, _) = grant("alice", "wrong").await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    let (s2, b2, _) = grant("nobody", "wrong").await;
    assert_eq!(
        (s2, b2["error_description"].as_str()),
        (400, b["error_description"].as_str()),
        "no difference for unknown users"
    );
    app.api(
        Method::PATCH,
        &format!("/api/v1/users/{alice_id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    let (s, b, _) = grant("alice", "alice-password").await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "disabled"
    );
    app.api(
        Method::PATCH,
        "/api/v1/apps/ro",
        Some(json!({"auth_methods": ["client_credentials"]})),
    )
    .await;
    let (s, b, _) = grant("alice", "alice-password").await;
    assert_eq!((s, b["error"].as_str()), (400, Some("unauthorized_client")));
}

#[tokio::test]
async fn consent_is_asked_remembered_and_asked_again_for_new_scopes() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "ask", json!({"user_must_confirm": true})).await;
    let c = alice(&app).await;
    let ch = challenge(VERIFIER);
    let mut p = code_params("web-client", &ch);
    p[6] = ("scope", "read");
    let res = authorize(&c, &app.url, "ask", &p).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap_or_default();
    assert!(
        html.contains("Read things") && html.contains("Approve") && html.contains("Deny"),
        "{html}"
    );
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf")
        .to_string();
    let mut form: Vec<(&str, &str)> = p.clone();
    form.push(("csrf", &csrf));
    form.push(("scope_choice", "read"));
    form.push(("decision", "approve"));
    let res = c
        .post(format!("{}/oauth2/consent/ask", app.url))
        .header("Origin", &app.url)
        .form(&form)
        .send()
        .await
        .expect("consent");
    assert_eq!(res.status(), 303);
    assert!(location(&res).contains("code="), "{}", location(&res));
    // Remembered: no consent page for the same scopes, the code goes straight to the client.
    let res = authorize(&c, &app.url, "ask", &p).await;
    assert_eq!(res.status(), 303);
    assert!(
        location(&res).starts_with(&format!("{CB}?code=")),
        "{}",
        location(&res)
    );
    // A scope outside the approved set asks again.
    let res = authorize(&c, &app.url, "ask", &code_params("web-client", &ch)).await;
    assert_eq!(res.status(), 200);
    // Deny.
    let mut deny: Vec<(&str, &str)> = code_params("web-client", &ch);
    deny.push(("csrf", &csrf));
    deny.push(("decision", "deny"));
    let res = c
        .post(format!("{}/oauth2/consent/ask", app.url))
        .header("Origin", &app.url)
        .form(&deny)
        .send()
        .await
        .expect("deny");
    assert_eq!(query_of(&location(&res))["error"], "access_denied");
    // A forged form without the session's token is refused.
    let mut forged: Vec<(&str, &str)> = p.clone();
    forged.push(("csrf", "forged"));
    forged.push(("decision", "approve"));
    let res = c
        .post(format!("{}/oauth2/consent/ask", app.url))
        .header("Origin", &app.url)
        .form(&forged)
        .send()
        .await
        .expect("forged");
    assert_eq!(res.status(), 400);
    // Withdrawing the consent asks again.
    let page = c
        .get(format!("{}/account/apps", app.url))
        .send()
        .await
        .expect("apps")
        .text()
        .await
        .unwrap_or_default();
    assert!(page.contains("App ask"));
    let res = c
        .post(format!("{}/account/apps/ask/withdraw", app.url))
        .header("Origin", &app.url)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("withdraw");
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account/apps", "back to the list");
    assert_eq!(authorize(&c, &app.url, "ask", &p).await.status(), 200);
}

#[tokio::test]
async fn a_third_party_oauth2_client_exchanges_a_code_with_pkce() {
    use oauth2::basic::BasicClient;
    use oauth2::{
        AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
        RedirectUrl, Scope, TokenResponse, TokenUrl,
    };
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "lib", json!({})).await;
    let oc = BasicClient::new(ClientId::new("web-client".into()))
        .set_client_secret(ClientSecret::new("web-secret-123".into()))
        .set_auth_uri(AuthUrl::new(format!("{}/oauth2/authorize/lib", app.url)).expect("url"))
        .set_token_uri(TokenUrl::new(format!("{}/oauth2/token/lib", app.url)).expect("url"))
        .set_redirect_uri(RedirectUrl::new(CB.into()).expect("url"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf) = oc
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let c = alice(&app).await;
    let res = c.get(auth_url.as_str()).send().await.expect("authorize");
    let q = query_of(&location(&res));
    assert_eq!(&q["state"], csrf.secret());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let token = oc
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("exchange");
    assert!(token.refresh_token().is_some());
    assert_eq!(
        introspect(&app.url, "lib", token.access_token().secret()).await["active"],
        true
    );
}

#[tokio::test]
async fn access_follows_the_directory_for_refresh_and_introspection() {
    let app = spawn_app().await;
    let alice_id = setup(&app).await;
    make_app(&app, "web", json!({})).await;
    let c = alice(&app).await;
    let ch = challenge(VERIFIER);
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let code = query_of(&location(
            &authorize(&c, &app.url, "web", &code_params("web-client", &ch)).await,
        ))["code"]
            .clone();
        let (s, t) = exchange(&app.url, "web", &code, VERIFIER).await;
        assert_eq!(s, 200, "{t}");
        tokens.push(t);
    }
    let access = tokens[0]["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    assert_eq!(introspect(&app.url, "web", &access).await["active"], true);
    // Alice leaves the app's only User Access role.
    let (_, roles) = app.api(Method::GET, "/api/v1/roles", None).await;
    let people = roles["items"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["name"] == "People")
        .and_then(|r| r["id"].as_str())
        .expect("People")
        .to_string();
    let (s, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/roles/{people}/members/{alice_id}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        introspect(&app.url, "web", &access).await["active"],
        false,
        "the access token is no longer active"
    );
    let (s, b) = refresh_with(
        &app.url,
        "web",
        tokens[1]["refresh_token"].as_str().unwrap_or(""),
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "{b}"
    );
    // Revoked, not only inactive: back in the role, the old token stays dead.
    app.add_member(&people, &alice_id).await;
    assert_eq!(introspect(&app.url, "web", &access).await["active"], false);
    let (_, audit) = app
        .api(Method::GET, "/api/v1/audit?action=role.member_remove", None)
        .await;
    let changes = audit["items"][0]["changes"].to_string();
    assert!(changes.contains("tokens_revoked"), "audited: {audit}");
    // A fresh token; then disabling the user makes it inactive too.
    let code = query_of(&location(
        &authorize(&c, &app.url, "web", &code_params("web-client", &ch)).await,
    ))["code"]
        .clone();
    let (s, t) = exchange(&app.url, "web", &code, VERIFIER).await;
    assert_eq!(s, 200, "{t}");
    let fresh = t["access_token"].as_str().expect("access").to_string();
    assert_eq!(introspect(&app.url, "web", &fresh).await["active"], true);
    app.api(
        Method::PATCH,
        &format!("/api/v1/users/{alice_id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(introspect(&app.url, "web", &fresh).await["active"], false);
}

#[tokio::test]
async fn leaving_an_apps_user_access_revokes_the_apps_tokens() {
    let app = spawn_app().await;
    setup(&app).await;
    let others = app.create_role("Others", &[]).await;
    let (_, found) = app
        .api(Method::GET, "/api/v1/users?login_name=web-client", None)
        .await;
    let web_client = found["items"][0]["id"]
        .as_str()
        .expect("client")
        .to_string();
    app.add_member(&others, &web_client).await;
    make_app(&app, "web", json!({})).await;
    let c = alice(&app).await;
    let ch = challenge(VERIFIER);
    let code = query_of(&location(
        &authorize(&c, &app.url, "web", &code_params("web-client", &ch)).await,
    ))["code"]
        .clone();
    let (_, t) = exchange(&app.url, "web", &code, VERIFIER).await;
    let refresh = t["refresh_token"].as_str().expect("refresh").to_string();
    // The app's User Access moves to a role Alice is not in (its client is in both).
    let (s, _) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/web",
            Some(json!({"user_access_roles": ["Others"]})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = refresh_with(&app.url, "web", &refresh).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "{b}"
    );
    let row: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM tokens WHERE app_id = 'web' AND revoked = 0")
            .fetch_one(&app.services.store.pool)
            .await
            .expect("count");
    assert_eq!(row.0, 0, "every token of the app's former users is revoked");
}
