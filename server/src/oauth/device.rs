//! The device authorization grant's doors (RFC 8628, SPEC §3c): `POST /oauth2/device/{app}`
//! for the device, and the decision a signed-in person posts from the `/device` page (a Leptos
//! route, `app::pages::device`). The rules are the domain's (`domain::oauth::device`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::authorize::encode;
use domain::oauth::device::DeviceDecision;
use domain::oidc::SignIn;
use domain::Services;
use tower_sessions::Session;

use super::error::OAuthResponse;
use super::params::Params;
use crate::client_addr::ClientAddr;
use crate::AppState;

/// `POST /oauth2/device/{app}`: `scope`, `resource`, and the client's authentication as at the
/// token endpoint.
pub async fn authorization(
    State(s): State<Services>,
    Path(app): Path<String>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthResponse> {
    let p = Params::parse(&headers, &body)?;
    let creds = p.credentials(&headers, "device")?;
    let answer = s
        .device_authorization(
            &app,
            &creds,
            p.get("scope").as_deref(),
            p.resources(),
            &addr.to_string(),
        )
        .await?;
    Ok(super::error::json_no_store(answer))
}

fn see_other(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, to.to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
    )
        .into_response()
}

/// `POST /device`: `user_code`, `decision` (`approve` or `deny`) and the form token, from a
/// signed-in person; back to `/device`, which says what happened.
pub async fn decide(State(state): State<AppState>, session: Session, body: Bytes) -> Response {
    let f: std::collections::HashMap<String, String> =
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .unwrap_or_default()
            .into_iter()
            .collect();
    let code = f.get("user_code").cloned().unwrap_or_default();
    let here = format!("/device?user_code={}", encode(&code));
    let s = &state.services;
    let who = match super::authorize::signed_in(s, &session).await {
        Ok(Some(w)) => w,
        Ok(None) => return see_other(&format!("/login?return_to={}", encode(&here))),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the signed-in person");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    if !app::api::ssr::csrf_ok(&session, f.get("csrf").map(String::as_str)).await {
        return see_other(&format!("{here}&done=expired"));
    }
    let approve = match f.get("decision").map(String::as_str) {
        Some("approve") => true,
        Some("deny") => false,
        _ => return see_other(&here),
    };
    let sign_in = SignIn {
        auth_time: who.auth_time,
        nonce: None,
        amr: who.amr.clone(),
    };
    match s
        .device_decide(&code, &who.user_id, approve, &sign_in)
        .await
    {
        Ok(DeviceDecision::Approved) => see_other("/device?done=approved"),
        Ok(DeviceDecision::Denied) => see_other("/device?done=denied"),
        Ok(DeviceDecision::Gone) => see_other("/device?done=gone"),
        Ok(DeviceDecision::NotAllowed) => see_other("/device?done=not_allowed"),
        Ok(DeviceDecision::NeedsSecondFactor) => {
            let page = match s.has_second_factor(&who.user_id).await {
                Ok(true) => "/login/second",
                Ok(false) => "/account/security",
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the person's factors");
                    return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
                }
            };
            see_other(&format!("{page}?return_to={}", encode(&here)))
        }
        Err(e) => {
            tracing::error!(error = %e, "internal error deciding a device request");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
