//! Upstream OpenID providers' administration (SPEC §6b): System Administrators only, checked
//! fields, the secret sealed and never shown, the login page's buttons, the doors' refusals.
//! The whole sign-in against a real provider is end2end/tests/federation.spec.js.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

fn provider(issuer: &str) -> Value {
    json!({
        "name": "Corp", "issuer": issuer, "client_id": "gatehouse",
        "client_secret": "upstream-secret-0123456789", "button_label": "Corp SSO",
        "scopes": ["email", "profile"], "match_by": "email", "create_users": false
    })
}

async fn sealed_secret(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT client_secret FROM identity_providers WHERE id = $1")
        .bind(id)
        .fetch_one(&app.services.store.pool)
        .await
        .expect("row")
}

#[tokio::test]
async fn providers_are_for_system_administrators_with_checked_fields_and_a_sealed_secret() {
    let app = spawn_app().await;
    // An administrator with every right but not in System Administrator may not.
    let rid = app.create_role("Almost", &["users", "roles", "apps"]).await;
    let uid = app.create_user("almost", "almost-password-1", false).await;
    app.add_member(&rid, &uid).await;
    let (c, _) = jar_client();
    assert_eq!(
        sign_in(&c, &app.url, "almost", "almost-password-1", "/admin")
            .await
            .status(),
        302
    );
    let (s, _) = api_call(
        &c,
        &app.url,
        Method::GET,
        "/api/v1/identity-providers",
        None,
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = api_call(
        &c,
        &app.url,
        Method::POST,
        "/api/v1/identity-providers",
        Some(provider("https://id.corp.example")),
    )
    .await;
    assert_eq!(s, 403);

    // Fields: required ones, the issuer's scheme, scopes, the role.
    for (change, field, status) in [
        (json!({"client_secret": null}), "client_secret", 422),
        (json!({"issuer": "http://id.corp.example"}), "issuer", 422),
        (json!({"issuer": "not a url"}), "issuer", 422),
        (
            json!({"issuer": "https://id.corp.example/?q=1"}),
            "issuer",
            422,
        ),
        (json!({"scopes": ["email", "bad scope"]}), "scopes[1]", 422),
        (json!({"button_label": ""}), "button_label", 422),
        (json!({"default_role": "No such role"}), "default_role", 404),
    ] {
        let mut body = provider("https://id.corp.example");
        for (k, v) in change.as_object().expect("object") {
            if v.is_null() {
                body.as_object_mut().expect("object").remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let (s, e) = app
            .api(Method::POST, "/api/v1/identity-providers", Some(body))
            .await;
        assert_eq!((s, e["field"].as_str()), (status, Some(field)), "{e}");
    }

    let (s, p) = app
        .api(
            Method::POST,
            "/api/v1/identity-providers",
            Some(provider("https://id.corp.example")),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let id = p["id"].as_str().expect("id").to_string();
    assert_eq!(p["client_secret_set"], true);
    assert!(p.get("client_secret").is_none());
    assert_eq!(
        p["scopes"],
        json!(["openid", "email", "profile"]),
        "openid always"
    );
    assert_eq!(
        p["redirect_uri"],
        format!("{}/login/federated/{id}/callback", app.url)
    );
    let sealed = sealed_secret(&app, &id).await;
    assert!(
        sealed.starts_with("sealed:v1:") && !sealed.contains("upstream-secret"),
        "{sealed}"
    );
    let (_, all) = app
        .api(Method::GET, "/api/v1/identity-providers", None)
        .await;
    assert!(!all.to_string().contains("upstream-secret"));

    // The login page offers it while it is enabled.
    let login = |url: String| async move {
        client()
            .get(format!("{url}/login"))
            .send()
            .await
            .expect("login")
            .text()
            .await
            .expect("html")
    };
    assert!(login(app.url.clone())
        .await
        .contains("Sign in with Corp SSO"));
    // A change without a secret keeps it; with one, replaces it.
    let (s, p) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/identity-providers/{id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!((s, p["enabled"].as_bool()), (200, Some(false)), "{p}");
    assert_eq!(sealed_secret(&app, &id).await, sealed);
    assert!(!login(app.url.clone())
        .await
        .contains("Sign in with Corp SSO"));
    let (s, _) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/identity-providers/{id}"),
            Some(json!({"client_secret": "another-secret-987654", "enabled": true})),
        )
        .await;
    assert_eq!(s, 200);
    assert_ne!(sealed_secret(&app, &id).await, sealed);

    let (s, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/identity-providers/{id}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/identity-providers/{id}"),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let (_, audit) = app
        .api(Method::GET, &format!("/api/v1/audit?object={id}"), None)
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for a in ["idp.create", "idp.update", "idp.delete"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn the_sign_in_doors_refuse_what_they_cannot_finish() {
    let app = spawn_app().await;
    // A provider nobody answers for (a closed port on this machine).
    let (_, p) = app
        .api(
            Method::POST,
            "/api/v1/identity-providers",
            Some(provider("http://127.0.0.1:9")),
        )
        .await;
    let id = p["id"].as_str().expect("id").to_string();
    let c = client();
    let base = app.url.clone();
    let get = |path: String| {
        let (c, base) = (c.clone(), base.clone());
        async move {
            let res = c.get(format!("{base}{path}")).send().await.expect("get");
            let status = res.status().as_u16();
            (status, res.text().await.unwrap_or_default())
        }
    };
    let (s, html) = get(format!("/login/federated/{id}")).await;
    assert_eq!(s, 502);
    assert!(html.contains("Sign-in failed"));
    let (s, html) = get("/login/federated/no-such-provider".into()).await;
    assert_eq!(s, 404);
    assert!(html.contains("Sign-in failed"));
    // An answer this browser did not start: refused before anything is asked of the provider.
    let (s, html) = get(format!(
        "/login/federated/{id}/callback?code=c&state=forged"
    ))
    .await;
    assert_eq!(s, 400);
    assert!(
        html.contains("not for a sign-in this browser started"),
        "{html}"
    );

    // A user's links: none; removing one that is not there is 404.
    let uid = app.create_user("linked", "linked-password-1", false).await;
    let (s, l) = app
        .api(Method::GET, &format!("/api/v1/users/{uid}/links"), None)
        .await;
    assert_eq!((s, l["total"].as_i64()), (200, Some(0)), "{l}");
    let (s, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/users/{uid}/links/{id}"),
            None,
        )
        .await;
    assert_eq!(s, 404);
}
