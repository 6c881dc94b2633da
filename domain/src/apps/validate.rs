//! The rules of SPEC §2 for an app's settings: each field checked with its JSON name.

use serde::Deserialize;
use serde_json::Value;

use super::*;
use crate::error::{DomainError, Result};
use crate::names::RedirectUri;
use crate::scopes::validate_scopes;

pub(super) fn parse_enum<T: for<'de> Deserialize<'de>>(
    field: &str,
    s: &str,
    allowed: &str,
) -> Result<T> {
    serde_json::from_value(Value::String(s.trim().to_string()))
        .map_err(|_| DomainError::invalid(field, format!("{s:?} is not one of {allowed}")))
}

/// The settings as stored (the issuer override separately from the effective one).
#[derive(Clone, Debug)]
pub(super) struct Draft {
    pub(super) app: App,
    pub(super) issuer_override: Option<String>,
}

pub(super) fn text(field: &str, label: &str, s: &str, min: usize, max: usize) -> Result<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min || n > max {
        return Err(DomainError::invalid(
            field,
            if min > 0 {
                format!("{label} must be {min}-{max} characters")
            } else {
                format!("{label} is at most {max} characters")
            },
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::invalid(
            field,
            format!("{label} may not contain control characters"),
        ));
    }
    Ok(t.to_string())
}

pub(super) fn check_lifetime(field: &str, v: i64, max: i64) -> Result<i64> {
    if !(MIN_LIFETIME..=max).contains(&v) {
        return Err(DomainError::invalid(
            field,
            format!("must be between {MIN_LIFETIME} and {max} seconds"),
        ));
    }
    Ok(v)
}

/// An issuer override: at most 1024 characters as sent (the schema's `maxLength` counts the
/// whitespace the API trims), an absolute http(s) URL without query, fragment, whitespace or
/// control characters; empty (or only slashes) resets to the default issuer.
pub(super) fn check_issuer(raw: &str) -> Result<Option<String>> {
    let s = raw.trim().trim_end_matches('/');
    let url_ok = (s.starts_with("https://") || s.starts_with("http://"))
        && !s
            .chars()
            .any(|c| matches!(c, '#' | '?') || c.is_whitespace() || c.is_control());
    if raw.chars().count() > 1024 || !(s.is_empty() || url_ok) {
        return Err(DomainError::invalid(
            "issuer",
            "Issuer must be an absolute http(s) URL without query or fragment",
        ));
    }
    Ok((!s.is_empty()).then(|| s.to_string()))
}

impl Draft {
    /// The contract's defaults (the model's new app), except that an app made through the API
    /// allows no auth method until it names one.
    pub(super) fn defaults(app_id: &str, public_url: &str) -> Draft {
        Draft {
            app: App {
                app_id: app_id.to_string(),
                issuer: default_issuer(public_url, app_id),
                auth_methods: vec![],
                ..App::new_app()
            },
            issuer_override: None,
        }
    }

    /// Applies and validates every field present. Role names are resolved by the caller.
    pub(super) fn apply(&mut self, f: AppFields, public_url: &str) -> Result<()> {
        let a = &mut self.app;
        if let Some(id) = &f.app_id {
            if id != &a.app_id {
                return Err(DomainError::invalid(
                    "app_id",
                    "Application ID cannot be changed after creation",
                ));
            }
        }
        if let Some(v) = &f.name {
            // Checked as sent (length, control characters), stored in the normal form.
            let checked = text("name", "Application Name", v, 1, 128)?;
            a.name = crate::names::normal_form(&checked);
            if a.name.is_empty() {
                return Err(DomainError::invalid(
                    "name",
                    "Application Name must be 1-128 characters",
                ));
            }
        }
        if let Some(v) = &f.description {
            a.description = text("description", "Description", v, 0, 4096)?;
        }
        if let Some(v) = &f.category {
            let c = text("category", "Category", v, 0, 64)?;
            a.category = if c.is_empty() { "Other".into() } else { c };
        }
        if let Some(v) = &f.client_id_type {
            a.client_id_type = parse_enum(
                "client_id_type",
                v,
                "anything, list, confidential, registered",
            )?;
        }
        if let Some(list) = f.allowed_clients {
            let mut out = Vec::new();
            for (i, c) in list.iter().enumerate() {
                let c = c.trim();
                if c.is_empty() || c.chars().count() > 128 || c.chars().any(char::is_whitespace) {
                    return Err(DomainError::invalid(
                        format!("allowed_clients[{i}]"),
                        "a client id is 1-128 characters without spaces",
                    ));
                }
                if !out.iter().any(|o: &String| o.eq_ignore_ascii_case(c)) {
                    out.push(c.to_string());
                }
            }
            a.allowed_clients = out;
        }
        if let Some(v) = &f.issuer {
            self.issuer_override = check_issuer(v)?;
        }
        if let Some(list) = f.redirect_uris {
            a.redirect_uris = uri_list("redirect_uris", &list, "redirect URIs")?;
        }
        if let Some(list) = f.post_logout_redirect_uris {
            a.post_logout_redirect_uris =
                uri_list("post_logout_redirect_uris", &list, "redirect URIs")?;
        }
        if let Some(v) = &f.client_registration {
            a.client_registration = parse_enum("client_registration", v, "off, token, open")?;
        }
        if a.client_registration != ClientRegistration::Off
            && a.client_id_type != ClientIdType::Registered
        {
            return Err(DomainError::invalid(
                "client_registration",
                "clients register themselves only with an app whose Client ID Type is registered",
            ));
        }
        if let Some(v) = f.client_id_metadata_documents {
            a.client_id_metadata_documents = v;
        }
        if a.client_id_metadata_documents && a.client_id_type != ClientIdType::Registered {
            return Err(DomainError::invalid(
                "client_id_metadata_documents",
                "client ID metadata documents are taken only by an app whose Client ID Type is registered",
            ));
        }
        if let Some(list) = f.resources {
            // RFC 8707 §2: an absolute URI without a fragment, as a redirect URI is.
            a.resources = uri_list("resources", &list, "resources")?;
        }
        if let Some(v) = &f.token_type {
            a.token_type = parse_enum("token_type", v, "jwt_rs256, jwt_es256, jwt_eddsa, opaque")?;
        }
        if let Some(list) = &f.auth_methods {
            let mut out = Vec::new();
            for (i, m) in list.iter().enumerate() {
                let m: AuthMethod = parse_enum(
                    &format!("auth_methods[{i}]"),
                    m,
                    "client_credentials, authorization_code, implicit, password",
                )?;
                if !out.contains(&m) {
                    out.push(m);
                }
            }
            out.sort_by_key(|m| AuthMethod::ALL.iter().position(|x| x == m));
            a.auth_methods = out;
        }
        if let Some(v) = f.token_lifetime_secs {
            a.token_lifetime_secs = check_lifetime("token_lifetime_secs", v, MAX_LIFETIME)?;
        }
        if let Some(v) = f.issue_refresh_tokens {
            a.issue_refresh_tokens = v;
        }
        if let Some(v) = f.refresh_token_lifetime_secs {
            a.refresh_token_lifetime_secs =
                check_lifetime("refresh_token_lifetime_secs", v, MAX_REFRESH_LIFETIME)?;
        }
        if let Some(v) = f.require_mfa {
            a.require_mfa = v;
        }
        if let Some(v) = f.require_par {
            a.require_par = v;
        }
        if let Some(v) = f.require_dpop {
            a.require_dpop = v;
        }
        if let Some(v) = f.user_must_confirm {
            a.user_must_confirm = v;
        }
        if let Some(s) = f.scopes {
            a.scopes = validate_scopes(s)?;
        }
        a.issuer = self
            .issuer_override
            .clone()
            .unwrap_or_else(|| default_issuer(public_url, &a.app_id));
        a.issuer_is_default = self.issuer_override.is_none();
        Ok(())
    }
}

/// A list of absolute URIs without a fragment (`redirect_uris`, `post_logout_redirect_uris`,
/// `resources`): each parses, none twice, at most 100.
fn uri_list(field: &str, list: &[String], noun: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, u) in list.iter().enumerate() {
        let u = RedirectUri::parse(u).map_err(|e| e.under(&format!("{field}[{i}]")))?;
        if !out.iter().any(|o| o == u.as_str()) {
            out.push(u.into_inner());
        }
    }
    if out.len() > 100 {
        return Err(DomainError::invalid(field, format!("at most 100 {noun}")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft::defaults("my-app", "https://id.example")
    }

    fn err_field(r: Result<()>) -> String {
        match r {
            Err(DomainError::Validation { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn defaults_follow_the_contract() {
        let d = draft();
        assert_eq!(d.app.client_id_type, ClientIdType::Confidential);
        assert_eq!(d.app.token_type, TokenType::JwtRs256);
        assert_eq!(d.app.token_lifetime_secs, 18_000);
        assert_eq!(d.app.category, "Other");
        assert_eq!(d.app.issuer, "https://id.example/oauth2/my-app");
        assert_eq!(d.app.refresh_token_lifetime_secs, 30 * 24 * 3600);
    }

    /// The server has every Unicode table (the browser's lean regex leaves property classes
    /// to this check): a real property compiles and matches, a misspelt one is refused.
    #[test]
    fn rest_regexes_with_unicode_properties_are_checked_on_the_server() {
        let re = crate::scopes::RestRegex::parse(r"api/\p{Greek}+").expect("a real property");
        assert!(re.allows("/api/αβγ"));
        assert!(!re.allows("/api/abc"));
        let bad = crate::scopes::RestRegex::parse(r"api/\p{Greekish}+");
        assert!(bad.is_err(), "a property that does not exist is refused");
    }

    #[test]
    fn every_field_is_validated_with_its_name() {
        let cases: Vec<(AppFields, &str)> = vec![
            (
                AppFields {
                    name: Some(" ".into()),
                    ..Default::default()
                },
                "name",
            ),
            (
                AppFields {
                    app_id: Some("other".into()),
                    ..Default::default()
                },
                "app_id",
            ),
            (
                AppFields {
                    client_id_type: Some("public".into()),
                    ..Default::default()
                },
                "client_id_type",
            ),
            (
                AppFields {
                    token_type: Some("jwt_hs256".into()),
                    ..Default::default()
                },
                "token_type",
            ),
            (
                AppFields {
                    auth_methods: Some(vec!["implicit".into(), "device".into()]),
                    ..Default::default()
                },
                "auth_methods[1]",
            ),
            (
                AppFields {
                    token_lifetime_secs: Some(59),
                    ..Default::default()
                },
                "token_lifetime_secs",
            ),
            (
                AppFields {
                    token_lifetime_secs: Some(31_536_001),
                    ..Default::default()
                },
                "token_lifetime_secs",
            ),
            (
                AppFields {
                    refresh_token_lifetime_secs: Some(0),
                    ..Default::default()
                },
                "refresh_token_lifetime_secs",
            ),
            (
                AppFields {
                    redirect_uris: Some(vec!["https://ok.example/cb".into(), "/relative".into()]),
                    ..Default::default()
                },
                "redirect_uris[1]",
            ),
            (
                AppFields {
                    redirect_uris: Some(vec!["https://a.example/cb#x".into()]),
                    ..Default::default()
                },
                "redirect_uris[0]",
            ),
            (
                AppFields {
                    issuer: Some("not a url".into()),
                    ..Default::default()
                },
                "issuer",
            ),
            (
                AppFields {
                    allowed_clients: Some(vec!["a b".into()]),
                    ..Default::default()
                },
                "allowed_clients[0]",
            ),
            (
                AppFields {
                    scopes: Some(vec![Scope {
                        name: "s".into(),
                        description: String::new(),
                        rest_regexes: vec!["(".into()],
                    }]),
                    ..Default::default()
                },
                "scopes[0].rest_regexes[0]",
            ),
        ];
        for (f, field) in cases {
            assert_eq!(err_field(draft().apply(f, "https://id.example")), field);
        }
    }

    #[test]
    fn issuer_override_and_reset() {
        let mut d = draft();
        assert!(d
            .apply(
                AppFields {
                    issuer: Some("https://issuer.example/x/".into()),
                    ..Default::default()
                },
                "https://id.example"
            )
            .is_ok());
        assert_eq!(d.app.issuer, "https://issuer.example/x");
        assert!(!d.app.issuer_is_default);
        assert!(d
            .apply(
                AppFields {
                    issuer: Some(String::new()),
                    ..Default::default()
                },
                "https://id.example"
            )
            .is_ok());
        assert_eq!(d.app.issuer, "https://id.example/oauth2/my-app");
    }

    #[test]
    fn an_issuer_is_at_most_1024_characters_as_sent_and_has_no_control_characters() {
        let padded = format!("  https://issuer.example/{}", "a".repeat(1024 - 25));
        assert_eq!(padded.chars().count(), 1024);
        assert_eq!(
            check_issuer(&padded).unwrap().as_deref(),
            Some(padded.trim())
        );
        // The same URL with one more space around it is over the limit, though trimmed it is not.
        assert_eq!(
            err_field(check_issuer(&format!(" {padded}")).map(drop)),
            "issuer"
        );
        assert_eq!(
            err_field(check_issuer(&format!("{}/", " ".repeat(1024))).map(drop)),
            "issuer"
        );
        for bad in [
            "https://a.example/\u{1a}x",
            "https://a.example/a\u{2009}b",
            "https://a.example/a\tb",
        ] {
            assert_eq!(err_field(check_issuer(bad).map(drop)), "issuer", "{bad:?}");
        }
    }

    #[test]
    fn diff_names_each_changed_field_with_old_and_new() {
        let old = draft().app;
        let mut new = old.clone();
        new.name = "New name".into();
        new.token_lifetime_secs = 3600;
        new.updated_at = "later".into();
        let d = diff(&old, &new);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.contains(&("name".into(), Some(String::new()), Some("New name".into()))));
        assert!(d.contains(&(
            "token_lifetime_secs".into(),
            Some("18000".into()),
            Some("3600".into())
        )));
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn lifetimes_are_whole_numbers_in_either_spelling() {
        let parse = |s: &str| serde_json::from_str::<AppFields>(s).ok();
        let f = parse(r#"{"token_lifetime_secs": 3600.0, "refresh_token_lifetime_secs": 7200}"#);
        assert_eq!(
            f.map(|f| (f.token_lifetime_secs, f.refresh_token_lifetime_secs)),
            Some((Some(3600), Some(7200)))
        );
        let none = parse(r#"{"token_lifetime_secs": null}"#);
        assert_eq!(none.map(|f| f.token_lifetime_secs), Some(None));
        for bad in [
            r#"{"token_lifetime_secs": 1.5}"#,
            r#"{"token_lifetime_secs": "60"}"#,
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn auth_methods_are_deduplicated_in_a_stable_order() {
        let mut d = draft();
        let f = AppFields {
            auth_methods: Some(vec![
                "password".into(),
                "client_credentials".into(),
                "password".into(),
            ]),
            ..Default::default()
        };
        assert!(d.apply(f, "https://id.example").is_ok());
        assert_eq!(
            d.app.auth_methods,
            vec![AuthMethod::ClientCredentials, AuthMethod::Password]
        );
    }
}
