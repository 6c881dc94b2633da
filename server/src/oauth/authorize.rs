//! `GET /oauth2/authorize/{app}`, the consent decision `POST /oauth2/consent/{app}`, and
//! withdrawing an approval (`POST /account/apps/{app}/withdraw`). The consent page and the
//! connected apps are Leptos pages (`app::pages::account`); their forms post here with the
//! session's form token.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::authorize::{encode, AuthorizeOutcome, AuthorizeRequest, Session as SignedIn};
use domain::Services;
use tower_sessions::Session;

use crate::client_addr::ClientAddr;
use crate::html::{escape, page};
use crate::AppState;

const CSRF: &str = "csrf";

/// The signed-in person's id through the one session helper: signed out, expired or disabled
/// is None; a session-store or database failure is an error (a 500, never "signed out").
async fn user_id(s: &Services, session: &Session) -> Result<Option<String>, Response> {
    app::api::ssr::session_principal(session, s)
        .await
        .map(|p| p.map(|p| p.user_id))
        .map_err(|e| failure_page(&e.to_string()))
}

/// The signed-in person and when they signed in. A sign-in without its time (from before
/// OpenID Connect) counts as none, so the person signs in again rather than get a made-up
/// `auth_time`.
async fn signed_in(s: &Services, session: &Session) -> Result<Option<SignedIn>, Response> {
    let Some(user_id) = user_id(s, session).await? else {
        return Ok(None);
    };
    let auth_time = session
        .get::<i64>(app::api::ssr::SESSION_AUTH_TIME)
        .await
        .map_err(|e| failure_page(&format!("session store: {e}")))?;
    Ok(auth_time.map(|auth_time| SignedIn { user_id, auth_time }))
}

async fn csrf_ok(session: &Session, sent: Option<&String>) -> bool {
    app::api::ssr::csrf_ok(session, sent.map(String::as_str)).await
}

/// Parses `k=v` pairs; a parameter given twice makes the request invalid.
fn pairs(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    let v: Vec<(String, String)> =
        serde_urlencoded::from_bytes(raw).map_err(|_| "The request is malformed.".to_string())?;
    Ok(v)
}

fn request_from(pairs: &[(String, String)]) -> Result<AuthorizeRequest, String> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (k, v) in pairs {
        if k != "scope_choice"
            && k != CSRF
            && k != "decision"
            && seen.insert(k.as_str(), v.as_str()).is_some()
        {
            return Err(format!("The parameter {k:?} is repeated."));
        }
    }
    let g = |k: &str| seen.get(k).map(|s| s.to_string());
    Ok(AuthorizeRequest {
        response_type: g("response_type"),
        client_id: g("client_id"),
        redirect_uri: g("redirect_uri"),
        scope: g("scope"),
        state: g("state"),
        code_challenge: g("code_challenge"),
        code_challenge_method: g("code_challenge_method"),
        nonce: g("nonce"),
        prompt: g("prompt"),
        max_age: g("max_age"),
        login_hint: g("login_hint"),
    })
}

/// `back` (an authorize URL) without its `prompt` and `max_age` parameters: after the fresh
/// sign-in they asked for, the request must not ask again (`max_age=0` would loop whenever the
/// clock ticked over a second during the redirect). The ID token's `auth_time` tells the client
/// how fresh the sign-in is.
fn without_prompt(back: &str) -> String {
    let Some((path, query)) = back.split_once('?') else {
        return back.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !matches!(p.split('=').next(), Some("prompt") | Some("max_age")))
        .collect();
    format!("{path}?{}", kept.join("&"))
}

fn error_page(message: &str) -> Response {
    error_page_with(StatusCode::BAD_REQUEST, message)
}

/// An unexpected failure: logged here, once and in full; the person sees a bare 500 page.
fn failure_page(cause: &str) -> Response {
    tracing::error!(error = %cause, "internal error in the authorize flow");
    error_page_with(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Try again in a moment.",
    )
}

fn error_page_with(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>This sign-in request cannot be completed</h1><p role=\"alert\">{}</p>\
         <p>The application that sent you here may be misconfigured. You can close this window.</p>",
        escape(message)
    );
    (status, page("Authorization error", &body)).into_response()
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

async fn render(
    app_id: &str,
    req: &AuthorizeRequest,
    outcome: AuthorizeOutcome,
    session: &Session,
    back: &str,
    page_request: Option<(AppState, axum::http::request::Parts)>,
) -> Response {
    match outcome {
        AuthorizeOutcome::ErrorPage(m) => error_page(&m),
        AuthorizeOutcome::UnknownApp => {
            error_page_with(StatusCode::NOT_FOUND, "There is no such application.")
        }
        AuthorizeOutcome::Failed(e) => failure_page(e.cause.as_deref().unwrap_or(&e.description)),
        AuthorizeOutcome::Redirect(to) => see_other(&to),
        AuthorizeOutcome::SignIn { login_hint, fresh } => {
            // After a forced sign-in the request comes back without `prompt=login`, or it
            // would ask again for ever; `max_age` is met by the new sign-in's time.
            let back = if fresh {
                without_prompt(back)
            } else {
                back.to_string()
            };
            let mut to = format!("/login?return_to={}", encode(&back));
            if let Some(h) = login_hint {
                to.push_str("&login_name=");
                to.push_str(&encode(&h));
            }
            see_other(&to)
        }
        AuthorizeOutcome::Consent {
            app_name,
            administrative,
            scopes,
        } => {
            let csrf = match app::api::ssr::csrf_token(session).await {
                Ok(t) => t,
                Err(e) => return failure_page(&e.to_string()),
            };
            let hidden: Vec<(String, String)> = [
                ("response_type", &req.response_type),
                ("client_id", &req.client_id),
                ("redirect_uri", &req.redirect_uri),
                ("scope", &req.scope),
                ("state", &req.state),
                ("code_challenge", &req.code_challenge),
                ("code_challenge_method", &req.code_challenge_method),
                ("nonce", &req.nonce),
                ("max_age", &req.max_age),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
            .collect();
            let view = app::api::account::ConsentRequest {
                app_id: app_id.to_string(),
                app_name,
                scopes,
                administrative,
                hidden,
                csrf,
            };
            let Some(page) = page_request else {
                return failure_page("the consent page needs the request to render");
            };
            let (state, parts) = page;
            let mut res = crate::portal::render_with(&state, parts, view).await;
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            res
        }
    }
}

pub async fn authorize(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, _) = req.into_parts();
    let Some(app_id) = parts
        .uri
        .path()
        .strip_prefix("/oauth2/authorize/")
        .map(|a| {
            percent_encoding::percent_decode_str(a)
                .decode_utf8_lossy()
                .into_owned()
        })
    else {
        return error_page("The request is malformed.");
    };
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        return failure_page("no session layer on the authorize endpoint");
    };
    let raw = parts.uri.query().unwrap_or_default().to_string();
    let req = match pairs(raw.as_bytes()).and_then(|p| request_from(&p)) {
        Ok(r) => r,
        Err(m) => return error_page(&m),
    };
    let s = state.services.clone();
    let who = match signed_in(&s, &session).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let outcome = s.authorize(&app_id, &req, who.as_ref(), None).await;
    let back = format!("/oauth2/authorize/{}?{raw}", encode(&app_id));
    render(
        &app_id,
        &req,
        outcome,
        &session,
        &back,
        Some((state, parts)),
    )
    .await
}

pub async fn consent(
    State(s): State<Services>,
    Path(app_id): Path<String>,
    session: Session,
    body: Bytes,
) -> Response {
    let p = match pairs(&body) {
        Ok(p) => p,
        Err(m) => return error_page(&m),
    };
    let csrf = p.iter().find(|(k, _)| k == CSRF).map(|(_, v)| v.clone());
    if !csrf_ok(&session, csrf.as_ref()).await {
        return error_page("This form has expired. Start the sign-in again from the application.");
    }
    let req = match request_from(&p) {
        Ok(r) => r,
        Err(m) => return error_page(&m),
    };
    let Some(who) = (match signed_in(&s, &session).await {
        Ok(u) => u,
        Err(res) => return res,
    }) else {
        return error_page(
            "You are not signed in any more. Start the sign-in again from the application.",
        );
    };
    let approve = p.iter().any(|(k, v)| k == "decision" && v == "approve");
    let outcome = if approve {
        let chosen: Vec<String> = p
            .iter()
            .filter(|(k, _)| k == "scope_choice")
            .map(|(_, v)| v.clone())
            .collect();
        s.authorize(&app_id, &req, Some(&who), Some(chosen)).await
    } else {
        s.deny_authorization(&app_id, &req).await
    };
    render(&app_id, &req, outcome, &session, "/", None).await
}

pub async fn withdraw(
    State(s): State<Services>,
    Path(app_id): Path<String>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    body: Bytes,
) -> Response {
    let p = pairs(&body).unwrap_or_default();
    let csrf = p.iter().find(|(k, _)| k == CSRF).map(|(_, v)| v.clone());
    let Some(uid) = (match user_id(&s, &session).await {
        Ok(u) => u,
        Err(res) => return res,
    }) else {
        return see_other("/login");
    };
    if !csrf_ok(&session, csrf.as_ref()).await {
        return error_page("This form has expired. Reload the page and try again.");
    }
    if let Err(e) = s.withdraw_consent(&uid, &app_id, &addr.to_string()).await {
        return failure_page(&e.to_string());
    }
    see_other("/account/apps")
}
