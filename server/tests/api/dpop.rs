//! DPoP (RFC 9449, SPEC §3c): tokens bound to a client's key by a proof at the token endpoint,
//! then accepted by Gatehouse's API and UserInfo only with a proof by that key.

use domain::oauth::dpop::testing::ClientKey;
use reqwest::Method;
use serde_json::{json, Value};

use crate::authorize::{alice, authorize, challenge, code_params, make_app, query_of, setup};
use crate::helpers::*;
use crate::oidc::segment;

/// A token request with `form` and, when given, a `DPoP` header.
async fn token_with(
    url: &str,
    app_id: &str,
    form: &[(&str, &str)],
    proof: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = client()
        .post(format!("{url}/oauth2/token/{app_id}"))
        .form(form);
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    let res = req.send().await.expect("token");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.json().await.unwrap_or(Value::Null), headers)
}

const CC: [(&str, &str); 3] = [
    ("grant_type", "client_credentials"),
    ("client_id", CLIENT),
    ("client_secret", SECRET),
];

/// A GET of `path` with `authorization` and, when given, a `DPoP` header: status, the
/// `WWW-Authenticate` header and the body.
async fn call(
    url: &str,
    path: &str,
    authorization: &str,
    proof: Option<&str>,
) -> (u16, String, Value) {
    let mut req = client()
        .get(format!("{url}{path}"))
        .header("Authorization", authorization);
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    let res = req.send().await.expect("call");
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, challenge, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_bound_token_works_on_the_api_only_with_a_proof_by_its_key() {
    let app = spawn_app().await;
    for token_type in ["opaque", "jwt_es256"] {
        let id = format!("dpop-{}", token_type.replace('_', "-"));
        client_app(&app, &id, token_type).await;
        let meta = as_metadata(&app.url, &id).await;
        assert_eq!(
            meta["dpop_signing_alg_values_supported"],
            json!(["ES256", "EdDSA", "RS256"])
        );

        let key = ClientKey::es256();
        let htu = format!("{}/oauth2/token/{id}", app.url);
        let (s, t, _) = token_with(&app.url, &id, &CC, Some(&key.fresh("POST", &htu, None))).await;
        assert_eq!(s, 200, "{t}");
        assert_eq!(t["token_type"], "DPoP", "{token_type}");
        let token = t["access_token"].as_str().expect("token").to_string();
        if token_type != "opaque" {
            assert_eq!(segment(&token, 1)["cnf"]["jkt"], key.jkt().as_str());
        }
        let (s, i) = introspect_with(&app.url, &id, Some((CLIENT, SECRET)), &token).await;
        assert_eq!(s, 200);
        assert_eq!(i["active"], true, "{i}");
        assert_eq!(i["token_type"], "DPoP");
        assert_eq!(i["cnf"]["jkt"], key.jkt().as_str(), "{token_type}");

        // With its proof (ath for this token, this method and URL): accepted.
        let path = "/api/v1/users";
        let api = format!("{}{path}", app.url);
        let dpop = format!("DPoP {token}");
        let (s, _, body) = call(
            &app.url,
            path,
            &dpop,
            Some(&key.fresh("GET", &api, Some(&token))),
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert!(body["items"].as_array().is_some_and(|u| !u.is_empty()));

        // As a Bearer token, or without a proof: refused with DPoP's challenge.
        for (auth, proof) in [
            (format!("Bearer {token}"), None),
            (
                format!("Bearer {token}"),
                Some(key.fresh("GET", &api, Some(&token))),
            ),
            (dpop.clone(), None),
        ] {
            let (s, c, _) = call(&app.url, path, &auth, proof.as_deref()).await;
            assert_eq!(s, 401, "{auth:.10} with proof {}", proof.is_some());
            assert!(
                c.starts_with("DPoP ") && c.contains("error=\"invalid_token\""),
                "{c}"
            );
            assert!(c.contains("algs=\"ES256 EdDSA RS256\""), "{c}");
        }
        // A proof by another key, a replayed proof, one without ath, one for another URL or
        // method: invalid_dpop_proof.
        let other = ClientKey::es256();
        let used = key.fresh("GET", &api, Some(&token));
        let (s, _, _) = call(&app.url, path, &dpop, Some(&used)).await;
        assert_eq!(s, 200);
        for (proof, why) in [
            (other.fresh("GET", &api, Some(&token)), "another key"),
            (used.clone(), "replay"),
            (key.fresh("GET", &api, None), "ath"),
            (
                key.fresh("GET", &format!("{}/api/v1/roles", app.url), Some(&token)),
                "htu",
            ),
            (key.fresh("POST", &api, Some(&token)), "htm"),
        ] {
            let (s, c, body) = call(&app.url, path, &dpop, Some(&proof)).await;
            assert_eq!(s, 401, "{why}");
            assert!(c.contains("error=\"invalid_dpop_proof\""), "{why}: {c}");
            assert_eq!(body["error"], "invalid_dpop_proof", "{why}");
        }
    }

    // An unbound token stays a Bearer token: with the DPoP scheme it is refused.
    let plain = cc_token(&app.url, "dpop-opaque", None).await;
    let (s, _, _) = call(&app.url, "/api/v1/users", &format!("Bearer {plain}"), None).await;
    assert_eq!(s, 200);
    let key = ClientKey::eddsa();
    let api = format!("{}/api/v1/users", app.url);
    let proof = key.fresh("GET", &api, Some(&plain));
    let (s, c, _) = call(
        &app.url,
        "/api/v1/users",
        &format!("DPoP {plain}"),
        Some(&proof),
    )
    .await;
    assert_eq!(s, 401);
    assert!(c.contains("invalid_token"), "{c}");
}

#[tokio::test]
async fn token_requests_with_a_bad_proof_are_refused() {
    let app = spawn_app().await;
    client_app(&app, "cc", "jwt_eddsa").await;
    let htu = format!("{}/oauth2/token/cc", app.url);
    // Each algorithm binds to its own key.
    for key in [
        ClientKey::es256(),
        ClientKey::eddsa(),
        ClientKey::rs256(2048),
    ] {
        let (s, t, _) = token_with(&app.url, "cc", &CC, Some(&key.fresh("POST", &htu, None))).await;
        assert_eq!(s, 200, "{t}");
        let token = t["access_token"].as_str().unwrap_or_default();
        assert_eq!(segment(token, 1)["cnf"]["jkt"], key.jkt().as_str());
    }
    let key = ClientKey::es256();
    let used = key.fresh("POST", &htu, None);
    let (s, _, _) = token_with(&app.url, "cc", &CC, Some(&used)).await;
    assert_eq!(s, 200);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    for (proof, why) in [
        (used.clone(), "replay"),
        (key.fresh("GET", &htu, None), "htm"),
        (
            key.fresh("POST", &format!("{}/oauth2/token/other", app.url), None),
            "htu",
        ),
        (key.proof("POST", &htu, now - 120, "old-jti"), "iat"),
        (
            key.sign(
                "JWT",
                None,
                &json!({"htm": "POST", "htu": htu, "iat": now, "jti": "t"}),
            ),
            "typ",
        ),
        ("not-a-jwt".to_string(), "JWT"),
    ] {
        let (s, b, _) = token_with(&app.url, "cc", &CC, Some(&proof)).await;
        assert_eq!(s, 400, "{why}: {b}");
        assert_eq!(b["error"], "invalid_dpop_proof", "{why}");
        assert!(
            b["error_description"]
                .as_str()
                .is_some_and(|d| d.contains(why)),
            "{why}: {b}"
        );
    }
    // Two DPoP headers.
    let res = client()
        .post(&htu)
        .form(&CC)
        .header("DPoP", key.fresh("POST", &htu, None))
        .header("DPoP", key.fresh("POST", &htu, None))
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 400);
    let b: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(b["error"], "invalid_dpop_proof");

    // require_dpop: no proof, no token; the app shows the switch.
    let (s, a) = app.api(Method::GET, "/api/v1/apps/cc", None).await;
    assert_eq!(s, 200);
    assert_eq!(a["require_dpop"], false);
    let (s, a) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/cc",
            Some(json!({"require_dpop": true})),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["require_dpop"], true);
    let (s, b, _) = token_with(&app.url, "cc", &CC, None).await;
    assert_eq!(s, 400);
    assert_eq!(b["error"], "invalid_dpop_proof");
    let (s, t, _) = token_with(&app.url, "cc", &CC, Some(&key.fresh("POST", &htu, None))).await;
    assert_eq!((s, t["token_type"].as_str()), (200, Some("DPoP")));
}

/// A public client's refresh token is bound to the key of its proof (RFC 9449 §5): it works only
/// with a proof by that key, and a refused attempt does not spend it. A confidential client's is
/// not bound (its secret already constrains it). UserInfo takes a bound token with its proof.
#[tokio::test]
async fn a_public_clients_refresh_token_needs_its_key() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(
        &app,
        "spa",
        json!({"client_id_type": "anything", "token_type": "jwt_es256"}),
    )
    .await;
    let c = alice(&app).await;
    let verifier = "a-pkce-verifier-that-is-long-enough-0123456789";
    let ch = challenge(verifier);
    let mut q = code_params("my-spa", &ch);
    q.retain(|(k, _)| *k != "scope");
    q.push(("scope", "openid read"));
    let res = authorize(&c, &app.url, "spa", &q).await;
    let code = query_of(&location(&res))["code"].clone();
    let htu = format!("{}/oauth2/token/spa", app.url);
    let key = ClientKey::es256();
    let (s, t, _) = token_with(
        &app.url,
        "spa",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", crate::authorize::CB),
            ("code_verifier", verifier),
            ("client_id", "my-spa"),
        ],
        Some(&key.fresh("POST", &htu, None)),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["token_type"], "DPoP");
    let access = t["access_token"].as_str().unwrap_or_default().to_string();
    let refresh = t["refresh_token"].as_str().expect("refresh").to_string();

    // UserInfo: the bound token with its proof, not as a Bearer token.
    let userinfo = format!("{}/oauth2/userinfo/spa", app.url);
    let (s, ch, _) = call(
        &app.url,
        "/oauth2/userinfo/spa",
        &format!("Bearer {access}"),
        None,
    )
    .await;
    assert_eq!(s, 401);
    assert!(ch.starts_with("DPoP "), "{ch}");
    let proof = key.fresh("GET", &userinfo, Some(&access));
    let (s, _, claims) = call(
        &app.url,
        "/oauth2/userinfo/spa",
        &format!("DPoP {access}"),
        Some(&proof),
    )
    .await;
    assert_eq!(s, 200, "{claims}");
    assert!(claims["sub"].is_string());

    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", "my-spa"),
    ];
    let other = ClientKey::es256();
    for proof in [None, Some(other.fresh("POST", &htu, None))] {
        let (s, b, _) = token_with(&app.url, "spa", &form, proof.as_deref()).await;
        assert_eq!(s, 400, "{b}");
        assert_eq!(b["error"], "invalid_grant");
    }
    let (s, t, _) = token_with(&app.url, "spa", &form, Some(&key.fresh("POST", &htu, None))).await;
    assert_eq!(s, 200, "the refused attempts did not spend it: {t}");
    assert_eq!(t["token_type"], "DPoP");
    assert_eq!(
        segment(t["access_token"].as_str().unwrap_or_default(), 1)["cnf"]["jkt"],
        key.jkt().as_str()
    );
    // The new refresh token is bound to the same key.
    let next = t["refresh_token"].as_str().expect("rotated").to_string();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", next.as_str()),
        ("client_id", "my-spa"),
    ];
    let (s, _, _) = token_with(
        &app.url,
        "spa",
        &form,
        Some(&other.fresh("POST", &htu, None)),
    )
    .await;
    assert_eq!(s, 400);

    // A confidential client's refresh token is not bound: it refreshes without a proof.
    make_app(&app, "web", json!({"token_type": "opaque"})).await;
    let ch = challenge(verifier);
    let res = authorize(&c, &app.url, "web", &code_params("web-client", &ch)).await;
    let code = query_of(&location(&res))["code"].clone();
    let web_htu = format!("{}/oauth2/token/web", app.url);
    let creds = [
        ("client_id", "web-client"),
        ("client_secret", "web-secret-123"),
    ];
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", crate::authorize::CB),
        ("code_verifier", verifier),
    ];
    form.extend_from_slice(&creds);
    let (s, t, _) = token_with(
        &app.url,
        "web",
        &form,
        Some(&key.fresh("POST", &web_htu, None)),
    )
    .await;
    assert_eq!((s, t["token_type"].as_str()), (200, Some("DPoP")), "{t}");
    let refresh = t["refresh_token"].as_str().expect("refresh").to_string();
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    form.extend_from_slice(&creds);
    let (s, t, _) = token_with(&app.url, "web", &form, None).await;
    assert_eq!((s, t["token_type"].as_str()), (200, Some("Bearer")), "{t}");
}

/// With `GATEHOUSE_DPOP_NONCE` a proof must carry the server's nonce: without it, or with one
/// the server did not make, `use_dpop_nonce` and the nonce in `DPoP-Nonce`; another instance
/// takes the nonce and refuses a proof the first one accepted (one store of used ids).
#[tokio::test]
async fn the_server_nonce_and_the_replay_store_hold_across_instances() {
    let app = spawn_app_with(|cfg| cfg.dpop_nonce = true).await;
    client_app(&app, "cc", "opaque").await;
    let mut cfg = config(&app.db);
    cfg.dpop_nonce = true;
    let (second, _) = start(cfg).await;
    let key = ClientKey::es256();
    let htu = |base: &str| format!("{base}/oauth2/token/cc");
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    };
    let with_nonce = |base: &str, nonce: &str| {
        key.sign(
            "dpop+jwt",
            None,
            &json!({"htm": "POST", "htu": htu(base), "iat": now(),
                    "jti": format!("j-{base}-{nonce}-{}", now()), "nonce": nonce}),
        )
    };
    let (s, b, h) = token_with(
        &app.url,
        "cc",
        &CC,
        Some(&key.fresh("POST", &htu(&app.url), None)),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(b["error"], "use_dpop_nonce");
    let nonce = h
        .get("dpop-nonce")
        .and_then(|v| v.to_str().ok())
        .expect("DPoP-Nonce")
        .to_string();
    let (s, b, _) = token_with(
        &app.url,
        "cc",
        &CC,
        Some(&with_nonce(&app.url, "made-up.nonce")),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("use_dpop_nonce")));
    let proof = with_nonce(&app.url, &nonce);
    let (s, t, h) = token_with(&app.url, "cc", &CC, Some(&proof)).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["token_type"], "DPoP");
    assert!(
        h.contains_key("dpop-nonce"),
        "every answer carries the nonce"
    );

    // The other instance takes the nonce the first one gave…
    let (s, t, _) = token_with(&second, "cc", &CC, Some(&with_nonce(&second, &nonce))).await;
    assert_eq!(s, 200, "{t}");
    // …and refuses the proof the first one accepted (when it names its URL: both instances
    // share the public URL in a real deployment; here each has its own, so a second proof with
    // the same jti is made for the second one's URL).
    let jti = "shared-jti";
    let once = |base: &str| {
        key.sign(
            "dpop+jwt",
            None,
            &json!({"htm": "POST", "htu": htu(base), "iat": now(), "jti": jti, "nonce": nonce}),
        )
    };
    let (s, _, _) = token_with(&app.url, "cc", &CC, Some(&once(&app.url))).await;
    assert_eq!(s, 200);
    let (s, b, _) = token_with(&second, "cc", &CC, Some(&once(&second))).await;
    assert_eq!(s, 400, "{b}");
    assert!(
        b["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("replay")),
        "{b}"
    );
}
