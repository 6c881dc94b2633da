//! Pushed authorization requests (RFC 9126, SPEC §3c): the client posts the parameters, the
//! browser carries only the request_uri; checked at the push, used once, 60 s, and required
//! by apps that say so.

use reqwest::Method;
use serde_json::{json, Value};

use crate::authorize::{
    alice, authorize, challenge, exchange, make_app, query_of, setup, CB, VERIFIER,
};
use crate::helpers::*;

async fn push(
    url: &str,
    app_id: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut req = client()
        .post(format!("{url}/oauth2/par/{app_id}"))
        .form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await.expect("par");
    let s = res.status().as_u16();
    (s, res.json().await.unwrap_or(Value::Null))
}

const WEB: Option<(&str, &str)> = Some(("web-client", "web-secret-123"));

fn code_request(ch: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("redirect_uri", CB.into()),
        ("scope", "read".into()),
        ("state", "pushed-state".into()),
        ("code_challenge", ch.to_string()),
        ("code_challenge_method", "S256".into()),
    ]
}

fn borrowed<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, x)| (*k, x.as_str())).collect()
}

#[tokio::test]
async fn a_pushed_request_is_used_once_by_its_client_and_survives_the_sign_in() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "web", json!({})).await;
    let meta = as_metadata(&app.url, "web").await;
    assert_eq!(
        meta["pushed_authorization_request_endpoint"],
        format!("{}/oauth2/par/web", app.url)
    );
    assert_eq!(meta["require_pushed_authorization_requests"], false);

    let ch = challenge(VERIFIER);
    let params = code_request(&ch);
    let (s, p) = push(&app.url, "web", &borrowed(&params), WEB).await;
    assert_eq!(s, 201, "{p}");
    let uri = p["request_uri"].as_str().unwrap_or_default().to_string();
    assert!(
        uri.starts_with("urn:ietf:params:oauth:request_uri:") && uri.len() > 60,
        "{uri}"
    );
    assert_eq!(p["expires_in"], 60);

    // Another client cannot use it; a stranger is sent to sign in and comes back to it.
    let c = client();
    let res = authorize(
        &c,
        &app.url,
        "web",
        &[("client_id", "someone-else"), ("request_uri", &uri)],
    )
    .await;
    assert_eq!(res.status(), 400);
    let res = authorize(
        &c,
        &app.url,
        "web",
        &[("client_id", "web-client"), ("request_uri", &uri)],
    )
    .await;
    let to = location(&res);
    assert!(to.starts_with("/login?return_to="), "{to}");
    let back = query_of(&to).get("return_to").cloned().unwrap_or_default();
    let res = sign_in(&c, &app.url, "alice", "alice-password", &back).await;
    assert_eq!(location(&res), back);
    let res = c
        .get(format!("{}{back}", app.url))
        .send()
        .await
        .expect("authorize");
    let loc = location(&res);
    assert!(loc.starts_with(CB), "{loc}");
    let q = query_of(&loc);
    assert_eq!(
        q.get("state").map(String::as_str),
        Some("pushed-state"),
        "the pushed parameters"
    );
    let (s, t) = exchange(
        &app.url,
        "web",
        q.get("code").map(String::as_str).unwrap_or(""),
        VERIFIER,
    )
    .await;
    assert_eq!(s, 200, "{t}");

    // Spent: the same request_uri again is refused, and no code comes of it.
    let res = c
        .get(format!("{}{back}", app.url))
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), 400);
    let page = res.text().await.unwrap_or_default();
    assert!(page.contains("unknown, expired or used already"), "{page}");

    // Expired after 60 s.
    let (_, p) = push(&app.url, "web", &borrowed(&params), WEB).await;
    sqlx::query("UPDATE pushed_requests SET expires_at = 1")
        .execute(&app.services.store.pool)
        .await
        .expect("expire");
    let a = alice(&app).await;
    let res = authorize(
        &a,
        &app.url,
        "web",
        &[
            ("client_id", "web-client"),
            ("request_uri", p["request_uri"].as_str().unwrap_or("")),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);
    let report = app.services.purge_expired(10).await.expect("purge");
    assert_eq!(report.pushed_requests, 1, "{report:?}");
}

#[tokio::test]
async fn a_pushed_request_is_checked_before_it_is_kept() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "web", json!({})).await;
    let ch = challenge(VERIFIER);
    let base = code_request(&ch);
    let with = |k: &'static str, v: &str| {
        let mut p: Vec<(&'static str, String)> =
            base.iter().filter(|(n, _)| *n != k).cloned().collect();
        p.push((k, v.to_string()));
        p
    };
    for (params, code) in [
        (
            with("redirect_uri", "https://evil.example/cb"),
            "invalid_request",
        ),
        (with("scope", "nope"), "invalid_scope"),
        (with("response_type", "bogus"), "unsupported_response_type"),
        (with("code_challenge_method", "plain"), "invalid_request"),
        (
            with("request_uri", "urn:ietf:params:oauth:request_uri:x"),
            "invalid_request",
        ),
        (with("client_id", "someone-else"), "invalid_request"),
        (
            with("resource", "https://elsewhere.example/"),
            "invalid_target",
        ),
    ] {
        let (s, e) = push(&app.url, "web", &borrowed(&params), WEB).await;
        assert_eq!(
            (s, e["error"].as_str()),
            (400, Some(code)),
            "{params:?}: {e}"
        );
    }
    let (s, e) = push(
        &app.url,
        "web",
        &borrowed(&base),
        Some(("web-client", "wrong")),
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (401, Some("invalid_client")),
        "{e}"
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pushed_requests")
        .fetch_one(&app.services.store.pool)
        .await
        .expect("count");
    assert_eq!(n, 0, "nothing refused was kept");
}

#[tokio::test]
async fn an_app_that_requires_par_refuses_plain_requests_and_consent_keeps_the_request_uri() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(
        &app,
        "strict",
        json!({"require_par": true, "user_must_confirm": true}),
    )
    .await;
    let ch = challenge(VERIFIER);
    let params = code_request(&ch);
    let a = alice(&app).await;
    // A plain request: refused to the client.
    let mut plain = borrowed(&params);
    plain.push(("client_id", "web-client"));
    let res = authorize(&a, &app.url, "strict", &plain).await;
    let loc = location(&res);
    assert!(loc.starts_with(CB), "{loc}");
    assert_eq!(
        query_of(&loc).get("error").map(String::as_str),
        Some("invalid_request")
    );
    let (_, meta) = app.api(Method::GET, "/api/v1/apps/strict", None).await;
    assert_eq!(meta["require_par"], true);

    // Pushed: the consent page carries the request_uri, not the parameters; approving ends it.
    let (_, p) = push(&app.url, "strict", &borrowed(&params), WEB).await;
    let uri = p["request_uri"].as_str().unwrap_or_default().to_string();
    let res = authorize(
        &a,
        &app.url,
        "strict",
        &[("client_id", "web-client"), ("request_uri", &uri)],
    )
    .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap_or_default();
    assert!(
        page.contains(&format!("name=\"request_uri\" value=\"{uri}\"")),
        "{page}"
    );
    assert!(!page.contains("name=\"redirect_uri\""), "{page}");
    let at = page.find("name=\"csrf\" value=\"").expect("csrf") + 19;
    let csrf = page[at..at + page[at..].find('"').unwrap_or(0)].to_string();
    let res = a
        .post(format!("{}/oauth2/consent/strict", app.url))
        .header("Origin", &app.url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("client_id", "web-client"),
            ("request_uri", uri.as_str()),
            ("scope_choice", "read"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .expect("consent");
    let loc = location(&res);
    assert!(loc.starts_with(CB) && loc.contains("code="), "{loc}");
    let res = authorize(
        &a,
        &app.url,
        "strict",
        &[("client_id", "web-client"), ("request_uri", &uri)],
    )
    .await;
    assert_eq!(res.status(), 400, "spent");
}
