//! The branding of the hosted pages (SPEC §6b): System Administrators set the product name, an
//! accent colour that keeps WCAG AA contrast, and a logo (an image by its bytes, size-limited,
//! served under its content hash); the pages show them.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// A small valid PNG (1×1, red).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

async fn put_logo(c: &reqwest::Client, url: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
    let res = c
        .put(format!("{url}/api/v1/settings/branding/logo"))
        .header("Origin", url)
        .header("Content-Type", "image/png")
        .body(body)
        .send()
        .await
        .expect("put");
    let s = res.status().as_u16();
    (s, res.json().await.unwrap_or_default())
}

#[tokio::test]
async fn the_hosted_pages_carry_the_name_colour_and_logo_an_administrator_set() {
    let app = spawn_app().await;
    let rid = app.create_role("Almost", &["users", "roles", "apps"]).await;
    let uid = app.create_user("almost", "almost-password-1", false).await;
    app.add_member(&rid, &uid).await;
    let (c, _) = jar_client();
    sign_in(&c, &app.url, "almost", "almost-password-1", "/admin").await;
    let (s, _) = api_call(
        &c,
        &app.url,
        Method::PATCH,
        "/api/v1/settings/branding",
        Some(json!({"product_name": "Mine"})),
    )
    .await;
    assert_eq!(s, 403, "System Administrators only");

    // A body that is not an object is refused (serde would take an array for the struct).
    let (s, e) = app
        .api(
            Method::PATCH,
            "/api/v1/settings/branding",
            Some(json!([null, null])),
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (422, Some("validation_failed")),
        "{e}"
    );
    // A read-only member echoed back must still have its type.
    let (s, e) = app
        .api(
            Method::PATCH,
            "/api/v1/settings/branding",
            Some(json!({"logo_url": {}})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (422, Some("logo_url")), "{e}");
    // A colour too light for white button text or for links on the page is refused.
    for bad in ["#ffcc00", "#767676", "blue"] {
        let (s, e) = app
            .api(
                Method::PATCH,
                "/api/v1/settings/branding",
                Some(json!({"accent_color": bad})),
            )
            .await;
        assert_eq!(
            (s, e["field"].as_str()),
            (422, Some("accent_color")),
            "{bad}: {e}"
        );
    }
    let (s, b) = app
        .api(
            Method::PATCH,
            "/api/v1/settings/branding",
            Some(json!({"product_name": "Acme ID", "accent_color": "#0B5D1E"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["product_name"].as_str(), b["accent_color"].as_str()),
        (Some("Acme ID"), Some("#0b5d1e"))
    );

    let get = |path: &'static str| {
        let url = app.url.clone();
        async move {
            client()
                .get(format!("{url}{path}"))
                .send()
                .await
                .expect("get")
        }
    };
    let login = get("/login").await.text().await.expect("html");
    assert!(
        login.contains("<title>Sign in · Acme ID</title>"),
        "the title names the product"
    );
    assert!(login.contains("href=\"/branding.css\""));
    let css = get("/branding.css").await;
    let etag = css.headers().get("etag").cloned().expect("etag");
    assert!(css.text().await.expect("css").contains("--accent: #0b5d1e"));
    let again = client()
        .get(format!("{}/branding.css", app.url))
        .header("If-None-Match", etag)
        .send()
        .await
        .expect("css");
    assert_eq!(again.status(), 304);

    // The logo: an image by its bytes, at most 100 KB, under its hash.
    let (s, e) = put_logo(&app.admin, &app.url, b"<svg onload=alert(1)>".to_vec()).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("logo")));
    let mut big = PNG.to_vec();
    big.resize(101 * 1024, 0);
    let (s, _) = put_logo(&app.admin, &app.url, big).await;
    assert_eq!(s, 422);
    let (s, b) = put_logo(&app.admin, &app.url, PNG.to_vec()).await;
    assert_eq!(s, 200, "{b}");
    let logo = b["logo_url"].as_str().expect("logo_url").to_string();
    let res = client()
        .get(format!("{}{logo}", app.url))
        .send()
        .await
        .expect("logo");
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap_or_default()
        .contains("immutable"));
    assert_eq!(res.bytes().await.expect("bytes").as_ref(), PNG);
    assert_eq!(
        client()
            .get(format!("{}/branding/logo/0000000000000000", app.url))
            .send()
            .await
            .expect("other")
            .status(),
        404
    );
    assert!(get("/login")
        .await
        .text()
        .await
        .expect("html")
        .contains(&format!("src=\"{logo}\"")));

    // The portal's upload without JavaScript (multipart), then removal.
    let form = reqwest::multipart::Form::new().part(
        "logo",
        reqwest::multipart::Part::bytes(PNG.to_vec())
            .file_name("logo.png")
            .mime_str("image/png")
            .expect("mime"),
    );
    let res = app
        .admin
        .post(format!("{}/admin/settings/logo", app.url))
        .header("Origin", &app.url)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin/settings?logo=saved".to_string())
    );
    let (s, _) = app
        .api(Method::DELETE, "/api/v1/settings/branding/logo", None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        client()
            .get(format!("{}{logo}", app.url))
            .send()
            .await
            .expect("gone")
            .status(),
        404
    );
    let (_, b) = app
        .api(Method::GET, "/api/v1/settings/branding", None)
        .await;
    assert!(b["logo_url"].is_null(), "{b}");
    // Back to the default colour.
    let (_, b) = app
        .api(
            Method::PATCH,
            "/api/v1/settings/branding",
            Some(json!({"accent_color": null})),
        )
        .await;
    assert!(b["accent_color"].is_null());
    assert_eq!(get("/branding.css").await.text().await.expect("css"), "");
}
