//! OpenID Connect endpoints (SPEC §3a): discovery, UserInfo and RP-initiated logout. The rules
//! are the domain's (`domain::oidc`); these doors parse and render.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::keys::{alg_name, algorithm_of};
use domain::oauth::OAuthError;
use domain::oidc::{LogoutOutcome, UserInfo};
use domain::Services;
use serde_json::json;
use tower_sessions::Session;

use super::error::{json_no_store, OAuthResponse};
use crate::client_addr::ClientAddr;
use crate::AppState;
use app::pages::notice::{Notice, NoticeForm};

/// `GET /oauth2/{app}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3):
/// the RFC 8414 document plus what an OpenID Provider states, only what the app allows.
pub async fn configuration(
    State(s): State<Services>,
    Path(app_id): Path<String>,
) -> Result<impl IntoResponse, OAuthResponse> {
    let app = s.app_or_404(&app_id).await?;
    let mut doc = super::metadata::document(&s.public_url, &app);
    let url = |p: &str| format!("{}/oauth2/{p}/{}", s.public_url, app.app_id);
    doc["userinfo_endpoint"] = json!(url("userinfo"));
    doc["end_session_endpoint"] = json!(url("logout"));
    doc["subject_types_supported"] = json!(["public"]);
    doc["id_token_signing_alg_values_supported"] = json!([alg_name(algorithm_of(app.token_type))]);
    doc["claims_supported"] = json!([
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "azp",
        "name",
        "preferred_username",
        "email",
        "email_verified"
    ]);
    doc["claims_parameter_supported"] = json!(false);
    doc["request_parameter_supported"] = json!(false);
    doc["request_uri_parameter_supported"] = json!(false);
    if doc.get("response_types_supported").is_none() {
        // Required by Discovery even when the app has no browser flow.
        doc["response_types_supported"] = json!([]);
    }
    Ok(Json(doc))
}

/// `{issuer path}/.well-known/openid-configuration` for an app whose issuer is overridden to
/// another path (the page fallback asks here first); None when no app has that issuer path.
pub async fn configuration_at_issuer_path(s: &Services, prefix: &str) -> Option<Response> {
    match s.app_id_by_issuer_path(prefix).await {
        Ok(Some(app_id)) => Some(
            configuration(State(s.clone()), Path(app_id))
                .await
                .into_response(),
        ),
        Ok(None) => None,
        Err(e) => Some(OAuthResponse(OAuthError::from(e)).into_response()),
    }
}

fn bearer_challenge(status: StatusCode, error: Option<&str>, description: &str) -> Response {
    challenged(status, error, description, false)
}

/// A refusal with the challenge of the scheme the token came with (Bearer or DPoP).
fn challenged(status: StatusCode, error: Option<&str>, description: &str, dpop: bool) -> Response {
    let challenge = match error {
        Some(e) => crate::auth::challenge(dpop, e, description),
        None => "Bearer realm=\"gatehouse\"".to_string(),
    };
    let mut res = match error {
        Some(e) => (
            status,
            Json(json!({"error": e, "error_description": description})),
        )
            .into_response(),
        None => status.into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    super::error::no_store(&mut res);
    res
}

/// The access token of a UserInfo request: the Authorization header (RFC 6750 §2.1), or for
/// a form POST the `access_token` field (§2.2). Both at once is a bad request.
/// A refusal: the status, the RFC 6750 error code and its description.
type Refusal = (StatusCode, &'static str, &'static str);

fn access_token(headers: &HeaderMap, body: &Bytes) -> Result<Option<(String, bool)>, Refusal> {
    let header = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(_) => match crate::auth::token_of(headers) {
            Some((token, dpop)) => Some((token.to_string(), dpop)),
            None => {
                return Err((
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "unsupported Authorization scheme",
                ))
            }
        },
    };
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let in_body = if form {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .unwrap_or_default()
            .into_iter()
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v)
    } else {
        None
    };
    match (header, in_body) {
        (Some(_), Some(_)) => Err((
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the access token was sent twice",
        )),
        (h, b) => Ok(h.or(b.map(|t| (t, false))).filter(|(t, _)| !t.is_empty())),
    }
}

/// `GET`/`POST /oauth2/userinfo/{app}` (Core 1.0 §5.3).
pub async fn userinfo(
    State(s): State<Services>,
    Path(app_id): Path<String>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match s.cached_app(&app_id).await {
        Ok(Some(_)) => {}
        Ok(None) => return OAuthResponse(OAuthError::unknown_app()).into_response(),
        Err(e) => return OAuthResponse(e).into_response(),
    }
    let (token, dpop) = match access_token(&headers, &body) {
        Ok(Some(t)) => t,
        Ok(None) => return bearer_challenge(StatusCode::UNAUTHORIZED, None, ""),
        Err((status, code, why)) => return bearer_challenge(status, Some(code), why),
    };
    let mut proofs = headers.get_all("dpop").iter();
    let proof = match (proofs.next(), proofs.next()) {
        (_, Some(_)) => {
            let why = "more than one DPoP header";
            return challenged(
                StatusCode::UNAUTHORIZED,
                Some("invalid_dpop_proof"),
                why,
                true,
            );
        }
        (p, None) => p.and_then(|v| v.to_str().ok()).map(str::trim),
    };
    let presented = domain::oauth::dpop::Presented {
        token: &token,
        dpop_scheme: dpop,
        proof,
        htm: method.as_str(),
        htu: format!("{}/oauth2/userinfo/{app_id}", s.public_url),
    };
    match s.userinfo(&app_id, &presented).await {
        Ok(UserInfo::Claims(c)) => json_no_store(c),
        Ok(UserInfo::InvalidToken) => challenged(
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            "the access token is not valid for this application",
            dpop,
        ),
        Ok(UserInfo::InsufficientScope) => challenged(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "the access token was not granted openid",
            dpop,
        ),
        Ok(UserInfo::Binding(domain::oauth::dpop::BindingError::Proof(
            domain::oauth::dpop::ProofError::Internal(cause),
        ))) => OAuthResponse(OAuthError::internal(cause)).into_response(),
        Ok(UserInfo::Binding(e)) => {
            let (error, why) = crate::auth::binding_refusal(&e);
            let dpop = !matches!(e, domain::oauth::dpop::BindingError::NotBound);
            challenged(StatusCode::UNAUTHORIZED, Some(error), why, dpop)
        }
        Err(e) => OAuthResponse(e).into_response(),
    }
}

/// The parameters of a logout request, from the query (GET) or the confirmation form (POST).
fn logout_params(raw: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(raw).unwrap_or_default()
}

fn param<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

async fn signed_out(state: &AppState, redirect: Option<String>) -> Response {
    match redirect {
        Some(to) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, to),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
        )
            .into_response(),
        None => {
            let l = crate::lang::current();
            let n = Notice::new(
                &l.t("notice-signed-out-title"),
                &l.t("notice-signed-out-heading"),
                &l.t("notice-signed-out-message"),
            );
            crate::portal::notice(state, StatusCode::OK, n).await
        }
    }
}

/// The session store failed: logged here, once; the person sees a bare 500 page.
async fn session_failed(state: &AppState, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "session store failed at logout");
    let l = crate::lang::current();
    let failed = l.t("notice-sign-out-failed");
    let n = Notice::new(&failed, &failed, &l.t("notice-our-side")).alert();
    crate::portal::notice(state, StatusCode::INTERNAL_SERVER_ERROR, n).await
}

/// Ends the Gatehouse session and records the sign-out.
async fn end_session(
    state: &AppState,
    session: &Session,
    who: Option<&str>,
    addr: &str,
) -> Result<(), Response> {
    if let Err(e) = session.flush().await {
        return Err(session_failed(state, e).await);
    }
    if let Some(uid) = who {
        if let Err(e) = state.services.audit_sign_out(uid, addr).await {
            tracing::error!(error = %e, "the sign-out was not recorded in the audit log");
        }
    }
    Ok(())
}

async fn run_logout(
    state: &AppState,
    app_id: &str,
    p: &[(String, String)],
    session: &Session,
    confirmed: bool,
    addr: &str,
) -> Response {
    let who = match app::api::ssr::session_user_id(session).await {
        Ok(u) => u,
        Err(e) => return session_failed(state, e).await,
    };
    let outcome = state
        .services
        .logout(
            app_id,
            if confirmed {
                None
            } else {
                param(p, "id_token_hint")
            },
            param(p, "post_logout_redirect_uri"),
            param(p, "client_id"),
            param(p, "state"),
            who.as_deref(),
        )
        .await;
    match outcome {
        Err(e) => OAuthResponse(e).into_response(),
        Ok(LogoutOutcome::ErrorPage(m)) => {
            let l = crate::lang::current();
            let n = Notice::new(
                &l.t("notice-sign-out-error"),
                &l.t("notice-sign-out-error-heading"),
                &l.rule(&m),
            )
            .alert();
            crate::portal::notice(state, StatusCode::BAD_REQUEST, n).await
        }
        Ok(LogoutOutcome::Done { redirect }) => {
            match end_session(state, session, who.as_deref(), addr).await {
                Ok(()) => signed_out(state, redirect).await,
                Err(res) => res,
            }
        }
        Ok(LogoutOutcome::Confirm { redirect, .. }) if confirmed => {
            match end_session(state, session, who.as_deref(), addr).await {
                Ok(()) => signed_out(state, redirect).await,
                Err(res) => res,
            }
        }
        Ok(LogoutOutcome::Confirm { app_name, .. }) => {
            let csrf = match app::api::ssr::csrf_token(session).await {
                Ok(t) => t,
                Err(e) => return session_failed(state, e).await,
            };
            let mut hidden: Vec<(String, String)> =
                ["post_logout_redirect_uri", "client_id", "state"]
                    .iter()
                    .filter_map(|k| param(p, k).map(|v| (k.to_string(), v.to_string())))
                    .collect();
            hidden.push(("csrf".into(), csrf));
            let l = crate::lang::current();
            let n = Notice::new(
                &l.t("notice-sign-out-title"),
                &l.t("notice-sign-out-heading"),
                &model::tr!(l, "notice-sign-out-asks", app = app_name),
            )
            .with_form(NoticeForm {
                action: format!("/oauth2/logout/{}", domain::authorize::encode(app_id)),
                hidden,
                button: l.t("sign-out"),
            });
            crate::portal::notice(state, StatusCode::OK, n).await
        }
    }
}

/// `GET /oauth2/logout/{app}` (RP-Initiated Logout 1.0 §2).
pub async fn logout(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    uri: axum::http::Uri,
) -> Response {
    let p = logout_params(uri.query().unwrap_or_default().as_bytes());
    run_logout(&state, &app_id, &p, &session, false, &addr.to_string()).await
}

/// `POST /oauth2/logout/{app}`: the person confirmed on the page above.
pub async fn logout_confirmed(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    body: Bytes,
) -> Response {
    let p = logout_params(&body);
    if !app::api::ssr::csrf_ok(&session, param(&p, "csrf")).await {
        let l = crate::lang::current();
        let n = Notice::new(
            &l.t("notice-sign-out-error"),
            &l.t("notice-sign-out-expired"),
            &l.t("notice-sign-out-again"),
        )
        .alert();
        return crate::portal::notice(&state, StatusCode::BAD_REQUEST, n).await;
    }
    run_logout(&state, &app_id, &p, &session, true, &addr.to_string()).await
}
