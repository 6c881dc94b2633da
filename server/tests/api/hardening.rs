//! Hardening: client isolation between apps, throttling that a cache or concurrency cannot
//! get around, and hostile or incomplete requests answered in the contract's format.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const OTHER: &str = "other-client@example.com";
const OTHER_SECRET: &str = "other-secret-1";

/// `app_id`'s endpoint called with HTTP Basic credentials and a `token` form field.
async fn token_call(
    url: &str,
    endpoint: &str,
    app_id: &str,
    creds: (&str, &str),
    token: &str,
) -> (u16, Value) {
    let res = client()
        .post(format!("{url}/oauth2/{endpoint}/{app_id}"))
        .basic_auth(creds.0, Some(creds.1))
        .form(&[("token", token)])
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_client_of_another_app_can_neither_introspect_nor_revoke_its_tokens() {
    let app = spawn_app().await;
    for kind in ["opaque", "jwt_rs256"] {
        let (mine, theirs) = (format!("mine-{kind}"), format!("theirs-{kind}"));
        client_app(&app, &mine, kind).await;
        // A second app whose only client is OTHER, who has no access to `mine`.
        let role = app.create_role(&format!("Clients of {theirs}"), &[]).await;
        let other = match app
            .api(
                Method::GET,
                &format!("/api/v1/users?login_name={OTHER}"),
                None,
            )
            .await
            .1["items"][0]["id"]
            .as_str()
        {
            Some(id) => id.to_string(),
            None => app.create_user(OTHER, OTHER_SECRET, true).await,
        };
        app.add_member(&role, &other).await;
        let (s, b) = app
            .api(
                Method::POST,
                "/api/v1/apps",
                Some(json!({"app_id": theirs, "name": theirs, "token_type": kind,
                    "auth_methods": ["client_credentials"], "scopes": [{"name": "x"}],
                    "user_access_roles": [format!("Clients of {theirs}")]})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let token = cc_token(&app.url, &mine, Some("users")).await;

        // At the victim app's own endpoints the other client is not a client at all.
        let (s, b) = token_call(&app.url, "introspect", &mine, (OTHER, OTHER_SECRET), &token).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (401, Some("invalid_client")),
            "{kind}: {b}"
        );
        assert!(b.get("active").is_none(), "no claims leak: {b}");
        let (s, b) = token_call(&app.url, "revoke", &mine, (OTHER, OTHER_SECRET), &token).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (401, Some("invalid_client")),
            "{kind}: {b}"
        );
        // At its own app's endpoints the foreign token is simply not one of its tokens.
        let (s, b) = token_call(
            &app.url,
            "introspect",
            &theirs,
            (OTHER, OTHER_SECRET),
            &token,
        )
        .await;
        assert_eq!((s, b), (200, json!({"active": false})), "{kind}");
        let (s, _) = token_call(&app.url, "revoke", &theirs, (OTHER, OTHER_SECRET), &token).await;
        assert_eq!(s, 200, "RFC 7009: 200 for a token it does not know");

        // None of that revoked it: the owner still sees it active and it still works.
        let (s, b) = token_call(&app.url, "introspect", &mine, (CLIENT, SECRET), &token).await;
        assert_eq!((s, &b["active"]), (200, &json!(true)), "{kind}: {b}");
        assert_eq!(
            bearer_status(&app.url, "/api/v1/users", &token).await,
            200,
            "{kind}: the token was not revoked"
        );
    }
}

#[tokio::test]
async fn the_lockout_is_not_bypassed_by_a_cached_secret() {
    let app = spawn_app().await;
    client_app(&app, "locked", "opaque").await;
    let form = |secret: &'static str| {
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", secret),
        ]
    };
    // The right secret is proven, so it sits in the verification cache.
    let (s, _, _) = form_token(&app.url, "locked", &form(SECRET)).await;
    assert_eq!(s, 200);
    for i in 0..10 {
        let (s, b, _) = form_token(&app.url, "locked", &form("wrong-secret")).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (401, Some("invalid_client")),
            "attempt {i}"
        );
    }
    // The account is locked now: the right secret (the attacker's lucky guess, or the cached
    // client) is refused like any other until the back-off ends.
    let (s, b, headers) = form_token(&app.url, "locked", &form(SECRET)).await;
    assert_eq!(s, 429, "{b}");
    let retry: i64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=30).contains(&retry), "{retry}");
    // The same lock, seen from a second instance whose cache never saw the failures.
    let (url2, _) = start(config(&app.db)).await;
    let (s, _, _) = form_token(&url2, "locked", &form(SECRET)).await;
    assert_eq!(s, 429, "another instance honours the lock");
}

#[tokio::test]
async fn concurrent_wrong_secrets_are_all_counted_and_the_block_starts_at_the_limit() {
    let app = spawn_app().await;
    client_app(&app, "spray", "opaque").await;
    let attempts = (0..100).map(|i| {
        let url = app.url.clone();
        async move {
            let secret = format!("guess-{i}");
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                ("client_secret", secret.as_str()),
            ];
            form_token(&url, "spray", &form).await.0
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    let verified = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    // Exactly the limit was verified, however the 100 requests interleaved.
    assert_eq!((verified, throttled), (10, 90), "{statuses:?}");
    let (s, _, _) = form_token(
        &app.url,
        "spray",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!(s, 429, "still locked for the right secret");
}

#[tokio::test]
async fn an_api_call_without_the_session_cookie_is_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let user = json!({"login_name": "mallory", "password": "long-enough-pw-1"});
    let challenge = |res: &reqwest::Response| {
        res.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    // No credentials at all, no Origin: not a cross-origin question, a missing credential.
    let res = client()
        .post(format!("{}/api/v1/users", app.url))
        .json(&user)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 401);
    assert!(challenge(&res).starts_with("Bearer"), "{}", challenge(&res));
    // Basic credentials (of the administrator, even) are not a way into the API.
    let res = client()
        .post(format!("{}/api/v1/users", app.url))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .header("Origin", "https://elsewhere.example")
        .json(&user)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 401);
    assert!(challenge(&res).starts_with("Bearer"), "{}", challenge(&res));
    // With the session cookie the Origin check still protects the API.
    let res = app
        .admin
        .post(format!("{}/api/v1/users", app.url))
        .json(&user)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403, "cookie without Origin");
    let res = app
        .admin
        .post(format!("{}/api/v1/users", app.url))
        .header("Origin", "https://elsewhere.example")
        .json(&user)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 403, "cookie with a foreign Origin");
    let (_, list) = app
        .api(Method::GET, "/api/v1/users?login_name=mallory", None)
        .await;
    assert_eq!(list["total"], 0, "nothing was created: {list}");
}

#[tokio::test]
async fn the_public_origin_matches_in_any_equivalent_spelling() {
    let app = spawn_app().await;
    // `http://127.0.0.1:PORT/` with a trailing slash and an upper-case scheme is the same origin.
    let spelled = format!("{}/", app.url.replace("http://", "HTTP://"));
    let res = app
        .admin
        .post(format!("{}/api/v1/users", app.url))
        .header("Origin", spelled)
        .json(&json!({"login_name": "same-origin", "email": "same@example.com", "display_name": "Same", "password": "long-enough-pw-1"}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_json_body_missing_a_required_field_names_its_path() {
    let app = spawn_app().await;
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/users",
            Some(json!({"email": "x@example.com", "password": "long-enough-pw-1"})),
        )
        .await;
    assert_eq!((s, b["field"].as_str()), (422, Some("login_name")), "{b}");
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "nested", "name": "Nested",
                "scopes": [{"name": "ok"}, {"description": "no name"}]})),
        )
        .await;
    assert_eq!(
        (s, b["field"].as_str()),
        (422, Some("scopes[1].name")),
        "{b}"
    );
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "nested", "name": "Nested",
                "scopes": [{"name": "ok", "rest_regexes": ["a", 7]}]})),
        )
        .await;
    assert_eq!(
        (s, b["field"].as_str()),
        (422, Some("scopes[0].rest_regexes[1]")),
        "{b}"
    );
    let (s, _) = app.api(Method::GET, "/api/v1/apps/nested", None).await;
    assert_eq!(s, 404, "nothing was created");
}

#[tokio::test]
async fn a_database_outage_is_a_503_never_a_refusal_or_a_sign_in() {
    let app = spawn_app().await;
    client_app(&app, "down", "opaque").await;
    let token = cc_token(&app.url, "down", Some("users")).await;
    // Every query fails from now on.
    app.services.store.close().await;

    let res = app
        .admin
        .get(format!("{}/admin", app.url))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 503, "not a login redirect");
    assert!(res.headers().contains_key("retry-after"));
    let (s, _) = app.api(Method::GET, "/api/v1/users", None).await;
    assert_eq!(s, 503, "cookie session: not 401");
    assert_eq!(
        bearer_status(&app.url, "/api/v1/users", &token).await,
        503,
        "bearer: not 401 invalid_token"
    );
    let (s, b, _) = form_token(
        &app.url,
        "down",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (503, Some("temporarily_unavailable")),
        "{b}"
    );
    assert!(
        !b.to_string().to_lowercase().contains("pool"),
        "no database text to the client: {b}"
    );
    let res = client()
        .get(format!(
            "{}/oauth2/authorize/down?response_type=code&client_id={CLIENT}",
            app.url
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 503, "not 'no such application'");
    let res = app
        .admin
        .get(format!("{}/account/apps", app.url))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 503, "not an empty list or a sign-in");
    let res = client()
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 503);
}

/// A client-credentials request for an unknown client, "from" `forwarded_for`.
async fn failed_client_auth(url: &str, app_id: &str, client_id: &str, forwarded_for: &str) -> u16 {
    client()
        .post(format!("{url}/oauth2/token/{app_id}"))
        .header("X-Forwarded-For", forwarded_for)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .expect("token")
        .status()
        .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_is_throttled_on_its_own() {
    let app = spawn_app().await;
    client_app(&app, "proxied", "opaque").await;
    // An instance behind a reverse proxy on this host, on the same data.
    let mut cfg = config(&app.db);
    cfg.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    let (url, _) = start(cfg).await;
    // 50 failures (over 50 accounts) from one client behind the proxy...
    for i in 0..50 {
        let s = failed_client_auth(&url, "proxied", &format!("ghost-{i}"), "203.0.113.1").await;
        assert_eq!(s, 401, "attempt {i}");
    }
    // ...block that client's address, and only that one.
    let s = failed_client_auth(&url, "proxied", "ghost-new", "203.0.113.1").await;
    assert_eq!(s, 429, "the address is blocked");
    let s = failed_client_auth(&url, "proxied", "ghost-new", "198.51.100.2, 203.0.113.2").await;
    assert_eq!(s, 401, "another client behind the same proxy is not");
    let (s, _, _) = form_token(
        &url,
        "proxied",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ],
    )
    .await;
    assert_eq!(
        s, 200,
        "nor is a client without a forwarded address (the proxy itself)"
    );
}

#[tokio::test]
async fn a_forged_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app().await;
    client_app(&app, "direct", "opaque").await;
    for i in 0..50 {
        let forged = format!("203.0.113.{i}");
        let s = failed_client_auth(&app.url, "direct", &format!("ghost-{i}"), &forged).await;
        assert_eq!(s, 401, "attempt {i}");
    }
    // Every attempt counted against the real peer, whatever it claimed to forward.
    let s = failed_client_auth(&app.url, "direct", "ghost-new", "198.51.100.77").await;
    assert_eq!(s, 429);
}

#[tokio::test]
async fn the_token_endpoints_rate_limit_answers_429_with_retry_after() {
    let app = spawn_app().await;
    client_app(&app, "limited", "opaque").await;
    let mut cfg = config(&app.db);
    cfg.token_rate_limit = 3;
    let (url, _) = start(cfg).await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
    ];
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..12 {
        let (s, b, headers) = form_token(&url, "limited", &form).await;
        if s == 429 {
            assert_eq!(b["error"], "slow_down");
            retry_after = headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
        }
        statuses.push(s);
    }
    assert!(statuses[..3].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    // Only those endpoints: the rest of the server answers as usual.
    let res = client()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    // And the default (off) never limits.
    for _ in 0..12 {
        let (s, _, _) = form_token(&app.url, "limited", &form).await;
        assert_eq!(s, 200);
    }
}

/// Signs in as the administrator on `url` and returns the client (cookie session).
async fn admin_on(url: &str) -> reqwest::Client {
    let c = client();
    let res = sign_in(&c, url, "admin", ADMIN_PASSWORD, "/admin").await;
    assert_eq!(res.status(), 302);
    c
}

#[tokio::test]
async fn sessions_end_after_the_idle_and_the_absolute_timeout() {
    let app = spawn_app().await;
    let users = |c: reqwest::Client, url: String| async move {
        c.get(format!("{url}/api/v1/users"))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16()
    };
    // Idle: 3 s without a request ends the session (the store keeps whole seconds).
    let mut cfg = config(&app.db);
    cfg.session_idle_timeout = 3;
    let (idle_url, _) = start(cfg).await;
    let (c, jar) = jar_client();
    let res = sign_in(&c, &idle_url, "admin", ADMIN_PASSWORD, "/admin").await;
    assert_eq!(res.status(), 302);
    // The cookie as it is now: presented again by hand after the idle period, so the server
    // (not the jar dropping an expired cookie) must refuse it.
    let cookie = cookie_header(&jar, &idle_url);
    assert_eq!(users(c.clone(), idle_url.clone()).await, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(
        users(c.clone(), idle_url.clone()).await,
        200,
        "activity keeps it"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let replayed = client()
        .get(format!("{idle_url}/api/v1/users"))
        .header("Cookie", cookie)
        .send()
        .await
        .expect("get")
        .status()
        .as_u16();
    assert_eq!(
        replayed, 401,
        "idle too long: the server refuses the old cookie"
    );
    assert_eq!(users(c, idle_url).await, 401, "idle too long");
    // Absolute: 3 s after signing in it ends, however active.
    let mut cfg = config(&app.db);
    cfg.session_absolute_timeout = 3;
    let (abs_url, _) = start(cfg).await;
    let c = admin_on(&abs_url).await;
    for _ in 0..3 {
        assert_eq!(users(c.clone(), abs_url.clone()).await, 200);
        tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    assert_eq!(users(c, abs_url).await, 401, "signed in too long ago");
}

#[tokio::test]
async fn housekeeping_deletes_expired_rows_and_keeps_live_ones_even_when_run_twice_at_once() {
    let app = spawn_app().await;
    client_app(&app, "purge", "opaque").await;
    let live = cc_token(&app.url, "purge", None).await;
    let pool = &app.services.store.pool;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // 1,200 expired tokens (more than two batches), expired codes, JTIs and counters.
    for i in 0..1200 {
        sqlx::query("INSERT INTO tokens (token_hash, kind, app_id, client_id, user_id, scope, jti, issued_at, expires_at) VALUES ($1, 'access', 'purge', 'c', 'u', '', $2, $3, $4)")
            .bind(format!("expired-{i}"))
            .bind(format!("jti-{i}"))
            .bind(now - 7200)
            .bind(now - 3600)
            .execute(pool)
            .await
            .expect("insert");
    }
    sqlx::query("INSERT INTO auth_codes (code_hash, app_id, client_id, user_id, redirect_uri, scope, family_id, expires_at) VALUES ('old-code', 'purge', 'c', 'u', 'https://x/cb', '', 'f', $1), ('fresh-code', 'purge', 'c', 'u', 'https://x/cb', '', 'g', $2)")
        .bind(now - 86_400)
        .bind(now - 30)
        .execute(pool)
        .await
        .expect("codes");
    sqlx::query("INSERT INTO revoked_jtis (jti, expires_at) VALUES ('gone', $1), ('kept', $2)")
        .bind(now - 1)
        .bind(now + 3600)
        .execute(pool)
        .await
        .expect("jtis");
    sqlx::query("INSERT INTO auth_failures (key, failures, window_start, blocked_until) VALUES ('acct:old', 3, $1, 0), ('acct:blocked', 12, $2, $3)")
        .bind(now - 7200)
        .bind(now - 60)
        .bind(now + 600)
        .execute(pool)
        .await
        .expect("failures");

    let (a, b) = futures::future::join(
        app.services.purge_expired(100),
        app.services.purge_expired(100),
    )
    .await;
    let (a, b) = (a.expect("purge"), b.expect("purge"));
    assert_eq!(a.tokens + b.tokens, 1200, "{a:?} {b:?}");
    assert_eq!(a.auth_codes + b.auth_codes, 1);
    assert_eq!(a.revoked_jtis + b.revoked_jtis, 1);
    assert_eq!(a.auth_failures + b.auth_failures, 1);

    let count = |sql: &'static str| async move {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(pool).await.expect("count");
        n
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM tokens WHERE token_hash LIKE 'expired-%'").await,
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM auth_codes WHERE code_hash = 'fresh-code'").await,
        1,
        "a just-expired code stays for replay detection"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM revoked_jtis WHERE jti = 'kept'").await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM auth_failures WHERE key = 'acct:blocked'").await,
        1,
        "an active block stays"
    );
    // The live token still works.
    let (_, b) = introspect_with(&app.url, "purge", Some((CLIENT, SECRET)), &live).await;
    assert_eq!(b["active"], true);
}

#[tokio::test]
async fn signing_keys_are_sealed_at_rest_and_open_only_with_the_system_secret() {
    let app = spawn_app().await;
    client_app(&app, "sealed", "jwt_rs256").await;
    let token = cc_token(&app.url, "sealed", None).await;
    let pool = &app.services.store.pool;
    let stored: Vec<(String,)> = sqlx::query_as("SELECT private_key FROM signing_keys")
        .fetch_all(pool)
        .await
        .expect("keys");
    assert!(!stored.is_empty());
    assert!(
        stored
            .iter()
            .all(|(p,)| !p.contains("PRIVATE KEY") && p.starts_with("sealed:v1:")),
        "no plaintext private key in the database"
    );

    // A copy of the database without the secret: start-up refuses, naming the setting.
    let mut other = config(&app.db);
    other.secret_key = vec!["another-secret-0123456789abcdefghijklmnop".into()];
    let err = gatehouse::prepare(other).await.err().expect("refused");
    assert!(err.to_string().contains("GATEHOUSE_SECRET_KEY"), "{err}");

    // Rotation: the new secret first, the old one still accepted; the keys are re-sealed, so
    // afterwards the new secret alone opens them, and old tokens still verify.
    let old = config(&app.db).secret_key[0].clone();
    let new = "rotated-secret-0123456789abcdefghijklmnop".to_string();
    let mut rotating = config(&app.db);
    rotating.secret_key = vec![new.clone(), old];
    let (url, _) = start(rotating).await;
    let mut only_new = config(&app.db);
    only_new.secret_key = vec![new];
    let (url2, _) = start(only_new).await;
    for u in [&url, &url2] {
        let res = client()
            .get(format!("{u}/api/v1/users"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 200);
        let fresh = cc_token(u, "sealed", None).await;
        assert_eq!(fresh.split('.').count(), 3, "signs new JWTs");
    }
}

#[tokio::test]
async fn without_a_configured_secret_sqlite_gets_one_beside_the_database() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    let mut cfg = config(&db);
    cfg.secret_key = vec![];
    let first = cfg.secrets().expect("made");
    let file = dir.path().join("g.db.secret");
    assert!(file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by its owner only");
    }
    assert_eq!(
        cfg.secrets().expect("read again"),
        first,
        "the same on the next start"
    );
    let (url, _) = start(cfg).await;
    let res = client()
        .get(format!("{url}/readyz"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    // PostgreSQL without a secret stops with a clear line.
    let mut pg = config("postgres://127.0.0.1:1/none");
    pg.secret_key = vec![];
    assert!(pg
        .secrets()
        .err()
        .is_some_and(|e| e.contains("GATEHOUSE_SECRET_KEY")));
}

#[tokio::test]
async fn a_read_only_database_stops_start_up_with_one_clear_line() {
    if std::env::var("GATEHOUSE_TEST_POSTGRES").is_ok() {
        return; // SQLite's read-only mode; the PostgreSQL case is the next test.
    }
    let app = spawn_app().await;
    let ro = format!("{}?mode=ro", app.db);
    let err = gatehouse::prepare(config(&ro))
        .await
        .err()
        .expect("refused");
    let line = err.to_string();
    assert!(line.starts_with("DATABASE_URL"), "{line}");
    assert!(!line.contains('\n'), "one line: {line}");
}

#[tokio::test]
async fn a_database_that_stops_taking_writes_is_not_ready_and_recovers_by_itself() {
    let Ok(_) = std::env::var("GATEHOUSE_TEST_POSTGRES") else {
        return; // Needs a server whose read-only mode can be switched: PostgreSQL.
    };
    let app = spawn_app().await;
    client_app(&app, "rofault", "opaque").await;
    let readyz = || async {
        client()
            .get(format!("{}/readyz", app.url))
            .send()
            .await
            .expect("readyz")
            .status()
            .as_u16()
    };
    assert_eq!(readyz().await, 200);
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&app.db)
        .await
        .expect("connect");
    let set = |on: bool| {
        format!(
            "ALTER DATABASE {} SET default_transaction_read_only = {}",
            app.db.rsplit('/').next().expect("name"),
            if on { "on" } else { "off" }
        )
    };
    let kick = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                WHERE datname = current_database() AND pid <> pg_backend_pid()";
    sqlx::Executor::execute(&mut admin, set(true).as_str())
        .await
        .expect("ro");
    sqlx::Executor::execute(&mut admin, kick)
        .await
        .expect("kick");
    // The pool reconnects, read-only: not ready, and writes are a logged 500.
    let mut not_ready = false;
    for _ in 0..40 {
        if readyz().await == 503 {
            not_ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(not_ready, "/readyz reports the fault");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
    ];
    let (s, b, _) = form_token(&app.url, "rofault", &form).await;
    assert_eq!((s, b["error"].as_str()), (500, Some("server_error")), "{b}");
    // The fault goes away; the read-only connections in the pool must not keep it alive.
    sqlx::Executor::execute(&mut admin, set(false).as_str())
        .await
        .expect("rw");
    let mut ready = false;
    for _ in 0..60 {
        if readyz().await == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(ready, "recovered without a restart");
    let (s, b, _) = form_token(&app.url, "rofault", &form).await;
    assert_eq!(s, 200, "{b}");
}

/// How a dripping connection ended.
#[derive(Debug, PartialEq)]
enum Drip {
    /// The server closed it (or answered and closed) before the client was done.
    CutOff,
    /// The client sent all it meant to (about a minute) and the server had let it.
    Outlasted,
}

/// A client that sends a request's headers one byte every 300 ms for 200 bytes (a minute).
async fn drip_headers(addr: String) -> Drip {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
        return Drip::CutOff;
    };
    let header = b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: ";
    let mut buf = [0u8; 512];
    for b in header.iter().chain(std::iter::repeat(&b'a')).take(200) {
        if s.write_all(&[*b]).await.is_err() {
            return Drip::CutOff;
        }
        match tokio::time::timeout(std::time::Duration::from_millis(300), s.read(&mut buf)).await {
            Err(_) => continue,
            // Closed, reset, or answered (and then closed): either way it is over.
            Ok(_) => return Drip::CutOff,
        }
    }
    Drip::Outlasted
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_normal_clients_are_unaffected() {
    gatehouse::serve::raise_open_file_limit();
    let app = spawn_app().await;
    client_app(&app, "busy", "opaque").await;
    let mut cfg = config(&app.db);
    // Long enough that the normal requests below finish before the first cut even when the
    // whole suite runs beside this test on two cores (at 2 s, 128 of 500 were cut meanwhile
    // once), and far below the minute a dripping client needs.
    cfg.header_timeout = 6;
    let (url, _) = start(cfg).await;
    let addr = url.trim_start_matches("http://").to_string();
    let slow: Vec<_> = (0..500)
        .map(|_| tokio::spawn(drip_headers(addr.clone())))
        .collect();
    // While the 500 connections dribble (all still open), normal requests are served. How
    // fast is `make bench`'s question (its flood case), not this test's.
    for _ in 0..20 {
        let (s, _, _) = form_token(
            &url,
            "busy",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                ("client_secret", SECRET),
            ],
        )
        .await;
        assert_eq!(s, 200);
    }
    let open = slow.iter().filter(|h| !h.is_finished()).count();
    assert!(
        open > 400,
        "the slow connections were open meanwhile: {open}"
    );
    // Every slow connection was closed by the server's header timeout; none was let run the
    // minute it would have taken to finish.
    for h in slow {
        assert_eq!(h.await.expect("join"), Drip::CutOff);
    }
    let res = client()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200, "healthy afterwards");
}

/// Enabled members of System Administrator, read from the database.
async fn enabled_sysadmins(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM role_members m JOIN roles r ON r.id = m.role_id JOIN users u ON u.id = m.user_id \
         WHERE r.builtin = 'sysadmin' AND u.enabled = 1",
    )
    .fetch_one(&app.services.store.pool)
    .await
    .expect("count");
    n
}

#[tokio::test]
async fn two_concurrent_removals_never_leave_system_administrator_empty() {
    for round in 0..4 {
        let app = spawn_app().await;
        let (_, roles) = app.api(Method::GET, "/api/v1/roles", None).await;
        let sys = roles["items"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["name"] == "System Administrator"))
            .and_then(|r| r["id"].as_str())
            .expect("sysadmin")
            .to_string();
        let (_, me) = app
            .api(Method::GET, "/api/v1/users?login_name=admin", None)
            .await;
        let admin_id = me["items"][0]["id"].as_str().expect("admin").to_string();
        let second = app
            .create_user("second-admin", "second-admin-pw", false)
            .await;
        app.add_member(&sys, &second).await;
        let (a, b) = if round % 2 == 0 {
            // Both memberships removed at once.
            futures::future::join(
                app.api(
                    Method::DELETE,
                    &format!("/api/v1/roles/{sys}/members/{second}"),
                    None,
                ),
                app.api(
                    Method::DELETE,
                    &format!("/api/v1/roles/{sys}/members/{admin_id}"),
                    None,
                ),
            )
            .await
        } else {
            // The other one disabled while this one is removed.
            futures::future::join(
                app.api(
                    Method::PATCH,
                    &format!("/api/v1/users/{second}"),
                    Some(json!({"enabled": false})),
                ),
                app.api(
                    Method::DELETE,
                    &format!("/api/v1/roles/{sys}/members/{admin_id}"),
                    None,
                ),
            )
            .await
        };
        // One goes through and the other is refused: 409 when it would leave the role empty, or
        // 403 when the admin's own removal went first and took the right the PATCH needs.
        let statuses = [a.0, b.0];
        let done = statuses.iter().filter(|s| (200..300).contains(*s)).count();
        let refused = statuses.iter().filter(|s| matches!(s, 403 | 409)).count();
        assert_eq!(
            (done, refused),
            (1, 1),
            "round {round}: one is refused: {a:?} {b:?}"
        );
        assert_eq!(
            enabled_sysadmins(&app).await,
            1,
            "round {round}: {a:?} {b:?}"
        );
    }
}

#[tokio::test]
async fn the_password_grant_is_throttled_with_429_and_retry_after() {
    let app = spawn_app().await;
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(
                json!({"app_id": "ropc", "name": "ropc", "client_id_type": "anything",
                "auth_methods": ["password"], "scopes": [{"name": "x"}],
                "user_access_roles": ["Everybody"]}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    app.create_user("dora", "dora-password-1", false).await;
    let attempt = |password: &'static str| {
        let url = app.url.clone();
        async move {
            form_token(
                &url,
                "ropc",
                &[
                    ("grant_type", "password"),
                    ("client_id", "any-client"),
                    ("username", "dora"),
                    ("password", password),
                ],
            )
            .await
        }
    };
    for i in 0..10 {
        let (s, b, _) = attempt("wrong-password").await;
        assert_eq!(
            (s, b["error"].as_str()),
            (400, Some("invalid_grant")),
            "attempt {i}"
        );
    }
    let (s, b, headers) = attempt("dora-password-1").await;
    assert_eq!(s, 429, "the right password is refused while locked: {b}");
    let retry: i64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=30).contains(&retry));
}

#[tokio::test]
async fn the_session_sweeper_deletes_expired_sessions_and_keeps_live_ones() {
    let app = spawn_app().await;
    let pool = app.services.store.pool.clone();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    sqlx::query("INSERT INTO sessions (id_hash, data, expires_at) VALUES ('old', '{}', $1), ('live', '{}', $2)")
        .bind(now - 10)
        .bind(now + 3600)
        .execute(&pool)
        .await
        .expect("insert");
    gatehouse::sessions::DbSessionStore::new(pool.clone())
        .delete_expired()
        .await;
    let left: Vec<(String,)> =
        sqlx::query_as("SELECT id_hash FROM sessions WHERE id_hash IN ('old', 'live')")
            .fetch_all(&pool)
            .await
            .expect("select");
    assert_eq!(left, vec![("live".to_string(),)]);
    // The administrator's own session survived too.
    let (s, _) = app.api(Method::GET, "/api/v1/users", None).await;
    assert_eq!(s, 200);
}

/// Purged rows give their space back: on SQLite the file shrinks (incremental auto-vacuum and
/// a WAL truncation after the purge), and a purge that runs out of batches says more is left.
#[tokio::test]
async fn a_purge_gives_the_space_back_and_says_when_more_is_left() {
    let app = spawn_app().await;
    let pool = &app.services.store.pool;
    let mut tx = pool.begin().await.expect("tx");
    for i in 0..6000 {
        sqlx::query(
            "INSERT INTO tokens (token_hash, kind, app_id, client_id, user_id, username, scope, jti, family_id, issued_at, expires_at) \
             VALUES ($1, 'access', 'a', 'c', 'u', NULL, 'read write', $2, NULL, 1, 2)",
        )
        .bind(format!("bulk-{i:06}-{}", "x".repeat(64)))
        .bind(format!("jti-{i}"))
        .execute(&mut *tx)
        .await
        .expect("insert");
    }
    tx.commit().await.expect("commit");
    let first = app.services.purge_expired(4).await.expect("purge");
    assert_eq!(first.tokens, 2000, "{first:?}");
    assert!(
        first.more_left,
        "four batches of 500 could not delete 6,000 rows"
    );
    let rest = app.services.purge_expired(100).await.expect("purge");
    assert_eq!(rest.tokens, 4000);
    assert!(!rest.more_left);
    if app.db.starts_with("sqlite:") {
        let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum")
            .fetch_one(pool)
            .await
            .expect("mode");
        assert_eq!(mode, 2, "incremental auto-vacuum");
        assert!(
            first.pages_freed + rest.pages_freed > 50,
            "{first:?} {rest:?}"
        );
        let free: i64 = sqlx::query_scalar("PRAGMA freelist_count")
            .fetch_one(pool)
            .await
            .expect("free");
        assert_eq!(free, 0, "every freed page went back to the file system");
    }
}

/// A client-credentials request "from" `forwarded_for` (behind a trusted proxy): status,
/// `Retry-After` and the error code.
async fn cc_from(
    url: &str,
    app_id: &str,
    form: &[(&str, &str)],
    forwarded_for: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut req = client()
        .post(format!("{url}/oauth2/token/{app_id}"))
        .form(form);
    if let Some(f) = forwarded_for {
        req = req.header("X-Forwarded-For", f);
    }
    let res = req.send().await.expect("token");
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, retry, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_flood_of_failing_attempts_meets_a_bounded_argon2_queue_with_503s() {
    let app = spawn_app().await;
    client_app(&app, "flooded", "opaque").await;
    let mut cfg = config(&app.db);
    cfg.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    cfg.password_hash_concurrency = 1;
    cfg.password_hash_queue = 4;
    let (url, services) = start(cfg).await;
    // Watch the Argon2 runs in flight while 300 strangers from 300 addresses try their luck.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (services, done) = (services.clone(), done.clone());
        tokio::spawn(async move {
            let mut most = 0;
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                most = most.max(services.hasher.running());
                tokio::task::yield_now().await;
            }
            most
        })
    };
    let flood = (0..300).map(|i| {
        let url = url.clone();
        async move {
            let id = format!("stranger-{i}");
            let addr = format!("10.9.{}.{}", i / 250, i % 250 + 1);
            cc_from(
                &url,
                "flooded",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", id.as_str()),
                    ("client_secret", "guess"),
                ],
                Some(&addr),
            )
            .await
        }
    });
    // 64 at a time: far more than the queue (4) and the workers (1) take, without a burst of
    // 300 connects that a loaded machine's accept queue drops (a connect then times out).
    let answers: Vec<_> = futures::stream::StreamExt::collect(
        futures::stream::StreamExt::buffer_unordered(futures::stream::iter(flood), 64),
    )
    .await;
    done.store(true, std::sync::atomic::Ordering::Release);
    let most = watcher.await.expect("watcher");
    assert!(
        most <= 1,
        "never more Argon2 runs at once than the bound: {most}"
    );
    let busy: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 503).collect();
    assert!(
        answers.iter().all(|(s, _, _)| *s == 401 || *s == 503),
        "only refusals and 503s: {:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert!(!busy.is_empty(), "the queue overflowed into 503s");
    for (_, retry, body) in &busy {
        assert_eq!(body["error"], "temporarily_unavailable");
        assert_eq!(retry.as_deref(), Some("1"));
    }
    let ready = client()
        .get(format!("{url}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    // The client itself still gets its tokens.
    let (s, _, b) = cc_from(
        &url,
        "flooded",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ],
        Some("192.0.2.10"),
    )
    .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn concurrent_right_secrets_with_a_cold_cache_share_one_argon2_run() {
    let app = spawn_app().await;
    client_app(&app, "cold", "opaque").await;
    let before = app.services.hasher.runs();
    let burst = (0..32).map(|_| {
        let url = app.url.clone();
        async move {
            cc_from(
                &url,
                "cold",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", CLIENT),
                    ("client_secret", SECRET),
                ],
                None,
            )
            .await
            .0
        }
    });
    let statuses = futures::future::join_all(burst).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(app.services.hasher.runs() - before, 1, "one Argon2 run");
}

#[tokio::test]
async fn strangers_cannot_lock_a_client_out_from_elsewhere() {
    let app = spawn_app().await;
    client_app(&app, "guarded", "opaque").await;
    let mut cfg = config(&app.db);
    cfg.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    let (url, _) = start(cfg).await;
    let stranger = "203.0.113.66";
    // Junk private_key_jwt assertions naming the client, and wrong secrets, from one address.
    for i in 0..12 {
        let (s, _, b) = cc_from(
            &url,
            "guarded",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                (
                    "client_assertion",
                    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln",
                ),
            ],
            Some(stranger),
        )
        .await;
        assert_eq!(s, 401, "junk assertion {i}: {b}");
    }
    for i in 0..10 {
        let (s, _, _) = cc_from(
            &url,
            "guarded",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                ("client_secret", "not-the-secret"),
            ],
            Some(stranger),
        )
        .await;
        assert_eq!(s, 401, "wrong secret {i}");
    }
    let right = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
    ];
    // The stranger's address is blocked for this client...
    let (s, _, _) = cc_from(&url, "guarded", &right, Some(stranger)).await;
    assert_eq!(s, 429, "the address that failed is throttled");
    // ...the client, elsewhere, is not.
    let (s, _, b) = cc_from(&url, "guarded", &right, Some("198.51.100.20")).await;
    assert_eq!(s, 200, "{b}");
    let (s, _, b) = cc_from(&url, "guarded", &right, None).await;
    assert_eq!(s, 200, "{b}");
}
