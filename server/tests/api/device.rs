//! The device authorization grant (RFC 8628, SPEC §3c): a device asks, a person approves or
//! denies on /device (plain forms, no JavaScript), the device polls — every error code on the
//! way, and the tokens at the end.

use serde_json::{json, Value};

use crate::authorize::{alice, make_app, setup};
use crate::helpers::*;
use crate::oidc::segment;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn device_app(app: &TestApp, id: &str, extra: Value) {
    let mut body = json!({
        "client_id_type": "anything", "token_type": "jwt_es256",
        "auth_methods": ["device_code"], "issue_refresh_tokens": true,
    });
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    make_app(app, id, body).await;
}

async fn ask(url: &str, app_id: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let res = client()
        .post(format!("{url}/oauth2/device/{app_id}"))
        .form(form)
        .send()
        .await
        .expect("device authorization");
    let s = res.status().as_u16();
    (s, res.json().await.unwrap_or(Value::Null))
}

async fn poll(url: &str, app_id: &str, device_code: &str) -> (u16, Value) {
    let (s, b, _) = form_token(
        url,
        app_id,
        &[
            ("grant_type", GRANT),
            ("device_code", device_code),
            ("client_id", "tv"),
        ],
    )
    .await;
    (s, b)
}

/// The /device page for `code`, as `c` sees it.
async fn device_page(c: &reqwest::Client, url: &str, code: &str) -> (u16, String) {
    let res = c
        .get(format!("{url}/device"))
        .query(&[("user_code", code)])
        .send()
        .await
        .expect("page");
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

async fn decide(c: &reqwest::Client, url: &str, code: &str, decision: &str) -> String {
    let (s, page) = device_page(c, url, code).await;
    assert_eq!(s, 200, "{page}");
    let at = page.find("name=\"csrf\" value=\"").expect("form token") + 19;
    let csrf = &page[at..at + page[at..].find('"').unwrap_or(0)];
    let res = c
        .post(format!("{url}/device"))
        .header("Origin", url)
        .form(&[("csrf", csrf), ("user_code", code), ("decision", decision)])
        .send()
        .await
        .expect("decide");
    assert_eq!(res.status(), 303);
    location(&res)
}

#[tokio::test]
async fn a_device_is_approved_by_a_person_and_polls_its_tokens() {
    let app = spawn_app().await;
    setup(&app).await;
    device_app(&app, "tv", json!({})).await;
    let meta = as_metadata(&app.url, "tv").await;
    assert_eq!(
        meta["device_authorization_endpoint"],
        format!("{}/oauth2/device/tv", app.url)
    );
    assert!(meta["grant_types_supported"]
        .as_array()
        .is_some_and(|g| g.contains(&json!(GRANT))));

    let (s, d) = ask(
        &app.url,
        "tv",
        &[("client_id", "tv"), ("scope", "openid read")],
    )
    .await;
    assert_eq!(s, 200, "{d}");
    let user_code = d["user_code"].as_str().unwrap_or_default().to_string();
    assert!(
        user_code.len() == 9
            && &user_code[4..5] == "-"
            && user_code
                .chars()
                .filter(|c| *c != '-')
                .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{user_code}"
    );
    assert_eq!(d["verification_uri"], format!("{}/device", app.url));
    assert_eq!(
        d["verification_uri_complete"],
        format!("{}/device?user_code={user_code}", app.url)
    );
    assert_eq!(
        (d["expires_in"].as_i64(), d["interval"].as_i64()),
        (Some(600), Some(5))
    );
    let device_code = d["device_code"].as_str().unwrap_or_default().to_string();

    // Pending; polling again at once is too fast (the interval grows by 5 s).
    let (s, e) = poll(&app.url, "tv", &device_code).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("authorization_pending")),
        "{e}"
    );
    let (s, e) = poll(&app.url, "tv", &device_code).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("slow_down")), "{e}");
    assert!(
        e["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("10 seconds"),
        "{e}"
    );

    // A stranger is sent to sign in, and back to the same code.
    let res = client()
        .get(format!("{}/device?user_code={user_code}", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(res.status(), 303);
    assert!(
        location(&res).starts_with("/login?return_to=%2Fdevice%3Fuser_code%3D"),
        "{}",
        location(&res)
    );

    // Alice types the code in lower case without the dash, sees the app and scopes, approves.
    let c = alice(&app).await;
    let typed = user_code.replace('-', "").to_lowercase();
    let (_, page) = device_page(&c, &app.url, &typed).await;
    assert!(page.contains("App tv wants to use your account"), "{page}");
    assert!(
        page.contains(&user_code),
        "the code shown as the device shows it"
    );
    assert!(page.contains("<strong>read</strong>"), "{page}");
    assert_eq!(
        decide(&c, &app.url, &typed, "approve").await,
        "/device?done=approved"
    );

    // The next poll gets the tokens (ID token with openid, refresh token); then the code is
    // spent.
    let (s, t) = poll(&app.url, "tv", &device_code).await;
    assert_eq!(s, 200, "{t}");
    assert!(t["refresh_token"].is_string(), "{t}");
    let id = segment(t["id_token"].as_str().expect("id_token"), 1);
    assert_eq!(
        (id["aud"].as_str(), id["amr"].clone()),
        (Some("tv"), json!(["pwd"])),
        "{id}"
    );
    let at = segment(t["access_token"].as_str().unwrap_or_default(), 1);
    assert_eq!(at["scope"], "openid read");
    let (s, e) = poll(&app.url, "tv", &device_code).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    // The refresh token works like one from a code.
    let (s, r, _) = form_token(
        &app.url,
        "tv",
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                t["refresh_token"].as_str().unwrap_or_default(),
            ),
            ("client_id", "tv"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{r}");
    // A used code is gone from the page too.
    assert!(decide_gone(&c, &app.url, &typed).await);
}

/// The page says a code names nothing.
async fn decide_gone(c: &reqwest::Client, url: &str, code: &str) -> bool {
    device_page(c, url, code)
        .await
        .1
        .contains("That code names no waiting device")
}

#[tokio::test]
async fn denied_expired_and_foreign_device_codes_are_refused() {
    let app = spawn_app().await;
    setup(&app).await;
    device_app(&app, "tv", json!({})).await;
    device_app(&app, "other", json!({})).await;
    make_app(&app, "web", json!({})).await;

    // An app without the method: unauthorized_client; an unknown scope: invalid_scope.
    let (s, e) = ask(
        &app.url,
        "web",
        &[
            ("client_id", "web-client"),
            ("client_secret", "web-secret-123"),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{e}"
    );
    let (s, e) = ask(&app.url, "tv", &[("client_id", "tv"), ("scope", "nope")]).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_scope")),
        "{e}"
    );
    let (s, e) = ask(&app.url, "tv", &[("scope", "read")]).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (401, Some("invalid_client")),
        "{e}"
    );

    // Denied: access_denied once, then the code is unknown.
    let (_, d) = ask(&app.url, "tv", &[("client_id", "tv")]).await;
    let code = d["device_code"].as_str().unwrap_or_default().to_string();
    let c = alice(&app).await;
    assert_eq!(
        decide(
            &c,
            &app.url,
            d["user_code"].as_str().unwrap_or_default(),
            "deny"
        )
        .await,
        "/device?done=denied"
    );
    let (s, e) = poll(&app.url, "tv", &code).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("access_denied")),
        "{e}"
    );
    let (s, e) = poll(&app.url, "tv", &code).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );

    // Another app's (or client's) device code is not this one's.
    let (_, d) = ask(&app.url, "tv", &[("client_id", "tv")]).await;
    let code = d["device_code"].as_str().unwrap_or_default().to_string();
    let (s, e) = poll(&app.url, "other", &code).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    let (s, e, _) = form_token(
        &app.url,
        "tv",
        &[
            ("grant_type", GRANT),
            ("device_code", &code),
            ("client_id", "someone-else"),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    let (s, e, _) = form_token(
        &app.url,
        "tv",
        &[("grant_type", GRANT), ("client_id", "tv")],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_request")),
        "{e}"
    );

    // Expired: expired_token, and the page no longer offers it.
    sqlx::query("UPDATE device_codes SET expires_at = 1")
        .execute(&app.services.store.pool)
        .await
        .expect("expire");
    let (s, e) = poll(&app.url, "tv", &code).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("expired_token")),
        "{e}"
    );
    assert!(decide_gone(&c, &app.url, d["user_code"].as_str().unwrap_or_default()).await);
    // Expired codes are purged.
    let report = app.services.purge_expired(10).await.expect("purge");
    assert!(report.device_codes >= 1, "{report:?}");
}

#[tokio::test]
async fn user_code_guessing_is_throttled_and_access_rules_hold() {
    let app = spawn_app().await;
    setup(&app).await;
    device_app(
        &app,
        "tv",
        json!({"user_access_roles": ["System Administrator"]}),
    )
    .await;
    // Alice may not use the app: she cannot approve for it.
    let (_, d) = ask(&app.url, "tv", &[("client_id", "tv")]).await;
    let c = alice(&app).await;
    assert_eq!(
        decide(
            &c,
            &app.url,
            d["user_code"].as_str().unwrap_or_default(),
            "approve"
        )
        .await,
        "/device?done=not_allowed"
    );
    let (s, e) = poll(
        &app.url,
        "tv",
        d["device_code"].as_str().unwrap_or_default(),
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("authorization_pending")),
        "{e}"
    );
    // Wrong codes from one address are counted like failed sign-ins, then refused.
    let mut throttled = false;
    for i in 0..60 {
        let guess = format!("BCDF{}", ["GHJK", "GHJL", "GHJM", "GHJN"][i % 4]);
        let (_, page) = device_page(&c, &app.url, &guess).await;
        if page.contains("Too many wrong codes") {
            throttled = true;
            break;
        }
    }
    assert!(throttled, "guessing is throttled");
    // While throttled, even the right code is not looked up.
    let (_, page) = device_page(&c, &app.url, d["user_code"].as_str().unwrap_or_default()).await;
    assert!(page.contains("Too many wrong codes"), "{page}");
}
