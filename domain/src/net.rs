//! Outbound HTTPS that a stranger cannot point at the inside (SSRF). A client ID metadata
//! document's URL is chosen by whoever sends an authorize request, so the fetch must not reach
//! this machine, its network or a cloud metadata service:
//! - only `https`, no proxy from the environment, no redirects followed (a 3xx is a failure);
//! - a host name is resolved once, by our resolver, and only the public addresses it gave are
//!   connected to (no second lookup that could answer differently); an IP literal is checked
//!   the same way; hosts in the allow list (`GATEHOUSE_CIMD_ALLOW_HOSTS`) may be anywhere;
//! - one deadline for the whole fetch, and a cap on the body (read in chunks, never buffered
//!   past the cap).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

/// What a fetch gave.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub body: Vec<u8>,
    /// How long the response may be reused (RFC 9111 `Cache-Control`): `Some(0)` for
    /// `no-store`/`no-cache`, `None` when the response does not say.
    pub max_age: Option<u64>,
}

/// Why a fetch gave nothing. The text is for the log and the client's error description; it
/// never holds more than the URL's host.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The host is on this machine, its network or a special-purpose range.
    #[error("{0}")]
    Refused(String),
    /// Unreachable, too slow, not 200, too large.
    #[error("{0}")]
    Failed(String),
}

/// The resolver's refusal, found again in the error reqwest returns.
#[derive(Debug)]
struct AddressRefused(String);

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves only to addresses that are not public",
            self.0
        )
    }
}
impl std::error::Error for AddressRefused {}

/// Host names that may resolve anywhere (lowercase, without a trailing dot).
#[derive(Clone, Default)]
struct AllowList(Arc<RwLock<Vec<String>>>);

impl AllowList {
    fn contains(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').trim_matches(['[', ']']);
        self.0
            .read()
            .is_ok_and(|l| l.iter().any(|h| h.eq_ignore_ascii_case(host)))
    }
}

/// Resolves a name once and hands reqwest only its public addresses.
struct PublicResolver {
    allow: AllowList,
}

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let anywhere = allow.contains(&host);
            let usable: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| anywhere || is_public(a.ip()))
                .collect();
            if usable.is_empty() {
                return Err(Box::new(AddressRefused(host)) as _);
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The fetcher: one HTTP client (built on first use), the allow list and the extra roots.
#[derive(Default)]
pub struct Outbound {
    client: OnceLock<Result<reqwest::Client, String>>,
    allow: AllowList,
    roots: RwLock<Vec<reqwest::Certificate>>,
}

/// The whole fetch, from resolving to the last byte.
pub const TIMEOUT: Duration = Duration::from_secs(5);

impl Outbound {
    /// Hosts that may resolve to any address (`GATEHOUSE_CIMD_ALLOW_HOSTS`).
    pub fn allow_hosts(&self, hosts: &[String]) {
        if let Ok(mut l) = self.allow.0.write() {
            *l = hosts
                .iter()
                .map(|h| {
                    h.trim()
                        .trim_end_matches('.')
                        .trim_matches(['[', ']'])
                        .to_lowercase()
                })
                .filter(|h| !h.is_empty())
                .collect();
        }
    }

    /// Certificate authorities trusted beside the system's (PEM, one or more), for documents
    /// served by an internal CA. Takes effect before the first fetch only.
    pub fn trust_pem(&self, pem: &[u8]) -> Result<usize, String> {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| e.to_string())?;
        let n = certs.len();
        if n == 0 {
            return Err("no certificate in the file".into());
        }
        if let Ok(mut r) = self.roots.write() {
            r.extend(certs);
        }
        Ok(n)
    }

    fn client(&self) -> Result<&reqwest::Client, FetchError> {
        self.client
            .get_or_init(|| {
                let mut b = reqwest::Client::builder()
                    .https_only(true)
                    .no_proxy()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(TIMEOUT)
                    .connect_timeout(TIMEOUT)
                    .user_agent(concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
                    .dns_resolver(Arc::new(PublicResolver {
                        allow: self.allow.clone(),
                    }));
                for c in self.roots.read().map(|r| r.clone()).unwrap_or_default() {
                    b = b.add_root_certificate(c);
                }
                b.build().map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| FetchError::Failed(format!("no HTTPS client: {e}")))
    }

    /// GETs `url` (https) with `accept`, reading at most `cap` bytes of a 200 response.
    pub async fn get(
        &self,
        url: &url::Url,
        accept: &str,
        cap: usize,
    ) -> Result<Fetched, FetchError> {
        let host = url.host_str().unwrap_or_default().to_string();
        if url.scheme() != "https" {
            return Err(FetchError::Refused("only https URLs are fetched".into()));
        }
        // An address in the URL is never resolved, so it is checked here.
        let literal = match url.host() {
            Some(url::Host::Ipv4(a)) => Some(IpAddr::V4(a)),
            Some(url::Host::Ipv6(a)) => Some(IpAddr::V6(a)),
            _ => None,
        };
        if literal.is_some_and(|ip| !is_public(ip)) && !self.allow.contains(&host) {
            return Err(FetchError::Refused(format!(
                "{host} is not a public address"
            )));
        }
        let client = self.client()?;
        let res = client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| failure(&host, &e))?;
        if res.status() != reqwest::StatusCode::OK {
            return Err(FetchError::Failed(format!(
                "{host} answered {} (redirects are not followed)",
                res.status().as_u16()
            )));
        }
        if res.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large(&host, cap));
        }
        let max_age = res
            .headers()
            .get_all(reqwest::header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .fold(None, |acc, v| cache_control(v).or(acc));
        let mut res = res;
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| failure(&host, &e))? {
            if body.len() + chunk.len() > cap {
                return Err(too_large(&host, cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, max_age })
    }
}

fn too_large(host: &str, cap: usize) -> FetchError {
    FetchError::Failed(format!("{host} sent more than {cap} bytes"))
}

/// The refusal of our resolver when it is the cause, else the failure in short.
fn failure(host: &str, e: &reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<AddressRefused>() {
            return FetchError::Refused(r.to_string());
        }
        source = s.source();
    }
    let what = if e.is_timeout() {
        "did not answer in time"
    } else if e.is_connect() {
        "could not be reached"
    } else {
        "failed"
    };
    FetchError::Failed(format!("{host} {what}"))
}

/// The freshness a `Cache-Control` value gives: 0 for `no-store`/`no-cache`, else `max-age`.
pub fn cache_control(value: &str) -> Option<u64> {
    let mut age = None;
    for d in value.split(',').map(str::trim) {
        let (name, arg) = d.split_once('=').unwrap_or((d, ""));
        match name.to_ascii_lowercase().as_str() {
            "no-store" | "no-cache" => return Some(0),
            "max-age" => age = arg.trim_matches('"').parse::<u64>().ok().or(age),
            _ => {}
        }
    }
    age
}

/// Whether `ip` is a public unicast address: not this machine, a private or shared network,
/// link-local (cloud metadata services live at 169.254.169.254), multicast, or any range
/// reserved for a special purpose (RFC 6890). An IPv6 address that carries an IPv4 one
/// (mapped, compatible, NAT64, 6to4) is judged by that.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => is_public_v6(a),
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    !(a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_documentation()
        || a.is_multicast()
        || o[0] == 0 // "this network"
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // shared address space (CGNAT), 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking, 198.18/15
        || o[0] >= 240) // reserved
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = a.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry the address at the end.
    if s[..6] == [0; 6] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return !a.is_unspecified() && !a.is_loopback() && is_public_v4(embedded(s[6], s[7]));
    }
    // 6to4 (2002::/16) carries it after the prefix.
    if s[0] == 0x2002 {
        return is_public_v4(embedded(s[1], s[2]));
    }
    !(a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        || a.is_unique_local()
        || a.is_unicast_link_local()
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo
        || (s[0] == 0x0100 && s[1..4] == [0; 3])) // discard-only
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn inside_addresses_are_not_public() {
        for a in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.170",
            "198.18.0.1",
            "198.19.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "100::1",
        ] {
            assert!(!public(a), "{a} must not count as public");
        }
    }

    #[test]
    fn internet_addresses_are_public() {
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "169.255.0.1",
            "198.20.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(public(a), "{a} is public");
        }
    }

    #[test]
    fn cache_control_gives_freshness() {
        assert_eq!(cache_control("max-age=600"), Some(600));
        assert_eq!(cache_control("public, max-age=\"60\""), Some(60));
        assert_eq!(cache_control("max-age=600, no-store"), Some(0));
        assert_eq!(cache_control("No-Cache"), Some(0));
        assert_eq!(cache_control("private"), None);
        assert_eq!(cache_control("max-age=soon"), None);
    }

    #[test]
    fn the_allow_list_ignores_case_and_a_trailing_dot() {
        let o = Outbound::default();
        o.allow_hosts(&[" Docs.Internal. ".into(), "[::1]".into(), String::new()]);
        assert!(o.allow.contains("docs.internal"));
        assert!(o.allow.contains("DOCS.INTERNAL."));
        assert!(o.allow.contains("[::1]"));
        assert!(!o.allow.contains("other.internal"));
        assert!(!o.allow.contains(""));
    }

    #[tokio::test]
    async fn private_literals_and_plain_http_are_refused_without_a_connection() {
        let o = Outbound::default();
        for u in [
            "https://127.0.0.1/client.json",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]:8443/c",
            "https://[::ffff:a9fe:a9fe]/c",
        ] {
            let r = o
                .get(&url::Url::parse(u).unwrap(), "application/json", 5120)
                .await;
            assert!(matches!(r, Err(FetchError::Refused(_))), "{u}: {r:?}");
        }
        let r = o
            .get(
                &url::Url::parse("http://example.com/c").unwrap(),
                "application/json",
                5120,
            )
            .await;
        assert!(matches!(r, Err(FetchError::Refused(_))));
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused() {
        let o = Outbound::default();
        let r = o
            .get(
                &url::Url::parse("https://localhost:9/c").unwrap(),
                "application/json",
                5120,
            )
            .await;
        assert!(matches!(r, Err(FetchError::Refused(_))), "{r:?}");
    }
}
