//! `make bench`: measures the token endpoint (client credentials, JWT and opaque) over HTTP
//! against a real server, and the Users list with 100,000 users. Runs against a fresh SQLite
//! database, or PostgreSQL when GATEHOUSE_TEST_POSTGRES names a server (scripts/with-postgres.sh).
//!
//! cargo run --release -p gatehouse --example bench [-- SECONDS CONCURRENCY]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::apps::AppFields;
use domain::roles::NewRole;
use domain::scopes::Scope;
use domain::users::{NewUser, UserFilter};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let conc: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(32);
    let dir = tempfile::tempdir()?;
    let db = match std::env::var("GATEHOUSE_TEST_POSTGRES") {
        Ok(base) => {
            let name = format!("bench_{}", std::process::id());
            let mut c =
                <sqlx::PgConnection as sqlx::Connection>::connect(&format!("{base}/postgres"))
                    .await?;
            sqlx::Executor::execute(&mut c, format!("CREATE DATABASE {name}").as_str()).await?;
            format!("{base}/{name}")
        }
        Err(_) => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let backend = if db.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let config = gatehouse::Config {
        bind: "127.0.0.1:0".parse()?,
        public_url: None,
        database_url: db,
        admin_user: "admin".into(),
        admin_password: Some("bench-admin-password".into()),
        trusted_proxies: vec![],
        token_rate_limit: 0,
        session_idle_timeout: 1800,
        session_absolute_timeout: 43200,
        secret_key: vec!["test-system-secret-0123456789abcdefghij".into()],
        secret_key_file: None,
        header_timeout: 10,
        body_timeout: 30,
        max_connections: 4096,
        site_root: "target/site".into(),
    };
    let prepared = gatehouse::prepare(config).await?;
    let url = prepared.public_url.clone();
    let s = prepared.services.clone();
    tokio::spawn(gatehouse::serve(prepared));

    let admin_id = s
        .list_users(&root(), UserFilter::Exact("admin"), 1, 0)
        .await?
        .items[0]
        .id
        .clone();
    let admin = s
        .principal(&admin_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("admin"))?;
    let role = s
        .create_role(
            &admin,
            NewRole {
                name: "Bench".into(),
                description: String::new(),
                admin_rights: vec![],
            },
        )
        .await?;
    let client = s
        .create_user(
            &admin,
            NewUser {
                login_name: "bench@example.com".into(),
                email: "bench@example.com".into(),
                display_name: String::new(),
                password: "bench-secret-1".into(),
                is_oauth_confidential_client: true,
                enabled: true,
            },
        )
        .await?;
    s.add_role_member(&admin, &role.id, &client.id).await?;
    for (id, kind) in [("bench-jwt", "jwt_rs256"), ("bench-opaque", "opaque")] {
        s.create_app(
            &admin,
            AppFields {
                app_id: Some(id.into()),
                name: Some(id.into()),
                token_type: Some(kind.into()),
                auth_methods: Some(vec!["client_credentials".into()]),
                scopes: Some(vec![Scope {
                    name: "read".into(),
                    description: String::new(),
                    rest_regexes: vec![".*".into()],
                }]),
                user_access_roles: Some(vec!["Bench".into()]),
                ..Default::default()
            },
        )
        .await?;
    }

    println!("Gatehouse benchmark on {backend}, {conc} concurrent clients, {secs} s per scenario");
    for app in ["bench-jwt", "bench-opaque"] {
        token_bench(&url, app, secs, conc).await?;
    }
    users_bench(&s, &admin).await?;
    Ok(())
}

/// A principal for the one bootstrap lookup.
fn root() -> domain::Principal {
    domain::Principal {
        user_id: String::new(),
        login_name: "bench".into(),
        display_name: String::new(),
        rights: vec![],
        sysadmin: true,
    }
}

async fn token_bench(url: &str, app: &str, secs: u64, conc: usize) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(conc)
        .build()?;
    let endpoint = format!("{url}/oauth2/token/{app}");
    // Warm-up: the first request pays Argon2id once; later ones hit the verification cache.
    let first = Instant::now();
    let res = http
        .post(&endpoint)
        .basic_auth("bench@example.com", Some("bench-secret-1"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    anyhow::ensure!(res.status() == 200, "warm-up failed: {}", res.text().await?);
    let cold = first.elapsed();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (http, endpoint, stop) = (http.clone(), endpoint.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = http
                    .post(&endpoint)
                    .basic_auth("bench@example.com", Some("bench-secret-1"))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "token endpoint {app:<13} {:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   errors {errors}   (first request, with Argon2id: {:.1} ms)",
        all.len() as f64 / secs as f64,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        cold.as_secs_f64() * 1e3
    );
    Ok(())
}

async fn users_bench(s: &domain::Services, admin: &domain::Principal) -> anyhow::Result<()> {
    const N: i64 = 100_000;
    // Seed directly: hashing 100,000 passwords would measure Argon2id, not the list.
    let hash = domain::passwords::hash_blocking("seeded-user-password")?;
    let t = Instant::now();
    let mut tx = s.store.pool.begin().await?;
    for chunk in (0..N).collect::<Vec<_>>().chunks(500) {
        let mut sql = String::from("INSERT INTO users (id, login_name, login_name_lower, email, display_name, password_hash, created_at, updated_at) VALUES ");
        let rows: Vec<String> = chunk
            .iter()
            .map(|i| format!("('seed-{i:06}', 'user-{i:06}', 'user-{i:06}', 'user-{i:06}@example.com', 'User {i}', '{hash}', 0, 0)"))
            .collect();
        sql.push_str(&rows.join(","));
        sqlx::query(&sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    println!("seeded {N} users in {:.1} s", t.elapsed().as_secs_f64());
    for (label, filter, offset) in [
        ("first page", UserFilter::All, 0),
        ("page at offset 50,000", UserFilter::All, 50_000),
        ("exact login name", UserFilter::Exact("user-099999"), 0),
        (
            "search 'user-0999' (substring)",
            UserFilter::Contains("user-0999"),
            0,
        ),
    ] {
        let mut times = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let page = s.list_users(admin, filter, 50, offset).await?;
            times.push(t.elapsed());
            anyhow::ensure!(page.total > 0, "empty page");
        }
        times.sort();
        println!(
            "users list, {label:<32} median {:>7.2} ms   max {:>7.2} ms (50 rows + total)",
            times[10].as_secs_f64() * 1e3,
            times[19].as_secs_f64() * 1e3
        );
    }
    Ok(())
}
