//! Extractors of the admin API: JSON bodies and query strings whose rejections answer in the
//! API's error format, and the acting principal (session cookie or bearer token).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use domain::Principal;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::AppState;

/// `Json<T>` whose every rejection is a 400/422 in the API's format, never a bare text body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::bad_request(
                "expected a JSON body with Content-Type: application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        // Every body of this API is an object: serde would read a struct from an array too
        // (`[null, null]` as its first fields), which nobody means.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b != b'{')
            && serde_json::from_slice::<serde_json::Value>(&bytes).is_ok()
        {
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "the body must be a JSON object",
            ));
        }
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

/// Malformed JSON is 400; JSON of the wrong shape is 422 whose `field` is the JSON path of what
/// is wrong (`scopes[1].rest_regexes[0]`), or of what is missing (`login_name`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if !inner.is_data() {
            return ApiError::bad_request(format!("the body is not valid JSON: {inner}"));
        }
        let text = inner.to_string();
        let mut field = if path == "." { String::new() } else { path };
        if let Some(missing) = text
            .strip_prefix("missing field `")
            .and_then(|r| r.split_once('`'))
            .map(|(name, _)| name)
        {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(missing);
        }
        ApiError::validation(&field, format!("the JSON does not fit: {text}"))
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Paging and filters of list calls.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListParams {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub login_name: Option<String>,
    pub category: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ListParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<ListParams>::from_request_parts(parts, state)
            .await
            .map(|q| q.0)
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// The principal behind the request: a bearer token (checked against the path by its scopes) or
/// the portal's session.
pub struct Actor(pub Principal);

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        actor(parts, state).await.map_err(|mut e| {
            // RFC 9728 §5.1: a 401 names where a client learns how to get a token for this API.
            if e.status == axum::http::StatusCode::UNAUTHORIZED {
                if let Some(c) = &e.challenge {
                    e.challenge = Some(format!(
                        "{c}, resource_metadata=\"{}\"",
                        crate::api::protected_resource::metadata_url(&state.services.public_url)
                    ));
                }
            }
            e
        })
    }
}

async fn actor(parts: &Parts, state: &AppState) -> Result<Actor, ApiError> {
    {
        if let Some(p) = crate::auth::bearer_principal(parts, state).await? {
            return Ok(Actor(p));
        }
        let Some(session) = parts.extensions.get::<tower_sessions::Session>() else {
            return Err(ApiError::unauthorized());
        };
        let mut p = app::api::ssr::session_principal(session, &state.services)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if app::api::ssr::admin_second_factor_missing(session, &state.services, &p).await? {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "second_factor_required",
                app::api::ssr::ADMIN_NEEDS_SECOND_FACTOR,
            ));
        }
        p.origin.address = Some(crate::client_addr::ClientAddr::of(parts).0.to_string());
        Ok(Actor(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Scope {
        name: String,
        rest_regexes: Vec<String>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        login_name: String,
        #[serde(default)]
        scopes: Vec<Scope>,
    }

    fn field_of(json: &str) -> (u16, Option<String>) {
        let e = parse_json::<Body>(json.as_bytes()).expect_err("refused");
        (e.status.as_u16(), e.field)
    }

    #[test]
    fn a_missing_field_is_named_by_its_json_path() {
        assert_eq!(field_of("{}"), (422, Some("login_name".into())));
        assert_eq!(
            field_of(
                r#"{"login_name": "a", "scopes": [{"name": "x", "rest_regexes": []}, {"rest_regexes": []}]}"#
            ),
            (422, Some("scopes[1].name".into()))
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_named_by_its_json_path() {
        assert_eq!(
            field_of(r#"{"login_name": "a", "scopes": [{"name": "x", "rest_regexes": [1]}]}"#),
            (422, Some("scopes[0].rest_regexes[0]".into()))
        );
        assert_eq!(
            field_of(r#"{"login_name": 5}"#),
            (422, Some("login_name".into()))
        );
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert_eq!(field_of(r#"{"login_name": "#).0, 400);
        assert_eq!(field_of(r#"{"login_name": "a"} trailing"#).0, 400);
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::parse_json;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn any_app_or_user_body_is_parsed_or_refused_with_400_or_422(
            body in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..400),
                // JSON objects, some of which fit: known and unknown keys, any scalar.
                proptest::collection::btree_map(
                    prop_oneof![Just("app_id".to_string()), Just("name".to_string()),
                        Just("login_name".to_string()), Just("password".to_string()), "[a-z_]{1,12}"],
                    prop_oneof![
                        "\\PC{0,20}".prop_map(serde_json::Value::from),
                        any::<i64>().prop_map(serde_json::Value::from),
                        any::<bool>().prop_map(serde_json::Value::from),
                        Just(serde_json::Value::Null),
                    ],
                    0..6,
                ).prop_map(|m| serde_json::to_vec(&m).unwrap_or_default()),
            ],
        ) {
            let json = serde_json::from_slice::<serde_json::Value>(&body).ok();
            for r in [
                parse_json::<domain::apps::AppFields>(&body).map(|_| ()),
                parse_json::<domain::users::NewUser>(&body).map(|_| ()),
            ] {
                match r {
                    // Only a JSON object is ever taken.
                    Ok(()) => prop_assert!(matches!(json, Some(serde_json::Value::Object(_)))),
                    // Well-formed JSON that does not fit is 422, never "malformed".
                    Err(e) if json.is_some() => prop_assert_eq!(e.status.as_u16(), 422),
                    Err(e) => prop_assert!(matches!(e.status.as_u16(), 400 | 422)),
                }
            }
        }

        #[test]
        fn json_of_the_wrong_shape_names_a_field(v in proptest::arbitrary::any::<i64>(), key in "[a-z_]{1,20}") {
            let body = format!("{{\"app_id\": \"a\", \"name\": \"b\", \"{key}\": {v}}}");
            match parse_json::<domain::apps::AppFields>(body.as_bytes()) {
                // Only the whole-number fields take a number.
                Ok(_) => prop_assert!(
                    matches!(key.as_str(), "token_lifetime_secs" | "refresh_token_lifetime_secs"),
                    "{} took a number", key
                ),
                Err(e) => {
                    prop_assert_eq!(e.status.as_u16(), 422);
                    prop_assert!(e.field.is_some());
                }
            }
        }
    }
}
