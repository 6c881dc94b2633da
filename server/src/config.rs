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
    /// Address to listen on.
    #[arg(long, env = "GATEHOUSE_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,
    /// The externally visible base URL (issuer base, cookie security, Origin checks).
    /// Default: http://{bind}.
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// sqlite://path (created on first start) or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://gatehouse.db")]
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
    /// Where the built site (the /pkg wasm, js and css) lives.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
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
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("session_absolute_timeout", &self.session_absolute_timeout)
            .field("site_root", &self.site_root)
            .finish_non_exhaustive()
    }
}

impl Config {
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
