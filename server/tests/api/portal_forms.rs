//! The app screen as a browser without JavaScript uses it: every button posts the whole form,
//! rows are added and removed on the server, typed values come back, Save stores the app.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.admin
        .post(format!("{}{path}", app.url))
        .header("Origin", &app.url)
        .form(form)
        .send()
        .await
        .expect("post")
}

#[tokio::test]
async fn rows_are_added_and_removed_by_plain_posts_and_save_stores_the_app() {
    let app = spawn_app().await;
    let base = [
        ("is_new", "true"),
        ("app_id", "nojs"),
        ("name", "No <script> app"),
        ("client_id_type", "confidential"),
        ("redirect_uris", "https://a.example/cb"),
        ("token_type", "opaque"),
        ("auth_methods", "client_credentials"),
        ("token_lifetime", "2"),
        ("token_lifetime_unit", "hours"),
        ("refresh_lifetime", "30"),
        ("refresh_lifetime_unit", "days"),
        ("scopes[0].name", "read"),
        ("scopes[0].rest_regexes", "api/v1/users"),
        ("user_access_roles", "Everybody"),
    ];
    // "Add redirect URI": the page comes back with a second, empty row and everything kept.
    let mut form = base.to_vec();
    form.push(("op", "add_redirect"));
    let res = post_form(&app, "/admin/apps/new", &form).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    assert_eq!(html.matches("name=\"redirect_uris\"").count(), 2, "{html}");
    assert!(html.contains("value=\"https://a.example/cb\""));
    assert!(
        html.contains("No &lt;script&gt; app"),
        "escaped by construction"
    );
    assert!(!html.contains("No <script> app"));
    let (s, _) = app.api(Method::GET, "/api/v1/apps/nojs", None).await;
    assert_eq!(s, 404, "adding a row saves nothing");

    // A bad regex comes back as the field's error, with what was typed.
    let mut form = base.to_vec();
    form.push(("scopes[0].rest_regexes", "(unclosed"));
    form.push(("op", "save"));
    let res = post_form(&app, "/admin/apps/new", &form).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.expect("html");
    assert!(html.contains("value=\"(unclosed\""), "typed value kept");
    assert!(html.contains("invalid regex"), "the field's error is shown");

    // Save: a redirect to the new app, which the API shows as typed.
    let mut form = base.to_vec();
    form.push(("redirect_uris", "https://b.example/cb"));
    form.push(("scopes[1].name", "write"));
    form.push(("scopes[1].rest_regexes", "api/v1/roles"));
    form.push(("op", "save"));
    let res = post_form(&app, "/admin/apps/new", &form).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/admin/apps/nojs?saved=created");
    let (s, a) = app.api(Method::GET, "/api/v1/apps/nojs", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        a["redirect_uris"],
        json!(["https://a.example/cb", "https://b.example/cb"])
    );
    assert_eq!(a["token_lifetime_secs"], 7200);
    assert_eq!(a["token_type"], "opaque");
    assert_eq!(a["scopes"][1]["rest_regexes"], json!(["api/v1/roles"]));
    assert_eq!(a["user_access_roles"], json!(["Everybody"]));

    // Edit: remove the first redirect in place of the server, then save; the id in the path
    // wins over a posted one.
    let mut form = base.to_vec();
    form.retain(|(k, _)| *k != "is_new");
    form.push(("redirect_uris", "https://b.example/cb"));
    form.push(("op", "remove_redirect:0"));
    let res = post_form(&app, "/admin/apps/nojs", &form).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    assert_eq!(html.matches("name=\"redirect_uris\"").count(), 1);
    assert!(html.contains("value=\"https://b.example/cb\""));
    let mut form: Vec<(&str, &str)> = base
        .iter()
        .copied()
        .filter(|(k, _)| !matches!(*k, "is_new" | "redirect_uris" | "app_id"))
        .collect();
    form.push(("app_id", "something-else"));
    form.push(("redirect_uris", "https://b.example/cb"));
    form.push(("op", "save"));
    let res = post_form(&app, "/admin/apps/nojs", &form).await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let (_, a) = app.api(Method::GET, "/api/v1/apps/nojs", None).await;
    assert_eq!(a["redirect_uris"], json!(["https://b.example/cb"]));
    assert_eq!(a["scopes"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn the_app_form_needs_a_signed_in_administrator_and_our_origin() {
    let app = spawn_app().await;
    let form = [("app_id", "x"), ("name", "X"), ("op", "save")];
    let res = client()
        .post(format!("{}/admin/apps/new", app.url))
        .header("Origin", &app.url)
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/login?return_to="));
    let res = app
        .admin
        .post(format!("{}/admin/apps/new", app.url))
        .header("Origin", "https://elsewhere.example")
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403);
    let (s, _) = app.api(Method::GET, "/api/v1/apps/x", None).await;
    assert_eq!(s, 404, "nothing was created");
}

#[tokio::test]
async fn connected_apps_sends_a_signed_out_visitor_to_sign_in() {
    let app = spawn_app().await;
    let res = client()
        .get(format!("{}/account/apps", app.url))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?return_to=%2Faccount%2Fapps");
    let res = app
        .admin
        .get(format!("{}/account/apps", app.url))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    assert!(html.contains("You have not approved any application."));
}

/// Found by the HTTP fuzz (seed 20261205): saving the form of an app that is not there was a
/// 500; it is the portal's "not found" page, and no app appears.
#[tokio::test]
async fn saving_the_form_of_an_app_that_is_not_there_is_404() {
    let app = spawn_app().await;
    for form in [
        vec![("op", "save"), ("name", "Ghost")],
        vec![("name", "Ghost")],
        vec![],
    ] {
        let res = post_form(&app, "/admin/apps/ghost", &form).await;
        assert_eq!(res.status(), 404, "{form:?}");
        let page = res.text().await.unwrap_or_default();
        assert!(page.contains("App not found"), "{page}");
    }
    let (s, _) = app.api(Method::GET, "/api/v1/apps/ghost", None).await;
    assert_eq!(s, 404, "no app was made");
}

/// A path segment longer than any file name is the "not found" page, without a file lookup.
#[tokio::test]
async fn a_path_longer_than_any_file_name_is_the_not_found_page() {
    let app = spawn_app().await;
    let res = client()
        .get(format!("{}/{}", app.url, "a".repeat(5000)))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 404);
    let page = res.text().await.unwrap_or_default();
    assert!(page.contains("Page not found"), "{page}");
}

/// The Resources list (RFC 8707) works like the redirect lists: a row added on the server,
/// a malformed one refused at its row, the saved list what the API shows.
#[tokio::test]
async fn resources_are_added_and_saved_by_plain_posts() {
    let app = spawn_app().await;
    let base = [
        ("is_new", "true"),
        ("app_id", "res"),
        ("name", "Resources"),
        ("client_id_type", "anything"),
        ("redirect_uris", "https://a.example/cb"),
        ("token_type", "jwt_rs256"),
        ("auth_methods", "authorization_code"),
        ("token_lifetime", "1"),
        ("token_lifetime_unit", "hours"),
        ("refresh_lifetime", "30"),
        ("refresh_lifetime_unit", "days"),
        ("user_access_roles", "Everybody"),
        ("resources", "https://mcp.example/mcp"),
    ];
    let mut form = base.to_vec();
    form.push(("op", "add_resource"));
    let res = post_form(&app, "/admin/apps/new", &form).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    assert_eq!(html.matches("name=\"resources\"").count(), 2, "{html}");
    let mut form = base.to_vec();
    form.push(("resources", "https://files.example/#fragment"));
    form.push(("op", "save"));
    let res = post_form(&app, "/admin/apps/new", &form).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.expect("html");
    assert!(
        html.contains("fragment"),
        "the row's error is shown: {html}"
    );
    let mut form = base.to_vec();
    form.push(("resources", "https://files.example/"));
    form.push(("op", "save"));
    let res = post_form(&app, "/admin/apps/new", &form).await;
    assert_eq!(res.status(), 303);
    let (_, a) = app.api(Method::GET, "/api/v1/apps/res", None).await;
    assert_eq!(
        a["resources"],
        json!(["https://mcp.example/mcp", "https://files.example/"])
    );
}

/// The Clients page's plain forms: add (the secret shown once), a refused redirect URI, a new
/// secret, delete — each read back through the API.
#[tokio::test]
async fn clients_are_added_rotated_and_deleted_with_plain_forms() {
    let app = spawn_app().await;
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(
                json!({"app_id": "reg", "name": "Registered", "client_id_type": "registered",
                        "auth_methods": ["authorization_code", "client_credentials"],
                        "user_access_roles": ["Everybody"]}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let page = "/admin/apps/reg/clients";
    let res = app
        .admin
        .get(format!("{}{page}", app.url))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap_or_default()
        .contains("No clients yet."));

    let res = post_form(
        &app,
        page,
        &[
            ("op", "add"),
            ("client_name", "Reports <job>"),
            ("redirect_uris", "http://evil.example/cb"),
            ("token_endpoint_auth_method", "client_secret_basic"),
            ("grant_types", "authorization_code"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap_or_default()
        .contains("redirect URIs must be https"));
    let (_, list) = app.api(Method::GET, "/api/v1/apps/reg/clients", None).await;
    assert_eq!(list, json!([]), "nothing stored");

    let res = post_form(
        &app,
        page,
        &[
            ("op", "add"),
            ("client_name", "Reports <job>"),
            (
                "redirect_uris",
                "https://reports.example/cb\nhttp://127.0.0.1/cb",
            ),
            ("token_endpoint_auth_method", "client_secret_basic"),
            ("grant_types", "authorization_code"),
            ("grant_types", "client_credentials"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap_or_default();
    assert!(html.contains("Client added."), "{html}");
    assert!(
        html.contains("Reports &lt;job&gt;"),
        "escaped by construction"
    );
    let (_, list) = app.api(Method::GET, "/api/v1/apps/reg/clients", None).await;
    let id = list[0]["client_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        list[0]["redirect_uris"],
        json!(["https://reports.example/cb", "http://127.0.0.1/cb"])
    );
    // The secret on the page is the client's: it gets a token.
    let secret_of = |html: &str| {
        html.split("<pre><code>")
            .nth(1)
            .and_then(|r| r.split("</code>").next())
            .unwrap_or_default()
            .to_string()
    };
    let secret = secret_of(&html);
    let token = |secret: String| {
        let (url, id) = (app.url.clone(), id.clone());
        async move {
            client()
                .post(format!("{url}/oauth2/token/reg"))
                .basic_auth(&id, Some(&secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .expect("token")
                .status()
                .as_u16()
        }
    };
    assert_eq!(token(secret.clone()).await, 200);
    // Reloading the page never shows it again.
    let again = app
        .admin
        .get(format!("{}{page}", app.url))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .unwrap_or_default();
    assert!(!again.contains(&secret));

    let res = post_form(&app, page, &[("op", "rotate"), ("client_id", &id)]).await;
    assert_eq!(res.status(), 200);
    let rotated = secret_of(&res.text().await.unwrap_or_default());
    assert_ne!(rotated, secret);
    assert_eq!(token(secret).await, 401);
    assert_eq!(token(rotated.clone()).await, 200);

    let res = post_form(&app, page, &[("op", "delete"), ("client_id", &id)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(token(rotated).await, 401);
    let (_, list) = app.api(Method::GET, "/api/v1/apps/reg/clients", None).await;
    assert_eq!(list, json!([]));
}

/// The registered-clients switches of the app screen, saved by a plain post: registration and
/// client ID metadata documents on, shown checked, and off again when the box is left empty.
#[tokio::test]
async fn the_app_form_switches_client_id_metadata_documents() {
    let app = spawn_app().await;
    let base = [
        ("is_new", "true"),
        ("app_id", "tools"),
        ("name", "Tools"),
        ("client_id_type", "registered"),
        ("client_registration", "open"),
        ("token_type", "jwt_rs256"),
        ("auth_methods", "authorization_code"),
        ("token_lifetime", "1"),
        ("token_lifetime_unit", "hours"),
        ("refresh_lifetime", "30"),
        ("refresh_lifetime_unit", "days"),
        ("user_access_roles", "Everybody"),
    ];
    let mut form = base.to_vec();
    form.push(("client_id_metadata_documents", "on"));
    form.push(("op", "save"));
    let res = post_form(&app, "/admin/apps/new", &form).await;
    assert_eq!(res.status(), 303);
    let (_, a) = app.api(Method::GET, "/api/v1/apps/tools", None).await;
    assert_eq!(
        (
            a["client_registration"].as_str(),
            a["client_id_metadata_documents"].as_bool()
        ),
        (Some("open"), Some(true)),
        "{a}"
    );
    let html = app
        .admin
        .get(format!("{}/admin/apps/tools", app.url))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let input = html
        .split("<input")
        .find(|i| i.contains("name=\"client_id_metadata_documents\""))
        .unwrap_or_default();
    assert!(input.contains("checked"), "{input}");
    // Unchecked: a browser sends nothing for the box, and the app no longer takes documents.
    let mut form = base.to_vec();
    form[0] = ("is_new", "false");
    form.push(("op", "save"));
    let res = post_form(&app, "/admin/apps/tools", &form).await;
    assert_eq!(res.status(), 303);
    let (_, a) = app.api(Method::GET, "/api/v1/apps/tools", None).await;
    assert_eq!(a["client_id_metadata_documents"], false, "{a}");
    // On an app of another Client ID Type the switch is refused with its field.
    let mut form = base.to_vec();
    form[1] = ("app_id", "plain");
    form[3] = ("client_id_type", "anything");
    form[4] = ("client_registration", "off");
    form.push(("client_id_metadata_documents", "on"));
    form.push(("op", "save"));
    let res = post_form(&app, "/admin/apps/new", &form).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.expect("html");
    assert!(
        html.contains("only by an app whose Client ID Type is registered"),
        "{html}"
    );
}

/// The app form's switches for how tokens are asked for (DPoP, PAR) and who may sign in
/// (a second factor): checked in a plain post, stored, shown checked again, and off when a
/// browser sends nothing for them.
#[tokio::test]
async fn the_app_form_switches_dpop_par_and_second_factors() {
    let app = spawn_app().await;
    let base = [
        ("app_id", "strict"),
        ("name", "Strict"),
        ("client_id_type", "confidential"),
        ("token_type", "jwt_es256"),
        ("auth_methods", "authorization_code"),
        ("token_lifetime", "1"),
        ("token_lifetime_unit", "hours"),
        ("refresh_lifetime", "30"),
        ("refresh_lifetime_unit", "days"),
        ("user_access_roles", "Everybody"),
    ];
    const SWITCHES: [&str; 3] = ["require_dpop", "require_par", "require_mfa"];
    let mut form = vec![("is_new", "true")];
    form.extend_from_slice(&base);
    form.extend(SWITCHES.iter().map(|s| (*s, "on")));
    form.push(("op", "save"));
    let res = post_form(&app, "/admin/apps/new", &form).await;
    assert_eq!(res.status(), 303);
    let (_, a) = app.api(Method::GET, "/api/v1/apps/strict", None).await;
    for s in SWITCHES {
        assert_eq!(a[s], true, "{s}: {a}");
    }
    let html = app
        .admin
        .get(format!("{}/admin/apps/strict", app.url))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    for s in SWITCHES {
        let input = html
            .split("<input")
            .find(|i| i.contains(&format!("name=\"{s}\"")))
            .unwrap_or_default();
        assert!(input.contains("checked"), "{s}: {input}");
    }
    assert!(html.contains("Require DPoP-bound tokens"));
    let mut form = vec![("is_new", "false")];
    form.extend_from_slice(&base);
    form.push(("op", "save"));
    let res = post_form(&app, "/admin/apps/strict", &form).await;
    assert_eq!(res.status(), 303);
    let (_, a) = app.api(Method::GET, "/api/v1/apps/strict", None).await;
    for s in SWITCHES {
        assert_eq!(a[s], false, "{s}: {a}");
    }
}
