//! Newtypes for the names of SPEC §2, built only through constructors that check the rules.

use crate::{Invalid, Result};

macro_rules! string_newtype {
    ($name:ident) => {
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(String);
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_inner(self) -> String {
                self.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_newtype!(LoginName);
string_newtype!(Email);
string_newtype!(RoleName);
string_newtype!(AppId);
string_newtype!(ScopeName);
string_newtype!(RedirectUri);

fn char_len(s: &str) -> usize {
    s.chars().count()
}

impl LoginName {
    /// 1-128 characters, no whitespace or control characters. Compared case-insensitively.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Invalid::new("login_name", "Login Name is required"));
        }
        if char_len(s) > 128 {
            return Err(Invalid::new(
                "login_name",
                "Login Name is at most 128 characters",
            ));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Invalid::new(
                "login_name",
                "Login Name may not contain spaces",
            ));
        }
        Ok(LoginName(s.to_string()))
    }
    pub fn lower(&self) -> String {
        self.0.to_lowercase()
    }
}

impl Email {
    /// At most 254 characters as sent (the API's schema counts the whitespace it trims).
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        let ok = char_len(raw) <= 254
            && s.split_once('@').is_some_and(|(local, host)| {
                !local.is_empty() && !host.is_empty() && !host.contains('@')
            })
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(Invalid::new(
                "email",
                "Email Address must look like name@example.com",
            ));
        }
        Ok(Email(s.to_string()))
    }
}

impl RoleName {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() || char_len(s) > 128 {
            return Err(Invalid::new("name", "Name is required (1-128 characters)"));
        }
        if s.chars().any(|c| c.is_control()) {
            return Err(Invalid::new(
                "name",
                "Name may not contain control characters",
            ));
        }
        Ok(RoleName(s.to_string()))
    }
}

impl AppId {
    /// 1-64 characters of `A-Za-z0-9._-`: the last segment of the app's OAuth URLs.
    pub fn parse(s: &str) -> Result<Self> {
        if s.is_empty() || s.len() > 64 {
            return Err(Invalid::new(
                "app_id",
                "Application ID must be 1-64 characters",
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(Invalid::new(
                "app_id",
                "Application ID may contain only letters, digits, '.', '_' and '-'",
            ));
        }
        Ok(AppId(s.to_string()))
    }
}

impl ScopeName {
    /// 1-64 characters of `A-Za-z0-9._:-`.
    pub fn parse(s: &str) -> Result<Self> {
        if s.is_empty() || s.len() > 64 {
            return Err(Invalid::new("name", "Scope name must be 1-64 characters"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        {
            return Err(Invalid::new(
                "name",
                "Scope name may contain only letters, digits, '.', '_', ':' and '-'",
            ));
        }
        Ok(ScopeName(s.to_string()))
    }
}

impl RedirectUri {
    /// An absolute URI with a scheme and no fragment.
    /// At most 2048 characters as sent: the API's schema counts the whitespace it trims.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        let bad = |m: &str| Invalid::new("", m.to_string());
        if s.is_empty() || char_len(raw) > 2048 {
            return Err(bad("Redirect URI must be 1-2048 characters"));
        }
        if s.contains('#') {
            return Err(bad("Redirect URI must not contain a fragment (#)"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("Redirect URI must not contain spaces"));
        }
        let Some((scheme, rest)) = s.split_once(':') else {
            return Err(bad("Redirect URI must be absolute (https://…)"));
        };
        let scheme_ok = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok || rest.is_empty() {
            return Err(bad("Redirect URI must be absolute (https://…)"));
        }
        let lower = scheme.to_ascii_lowercase();
        if (lower == "http" || lower == "https")
            && (!rest.starts_with("//")
                || rest[2..].split(['/', '?']).next().unwrap_or("").is_empty())
        {
            return Err(bad("Redirect URI must name a host (https://host/path)"));
        }
        Ok(RedirectUri(s.to_string()))
    }

    /// Exact match (RFC 9700), except that a loopback `http://127.0.0.1` or `http://[::1]`
    /// registration matches any port (RFC 8252 §7.3).
    pub fn matches(&self, requested: &str) -> bool {
        if self.0 == requested {
            return true;
        }
        match (
            loopback_parts(&self.0, false),
            loopback_parts(requested, false),
        ) {
            (Some((h1, p1)), Some((h2, p2))) => h1 == h2 && p1 == p2,
            _ => false,
        }
    }

    /// As `matches`, with `http://localhost` also on any port: a registered client's redirect
    /// URIs (SPEC §3b; native apps and MCP clients often register `localhost` and come back
    /// on another port).
    pub fn matches_any_loopback(&self, requested: &str) -> bool {
        if self.matches(requested) {
            return true;
        }
        match (
            loopback_parts(&self.0, true),
            loopback_parts(requested, true),
        ) {
            (Some((h1, p1)), Some((h2, p2))) => h1 == h2 && p1 == p2,
            _ => false,
        }
    }
}

/// For `http://127.0.0.1[:port]/rest` or `http://[::1][:port]/rest`: (host, rest) without the port.
fn loopback_parts(uri: &str, localhost: bool) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    let (host, after) = if let Some(r) = rest.strip_prefix("[::1]") {
        ("[::1]", r)
    } else if let Some(r) = rest.strip_prefix("127.0.0.1") {
        ("127.0.0.1", r)
    } else if let Some(r) = rest.strip_prefix("localhost").filter(|_| localhost) {
        ("localhost", r)
    } else {
        return None;
    };
    let after = match after.strip_prefix(':') {
        Some(p) => {
            let end = p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len());
            // A port a socket can have: 1-65535.
            if !p[..end].parse::<u16>().is_ok_and(|port| port > 0) {
                return None;
            }
            &p[end..]
        }
        None => after,
    };
    if !(after.is_empty() || after.starts_with('/') || after.starts_with('?')) {
        return None;
    }
    Some((host, after))
}

/// Password rules for people and confidential clients.
pub fn check_password(field: &str, p: &str) -> Result<()> {
    if char_len(p) < 8 {
        return Err(Invalid::new(
            field,
            "Password must be at least 8 characters",
        ));
    }
    if char_len(p) > 1024 {
        return Err(Invalid::new(field, "Password is at most 1024 characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_name_rejects_spaces_and_empty() {
        assert!(LoginName::parse("").is_err());
        assert!(LoginName::parse("a b").is_err());
        assert_eq!(
            LoginName::parse(" Alice@Example.com ")
                .map(|l| l.lower())
                .ok()
                .as_deref(),
            Some("alice@example.com")
        );
    }

    #[test]
    fn loopback_redirects_match_any_port_and_localhost_only_for_registered_clients() {
        let ip = RedirectUri::parse("http://127.0.0.1/cb").unwrap();
        assert!(ip.matches("http://127.0.0.1:49152/cb"));
        assert!(!ip.matches("http://127.0.0.1:49152/other"));
        for port in ["0", "65536", "99999999999"] {
            assert!(
                !ip.matches(&format!("http://127.0.0.1:{port}/cb")),
                "{port}"
            );
        }
        let name = RedirectUri::parse("http://localhost:4444/callback").unwrap();
        assert!(!name.matches("http://localhost:5555/callback"));
        assert!(name.matches_any_loopback("http://localhost:5555/callback"));
        assert!(name.matches_any_loopback("http://localhost/callback"));
        assert!(!name.matches_any_loopback("http://localhost.evil.example:5555/callback"));
        assert!(!name.matches_any_loopback("http://127.0.0.1:5555/callback"));
        assert!(!name.matches_any_loopback("https://localhost:5555/callback"));
    }

    #[test]
    fn a_redirect_uri_is_at_most_2048_characters_as_sent() {
        let uri = format!("https://a.example/{}", "x".repeat(2048 - 18));
        assert!(RedirectUri::parse(&uri).is_ok());
        assert!(RedirectUri::parse(&format!(" {uri}")).is_err());
        assert!(RedirectUri::parse(&format!("{uri}x")).is_err());
    }

    #[test]
    fn an_email_is_at_most_254_characters_as_sent() {
        let email = format!("{}@example.com", "a".repeat(254 - 12));
        assert!(Email::parse(&email).is_ok());
        assert!(Email::parse(&format!(" {email}")).is_err());
    }

    #[test]
    fn app_id_charset() {
        assert!(AppId::parse("my-app_1.0").is_ok());
        assert!(AppId::parse("my app").is_err());
        assert!(AppId::parse("").is_err());
        assert!(AppId::parse(&"a".repeat(65)).is_err());
        assert!(AppId::parse("a/b").is_err());
    }

    #[test]
    fn scope_name_charset() {
        assert!(ScopeName::parse("read:users").is_ok());
        assert!(ScopeName::parse("read users").is_err());
    }

    #[test]
    fn redirect_uri_rules() {
        assert!(RedirectUri::parse("https://client.example/cb").is_ok());
        assert!(RedirectUri::parse("com.example.app:/cb").is_ok());
        assert!(RedirectUri::parse("/relative").is_err());
        assert!(RedirectUri::parse("https://client.example/cb#frag").is_err());
        assert!(RedirectUri::parse("https:///nohost").is_err());
    }

    #[test]
    fn redirect_matching_is_exact_except_loopback_port() {
        let r = RedirectUri::parse("https://client.example/cb").unwrap_or_else(|_| unreachable!());
        assert!(r.matches("https://client.example/cb"));
        assert!(!r.matches("https://client.example/cb/"));
        assert!(!r.matches("https://client.example/cb?x=1"));
        assert!(!r.matches("https://client.example:8443/cb"));
        let l = RedirectUri::parse("http://127.0.0.1/cb").unwrap_or_else(|_| unreachable!());
        assert!(l.matches("http://127.0.0.1:51234/cb"));
        assert!(!l.matches("http://127.0.0.1:51234/other"));
        assert!(!l.matches("http://127.0.0.1.evil.com/cb"));
        let v6 = RedirectUri::parse("http://[::1]:80/cb").unwrap_or_else(|_| unreachable!());
        assert!(v6.matches("http://[::1]:9999/cb"));
        assert!(!v6.matches("http://127.0.0.1:9999/cb"));
    }

    #[test]
    fn email_and_password() {
        assert!(Email::parse("a@b").is_ok());
        assert!(Email::parse("ab").is_err());
        assert!(check_password("password", "short").is_err());
        assert!(check_password("password", "long enough").is_ok());
    }
}
