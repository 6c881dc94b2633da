//! `spawn_app()`: the real server on port 0 with a fresh database, and clients to drive it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse::{Config, Prepared};
use reqwest::redirect::Policy;
use reqwest::Method;
use serde_json::{json, Value};

pub const ADMIN_PASSWORD: &str = "admin-test-password";

pub struct TestApp {
    pub url: String,
    /// Signed in as the bootstrap administrator (cookie session).
    pub admin: reqwest::Client,
    pub services: domain::Services,
    /// The database URL, for a second instance on the same data.
    pub db: String,
    _dir: Option<tempfile::TempDir>,
}

/// The database URL for a fresh database: a new SQLite file, or a new schema-free PostgreSQL
/// database when GATEHOUSE_TEST_POSTGRES names a server.
pub async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    if let Ok(base) = std::env::var("GATEHOUSE_TEST_POSTGRES") {
        let name = format!("gh_{}", uuid_like());
        let admin_url = format!("{base}/postgres");
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .expect("connect to test PostgreSQL");
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        return (format!("{base}/{name}"), None);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("gatehouse.db").display());
    (url, Some(dir))
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{:x}{}_{}",
        t,
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

pub fn config(database_url: &str) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().expect("addr"),
        public_url: None,
        database_url: database_url.to_string(),
        admin_user: "admin".into(),
        admin_password: Some(ADMIN_PASSWORD.into()),
        trusted_proxies: vec![],
        token_rate_limit: 0,
        password_hash_concurrency: 0,
        password_hash_queue: 0,
        registration_max_clients: 1000,
        registration_rate: 20,
        registration_idle_days: 30,
        cimd_allow_hosts: vec![],
        admin_require_mfa: false,
        dpop_nonce: false,
        smtp_url: None,
        mail_from: None,
        sign_up: gatehouse::config::SignUp::Off,
        registration_domains: vec![],
        registration_role: None,
        outbound_ca_file: None,
        session_idle_timeout: 1800,
        session_absolute_timeout: 43200,
        secret_key: vec!["test-system-secret-0123456789abcdefghij".into()],
        secret_key_file: None,
        header_timeout: 10,
        body_timeout: 30,
        max_connections: 4096,
        metrics_bind: None,
        metrics: true,
        log_format: gatehouse::config::LogFormat::Text,
        site_root: "target/site".into(),
    }
}

/// Starts a server on `database_url` and returns its base URL and services.
pub async fn start(cfg: Config) -> (String, domain::Services) {
    let prepared: Prepared = gatehouse::prepare(cfg).await.expect("server starts");
    let url = prepared.public_url.clone();
    let services = prepared.services.clone();
    tokio::spawn(gatehouse::serve(prepared));
    (url, services)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `spawn_app` with settings changed by `edit`.
pub async fn spawn_app_with(edit: impl FnOnce(&mut Config)) -> TestApp {
    log_to_test_output();
    let (db, dir) = fresh_database().await;
    let mut cfg = config(&db);
    edit(&mut cfg);
    let (url, services) = start(cfg).await;
    let db_url = db.clone();
    let admin = client();
    let res = sign_in(&admin, &url, "admin", ADMIN_PASSWORD, "/admin").await;
    assert_eq!(res.status(), 302, "admin signs in");
    TestApp {
        url,
        admin,
        services,
        db: db_url,
        _dir: dir,
    }
}

/// With `RUST_LOG` set, the servers' logs go to the output of the test they belong to (shown
/// for a failing test).
fn log_to_test_output() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// A client whose cookie jar the test can read (to present a cookie again by hand later).
pub fn jar_client() -> (reqwest::Client, std::sync::Arc<reqwest::cookie::Jar>) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let c = plain_http()
        .cookie_provider(jar.clone())
        .redirect(Policy::none())
        .build()
        .expect("client");
    (c, jar)
}

/// The `Cookie` header `jar` would send to `url` now.
pub fn cookie_header(jar: &reqwest::cookie::Jar, url: &str) -> String {
    use reqwest::cookie::CookieStore;
    jar.cookies(&url.parse().expect("url"))
        .and_then(|v| v.to_str().ok().map(str::to_string))
        .expect("a cookie for this server")
}

/// A builder for clients of the server under test, which speaks plain HTTP on loopback: the
/// system's certificate store is not loaded (with native-tls that is a file of some hundred
/// certificates parsed for every client, and the tests make thousands of clients).
/// Idle connections are dropped after 5 s, well before the server's header timeout (10 s in
/// these tests) closes them: a test that waits (for the next TOTP step) then opens a fresh
/// connection instead of racing the server's close on a stale one (a run hung there once).
pub fn plain_http() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .pool_idle_timeout(std::time::Duration::from_secs(5))
        .timeout(REQUEST_TIMEOUT)
}

/// No request of a test waits longer: a server that stops answering fails the test at the
/// request that hung, instead of holding the whole suite until CI gives up.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// A client with a cookie jar that does not follow redirects.
pub fn client() -> reqwest::Client {
    plain_http()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// An app's authorization server metadata (RFC 8414).
pub async fn as_metadata(url: &str, app_id: &str) -> Value {
    client()
        .get(format!(
            "{url}/.well-known/oauth-authorization-server/oauth2/{app_id}"
        ))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json")
}

/// Posts the login form the way a browser without JavaScript does.
pub async fn sign_in(
    c: &reqwest::Client,
    url: &str,
    login: &str,
    password: &str,
    return_to: &str,
) -> reqwest::Response {
    c.post(format!("{url}/sfn/login"))
        .header("Accept", "text/html")
        .header("Origin", url)
        .form(&[
            ("login_name", login),
            ("password", password),
            ("return_to", return_to),
        ])
        .send()
        .await
        .expect("login request")
}

/// The value of the first `name="…" value="…"` input on `page`.
pub fn input_value(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} input in {page}"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap_or(0)].to_string()
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

impl TestApp {
    /// An admin API call with the session cookie and our own Origin.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        api_call(&self.admin, &self.url, method, path, body).await
    }

    /// Creates a user through the API and returns its id.
    pub async fn create_user(&self, login: &str, password: &str, confidential: bool) -> String {
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                "/api/v1/users",
                Some(serde_json::json!({
                    "login_name": login, "email": if login.contains('@') { login.to_string() } else { format!("{login}@example.com") }, "display_name": login,
                    "password": password, "is_oauth_confidential_client": confidential
                })),
            )
            .await;
        assert_eq!(status, 201, "create user {login}: {body}");
        body["id"].as_str().expect("id").to_string()
    }

    /// Creates a role with the given rights and returns its id.
    pub async fn create_role(&self, name: &str, rights: &[&str]) -> String {
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                "/api/v1/roles",
                Some(serde_json::json!({"name": name, "admin_rights": rights})),
            )
            .await;
        assert_eq!(status, 201, "create role {name}: {body}");
        body["id"].as_str().expect("id").to_string()
    }

    pub async fn add_member(&self, role: &str, user: &str) {
        let (status, body) = self
            .api(
                reqwest::Method::PUT,
                &format!("/api/v1/roles/{role}/members/{user}"),
                None,
            )
            .await;
        assert_eq!(status, 204, "add member: {body}");
    }
}

pub async fn api_call(
    c: &reqwest::Client,
    url: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = c
        .request(method, format!("{url}{path}"))
        .header("Origin", url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

// ---- OAuth2 requests the tests make again and again ----

pub const CLIENT: &str = "client@example.com";
pub const SECRET: &str = "client-secret-1";

/// An app with a confidential client in a User Access role that holds the `users` right.
pub async fn client_app(app: &TestApp, app_id: &str, token_type: &str) -> String {
    let role = app
        .create_role(&format!("Clients of {app_id}"), &["users"])
        .await;
    let uid = match app
        .api(
            Method::GET,
            &format!("/api/v1/users?login_name={CLIENT}"),
            None,
        )
        .await
        .1["items"][0]["id"]
        .as_str()
    {
        Some(id) => id.to_string(),
        None => app.create_user(CLIENT, SECRET, true).await,
    };
    app.add_member(&role, &uid).await;
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({
                "app_id": app_id, "name": app_id, "token_type": token_type,
                "auth_methods": ["client_credentials"],
                "scopes": [
                    {"name": "directory", "description": "Create users", "rest_regexes": ["CDirectoryService/.*"]},
                    {"name": "users", "description": "Read users", "rest_regexes": ["api/v1/users(/.*)?"]},
                    {"name": "roles", "rest_regexes": ["api/v1/roles"]}
                ],
                "user_access_roles": [format!("Clients of {app_id}")]
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    uid
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

pub async fn form_token(
    url: &str,
    app_id: &str,
    form: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let res = client()
        .post(format!("{url}/oauth2/token/{app_id}"))
        .form(form)
        .send()
        .await
        .expect("token");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.json().await.unwrap_or(Value::Null), headers)
}

pub async fn cc_token(url: &str, app_id: &str, scope: Option<&str>) -> String {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let (status, body, _) = form_token(url, app_id, &form).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// The status of a bearer-token GET of `path`.
pub async fn bearer_status(url: &str, path: &str, token: &str) -> u16 {
    client()
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("bearer request")
        .status()
        .as_u16()
}

/// The status of revoking `token` at `{base}/oauth2/revoke/{app_id}`, with HTTP Basic `creds`
/// (none: no client authentication).
pub async fn revoke_at(base: &str, app_id: &str, creds: Option<(&str, &str)>, token: &str) -> u16 {
    let mut req = client()
        .post(format!("{base}/oauth2/revoke/{app_id}"))
        .form(&[("token", token)]);
    if let Some((id, secret)) = creds {
        req = req.basic_auth(id, Some(secret));
    }
    req.send().await.expect("revoke").status().as_u16()
}

/// Introspects `token` at `app_id`'s endpoint with HTTP Basic `creds` (none: no credentials).
pub async fn introspect_with(
    url: &str,
    app_id: &str,
    creds: Option<(&str, &str)>,
    token: &str,
) -> (u16, Value) {
    let mut req = client()
        .post(format!("{url}/oauth2/introspect/{app_id}"))
        .form(&[("token", token)]);
    if let Some((id, secret)) = creds {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await.expect("introspect");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A new session of `login`, signed in without a cookie jar: the `gatehouse_session=…` pair,
/// to send again by hand (so a test proves what the server does with it, not the jar).
pub async fn session_cookie(app: &TestApp, login: &str, password: &str) -> String {
    let res = client()
        .post(format!("{}/sfn/login", app.url))
        .header("Accept", "text/html")
        .header("Origin", &app.url)
        .form(&[
            ("login_name", login),
            ("password", password),
            ("return_to", "/"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(location(&res), "/", "{login} signs in");
    let set = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gatehouse_session="))
        .expect("a session cookie")
        .to_string();
    set.split(';').next().unwrap_or_default().to_string()
}

/// Waits, without blocking the runtime, until the Unix second has moved past the one at the
/// call: tokens carry their times in whole seconds, so two issued either side of this differ.
pub async fn next_second() {
    let now = || time::OffsetDateTime::now_utc().unix_timestamp();
    let start = now();
    while now() <= start {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Polls `done` until it holds. Propagation between instances is eventually consistent; how
/// fast is measured by `make bench-revocation`, not asserted here. The deadline only turns a
/// hang into a failure.
pub async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done().await {
        assert!(
            std::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
