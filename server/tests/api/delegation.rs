//! Delegated administration never escalates (SPEC §2, issue 27): administrators holding one
//! right each are refused everything that would lead to more, the refusals are audited and
//! change nothing, and the allowed cases still work. Credential changes end sessions and
//! tokens; machines never sign in as people; CSRF and names.

use reqwest::Method;
use serde_json::{json, Value};

use crate::authorize::{alice, authorize, challenge, code_params, exchange, make_app, query_of};
use crate::helpers::*;

/// A person holding exactly `rights` through a role of their own, signed in.
async fn delegate(
    app: &TestApp,
    login: &str,
    rights: &[&str],
) -> (String, String, reqwest::Client) {
    let role = app.create_role(&format!("{login} role"), rights).await;
    let id = app.create_user(login, "delegate-password", false).await;
    app.add_member(&role, &id).await;
    let c = client();
    let res = sign_in(&c, &app.url, login, "delegate-password", "/admin").await;
    assert_eq!(res.status(), 302, "{login} signs in");
    assert_eq!(
        location(&res),
        "/admin",
        "{login} signed in, not sent back with an error"
    );
    (role, id, c)
}

async fn call(
    c: &reqwest::Client,
    app: &TestApp,
    m: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    api_call(c, &app.url, m, path, body).await
}

async fn user_id(app: &TestApp, login: &str) -> String {
    app.api(
        Method::GET,
        &format!("/api/v1/users?login_name={login}"),
        None,
    )
    .await
    .1["items"][0]["id"]
        .as_str()
        .expect("user")
        .to_string()
}

async fn role_by_name(app: &TestApp, name: &str) -> Value {
    let (_, roles) = app.api(Method::GET, "/api/v1/roles?limit=500", None).await;
    roles["items"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["name"] == name)
        .cloned()
        .expect("role")
}

async fn denials(app: &TestApp) -> Vec<Value> {
    let (s, page) = app
        .api(
            Method::GET,
            "/api/v1/audit?action=escalation.denied&limit=500",
            None,
        )
        .await;
    assert_eq!(s, 200, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_users_administrator_cannot_touch_an_administrator_but_edits_plain_users() {
    let app = spawn_app().await;
    let (_, _, helper) = delegate(&app, "helper", &["users"]).await;
    let admin = user_id(&app, "admin").await;
    let plain = app.create_user("plain", "plain-password", false).await;

    for patch in [
        json!({"password": "attacker-password-1"}),
        json!({"is_oauth_confidential_client": true}),
        json!({"jwks": {"keys": []}}),
        json!({"enabled": false}),
        json!({"email": "attacker@example.com"}),
    ] {
        let (s, b) = call(
            &helper,
            &app,
            Method::PATCH,
            &format!("/api/v1/users/{admin}"),
            Some(patch.clone()),
        )
        .await;
        assert_eq!(s, 403, "{patch} on the administrator: {b}");
    }
    let (s, _) = call(
        &helper,
        &app,
        Method::DELETE,
        &format!("/api/v1/users/{admin}"),
        None,
    )
    .await;
    assert_eq!(s, 403);
    // Nothing changed: the administrator still signs in with the old password, is a person,
    // enabled, with the old email.
    let (_, a) = app
        .api(Method::GET, &format!("/api/v1/users/{admin}"), None)
        .await;
    assert_eq!(
        (
            a["is_oauth_confidential_client"].as_bool(),
            a["enabled"].as_bool()
        ),
        (Some(false), Some(true))
    );
    assert_ne!(a["email"], "attacker@example.com");
    let res = sign_in(&client(), &app.url, "admin", ADMIN_PASSWORD, "/admin").await;
    assert_eq!(
        location(&res),
        "/admin",
        "the administrator's password is unchanged"
    );
    assert!(denials(&app).await.len() >= 6, "every refusal is audited");

    // Someone with the same rights as the actor, or fewer, is fair game.
    let (s, b) = call(
        &helper,
        &app,
        Method::PATCH,
        &format!("/api/v1/users/{plain}"),
        Some(json!({"display_name": "Plain Person"})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (_, p) = app
        .api(Method::GET, &format!("/api/v1/users/{plain}"), None)
        .await;
    assert_eq!(p["display_name"], "Plain Person");
}

#[tokio::test]
async fn a_roles_administrator_cannot_grant_what_it_does_not_hold() {
    let app = spawn_app().await;
    let (own_role, me, ra) = delegate(&app, "roleadmin", &["roles"]).await;
    let sys = role_by_name(&app, "System Administrator").await;
    let everybody = role_by_name(&app, "Everybody").await;
    let sys_id = sys["id"].as_str().expect("id");

    let (s, _) = call(
        &ra,
        &app,
        Method::PUT,
        &format!("/api/v1/roles/{sys_id}/members/{me}"),
        None,
    )
    .await;
    assert_eq!(s, 403, "joining System Administrator");
    let (s, _) = call(
        &ra,
        &app,
        Method::PATCH,
        &format!("/api/v1/roles/{own_role}"),
        Some(json!({"admin_rights": ["apps", "users", "roles"]})),
    )
    .await;
    assert_eq!(s, 403, "widening its own role");
    let (s, _) = call(
        &ra,
        &app,
        Method::PATCH,
        &format!("/api/v1/roles/{}", everybody["id"].as_str().expect("id")),
        Some(json!({"admin_rights": ["roles"]})),
    )
    .await;
    assert_eq!(s, 403, "rights for Everybody");
    let (s, _) = call(
        &ra,
        &app,
        Method::POST,
        "/api/v1/roles",
        Some(json!({"name": "Shadow admins", "admin_rights": ["users"]})),
    )
    .await;
    assert_eq!(s, 403, "a new role with a right it lacks");
    let admin = user_id(&app, "admin").await;
    let (s, _) = call(
        &ra,
        &app,
        Method::DELETE,
        &format!("/api/v1/roles/{sys_id}/members/{admin}"),
        None,
    )
    .await;
    assert_eq!(s, 403, "removing a System Administrator");

    // Read back: nothing changed.
    let sys_after = role_by_name(&app, "System Administrator").await;
    assert_eq!(sys_after["members"], sys["members"]);
    assert_eq!(
        role_by_name(&app, "roleadmin role").await["admin_rights"],
        json!(["roles"])
    );
    assert_eq!(
        role_by_name(&app, "Everybody").await["admin_rights"],
        json!([])
    );
    let (_, all) = app.api(Method::GET, "/api/v1/roles?limit=500", None).await;
    assert!(all["items"]
        .as_array()
        .expect("roles")
        .iter()
        .all(|r| r["name"] != "Shadow admins"));
    assert_eq!(denials(&app).await.len(), 5);

    // Allowed: a plain user into a role that gives only `roles`, which the actor holds.
    let plain = app.create_user("plain", "plain-password", false).await;
    let (s, b) = call(
        &ra,
        &app,
        Method::PUT,
        &format!("/api/v1/roles/{own_role}/members/{plain}"),
        None,
    )
    .await;
    assert_eq!(s, 204, "{b}");
    let members = role_by_name(&app, "roleadmin role").await["members"].clone();
    assert!(members
        .as_array()
        .expect("members")
        .iter()
        .any(|m| m == plain.as_str()));
}

#[tokio::test]
async fn only_system_administrators_define_scopes_for_the_admin_api() {
    let app = spawn_app().await;
    let (_, _, apps_admin) = delegate(&app, "appadmin", &["apps"]).await;
    for regex in [
        "api/v1/.*",
        "API/V1/roles/.*",
        ".*",
        "(x|api)/v1/audit",
        "CDirectoryService/CreateUser",
    ] {
        let (s, b) = call(&apps_admin, &app, Method::POST, "/api/v1/apps", Some(json!({
            "app_id": "grab", "name": "Grab", "client_id_type": "anything",
            "redirect_uris": ["https://evil.example/cb"], "auth_methods": ["authorization_code"],
            "user_access_roles": ["Everybody"],
            "scopes": [{"name": "all", "rest_regexes": [regex]}]
        }))).await;
        assert_eq!(s, 403, "{regex}: {b}");
    }
    let (s, _) = app.api(Method::GET, "/api/v1/apps/grab", None).await;
    assert_eq!(s, 404, "no app was created");
    // Other APIs' scopes are the apps right's business, and so is adding one to an app.
    let (s, b) = call(&apps_admin, &app, Method::POST, "/api/v1/apps", Some(json!({
        "app_id": "orders", "name": "Orders", "scopes": [{"name": "orders", "rest_regexes": ["orders/.*"]}]
    }))).await;
    assert_eq!(s, 201, "{b}");
    let (s, _) = call(&apps_admin, &app, Method::PATCH, "/api/v1/apps/orders", Some(json!({
        "scopes": [{"name": "orders", "rest_regexes": ["orders/.*"]}, {"name": "sneak", "rest_regexes": ["api/v1/users"]}]
    }))).await;
    assert_eq!(s, 403);
    let (_, orders) = app.api(Method::GET, "/api/v1/apps/orders", None).await;
    assert_eq!(orders["scopes"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_persons_token_for_the_admin_api_always_needs_consent_and_is_audited() {
    let app = spawn_app().await;
    crate::authorize::setup(&app).await;
    // A System Administrator may define it, even without User must confirm.
    make_app(&app, "console", json!({
        "user_must_confirm": false,
        "scopes": [{"name": "admin", "description": "Manage users", "rest_regexes": ["api/v1/users(/.*)?"]},
                   {"name": "read", "description": "Read things"}]
    })).await;
    let c = alice(&app).await;
    let ch = challenge(crate::authorize::VERIFIER);
    let mut q = code_params("web-client", &ch);
    q.retain(|(k, _)| *k != "scope");
    q.push(("scope", "admin"));
    let res = authorize(&c, &app.url, "console", &q).await;
    assert_eq!(
        res.status(),
        200,
        "the consent page, not a code: {}",
        location(&res)
    );
    let page = res.text().await.unwrap_or_default();
    assert!(
        page.contains("administrative access"),
        "the page says what it grants"
    );
    // A scope that does not reach the admin API needs no consent on this app.
    let mut q2 = code_params("web-client", &ch);
    q2.retain(|(k, _)| *k != "scope");
    q2.push(("scope", "read"));
    let res = authorize(&c, &app.url, "console", &q2).await;
    assert_eq!(res.status(), 303);
    let code = query_of(&location(&res))["code"].clone();
    assert!(!code.is_empty());
    let (s, _) = exchange(&app.url, "console", &code, crate::authorize::VERIFIER).await;
    assert_eq!(s, 200);
    let (_, audit) = app
        .api(Method::GET, "/api/v1/audit?action=token.admin_issue", None)
        .await;
    assert_eq!(
        audit["total"], 0,
        "a token without the admin scope is not an admin grant"
    );
}

#[tokio::test]
async fn a_password_change_ends_sessions_and_revokes_tokens() {
    let app = spawn_app().await;
    let alice_id = crate::authorize::setup(&app).await;
    make_app(&app, "web", json!({})).await;
    let c = alice(&app).await;
    let ch = challenge(crate::authorize::VERIFIER);
    let code = query_of(&location(
        &authorize(&c, &app.url, "web", &code_params("web-client", &ch)).await,
    ))["code"]
        .clone();
    let (s, t) = exchange(&app.url, "web", &code, crate::authorize::VERIFIER).await;
    assert_eq!(s, 200, "{t}");
    let access = t["access_token"].as_str().expect("access").to_string();
    let refresh = t["refresh_token"].as_str().expect("refresh").to_string();
    assert_eq!(
        crate::authorize::introspect(&app.url, "web", &access).await["active"],
        true
    );

    // The session cookie as it is now, to send again by hand afterwards.
    let cookie = session_cookie(&app, "alice", "alice-password").await;
    let again = |cookie: String| {
        let url = app.url.clone();
        async move {
            let res = client()
                .get(format!("{url}/oauth2/authorize/web"))
                .query(&code_params(
                    "web-client",
                    &challenge(crate::authorize::VERIFIER),
                ))
                .header("Cookie", cookie)
                .send()
                .await
                .expect("authorize");
            location(&res)
        }
    };
    assert!(
        again(cookie.clone())
            .await
            .starts_with(crate::authorize::CB),
        "the old cookie works before"
    );

    let (s, _) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{alice_id}"),
            Some(json!({"password": "a-brand-new-password"})),
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        again(cookie).await.starts_with("/login"),
        "the old session is over"
    );
    assert_eq!(
        crate::authorize::introspect(&app.url, "web", &access).await["active"],
        false
    );
    let (s, b) = crate::authorize::refresh_with(&app.url, "web", &refresh).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    // The person signs in again with the new password.
    let res = sign_in(
        &client(),
        &app.url,
        "alice",
        "a-brand-new-password",
        "/account/apps",
    )
    .await;
    assert_eq!(location(&res), "/account/apps");
}

#[tokio::test]
async fn machines_never_sign_in_as_people_and_do_not_count_as_the_last_administrator() {
    let app = spawn_app().await;
    let machine = app.create_user("robot", "robot-secret-1", true).await;
    let res = sign_in(&client(), &app.url, "robot", "robot-secret-1", "/admin").await;
    assert!(
        location(&res).starts_with("/login"),
        "refused: {}",
        location(&res)
    );
    let sys = role_by_name(&app, "System Administrator").await;
    let sys_id = sys["id"].as_str().expect("id");
    app.add_member(sys_id, &machine).await;
    let admin = user_id(&app, "admin").await;
    let (s, b) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/roles/{sys_id}/members/{admin}"),
            None,
        )
        .await;
    assert_eq!(s, 409, "the last person stays: {b}");
    let members = role_by_name(&app, "System Administrator").await["members"].clone();
    assert!(members
        .as_array()
        .expect("members")
        .iter()
        .any(|m| m == admin.as_str()));
}

#[tokio::test]
async fn cookie_authenticated_posts_need_our_origin() {
    let app = spawn_app().await;
    let cookie = session_cookie(&app, "admin", ADMIN_PASSWORD).await;
    let value = cookie
        .split_once('=')
        .map(|x| x.1)
        .unwrap_or_default()
        .to_string();
    let post = |cookie: String, origin: Option<&'static str>| {
        let url = app.url.clone();
        async move {
            let mut req = client()
                .post(format!("{url}/api/v1/roles"))
                .header("Cookie", cookie)
                .json(&json!({"name": "csrf-made"}));
            if let Some(o) = origin {
                req = req.header("Origin", o);
            }
            req.send().await.expect("post").status().as_u16()
        }
    };
    assert_eq!(post(cookie.clone(), None).await, 403, "no Origin");
    assert_eq!(
        post(cookie.clone(), Some("https://evil.example")).await,
        403,
        "foreign Origin"
    );
    assert_eq!(
        post(
            format!("gatehouse_session ={value}"),
            Some("https://evil.example")
        )
        .await,
        403,
        "odd spelling"
    );
    // A plain form post to a server function without Origin or Referer is refused too.
    let status = client()
        .post(format!("{}/sfn/logout", app.url))
        .header("Cookie", cookie.clone())
        .send()
        .await
        .expect("logout")
        .status()
        .as_u16();
    assert_eq!(status, 403);
    let (_, roles) = app.api(Method::GET, "/api/v1/roles", None).await;
    assert!(roles["items"]
        .as_array()
        .expect("roles")
        .iter()
        .all(|r| r["name"] != "csrf-made"));
    // With Referer of our own origin it goes through.
    let status = client()
        .post(format!("{}/api/v1/roles", app.url))
        .header("Cookie", cookie)
        .header("Referer", format!("{}/admin/roles", app.url))
        .json(&json!({"name": "made-here"}))
        .send()
        .await
        .expect("post")
        .status()
        .as_u16();
    assert_eq!(status, 201);
}

#[tokio::test]
async fn look_alikes_of_built_in_roles_are_refused() {
    let app = spawn_app().await;
    for name in [
        "System\u{00A0}Administrator",
        "System Adm\u{0456}nistrator",
        "Every\u{200B}body",
        "EVERYBODY",
    ] {
        let (s, b) = app
            .api(Method::POST, "/api/v1/roles", Some(json!({"name": name})))
            .await;
        assert!(s == 409 || s == 422, "{name:?}: {s} {b}");
    }
    let (_, roles) = app.api(Method::GET, "/api/v1/roles", None).await;
    assert_eq!(roles["total"], 2, "only the built-in roles");
    let (s, r) = app
        .api(
            Method::POST,
            "/api/v1/roles",
            Some(json!({"name": "  Help \u{00A0} desk "})),
        )
        .await;
    assert_eq!((s, r["name"].as_str()), (201, Some("Help desk")));
}

#[tokio::test]
async fn export_is_audited_and_a_change_that_changes_nothing_is_not() {
    let app = spawn_app().await;
    let (s, _) = app
        .api(Method::GET, "/api/v1/export?with_secrets=true", None)
        .await;
    assert_eq!(s, 200);
    let (_, audit) = app
        .api(Method::GET, "/api/v1/audit?action=config.export", None)
        .await;
    assert_eq!(audit["total"], 1, "{audit}");
    let bob = app.create_user("bob", "bob-password-1", false).await;
    let before = app
        .api(Method::GET, "/api/v1/audit?action=user.update", None)
        .await
        .1["total"]
        .clone();
    let (s, _) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{bob}"),
            Some(json!({"display_name": "bob"})),
        )
        .await;
    assert_eq!(s, 200);
    let after = app
        .api(Method::GET, "/api/v1/audit?action=user.update", None)
        .await
        .1["total"]
        .clone();
    assert_eq!(before, after, "no record for nothing");
}

#[tokio::test]
async fn import_takes_defaults_stores_no_password_and_create_admin_gives_a_first_administrator() {
    let app = spawn_app().await;
    let (s, plan) = app
        .api(
            Method::POST,
            "/api/v1/import",
            Some(json!({
                "gatehouse_config": 1,
                "apps": [{"app_id": "minimal", "name": "Minimal"}],
                "users": [{"login_name": "imported", "email": "imported@example.com"}]
            })),
        )
        .await;
    assert_eq!(s, 200, "omitted app fields take the API's defaults: {plan}");
    let (_, a) = app.api(Method::GET, "/api/v1/apps/minimal", None).await;
    assert_eq!(
        (a["token_type"].as_str(), a["token_lifetime_secs"].as_i64()),
        (Some("jwt_rs256"), Some(18000))
    );
    // No password: nothing signs in as the imported user, not even an empty one.
    for p in ["", "!unusable"] {
        let res = sign_in(&client(), &app.url, "imported", p, "/admin").await;
        assert!(location(&res).starts_with("/login"));
    }
    let id = app
        .services
        .create_admin("imported", "first-admin-password")
        .await
        .expect("create-admin");
    assert_eq!(id, user_id(&app, "imported").await);
    let c = client();
    let res = sign_in(&c, &app.url, "imported", "first-admin-password", "/admin").await;
    assert_eq!(location(&res), "/admin");
    let (s, _) = api_call(&c, &app.url, Method::POST, "/api/v1/keys/rotate", None).await;
    assert_eq!(s, 200, "a System Administrator");
}

#[tokio::test]
async fn changing_ones_own_password_keeps_this_session_and_ends_the_others() {
    let app = spawn_app().await;
    let other = session_cookie(&app, "admin", ADMIN_PASSWORD).await;
    let admin = user_id(&app, "admin").await;
    let (s, b) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{admin}"),
            Some(json!({"password": "the-admins-new-password"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = app.api(Method::GET, "/api/v1/users", None).await;
    assert_eq!(s, 200, "the session the change was made from goes on");
    let status = client()
        .get(format!("{}/api/v1/users", app.url))
        .header("Cookie", other)
        .send()
        .await
        .expect("get")
        .status()
        .as_u16();
    assert_eq!(status, 401, "another session of the same person has ended");
}
