//! Scopes and their REST regexes: which request paths a token's scopes allow (SPEC §2, §4).

#[cfg(not(target_arch = "wasm32"))]
use regex::{Regex, RegexBuilder};
#[cfg(target_arch = "wasm32")]
use regex_lite::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::names::ScopeName;
use crate::{Invalid, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scope {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub rest_regexes: Vec<String>,
}

/// A REST regex as an administrator wrote it, compiled anchored and case-insensitive:
/// `(?i)^(?:re)$` against the request path without its leading `/` and without the query.
#[derive(Clone, Debug)]
pub struct RestRegex {
    source: String,
    /// In the browser this is regex-lite (same syntax, ASCII-only classes and case folding),
    /// and `None` for a regex using a Unicode class it does not have: the server, with every
    /// table, checks those on save. A `None` regex allows nothing (fail closed).
    compiled: Option<Regex>,
}

impl RestRegex {
    pub fn parse(source: &str) -> Result<Self> {
        if source.is_empty() {
            return Err(Invalid::new("", "a REST regex may not be empty"));
        }
        if source.chars().count() > 1024 {
            return Err(Invalid::new("", "a REST regex is at most 1024 characters"));
        }
        let compiled = RegexBuilder::new(&format!("^(?:{source})$"))
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build();
        let compiled = match compiled {
            Ok(re) => Some(re),
            Err(e) if cfg!(target_arch = "wasm32") && unicode_data_missing(&e) => None,
            Err(e) => {
                return Err(Invalid::new(
                    "",
                    format!("invalid regex: {}", first_line(&e.to_string())),
                ))
            }
        };
        Ok(RestRegex {
            source: source.to_string(),
            compiled,
        })
    }
    pub fn as_str(&self) -> &str {
        &self.source
    }
    /// Whether `path` (with or without its leading `/`, with or without a query) is allowed.
    pub fn allows(&self, path: &str) -> bool {
        self.compiled
            .as_ref()
            .is_some_and(|re| re.is_match(normalize_path(path)))
    }
}

/// Whether compiling failed only because the browser's engine has no Unicode classes (the server,
/// which has every table, tells a real property from a misspelt one).
#[cfg(target_arch = "wasm32")]
fn unicode_data_missing(e: &regex_lite::Error) -> bool {
    e.to_string()
        .contains("Unicode character classes are not supported")
}
#[cfg(not(target_arch = "wasm32"))]
fn unicode_data_missing(_: &regex::Error) -> bool {
    false
}

/// The request path as regexes see it: no leading `/`, no query.
pub fn normalize_path(path: &str) -> &str {
    let p = path.split('?').next().unwrap_or("");
    p.strip_prefix('/').unwrap_or(p)
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

/// Validates a scope list: names unique (case-sensitively, as they are sent), charset, every
/// regex compiles. Errors carry the path of the field at fault (`scopes[1].rest_regexes[0]`).
pub fn validate_scopes(scopes: Vec<Scope>) -> Result<Vec<Scope>> {
    if scopes.len() > 200 {
        return Err(Invalid::new("scopes", "at most 200 scopes"));
    }
    let mut out: Vec<Scope> = Vec::with_capacity(scopes.len());
    for (i, s) in scopes.into_iter().enumerate() {
        let name =
            ScopeName::parse(s.name.trim()).map_err(|e| e.under(&format!("scopes[{i}].")))?;
        if out.iter().any(|o| o.name == name.as_str()) {
            // An invalid document (422), not a conflict with what is stored.
            return Err(Invalid::new(
                format!("scopes[{i}].name"),
                format!("the scope name {:?} is used twice", name.as_str()),
            ));
        }
        if s.description.chars().count() > 1024 {
            return Err(Invalid::new(
                format!("scopes[{i}].description"),
                "a description is at most 1024 characters",
            ));
        }
        let mut regexes = Vec::new();
        for (j, raw) in s.rest_regexes.iter().enumerate() {
            let field = || format!("scopes[{i}].rest_regexes[{j}]");
            // At most 1024 characters as sent (the schema's `maxLength` counts what is trimmed).
            if raw.chars().count() > 1024 {
                return Err(Invalid::new(
                    field(),
                    "a REST regex is at most 1024 characters",
                ));
            }
            let r = raw.trim();
            RestRegex::parse(r).map_err(|e| e.under(&field()))?;
            regexes.push(r.to_string());
        }
        out.push(Scope {
            name: name.into_inner(),
            description: s.description.trim().to_string(),
            rest_regexes: regexes,
        });
    }
    Ok(out)
}

/// The compiled regexes of a set of scopes, for checking requests.
#[derive(Clone, Debug, Default)]
pub struct ScopeMatcher {
    regexes: Vec<(String, RestRegex)>,
    /// The scopes whose regexes can reach Gatehouse's own admin API (the server decides).
    admin: Vec<String>,
}

impl ScopeMatcher {
    pub fn new(scopes: &[Scope]) -> Self {
        let regexes = scopes
            .iter()
            .flat_map(|s| {
                s.rest_regexes
                    .iter()
                    .filter_map(move |r| RestRegex::parse(r).ok().map(|c| (s.name.clone(), c)))
            })
            .collect();
        ScopeMatcher {
            regexes,
            admin: Vec::new(),
        }
    }
    /// Names the scopes that reach Gatehouse's own admin API.
    pub fn with_admin_scopes(mut self, admin: Vec<String>) -> Self {
        self.admin = admin;
        self
    }
    /// Whether one of `scopes` reaches Gatehouse's own admin API.
    pub fn any_administrative<'a>(&self, scopes: impl IntoIterator<Item = &'a str>) -> bool {
        !self.admin.is_empty()
            && scopes
                .into_iter()
                .any(|s| self.admin.iter().any(|a| a == s))
    }
    /// Whether one of `granted` has a regex matching `path`.
    pub fn allows<'a>(
        &self,
        granted: impl IntoIterator<Item = &'a str> + Clone,
        path: &str,
    ) -> bool {
        self.regexes
            .iter()
            .any(|(name, re)| granted.clone().into_iter().any(|g| g == name) && re.allows(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(s: &str) -> RestRegex {
        RestRegex::parse(s).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn regex_is_anchored_case_insensitive_on_the_path_without_slash_and_query() {
        let r = re("CDirectoryService/.*");
        assert!(r.allows("/cdirectoryservice/createuser"));
        assert!(r.allows("/CDirectoryService/CreateUser?x=1"));
        assert!(
            !r.allows("/api/CDirectoryService/x"),
            "anchored at the start"
        );
        let exact = re("api/v1/users");
        assert!(exact.allows("/api/v1/users"));
        assert!(!exact.allows("/api/v1/users/1"), "anchored at the end");
        assert!(re(".*").allows("/anything/at/all"));
    }

    #[test]
    fn invalid_regex_is_rejected_with_its_path() {
        let err = validate_scopes(vec![
            Scope {
                name: "ok".into(),
                description: String::new(),
                rest_regexes: vec![".*".into()],
            },
            Scope {
                name: "bad".into(),
                description: String::new(),
                rest_regexes: vec!["a".into(), "(unclosed".into()],
            },
        ]);
        match err {
            Err(Invalid { field, .. }) => {
                assert_eq!(field, "scopes[1].rest_regexes[1]")
            }
            other => unreachable!("{other:?}"),
        }
        assert!(RestRegex::parse("").is_err());
    }

    #[test]
    fn a_rest_regex_is_at_most_1024_characters_as_sent() {
        let scope = |r: String| Scope {
            name: "s".into(),
            description: String::new(),
            rest_regexes: vec![r],
        };
        let full = format!(" {} ", "a".repeat(1022));
        let ok = validate_scopes(vec![scope(full.clone())]);
        assert_eq!(ok.map(|s| s[0].rest_regexes[0].len()).ok(), Some(1022));
        let over = validate_scopes(vec![scope(format!(" {full}"))]);
        assert!(
            matches!(over, Err(Invalid { ref field, .. }) if field == "scopes[0].rest_regexes[0]")
        );
    }

    #[test]
    fn duplicate_and_bad_scope_names_are_rejected() {
        let dup = validate_scopes(vec![
            Scope {
                name: "a".into(),
                description: String::new(),
                rest_regexes: vec![],
            },
            Scope {
                name: "a".into(),
                description: String::new(),
                rest_regexes: vec![],
            },
        ]);
        assert!(matches!(dup, Err(Invalid { ref field, .. }) if field == "scopes[1].name"));
        let bad = validate_scopes(vec![Scope {
            name: "has space".into(),
            description: String::new(),
            rest_regexes: vec![],
        }]);
        assert!(matches!(bad, Err(Invalid { ref field, .. }) if field == "scopes[0].name"));
    }

    #[test]
    fn matcher_needs_a_granted_scope_whose_regex_matches() {
        let m = ScopeMatcher::new(&[
            Scope {
                name: "users".into(),
                description: String::new(),
                rest_regexes: vec!["api/v1/users(/.*)?".into()],
            },
            Scope {
                name: "all".into(),
                description: String::new(),
                rest_regexes: vec![".*".into()],
            },
        ]);
        assert!(m.allows(["users"], "/api/v1/users/7"));
        assert!(!m.allows(["users"], "/api/v1/roles"));
        assert!(m.allows(["all"], "/api/v1/roles"));
        assert!(!m.allows([] as [&str; 0], "/api/v1/users"));
    }
}
