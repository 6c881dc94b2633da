//! `make bench-users`: the Users list's query times with 100,000 users (a database-scale check,
//! not a throughput figure: those come from `make bench`, driven from outside). Runs against a
//! fresh SQLite database, or PostgreSQL when GATEHOUSE_TEST_POSTGRES names a server
//! (scripts/with-postgres.sh).
//!
//! cargo run --release -p gatehouse --example users_bench

use std::time::Instant;

use domain::users::UserFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
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
    };
    let prepared = gatehouse::prepare(config).await?;
    let s = prepared.services.clone();

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
    println!("Users list on {backend}");
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
        origin: Default::default(),
    }
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
