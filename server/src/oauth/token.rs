//! `POST /oauth2/token/{app}`, `/oauth2/introspect/{app}`, `/oauth2/revoke/{app}`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use domain::oauth::{OAuthError, OAuthErrorCode, TokenRequest};
use domain::Services;

use super::error::{json_no_store, no_store, OAuthResponse};
use super::params::Params;
use crate::client_addr::ClientAddr;

pub async fn token(
    State(s): State<Services>,
    Path(app): Path<String>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthResponse> {
    let p = Params::parse(&headers, &body)?;
    let grant = grant_label(p.get("grant_type").as_deref());
    let nonce = s.dpop_nonce_required().then(|| s.dpop_nonce());
    let with_nonce = |mut res: Response| {
        if let Some(v) = nonce.as_deref().and_then(|n| HeaderValue::from_str(n).ok()) {
            res.headers_mut().insert(DPOP_NONCE, v);
        }
        res
    };
    let req = TokenRequest {
        grant_type: p.get("grant_type"),
        scope: p.get("scope"),
        code: p.get("code"),
        redirect_uri: p.get("redirect_uri"),
        code_verifier: p.get("code_verifier"),
        username: p.get("username"),
        password: p.get("password"),
        refresh_token: p.get("refresh_token"),
        device_code: p.get("device_code"),
        subject_token: p.get("subject_token"),
        subject_token_type: p.get("subject_token_type"),
        actor_token: p.get("actor_token"),
        actor_token_type: p.get("actor_token_type"),
        requested_token_type: p.get("requested_token_type"),
        audience: p.get("audience").into_iter().collect(),
        resources: p.resources().to_vec(),
        credentials: p.credentials(&headers, "token")?,
        client_addr: addr.to_string(),
        dpop: match dpop_header(&headers) {
            Ok(proof) => proof,
            Err(e) => return Ok(with_nonce(OAuthResponse(e).into_response())),
        },
    };
    match s.token(&app, req).await {
        Ok(issued) => {
            s.activity.issued(&app, grant);
            metrics::counter!("gatehouse_tokens_issued_total", "app" => app, "grant_type" => grant)
                .increment(1);
            Ok(with_nonce(json_no_store(issued)))
        }
        Err(e) => {
            // An unknown app is one label, not one per name tried.
            let app = if e.not_found {
                "(unknown)".to_string()
            } else {
                s.activity.refused(&app, e.code.as_str());
                app
            };
            metrics::counter!("gatehouse_tokens_refused_total", "app" => app, "grant_type" => grant, "error" => e.code.as_str())
                .increment(1);
            Ok(with_nonce(OAuthResponse(e).into_response()))
        }
    }
}

/// The `DPoP-Nonce` response header (RFC 9449 §8).
pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The request's one `DPoP` header (RFC 9449 §4.3: more than one is refused).
pub fn dpop_header(headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    let mut all = headers.get_all("dpop").iter();
    let invalid = |why: &str| OAuthError::new(OAuthErrorCode::InvalidDpopProof, why);
    match (all.next(), all.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => v
            .to_str()
            .map(|s| Some(s.trim().to_string()))
            .map_err(|_| invalid("the DPoP header is not a JWT")),
        (Some(_), Some(_)) => Err(invalid("more than one DPoP header")),
    }
}

/// The grant type as a bounded label.
fn grant_label(g: Option<&str>) -> &'static str {
    match g {
        Some("client_credentials") => "client_credentials",
        Some("authorization_code") => "authorization_code",
        Some("refresh_token") => "refresh_token",
        Some("password") => "password",
        Some("implicit") => "implicit",
        Some(domain::oauth::device::GRANT_TYPE) => "device_code",
        Some(domain::oauth::exchange::GRANT_TYPE) => "token_exchange",
        None => "none",
        Some(_) => "other",
    }
}

pub async fn introspect(
    State(s): State<Services>,
    Path(app): Path<String>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthResponse> {
    let p = Params::parse(&headers, &body)?;
    let creds = p.credentials(&headers, "introspect")?;
    let info = s
        .introspect(&app, &creds, p.get("token").as_deref(), &addr.to_string())
        .await?;
    // A typed body: serialized straight to the response, no map of values built first.
    let body = Introspection {
        active: info.is_some(),
        token: info.as_deref().map(|i| ActiveToken {
            scope: &i.scope,
            client_id: &i.client_id,
            token_type: if i.is_refresh {
                "refresh_token"
            } else if i.jkt.is_some() {
                "DPoP"
            } else {
                "Bearer"
            },
            exp: i.exp,
            iat: i.iat,
            nbf: i.iat,
            sub: &i.sub,
            aud: match i.aud.as_slice() {
                [one] => Audience::One(one),
                many => Audience::Many(many),
            },
            iss: &i.iss,
            jti: &i.jti,
            username: i.username.as_deref(),
            acr: (!i.amr.is_empty()).then(|| domain::factors::amr::acr(&i.amr)),
            amr: &i.amr,
            act: i.act.as_deref().map(|sub| ActClaim { sub }),
            cnf: i.jkt.as_deref().map(|jkt| Cnf { jkt }),
        }),
    };
    Ok(json_no_store(body))
}

/// An RFC 7662 introspection response: `{"active": false}` alone, or with every member of the
/// active token.
#[derive(serde::Serialize)]
struct Introspection<'a> {
    active: bool,
    #[serde(flatten)]
    token: Option<ActiveToken<'a>>,
}

/// `aud` as RFC 7662 has it: one string, or an array when the token is for several resources.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Audience<'a> {
    One(&'a str),
    Many(&'a [String]),
}

#[derive(serde::Serialize)]
struct ActiveToken<'a> {
    scope: &'a str,
    client_id: &'a str,
    token_type: &'static str,
    exp: i64,
    iat: i64,
    nbf: i64,
    sub: &'a str,
    aud: Audience<'a>,
    iss: &'a str,
    jti: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    /// A person's token: how they signed in (RFC 8176) and what that is worth.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    amr: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'static str>,
    /// A token from an exchange: the client that acted (RFC 8693 §4.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<ActClaim<'a>>,
    /// A DPoP-bound token (RFC 9449 §6.2): the thumbprint of its key.
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Cnf<'a>>,
}

#[derive(serde::Serialize)]
struct Cnf<'a> {
    jkt: &'a str,
}

#[derive(serde::Serialize)]
struct ActClaim<'a> {
    sub: &'a str,
}

pub async fn revoke(
    State(s): State<Services>,
    Path(app): Path<String>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthResponse> {
    let p = Params::parse(&headers, &body)?;
    let creds = p.credentials(&headers, "revoke")?;
    s.revoke(&app, &creds, p.get("token").as_deref(), &addr.to_string())
        .await?;
    let mut res = axum::http::StatusCode::OK.into_response();
    no_store(&mut res);
    Ok(res)
}
