//! Dynamic client registration (RFC 7591) and its management endpoint (RFC 7592) for apps
//! whose Client ID Type is `registered`: `POST /oauth2/register/{app}`, and `GET, PUT, DELETE
//! /oauth2/register/{app}/{client_id}` with the registration access token. The rules are the
//! domain's (`domain::registration`); this door parses, limits open registration per client
//! address, and renders RFC 7591's answers.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::registration::RegistrationError;
use domain::Services;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::no_store;
use crate::client_addr::ClientAddr;

/// Registrations per client address and instance (`GATEHOUSE_REGISTRATION_RATE` a minute,
/// in bursts of as many): refused ones count too, so a stranger cannot probe without limit.
#[derive(Clone)]
pub struct RegistrationLimit(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl RegistrationLimit {
    pub fn new(per_minute: u32) -> RegistrationLimit {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::keyed(Quota::per_minute(n)));
        // Forget idle addresses now and then, so the map does not grow for ever.
        let weak = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                let Some(l) = weak.upgrade() else { break };
                l.retain_recent();
                l.shrink_to_fit();
            }
        });
        RegistrationLimit(limiter)
    }
}

pub struct Answer(Result<(StatusCode, Option<serde_json::Value>), RegistrationError>);

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut res = match self.0 {
            Ok((status, Some(body))) => (status, Json(body)).into_response(),
            Ok((status, None)) => status.into_response(),
            Err(e) => {
                let status =
                    StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let mut res = (
                    status,
                    Json(serde_json::json!({"error": e.code, "error_description": e.description})),
                )
                    .into_response();
                if e.bearer_challenge {
                    let v = format!("Bearer realm=\"gatehouse\", error=\"{}\"", e.code);
                    if let Ok(v) = HeaderValue::from_str(&v) {
                        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                    }
                }
                if e.status == 429 {
                    res.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
                }
                res
            }
        };
        no_store(&mut res);
        res
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    (v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ")).then(|| v[7..].trim())
}

/// The request body as JSON (RFC 7591 §3.1 sends `application/json`).
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<serde_json::Value, RegistrationError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        return Err(RegistrationError::new(
            400,
            "invalid_client_metadata",
            "send the client metadata as application/json",
        ));
    }
    serde_json::from_slice(body).map_err(|_| {
        RegistrationError::new(400, "invalid_client_metadata", "the body is not valid JSON")
    })
}

/// `POST /oauth2/register/{app}`.
pub async fn register(
    State(s): State<Services>,
    State(limit): State<RegistrationLimit>,
    Path(app_id): Path<String>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    if limit.0.check_key(&addr).is_err() {
        return Answer(Err(RegistrationError::new(
            429,
            "slow_down",
            "too many registrations from this address; try again in a minute",
        )));
    }
    Answer(
        async {
            let body = json_body(&headers, &body)?;
            let doc = s.register_client(&app_id, bearer(&headers), &body).await?;
            Ok((StatusCode::CREATED, Some(doc)))
        }
        .await,
    )
}

/// `GET /oauth2/register/{app}/{client_id}` (RFC 7592 §2.1).
pub async fn read(
    State(s): State<Services>,
    Path((app_id, client_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    Answer(
        s.read_registration(&app_id, &client_id, bearer(&headers))
            .await
            .map(|d| (StatusCode::OK, Some(d))),
    )
}

/// `PUT /oauth2/register/{app}/{client_id}` (RFC 7592 §2.2).
pub async fn update(
    State(s): State<Services>,
    Path((app_id, client_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    Answer(
        async {
            let body = json_body(&headers, &body)?;
            let doc = s
                .update_registration(&app_id, &client_id, bearer(&headers), &body)
                .await?;
            Ok((StatusCode::OK, Some(doc)))
        }
        .await,
    )
}

/// `DELETE /oauth2/register/{app}/{client_id}` (RFC 7592 §2.3).
pub async fn delete(
    State(s): State<Services>,
    Path((app_id, client_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    Answer(
        s.delete_registration(&app_id, &client_id, bearer(&headers))
            .await
            .map(|()| (StatusCode::NO_CONTENT, None)),
    )
}
