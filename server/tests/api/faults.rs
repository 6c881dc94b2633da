//! Faults measured from outside: the real `gatehouse` binary is killed with SIGKILL in the
//! middle of a token load and concurrent admin edits, started again on the same database, and
//! every write it had acknowledged must still be there.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts the binary on `db` and waits until it is ready. (The child is handed to the caller,
/// which kills and reaps it; clippy cannot follow that.)
#[allow(clippy::zombie_processes)]
async fn start_process(db: &str, dir: &std::path::Path) -> (Child, String) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .env("DATABASE_URL", db)
        .env("GATEHOUSE_BIND", format!("127.0.0.1:{port}"))
        .env("GATEHOUSE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env(
            "GATEHOUSE_SECRET_KEY",
            "fault-test-secret-0123456789abcdefghijkl",
        )
        .env("LEPTOS_SITE_ROOT", dir.join("site"))
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gatehouse");
    let started = Instant::now();
    loop {
        if let Ok(r) = client().get(format!("{url}/readyz")).send().await {
            if r.status() == 200 {
                return (child, url);
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not start");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sigkill_during_load_loses_no_acknowledged_write() {
    let (db, _keep) = fresh_database().await;
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, url) = start_process(&db, dir.path()).await;
    let admin = client();
    sign_in(&admin, &url, "admin", ADMIN_PASSWORD, "/admin").await;
    let app = TestAppRef {
        url: url.clone(),
        admin: admin.clone(),
    };
    app.setup().await;

    // 16 connections issuing opaque tokens, and 4 editing the app, until the kill.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut loaders = Vec::new();
    for _ in 0..16 {
        let (url, stop) = (url.clone(), stop.clone());
        loaders.push(tokio::spawn(async move {
            let c = client();
            let mut acked = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = c
                    .post(format!("{url}/oauth2/token/faults"))
                    .basic_auth(CLIENT, Some(SECRET))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await;
                let Ok(res) = res else { break };
                if res.status() != 200 {
                    continue;
                }
                let Ok(body) = res.json::<Value>().await else {
                    break;
                };
                if let Some(t) = body["access_token"].as_str() {
                    acked.push(t.to_string());
                }
            }
            acked
        }));
    }
    let mut editors = Vec::new();
    for e in 0..4 {
        let (url, stop, admin) = (url.clone(), stop.clone(), admin.clone());
        editors.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let value = format!("edit {e}-{n}");
                let res = admin
                    .patch(format!("{url}/api/v1/apps/faults"))
                    .header("Origin", &url)
                    .json(&json!({"description": value}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => acked.push(value),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut tokens = Vec::new();
    for l in loaders {
        tokens.extend(l.await.expect("loader"));
    }
    let mut edits = Vec::new();
    for e in editors {
        edits.extend(e.await.expect("editor"));
    }
    assert!(tokens.len() > 50, "the load ran: {} tokens", tokens.len());

    // Start again on the same data: every acknowledged write is there.
    let (mut child, url) = start_process(&db, dir.path()).await;
    let mut lost = 0;
    for t in &tokens {
        let (_, b) = introspect_with(&url, "faults", Some((CLIENT, SECRET)), t).await;
        if b["active"] != true {
            lost += 1;
        }
    }
    let admin = client();
    sign_in(&admin, &url, "admin", ADMIN_PASSWORD, "/admin").await;
    let (_, log) = api_call(
        &admin,
        &url,
        Method::GET,
        "/api/v1/apps/faults/changelog?limit=500",
        None,
    )
    .await;
    let logged: Vec<String> = log["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|c| c["field"] == "description")
                .filter_map(|c| c["new"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<&String> = edits.iter().filter(|e| !logged.contains(e)).collect();
    if db.starts_with("sqlite://") {
        let (ok,): (String,) = {
            let pool = sqlx::SqlitePool::connect(&db).await.expect("sqlite");
            sqlx::query_as("PRAGMA integrity_check")
                .fetch_one(&pool)
                .await
                .expect("integrity")
        };
        assert_eq!(ok, "ok");
    }
    let _ = child.kill();
    let _ = child.wait();
    eprintln!(
        "fault test: killed under load; {} acknowledged tokens and {} acknowledged edits checked, {lost} tokens and {} edits lost",
        tokens.len(),
        edits.len(),
        missing.len()
    );
    assert_eq!(
        lost,
        0,
        "{lost} of {} acknowledged tokens lost",
        tokens.len()
    );
    assert!(
        missing.is_empty(),
        "acknowledged edits missing from the changelog: {missing:?}"
    );
}

/// The admin side of the fault test against a separately started process.
struct TestAppRef {
    url: String,
    admin: reqwest::Client,
}

impl TestAppRef {
    async fn setup(&self) {
        let call = |m: Method, p: String, b: Option<Value>| {
            let (admin, url) = (self.admin.clone(), self.url.clone());
            async move { api_call(&admin, &url, m, &p, b).await }
        };
        let (s, role) = call(
            Method::POST,
            "/api/v1/roles".into(),
            Some(json!({"name": "Fault clients"})),
        )
        .await;
        assert_eq!(s, 201, "{role}");
        let (s, user) = call(
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({"login_name": CLIENT, "email": CLIENT, "password": SECRET, "is_oauth_confidential_client": true})),
        )
        .await;
        assert_eq!(s, 201, "{user}");
        let (s, _) = call(
            Method::PUT,
            format!(
                "/api/v1/roles/{}/members/{}",
                role["id"].as_str().unwrap_or(""),
                user["id"].as_str().unwrap_or("")
            ),
            None,
        )
        .await;
        assert_eq!(s, 204);
        let (s, b) = call(
            Method::POST,
            "/api/v1/apps".into(),
            Some(
                json!({"app_id": "faults", "name": "faults", "token_type": "opaque",
                "auth_methods": ["client_credentials"], "scopes": [{"name": "x"}],
                "user_access_roles": ["Fault clients"]}),
            ),
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }
}
