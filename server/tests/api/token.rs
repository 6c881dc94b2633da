//! The token endpoint, keys, introspection, revocation and bearer tokens on the REST API.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn the_documents_client_credentials_request_works_verbatim() {
    let app = spawn_app().await;
    client_app(&app, "JamesTest", "jwt_rs256").await;
    // Centrify step 5: Basic header, X-CENTRIFY-NATIVE-CLIENT, JSON body.
    let res = client()
        .post(format!("{}/oauth2/token/JamesTest", app.url))
        .header("Authorization", basic(CLIENT, SECRET))
        .header("X-CENTRIFY-NATIVE-CLIENT", "true")
        .header("Content-Type", "application/json")
        .body(r#"{"grant_type":"client_credentials","scope":"directory"}"#)
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert_eq!(
        res.headers().get("pragma").and_then(|v| v.to_str().ok()),
        Some("no-cache")
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 18000);
    assert_eq!(body["scope"], "directory");
    assert!(
        body.get("refresh_token").is_none(),
        "no refresh token for client credentials"
    );
    let token = body["access_token"].as_str().expect("token");
    // Then the REST call of the documents with the bearer token.
    let res = client()
        .post(format!("{}/cdirectoryservice/createuser", app.url))
        .bearer_auth(token)
        .header("X-CENTRIFY-NATIVE-CLIENT", "true")
        .json(&json!({"Name": "apitest@co", "Password": "new1234F@!%^"}))
        .send()
        .await
        .expect("createuser");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["success"], true, "{body}");
    let id = body["Result"].as_str().expect("Result");
    let (status, user) = app
        .api(Method::GET, &format!("/api/v1/users/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(user["login_name"], "apitest@co");
}

#[tokio::test]
async fn the_curity_form_request_works_verbatim() {
    let app = spawn_app().await;
    client_app(&app, "server-app", "opaque").await;
    let res = client()
        .post(format!("{}/oauth2/token/server-app", app.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={CLIENT}&client_secret={SECRET}&scope=users"
        ))
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["scope"], "users");
    let token = body["access_token"].as_str().expect("token");
    assert!(
        token.len() >= 43
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "opaque: {token}"
    );
    assert_eq!(bearer_status(&app.url, "/api/v1/users", token).await, 200);
}

#[tokio::test]
async fn jwt_access_tokens_verify_against_the_jwks_with_an_independent_library() {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    let app = spawn_app().await;
    client_app(&app, "jwt-app", "jwt_rs256").await;
    let token = cc_token(&app.url, "jwt-app", Some("users roles")).await;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "at+jwt");
    let jwks: Value = client()
        .get(format!("{}/oauth2/keys/jwt-app", app.url))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|k| k.iter().find(|k| k["kid"] == header["kid"]))
        .expect("kid published")
        .clone();
    assert_eq!(jwk["kty"], "RSA");
    let n = rsa::BigUint::from_bytes_be(
        &URL_SAFE_NO_PAD
            .decode(jwk["n"].as_str().expect("n"))
            .expect("n"),
    );
    let e = rsa::BigUint::from_bytes_be(
        &URL_SAFE_NO_PAD
            .decode(jwk["e"].as_str().expect("e"))
            .expect("e"),
    );
    let key = rsa::RsaPublicKey::new(n, e).expect("key");
    assert!(
        rsa::traits::PublicKeyParts::size(&key) >= 256,
        "RSA-2048 or larger"
    );
    let vk = VerifyingKey::<sha2::Sha256>::new(key);
    let sig = Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).expect("sig").as_slice())
        .expect("sig");
    vk.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .expect("signature verifies");
    assert_eq!(claims["iss"], format!("{}/oauth2/jwt-app", app.url));
    assert_eq!(claims["aud"], "jwt-app");
    assert_eq!(claims["client_id"], CLIENT);
    assert_eq!(claims["scope"], "users roles");
    for c in ["sub", "iat", "nbf", "exp", "jti"] {
        assert!(claims.get(c).is_some(), "claim {c}");
    }
    assert_eq!(
        claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0),
        18000
    );
}

#[tokio::test]
async fn every_client_rule_has_its_error() {
    let app = spawn_app().await;
    client_app(&app, "rules", "jwt_rs256").await;
    let url = &app.url;
    let cc = |id: &'static str, secret: &'static str| {
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ]
    };

    let (s, b, _) = form_token(url, "rules", &cc(CLIENT, "wrong-secret")).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));
    let (s, b, _) = form_token(url, "rules", &cc("nobody@example.com", SECRET)).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));
    let (s, b, _) = form_token(url, "rules", &[("grant_type", "client_credentials")]).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));

    // Basic gets the challenge.
    let res = client()
        .post(format!("{url}/oauth2/token/rules"))
        .header("Authorization", basic(CLIENT, "wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Basic realm=\"gatehouse\"")
    );

    // Login names match case-insensitively.
    let (s, b, _) = form_token(url, "rules", &cc("CLIENT@Example.COM", SECRET)).await;
    assert_eq!(s, 200, "{b}");
    // No scope: all of them.
    assert_eq!(b["scope"], "directory users roles");

    let (s, b, _) = form_token(
        url,
        "rules",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", "users admin"),
        ],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_scope")));
    let (s, b, _) = form_token(
        url,
        "rules",
        &[
            ("grant_type", "device_code"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (s, b, _) = form_token(
        url,
        "rules",
        &[("client_id", CLIENT), ("client_secret", SECRET)],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    let (s, b, _) = form_token(url, "no-such-app", &cc(CLIENT, SECRET)).await;
    assert_eq!((s, b["error"].as_str()), (404, Some("invalid_request")));

    // A person (not a confidential client) is not a client.
    app.create_user("person", "person-password", false).await;
    let (s, b, _) = form_token(url, "rules", &cc("person", "person-password")).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));

    // A confidential client outside the app's User Access roles.
    app.create_user("outsider@example.com", "outsider-secret", true)
        .await;
    let (s, b, _) = form_token(url, "rules", &cc("outsider@example.com", "outsider-secret")).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("unauthorized_client")));

    // The grant must be one of the app's auth methods.
    app.api(
        Method::PATCH,
        "/api/v1/apps/rules",
        Some(json!({"auth_methods": ["password"]})),
    )
    .await;
    let (s, b, _) = form_token(url, "rules", &cc(CLIENT, SECRET)).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{b}"
    );

    // client_credentials needs a confidential Client ID Type.
    let (s, patched) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/rules",
            Some(json!({"auth_methods": ["client_credentials"], "client_id_type": "anything"})),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(
        (
            patched["client_id_type"].as_str(),
            patched["auth_methods"].clone()
        ),
        (Some("anything"), json!(["client_credentials"])),
        "the app allows client_credentials now, so the refusal is the Client ID Type's"
    );
    let (s, b, _) = form_token(url, "rules", &cc(CLIENT, SECRET)).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{b}"
    );
}

#[tokio::test]
async fn a_disabled_client_or_a_changed_secret_is_refused_at_once() {
    let app = spawn_app().await;
    let uid = client_app(&app, "cache", "opaque").await;
    cc_token(&app.url, "cache", None).await;
    cc_token(&app.url, "cache", None).await; // served from the verification cache
    app.api(
        Method::PATCH,
        &format!("/api/v1/users/{uid}"),
        Some(json!({"password": "a-new-secret-2"})),
    )
    .await;
    let cc = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
    ];
    let (s, _, _) = form_token(&app.url, "cache", &cc).await;
    assert_eq!(s, 401, "the old secret stops working immediately");
    let (s, _, _) = form_token(
        &app.url,
        "cache",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", "a-new-secret-2"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    app.api(
        Method::PATCH,
        &format!("/api/v1/users/{uid}"),
        Some(json!({"enabled": false})),
    )
    .await;
    let (s, _, _) = form_token(
        &app.url,
        "cache",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", "a-new-secret-2"),
        ],
    )
    .await;
    assert_eq!(s, 401, "disabled");
}

#[tokio::test]
async fn leaving_the_user_access_role_is_refused_at_once() {
    let app = spawn_app().await;
    let uid = client_app(&app, "roles-cache", "opaque").await;
    cc_token(&app.url, "roles-cache", None).await;
    let (_, roles) = app.api(Method::GET, "/api/v1/roles", None).await;
    let rid = roles["items"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "Clients of roles-cache"))
        .expect("role")["id"]
        .as_str()
        .expect("id")
        .to_string();
    app.api(
        Method::DELETE,
        &format!("/api/v1/roles/{rid}/members/{uid}"),
        None,
    )
    .await;
    let (s, b, _) = form_token(
        &app.url,
        "roles-cache",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("unauthorized_client")));
}

#[tokio::test]
async fn malformed_token_requests_get_the_rfc_error_never_a_5xx() {
    let app = spawn_app().await;
    client_app(&app, "mal", "jwt_rs256").await;
    let url = format!("{}/oauth2/token/mal", app.url);
    let c = client();
    let send = |ct: &'static str, body: Vec<u8>| {
        let c = c.clone();
        let url = url.clone();
        async move {
            c.post(url)
                .header("Content-Type", ct)
                .body(body)
                .send()
                .await
                .expect("send")
        }
    };
    for (ct, body) in [
        ("application/json", b"{not json".to_vec()),
        ("application/json", b"[1,2]".to_vec()),
        ("application/json", br#"{"grant_type": {"x": 1}}"#.to_vec()),
        ("text/plain", b"grant_type=client_credentials".to_vec()),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials&grant_type=password".to_vec(),
        ),
    ] {
        let res = send(ct, body.clone()).await;
        assert_eq!(res.status(), 400, "{ct} {}", String::from_utf8_lossy(&body));
        let b: Value = res.json().await.expect("json");
        assert_eq!(b["error"], "invalid_request");
    }
    let res = c
        .post(&url)
        .header("Authorization", "Basic !!!notbase64")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 401);
    let res = c
        .post(&url)
        .header(
            "Authorization",
            format!("Basic {}", STANDARD.encode("no-colon")),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 401);
    let res = send("application/x-www-form-urlencoded", vec![b'a'; 3 << 20]).await;
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn introspection_and_revocation_of_opaque_and_jwt_tokens() {
    let app = spawn_app().await;
    for (app_id, kind) in [("opq", "opaque"), ("jwt", "jwt_rs256")] {
        client_app(&app, app_id, kind).await;
        let token = cc_token(&app.url, app_id, Some("users")).await;
        let (s, b) = introspect_with(&app.url, app_id, Some((CLIENT, SECRET)), &token).await;
        assert_eq!(s, 200);
        assert_eq!(b["active"], true, "{kind}: {b}");
        assert_eq!(b["scope"], "users");
        assert_eq!(b["client_id"], CLIENT);
        let (s, _) = introspect_with(&app.url, app_id, None, &token).await;
        assert_eq!(s, 401, "introspection needs a confidential client");
        let (s, _) = introspect_with(&app.url, app_id, Some((CLIENT, "wrong")), &token).await;
        assert_eq!(s, 401);
        let (_, b) = introspect_with(&app.url, app_id, Some((CLIENT, SECRET)), "garbage").await;
        assert_eq!(b, json!({"active": false}));

        assert_eq!(bearer_status(&app.url, "/api/v1/users", &token).await, 200);
        assert_eq!(
            revoke_at(&app.url, app_id, Some((CLIENT, SECRET)), &token).await,
            200
        );
        let (_, b) = introspect_with(&app.url, app_id, Some((CLIENT, SECRET)), &token).await;
        assert_eq!(b, json!({"active": false}), "{kind} revoked");
        assert_eq!(bearer_status(&app.url, "/api/v1/users", &token).await, 401);
        // Unknown tokens revoke fine; unauthenticated revocation does not.
        assert_eq!(
            revoke_at(&app.url, app_id, Some((CLIENT, SECRET)), "unknown").await,
            200
        );
        assert_eq!(revoke_at(&app.url, app_id, None, "unknown").await, 401);
    }
}

#[tokio::test]
async fn rest_regexes_allow_and_deny_bearer_calls() {
    let app = spawn_app().await;
    client_app(&app, "matrix", "opaque").await;
    let users_token = cc_token(&app.url, "matrix", Some("users")).await;
    let dir_token = cc_token(&app.url, "matrix", Some("directory")).await;
    let get = |path: &'static str, token: Option<String>| {
        let url = format!("{}{path}", app.url);
        async move {
            let mut r = client().get(url);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let res = r.send().await.expect("get");
            (
                res.status().as_u16(),
                res.headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string(),
            )
        }
    };
    assert_eq!(
        get("/api/v1/users", Some(users_token.clone())).await.0,
        200,
        "match"
    );
    let (s, h) = get("/api/v1/roles", Some(users_token.clone())).await;
    assert_eq!(s, 403, "no match");
    assert!(h.contains("insufficient_scope"), "{h}");
    let (s, h) = get("/api/v1/users", Some(dir_token.clone())).await;
    assert_eq!(s, 403);
    assert!(h.contains("insufficient_scope"));
    // The compatibility path in any case.
    for (i, path) in [
        "/CDirectoryService/CreateUser",
        "/cdirectoryservice/createuser",
        "/CDIRECTORYSERVICE/CREATEUSER",
    ]
    .into_iter()
    .enumerate()
    {
        let res = client()
            .post(format!("{}{path}", app.url))
            .bearer_auth(&dir_token)
            .json(&json!({"Name": format!("compat{i}@x.io"), "Mail": "m@x.io", "Password": "password-123"}))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 200, "{path}");
    }
    let res = client()
        .post(format!("{}/cdirectoryservice/createuser", app.url))
        .bearer_auth(&users_token)
        .json(&json!({"Name": "n@x.io", "Password": "password-123"}))
        .send()
        .await
        .expect("post");
    assert_eq!(
        res.status(),
        403,
        "users scope does not allow the directory call"
    );
    let (s, h) = get("/api/v1/users", Some("garbage".into())).await;
    assert_eq!(s, 401);
    assert!(h.contains("invalid_token"), "{h}");
    let (s, _) = get("/api/v1/users", None).await;
    assert_eq!(s, 401, "missing header");
    // Expired: age the stored token (behind the server's back, so its memory of tokens found
    // valid is cleared too; a real token's expiry is in that memory already).
    sqlx::query("UPDATE tokens SET expires_at = 1 WHERE kind = 'access'")
        .execute(&app.services.store.pool)
        .await
        .expect("age");
    app.services.seen.invalidate_all();
    let (s, h) = get("/api/v1/users", Some(users_token)).await;
    assert_eq!(s, 401, "expired");
    assert!(h.contains("invalid_token"));
}

#[tokio::test]
async fn a_token_needs_the_admin_right_of_its_user_too() {
    let app = spawn_app().await;
    client_app(&app, "rights", "jwt_rs256").await;
    let token = cc_token(&app.url, "rights", Some("roles")).await;
    let res = client()
        .get(format!("{}/api/v1/roles", app.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    assert_eq!(
        res.status(),
        403,
        "scope allows, but the client's role has only the users right"
    );
    let b: Value = res.json().await.expect("json");
    assert_eq!(b["error"], "forbidden");
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_valid_and_publishes_both_keys() {
    let app = spawn_app().await;
    client_app(&app, "rot", "jwt_rs256").await;
    let old = cc_token(&app.url, "rot", Some("users")).await;
    let (status, body) = app.api(Method::POST, "/api/v1/keys/rotate", None).await;
    assert_eq!(status, 200, "{body}");
    let new_kid = body["kid"].as_str().expect("kid").to_string();
    let jwks: Value = client()
        .get(format!("{}/oauth2/keys/rot", app.url))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    // Three algorithms (RS256, ES256, EdDSA), each with its retired and its new key.
    assert_eq!(jwks["keys"].as_array().map(|k| k.len()), Some(6));
    let fresh = cc_token(&app.url, "rot", Some("users")).await;
    let kid_of = |t: &str| -> String {
        let h: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(t.split('.').next().unwrap_or(""))
                .unwrap_or_default(),
        )
        .unwrap_or(Value::Null);
        h["kid"].as_str().unwrap_or("").to_string()
    };
    assert_eq!(kid_of(&fresh), new_kid);
    assert_ne!(kid_of(&old), new_kid);
    for t in [old, fresh] {
        assert_eq!(bearer_status(&app.url, "/api/v1/users", &t).await, 200);
    }
    // Only members of System Administrator may rotate.
    let uid = app.create_user("appadmin", "appadmin-pass", false).await;
    let r = app
        .create_role("AppAdmins", &["apps", "users", "roles"])
        .await;
    app.add_member(&r, &uid).await;
    let c = client();
    sign_in(&c, &app.url, "appadmin", "appadmin-pass", "/admin").await;
    assert_eq!(
        api_call(&c, &app.url, Method::POST, "/api/v1/keys/rotate", None)
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn metadata_lists_only_what_the_app_allows_at_both_paths() {
    let app = spawn_app().await;
    client_app(&app, "meta", "jwt_rs256").await;
    for path in [
        "/oauth2/meta/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/oauth2/meta",
    ] {
        let res = client()
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .expect("metadata");
        assert_eq!(res.status(), 200, "{path}");
        let m: Value = res.json().await.expect("json");
        assert_eq!(m["issuer"], format!("{}/oauth2/meta", app.url));
        assert_eq!(
            m["token_endpoint"],
            format!("{}/oauth2/token/meta", app.url)
        );
        assert_eq!(m["jwks_uri"], format!("{}/oauth2/keys/meta", app.url));
        assert_eq!(m["grant_types_supported"], json!(["client_credentials"]));
        assert!(
            m.get("authorization_endpoint").is_none(),
            "no browser flow allowed"
        );
    }
    for path in [
        "/oauth2/nope/.well-known/oauth-authorization-server",
        "/oauth2/keys/nope",
    ] {
        let res = client()
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 404);
        let b: Value = res.json().await.expect("json");
        assert_eq!(b["error"], "invalid_request");
    }
}

#[tokio::test]
async fn deleting_the_app_revokes_its_tokens() {
    let app = spawn_app().await;
    client_app(&app, "gone", "opaque").await;
    client_app(&app, "gone-jwt", "jwt_rs256").await;
    let t1 = cc_token(&app.url, "gone", Some("users")).await;
    let t2 = cc_token(&app.url, "gone-jwt", Some("users")).await;
    app.api(Method::DELETE, "/api/v1/apps/gone", None).await;
    app.api(Method::DELETE, "/api/v1/apps/gone-jwt", None).await;
    for t in [&t1, &t2] {
        assert_eq!(bearer_status(&app.url, "/api/v1/users", t).await, 401);
    }
    // An app made again with the same id (and the same client) does not revive the old tokens.
    for (id, kind) in [("gone", "opaque"), ("gone-jwt", "jwt_rs256")] {
        let (s, b) = app
            .api(
                Method::POST,
                "/api/v1/apps",
                Some(json!({"app_id": id, "name": id, "token_type": kind,
                    "auth_methods": ["client_credentials"],
                    "scopes": [{"name": "users", "rest_regexes": ["api/v1/users(/.*)?"]}],
                    "user_access_roles": [format!("Clients of {id}")]})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    for (id, t) in [("gone", &t1), ("gone-jwt", &t2)] {
        assert_eq!(
            bearer_status(&app.url, "/api/v1/users", t).await,
            401,
            "{id}: the old token stays dead"
        );
        let (_, b) = introspect_with(&app.url, id, Some((CLIENT, SECRET)), t).await;
        assert_eq!(b, json!({"active": false}), "{id}");
        // While a new token of the new app works (revocations have whole-second precision, so
        // a token of the very second of the deletion is refused too).
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let fresh = cc_token(&app.url, id, Some("users")).await;
        assert_eq!(
            bearer_status(&app.url, "/api/v1/users", &fresh).await,
            200,
            "{id}"
        );
    }
}

#[tokio::test]
async fn a_third_party_oauth2_client_does_the_client_credentials_exchange() {
    use oauth2::basic::BasicClient;
    use oauth2::{AuthUrl, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
    let app = spawn_app().await;
    client_app(&app, "crate-app", "jwt_rs256").await;
    let client = BasicClient::new(ClientId::new(CLIENT.into()))
        .set_client_secret(ClientSecret::new(SECRET.into()))
        .set_auth_uri(AuthUrl::new(format!("{}/oauth2/authorize/crate-app", app.url)).expect("url"))
        .set_token_uri(TokenUrl::new(format!("{}/oauth2/token/crate-app", app.url)).expect("url"));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let token = client
        .exchange_client_credentials()
        .add_scope(Scope::new("users".into()))
        .request_async(&http)
        .await
        .expect("token");
    assert_eq!(
        token
            .scopes()
            .map(|s| s.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
        Some(vec!["users".to_string()])
    );
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/users", app.url))
        .bearer_auth(token.access_token().secret())
        .send()
        .await
        .expect("api");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_bearer_loses_a_right_the_moment_its_role_does() {
    let app = spawn_app().await;
    let uid = client_app(&app, "rights", "opaque").await;
    let token = cc_token(&app.url, "rights", Some("users")).await;
    // Twice: the second call is served by the principal cache.
    for _ in 0..2 {
        assert_eq!(bearer_status(&app.url, "/api/v1/users", &token).await, 200);
    }
    let (_, roles) = app.api(Method::GET, "/api/v1/roles", None).await;
    let role = roles["items"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "Clients of rights"))
        .and_then(|r| r["id"].as_str())
        .expect("the client's role")
        .to_string();
    let set_rights = |rights: Value| {
        let app = &app;
        let path = format!("/api/v1/roles/{role}");
        async move {
            let (s, b) = app
                .api(Method::PATCH, &path, Some(json!({"admin_rights": rights})))
                .await;
            assert_eq!(s, 200, "{b}");
        }
    };
    set_rights(json!([])).await;
    assert_eq!(bearer_status(&app.url, "/api/v1/users", &token).await, 403);
    set_rights(json!(["users"])).await;
    assert_eq!(bearer_status(&app.url, "/api/v1/users", &token).await, 200);
    let (s, _) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{uid}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(bearer_status(&app.url, "/api/v1/users", &token).await, 401);
}

/// Opaque tokens carry their issue time first (their storage key sorts in issue order); tokens
/// issued before that, stored under the bare hash of the token, still introspect, authorize
/// and revoke.
#[tokio::test]
async fn opaque_tokens_issued_before_the_time_prefix_still_work() {
    let app = spawn_app().await;
    client_app(&app, "legacy-app", "opaque").await;
    let new = cc_token(&app.url, "legacy-app", Some("users")).await;
    assert_eq!(new.len(), 54, "{new}");
    assert!(new[..11].bytes().all(|b| b.is_ascii_hexdigit()), "{new}");
    // The same row under an earlier token's form: 43 characters, its hex SHA-256 as the key.
    let legacy = domain::tokens::random_token(32);
    let moved = sqlx::query("UPDATE tokens SET token_hash = $1 WHERE token_hash = $2")
        .bind(domain::tokens::sha256_hex(&legacy))
        .bind(domain::tokens::opaque_token_key_of(&new))
        .execute(&app.services.store.pool)
        .await
        .expect("update")
        .rows_affected();
    assert_eq!(
        moved, 1,
        "the new token is stored under its time-ordered key"
    );
    let (_, b) = introspect_with(&app.url, "legacy-app", Some((CLIENT, SECRET)), &legacy).await;
    assert_eq!(b["active"], true, "{b}");
    assert_eq!(b["scope"], "users");
    assert_eq!(bearer_status(&app.url, "/api/v1/users", &legacy).await, 200);
    assert_eq!(
        revoke_at(&app.url, "legacy-app", Some((CLIENT, SECRET)), &legacy).await,
        200
    );
    let (_, b) = introspect_with(&app.url, "legacy-app", Some((CLIENT, SECRET)), &legacy).await;
    assert_eq!(b, json!({"active": false}), "revoked");
    let revoked: i64 = sqlx::query_scalar("SELECT revoked FROM tokens WHERE token_hash = $1")
        .bind(domain::tokens::sha256_hex(&legacy))
        .fetch_one(&app.services.store.pool)
        .await
        .expect("row");
    assert_eq!(revoked, 1);
}
