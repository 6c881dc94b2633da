//! Parameters of OAuth2 POST requests: `application/x-www-form-urlencoded` (RFC 6749) or
//! `application/json` (the documents), with client credentials from HTTP Basic or the body.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use domain::clients::ClientCredentials;
use domain::oauth::{OAuthError, OAuthErrorCode};

pub struct Params {
    map: HashMap<String, String>,
    /// RFC 8707 `resource`: the one parameter that may repeat (or be a JSON array).
    resources: Vec<String>,
}

fn bad(d: &str) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidRequest, d)
}

impl Params {
    /// Parses the body by its content type; a parameter sent twice is `invalid_request`.
    pub fn parse(headers: &HeaderMap, body: &Bytes) -> Result<Params, OAuthError> {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut resources_from_json = Vec::new();
        let pairs: Vec<(String, String)> = if ct.starts_with("application/x-www-form-urlencoded")
            || (ct.is_empty() && body.is_empty())
        {
            serde_urlencoded::from_bytes(body).map_err(|_| bad("the form body is malformed"))?
        } else if ct.starts_with("application/json") {
            let v: serde_json::Value =
                serde_json::from_slice(body).map_err(|_| bad("the JSON body is malformed"))?;
            let serde_json::Value::Object(mut map) = v else {
                return Err(bad("the JSON body must be an object"));
            };
            if let Some(serde_json::Value::Array(list)) = map.get("resource") {
                let mut resources = Vec::with_capacity(list.len());
                for r in list {
                    let serde_json::Value::String(r) = r else {
                        return Err(bad("resource must be a string or an array of strings"));
                    };
                    resources.push(("resource".to_string(), r.clone()));
                }
                map.remove("resource");
                resources_from_json = resources;
            }
            map.into_iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => Some(Ok((k, s))),
                    serde_json::Value::Number(n) => Some(Ok((k, n.to_string()))),
                    serde_json::Value::Bool(b) => Some(Ok((k, b.to_string()))),
                    serde_json::Value::Null => None,
                    _ => Some(Err(bad("JSON parameters must be strings"))),
                })
                .collect::<Result<_, _>>()?
        } else {
            return Err(bad(
                "use application/x-www-form-urlencoded or application/json",
            ));
        };
        let mut map = HashMap::with_capacity(pairs.len());
        let mut resources = Vec::new();
        for (k, v) in pairs.into_iter().chain(resources_from_json) {
            if k == "resource" {
                resources.push(v);
            } else if map.insert(k.clone(), v).is_some() {
                return Err(bad(&format!("parameter {k:?} is repeated")));
            }
        }
        Ok(Params { map, resources })
    }

    pub fn get(&self, k: &str) -> Option<String> {
        self.map.get(k).cloned()
    }

    /// The `resource` parameters, in order.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// Client credentials from `Authorization: Basic`, `client_id`/`client_secret` in the body,
    /// or a `private_key_jwt` assertion (RFC 7523 §2.2); more than one method at once is
    /// `invalid_request` (RFC 6749 §2.3). `endpoint` names the endpoint called (`token`, `introspect`, `revoke`).
    pub fn credentials(
        &self,
        headers: &HeaderMap,
        endpoint: &'static str,
    ) -> Result<ClientCredentials, OAuthError> {
        let body_id = self.get("client_id");
        let body_secret = self.get("client_secret");
        if let Some(assertion) = self.get("client_assertion") {
            if self.get("client_assertion_type").as_deref() != Some(JWT_BEARER) {
                return Err(bad("client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
            }
            if body_secret.is_some() || basic(headers)?.is_some() {
                return Err(bad("use one client authentication method"));
            }
            // RFC 7521 §4.2: client_id is optional; the assertion's subject names the client.
            let subject = assertion_subject(&assertion);
            let client_id = match (body_id, subject) {
                (Some(id), Some(sub)) if !id.eq_ignore_ascii_case(&sub) => {
                    return Err(bad("client_id does not match the client assertion"))
                }
                (Some(id), _) => Some(id),
                (None, sub) => sub,
            };
            return Ok(ClientCredentials {
                client_id,
                client_secret: None,
                via_basic: false,
                assertion: Some(assertion),
                endpoint,
            });
        }
        match basic(headers)? {
            Some((id, secret)) => {
                if body_secret.is_some() {
                    return Err(bad("use one client authentication method"));
                }
                if body_id
                    .as_deref()
                    .is_some_and(|b| !b.eq_ignore_ascii_case(&id))
                {
                    return Err(bad("client_id does not match the Authorization header"));
                }
                Ok(ClientCredentials {
                    client_id: Some(id),
                    client_secret: Some(secret),
                    via_basic: true,
                    assertion: None,
                    endpoint,
                })
            }
            None => Ok(ClientCredentials {
                client_id: body_id,
                client_secret: body_secret,
                via_basic: false,
                assertion: None,
                endpoint,
            }),
        }
    }
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The `sub` of a JWT, read without verifying it (only to know which client's keys to verify
/// it with).
fn assertion_subject(jwt: &str) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = jwt.split('.').nth(1)?;
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.get("sub")?.as_str().map(str::to_string)
}

/// Decodes `Authorization: Basic`. Malformed credentials are `invalid_client` with a challenge.
fn basic(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v.to_str().unwrap_or("");
    if v.len() < 6 || !v[..6].eq_ignore_ascii_case("basic ") {
        return Ok(None);
    }
    let fail = || OAuthError {
        basic_challenge: true,
        ..OAuthError::new(OAuthErrorCode::InvalidClient, "malformed Basic credentials")
    };
    let raw = STANDARD.decode(v[6..].trim()).map_err(|_| fail())?;
    let text = String::from_utf8(raw).map_err(|_| fail())?;
    let (id, secret) = text.split_once(':').ok_or_else(fail)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before encoding; plain ones pass unchanged.
    let dec = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| fail())
    };
    Ok(Some((dec(id)?, dec(secret)?)))
}

#[cfg(test)]
mod proptests {
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    fn headers(ct: &str, auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(ct) {
            h.insert(header::CONTENT_TYPE, v);
        }
        if let Some(a) = auth.and_then(|a| HeaderValue::from_str(a).ok()) {
            h.insert(header::AUTHORIZATION, a);
        }
        h
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn any_body_in_any_encoding_is_parsed_or_refused_as_invalid_request(
            body in proptest::collection::vec(any::<u8>(), 0..512),
            json in any::<bool>(),
        ) {
            let ct = if json { "application/json" } else { "application/x-www-form-urlencoded" };
            // What the body holds, read independently: its pairs, or None when it is not a
            // body of that type (a JSON object of scalars; a form without a repeated name).
            let expected: Option<Vec<(String, String)>> = if json {
                match serde_json::from_slice::<serde_json::Value>(&body) {
                    Ok(serde_json::Value::Object(m)) => m.into_iter().filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| match v {
                            serde_json::Value::String(s) => Some((k, s)),
                            serde_json::Value::Number(_) | serde_json::Value::Bool(_) => Some((k, v.to_string())),
                            _ => None,
                        })
                        .collect(),
                    _ => None,
                }
            } else {
                url::form_urlencoded::parse(&body).into_owned().collect::<Vec<_>>().into()
            }
            .filter(|pairs: &Vec<(String, String)>| {
                // `resource` may repeat (RFC 8707); no other name may.
                let mut names: Vec<&String> = pairs.iter().map(|(k, _)| k).filter(|k| *k != "resource").collect();
                names.sort();
                names.windows(2).all(|w| w[0] != w[1])
            });
            match (Params::parse(&headers(ct, None), &Bytes::from(body)), expected) {
                (Ok(p), Some(pairs)) => {
                    for (k, v) in pairs {
                        if k == "resource" {
                            prop_assert!(p.resources().contains(&v));
                        } else {
                            prop_assert_eq!(p.get(&k), Some(v));
                        }
                    }
                }
                (Err(e), None) => prop_assert_eq!(e.code, OAuthErrorCode::InvalidRequest),
                (Ok(_), None) => prop_assert!(false, "a malformed body was taken"),
                (Err(e), Some(_)) => prop_assert!(false, "a well-formed body was refused: {}", e.description),
            }
        }

        #[test]
        fn token_requests_round_trip_in_both_encodings(
            pairs in proptest::collection::btree_map("[a-z_]{1,12}", "\\PC{0,40}", 0..8),
        ) {
            let form = serde_urlencoded::to_string(&pairs).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let p = Params::parse(&headers("application/x-www-form-urlencoded", None), &Bytes::from(form))
                .map_err(|e| TestCaseError::fail(e.description))?;
            let json = serde_json::to_vec(&pairs).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let q = Params::parse(&headers("application/json", None), &Bytes::from(json))
                .map_err(|e| TestCaseError::fail(e.description))?;
            for (k, v) in pairs.iter().filter(|(k, _)| *k != "resource") {
                prop_assert_eq!(p.get(k), Some(v.clone()));
                prop_assert_eq!(q.get(k), Some(v.clone()));
            }
        }

        #[test]
        fn any_authorization_header_is_read_or_refused_as_invalid_client(auth in "\\PC{0,120}") {
            let p = Params::parse(&headers("application/x-www-form-urlencoded", None), &Bytes::new())
                .map_err(|e| TestCaseError::fail(e.description))?;
            // What reaches the server: a header value only when it is one (visible ASCII).
            let sent = HeaderValue::from_str(&auth).ok().and_then(|v| v.to_str().ok().map(str::to_string));
            let basic = sent.is_some_and(|a| a.len() >= 6 && a.is_char_boundary(6) && a[..6].eq_ignore_ascii_case("basic "));
            match p.credentials(&headers("", Some(&auth)), "token") {
                // Read only as Basic credentials; any other scheme is no credentials at all.
                Ok(c) if basic => prop_assert!(c.via_basic && c.client_id.is_some() && c.client_secret.is_some()),
                Ok(c) => prop_assert!(!c.via_basic && c.client_id.is_none() && c.client_secret.is_none()),
                // Only a malformed Basic header is refused, as invalid_client with a challenge.
                Err(e) => {
                    prop_assert!(basic, "a non-Basic header was refused");
                    prop_assert_eq!(e.code, OAuthErrorCode::InvalidClient);
                    prop_assert!(e.basic_challenge);
                }
            }
        }

        #[test]
        fn basic_credentials_round_trip(id in "[^:\\x00-\\x1f]{1,30}", secret in "\\PC{0,30}") {
            // RFC 6749 §2.3.1: both percent-encoded before base64.
            let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
            let value = format!("Basic {}", STANDARD.encode(format!("{}:{}", enc(&id), enc(&secret))));
            let p = Params::parse(&headers("application/x-www-form-urlencoded", None), &Bytes::new())
                .map_err(|e| TestCaseError::fail(e.description))?;
            let c = p.credentials(&headers("", Some(&value)), "token").map_err(|e| TestCaseError::fail(e.description))?;
            prop_assert_eq!(c.client_id.as_deref(), Some(id.as_str()));
            prop_assert_eq!(c.client_secret.as_deref(), Some(secret.as_str()));
            prop_assert!(c.via_basic);
        }
    }
}
