//! Resource indicators (RFC 8707): which resources a token is for. A token asked for with
//! `resource` has the resource(s) as its audience instead of the app, so an API (an MCP server)
//! can refuse a token meant for another. Each must be one of the app's `resources`; a grant's
//! later requests (the code exchange, a refresh) may narrow its resources, never widen them.

use serde::{Deserialize, Serialize};

use crate::apps::App;
use crate::error::{OAuthError, OAuthErrorCode};

/// A JWT's `aud`: one value (the app's id, or one resource) or several resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn values(&self) -> Vec<String> {
        match self {
            Audience::One(v) => vec![v.clone()],
            Audience::Many(v) => v.clone(),
        }
    }
}

/// The audience of a token of `app_id` for `resources`.
pub fn audience(app_id: &str, resources: &[String]) -> Audience {
    match resources {
        [] => Audience::One(app_id.to_string()),
        [one] => Audience::One(one.clone()),
        many => Audience::Many(many.to_vec()),
    }
}

fn invalid_target(description: String) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidTarget, &description)
}

/// The resources a request asks for (`asked`, in order, without repeats): each one of the
/// app's `resources` and, when the request continues a grant (`granted`), one the grant was
/// for. Asking for none continues with what the grant was for (those the app still serves).
pub fn requested(
    app: &App,
    asked: &[String],
    granted: Option<&[String]>,
) -> Result<Vec<String>, OAuthError> {
    let mut out: Vec<String> = Vec::new();
    for r in asked {
        if !app.resources.iter().any(|x| x == r) {
            return Err(invalid_target(format!(
                "the resource {r:?} is not one this application issues tokens for"
            )));
        }
        if granted.is_some_and(|g| !g.contains(r)) {
            return Err(invalid_target(format!(
                "the resource {r:?} was not part of this grant"
            )));
        }
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    if out.is_empty() {
        if let Some(g) = granted.filter(|g| !g.is_empty()) {
            out = g
                .iter()
                .filter(|r| app.resources.contains(r))
                .cloned()
                .collect();
            if out.is_empty() {
                return Err(invalid_target(
                    "the resources of this grant are no longer served by this application".into(),
                ));
            }
        }
    }
    Ok(out)
}

/// How a code or a token row keeps its resources (URIs have no spaces): None for none.
pub fn stored(resources: &[String]) -> Option<String> {
    (!resources.is_empty()).then(|| resources.join(" "))
}

pub fn parse_stored(column: Option<&str>) -> Vec<String> {
    column
        .map(|c| {
            c.split(' ')
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> App {
        let mut a = App::new_app();
        a.app_id = "mcp".into();
        a.resources = vec![
            "https://mcp.example/".into(),
            "https://files.example/".into(),
        ];
        a
    }

    #[test]
    fn only_the_apps_resources_are_taken_and_a_grant_only_narrows() {
        let a = app();
        let m = "https://mcp.example/".to_string();
        let f = "https://files.example/".to_string();
        assert_eq!(
            requested(&a, &[m.clone(), m.clone()], None).unwrap(),
            vec![m.clone()]
        );
        assert_eq!(requested(&a, &[], None).unwrap(), Vec::<String>::new());
        let e = requested(&a, &["https://other.example/".into()], None).unwrap_err();
        assert_eq!(e.code, OAuthErrorCode::InvalidTarget);
        // A grant for one resource: the same, nothing more; asking for none keeps it.
        let granted = [m.clone()];
        assert_eq!(
            requested(&a, std::slice::from_ref(&m), Some(&granted)).unwrap(),
            vec![m.clone()]
        );
        assert_eq!(requested(&a, &[], Some(&granted)).unwrap(), vec![m.clone()]);
        assert_eq!(
            requested(&a, std::slice::from_ref(&f), Some(&granted))
                .unwrap_err()
                .code,
            OAuthErrorCode::InvalidTarget
        );
        // A grant without resources stays without.
        assert_eq!(
            requested(&a, std::slice::from_ref(&m), Some(&[]))
                .unwrap_err()
                .code,
            OAuthErrorCode::InvalidTarget
        );
        // A resource the app stopped serving is not issued again.
        let mut gone = a.clone();
        gone.resources = vec![f];
        assert_eq!(
            requested(&gone, &[], Some(&granted)).unwrap_err().code,
            OAuthErrorCode::InvalidTarget
        );
    }

    #[test]
    fn the_audience_is_the_app_or_the_resources() {
        assert_eq!(audience("a", &[]), Audience::One("a".into()));
        assert_eq!(audience("a", &["r".into()]), Audience::One("r".into()));
        let json = serde_json::to_value(audience("a", &["r".into(), "s".into()])).unwrap();
        assert_eq!(json, serde_json::json!(["r", "s"]));
        assert_eq!(
            parse_stored(stored(&["r".into(), "s".into()]).as_deref()),
            vec!["r", "s"]
        );
        assert_eq!(stored(&[]), None);
    }
}
