//! The client address every throttle keys on. Behind a reverse proxy the TCP peer is the proxy,
//! so the address comes from `Forwarded` / `X-Forwarded-For` — but only when the peer is one of
//! the configured trusted proxies, and then it is the rightmost hop that is not itself a trusted
//! proxy (every proxy appends what it saw; only the entries our own proxies wrote are facts).
//! An untrusted peer's headers are ignored, so a forged `X-Forwarded-For` changes nothing.
//!
//! (`axum-client-ip` takes the rightmost entry unconditionally and does not gate on the peer or
//! walk several trusted hops, so the walk is here; CIDR matching is `ipnet`'s.)

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::HeaderMap;
use ipnet::IpNet;

pub use app::api::ssr::ClientAddr;

/// Hops read at most, so a long header costs bounded work.
const MAX_HOPS: usize = 32;

#[derive(Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpNet>>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client address of a request from `peer` with `headers`.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // RFC 7239 first; X-Forwarded-For for the proxies that only speak that.
        let hops = forwarded_hops(headers);
        let hops = if hops.is_empty() {
            x_forwarded_for_hops(headers)
        } else {
            hops
        };
        for hop in hops.iter().rev().take(MAX_HOPS) {
            match hop {
                Some(ip) if self.trusts(*ip) => continue,
                Some(ip) => return *ip,
                // An entry we cannot read (`unknown`, an obfuscated name): stop trusting there.
                None => return peer,
            }
        }
        // Every hop was one of our proxies (or there were none): the peer is the client.
        hops.iter().flatten().next().copied().unwrap_or(peer)
    }
}

/// IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// One address as proxies write it: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]:80`,
/// optionally quoted.
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    let inner = s.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok().map(canonical)
}

fn x_forwarded_for_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(parse_hop)
        .collect()
}

fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| parse_hop(v))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies(Arc::new(
            list.iter().filter_map(|s| s.parse().ok()).collect(),
        ))
    }
    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            if let Ok(v) = v.parse() {
                h.append(*k, v);
            }
        }
        h
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let t = proxies(&[]);
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=198.51.100.1"),
        ]);
        assert_eq!(t.resolve(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        let t = proxies(&["10.0.0.0/8"]);
        assert_eq!(t.resolve(ip("192.0.2.1"), &h), ip("192.0.2.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let t = proxies(&["10.0.0.0/8", "::1/128"]);
        // The client forged the first entry; our two proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7, 10.0.0.5")]);
        assert_eq!(t.resolve(ip("10.0.0.2"), &h), ip("203.0.113.7"));
        let h = headers(&[(
            "forwarded",
            "for=1.1.1.1, for=\"[2001:db8::7]:4711\";proto=https",
        )]);
        assert_eq!(t.resolve(ip("::1"), &h), ip("2001:db8::7"));
        // Forwarded wins over X-Forwarded-For when both are present.
        let h = headers(&[
            ("forwarded", "for=203.0.113.8"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(t.resolve(ip("10.0.0.2"), &h), ip("203.0.113.8"));
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.1"),
            ("x-forwarded-for", "203.0.113.2"),
        ]);
        assert_eq!(t.resolve(ip("10.0.0.2"), &h), ip("203.0.113.2"));
    }

    #[test]
    fn unreadable_or_missing_hops_fall_back_to_the_peer() {
        let t = proxies(&["10.0.0.0/8"]);
        assert_eq!(t.resolve(ip("10.0.0.2"), &headers(&[])), ip("10.0.0.2"));
        let h = headers(&[("x-forwarded-for", "203.0.113.1, unknown")]);
        assert_eq!(t.resolve(ip("10.0.0.2"), &h), ip("10.0.0.2"));
        let h = headers(&[("x-forwarded-for", "::ffff:10.0.0.9")]);
        assert_eq!(t.resolve(ip("::ffff:10.0.0.2"), &h), ip("10.0.0.9"));
    }
}
