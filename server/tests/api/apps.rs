//! OAuth2 apps through the admin REST API: CRUD, partial update, changelog, every 4xx.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

pub fn full_app(app_id: &str) -> Value {
    json!({
        "app_id": app_id,
        "name": "Directory client",
        "description": "calls the directory",
        "category": "Integrations",
        "client_id_type": "confidential",
        "redirect_uris": ["https://client.example/cb", "http://127.0.0.1/cb"],
        "token_type": "opaque",
        "auth_methods": ["client_credentials", "authorization_code"],
        "token_lifetime_secs": 3600,
        "issue_refresh_tokens": true,
        "user_must_confirm": true,
        "scopes": [
            {"name": "directory", "description": "Create users", "rest_regexes": ["CDirectoryService/.*"]},
            {"name": "all", "description": "Everything", "rest_regexes": [".*"]}
        ],
        "user_access_roles": ["System Administrator"]
    })
}

#[tokio::test]
async fn create_read_update_delete_an_app() {
    let app = spawn_app().await;
    let (status, created) = app
        .api(Method::POST, "/api/v1/apps", Some(full_app("dir-client")))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["issuer"], format!("{}/oauth2/dir-client", app.url));
    assert_eq!(created["token_type"], "opaque");
    assert_eq!(
        created["scopes"][0]["rest_regexes"],
        json!(["CDirectoryService/.*"])
    );
    assert_eq!(
        created["user_access_roles"],
        json!(["System Administrator"])
    );
    assert_eq!(created["refresh_token_lifetime_secs"], 2_592_000);

    let (status, read) = app.api(Method::GET, "/api/v1/apps/dir-client", None).await;
    assert_eq!(status, 200);
    assert_eq!(read["name"], "Directory client");

    let (status, patched) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/dir-client",
            Some(json!({"name": "Renamed", "scopes": [{"name": "only", "rest_regexes": ["a"]}]})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "Renamed");
    assert_eq!(patched["token_lifetime_secs"], 3600, "untouched");
    assert_eq!(
        patched["scopes"].as_array().map(|a| a.len()),
        Some(1),
        "scopes replaces the list"
    );
    assert_eq!(
        patched["user_access_roles"],
        json!(["System Administrator"]),
        "untouched"
    );

    let (status, _) = app
        .api(Method::DELETE, "/api/v1/apps/dir-client", None)
        .await;
    assert_eq!(status, 204);
    let (status, body) = app.api(Method::GET, "/api/v1/apps/dir-client", None).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn defaults_apply_when_only_id_and_name_are_given() {
    let app = spawn_app().await;
    let (status, a) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "min", "name": "Minimal"})),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["client_id_type"], "confidential");
    assert_eq!(a["token_type"], "jwt_rs256");
    assert_eq!(a["token_lifetime_secs"], 18000);
    assert_eq!(a["category"], "Other");
    assert_eq!(a["issue_refresh_tokens"], false);
}

#[tokio::test]
async fn list_filters_by_category_and_pages() {
    let app = spawn_app().await;
    for (id, cat) in [("a1", "Web"), ("a2", "Web"), ("a3", "Mobile")] {
        let (s, b) = app
            .api(
                Method::POST,
                "/api/v1/apps",
                Some(json!({"app_id": id, "name": id, "category": cat})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let (_, web) = app
        .api(Method::GET, "/api/v1/apps?category=web", None)
        .await;
    assert_eq!(web["total"], 2);
    let (_, page) = app
        .api(Method::GET, "/api/v1/apps?limit=1&offset=2", None)
        .await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["items"].as_array().map(|a| a.len()), Some(1));
}

#[tokio::test]
async fn every_invalid_field_is_422_with_its_name() {
    let app = spawn_app().await;
    let (s, _) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "ok", "name": "ok"})),
        )
        .await;
    assert_eq!(s, 201);
    let cases = [
        (json!({"app_id": "has space", "name": "x"}), "app_id"),
        (json!({"app_id": "", "name": "x"}), "app_id"),
        (json!({"app_id": "x1"}), "name"),
        (
            json!({"app_id": "x2", "name": "x", "redirect_uris": ["relative/path"]}),
            "redirect_uris[0]",
        ),
        (
            json!({"app_id": "x3", "name": "x", "redirect_uris": ["https://a.example/cb#frag"]}),
            "redirect_uris[0]",
        ),
        (
            json!({"app_id": "x4", "name": "x", "token_lifetime_secs": 10}),
            "token_lifetime_secs",
        ),
        (
            json!({"app_id": "x5", "name": "x", "token_type": "hs256"}),
            "token_type",
        ),
        (
            json!({"app_id": "x6", "name": "x", "auth_methods": ["magic"]}),
            "auth_methods[0]",
        ),
        (
            json!({"app_id": "x7", "name": "x", "scopes": [{"name": "a", "rest_regexes": ["("]}]}),
            "scopes[0].rest_regexes[0]",
        ),
        (
            json!({"app_id": "x9", "name": "x", "scopes": [{"name": "bad name"}]}),
            "scopes[0].name",
        ),
        (
            json!({"app_id": "x11", "name": "x", "client_id_type": "public"}),
            "client_id_type",
        ),
    ];
    for (body, field) in cases {
        let (status, res) = app
            .api(Method::POST, "/api/v1/apps", Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body} → {res}");
        assert_eq!(res["field"], field, "{body} → {res}");
        // Refused means nothing was created.
        if let Some(id) = body["app_id"]
            .as_str()
            .filter(|i| !i.is_empty() && !i.contains(' '))
        {
            let (s, _) = app
                .api(Method::GET, &format!("/api/v1/apps/{id}"), None)
                .await;
            assert_eq!(s, 404, "{id} was not created");
        }
    }
    // A scope name used twice in one body is an invalid document (422: nothing stored conflicts);
    // a role that does not exist is a missing object (404): each names its field, and neither
    // creates the app.
    for (body, status, field) in [
        (
            json!({"app_id": "x8", "name": "x", "scopes": [{"name": "a"}, {"name": "a"}]}),
            422,
            "scopes[1].name",
        ),
        (
            json!({"app_id": "x10", "name": "x", "user_access_roles": ["No Such Role"]}),
            404,
            "user_access_roles[0]",
        ),
    ] {
        let (s, res) = app
            .api(Method::POST, "/api/v1/apps", Some(body.clone()))
            .await;
        assert_eq!(
            (s, res["field"].as_str()),
            (status, Some(field)),
            "{body} → {res}"
        );
    }
    let (_, list) = app.api(Method::GET, "/api/v1/apps", None).await;
    assert_eq!(list["total"], 1, "only the valid app exists: {list}");
    let (status, res) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/ok",
            Some(json!({"app_id": "other"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(res["field"], "app_id");
    let (status, res) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "ok", "name": "again"})),
        )
        .await;
    assert_eq!(status, 409, "{res}");
    assert_eq!(res["field"], "app_id");
    let (_, kept) = app.api(Method::GET, "/api/v1/apps/ok", None).await;
    assert_eq!(
        kept["name"], "ok",
        "the duplicate did not overwrite the app"
    );
    let (status, _) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/missing",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "y", "name": "y", "unknown_field": 1})),
        )
        .await;
    assert_eq!(status, 422);
    let (s, _) = app.api(Method::GET, "/api/v1/apps/y", None).await;
    assert_eq!(s, 404, "nothing was created");
}

#[tokio::test]
async fn changelog_lists_each_change_newest_first() {
    let app = spawn_app().await;
    app.api(
        Method::POST,
        "/api/v1/apps",
        Some(json!({"app_id": "logged", "name": "Before"})),
    )
    .await;
    let (s, _) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/logged",
            Some(json!({"name": "After", "token_lifetime_secs": 600})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/logged",
            Some(json!({"category": "Web"})),
        )
        .await;
    assert_eq!(s, 200);
    let (status, log) = app
        .api(Method::GET, "/api/v1/apps/logged/changelog", None)
        .await;
    assert_eq!(status, 200, "{log}");
    let items = log["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(log["total"], 4, "{log}");
    assert_eq!(items[0]["field"], "category");
    assert_eq!(items[0]["old"], "Other");
    assert_eq!(items[0]["new"], "Web");
    assert_eq!(items[0]["actor"], "admin");
    assert!(items
        .iter()
        .any(|i| i["field"] == "name" && i["old"] == "Before" && i["new"] == "After"));
    assert!(items
        .iter()
        .any(|i| i["field"] == "token_lifetime_secs" && i["new"] == "600"));
    assert_eq!(items[3]["field"], "app");
}

#[tokio::test]
async fn concurrent_patches_of_different_fields_are_all_kept() {
    let app = spawn_app().await;
    app.api(
        Method::POST,
        "/api/v1/apps",
        Some(json!({"app_id": "busy", "name": "Busy"})),
    )
    .await;
    let patches = [
        json!({"description": "d"}),
        json!({"category": "C"}),
        json!({"token_lifetime_secs": 120}),
        json!({"user_must_confirm": true}),
        json!({"redirect_uris": ["https://x.example/cb"]}),
        json!({"token_type": "opaque"}),
    ];
    let mut tasks = Vec::new();
    for p in patches {
        let (c, url) = (app.admin.clone(), app.url.clone());
        tasks.push(tokio::spawn(async move {
            api_call(&c, &url, Method::PATCH, "/api/v1/apps/busy", Some(p))
                .await
                .0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task"), 200);
    }
    let (_, a) = app.api(Method::GET, "/api/v1/apps/busy", None).await;
    assert_eq!(a["description"], "d");
    assert_eq!(a["category"], "C");
    assert_eq!(a["token_lifetime_secs"], 120);
    assert_eq!(a["user_must_confirm"], true);
    assert_eq!(a["redirect_uris"], json!(["https://x.example/cb"]));
    assert_eq!(a["token_type"], "opaque");
}

#[tokio::test]
async fn deleting_a_role_removes_it_from_user_access() {
    let app = spawn_app().await;
    let rid = app.create_role("Partners", &[]).await;
    let (s, _) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "p", "name": "P", "user_access_roles": ["partners"]})),
        )
        .await;
    assert_eq!(s, 201);
    app.api(Method::DELETE, &format!("/api/v1/roles/{rid}"), None)
        .await;
    let (_, a) = app.api(Method::GET, "/api/v1/apps/p", None).await;
    assert_eq!(a["user_access_roles"], json!([]));
}

#[tokio::test]
async fn apps_need_the_apps_right() {
    let app = spawn_app().await;
    let uid = app.create_user("usersonly", "usersonly-pass", false).await;
    let role = app.create_role("UserAdmins", &["users"]).await;
    app.add_member(&role, &uid).await;
    let c = client();
    sign_in(&c, &app.url, "usersonly", "usersonly-pass", "/admin").await;
    let (status, _) = api_call(&c, &app.url, Method::GET, "/api/v1/apps", None).await;
    assert_eq!(status, 403);
    let (status, _) = api_call(
        &c,
        &app.url,
        Method::POST,
        "/api/v1/apps",
        Some(json!({"app_id": "z", "name": "z"})),
    )
    .await;
    assert_eq!(status, 403);
    // Refused means not made: the administrator finds no such app.
    let (status, _) = app.api(Method::GET, "/api/v1/apps/z", None).await;
    assert_eq!(status, 404, "the refused app was not created");
}

#[tokio::test]
async fn the_openapi_document_describes_the_admin_api_without_authentication() {
    let app = spawn_app().await;
    let res = client()
        .get(format!("{}/api/v1/openapi.json", app.url))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    assert!(doc["openapi"]
        .as_str()
        .unwrap_or_default()
        .starts_with("3."));
    for p in [
        "/api/v1/apps",
        "/api/v1/apps/{app}",
        "/api/v1/apps/{app}/changelog",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/roles",
        "/api/v1/roles/{id}/members/{user_id}",
    ] {
        assert!(doc["paths"].get(p).is_some(), "missing {p}");
    }
    assert!(doc["components"]["schemas"].get("App").is_some());
    assert!(doc["components"]["schemas"].get("ErrorBody").is_some());
}

#[tokio::test]
async fn issuers_are_unique_and_discovery_by_issuer_path_follows_changes() {
    let app = spawn_app().await;
    let tenant = format!("{}/tenants/acme", app.url);
    let app = &app;
    let create = |id: &'static str, issuer: String| {
        let body = json!({"app_id": id, "name": id, "issuer": issuer});
        async move { app.api(Method::POST, "/api/v1/apps", Some(body)).await }
    };
    let (s, b) = create("first", tenant.clone()).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = create("second", tenant.clone()).await;
    assert_eq!((s, b["field"].as_str()), (422, Some("issuer")), "{b}");
    // Another app's default issuer is taken too.
    let (s, b) = create("third", format!("{}/oauth2/first", app.url)).await;
    assert_eq!(
        (s, b["field"].as_str()),
        (201, None),
        "first overrides its default: {b}"
    );
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "plain", "name": "plain"})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = create("fourth", format!("{}/oauth2/plain", app.url)).await;
    assert_eq!((s, b["field"].as_str()), (422, Some("issuer")), "{b}");
    let (_, list) = app.api(Method::GET, "/api/v1/apps", None).await;
    assert_eq!(list["total"], 3, "neither refused app exists: {list}");

    let discovery = |path: String| {
        let url = app.url.clone();
        async move {
            let res = client()
                .get(format!("{url}{path}/.well-known/openid-configuration"))
                .send()
                .await
                .expect("discovery");
            (
                res.status().as_u16(),
                res.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (s, d) = discovery("/tenants/acme".into()).await;
    assert_eq!((s, d["issuer"].as_str()), (200, Some(tenant.as_str())));
    let moved = format!("{}/tenants/other", app.url);
    let (s, _) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/first",
            Some(json!({"issuer": moved})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        discovery("/tenants/acme".into()).await.0,
        404,
        "the old path is gone at once"
    );
    let (s, d) = discovery("/tenants/other".into()).await;
    assert_eq!((s, d["issuer"].as_str()), (200, Some(moved.as_str())));
}
