//! Users and roles through the admin REST API (SPEC §5), with every error case.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn create_read_list_update_delete_a_user() {
    let app = spawn_app().await;
    let (status, user) = app
        .api(
            Method::POST,
            "/api/v1/users",
            Some(json!({"login_name": "Client1@Example.com", "email": "c1@example.com", "password": "client-secret-1", "is_oauth_confidential_client": true})),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["login_name"], "Client1@Example.com");
    assert_eq!(user["is_oauth_confidential_client"], true);
    assert_eq!(user["enabled"], true);
    assert!(
        user.get("password").is_none() && user.get("password_hash").is_none(),
        "{user}"
    );
    let id = user["id"].as_str().expect("id").to_string();

    let (status, list) = app
        .api(
            Method::GET,
            "/api/v1/users?login_name=client1@example.com",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], id.as_str());

    let (status, all) = app
        .api(Method::GET, "/api/v1/users?limit=1&offset=0", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(all["total"], 2);
    assert_eq!(all["items"].as_array().map(|a| a.len()), Some(1));

    let (status, patched) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(json!({"display_name": "Client One", "password": "a-new-secret"})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["display_name"], "Client One");
    assert_eq!(patched["email"], "c1@example.com", "untouched fields stay");
    assert!(app
        .services
        .verify_confidential("client1@example.com", "a-new-secret", true, "t")
        .await
        .is_ok());
    assert!(
        app.services
            .authenticate_person("client1@example.com", "a-new-secret", "t")
            .await
            .is_err(),
        "a machine never signs in as a person"
    );

    let (status, _) = app
        .api(Method::DELETE, &format!("/api/v1/users/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, body) = app
        .api(Method::GET, &format!("/api/v1/users/{id}"), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn a_duplicate_login_name_is_409_whatever_its_case() {
    let app = spawn_app().await;
    app.create_user("alice", "password-1", false).await;
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/users",
            Some(json!({"login_name": "ALICE", "email": "a@x.io", "password": "password-2"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["field"], "login_name");
    let (_, list) = app
        .api(Method::GET, "/api/v1/users?login_name=alice", None)
        .await;
    assert_eq!(list["total"], 1, "still one alice: {list}");
    assert_eq!(
        list["items"][0]["login_name"], "alice",
        "the first one is untouched"
    );
}

#[tokio::test]
async fn invalid_user_fields_are_422_with_the_field() {
    let app = spawn_app().await;
    for (body, field) in [
        (
            json!({"login_name": "", "email": "a@x.io", "password": "password-1"}),
            "login_name",
        ),
        (
            json!({"login_name": "has space", "email": "a@x.io", "password": "password-1"}),
            "login_name",
        ),
        (
            json!({"login_name": "bob", "email": "not-an-email", "password": "password-1"}),
            "email",
        ),
        (
            json!({"login_name": "bob", "email": "b@x.io", "password": "short"}),
            "password",
        ),
    ] {
        let (status, res) = app.api(Method::POST, "/api/v1/users", Some(body)).await;
        assert_eq!(status, 422, "{res}");
        assert_eq!(res["field"], field, "{res}");
        assert_eq!(res["error"], "validation_failed");
    }
    // Nothing was created: only the bootstrap administrator exists.
    let (_, list) = app.api(Method::GET, "/api/v1/users", None).await;
    assert_eq!(list["total"], 1, "{list}");
}

#[tokio::test]
async fn malformed_json_is_a_clear_4xx() {
    let app = spawn_app().await;
    let res = app
        .admin
        .post(format!("{}/api/v1/users", app.url))
        .header("Origin", &app.url)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.expect("json error");
    assert_eq!(body["error"], "invalid_request");
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/users",
            Some(json!({"login_name": 5})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/users",
            Some(json!({"login_name": "x", "password": "password-1", "bogus": 1})),
        )
        .await;
    assert_eq!(status, 422);
    let (status, body) = app.api(Method::GET, "/api/v1/users?limit=abc", None).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn concurrent_creation_of_one_login_name_has_exactly_one_winner() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let c = app.admin.clone();
        let url = app.url.clone();
        tasks.push(tokio::spawn(async move {
            api_call(
                &c,
                &url,
                Method::POST,
                "/api/v1/users",
                Some(json!({"login_name": "racer", "email": format!("r{i}@x.io"), "password": "password-123"})),
            )
            .await
            .0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    // And the table holds exactly one row for the name, whatever the answers said.
    let (_, found) = app
        .api(Method::GET, "/api/v1/users?login_name=racer", None)
        .await;
    assert_eq!(found["total"], 1, "{found}");
}

#[tokio::test]
async fn the_api_needs_a_session_and_our_origin() {
    let app = spawn_app().await;
    let anon = client()
        .get(format!("{}/api/v1/users", app.url))
        .send()
        .await
        .expect("get");
    assert_eq!(anon.status(), 401);
    let no_origin = app
        .admin
        .post(format!("{}/api/v1/roles", app.url))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .expect("post");
    assert_eq!(
        no_origin.status(),
        403,
        "unsafe cookie request without Origin"
    );
    let foreign = app
        .admin
        .post(format!("{}/api/v1/roles", app.url))
        .header("Origin", "https://evil.example")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .expect("post");
    assert_eq!(foreign.status(), 403);
    // Neither refused request created anything.
    let (_, roles) = app.api(Method::GET, "/api/v1/roles", None).await;
    assert!(
        roles["items"]
            .as_array()
            .expect("roles")
            .iter()
            .all(|r| r["name"] != "x"),
        "{roles}"
    );
    let garbage_token = client()
        .get(format!("{}/api/v1/users", app.url))
        .bearer_auth("garbage")
        .send()
        .await
        .expect("get");
    assert_eq!(garbage_token.status(), 401);
    assert!(garbage_token.headers().get("www-authenticate").is_some());
}

#[tokio::test]
async fn admin_rights_are_enforced_per_area() {
    let app = spawn_app().await;
    let uid = app.create_user("helpdesk", "helpdesk-pass", false).await;
    let role = app.create_role("Helpdesk", &["roles"]).await;
    app.add_member(&role, &uid).await;
    let c = client();
    let res = sign_in(&c, &app.url, "helpdesk", "helpdesk-pass", "/admin").await;
    assert_eq!(res.status(), 302);
    let (status, body) = api_call(&c, &app.url, Method::GET, "/api/v1/users", None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden");
    let (status, _) = api_call(&c, &app.url, Method::GET, "/api/v1/roles", None).await;
    assert_eq!(status, 200);
    let page = c
        .get(format!("{}/admin/users", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 403, "the Users page needs the users right");
    let page = c
        .get(format!("{}/admin/roles", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);

    // A person without any admin right cannot open the portal at all.
    app.create_user("plain", "plain-password", false).await;
    let c2 = client();
    sign_in(&c2, &app.url, "plain", "plain-password", "/admin").await;
    assert_eq!(
        c2.get(format!("{}/admin", app.url))
            .send()
            .await
            .expect("page")
            .status(),
        403
    );
}

#[tokio::test]
async fn roles_crud_and_members() {
    let app = spawn_app().await;
    let (status, role) = app
        .api(Method::POST, "/api/v1/roles", Some(json!({"name": "API Clients", "description": "machines", "admin_rights": ["users"]})))
        .await;
    assert_eq!(status, 201, "{role}");
    assert_eq!(role["admin_rights"], json!(["users"]));
    let rid = role["id"].as_str().expect("id").to_string();
    let uid = app.create_user("svc", "svc-password", true).await;
    app.add_member(&rid, &uid).await;
    app.add_member(&rid, &uid).await; // idempotent
    let (_, got) = app
        .api(Method::GET, &format!("/api/v1/roles/{rid}"), None)
        .await;
    assert_eq!(got["members"], json!([uid]));
    let (status, dup) = app
        .api(
            Method::POST,
            "/api/v1/roles",
            Some(json!({"name": "api clients"})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(dup["field"], "name");
    let (status, bad) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/roles/{rid}"),
            Some(json!({"admin_rights": ["root"]})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(bad["field"], "admin_rights[0]");
    let (status, renamed) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/roles/{rid}"),
            Some(json!({"name": "Machines"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(renamed["name"], "Machines");
    assert_eq!(renamed["description"], "machines");
    let (status, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/roles/{rid}/members/{uid}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/roles/{rid}/members/{uid}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .api(
            Method::PUT,
            &format!("/api/v1/roles/{rid}/members/nobody"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .api(Method::DELETE, &format!("/api/v1/roles/{rid}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .api(Method::GET, &format!("/api/v1/roles/{rid}"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn built_in_roles_are_protected() {
    let app = spawn_app().await;
    let (_, roles) = app.api(Method::GET, "/api/v1/roles", None).await;
    let items = roles["items"].as_array().cloned().unwrap_or_default();
    let find = |name: &str| {
        items
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .expect(name)
    };
    let sys = find("System Administrator");
    let everybody = find("Everybody");
    assert_eq!(sys["admin_rights"], json!(["apps", "users", "roles"]));
    let sys_id = sys["id"].as_str().expect("id");
    let (status, _) = app
        .api(Method::DELETE, &format!("/api/v1/roles/{sys_id}"), None)
        .await;
    assert_eq!(status, 409);
    let admin_id = sys["members"][0]
        .as_str()
        .expect("admin member")
        .to_string();
    let (status, body) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/roles/{sys_id}/members/{admin_id}"),
            None,
        )
        .await;
    assert_eq!(status, 409, "the last member stays: {body}");
    let (status, _) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{admin_id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, 409, "the last administrator cannot be disabled");
    let uid = app.create_user("someone", "someone-pass", false).await;
    let (status, _) = app
        .api(
            Method::PUT,
            &format!(
                "/api/v1/roles/{}/members/{uid}",
                everybody["id"].as_str().expect("id")
            ),
            None,
        )
        .await;
    assert_eq!(status, 409, "Everybody is implicit");
    let (status, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/roles/{}", everybody["id"].as_str().expect("id")),
            None,
        )
        .await;
    assert_eq!(status, 409);
    // A built-in role keeps its name: a rename is a conflict with what the role is (409), and
    // its description can still change.
    let path = format!("/api/v1/roles/{}", everybody["id"].as_str().expect("id"));
    let (status, body) = app
        .api(Method::PATCH, &path, Some(json!({"name": "All"})))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let (status, body) = app
        .api(
            Method::PATCH,
            &path,
            Some(json!({"description": "all of us"})),
        )
        .await;
    assert_eq!(
        (status, body["name"].as_str()),
        (200, Some("Everybody")),
        "{body}"
    );
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in() {
    let app = spawn_app().await;
    let uid = app.create_user("carol", "carol-password", false).await;
    let (status, _) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{uid}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, 200);
    let res = sign_in(&client(), &app.url, "carol", "carol-password", "/admin").await;
    assert!(
        location(&res).starts_with("/login?error="),
        "{}",
        location(&res)
    );
}
