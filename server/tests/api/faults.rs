//! Faults measured from outside: the real `gatehouse` binary is killed with SIGKILL in the
//! middle of a token load and concurrent admin edits, started again on the same database, and
//! every write it had acknowledged must still be there. A disk that fills up and a PostgreSQL
//! server that restarts are each a logged 500 and a failing `/readyz` while they last, and the
//! server recovers by itself when they are over.

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

/// `server.log` in `dir`, appended to: the process's log for the test to read.
fn log_file(dir: &std::path::Path) -> Stdio {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null())
}

/// Starts the binary on `db` and waits until it is ready. (The child is handed to the caller,
/// which kills and reaps it; clippy cannot follow that.)
async fn start_process(db: &str, dir: &std::path::Path) -> (Child, String) {
    start_process_with(db, dir, &[]).await
}

/// `start_process` with more environment (which may override the defaults above).
#[allow(clippy::zombie_processes)]
async fn start_process_with(
    db: &str,
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (Child, String) {
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
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdout(log_file(dir))
        .stderr(log_file(dir))
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
    let progress = std::sync::Arc::new([
        std::sync::atomic::AtomicUsize::new(0),
        std::sync::atomic::AtomicUsize::new(0),
    ]);
    let mut loaders = Vec::new();
    for _ in 0..16 {
        let (url, stop, progress) = (url.clone(), stop.clone(), progress.clone());
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
                    progress[0].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            acked
        }));
    }
    let mut editors = Vec::new();
    for e in 0..4 {
        let (url, stop, admin, progress) =
            (url.clone(), stop.clone(), admin.clone(), progress.clone());
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
                    Ok(r) if r.status() == 200 => {
                        acked.push(value);
                        progress[1].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            acked
        }));
    }
    // Killed in the middle of the load: once both kinds of write have been acknowledged many
    // times (a condition, not a fixed time; the deadline only guards against a hang).
    let deadline = Instant::now() + Duration::from_secs(120);
    while progress[0].load(std::sync::atomic::Ordering::Relaxed) < 200
        || progress[1].load(std::sync::atomic::Ordering::Relaxed) < 20
    {
        assert!(Instant::now() < deadline, "the load never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
    // Every page of the changelog (there may be more edits than one page holds).
    let mut logged: Vec<String> = Vec::new();
    loop {
        let (_, log) = api_call(
            &admin,
            &url,
            Method::GET,
            &format!(
                "/api/v1/apps/faults/changelog?limit=500&offset={}",
                logged.len()
            ),
            None,
        )
        .await;
        let items = log["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        logged.extend(items.iter().map(|c| {
            if c["field"] == "description" {
                c["new"].as_str().unwrap_or_default().to_string()
            } else {
                String::new()
            }
        }));
    }
    assert!(!edits.is_empty(), "edits were acknowledged before the kill");
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

async fn cc_token_at(url: &str) -> (u16, Value) {
    let res = client()
        .post(format!("{url}/oauth2/token/faults"))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request answered");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn readyz_at(url: &str) -> u16 {
    match client().get(format!("{url}/readyz")).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// Polls `/readyz` until it answers `want`, for at most `secs` seconds.
async fn wait_ready(url: &str, want: u16, secs: u64) -> bool {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if readyz_at(url).await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Signs in to a separately started process and creates the `faults` app and its client.
async fn set_up(url: &str) {
    let admin = client();
    sign_in(&admin, url, "admin", ADMIN_PASSWORD, "/admin").await;
    TestAppRef {
        url: url.to_string(),
        admin,
    }
    .setup()
    .await;
}

/// After a fault: ready again without a restart, issuing, the token from before the fault and a
/// new one both active; then stops the process and checks its log holds `cause` (one of them:
/// `|` separates what the fault may have logged).
async fn recovered(
    url: &str,
    before: &Value,
    mut child: Child,
    dir: &std::path::Path,
    cause: &str,
) {
    assert!(wait_ready(url, 200, 30).await, "recovered by itself");
    let (s, after) = cc_token_at(url).await;
    assert_eq!(s, 200, "{after}");
    for t in [before, &after] {
        let token = t["access_token"].as_str().expect("token");
        let (_, b) = introspect_with(url, "faults", Some((CLIENT, SECRET)), token).await;
        assert_eq!(b["active"], true, "{b}");
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    assert!(
        cause.split('|').any(|c| log.contains(c)),
        "the cause is in the log: {log}"
    );
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// `None` when this process may not mount (it is not root).
    fn mount(at: &std::path::Path, mib: u32) -> Option<Tmpfs> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_is_a_logged_500_and_not_ready_and_recovers_by_itself() {
    if std::env::var("GATEHOUSE_TEST_POSTGRES").is_ok() {
        return; // The SQLite file's disk; PostgreSQL's disk is the PostgreSQL server's.
    }
    let dir = tempfile::tempdir().expect("dir");
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).expect("mount point");
    let Some(_tmpfs) = Tmpfs::mount(&disk, 24) else {
        // Never a silent pass: without root this test cannot prove anything, so it fails unless
        // the run says explicitly that it cannot mount.
        assert!(
            std::env::var("GATEHOUSE_TEST_NO_MOUNT").is_ok(),
            "the full-disk test mounts a 24 MiB tmpfs and needs root; run the suite as root \
             (CI does) or set GATEHOUSE_TEST_NO_MOUNT=1 to leave it out knowingly"
        );
        eprintln!("full-disk test LEFT OUT: GATEHOUSE_TEST_NO_MOUNT is set");
        return;
    };
    let db = format!("sqlite://{}", disk.join("gatehouse.db").display());
    let (mut child, url) = start_process(&db, dir.path()).await;
    set_up(&url).await;
    let (s, before) = cc_token_at(&url).await;
    assert_eq!(s, 200, "{before}");

    // Fill the disk to the last byte.
    {
        use std::io::Write;
        let mut f = std::fs::File::create(disk.join("filler")).expect("filler");
        for size in [1 << 20, 4096, 1] {
            let chunk = vec![0u8; size];
            while f.write_all(&chunk).is_ok() {}
        }
    }
    // Writes go on into space SQLite holds already, then fail: 500 server_error, never a hang
    // or a crash, and /readyz reports it.
    let mut issued_while_full = 0;
    let mut refused = None;
    let until = Instant::now() + Duration::from_secs(60);
    while refused.is_none() && Instant::now() < until {
        let (s, b) = cc_token_at(&url).await;
        match s {
            200 => issued_while_full += 1,
            _ => refused = Some((s, b)),
        }
    }
    let (s, b) = refused.expect("the full disk refused a write within 60 s");
    assert_eq!((s, b["error"].as_str()), (500, Some("server_error")), "{b}");
    assert!(
        wait_ready(&url, 503, 15).await,
        "/readyz reports the full disk"
    );
    assert!(child.try_wait().expect("status").is_none(), "still running");

    // Space again: ready and issuing without a restart; what was acknowledged is there.
    std::fs::remove_file(disk.join("filler")).expect("free the disk");
    recovered(&url, &before, child, dir.path(), "database or disk is full").await;
    eprintln!("full-disk test: {issued_while_full} tokens issued into space already held, then 500 and 503 until space was freed");
}

/// `scripts/pg-cluster.sh` with these arguments.
fn pg_cluster(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-cluster.sh");
    let ok = Command::new("bash")
        .arg(script)
        .args(args)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "pg-cluster.sh {args:?}");
}

#[tokio::test]
async fn a_postgresql_outage_is_503_on_every_instance_and_both_recover_by_themselves() {
    if std::env::var("GATEHOUSE_TEST_POSTGRES").is_err() {
        // Runs in the PostgreSQL pass, with a cluster of its own to stop; here that cluster
        // does not exist, so there is nothing this test could prove.
        eprintln!("PostgreSQL outage test: runs in the PostgreSQL pass (GATEHOUSE_TEST_POSTGRES)");
        return;
    }
    let pg = tempfile::Builder::new()
        .prefix("gatehouse-pg-restart")
        .tempdir_in("/tmp")
        .expect("dir");
    let pg_dir = pg.path().to_str().expect("path").to_string();
    let port = free_port().to_string();
    pg_cluster(&["init", &pg_dir, &port]);
    struct Stop(String);
    impl Drop for Stop {
        fn drop(&mut self) {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-cluster.sh");
            let _ = Command::new("bash")
                .args([script, "stop", &self.0, "immediate"])
                .status();
        }
    }
    let _stop = Stop(pg_dir.clone());
    let db = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let (mut a, url_a) = start_process(&db, dir_a.path()).await;
    set_up(&url_a).await;
    let (mut b, url_b) = start_process(&db, dir_b.path()).await;
    let (s, before) = cc_token_at(&url_a).await;
    assert_eq!(s, 200, "{before}");
    let (s, before_b) = cc_token_at(&url_b).await;
    assert_eq!(s, 200, "{before_b}");

    // 15 seconds without the database: every token request on either instance is a prompt
    // 503 temporarily_unavailable (never a 500), and /readyz says so within 2 s.
    pg_cluster(&["stop", &pg_dir, "fast"]);
    let outage = Instant::now();
    let mut answers = 0;
    while outage.elapsed() < Duration::from_secs(15) {
        for url in [&url_a, &url_b] {
            let (s, body) = cc_token_at(url).await;
            assert_eq!(
                (s, body["error"].as_str()),
                (503, Some("temporarily_unavailable")),
                "{url}: {body}"
            );
            let asked = Instant::now();
            assert_eq!(readyz_at(url).await, 503, "{url} is not ready");
            assert!(
                asked.elapsed() < Duration::from_millis(2500),
                "/readyz answered within 2 s: {:?}",
                asked.elapsed()
            );
            answers += 1;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(answers >= 4, "the outage was probed: {answers}");
    assert!(a.try_wait().expect("status").is_none(), "A still running");
    assert!(b.try_wait().expect("status").is_none(), "B still running");

    pg_cluster(&["start", &pg_dir, &port]);
    assert!(wait_ready(&url_b, 200, 30).await, "B recovered by itself");
    let (s, after_b) = cc_token_at(&url_b).await;
    assert_eq!(s, 200, "{after_b}");
    let _ = b.kill();
    let _ = b.wait();
    recovered(
        &url_a,
        &before,
        a,
        dir_a.path(),
        // A broken connection's error, or the pool's wait running out while the server was down.
        "internal error at an OAuth endpoint|had no database connection in time",
    )
    .await;
}

/// `GATEHOUSE_LOG_FORMAT=json`: every line one JSON object; the lines written while a request
/// is served carry its id, which the response returns in `X-Request-Id`; no secret in any line.
#[tokio::test]
async fn json_logs_carry_the_request_id_and_no_secret() {
    let (db, _keep) = fresh_database().await;
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, url) = start_process_with(
        &db,
        dir.path(),
        &[("GATEHOUSE_LOG_FORMAT", "json"), ("RUST_LOG", "info")],
    )
    .await;
    let admin = client();
    sign_in(&admin, &url, "admin", ADMIN_PASSWORD, "/admin").await;
    let app = TestAppRef {
        url: url.clone(),
        admin: admin.clone(),
    };
    app.setup().await;
    let res = client()
        .post(format!("{url}/oauth2/token/faults"))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 200);
    let id = res.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_string();
    let token: serde_json::Value = res.json().await.expect("json");
    let access = token["access_token"].as_str().expect("token").to_string();
    // A wrong secret, so the log has a refusal too.
    let res = client()
        .post(format!("{url}/oauth2/token/faults"))
        .basic_auth(CLIENT, Some("wrong-secret-0000"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(dir.path().join("server.log")).expect("log");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(
            |l| l["span"]["id"] == id.as_str() && l["fields"]["path"] == "/oauth2/token/faults"
        ),
        "the access line of the request carries its id: {log}"
    );
    for secret in [SECRET, ADMIN_PASSWORD, "wrong-secret-0000", access.as_str()] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}
