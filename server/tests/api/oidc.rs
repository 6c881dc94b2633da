//! OpenID Connect (SPEC §3a): ID tokens from every flow and with every algorithm, UserInfo,
//! discovery, prompt / max_age / login_hint, and RP-initiated logout.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha512};

use crate::authorize::{
    alice, authorize, challenge, exchange, make_app, query_of, setup, CB, VERIFIER,
};
use crate::helpers::*;

const LOGOUT_CB: &str = "https://client.example/signed-out";

pub(crate) fn segment(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap_or_default()).unwrap_or(Value::Null)
}

/// Verifies `token` with the key its header names in the app's JWKS, and returns its claims.
async fn verified(url: &str, app_id: &str, token: &str, alg: Algorithm, aud: &str) -> Value {
    let header = segment(token, 0);
    let jwks: Value = client()
        .get(format!("{url}/oauth2/keys/{app_id}"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|k| k.iter().find(|k| k["kid"] == header["kid"]))
        .cloned()
        .expect("the kid is published");
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).expect("a JWK");
    let key = DecodingKey::from_jwk(&jwk).expect("decoding key");
    let mut v = Validation::new(alg);
    v.set_audience(&[aud]);
    v.set_issuer(&[format!("{url}/oauth2/{app_id}")]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap_or_else(|e| panic!("{alg:?} token does not verify: {e}"))
        .claims
}

fn half_hash(alg: Algorithm, token: &str) -> String {
    let d: Vec<u8> = if alg == Algorithm::EdDSA {
        Sha512::digest(token.as_bytes()).to_vec()
    } else {
        Sha256::digest(token.as_bytes()).to_vec()
    };
    URL_SAFE_NO_PAD.encode(&d[..d.len() / 2])
}

/// Signs alice in, authorizes `scope` with a nonce and exchanges the code.
async fn code_flow(app: &TestApp, app_id: &str, scope: &str) -> (reqwest::Client, Value) {
    code_flow_as(app, app_id, scope, alice(app).await).await
}

/// `code_flow` for a person already signed in on `c`.
pub(crate) async fn code_flow_as(
    app: &TestApp,
    app_id: &str,
    scope: &str,
    c: reqwest::Client,
) -> (reqwest::Client, Value) {
    let ch = challenge(VERIFIER);
    let res = authorize(
        &c,
        &app.url,
        app_id,
        &[
            ("response_type", "code"),
            ("client_id", "web-client"),
            ("redirect_uri", CB),
            ("scope", scope),
            ("state", "st"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", &ch),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "{}", location(&res));
    let q = query_of(&location(&res));
    let code = q
        .get("code")
        .cloned()
        .unwrap_or_else(|| panic!("no code: {q:?}"));
    let (s, body) = exchange(&app.url, app_id, &code, VERIFIER).await;
    assert_eq!(s, 200, "{body}");
    (c, body)
}

#[tokio::test]
async fn the_code_flow_returns_an_id_token_signed_with_the_apps_algorithm() {
    let app = spawn_app().await;
    let alice_id = setup(&app).await;
    for (token_type, alg) in [
        ("opaque", Algorithm::RS256),
        ("jwt_rs256", Algorithm::RS256),
        ("jwt_es256", Algorithm::ES256),
        ("jwt_eddsa", Algorithm::EdDSA),
    ] {
        let id = format!("oidc-{}", token_type.replace('_', "-"));
        make_app(&app, &id, json!({"token_type": token_type})).await;
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let (_, body) = code_flow(&app, &id, "openid profile email read").await;
        let id_token = body["id_token"].as_str().expect("an id_token").to_string();
        let access = body["access_token"].as_str().expect("access token");
        let header = segment(&id_token, 0);
        assert_eq!(header["alg"], format!("{alg:?}"), "{token_type}");
        let claims = verified(&app.url, &id, &id_token, alg, "web-client").await;
        assert_eq!(claims["sub"], alice_id.as_str());
        assert_eq!(claims["aud"], "web-client");
        assert_eq!(claims["azp"], "web-client");
        assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(claims["at_hash"], half_hash(alg, access), "{token_type}");
        assert_eq!(claims["name"], "alice");
        assert_eq!(claims["preferred_username"], "alice");
        assert_eq!(claims["email"], "alice@example.com");
        assert_eq!(claims["email_verified"], false);
        let auth_time = claims["auth_time"].as_i64().expect("auth_time");
        assert!(
            auth_time <= before + 1 && auth_time > before - 60,
            "{auth_time}"
        );
        assert!(claims["exp"].as_i64() > claims["iat"].as_i64());
        if token_type != "opaque" {
            // The access token is a JWT of the same algorithm, verified by the same JWKS.
            let at = verified(&app.url, &id, access, alg, &id).await;
            assert_eq!(at["scope"], "openid profile email read");
        }
        // Without profile and email, the ID token says who and nothing more.
        let (_, body) = code_flow(&app, &id, "openid").await;
        let claims = segment(body["id_token"].as_str().expect("id_token"), 1);
        assert!(
            claims.get("name").is_none() && claims.get("email").is_none(),
            "{claims}"
        );
        // Without openid there is no ID token.
        let (_, body) = code_flow(&app, &id, "read").await;
        assert!(body.get("id_token").is_none(), "{body}");
    }
}

#[tokio::test]
async fn the_password_grant_and_refresh_return_id_tokens_with_the_same_auth_time() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(
        &app,
        "pw",
        json!({"auth_methods": ["password", "authorization_code"], "token_type": "jwt_es256"}),
    )
    .await;
    let (s, body, _) = form_token(
        &app.url,
        "pw",
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password"),
            ("scope", "openid email"),
            ("client_id", "web-client"),
            ("client_secret", "web-secret-123"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let claims = verified(
        &app.url,
        "pw",
        body["id_token"].as_str().expect("id_token"),
        Algorithm::ES256,
        "web-client",
    )
    .await;
    assert_eq!(claims["email"], "alice@example.com");
    assert!(claims.get("nonce").is_none());

    let (_, body) = code_flow(&app, "pw", "openid profile").await;
    let first = segment(body["id_token"].as_str().expect("id_token"), 1);
    next_second().await;
    let (s, refreshed, _) = form_token(
        &app.url,
        "pw",
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                body["refresh_token"].as_str().expect("refresh"),
            ),
            ("client_id", "web-client"),
            ("client_secret", "web-secret-123"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{refreshed}");
    let again = verified(
        &app.url,
        "pw",
        refreshed["id_token"].as_str().expect("id_token on refresh"),
        Algorithm::ES256,
        "web-client",
    )
    .await;
    assert_eq!(again["sub"], first["sub"]);
    assert_eq!(
        again["auth_time"], first["auth_time"],
        "the original sign-in's time"
    );
    assert!(again["iat"].as_i64() > first["iat"].as_i64());
    assert_eq!(again["name"], "alice");
}

#[tokio::test]
async fn userinfo_releases_what_the_scopes_allow_and_nothing_to_a_wrong_token() {
    let app = spawn_app().await;
    let alice_id = setup(&app).await;
    make_app(&app, "ui", json!({"token_type": "jwt_eddsa"})).await;
    make_app(&app, "other", json!({})).await;
    let (_, body) = code_flow(&app, "ui", "openid profile").await;
    let token = body["access_token"].as_str().expect("token").to_string();
    let url = format!("{}/oauth2/userinfo/ui", app.url);

    let res = client()
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("userinfo");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let claims: Value = res.json().await.expect("json");
    assert_eq!(
        claims,
        json!({"sub": alice_id, "name": "alice", "preferred_username": "alice"})
    );

    // POST with the token in the form body (RFC 6750 §2.2) answers the same.
    let res = client()
        .post(&url)
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.expect("json")["sub"],
        alice_id.as_str()
    );

    // No token: 401 with a bare challenge; a bad one: invalid_token.
    let res = client().get(&url).send().await.expect("anon");
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap_or("")
        .starts_with("Bearer"));
    let res = client()
        .get(&url)
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("bad");
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap_or("")
        .contains("invalid_token"));

    // A token without openid: 403 insufficient_scope.
    let (_, plain) = code_flow(&app, "ui", "read").await;
    let res = client()
        .get(&url)
        .bearer_auth(plain["access_token"].as_str().unwrap_or(""))
        .send()
        .await
        .expect("plain");
    assert_eq!(res.status(), 403);
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .unwrap_or("")
        .contains("insufficient_scope"));

    // Another app's token is not valid here; an unknown app is 404.
    let (_, theirs) = code_flow(&app, "other", "openid").await;
    let res = client()
        .get(&url)
        .bearer_auth(theirs["access_token"].as_str().unwrap_or(""))
        .send()
        .await
        .expect("other");
    assert_eq!(res.status(), 401);
    let res = client()
        .get(format!("{}/oauth2/userinfo/nope", app.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("404");
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn discovery_states_what_the_app_supports_and_nothing_else() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(
        &app,
        "disc",
        json!({"token_type": "jwt_es256", "auth_methods": ["authorization_code", "implicit"]}),
    )
    .await;
    make_app(
        &app,
        "machine",
        json!({"auth_methods": ["client_credentials"]}),
    )
    .await;
    let get = |p: String| async move {
        let res = client().get(p).send().await.expect("get");
        (
            res.status().as_u16(),
            res.json::<Value>().await.unwrap_or(Value::Null),
        )
    };
    let (s, d) = get(format!(
        "{}/oauth2/disc/.well-known/openid-configuration",
        app.url
    ))
    .await;
    assert_eq!(s, 200, "{d}");
    let base = format!("{}/oauth2", app.url);
    assert_eq!(d["issuer"], format!("{base}/disc"));
    assert_eq!(
        d["authorization_endpoint"],
        format!("{base}/authorize/disc")
    );
    assert_eq!(d["token_endpoint"], format!("{base}/token/disc"));
    assert_eq!(d["userinfo_endpoint"], format!("{base}/userinfo/disc"));
    assert_eq!(d["jwks_uri"], format!("{base}/keys/disc"));
    assert_eq!(d["end_session_endpoint"], format!("{base}/logout/disc"));
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["ES256"]));
    assert_eq!(d["subject_types_supported"], json!(["public"]));
    assert_eq!(
        d["response_types_supported"],
        json!(["code", "token", "id_token", "id_token token"])
    );
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        d["scopes_supported"],
        json!(["openid", "profile", "email", "read", "write"])
    );
    assert_eq!(d["request_uri_parameter_supported"], false);
    for c in ["sub", "auth_time", "nonce", "at_hash", "name", "email"] {
        assert!(
            d["claims_supported"]
                .as_array()
                .is_some_and(|a| a.contains(&json!(c))),
            "{c}"
        );
    }
    // The issuer's JWKS has a key for the advertised algorithm.
    let (_, jwks) = get(d["jwks_uri"].as_str().unwrap_or("").to_string()).await;
    assert!(jwks["keys"]
        .as_array()
        .is_some_and(|k| k.iter().any(|k| k["alg"] == "ES256" && k["crv"] == "P-256")));
    assert!(jwks["keys"].as_array().is_some_and(|k| k
        .iter()
        .any(|k| k["alg"] == "EdDSA" && k["crv"] == "Ed25519")));

    // An app without browser flows offers none; an unknown app is 404.
    let (_, m) = get(format!(
        "{}/oauth2/machine/.well-known/openid-configuration",
        app.url
    ))
    .await;
    assert_eq!(m["response_types_supported"], json!([]));
    assert!(m.get("authorization_endpoint").is_none());
    assert_eq!(m["id_token_signing_alg_values_supported"], json!(["RS256"]));
    let (s, _) = get(format!(
        "{}/oauth2/nope/.well-known/openid-configuration",
        app.url
    ))
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn implicit_id_tokens_need_a_nonce_and_come_in_the_fragment() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(
        &app,
        "imp",
        json!({"auth_methods": ["implicit"], "token_type": "jwt_rs256"}),
    )
    .await;
    let c = alice(&app).await;
    let base = [
        ("client_id", "web-client"),
        ("redirect_uri", CB),
        ("scope", "openid profile"),
        ("state", "s1"),
    ];
    let run = |extra: Vec<(&'static str, &'static str)>| {
        let c = c.clone();
        let url = app.url.clone();
        async move {
            let mut q = base.to_vec();
            q.extend(extra);
            let res = authorize(&c, &url, "imp", &q).await;
            assert_eq!(res.status(), 303);
            let loc = location(&res);
            assert!(loc.starts_with(&format!("{CB}#")), "{loc}");
            assert_eq!(loc.matches("&iss=").count(), 1, "the issuer once: {loc}");
            query_of(&loc)
        }
    };
    let f = run(vec![("response_type", "id_token")]).await;
    assert_eq!(
        f.get("error").map(String::as_str),
        Some("invalid_request"),
        "{f:?}"
    );
    assert_eq!(f.get("state").map(String::as_str), Some("s1"));

    let f = run(vec![("response_type", "id_token"), ("nonce", "abc")]).await;
    assert!(!f.contains_key("access_token"), "{f:?}");
    let claims = verified(
        &app.url,
        "imp",
        &f["id_token"],
        Algorithm::RS256,
        "web-client",
    )
    .await;
    assert_eq!(claims["nonce"], "abc");
    assert!(claims.get("at_hash").is_none());

    let f = run(vec![("response_type", "id_token token"), ("nonce", "def")]).await;
    let claims = verified(
        &app.url,
        "imp",
        &f["id_token"],
        Algorithm::RS256,
        "web-client",
    )
    .await;
    assert_eq!(
        claims["at_hash"],
        half_hash(Algorithm::RS256, &f["access_token"])
    );
    assert_eq!(f["token_type"], "Bearer");

    // id_token without openid is refused.
    let mut q = base.to_vec();
    q[2] = ("scope", "read");
    q.extend([("response_type", "id_token"), ("nonce", "x")]);
    let res = authorize(&c, &app.url, "imp", &q).await;
    assert_eq!(
        query_of(&location(&res)).get("error").map(String::as_str),
        Some("invalid_scope")
    );
}

#[tokio::test]
async fn prompt_max_age_and_login_hint_steer_the_sign_in() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "pr", json!({"user_must_confirm": true})).await;
    let ch = challenge(VERIFIER);
    let params = |extra: &[(&'static str, &'static str)]| {
        let mut q = vec![
            ("response_type", "code"),
            ("client_id", "web-client"),
            ("redirect_uri", CB),
            ("scope", "openid read"),
            ("state", "p1"),
            ("code_challenge", ch.as_str()),
            ("code_challenge_method", "S256"),
        ];
        q.extend_from_slice(extra);
        q
    };
    // Signed out, prompt=none: login_required back to the client, no page.
    let anon = client();
    let res = authorize(&anon, &app.url, "pr", &params(&[("prompt", "none")])).await;
    let q = query_of(&location(&res));
    assert_eq!(q.get("error").map(String::as_str), Some("login_required"));
    assert_eq!(q.get("state").map(String::as_str), Some("p1"));
    // login_hint pre-fills the login name on the sign-in page.
    let res = authorize(&anon, &app.url, "pr", &params(&[("login_hint", "alice")])).await;
    let loc = location(&res);
    assert!(
        loc.starts_with("/login?") && loc.contains("login_name=alice"),
        "{loc}"
    );
    let page = anon
        .get(format!("{}{loc}", app.url))
        .send()
        .await
        .expect("login")
        .text()
        .await
        .unwrap_or_default();
    assert!(
        page.contains("value=\"alice\""),
        "the login name is filled in"
    );

    // Signed in, consent never given, prompt=none: consent_required.
    let c = alice(&app).await;
    let res = authorize(&c, &app.url, "pr", &params(&[("prompt", "none")])).await;
    assert_eq!(
        query_of(&location(&res)).get("error").map(String::as_str),
        Some("consent_required")
    );
    // prompt=login: back to the sign-in page although signed in, returning without the prompt.
    let res = authorize(&c, &app.url, "pr", &params(&[("prompt", "login")])).await;
    let loc = location(&res);
    assert!(loc.starts_with("/login?"), "{loc}");
    let back: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(loc.split_once('?').map(|x| x.1).unwrap_or(""))
            .unwrap_or_default();
    let return_to = back.get("return_to").cloned().unwrap_or_default();
    assert!(
        return_to.starts_with("/oauth2/authorize/pr?") && !return_to.contains("prompt"),
        "{return_to}"
    );
    // max_age: a sign-in older than it asks again; a fresh one goes on to the consent page.
    next_second().await;
    let res = authorize(&c, &app.url, "pr", &params(&[("max_age", "0")])).await;
    let loc = location(&res);
    assert!(loc.starts_with("/login?"), "{loc}");
    // The way back does not ask again: the sign-in about to happen is the fresh one.
    let back: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(loc.split_once('?').map(|x| x.1).unwrap_or(""))
            .unwrap_or_default();
    assert!(
        !back.get("return_to").is_some_and(|r| r.contains("max_age")),
        "{loc}"
    );
    let res = sign_in(&c, &app.url, "alice", "alice-password", &return_to).await;
    assert_eq!(location(&res), return_to);
    let res = authorize(&c, &app.url, "pr", &params(&[("max_age", "60")])).await;
    assert_eq!(res.status(), 200, "the consent page");
    // The standard scope is explained in plain words beside the app's own.
    let html = res.text().await.unwrap_or_default();
    assert!(
        html.contains("Sign you in with your account") && html.contains("Read things"),
        "{html}"
    );
    // A bad prompt or max_age is an error for the client.
    for bad in [[("prompt", "none login")], [("max_age", "-1")]] {
        let res = authorize(&c, &app.url, "pr", &params(&bad)).await;
        assert_eq!(
            query_of(&location(&res)).get("error").map(String::as_str),
            Some("invalid_request"),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn logout_ends_the_session_and_redirects_only_where_the_app_allows() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(
        &app,
        "lo",
        json!({"post_logout_redirect_uris": [LOGOUT_CB]}),
    )
    .await;
    let (c, jar) = jar_client();
    let res = sign_in(&c, &app.url, "alice", "alice-password", "/").await;
    assert_eq!(res.status(), 302);
    let (c, body) = code_flow_as(&app, "lo", "openid", c).await;
    let hint = body["id_token"].as_str().expect("id_token").to_string();
    let logout = |c: reqwest::Client, q: Vec<(&'static str, String)>| {
        let url = format!("{}/oauth2/logout/lo", app.url);
        async move { c.get(url).query(&q).send().await.expect("logout") }
    };
    // A redirect that is not registered: an error page, never a redirect.
    let res = logout(
        c.clone(),
        vec![
            ("id_token_hint", hint.clone()),
            ("post_logout_redirect_uri", "https://evil.example/".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);
    // A hint that is not an ID token of this app: an error page.
    let res = logout(c.clone(), vec![("id_token_hint", "e30.e30.sig".into())]).await;
    assert_eq!(res.status(), 400);
    // Still signed in after the refusals.
    let ch = challenge(VERIFIER);
    let none = [
        ("response_type", "code"),
        ("client_id", "web-client"),
        ("redirect_uri", CB),
        ("scope", "openid"),
        ("code_challenge", ch.as_str()),
        ("code_challenge_method", "S256"),
        ("prompt", "none"),
    ];
    let res = authorize(&c, &app.url, "lo", &none).await;
    assert!(
        query_of(&location(&res)).contains_key("code"),
        "{}",
        location(&res)
    );

    // The session cookie as it is now, to present again by hand after the logout.
    let old_cookie = cookie_header(&jar, &app.url);
    let res = client()
        .get(format!("{}/oauth2/authorize/lo", app.url))
        .query(&none)
        .header("Cookie", old_cookie.clone())
        .send()
        .await
        .expect("authorize");
    assert!(
        query_of(&location(&res)).contains_key("code"),
        "signed in before"
    );
    // The valid request: the session ends and the browser goes back with the state.
    let res = logout(
        c.clone(),
        vec![
            ("id_token_hint", hint.clone()),
            ("post_logout_redirect_uri", LOGOUT_CB.into()),
            ("state", "bye 1".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("{LOGOUT_CB}?state=bye%201"));
    let res = authorize(&c, &app.url, "lo", &none).await;
    assert_eq!(
        query_of(&location(&res)).get("error").map(String::as_str),
        Some("login_required")
    );
    // The old cookie, presented again by hand, is refused by the server too.
    let res = client()
        .get(format!("{}/oauth2/authorize/lo", app.url))
        .query(&none)
        .header("Cookie", old_cookie)
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        query_of(&location(&res)).get("error").map(String::as_str),
        Some("login_required"),
        "the server ended the session"
    );

    // Without a hint a signed-in person is asked first; the form (with its token) signs out.
    let c = alice(&app).await;
    let res = logout(
        c.clone(),
        vec![("post_logout_redirect_uri", LOGOUT_CB.into())],
    )
    .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap_or_default();
    assert!(html.contains("Sign out of Gatehouse?"), "{html}");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf")
        .to_string();
    let post = |form: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = format!("{}/oauth2/logout/lo", app.url);
        async move { c.post(url).form(&form).send().await.expect("confirm") }
    };
    let res = post(vec![
        ("post_logout_redirect_uri", LOGOUT_CB.into()),
        ("csrf", "forged".into()),
    ])
    .await;
    assert_eq!(res.status(), 400, "a forged confirmation is refused");
    let res = authorize(&c, &app.url, "lo", &none).await;
    assert!(
        query_of(&location(&res)).contains_key("code"),
        "still signed in"
    );
    let res = post(vec![
        ("post_logout_redirect_uri", LOGOUT_CB.into()),
        ("csrf", csrf),
    ])
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), LOGOUT_CB);
    let res = authorize(&c, &app.url, "lo", &none).await;
    assert_eq!(
        query_of(&location(&res)).get("error").map(String::as_str),
        Some("login_required")
    );
}

#[tokio::test]
async fn post_logout_redirects_are_validated_and_logged_like_redirects() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "pl", json!({})).await;
    let (s, e) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/pl",
            Some(json!({"post_logout_redirect_uris": [LOGOUT_CB, "not a uri"]})),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["field"], "post_logout_redirect_uris[1]");
    let (s, a) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/pl",
            Some(json!({"post_logout_redirect_uris": [LOGOUT_CB, LOGOUT_CB]})),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["post_logout_redirect_uris"], json!([LOGOUT_CB]));
    let (_, log) = app
        .api(Method::GET, "/api/v1/apps/pl/changelog", None)
        .await;
    assert!(
        log.to_string().contains("post_logout_redirect_uris"),
        "{log}"
    );
}

#[tokio::test]
async fn standard_scopes_are_accepted_without_being_defined() {
    let app = spawn_app().await;
    client_app(&app, "std", "jwt_eddsa").await;
    let token = cc_token(&app.url, "std", Some("openid users")).await;
    let claims = segment(&token, 1);
    assert_eq!(claims["scope"], "openid users");
    assert_eq!(segment(&token, 0)["alg"], "EdDSA");
    // The bearer still works where its defined scope allows.
    assert_eq!(bearer_status(&app.url, "/api/v1/users", &token).await, 200);
    let (s, b, _) = form_token(
        &app.url,
        "std",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", "openid nonsense"),
        ],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_scope")));
}

/// An RS256 key pair for a client: the private key to sign with and its public JWK.
fn client_key(kid: &str) -> (jsonwebtoken::EncodingKey, Value) {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("rsa");
    let pem = key.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).expect("pem");
    let jwk = json!({
        "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    });
    (
        jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).expect("key"),
        jwk,
    )
}

fn assertion(
    key: &jsonwebtoken::EncodingKey,
    kid: &str,
    client: &str,
    aud: &str,
    exp_in: i64,
    jti: &str,
) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut h = jsonwebtoken::Header::new(Algorithm::RS256);
    h.kid = Some(kid.into());
    jsonwebtoken::encode(
        &h,
        &json!({"iss": client, "sub": client, "aud": aud, "exp": now + exp_in, "iat": now, "jti": jti}),
        key,
    )
    .expect("sign")
}

#[tokio::test]
async fn private_key_jwt_clients_authenticate_once_per_assertion() {
    let app = spawn_app().await;
    let rid = app.create_role("Machines", &[]).await;
    let (key, jwk) = client_key("k1");
    let (other_key, _) = client_key("k1");
    // A private key is refused as the client's key set; the public one is kept and shown.
    let mut private = jwk.clone();
    private["d"] = json!("AQAB");
    let (s, e) = app
        .api(Method::POST, "/api/v1/users", Some(json!({
            "login_name": "jwt-client", "email": "jwt@example.com", "password": "jwt-client-secret-1",
            "is_oauth_confidential_client": true, "jwks": {"keys": [private]}})))
        .await;
    assert_eq!((s, e["field"].as_str()), (422, Some("jwks")), "{e}");
    let (s, u) = app
        .api(Method::POST, "/api/v1/users", Some(json!({
            "login_name": "jwt-client", "email": "jwt@example.com", "password": "jwt-client-secret-1",
            "is_oauth_confidential_client": true, "jwks": {"keys": [jwk.clone()]}})))
        .await;
    assert_eq!(s, 201, "{u}");
    assert_eq!(u["jwks"]["keys"][0]["kid"], "k1");
    app.add_member(&rid, u["id"].as_str().expect("id")).await;
    let (s, a) = app
        .api(Method::POST, "/api/v1/apps", Some(json!({
            "app_id": "pkj", "name": "PKJ", "auth_methods": ["client_credentials"], "token_type": "opaque",
            "scopes": [{"name": "api"}], "user_access_roles": ["Machines"]})))
        .await;
    assert_eq!(s, 201, "{a}");
    let token_url = format!("{}/oauth2/token/pkj", app.url);
    let issuer = format!("{}/oauth2/pkj", app.url);
    let grant = |a: String| {
        let url = app.url.clone();
        async move {
            form_token(
                &url,
                "pkj",
                &[
                    ("grant_type", "client_credentials"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &a),
                ],
            )
            .await
        }
    };
    let good = assertion(&key, "k1", "jwt-client", &token_url, 60, "jti-1");
    let (s, b, _) = grant(good.clone()).await;
    assert_eq!(s, 200, "{b}");
    let access = b["access_token"].as_str().expect("token").to_string();
    // The same assertion again is a replay.
    let (s, b, _) = grant(good).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (401, Some("invalid_client")),
        "{b}"
    );
    // Too long-lived, for another audience, signed by another key, or naming another client.
    for bad in [
        assertion(&key, "k1", "jwt-client", &token_url, 3600, "jti-2"),
        assertion(
            &key,
            "k1",
            "jwt-client",
            "https://elsewhere.example/token",
            60,
            "jti-3",
        ),
        assertion(&other_key, "k1", "jwt-client", &token_url, 60, "jti-4"),
        assertion(&key, "k1", "jwt-client", &token_url, -120, "jti-5"),
    ] {
        let (s, b, _) = grant(bad).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (401, Some("invalid_client")),
            "{b}"
        );
    }
    // The issuer is an accepted audience too, and introspection takes assertions.
    let res = client()
        .post(format!("{}/oauth2/introspect/pkj", app.url))
        .form(&[
            ("token", access.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            (
                "client_assertion",
                &assertion(&key, "k1", "jwt-client", &issuer, 60, "jti-6"),
            ),
        ])
        .send()
        .await
        .expect("introspect");
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.expect("json")["active"], true);
    // A secret and an assertion together is one method too many.
    let (s, b, _) = form_token(
        &app.url,
        "pkj",
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", "jwt-client-secret-1"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            (
                "client_assertion",
                &assertion(&key, "k1", "jwt-client", &token_url, 60, "jti-7"),
            ),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_request")),
        "{b}"
    );
    // Removing the keys ends private_key_jwt for the client.
    let (s, _) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", u["id"].as_str().unwrap_or("")),
            Some(json!({"jwks": null})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _, _) = grant(assertion(&key, "k1", "jwt-client", &token_url, 60, "jti-8")).await;
    assert_eq!(s, 401);
    // Discovery says so.
    let d: Value = client()
        .get(format!(
            "{}/oauth2/pkj/.well-known/openid-configuration",
            app.url
        ))
        .send()
        .await
        .expect("disc")
        .json()
        .await
        .expect("json");
    assert!(d["token_endpoint_auth_methods_supported"]
        .as_array()
        .is_some_and(|a| a.contains(&json!("private_key_jwt"))));
}
