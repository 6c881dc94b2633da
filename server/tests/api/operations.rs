//! Operations through the admin REST API (SPEC §7a): the audit log with its filters, and the
//! configuration document exported and imported (dry run, idempotence, prune).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// (field, old, new) of one audit change.
type Change = (String, Option<String>, Option<String>);

fn ch(field: &str, old: Option<&str>, new: Option<&str>) -> Change {
    (
        field.to_string(),
        old.map(str::to_string),
        new.map(str::to_string),
    )
}

/// `GET /api/v1/audit?{query}` as the administrator; must answer 200.
async fn audit(app: &TestApp, query: &str) -> Value {
    let (status, body) = app
        .api(Method::GET, &format!("/api/v1/audit?{query}"), None)
        .await;
    assert_eq!(status, 200, "audit?{query}: {body}");
    body
}

fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().cloned().unwrap_or_default()
}

fn actions(page: &Value) -> Vec<String> {
    items(page)
        .iter()
        .map(|r| r["action"].as_str().unwrap_or("?").to_string())
        .collect()
}

fn changes(record: &Value) -> Vec<Change> {
    record["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["field"].as_str().unwrap_or("?").to_string(),
                c["old"].as_str().map(str::to_string),
                c["new"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn unix(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339:?} is not RFC 3339: {e}"))
        .unix_timestamp()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn export(app: &TestApp, query: &str) -> Value {
    let (status, doc) = app
        .api(Method::GET, &format!("/api/v1/export{query}"), None)
        .await;
    assert_eq!(status, 200, "{doc}");
    doc
}

async fn import(app: &TestApp, query: &str, doc: &Value) -> Value {
    let (status, plan) = app
        .api(
            Method::POST,
            &format!("/api/v1/import{query}"),
            Some(doc.clone()),
        )
        .await;
    assert_eq!(status, 200, "import{query}: {plan}");
    plan
}

fn steps(plan: &Value) -> Vec<(String, String, String)> {
    plan["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| {
            (
                s["action"].as_str().unwrap_or("?").to_string(),
                s["kind"].as_str().unwrap_or("?").to_string(),
                s["key"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect()
}

fn step(action: &str, kind: &str, key: &str) -> (String, String, String) {
    (action.into(), kind.into(), key.into())
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|x| x[key].as_str().unwrap_or("?").to_string())
        .collect()
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .and_then(|a| a.iter().find(|x| x[key] == value))
        .unwrap_or_else(|| panic!("no {key} = {value} in {list}"))
}

#[tokio::test]
async fn app_create_update_delete_are_audited_with_changes_actor_and_address() {
    let app = spawn_app().await;
    let before = now();
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "billing", "name": "Billing"})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/billing",
            Some(json!({"name": "Billing 2", "token_lifetime_secs": 600})),
        )
        .await;
    assert_eq!(s, 200, "{b}");

    // The app changelog is a view of the same records.
    let (s, log) = app
        .api(Method::GET, "/api/v1/apps/billing/changelog", None)
        .await;
    assert_eq!(s, 200, "{log}");
    assert_eq!(log["total"], 3, "{log}");
    let rows = items(&log);
    assert_eq!(rows[2]["field"], "app");
    assert_eq!(rows[2]["new"], "created");
    assert!(rows
        .iter()
        .any(|r| r["field"] == "name" && r["old"] == "Billing" && r["new"] == "Billing 2"));

    let (s, _) = app.api(Method::DELETE, "/api/v1/apps/billing", None).await;
    assert_eq!(s, 204);

    let page = audit(&app, "object=app:billing").await;
    assert_eq!(page["total"], 3, "{page}");
    assert_eq!(
        actions(&page),
        ["app.delete", "app.update", "app.create"],
        "newest first: {page}"
    );
    let recs = items(&page);
    let mut ids: Vec<&str> = recs.iter().filter_map(|r| r["id"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "every record has its own id");
    for r in &recs {
        assert_eq!(r["actor"], "admin", "{r}");
        assert_eq!(r["actor_kind"], "user", "{r}");
        assert_eq!(r["client_id"], Value::Null, "{r}");
        assert_eq!(r["address"], "127.0.0.1", "{r}");
        assert_eq!(r["object_type"], "app", "{r}");
        assert_eq!(r["object_id"], "billing", "{r}");
        assert_eq!(r["object_name"], "billing", "{r}");
        let at = unix(r["at"].as_str().expect("at"));
        assert!(
            at >= before - 1 && at <= now() + 1,
            "at {at} is the time of the change ({before}..now)"
        );
    }
    assert_eq!(
        changes(&recs[1]),
        vec![
            ch("name", Some("Billing"), Some("Billing 2")),
            ch("token_lifetime_secs", Some("18000"), Some("600")),
        ],
        "exactly the two fields that changed, with old and new values"
    );
    let created = changes(&recs[2]);
    for expected in [
        ch("app_id", None, Some("billing")),
        ch("name", None, Some("Billing")),
        ch("token_lifetime_secs", None, Some("18000")),
        ch("token_type", None, Some("jwt_rs256")),
        ch("category", None, Some("Other")),
    ] {
        assert!(created.contains(&expected), "{expected:?} in {created:?}");
    }
    for skipped in ["created_at", "updated_at", "issuer_is_default"] {
        assert!(
            created.iter().all(|c| c.0 != skipped),
            "{skipped} is not a change: {created:?}"
        );
    }
    assert!(
        created.iter().all(|c| c.1.is_none()),
        "a creation has no old values"
    );
    assert_eq!(changes(&recs[0]), vec![], "a deletion lists no fields");
}

#[tokio::test]
async fn a_bearer_token_change_is_recorded_as_its_client() {
    let app = spawn_app().await;
    client_app(&app, "svc", "opaque").await;
    let token = cc_token(&app.url, "svc", Some("users")).await;
    let res = client()
        .post(format!("{}/api/v1/users", app.url))
        .bearer_auth(&token)
        .json(&json!({"login_name": "made-by-client", "email": "m@example.com", "password": "made-by-client-pw"}))
        .send()
        .await
        .expect("create with a token");
    assert_eq!(res.status(), 201);
    let made: Value = res.json().await.expect("json");

    let page = audit(&app, "action=user.create&object=made-by-client").await;
    assert_eq!(page["total"], 1, "{page}");
    let r = &items(&page)[0];
    assert_eq!(r["actor"], CLIENT);
    assert_eq!(r["actor_kind"], "client");
    assert_eq!(r["client_id"], CLIENT);
    assert_eq!(r["address"], "127.0.0.1");
    assert_eq!(r["object_id"], made["id"]);
    assert_eq!(r["object_name"], "made-by-client");

    // The same client's records are found by its login name as the actor.
    let by_actor = audit(&app, &format!("actor={}", CLIENT.to_uppercase())).await;
    assert_eq!(by_actor["total"], 1, "{by_actor}");
    assert_eq!(items(&by_actor)[0]["id"], r["id"]);
}

#[tokio::test]
async fn user_role_and_member_changes_are_audited_without_any_password() {
    let app = spawn_app().await;
    let uid = app
        .create_user("carol", "carol-first-password-1", false)
        .await;
    let (s, b) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{uid}"),
            Some(json!({"password": "carol-second-password-2"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{uid}"),
            Some(json!({"display_name": "Carol C"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");

    let (s, role) = app
        .api(
            Method::POST,
            "/api/v1/roles",
            Some(json!({"name": "Auditors", "description": "read the log", "admin_rights": ["apps"]})),
        )
        .await;
    assert_eq!(s, 201, "{role}");
    let rid = role["id"].as_str().expect("id").to_string();
    app.add_member(&rid, &uid).await;
    app.add_member(&rid, &uid).await; // already a member: no change, no record
    let (s, b) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/roles/{rid}"),
            Some(json!({"name": "Readers"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/roles/{rid}/members/{uid}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .api(Method::DELETE, &format!("/api/v1/roles/{rid}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .api(Method::DELETE, &format!("/api/v1/users/{uid}"), None)
        .await;
    assert_eq!(s, 204);

    // The user's records.
    let page = audit(&app, &format!("object={uid}")).await;
    assert_eq!(
        actions(&page),
        ["user.delete", "user.update", "user.update", "user.create"],
        "{page}"
    );
    let recs = items(&page);
    for r in &recs {
        assert_eq!(r["object_type"], "user");
        assert_eq!(r["object_id"], uid.as_str());
        assert_eq!(r["actor"], "admin");
    }
    assert_eq!(recs[0]["object_name"], "carol");
    assert_eq!(changes(&recs[0]), vec![]);
    assert_eq!(
        changes(&recs[1]),
        vec![ch("display_name", Some("carol"), Some("Carol C"))]
    );
    assert_eq!(
        changes(&recs[2]),
        vec![ch("password", None, Some("(changed)"))],
        "a password change shows that it changed, never a value"
    );
    assert_eq!(
        changes(&recs[3]),
        vec![
            ch("display_name", None, Some("carol")),
            ch("email", None, Some("carol@example.com")),
            ch("enabled", None, Some("true")),
            ch("is_oauth_confidential_client", None, Some("false")),
            ch("login_name", None, Some("carol")),
            ch("password", None, Some("(set)")),
        ]
    );
    // By type and login name as well.
    assert_eq!(audit(&app, "object=user:carol").await["total"], 4);

    // The role's records.
    let page = audit(&app, &format!("object=role:{rid}")).await;
    assert_eq!(
        actions(&page),
        [
            "role.delete",
            "role.member_remove",
            "role.update",
            "role.member_add",
            "role.create"
        ],
        "one member_add although the member was added twice: {page}"
    );
    let recs = items(&page);
    assert_eq!(recs[0]["object_name"], "Readers");
    assert_eq!(recs[1]["object_name"], "Readers");
    assert_eq!(changes(&recs[1]), vec![ch("member", Some("carol"), None)]);
    assert_eq!(
        changes(&recs[2]),
        vec![ch("name", Some("Auditors"), Some("Readers"))]
    );
    assert_eq!(recs[3]["object_name"], "Auditors");
    assert_eq!(changes(&recs[3]), vec![ch("member", None, Some("carol"))]);
    assert_eq!(
        changes(&recs[4]),
        vec![
            ch("admin_rights", None, Some(r#"["apps"]"#)),
            ch("description", None, Some("read the log")),
            ch("name", None, Some("Auditors")),
        ]
    );
    // A role name finds the records made while it had that name.
    assert_eq!(audit(&app, "object=Auditors").await["total"], 2);
    assert_eq!(audit(&app, "object=role:Readers").await["total"], 3);

    // Nowhere in the whole log is a password or a hash of one.
    let all = audit(&app, "limit=500").await;
    let text = all.to_string();
    for secret in [
        "carol-first-password-1",
        "carol-second-password-2",
        ADMIN_PASSWORD,
        "$argon2",
    ] {
        assert!(!text.contains(secret), "{secret} appears in the log");
    }
}

#[tokio::test]
async fn sign_in_success_failure_and_sign_out_are_audited() {
    let app = spawn_app().await;
    let uid = app.create_user("dana", "dana-password-1", false).await;
    let c = client();
    let res = sign_in(&c, &app.url, "dana", "wrong-password-x", "/").await;
    assert!(
        location(&res).starts_with("/login?error="),
        "{}",
        location(&res)
    );
    let res = sign_in(&c, &app.url, "Nobody-Here", "whatever-pass-1", "/").await;
    assert!(location(&res).starts_with("/login?error="));
    let res = sign_in(&c, &app.url, "dana", "dana-password-1", "/").await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/");
    let res = c
        .post(format!("{}/sfn/logout", app.url))
        .header("Accept", "text/html")
        .header("Origin", &app.url)
        .send()
        .await
        .expect("logout");
    assert_eq!(location(&res), "/login");

    let page = audit(&app, "object=session").await;
    assert_eq!(
        actions(&page),
        [
            "session.sign_out",
            "session.sign_in",
            "session.sign_in_failed",
            "session.sign_in_failed",
            "session.sign_in"
        ],
        "the last one is the administrator signing in at start: {page}"
    );
    assert_eq!(page["total"], 5);
    let recs = items(&page);
    let who: Vec<(&str, &str, &str)> = recs
        .iter()
        .map(|r| {
            (
                r["actor"].as_str().unwrap_or("?"),
                r["object_id"].as_str().unwrap_or("?"),
                r["object_name"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    let admin_id = recs[4]["object_id"].as_str().unwrap_or("?").to_string();
    assert_eq!(
        who,
        vec![
            ("dana", uid.as_str(), "dana"),
            ("dana", uid.as_str(), "dana"),
            ("Nobody-Here", "Nobody-Here", "Nobody-Here"),
            ("dana", "dana", "dana"),
            ("admin", admin_id.as_str(), "admin"),
        ],
        "a failed sign-in names the login name tried; the others the user"
    );
    assert_ne!(
        admin_id, "admin",
        "a successful sign-in records the user id"
    );
    for r in &recs {
        assert_eq!(r["actor_kind"], "user", "{r}");
        assert_eq!(r["object_type"], "session", "{r}");
        assert_eq!(r["address"], "127.0.0.1", "{r}");
        assert_eq!(r["client_id"], Value::Null, "{r}");
        assert_eq!(r["changes"], json!([]), "{r}");
    }
    // Filters on the session records.
    assert_eq!(audit(&app, "actor=DANA").await["total"], 3);
    assert_eq!(
        audit(&app, "action=session.sign_in_failed").await["total"],
        2
    );
    assert_eq!(audit(&app, "action=session").await["total"], 5);
    let text = audit(&app, "limit=500").await.to_string();
    assert!(!text.contains("wrong-password-x"));
    assert!(!text.contains("dana-password-1"));
}

#[tokio::test]
async fn filters_narrow_the_log_and_paging_keeps_the_total() {
    let app = spawn_app().await;
    for id in ["alpha", "beta"] {
        let (s, b) = app
            .api(
                Method::POST,
                "/api/v1/apps",
                Some(json!({"app_id": id, "name": format!("App {id}")})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, _) = app
        .api(
            Method::PATCH,
            "/api/v1/apps/alpha",
            Some(json!({"description": "first"})),
        )
        .await;
    assert_eq!(s, 200);
    let erin = app.create_user("erin", "erin-password-1", false).await;
    app.create_role("Ops", &["apps"]).await;

    let all = audit(&app, "limit=500").await;
    let total = all["total"].as_i64().expect("total");
    let all_items = items(&all);
    assert_eq!(all_items.len() as i64, total);
    // The start: both built-in roles, the first administrator and its membership (by the
    // system), then the administrator signing in; then this test's five changes.
    assert_eq!(total, 10, "{all}");
    assert_eq!(
        actions(&all),
        [
            "role.create",
            "user.create",
            "app.update",
            "app.create",
            "app.create",
            "session.sign_in",
            "role.member_add",
            "user.create",
            "role.create",
            "role.create"
        ],
        "newest first: {all}"
    );
    assert_eq!(all_items[0]["object_name"], "Ops");
    let system = audit(&app, "actor=system").await;
    assert_eq!(system["total"], 4, "{system}");
    for r in items(&system) {
        assert_eq!(r["actor_kind"], "system");
        assert_eq!(r["address"], Value::Null, "the system acts from no address");
    }
    assert_eq!(audit(&app, "actor=Admin").await["total"], 6);
    assert_eq!(audit(&app, "actor=nobody").await["total"], 0);
    assert_eq!(
        audit(&app, "actor=system&action=role.create").await["total"],
        2
    );

    // Actions: exact, or a whole group.
    assert_eq!(audit(&app, "action=app").await["total"], 3);
    assert_eq!(audit(&app, "action=app.create").await["total"], 2);
    assert_eq!(audit(&app, "action=app.update").await["total"], 1);
    assert_eq!(
        audit(&app, "action=ap").await["total"],
        0,
        "a group is a whole word"
    );
    assert_eq!(audit(&app, "action=user").await["total"], 2);

    // Objects: a type, an id, a name, or type:id.
    assert_eq!(audit(&app, "object=app").await["total"], 3);
    assert_eq!(audit(&app, "object=app:alpha").await["total"], 2);
    assert_eq!(audit(&app, "object=beta").await["total"], 1);
    assert_eq!(audit(&app, "object=user:erin").await["total"], 1);
    assert_eq!(audit(&app, &format!("object={erin}")).await["total"], 1);
    assert_eq!(audit(&app, "object=role:alpha").await["total"], 0);
    let combined = audit(&app, "actor=admin&action=app.update&object=app:alpha").await;
    assert_eq!(combined["total"], 1);
    assert_eq!(
        changes(&items(&combined)[0]),
        vec![ch("description", Some(""), Some("first"))]
    );

    // Paging: the total stays the total, the pages follow one another.
    let p1 = audit(&app, "limit=3").await;
    let p2 = audit(&app, "limit=3&offset=3").await;
    let last = audit(&app, "limit=3&offset=9").await;
    assert_eq!(p1["total"], total);
    assert_eq!(p2["total"], total);
    assert_eq!(last["total"], total);
    assert_eq!(items(&p1).len(), 3);
    assert_eq!(items(&last).len(), 1);
    let paged: Vec<Value> = items(&p1)
        .into_iter()
        .chain(items(&p2))
        .map(|r| r["id"].clone())
        .collect();
    let whole: Vec<Value> = all_items[..6].iter().map(|r| r["id"].clone()).collect();
    assert_eq!(paged, whole);
    assert_eq!(items(&last)[0]["id"], all_items[9]["id"]);
    let beyond = audit(&app, "offset=100").await;
    assert_eq!(beyond["total"], total);
    assert_eq!(items(&beyond).len(), 0);
    let filtered_page = audit(&app, "action=app&limit=1&offset=1").await;
    assert_eq!(filtered_page["total"], 3);
    assert_eq!(items(&filtered_page)[0]["id"], all_items[3]["id"]);

    // Time: RFC 3339, Unix seconds, a date, a date and minute; since inclusive, until not.
    let soon = now() + 3600;
    for (q, n) in [
        ("since=2000-01-01".to_string(), total),
        ("since=2000-01-01T00:00".to_string(), total),
        ("since=2000-01-01T00:00:00%2B02:00".to_string(), total),
        ("until=2000-01-01".to_string(), 0),
        (format!("since={soon}"), 0),
        (format!("until={soon}"), total),
        ("since=2999-01-01T00:00:00Z".to_string(), 0),
        ("until=2999-01-01T00:00:00Z&action=app".to_string(), 3),
    ] {
        assert_eq!(audit(&app, &q).await["total"], n, "{q}");
    }
    let newest_at = all_items[0]["at"].as_str().expect("at").to_string();
    let newest = unix(&newest_at);
    let from = audit(&app, &format!("since={newest}")).await;
    assert!(items(&from).iter().any(|r| r["id"] == all_items[0]["id"]));
    assert!(items(&from)
        .iter()
        .all(|r| unix(r["at"].as_str().unwrap_or("")) >= newest));
    let before = audit(&app, &format!("until={}", newest_at.replace('+', "%2B"))).await;
    assert!(items(&before).iter().all(|r| r["id"] != all_items[0]["id"]));
    assert!(items(&before)
        .iter()
        .all(|r| unix(r["at"].as_str().unwrap_or("")) < newest));
    assert_eq!(
        from["total"].as_i64().unwrap_or(-1) + before["total"].as_i64().unwrap_or(-1),
        total,
        "since t and until t split the log"
    );

    for (q, field) in [("since=yesterday", "since"), ("until=2026-13-45", "until")] {
        let (status, body) = app
            .api(Method::GET, &format!("/api/v1/audit?{q}"), None)
            .await;
        assert_eq!(status, 422, "{q}: {body}");
        assert_eq!(body["field"], field, "{q}: {body}");
    }
}

#[tokio::test]
async fn key_rotation_is_audited_with_the_new_key_ids() {
    let app = spawn_app().await;
    let (status, body) = app.api(Method::POST, "/api/v1/keys/rotate", None).await;
    assert_eq!(status, 200, "{body}");
    let kid = body["kid"].as_str().expect("kid");
    let page = audit(&app, "object=keys").await;
    assert_eq!(page["total"], 1, "{page}");
    let r = &items(&page)[0];
    assert_eq!(r["action"], "keys.rotate");
    assert_eq!(r["actor"], "admin");
    let c = changes(r);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].0, "active_kids");
    let new = c[0].2.clone().unwrap_or_default();
    assert_eq!(new.split(' ').count(), 3, "one key per algorithm: {new}");
    assert!(new.split(' ').any(|k| k == kid), "{kid} in {new}");
}

#[tokio::test]
async fn only_a_system_administrator_reads_the_log_and_exports_or_imports() {
    let app = spawn_app().await;
    let uid = app.create_user("ops", "ops-password-1", false).await;
    let role = app
        .create_role("Operators", &["apps", "users", "roles"])
        .await;
    app.add_member(&role, &uid).await;
    let before = audit(&app, "").await["total"].clone();
    let c = client();
    let res = sign_in(&c, &app.url, "ops", "ops-password-1", "/admin").await;
    assert_eq!(location(&res), "/admin");

    let (status, body) = api_call(&c, &app.url, Method::GET, "/api/v1/audit", None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden");
    assert!(body.get("items").is_none());
    let (status, body) = api_call(&c, &app.url, Method::GET, "/api/v1/export", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.get("users").is_none(), "{body}");
    let doc = json!({"gatehouse_config": 1, "users": [{"login_name": "mallory", "email": "m@example.com"}]});
    let (status, body) = api_call(
        &c,
        &app.url,
        Method::POST,
        "/api/v1/import",
        Some(doc.clone()),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (_, list) = app
        .api(Method::GET, "/api/v1/users?login_name=mallory", None)
        .await;
    assert_eq!(list["total"], 0, "a refused import creates nothing");
    // The sign-in of ops is the only new record: the refusals changed nothing.
    let after = audit(&app, "").await;
    assert_eq!(
        after["total"].as_i64(),
        before.as_i64().map(|n| n + 1),
        "{after}"
    );
    assert_eq!(items(&after)[0]["action"], "session.sign_in");
    assert_eq!(items(&after)[0]["actor"], "ops");

    // Without a session at all.
    let (status, _) = api_call(&client(), &app.url, Method::GET, "/api/v1/audit", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn export_lists_apps_roles_and_users_sorted_with_hashes_only_when_asked() {
    let app = spawn_app().await;
    let zed = app.create_user("zed", "zed-password-1", true).await;
    let bob = app.create_user("bob", "bob-password-1", false).await;
    let (s, b) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{bob}"),
            Some(json!({"enabled": false, "display_name": "Bob B"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let zeta = app.create_role("Zeta Team", &["users"]).await;
    app.add_member(&zeta, &zed).await;
    app.add_member(&zeta, &bob).await;
    app.create_role("Alpha Team", &[]).await;
    for id in ["zulu", "alpha"] {
        let (s, b) = app
            .api(
                Method::POST,
                "/api/v1/apps",
                Some(crate::apps::full_app(id)),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }

    let res = app
        .admin
        .get(format!("{}/api/v1/export", app.url))
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let doc: Value = res.json().await.expect("json");
    assert_eq!(doc["gatehouse_config"], 1);
    assert_eq!(names(&doc["apps"], "app_id"), ["alpha", "zulu"]);
    assert_eq!(
        names(&doc["roles"], "name"),
        [
            "Alpha Team",
            "Everybody",
            "System Administrator",
            "Zeta Team"
        ]
    );
    assert_eq!(names(&doc["users"], "login_name"), ["admin", "bob", "zed"]);

    assert_eq!(
        doc["apps"][0],
        json!({
            "app_id": "alpha",
            "name": "Directory client",
            "description": "calls the directory",
            "category": "Integrations",
            "client_id_type": "confidential",
            "allowed_clients": [],
            "issuer": "",
            "redirect_uris": ["https://client.example/cb", "http://127.0.0.1/cb"],
            "post_logout_redirect_uris": [],
            "resources": [],
            "client_registration": "off",
            "client_id_metadata_documents": false,
            "token_type": "opaque",
            "auth_methods": ["client_credentials", "authorization_code"],
            "token_lifetime_secs": 3600,
            "issue_refresh_tokens": true,
            "refresh_token_lifetime_secs": 2592000,
            "user_must_confirm": true,
            "require_mfa": false,
            "require_par": false,
            "require_dpop": false,
            "scopes": [
                {"name": "directory", "description": "Create users", "rest_regexes": ["CDirectoryService/.*"]},
                {"name": "all", "description": "Everything", "rest_regexes": [".*"]}
            ],
            "user_access_roles": ["System Administrator"]
        })
    );
    assert_eq!(
        doc["roles"],
        json!([
            {"name": "Alpha Team", "description": "", "admin_rights": [], "members": []},
            {"name": "Everybody", "description": "Every enabled user, implicitly", "admin_rights": [], "members": []},
            find(&doc["roles"], "name", "System Administrator").clone(),
            {"name": "Zeta Team", "description": "", "admin_rights": ["users"], "members": ["bob", "zed"]},
        ])
    );
    let sysadmin = find(&doc["roles"], "name", "System Administrator");
    assert_eq!(sysadmin["members"], json!(["admin"]));
    assert!(
        sysadmin["admin_rights"].as_array().map(|a| a.len()) >= Some(3),
        "{sysadmin}"
    );
    assert_eq!(
        doc["users"],
        json!([
            {"login_name": "admin", "email": find(&doc["users"], "login_name", "admin")["email"].clone(), "display_name": find(&doc["users"], "login_name", "admin")["display_name"].clone(), "is_oauth_confidential_client": false, "enabled": true},
            {"login_name": "bob", "email": "bob@example.com", "display_name": "Bob B", "is_oauth_confidential_client": false, "enabled": false},
            {"login_name": "zed", "email": "zed@example.com", "display_name": "zed", "is_oauth_confidential_client": true, "enabled": true},
        ]),
        "no password_hash without with_secrets"
    );

    let secret = export(&app, "?with_secrets=true").await;
    let mut stripped = secret.clone();
    for u in stripped["users"].as_array_mut().expect("users") {
        let hash = u
            .as_object_mut()
            .and_then(|o| o.remove("password_hash"))
            .unwrap_or(Value::Null);
        assert!(
            hash.as_str().is_some_and(|h| h.starts_with("$argon2")),
            "{hash}"
        );
    }
    assert_eq!(
        stripped, doc,
        "with_secrets adds the hashes and nothing else"
    );
    assert!(!secret.to_string().contains("zed-password-1"));
}

#[tokio::test]
async fn import_plans_applies_idempotently_and_prunes() {
    let app = spawn_app().await;
    for id in ["keep", "drop"] {
        let (s, b) = app
            .api(
                Method::POST,
                "/api/v1/apps",
                Some(json!({"app_id": id, "name": id})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    app.create_role("Drop Role", &[]).await;
    app.create_user("gone", "gone-password-1", false).await;
    app.create_user("stay", "stay-password-1", false).await;
    let base = export(&app, "").await;
    // Importing the export itself changes nothing.
    let same = import(&app, "", &base).await;
    assert_eq!(steps(&same), vec![], "{same}");
    assert_eq!(same["dry_run"], false);
    // 2 apps + 3 roles + 3 users
    assert_eq!(same["unchanged"], 8, "{same}");
    // Exports are audited themselves (config.export): count everything else.
    let changes = |page: Value, exports: Value| {
        page["total"].as_i64().unwrap_or(-1) - exports["total"].as_i64().unwrap_or(0)
    };
    let audit_before = changes(audit(&app, "").await, audit(&app, "action=config").await);

    // The document: without admin (the acting user), the built-in roles, "drop", "Drop Role"
    // and "gone"; with a new user, role and app and two changes.
    let keep = find(&base["apps"], "app_id", "keep").clone();
    let mut kept = keep.clone();
    kept["name"] = json!("Kept");
    let mut fresh = keep.clone();
    fresh["app_id"] = json!("fresh");
    fresh["name"] = json!("Fresh");
    fresh["user_access_roles"] = json!(["Team"]);
    let mut stay = find(&base["users"], "login_name", "stay").clone();
    stay["display_name"] = json!("Stay Here");
    let doc = json!({
        "gatehouse_config": 1,
        "apps": [fresh, kept],
        "roles": [
            {"name": "Team", "description": "the team", "admin_rights": ["apps"], "members": ["newbie", "stay"]}
        ],
        "users": [
            {"login_name": "newbie", "email": "newbie@example.com", "display_name": "New B", "is_oauth_confidential_client": false, "enabled": true},
            stay
        ]
    });
    let upserts = vec![
        step("create", "user", "newbie"),
        step("update", "user", "stay"),
        step("create", "role", "Team"),
        step("create", "app", "fresh"),
        step("update", "app", "keep"),
    ];
    let mut pruned = upserts.clone();
    pruned.extend([
        step("delete", "app", "drop"),
        step("delete", "role", "Drop Role"),
        step("delete", "user", "gone"),
    ]);

    let plan = import(&app, "?dry_run=true", &doc).await;
    assert_eq!(plan["dry_run"], true);
    assert_eq!(steps(&plan), upserts, "{plan}");
    assert_eq!(plan["unchanged"], 0, "{plan}");
    let plan = import(&app, "?dry_run=true&prune=true", &doc).await;
    assert_eq!(
        steps(&plan),
        pruned,
        "never admin, never a built-in role: {plan}"
    );
    assert_eq!(export(&app, "").await, base, "a dry run changes nothing");
    assert_eq!(
        changes(audit(&app, "").await, audit(&app, "action=config").await),
        audit_before,
        "a dry run writes no audit record"
    );

    let plan = import(&app, "?prune=true", &doc).await;
    assert_eq!(plan["dry_run"], false);
    assert_eq!(steps(&plan), pruned, "{plan}");
    assert_eq!(plan["unchanged"], 0);

    let now_doc = export(&app, "").await;
    assert_eq!(names(&now_doc["apps"], "app_id"), ["fresh", "keep"]);
    assert_eq!(find(&now_doc["apps"], "app_id", "keep")["name"], "Kept");
    assert_eq!(
        find(&now_doc["apps"], "app_id", "fresh")["user_access_roles"],
        json!(["Team"])
    );
    assert_eq!(
        names(&now_doc["roles"], "name"),
        ["Everybody", "System Administrator", "Team"]
    );
    assert_eq!(
        find(&now_doc["roles"], "name", "Team"),
        &json!({"name": "Team", "description": "the team", "admin_rights": ["apps"], "members": ["newbie", "stay"]})
    );
    assert_eq!(
        find(&now_doc["roles"], "name", "System Administrator")["members"],
        json!(["admin"])
    );
    assert_eq!(
        names(&now_doc["users"], "login_name"),
        ["admin", "newbie", "stay"]
    );
    assert_eq!(
        find(&now_doc["users"], "login_name", "stay")["display_name"],
        "Stay Here"
    );
    let (s, _) = app.api(Method::GET, "/api/v1/apps/drop", None).await;
    assert_eq!(s, 404);

    // Each change went through the audit log as the administrator's.
    let log = audit(&app, "actor=admin&limit=100").await;
    let recorded: Vec<(String, String)> = items(&log)
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap_or("?").to_string(),
                r["object_name"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    for expected in [
        ("user.create", "newbie"),
        ("user.update", "stay"),
        ("role.create", "Team"),
        ("role.member_add", "Team"),
        ("app.create", "fresh"),
        ("app.update", "keep"),
        ("app.delete", "drop"),
        ("role.delete", "Drop Role"),
        ("user.delete", "gone"),
    ] {
        assert!(
            recorded.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {recorded:?}"
        );
    }
    let audit_after = changes(audit(&app, "").await, audit(&app, "action=config").await);

    // The same document again: nothing to do, nothing recorded (but the export).
    let again = import(&app, "?prune=true", &doc).await;
    assert_eq!(steps(&again), vec![], "{again}");
    assert_eq!(again["unchanged"], 5, "{again}");
    assert_eq!(export(&app, "").await, now_doc);
    assert_eq!(
        changes(audit(&app, "").await, audit(&app, "action=config").await),
        audit_after
    );
}

#[tokio::test]
async fn an_import_that_breaks_a_rule_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    let base = export(&app, "").await;
    let cases = [
        (
            json!({"gatehouse_config": 2, "users": [{"login_name": "x1", "email": "x1@example.com"}]}),
            "gatehouse_config",
        ),
        (
            json!({"gatehouse_config": 1, "users": [
                {"login_name": "twice", "email": "t@example.com"},
                {"login_name": "TWICE", "email": "t2@example.com"}
            ]}),
            "users",
        ),
        (
            json!({"gatehouse_config": 1, "users": [{"login_name": "hashy", "email": "h@example.com", "password_hash": "plain-text"}]}),
            "password_hash",
        ),
    ];
    for (doc, field) in cases {
        let (status, body) = app
            .api(Method::POST, "/api/v1/import", Some(doc.clone()))
            .await;
        assert_eq!(status, 422, "{doc} → {body}");
        // The field names the document part (`users`, `users[0].password_hash`, …).
        let named = body["field"].as_str().unwrap_or("");
        assert!(
            named == field || named.ends_with(&format!(".{field}")),
            "{doc} → {body}"
        );
    }
    // An unknown field is refused before anything is planned.
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/import",
            Some(json!({"gatehouse_config": 1, "groups": []})),
        )
        .await;
    assert!((400..500).contains(&status), "{status} {body}");
    assert_eq!(export(&app, "").await, base);
}

#[tokio::test]
async fn an_import_that_fails_midway_changes_nothing_and_its_dry_run_fails_the_same() {
    let app = spawn_app().await;
    app.create_role("Help desk", &[]).await;
    let base = export(&app, "").await;
    // Valid on its face: a new user, then a role whose name becomes "Help desk" once its spaces
    // are collapsed, which exists already: the database refuses it after the user was created.
    let doc = json!({
        "gatehouse_config": 1,
        "users": [{"login_name": "newcomer", "email": "newcomer@example.com"}],
        "roles": [{"name": "Help  desk", "members": ["newcomer"]}],
    });
    let (dry, dry_body) = app
        .api(
            Method::POST,
            "/api/v1/import?dry_run=true",
            Some(doc.clone()),
        )
        .await;
    let (real, real_body) = app
        .api(Method::POST, "/api/v1/import", Some(doc.clone()))
        .await;
    assert_eq!(real, 409, "{real_body}");
    assert_eq!(
        (dry, &dry_body),
        (real, &real_body),
        "the dry run fails the same way"
    );
    assert_eq!(export(&app, "").await, base, "nothing was created");
    let (_, users) = app
        .api(Method::GET, "/api/v1/users?login_name=newcomer", None)
        .await;
    assert_eq!(users["total"], 0);
    let (_, created) = app
        .api(Method::GET, "/api/v1/audit?action=user.create", None)
        .await;
    assert!(
        items(&created)
            .iter()
            .all(|r| r["object_name"] != "newcomer"),
        "and no record of it"
    );
}
