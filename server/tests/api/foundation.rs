//! Start-up, health, sign-in and the portal guard.

use crate::helpers::*;

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let app = spawn_app().await;
    let c = client();
    let h = c
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .expect("healthz");
    assert_eq!(h.status(), 200);
    let r = c
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .expect("readyz");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["status"],
        "ready"
    );
}

#[tokio::test]
async fn sign_in_with_the_bootstrap_password_returns_to_the_page() {
    let app = spawn_app().await;
    let c = client();
    let res = sign_in(&c, &app.url, "ADMIN", ADMIN_PASSWORD, "/admin/users?q=a").await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/admin/users?q=a");
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let page = c
        .get(format!("{}/admin/users", app.url))
        .send()
        .await
        .expect("users page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap_or_default();
    assert!(html.contains("Signed in as"), "portal shell is shown");
    assert!(html.contains(">admin<"), "the admin is listed");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_error() {
    let app = spawn_app().await;
    let c = client();
    let wrong = sign_in(&c, &app.url, "admin", "wrong-password", "/admin").await;
    let unknown = sign_in(&c, &app.url, "nobody", "wrong-password", "/admin").await;
    assert_eq!(wrong.status(), 302);
    let (l1, l2) = (location(&wrong), location(&unknown));
    assert!(l1.starts_with("/login?error=invalid&"), "{l1}");
    assert_eq!(
        l1.replace("login_name=admin", "X"),
        l2.replace("login_name=nobody", "X")
    );
    let page = c
        .get(format!("{}/admin", app.url))
        .send()
        .await
        .expect("admin");
    assert_eq!(page.status(), 303, "still not signed in");
    // No session was handed out by the failed sign-ins.
    for res in [&wrong, &unknown] {
        let cookies: Vec<_> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| v.starts_with("gatehouse_session=") && !v.contains("Max-Age=0"))
            .collect();
        assert!(cookies.is_empty(), "{cookies:?}");
    }
    let (s, _) = api_call(&c, &app.url, reqwest::Method::GET, "/api/v1/users", None).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn json_sign_in_failure_is_reported_without_redirect() {
    let app = spawn_app().await;
    let res = client()
        .post(format!("{}/sfn/login", app.url))
        .header("Origin", &app.url)
        .form(&[("login_name", "admin"), ("password", "nope-nope")])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap_or_default();
    assert!(body.contains("Invalid login name or password."), "{body}");
}

#[tokio::test]
async fn anonymous_visitor_is_sent_to_login_and_back() {
    let app = spawn_app().await;
    let c = client();
    let res = c
        .get(format!("{}/admin/roles?x=1", app.url))
        .send()
        .await
        .expect("admin");
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?return_to=%2Fadmin%2Froles%3Fx%3D1");
    let login = c
        .get(format!("{}{}", app.url, location(&res)))
        .send()
        .await
        .expect("login page");
    let html = login.text().await.unwrap_or_default();
    assert!(
        html.contains(r#"name="return_to" value="/admin/roles?x=1""#),
        "{html}"
    );
    let res = sign_in(&c, &app.url, "admin", ADMIN_PASSWORD, "/admin/roles?x=1").await;
    assert_eq!(location(&res), "/admin/roles?x=1");
}

#[tokio::test]
async fn a_return_path_pointing_off_site_is_ignored() {
    let app = spawn_app().await;
    for evil in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let c = client();
        let res = sign_in(&c, &app.url, "admin", ADMIN_PASSWORD, evil).await;
        assert_eq!(res.status(), 302);
        assert_eq!(
            location(&res),
            "/admin",
            "return_to {evil:?} must be ignored"
        );
    }
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = spawn_app().await;
    // A session cookie held outside any cookie jar, so the server (not the jar forgetting it)
    // must be what refuses it after the sign-out.
    let cookie = session_cookie(&app, "admin", ADMIN_PASSWORD).await;
    let admin_page = |cookie: String| {
        let url = app.url.clone();
        async move {
            client()
                .get(format!("{url}/admin"))
                .header("Cookie", cookie)
                .send()
                .await
                .expect("admin")
                .status()
                .as_u16()
        }
    };
    assert_eq!(admin_page(cookie.clone()).await, 200, "signed in before");
    let res = client()
        .post(format!("{}/sfn/logout", app.url))
        .header("Accept", "text/html")
        .header("Origin", &app.url)
        .header("Cookie", cookie.clone())
        .send()
        .await
        .expect("logout");
    assert_eq!(location(&res), "/login");
    assert_eq!(
        admin_page(cookie).await,
        303,
        "the same cookie is refused afterwards"
    );
}

#[tokio::test]
async fn repeated_failures_are_throttled_and_say_so() {
    let app = spawn_app().await;
    let c = client();
    for _ in 0..10 {
        sign_in(&c, &app.url, "admin", "wrong-password", "/admin").await;
    }
    let res = sign_in(&c, &app.url, "admin", ADMIN_PASSWORD, "/admin").await;
    let to = location(&res);
    assert!(to.starts_with("/login?error=throttled&minutes="), "{to}");
    let page = c
        .get(format!("{}{to}", app.url))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .unwrap_or_default();
    assert!(
        page.contains("Too many failed attempts"),
        "the page says so"
    );
}

#[tokio::test]
async fn a_foreign_origin_cannot_post_the_login_form() {
    let app = spawn_app().await;
    let res = client()
        .post(format!("{}/sfn/login", app.url))
        .header("Origin", "https://evil.example")
        .form(&[("login_name", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn malformed_and_oversized_posts_get_a_4xx() {
    let app = spawn_app().await;
    let c = client();
    let missing = c
        .post(format!("{}/sfn/login", app.url))
        .header("Origin", &app.url)
        .form(&[("x", "y")])
        .send()
        .await
        .expect("post");
    assert!(
        missing.status().is_client_error(),
        "missing fields: {}",
        missing.status()
    );
    let garbage = c
        .post(format!("{}/sfn/login", app.url))
        .header("Origin", &app.url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("%%%&&&=")
        .send()
        .await
        .expect("post");
    assert!(
        garbage.status().is_client_error(),
        "garbage: {}",
        garbage.status()
    );
    let huge = c
        .post(format!("{}/sfn/login", app.url))
        .header("Origin", &app.url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 2 << 20])
        .send()
        .await
        .expect("post");
    assert_eq!(huge.status(), 413);
    let h = c
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .expect("still up");
    assert_eq!(h.status(), 200);
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = spawn_app().await;
    let res = client()
        .get(format!("{}/login", app.url))
        .send()
        .await
        .expect("login");
    let h = res.headers();
    assert_eq!(
        h.get("x-frame-options").and_then(|v| v.to_str().ok()),
        Some("DENY")
    );
    assert!(h
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .contains("frame-ancestors 'none'"));
    assert!(h.get("referrer-policy").is_some());
    let csp = h
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let html = res.text().await.unwrap_or_default();
    // Inline scripts are allowed only by this response's nonce, and they carry it.
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("a nonce in the CSP")
        .to_string();
    let script_src = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap_or_default();
    assert!(!script_src.contains("unsafe-inline"), "{csp}");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
}

#[tokio::test]
async fn a_database_that_cannot_be_opened_stops_start_up_with_the_setting_named() {
    let cfg = config("sqlite:///nonexistent-dir/deeper/gatehouse.db");
    let err = gatehouse::prepare(cfg).await.err().expect("start-up fails");
    assert!(err.to_string().starts_with("DATABASE_URL"), "{err}");
    let err = gatehouse::prepare(config("mysql://x"))
        .await
        .err()
        .expect("start-up fails");
    assert!(err.to_string().starts_with("DATABASE_URL"), "{err}");
}

#[tokio::test]
async fn a_port_in_use_stops_start_up_with_the_setting_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let (db, _dir) = fresh_database().await;
    let mut cfg = config(&db);
    cfg.bind = taken.local_addr().expect("addr");
    let err = gatehouse::prepare(cfg).await.err().expect("start-up fails");
    assert!(err.to_string().starts_with("GATEHOUSE_BIND"), "{err}");
}

#[tokio::test]
async fn a_bad_public_url_stops_start_up_with_the_setting_named() {
    let (db, _dir) = fresh_database().await;
    let mut cfg = config(&db);
    cfg.public_url = Some("ftp://nope".into());
    let err = gatehouse::prepare(cfg).await.err().expect("start-up fails");
    assert!(err.to_string().starts_with("GATEHOUSE_PUBLIC_URL"), "{err}");
}

#[tokio::test]
async fn without_an_admin_password_one_is_generated() {
    let (db, _dir) = fresh_database().await;
    let store = domain::Store::open(&db).await.expect("db");
    let secrets =
        domain::secrets::SecretBox::new(&["test-system-secret-0123456789abcdefghij".into()])
            .expect("secret");
    let services = domain::Services::new(store, "http://127.0.0.1", secrets);
    let generated = services
        .bootstrap("root", None)
        .await
        .expect("bootstrap")
        .expect("a password");
    assert!(generated.len() >= 20);
    assert!(services
        .authenticate_person("root", &generated, "test")
        .await
        .is_ok());
    assert_eq!(
        services
            .bootstrap("root", None)
            .await
            .expect("second start"),
        None,
        "only on an empty database"
    );
}

/// The portal's built assets: brotli when the browser takes it and a `.br` sibling exists,
/// a year's immutable caching for content-hashed names, revalidation for the others.
#[tokio::test]
async fn pkg_assets_are_served_precompressed_and_cached_by_their_hashed_names() {
    let site = tempfile::tempdir().expect("site dir");
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    let wasm = "gatehouse.Yk3nA9dW2xZq1bCd.wasm";
    std::fs::write(pkg.join(wasm), vec![0u8; 4096]).expect("wasm");
    std::fs::write(pkg.join(format!("{wasm}.br")), b"brotli-bytes").expect("br");
    std::fs::write(pkg.join("gatehouse.css"), b"body{}").expect("css");
    let (db, _dir) = fresh_database().await;
    let mut cfg = config(&db);
    cfg.site_root = site.path().to_string_lossy().into_owned();
    let (url, _) = start(cfg).await;
    let get = |path: String, enc: &'static str| {
        let url = url.clone();
        async move {
            client()
                .get(format!("{url}{path}"))
                .header("Accept-Encoding", enc)
                .send()
                .await
                .expect("get")
        }
    };
    let res = get(format!("/pkg/{wasm}"), "br, gzip").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.headers()["content-type"], "application/wasm");
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(res.bytes().await.expect("body").as_ref(), b"brotli-bytes");
    // A client that takes no compression gets the file itself.
    let res = get(format!("/pkg/{wasm}"), "identity").await;
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.bytes().await.expect("body").len(), 4096);
    // A name without a content hash must be revalidated.
    let res = get("/pkg/gatehouse.css".into(), "br").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
}

/// The value of the series of `name` whose labels include every one of `labels`.
fn series(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// `GET /metrics` counts what happened: tokens issued and refused per app, grant and error,
/// requests by route and status, sign-ins; only to loopback peers on the main address, and not
/// there at all when a separate metrics address is set.
#[tokio::test]
async fn metrics_count_tokens_requests_and_sign_ins() {
    let app = spawn_app().await;
    client_app(&app, "metered", "opaque").await;
    for _ in 0..3 {
        cc_token(&app.url, "metered", None).await;
    }
    let (s, _, _) = form_token(
        &app.url,
        "metered",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", "nope"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    let res = client()
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/plain"));
    let text = res.text().await.expect("text");
    assert_eq!(
        series(
            &text,
            "gatehouse_tokens_issued_total",
            &["app=\"metered\"", "grant_type=\"client_credentials\""]
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            "gatehouse_tokens_refused_total",
            &["app=\"metered\"", "error=\"invalid_scope\""]
        ),
        Some(1.0)
    );
    assert!(series(
        &text,
        "gatehouse_http_requests_total",
        &["route=\"/oauth2/token/{app}\"", "status=\"200\""]
    )
    .is_some_and(|n| n >= 3.0));
    // The same route's other status and method are series of their own (per-route handles).
    assert!(series(
        &text,
        "gatehouse_http_requests_total",
        &[
            "route=\"/oauth2/token/{app}\"",
            "method=\"POST\"",
            "status=\"400\""
        ]
    )
    .is_some_and(|n| n >= 1.0));
    assert!(text
        .contains("gatehouse_http_request_duration_seconds_bucket{route=\"/oauth2/token/{app}\""));
    assert!(series(
        &text,
        "gatehouse_sign_ins_total",
        &["outcome=\"succeeded\""]
    )
    .is_some_and(|n| n >= 1.0));
    assert!(series(
        &text,
        "gatehouse_cache_lookups_total",
        &["cache=\"client_secret\"", "result=\"hit\""]
    )
    .is_some());
    assert!(series(&text, "gatehouse_db_pool_connections", &["pool=\"main\""]).is_some());
    assert!(text.contains("gatehouse_build_info{version="));
    assert!(!text.contains(SECRET), "no secret in metrics");

    // With a metrics address of its own, the main address does not answer /metrics.
    let (db, _dir) = fresh_database().await;
    let mut cfg = config(&db);
    cfg.metrics_bind = Some("127.0.0.1:0".parse().expect("addr"));
    let prepared = gatehouse::prepare(cfg).await.expect("starts");
    let url = prepared.public_url.clone();
    let metrics_addr = prepared
        .metrics
        .as_ref()
        .and_then(|(l, _)| l.local_addr().ok())
        .expect("a metrics listener");
    tokio::spawn(gatehouse::serve(prepared));
    let res = client()
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status(), 404);
    let res = client()
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap_or_default()
        .contains("gatehouse_build_info"));
}

/// Every answer carries an `X-Request-Id`: a fresh one per request, or the caller's when it is
/// a plain token (a proxy's id carries through); anything else is replaced.
#[tokio::test]
async fn every_response_has_a_request_id() {
    let app = spawn_app().await;
    let get = |id: Option<&'static str>| {
        let url = app.url.clone();
        async move {
            let mut r = client().get(format!("{url}/healthz"));
            if let Some(id) = id {
                r = r.header("X-Request-Id", id);
            }
            r.send().await.expect("get").headers()["x-request-id"]
                .to_str()
                .unwrap_or("")
                .to_string()
        }
    };
    let (a, b) = (get(None).await, get(None).await);
    assert!(a.len() >= 16 && a != b, "{a} {b}");
    assert_eq!(get(Some("proxy-id-1234")).await, "proxy-id-1234");
    let forged = get(Some("bad id <script>")).await;
    assert!(forged.len() >= 16 && !forged.contains(' '));
}

/// A program's bearer request to the admin API carries no cookie, so it skips the portal's
/// session, Origin and page layers — but not the edge every route has (request id, security
/// headers) — and its answers are the ones a request through the whole stack gets: the same
/// data for a known route, the same "not found" for a path no API route knows, the same refusal
/// without a token.
#[tokio::test]
async fn a_cookieless_api_request_keeps_the_edge_and_gets_the_same_answers() {
    let app = spawn_app().await;
    client_app(&app, "edge", "opaque").await;
    let token = cc_token(&app.url, "edge", Some("users")).await;
    let get = |path: &str, cookie: Option<&str>, bearer: bool| {
        let mut req = client().get(format!("{}{path}", app.url));
        if bearer {
            req = req.bearer_auth(&token);
        }
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        async move { req.send().await.expect("request") }
    };
    let mut answers = Vec::new();
    for cookie in [None, Some("theme=dark")] {
        let res = get(&format!("/api/v1/users?login_name={CLIENT}"), cookie, true).await;
        assert_eq!(res.status(), 200, "cookie {cookie:?}");
        let id = res
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok());
        assert!(id.is_some_and(|v| v.len() >= 16), "cookie {cookie:?}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.headers()["x-frame-options"], "DENY");
        let users: serde_json::Value = res.json().await.expect("json");
        assert_eq!(users["items"][0]["login_name"], CLIENT, "{users}");
        let unknown = get("/api/v1/no-such-thing", cookie, true).await;
        let unknown = (
            unknown.status().as_u16(),
            unknown.headers().get("content-type").cloned(),
            unknown.headers().contains_key("x-request-id"),
        );
        let anonymous = get("/api/v1/users", cookie, false).await;
        let anonymous = (
            anonymous.status().as_u16(),
            anonymous.text().await.unwrap_or_default(),
        );
        answers.push((users["total"].clone(), unknown, anonymous));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].1 .0, 404);
    assert!(
        answers[0].1 .2,
        "a path no API route knows still gets a request id"
    );
    assert_eq!(answers[0].2 .0, 401);
}

#[tokio::test]
async fn the_login_page_shows_only_messages_chosen_by_a_code() {
    let app = spawn_app().await;
    let page = |q: &'static str| {
        let url = app.url.clone();
        async move {
            client()
                .get(format!("{url}/login?{q}"))
                .send()
                .await
                .expect("login page")
                .text()
                .await
                .unwrap_or_default()
        }
    };
    let phishing =
        page("error=Your%20password%20expired.%20Email%20it%20to%20help%40evil.example").await;
    assert!(phishing.contains("Login Name"), "the page renders");
    assert!(
        !phishing.contains("evil.example"),
        "text from the URL is never shown"
    );
    assert!(
        !phishing.contains("role=\"alert\""),
        "an unknown code shows no alert"
    );
    let invalid = page("error=invalid").await;
    assert!(invalid.contains("Invalid login name or password."));
    let throttled = page("error=throttled&minutes=3").await;
    assert!(throttled.contains("Try again in 3 minutes."));
}
