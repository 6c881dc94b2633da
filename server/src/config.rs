//! Settings from flags and the environment (SPEC §7).

use std::net::SocketAddr;

use clap::Parser;

#[derive(Clone, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Self-hosted OAuth2 authorization server with its own admin portal"
)]
pub struct Config {
    // The settings the admin commands use too are `global`: `gatehouse export --database-url …`.
    /// Address to listen on.
    #[arg(long, env = "GATEHOUSE_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,
    /// The externally visible base URL (issuer base, cookie security, Origin checks).
    /// Default: http://{bind}.
    #[arg(long, global = true, env = "GATEHOUSE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// sqlite://path (created on first start) or postgres://…
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "sqlite://gatehouse.db"
    )]
    pub database_url: String,
    /// Login name of the first administrator, created on an empty database.
    #[arg(long, env = "GATEHOUSE_ADMIN_USER", default_value = "admin")]
    pub admin_user: String,
    /// Password of the first administrator; generated and logged once when absent.
    #[arg(long, env = "GATEHOUSE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` give the client address (CIDR
    /// list, comma-separated). Default: none — the TCP peer is the client.
    #[arg(long, env = "GATEHOUSE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Requests per second each client address may make to the token, introspection and
    /// revocation endpoints (bursts of as many); 0 turns the limit off.
    #[arg(long, env = "GATEHOUSE_TOKEN_RATE_LIMIT", default_value_t = 0)]
    pub token_rate_limit: u32,
    /// Argon2 verifications run at once (each holds 19 MiB); 0: one fewer than the machine
    /// has cores (at least one).
    #[arg(long, env = "GATEHOUSE_PASSWORD_HASH_CONCURRENCY", default_value_t = 0)]
    pub password_hash_concurrency: usize,
    /// Verifications that may wait for one of those; beyond, sign-ins and client
    /// authentication are answered 503 with `Retry-After` at once. 0: 32 per core.
    #[arg(long, env = "GATEHOUSE_PASSWORD_HASH_QUEUE", default_value_t = 0)]
    pub password_hash_queue: usize,
    /// How many clients may register themselves with one app (open RFC 7591 registration).
    #[arg(
        long,
        env = "GATEHOUSE_REGISTRATION_MAX_CLIENTS",
        default_value_t = 1000
    )]
    pub registration_max_clients: usize,
    /// Registrations a client address may send an instance per minute.
    #[arg(long, env = "GATEHOUSE_REGISTRATION_RATE", default_value_t = 20)]
    pub registration_rate: u32,
    /// The portal asks every administrator (anyone with an admin right) for a second factor:
    /// one without is led to set one up first.
    #[arg(long, env = "GATEHOUSE_ADMIN_REQUIRE_MFA", default_value_t = false)]
    pub admin_require_mfa: bool,
    /// DPoP proofs at the token endpoint must carry the server's nonce (RFC 9449 §8): a proof
    /// without it is answered `use_dpop_nonce` with the nonce in `DPoP-Nonce`. It changes every
    /// 5 minutes and every instance accepts any instance's.
    #[arg(long, env = "GATEHOUSE_DPOP_NONCE", default_value_t = false)]
    pub dpop_nonce: bool,
    /// The SMTP server mail goes out through: `smtps://user:pass@host:465` (TLS),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtp://host:25` (a local relay,
    /// unencrypted). Unset: no password reset by e-mail and no sign-up.
    #[arg(long, env = "GATEHOUSE_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of Gatehouse's mail (`Name <address>` or an address); needed with an SMTP URL.
    #[arg(long, env = "GATEHOUSE_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Self-registration: `open` lets people sign up with a verified e-mail address (needs
    /// mail), `off` (default) does not.
    #[arg(long = "registration", env = "GATEHOUSE_REGISTRATION", value_enum, default_value_t = SignUp::Off)]
    pub sign_up: SignUp,
    /// E-mail domains sign-up takes (comma-separated); none: any.
    #[arg(long, env = "GATEHOUSE_REGISTRATION_DOMAINS", value_delimiter = ',')]
    pub registration_domains: Vec<String>,
    /// The role people who signed up join once their address is verified (a role name).
    #[arg(long, env = "GATEHOUSE_REGISTRATION_ROLE")]
    pub registration_role: Option<String>,
    /// Hosts whose client ID metadata documents may be fetched from private, loopback or
    /// link-local addresses (comma-separated host names). Default: none — documents come
    /// only from public addresses.
    #[arg(long, env = "GATEHOUSE_CIMD_ALLOW_HOSTS", value_delimiter = ',')]
    pub cimd_allow_hosts: Vec<String>,
    /// A PEM file of certificate authorities trusted for outbound HTTPS (client ID metadata
    /// documents) beside the system's.
    #[arg(long, env = "GATEHOUSE_OUTBOUND_CA_FILE")]
    pub outbound_ca_file: Option<std::path::PathBuf>,
    /// Days a self-registered client may stay unused before housekeeping deletes it.
    #[arg(long, env = "GATEHOUSE_REGISTRATION_IDLE_DAYS", default_value_t = 30)]
    pub registration_idle_days: i64,
    /// Seconds without a request after which a portal session ends.
    #[arg(long, env = "GATEHOUSE_SESSION_IDLE_TIMEOUT", default_value_t = 1800)]
    pub session_idle_timeout: i64,
    /// Seconds after signing in at which a portal session ends, however active.
    #[arg(
        long,
        env = "GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT",
        default_value_t = 43200
    )]
    pub session_absolute_timeout: i64,
    /// The system secret that seals the private signing keys at rest (at least 32 characters);
    /// more, comma-separated, are old secrets still accepted for opening (rotation). Give every
    /// instance the same.
    #[arg(
        long,
        global = true,
        env = "GATEHOUSE_SECRET_KEY",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub secret_key: Vec<String>,
    /// A file with the system secret on its first line and old secrets on the next ones. With
    /// neither setting and SQLite, `{database file}.secret` is used, made on first start.
    #[arg(long, global = true, env = "GATEHOUSE_SECRET_KEY_FILE")]
    pub secret_key_file: Option<std::path::PathBuf>,
    /// Seconds a client has to send a request's headers (and, on a kept-alive connection, to
    /// start the next request) before the connection is closed.
    #[arg(long, env = "GATEHOUSE_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,
    /// Seconds a client has to send a request's body.
    #[arg(long, env = "GATEHOUSE_BODY_TIMEOUT", default_value_t = 30)]
    pub body_timeout: u64,
    /// Connections served at once; more wait in the accept queue.
    #[arg(long, env = "GATEHOUSE_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Address for `GET /metrics` (Prometheus). Unset: the main address answers it, to
    /// loopback peers only.
    #[arg(long, env = "GATEHOUSE_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Record metrics and the dashboard's activity counts (on by default; off only to measure
    /// what they cost).
    #[arg(long, env = "GATEHOUSE_METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,
    /// Log lines as plain text (default) or one JSON object per line.
    #[arg(long, global = true, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Where the built site (the /pkg wasm, js and css) lives.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
}

/// How log lines are written.
/// `GATEHOUSE_REGISTRATION`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SignUp {
    Open,
    #[default]
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl std::fmt::Debug for Config {
    // Never print the admin password or database credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("admin_user", &self.admin_user)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("token_rate_limit", &self.token_rate_limit)
            .field("password_hash_concurrency", &self.password_hash_concurrency)
            .field("password_hash_queue", &self.password_hash_queue)
            .field("registration_max_clients", &self.registration_max_clients)
            .field("registration_rate", &self.registration_rate)
            .field("registration_idle_days", &self.registration_idle_days)
            .field("cimd_allow_hosts", &self.cimd_allow_hosts)
            .field("admin_require_mfa", &self.admin_require_mfa)
            .field("dpop_nonce", &self.dpop_nonce)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "(set)"))
            .field("mail_from", &self.mail_from)
            .field("sign_up", &self.sign_up)
            .field("registration_domains", &self.registration_domains)
            .field("registration_role", &self.registration_role)
            .field("outbound_ca_file", &self.outbound_ca_file)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("session_absolute_timeout", &self.session_absolute_timeout)
            .field("header_timeout", &self.header_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("max_connections", &self.max_connections)
            .field("site_root", &self.site_root)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The bounds of password hashing, with 0 meaning the machine's default.
    pub fn hash_limits(&self) -> domain::passwords::HashLimits {
        let default = domain::passwords::HashLimits::default();
        domain::passwords::HashLimits {
            concurrency: match self.password_hash_concurrency {
                0 => default.concurrency,
                n => n,
            },
            queue: match self.password_hash_queue {
                0 => default.queue,
                n => n,
            },
        }
    }

    /// The system secrets, current first: from the setting, the file, or (SQLite only) a file
    /// beside the database made on first start. PostgreSQL needs one given: every instance
    /// must share it.
    pub fn secrets(&self) -> Result<Vec<String>, String> {
        if !self.secret_key.is_empty() {
            return Ok(self.secret_key.clone());
        }
        let read = |path: &std::path::Path| -> Result<Vec<String>, String> {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--secret-key-file {}: {e}", path.display()))?;
            Ok(text
                .lines()
                .map(str::to_string)
                .filter(|l| !l.trim().is_empty())
                .collect())
        };
        if let Some(path) = &self.secret_key_file {
            return read(path);
        }
        let Some(db) = self.database_url.strip_prefix("sqlite://") else {
            return Err(
                "GATEHOUSE_SECRET_KEY or --secret-key-file is required with PostgreSQL \
                        (every instance needs the same secret to open the signing keys)"
                    .into(),
            );
        };
        let db = db.split('?').next().unwrap_or(db);
        let path = std::path::PathBuf::from(format!("{db}.secret"));
        if !path.exists() {
            write_private(&path, &domain::secrets::SecretBox::generate_secret())
                .map_err(|e| format!("cannot create the secret file {}: {e}", path.display()))?;
        }
        read(&path)
    }

    /// Checks the public URL: absolute http(s), no query or fragment. Returns it without a
    /// trailing slash, or the error line that names the setting.
    pub fn checked_public_url(&self, bound: SocketAddr) -> Result<String, String> {
        let url = match &self.public_url {
            None => return Ok(format!("http://{bound}")),
            Some(u) => u.trim().trim_end_matches('/').to_string(),
        };
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        match rest {
            Some(host) if !host.is_empty() && !host.contains(['?', '#', ' ']) && !host.starts_with('/') => Ok(url),
            _ => Err(format!("GATEHOUSE_PUBLIC_URL must be an absolute http(s) URL without query or fragment, got {url:?}")),
        }
    }
}

/// Writes a new file readable by its owner only.
fn write_private(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    writeln!(f, "{secret}")
}
