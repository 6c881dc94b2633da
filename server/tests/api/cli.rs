//! The admin command line (SPEC §7a) run as its own process on a test database: export and
//! import (round trip into an empty database), the schema, reset-password, keys rotate,
//! migrate, purge, and the exit codes.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// What one run of `gatehouse` printed and returned.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The system secret the test servers use (helpers::config), so the command line opens the
/// same signing keys.
fn secret_key() -> String {
    config("sqlite://unused").secret_key[0].clone()
}

/// Runs the binary with exactly these arguments and variables (nothing inherited that could
/// change its behaviour), feeding `stdin`.
async fn run(args: Vec<String>, envs: Vec<(String, String)>, stdin: Option<String>) -> Run {
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        cmd.args(&args)
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG")
            .env_remove("GATEHOUSE_SECRET_KEY")
            .env_remove("GATEHOUSE_SECRET_KEY_FILE")
            .env_remove("GATEHOUSE_PUBLIC_URL")
            .env_remove("GATEHOUSE_LOG_FORMAT")
            .envs(envs)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start gatehouse");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("gatehouse ran");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("join")
}

/// `gatehouse --database-url DB ARGS…` with the test servers' secret.
async fn gh(db: &str, args: &[&str]) -> Run {
    gh_in(db, args, None).await
}

async fn gh_in(db: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let mut all = vec!["--database-url".to_string(), db.to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    run(
        all,
        vec![("GATEHOUSE_SECRET_KEY".into(), secret_key())],
        stdin.map(str::to_string),
    )
    .await
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

async fn api_export(app: &TestApp) -> Value {
    let (status, doc) = app.api(Method::GET, "/api/v1/export", None).await;
    assert_eq!(status, 200, "{doc}");
    doc
}

async fn audit(app: &TestApp, query: &str) -> Value {
    let (status, page) = app
        .api(Method::GET, &format!("/api/v1/audit?{query}"), None)
        .await;
    assert_eq!(status, 200, "{page}");
    page
}

fn write_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write file");
    path.display().to_string()
}

/// A confidential client's public key set.
fn public_jwks() -> Value {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("rsa");
    json!({"keys": [{
        "kty": "RSA", "kid": "cli-k1", "use": "sig", "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    }]})
}

/// Users, roles with members, and apps with most settings away from their defaults.
async fn populate(app: &TestApp) {
    let jwks = tokio::task::spawn_blocking(public_jwks).await.expect("key");
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/users",
            Some(json!({
                "login_name": "alice", "email": "alice@example.com", "display_name": "Alice A",
                "password": "alice-password-1", "is_oauth_confidential_client": true, "jwks": jwks
            })),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let alice = b["id"].as_str().expect("id").to_string();
    let bob = app.create_user("bob", "bob-password-1", false).await;
    let (s, b) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{bob}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, role) = app
        .api(
            Method::POST,
            "/api/v1/roles",
            Some(json!({"name": "Billing Admins", "description": "run billing", "admin_rights": ["apps", "users"]})),
        )
        .await;
    assert_eq!(s, 201, "{role}");
    let rid = role["id"].as_str().expect("id").to_string();
    app.add_member(&rid, &alice).await;
    app.add_member(&rid, &bob).await;
    app.create_role("Readers", &[]).await;

    let mut billing = crate::apps::full_app("billing");
    billing["client_id_type"] = json!("list");
    billing["allowed_clients"] = json!(["alice"]);
    billing["issuer"] = json!("https://id.example/oauth2/billing");
    billing["post_logout_redirect_uris"] = json!(["https://client.example/bye"]);
    billing["user_access_roles"] = json!(["Billing Admins", "Readers"]);
    billing["auth_methods"] = json!(["authorization_code"]);
    let (s, b) = app.api(Method::POST, "/api/v1/apps", Some(billing)).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "portal", "name": "Portal", "token_type": "jwt_es256"})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

#[tokio::test]
async fn export_then_import_into_an_empty_database_gives_the_same_document() {
    let app = spawn_app().await;
    populate(&app).await;

    let first = gh(&app.db, &["export"]).await;
    assert_eq!(first.code, 0, "{first}");
    let doc: Value = serde_json::from_str(&first.stdout)
        .unwrap_or_else(|e| panic!("export prints only JSON ({e}): {first}"));
    assert_eq!(
        doc,
        api_export(&app).await,
        "the same document as the API's"
    );
    assert!(!first.stdout.contains("password_hash"));
    assert_eq!(
        doc["apps"][0]["issuer"], "https://id.example/oauth2/billing",
        "{doc}"
    );
    assert_eq!(doc["users"][1]["jwks"]["keys"][0]["kid"], "cli-k1");

    let files = tempfile::tempdir().expect("dir");
    let file = write_file(&files, "config.json", &first.stdout);
    let (empty, _dir) = fresh_database().await;
    let import = gh(&empty, &["import", &file]).await;
    assert_eq!(import.code, 0, "{import}");
    assert_eq!(
        lines(&import.stdout),
        [
            "create user admin",
            "create user alice",
            "create user bob",
            "create role Billing Admins",
            "create role Readers",
            "update role System Administrator",
            "create app billing",
            "create app portal",
            "8 change(s) applied, 1 unchanged",
        ],
        "Everybody is built in, System Administrator gains its member: {import}"
    );

    let second = gh(&empty, &["export"]).await;
    assert_eq!(second.code, 0, "{second}");
    assert_eq!(
        second.stdout, first.stdout,
        "the imported database exports byte for byte the same document"
    );

    // Importing it again changes nothing.
    let again = gh(&empty, &["import", &file]).await;
    assert_eq!(again.code, 0, "{again}");
    assert_eq!(
        lines(&again.stdout),
        ["0 change(s) applied, 9 unchanged"],
        "{again}"
    );
    assert_eq!(gh(&empty, &["export"]).await.stdout, first.stdout);
}

#[tokio::test]
async fn an_export_with_secrets_carries_the_passwords_to_a_new_database() {
    let app = spawn_app().await;
    app.create_user("alice", "alice-password-1", false).await;

    let plain = gh(&app.db, &["export"]).await;
    let secret = gh(&app.db, &["export", "--with-secrets"]).await;
    assert_eq!(secret.code, 0, "{secret}");
    let doc: Value = serde_json::from_str(&secret.stdout).expect("json");
    let hashes: Vec<&str> = doc["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["password_hash"].as_str())
        .collect();
    assert_eq!(hashes.len(), 2, "admin and alice: {doc}");
    assert!(
        hashes.iter().all(|h| h.starts_with("$argon2")),
        "{hashes:?}"
    );
    assert!(!plain.stdout.contains("password_hash"));
    assert!(!secret.stdout.contains("alice-password-1"));

    let files = tempfile::tempdir().expect("dir");
    let file = write_file(&files, "secret.json", &secret.stdout);
    let (empty, _dir) = fresh_database().await;
    let import = gh(&empty, &["import", &file]).await;
    assert_eq!(import.code, 0, "{import}");
    assert_eq!(
        gh(&empty, &["export", "--with-secrets"]).await.stdout,
        secret.stdout,
        "the hashes arrive unchanged"
    );

    // A server on the new database takes the old passwords.
    let (url, _services) = start(config(&empty)).await;
    let c = client();
    let res = sign_in(&c, &url, "alice", "alice-password-1", "/").await;
    assert_eq!(location(&res), "/", "alice signs in with her old password");
    let res = sign_in(&client(), &url, "admin", ADMIN_PASSWORD, "/admin").await;
    assert_eq!(location(&res), "/admin");
    let res = sign_in(&client(), &url, "alice", "not-her-password", "/").await;
    assert!(location(&res).starts_with("/login?error="));
}

#[tokio::test]
async fn export_schema_is_a_json_schema_of_the_config_document() {
    let (db, _dir) = fresh_database().await;
    let out = gh(&db, &["export", "--schema"]).await;
    assert_eq!(out.code, 0, "{out}");
    let schema: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert!(
        schema["$schema"]
            .as_str()
            .is_some_and(|s| s.starts_with("https://json-schema.org/")),
        "{schema}"
    );
    assert_eq!(schema["$ref"], "#/$defs/ConfigDocument");
    let defs = schema["$defs"].as_object().expect("$defs");
    for name in [
        "ConfigDocument",
        "AppConfig",
        "RoleConfig",
        "UserConfig",
        "Scope",
    ] {
        assert!(defs.contains_key(name), "{name} in {:?}", defs.keys());
    }
    let doc = &defs["ConfigDocument"];
    for field in ["gatehouse_config", "apps", "roles", "users"] {
        assert!(doc["properties"].get(field).is_some(), "{field}: {doc}");
    }
    assert!(doc["required"]
        .as_array()
        .is_some_and(|r| r.contains(&json!("gatehouse_config"))));
    let user = &defs["UserConfig"];
    for field in ["login_name", "email", "enabled", "password_hash", "jwks"] {
        assert!(user["properties"].get(field).is_some(), "{field}: {user}");
    }
    // Every reference stays inside the document.
    let text = out.stdout.clone();
    assert!(!text.contains("#/components/"), "{text}");
    for part in text.split("\"#/$defs/").skip(1) {
        let name = &part[..part.find('"').unwrap_or(0)];
        assert!(defs.contains_key(name), "$ref to {name} resolves");
    }
}

#[tokio::test]
async fn import_dry_run_prints_the_plan_and_changes_nothing() {
    let app = spawn_app().await;
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "old-app", "name": "Old"})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let before = api_export(&app).await;
    // Exports are audited themselves (config.export): count everything else.
    let changes = |page: Value, exports: Value| {
        page["total"].as_i64().unwrap_or(-1) - exports["total"].as_i64().unwrap_or(0)
    };
    let audit_before = changes(audit(&app, "").await, audit(&app, "action=config").await);

    let mut doc = before.clone();
    doc["users"]
        .as_array_mut()
        .expect("users")
        .push(json!({"login_name": "dave", "email": "dave@example.com", "display_name": "Dave"}));
    let mut new_app = doc["apps"][0].clone();
    new_app["app_id"] = json!("new-app");
    new_app["name"] = json!("New");
    doc["apps"] = json!([new_app]);
    let files = tempfile::tempdir().expect("dir");
    let file = write_file(&files, "plan.json", &doc.to_string());

    let dry = gh(&app.db, &["import", &file, "--dry-run"]).await;
    assert_eq!(dry.code, 0, "{dry}");
    assert_eq!(
        lines(&dry.stdout),
        [
            "create user dave",
            "create app new-app",
            "2 change(s) planned (dry run), 3 unchanged"
        ],
        "{dry}"
    );
    let pruning = gh(&app.db, &["import", &file, "--dry-run", "--prune"]).await;
    assert_eq!(pruning.code, 0, "{pruning}");
    assert_eq!(
        lines(&pruning.stdout),
        [
            "create user dave",
            "create app new-app",
            "delete app old-app",
            "3 change(s) planned (dry run), 3 unchanged"
        ],
        "{pruning}"
    );
    // The document from standard input ("-") plans the same.
    let piped = gh_in(
        &app.db,
        &["import", "-", "--dry-run"],
        Some(&doc.to_string()),
    )
    .await;
    assert_eq!(piped.code, 0, "{piped}");
    assert_eq!(piped.stdout, dry.stdout);

    assert_eq!(api_export(&app).await, before, "a dry run changes nothing");
    assert_eq!(
        changes(audit(&app, "").await, audit(&app, "action=config").await),
        audit_before,
        "and records nothing"
    );

    // Applied for real, the running server sees it, recorded as the system's.
    let applied = gh(&app.db, &["import", &file, "--prune"]).await;
    assert_eq!(applied.code, 0, "{applied}");
    assert_eq!(
        lines(&applied.stdout).last().copied(),
        Some("3 change(s) applied, 3 unchanged")
    );
    let after = api_export(&app).await;
    assert_eq!(after["apps"], json!([new_app]));
    assert!(after["users"]
        .as_array()
        .is_some_and(|u| u.iter().any(|u| u["login_name"] == "dave")));
    let (s, _) = app.api(Method::GET, "/api/v1/apps/old-app", None).await;
    assert_eq!(s, 404);
    let page = audit(&app, "actor=system&action=app").await;
    let recs = page["items"].as_array().cloned().unwrap_or_default();
    let done: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap_or("?"),
                r["object_id"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(
        done,
        [("app.delete", "old-app"), ("app.create", "new-app")],
        "{page}"
    );
    for r in &recs {
        assert_eq!(r["actor_kind"], "system");
        assert_eq!(r["address"], Value::Null);
        assert_eq!(r["client_id"], Value::Null);
    }
}

#[tokio::test]
async fn reset_password_lets_the_user_sign_in_with_the_new_one() {
    let app = spawn_app().await;
    let uid = app.create_user("erin", "erin-old-password", false).await;
    let (s, b) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{uid}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200, "{b}");

    let out = gh(&app.db, &["users", "reset-password", "erin"]).await;
    assert_eq!(out.code, 0, "{out}");
    let printed = lines(&out.stdout);
    assert_eq!(printed.len(), 1, "{out}");
    let generated = printed[0]
        .strip_prefix("New password of erin: ")
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    assert!(generated.len() >= 12, "{generated}");

    let res = sign_in(&client(), &app.url, "erin", &generated, "/").await;
    assert_eq!(
        location(&res),
        "/",
        "the new password works and erin is enabled again"
    );
    let res = sign_in(&client(), &app.url, "erin", "erin-old-password", "/").await;
    assert!(
        location(&res).starts_with("/login?error="),
        "the old one does not"
    );
    let (_, user) = app
        .api(Method::GET, &format!("/api/v1/users/{uid}"), None)
        .await;
    assert_eq!(user["enabled"], true);

    // A chosen password from standard input.
    let out = gh_in(
        &app.db,
        &["users", "reset-password", "ERIN", "--password-stdin"],
        Some("chosen-password-42\n"),
    )
    .await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(lines(&out.stdout), ["The password of ERIN was changed."]);
    assert!(!out.stdout.contains("chosen-password-42"));
    let res = sign_in(&client(), &app.url, "erin", "chosen-password-42", "/").await;
    assert_eq!(location(&res), "/");
    let res = sign_in(&client(), &app.url, "erin", &generated, "/").await;
    assert!(location(&res).starts_with("/login?error="));

    // Recorded as the system's, without the passwords.
    let page = audit(&app, &format!("actor=system&object={uid}")).await;
    let recs = page["items"].as_array().cloned().unwrap_or_default();
    let changes: Vec<Value> = recs.iter().map(|r| r["changes"].clone()).collect();
    assert_eq!(
        changes,
        vec![
            json!([{"field": "password", "old": null, "new": "(changed)"}]),
            json!([{"field": "enabled", "old": "false", "new": "true"}]),
            json!([{"field": "password", "old": null, "new": "(changed)"}]),
        ],
        "{page}"
    );
    let text = audit(&app, "limit=500").await.to_string();
    assert!(!text.contains(&generated) && !text.contains("chosen-password-42"));
}

#[tokio::test]
async fn reset_password_lifts_the_sign_in_block_of_a_locked_out_administrator() {
    let app = spawn_app().await;
    for _ in 0..12 {
        sign_in(&client(), &app.url, "admin", "wrong-password", "/admin").await;
    }
    let res = sign_in(&client(), &app.url, "admin", ADMIN_PASSWORD, "/admin").await;
    assert!(
        location(&res).starts_with("/login?error="),
        "locked out first"
    );
    let failures = || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM auth_failures WHERE key = 'acct:admin'")
                .fetch_one(&app.services.store.pool)
                .await
                .expect("count");
        n
    };
    assert_eq!(failures().await, 1, "the account's failure counter");
    let out = gh_in(
        &app.db,
        &["users", "reset-password", "admin", "--password-stdin"],
        Some("rescued-admin-password\n"),
    )
    .await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(failures().await, 0, "the account's failure counter is gone");
    // A server started now (the running one keeps its mirror of the block until it expires).
    let (url, _services) = start(config(&app.db)).await;
    let res = sign_in(&client(), &url, "admin", "rescued-admin-password", "/admin").await;
    assert_eq!(location(&res), "/admin");
}

#[tokio::test]
async fn reset_password_of_an_unknown_login_or_a_too_short_password_exits_3() {
    let app = spawn_app().await;
    app.create_user("frank", "frank-password-1", false).await;
    let before = audit(&app, "").await["total"].clone();

    let out = gh(&app.db, &["users", "reset-password", "nobody-here"]).await;
    assert_eq!(out.code, 3, "{out}");
    assert_eq!(out.stdout, "", "no password printed for nobody");
    assert!(out.stderr.contains("gatehouse:"), "{out}");

    let out = gh_in(
        &app.db,
        &["users", "reset-password", "frank", "--password-stdin"],
        Some("x\n"),
    )
    .await;
    assert_eq!(out.code, 3, "{out}");
    let res = sign_in(&client(), &app.url, "frank", "frank-password-1", "/").await;
    assert_eq!(location(&res), "/", "the password is unchanged");
    // frank's sign-in is the only new record.
    let after = audit(&app, "").await;
    assert_eq!(after["total"].as_i64(), before.as_i64().map(|n| n + 1));
    assert_eq!(after["items"][0]["action"], "session.sign_in");

    // Bad usage is clap's 2.
    let out = gh(&app.db, &["users", "reset-password"]).await;
    assert_eq!(out.code, 2, "{out}");
    let out = gh(&app.db, &["users", "no-such-command"]).await;
    assert_eq!(out.code, 2, "{out}");
}

async fn jwks_kids(url: &str, app_id: &str) -> Vec<String> {
    let jwks: Value = client()
        .get(format!("{url}/oauth2/keys/{app_id}"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|k| k["kid"].as_str().map(str::to_string))
        .collect();
    kids.sort();
    kids
}

#[tokio::test]
async fn keys_rotate_publishes_a_new_signing_key() {
    let app = spawn_app().await;
    let (s, b) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            Some(json!({"app_id": "jwt-app", "name": "JWT"})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let old = jwks_kids(&app.url, "jwt-app").await;
    assert_eq!(old.len(), 3, "one key per algorithm: {old:?}");

    let out = gh(&app.db, &["keys", "rotate"]).await;
    assert_eq!(out.code, 0, "{out}");
    let kid = lines(&out.stdout)
        .first()
        .and_then(|l| l.strip_prefix("Rotated the signing keys; the new RS256 key is "))
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    assert!(!old.contains(&kid));

    // An instance started now publishes the old keys and the new ones.
    let (url, _services) = start(config(&app.db)).await;
    let now = jwks_kids(&url, "jwt-app").await;
    assert_eq!(now.len(), 6, "{now:?}");
    assert!(now.contains(&kid), "{kid} in {now:?}");
    assert!(
        old.iter().all(|k| now.contains(k)),
        "old keys stay published"
    );
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL")
        .fetch_one(&app.services.store.pool)
        .await
        .expect("count");
    assert_eq!(n, 3, "three active keys, the old three retired");

    let page = audit(&app, "action=keys.rotate").await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["actor"], "system");
    assert_eq!(page["items"][0]["actor_kind"], "system");
    let active = page["items"][0]["changes"][0]["new"].as_str().unwrap_or("");
    assert!(active.split(' ').any(|k| k == kid), "{active}");
}

#[tokio::test]
async fn migrate_prepares_an_empty_database_from_the_environment() {
    let (db, dir) = fresh_database().await;
    // The database named by DATABASE_URL; on SQLite without a secret setting, the secret file
    // beside the database is made.
    let sqlite = db.starts_with("sqlite://");
    let mut envs = vec![("DATABASE_URL".to_string(), db.clone())];
    if !sqlite {
        envs.push(("GATEHOUSE_SECRET_KEY".into(), secret_key()));
    }
    let out = run(vec!["migrate".into()], envs.clone(), None).await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(lines(&out.stdout), ["The database schema is up to date."]);
    if let (true, Some(dir)) = (sqlite, &dir) {
        let secret = dir.path().join("gatehouse.db.secret");
        let text = std::fs::read_to_string(&secret).expect("secret file made");
        assert!(text.trim().len() >= 32, "a real secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&secret)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "owner only: {mode:o}");
        }
    }
    let again = run(vec!["migrate".into()], envs.clone(), None).await;
    assert_eq!(again.code, 0, "{again}");

    let out = run(vec!["export".into()], envs, None).await;
    assert_eq!(out.code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(doc["gatehouse_config"], 1);
    assert_eq!(doc["apps"], json!([]));
    assert_eq!(doc["users"], json!([]), "migrate creates no user");
    let roles: Vec<(&str, usize)> = doc["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or("?"),
                r["members"].as_array().map_or(99, |m| m.len()),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [("Everybody", 0), ("System Administrator", 0)],
        "the built-in roles, once each"
    );
}

#[tokio::test]
async fn purge_deletes_expired_rows_and_keeps_live_tokens() {
    let app = spawn_app().await;
    client_app(&app, "purge", "opaque").await;
    let live = cc_token(&app.url, "purge", Some("users")).await;
    let pool = &app.services.store.pool;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for i in 0..3 {
        sqlx::query("INSERT INTO tokens (token_hash, kind, app_id, client_id, user_id, scope, jti, issued_at, expires_at) VALUES ($1, 'access', 'purge', 'c', 'u', '', $2, $3, $4)")
            .bind(format!("cli-expired-{i}"))
            .bind(format!("cli-jti-{i}"))
            .bind(now - 7200)
            .bind(now - 3600)
            .execute(pool)
            .await
            .expect("insert");
    }
    let count = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tokens")
            .fetch_one(pool)
            .await
            .expect("count");
        n
    };
    let before = count().await;

    let out = gh(&app.db, &["purge"]).await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(lines(&out.stdout), ["Deleted 3 expired row(s)."], "{out}");
    assert_eq!(count().await, before - 3);
    assert_eq!(
        bearer_status(&app.url, "/api/v1/users", &live).await,
        200,
        "a live token survives"
    );
    let out = gh(&app.db, &["purge"]).await;
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(lines(&out.stdout), ["Deleted 0 expired row(s)."]);
}

/// The whole configuration with secrets, from an export that must have worked (two failed
/// exports would compare equal).
async fn full_export(db: &str) -> String {
    let out = gh(db, &["export", "--with-secrets"]).await;
    assert_eq!(out.code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out.stdout).expect("the export is JSON");
    assert!(
        doc["users"].as_array().is_some_and(|u| !u.is_empty()),
        "{doc}"
    );
    out.stdout
}

#[tokio::test]
async fn a_malformed_or_refused_import_file_exits_3_and_changes_nothing() {
    let app = spawn_app().await;
    let before = full_export(&app.db).await;
    let files = tempfile::tempdir().expect("dir");
    let cases = [
        ("garbage.json", "{ this is not json".to_string(), "not a Gatehouse configuration document"),
        ("array.json", "[1, 2, 3]".to_string(), "not a Gatehouse configuration document"),
        (
            "unknown.json",
            json!({"gatehouse_config": 1, "groups": []}).to_string(),
            "groups",
        ),
        (
            "version.json",
            json!({"gatehouse_config": 2, "users": [{"login_name": "v2", "email": "v2@example.com"}]}).to_string(),
            "format 1",
        ),
        (
            "twice.json",
            json!({"gatehouse_config": 1, "users": [
                {"login_name": "twice", "email": "t@example.com"},
                {"login_name": "Twice", "email": "t2@example.com"}
            ]})
            .to_string(),
            "twice",
        ),
        (
            "hash.json",
            json!({"gatehouse_config": 1, "users": [{"login_name": "hashy", "email": "h@example.com", "password_hash": "plain"}]}).to_string(),
            "Argon2",
        ),
    ];
    for (name, text, says) in cases {
        let file = write_file(&files, name, &text);
        let out = gh(&app.db, &["import", &file]).await;
        assert_eq!(out.code, 3, "{name}: {out}");
        assert!(out.stderr.contains(says), "{name} says {says:?}: {out}");
        assert_eq!(out.stdout, "", "{name}: no plan printed");
    }
    assert_eq!(full_export(&app.db).await, before, "nothing changed");

    // A member nobody knows is refused too.
    let file = write_file(
        &files,
        "member.json",
        &json!({"gatehouse_config": 1, "roles": [{"name": "Ghosts", "members": ["casper"]}]})
            .to_string(),
    );
    let out = gh(&app.db, &["import", &file]).await;
    assert_eq!(out.code, 3, "{out}");
    assert!(out.stderr.contains("casper"), "{out}");
    // So is an app naming a role nobody knows.
    let file = write_file(
        &files,
        "role.json",
        &json!({"gatehouse_config": 1, "apps": [{
            "app_id": "orphan", "name": "Orphan", "client_id_type": "confidential",
            "token_type": "opaque", "auth_methods": ["client_credentials"],
            "token_lifetime_secs": 3600, "issue_refresh_tokens": false,
            "refresh_token_lifetime_secs": 2592000, "user_must_confirm": false,
            "user_access_roles": ["No Such Role"]
        }]})
        .to_string(),
    );
    let out = gh(&app.db, &["import", &file]).await;
    assert_eq!(out.code, 3, "{out}");
    assert!(out.stderr.contains("No Such Role"), "{out}");
    assert_eq!(
        full_export(&app.db).await,
        before,
        "a refused document is refused before any of it is applied"
    );

    // A missing file or a database that cannot be opened is 1; a missing argument is 2.
    let missing = files.path().join("no-such-file.json").display().to_string();
    let out = gh(&app.db, &["import", &missing]).await;
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains("no-such-file.json"), "{out}");
    let nowhere = format!(
        "sqlite://{}",
        files.path().join("no-dir").join("x.db").display()
    );
    let out = gh(&nowhere, &["export"]).await;
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(out.stdout, "");
    let out = gh(&app.db, &["import"]).await;
    assert_eq!(out.code, 2, "{out}");
}
