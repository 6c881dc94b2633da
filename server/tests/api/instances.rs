//! Two Gatehouse instances on one database: nothing that must be shared lives in one process.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn the_suite_runs_on_the_configured_backend() {
    let app = spawn_app().await;
    let expected = if std::env::var("GATEHOUSE_TEST_POSTGRES").is_ok() {
        domain::store::Backend::Postgres
    } else {
        domain::store::Backend::Sqlite
    };
    assert_eq!(app.services.store.backend, expected);
}

#[tokio::test]
async fn two_instances_share_apps_tokens_secrets_keys_and_sessions() {
    let a = spawn_app().await;
    let (b_url, _) = start(config(&a.db)).await;

    // An app created on A is used at once on B.
    let uid = client_app(&a, "shared", "opaque").await;
    let token = cc_token(&b_url, "shared", Some("users")).await;

    // A token issued by B introspects on A, and is revoked on A for B too.
    let on = |url: &str, path: &str| format!("{url}{path}");
    let intro = |url: String, t: String| async move {
        client()
            .post(on(&url, "/oauth2/introspect/shared"))
            .basic_auth(CLIENT, Some(SECRET))
            .form(&[("token", t)])
            .send()
            .await
            .expect("introspect")
            .json::<Value>()
            .await
            .expect("json")
    };
    assert_eq!(intro(a.url.clone(), token.clone()).await["active"], true);
    assert_eq!(
        revoke_at(&a.url, "shared", Some((CLIENT, SECRET)), &token).await,
        200
    );
    assert_eq!(intro(b_url.clone(), token).await["active"], false);

    // A secret changed on A is refused on B within the cache bound (5 s).
    cc_token(&b_url, "shared", None).await; // B has verified and cached the secret
    a.api(
        Method::PATCH,
        &format!("/api/v1/users/{uid}"),
        Some(json!({"password": "rotated-secret-9"})),
    )
    .await;
    eventually("B refuses the old secret", || async {
        let (s, _, _) = form_token(
            &b_url,
            "shared",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT),
                ("client_secret", SECRET),
            ],
        )
        .await;
        s == 401
    })
    .await;

    // A key rotated on A is published by both.
    let (s, rotated) = a.api(Method::POST, "/api/v1/keys/rotate", None).await;
    assert_eq!(s, 200);
    for url in [&a.url, &b_url] {
        let jwks: Value = client()
            .get(on(url, "/oauth2/keys/shared"))
            .send()
            .await
            .expect("jwks")
            .json()
            .await
            .expect("json");
        assert!(
            jwks["keys"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k["kid"] == rotated["kid"])),
            "{url}"
        );
    }

    // A session from A works on B (same host, so the cookie jar sends it).
    let page = a
        .admin
        .get(on(&b_url, "/admin/users"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    // Throttling counters are shared too.
    let c = client();
    for i in 0..10 {
        let url = if i % 2 == 0 { &a.url } else { &b_url };
        sign_in(&c, url, "admin", "wrong-password", "/admin").await;
    }
    let res = sign_in(&c, &b_url, "admin", ADMIN_PASSWORD, "/admin").await;
    assert!(
        location(&res).starts_with("/login?error=throttled"),
        "{}",
        location(&res)
    );
}

/// A token another instance remembers as valid (it introspected it) is refused there once it
/// is revoked here (announced on PostgreSQL, within the cache bound on SQLite shared by two
/// processes: how soon is `make bench-revocation`'s figure). On the instance that revoked, at
/// once.
#[tokio::test]
async fn a_revocation_reaches_an_instance_that_remembers_the_token() {
    let a = spawn_app().await;
    let (b_url, b) = start(config(&a.db)).await;
    client_app(&a, "shared", "opaque").await;
    let introspect = |url: String, t: String| async move {
        client()
            .post(format!("{url}/oauth2/introspect/shared"))
            .basic_auth(CLIENT, Some(SECRET))
            .form(&[("token", t)])
            .send()
            .await
            .expect("introspect")
            .json::<Value>()
            .await
            .expect("json")["active"]
            .clone()
    };
    for (revoke_on, label) in [
        (a.url.clone(), "the other instance"),
        (b_url.clone(), "itself"),
    ] {
        let token = cc_token(&a.url, "shared", None).await;
        // B looks it up twice: the second answer comes from its memory.
        assert_eq!(introspect(b_url.clone(), token.clone()).await, true);
        assert_eq!(introspect(b_url.clone(), token.clone()).await, true);
        assert_eq!(
            revoke_at(&revoke_on, "shared", Some((CLIENT, SECRET)), &token).await,
            200
        );
        if revoke_on == b_url {
            // The instance that revoked forgets the token in the same step.
            assert_eq!(introspect(b_url.clone(), token.clone()).await, false);
        } else {
            eventually(&format!("B forgets a token revoked on {label}"), || {
                let (b_url, token) = (b_url.clone(), token.clone());
                async move { introspect(b_url, token).await == false }
            })
            .await;
        }
        // And a bearer call with it is refused on B as well.
        let res = client()
            .get(format!("{b_url}/api/v1/apps/shared"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("bearer");
        assert_eq!(res.status(), 401, "revoked on {label}");
    }
    drop(b);
}

/// An app another instance has read (and keeps in its app cache) is read there as changed: at
/// once on PostgreSQL (the change is announced), within the cache bound on SQLite shared by two
/// processes; on the instance that made the change, at once everywhere (an admin reads back what
/// it wrote). A deleted role leaves the apps that named it the same way.
#[tokio::test]
async fn an_app_change_reaches_an_instance_that_read_the_app() {
    let a = spawn_app().await;
    let (b_url, b) = start(config(&a.db)).await;
    client_app(&a, "shared", "opaque").await;
    let read_on_b = || async {
        let (s, app) = api_call(&a.admin, &b_url, Method::GET, "/api/v1/apps/shared", None).await;
        assert_eq!(s, 200, "{app}");
        app
    };
    // On the instance that made the change it reads back at once; elsewhere it arrives.
    let wait_on_b = |what: &'static str, changed_on: String, done: fn(&Value) -> bool| {
        let read_on_b = &read_on_b;
        let b_url = b_url.clone();
        async move {
            if changed_on == b_url {
                let app = read_on_b().await;
                assert!(
                    done(&app),
                    "B changed the app and reads it without {what}: {app}"
                );
                return;
            }
            eventually(what, || async { done(&read_on_b().await) }).await;
        }
    };
    for (changed_on, name) in [
        (a.url.clone(), "Renamed on A"),
        (b_url.clone(), "Renamed on B"),
    ] {
        read_on_b().await;
        read_on_b().await;
        let (s, body) = api_call(
            &a.admin,
            &changed_on,
            Method::PATCH,
            "/api/v1/apps/shared",
            Some(json!({"name": name})),
        )
        .await;
        assert_eq!(s, 200, "{body}");
        if changed_on == b_url {
            assert_eq!(
                read_on_b().await["name"],
                name,
                "read back on the same instance"
            );
        }
        let done: fn(&Value) -> bool = if name.ends_with('A') {
            |app| app["name"] == "Renamed on A"
        } else {
            |app| app["name"] == "Renamed on B"
        };
        wait_on_b("the new name", changed_on.clone(), done).await;
    }

    let role = a.create_role("Readers", &[]).await;
    let (s, body) = a
        .api(
            Method::PATCH,
            "/api/v1/apps/shared",
            Some(json!({"user_access_roles": ["Readers"]})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    wait_on_b("the role", a.url.clone(), |app| {
        app["user_access_roles"] == json!(["Readers"])
    })
    .await;
    let (s, body) = a
        .api(Method::DELETE, &format!("/api/v1/roles/{role}"), None)
        .await;
    assert!(s == 200 || s == 204, "{s} {body}");
    wait_on_b("the role gone", a.url.clone(), |app| {
        app["user_access_roles"] == json!([])
    })
    .await;
    drop(b);
}

/// A registered client's record is cached where it authenticates; its secret rotated on
/// another instance stops working there too (NOTIFY on PostgreSQL, the cache bound otherwise).
#[tokio::test]
async fn a_registered_clients_rotated_secret_reaches_the_instance_that_cached_it() {
    let a = spawn_app().await;
    let (b_url, _) = start(config(&a.db)).await;
    let (s, body) = a
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({
                "app_id": "jobs", "name": "Jobs", "client_id_type": "registered",
                "auth_methods": ["client_credentials"], "token_type": "opaque"
            })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let (s, c) = a
        .api(
            Method::POST,
            "/api/v1/apps/jobs/clients",
            Some(json!({"grant_types": ["client_credentials"],
                        "token_endpoint_auth_method": "client_secret_post"})),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let id = c["client_id"].as_str().unwrap_or_default().to_string();
    let old = c["client_secret"].as_str().unwrap_or_default().to_string();
    let token_on = |url: String, secret: String| {
        let id = id.clone();
        async move {
            form_token(
                &url,
                "jobs",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                ],
            )
            .await
            .0
        }
    };
    // The first use records the time of use (and reads the record again); the second caches it.
    for _ in 0..2 {
        assert_eq!(token_on(b_url.clone(), old.clone()).await, 200);
    }
    let (s, r) = a
        .api(
            Method::POST,
            &format!("/api/v1/apps/jobs/clients/{id}/secret"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let new = r["client_secret"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        token_on(a.url.clone(), old.clone()).await,
        401,
        "at once on A"
    );
    eventually("B refuses the old secret", || {
        let (b_url, old) = (b_url.clone(), old.clone());
        let token_on = &token_on;
        async move { token_on(b_url, old).await == 401 }
    })
    .await;
    assert_eq!(token_on(b_url.clone(), new).await, 200);
}

/// Servers started in one process (as these tests start many) never stall a page another one is
/// drawing: Leptos suppresses resource loading process-wide while it generates a route list, and
/// a resource first polled meanwhile waited forever (leptos issue #4773; a CI run hung on it). The
/// route list is generated once per process; here servers keep starting on another thread while
/// portal pages, whose resources read the signed-in person, are drawn and must each arrive.
#[tokio::test]
async fn pages_are_drawn_while_other_servers_start_in_the_same_process() {
    let app = spawn_app().await;
    let db = app.db.clone();
    let starter = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            for _ in 0..30 {
                start(config(&db)).await;
            }
        })
    });
    let mut drawn = 0;
    while !starter.is_finished() || drawn < 10 {
        let page = tokio::time::timeout(
            std::time::Duration::from_secs(15),
            app.admin.get(format!("{}/admin/apps", app.url)).send(),
        )
        .await
        .expect("the page arrives while other servers start")
        .expect("page");
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("html");
        assert!(
            html.contains("Signed in as"),
            "the signed-in person is shown"
        );
        drawn += 1;
    }
    starter.join().expect("the servers started");
}
