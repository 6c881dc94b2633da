//! `GET /oauth2/authorize/{app}`, the consent decision `POST /oauth2/consent/{app}`, and
//! withdrawing an approval (`POST /account/apps/{app}/withdraw`). The consent page and the
//! connected apps are Leptos pages (`app::pages::account`); their forms post here with the
//! session's form token.

use std::collections::HashMap;

use app::pages::notice::Notice;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::authorize::{encode, AuthorizeOutcome, AuthorizeRequest, Session as SignedIn};
use domain::Services;
use tower_sessions::Session;

use crate::client_addr::ClientAddr;
use crate::AppState;

const CSRF: &str = "csrf";

/// The signed-in person's id through the one session helper: signed out, expired or disabled
/// is None; a session-store or database failure is an error (a 500, never "signed out").
async fn user_id(s: &Services, session: &Session) -> Result<Option<String>, String> {
    app::api::ssr::session_principal(session, s)
        .await
        .map(|p| p.map(|p| p.user_id))
        .map_err(|e| e.to_string())
}

/// The signed-in person and when they signed in. A sign-in without its time (from before
/// OpenID Connect) counts as none, so the person signs in again rather than get a made-up
/// `auth_time`.
pub(crate) async fn signed_in(s: &Services, session: &Session) -> Result<Option<SignedIn>, String> {
    let Some(user_id) = user_id(s, session).await? else {
        return Ok(None);
    };
    let auth_time = session
        .get::<i64>(app::api::ssr::SESSION_AUTH_TIME)
        .await
        .map_err(|e| format!("session store: {e}"))?;
    let amr = session
        .get::<Vec<String>>(app::api::ssr::SESSION_AMR)
        .await
        .map_err(|e| format!("session store: {e}"))?
        .unwrap_or_default();
    Ok(auth_time.map(|auth_time| SignedIn {
        user_id,
        auth_time,
        amr,
    }))
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
            && k != "resource"
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
        resources: pairs
            .iter()
            .filter(|(k, _)| k == "resource")
            .map(|(_, v)| v.clone())
            .collect(),
        pushed: false,
    })
}

/// A form body's pairs (the PAR endpoint's parameters).
pub(super) fn form_pairs(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    pairs(raw)
}

/// The authorize request `pairs` spell (a parameter given twice is refused).
pub(super) fn authorize_request_of(pairs: &[(String, String)]) -> Result<AuthorizeRequest, String> {
    request_from(pairs)
}

/// What the browser's request expands to: the authorize request, the pushed request's URI, and
/// the language a pushed `ui_locales` asks for (one in the URL is the language layer's).
struct Expanded {
    req: AuthorizeRequest,
    pushed: Option<String>,
    lang: Option<model::i18n::Lang>,
}

/// Why a browser's request could not be expanded.
enum NotExpanded {
    /// The request is bad or its pushed request is gone: the error page says this.
    Refused(String),
    /// The pushed request could not be read (a failure underneath, logged where it is shown).
    Failed(String),
}

impl From<String> for NotExpanded {
    fn from(m: String) -> Self {
        NotExpanded::Refused(m)
    }
}

/// The request a browser brought: its own parameters, or (RFC 9126) the ones its client pushed,
/// named by `request_uri` with the client's `client_id`. Also answers that request URI.
async fn expand(
    s: &Services,
    app_id: &str,
    pairs: &[(String, String)],
) -> Result<Expanded, NotExpanded> {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(uri) = get("request_uri").filter(|u| !u.is_empty()) else {
        return Ok(Expanded {
            req: request_from(pairs)?,
            pushed: None,
            lang: None,
        });
    };
    let pushed = s
        .pushed_request(app_id, uri, get("client_id"))
        .await
        .map_err(|e| NotExpanded::Failed(e.to_string()))?
        .ok_or_else(|| crate::lang::current().t("authorize-request-uri-gone"))?;
    let mut req = request_from(&pushed)?;
    req.pushed = true;
    let ui_locales = pushed
        .iter()
        .find(|(k, _)| k == "ui_locales")
        .map(|(_, v)| v.as_str());
    Ok(Expanded {
        req,
        pushed: Some(uri.to_string()),
        lang: model::i18n::from_ui_locales(ui_locales),
    })
}

/// The request a browser brought (`expand`) and who is signed in; or the page that says why not
/// (the error page for a bad request, the failure page for a failure underneath).
async fn expanded_and_who(
    state: &AppState,
    app_id: &str,
    pairs: &[(String, String)],
    session: &Session,
) -> Result<(Expanded, Option<SignedIn>), Response> {
    let s = &state.services;
    let expanded = match expand(s, app_id, pairs).await {
        Ok(r) => r,
        Err(NotExpanded::Failed(cause)) => return Err(failure_page(state, &cause).await),
        Err(NotExpanded::Refused(m)) => return Err(error_page(state, &m).await),
    };
    match signed_in(s, session).await {
        Ok(who) => Ok((expanded, who)),
        Err(cause) => Err(failure_page(state, &cause).await),
    }
}

/// A pushed request is spent when its authorization ends (a redirect to the client).
async fn spend_if_done(s: &Services, outcome: &AuthorizeOutcome, uri: Option<&str>) {
    if let (AuthorizeOutcome::Redirect(_) | AuthorizeOutcome::Refused { .. }, Some(uri)) =
        (outcome, uri)
    {
        if let Err(e) = s.spend_pushed_request(uri).await {
            tracing::error!(error = %e, "cannot spend a pushed authorization request");
        }
    }
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

async fn error_page(state: &AppState, message: &str) -> Response {
    error_page_with(state, StatusCode::BAD_REQUEST, message).await
}

/// An unexpected failure: logged here, once and in full; the person sees a bare 500 page.
async fn failure_page(state: &AppState, cause: &str) -> Response {
    tracing::error!(error = %cause, "internal error in the authorize flow");
    let message = crate::lang::current().t("notice-our-side");
    error_page_with(state, StatusCode::INTERNAL_SERVER_ERROR, &message).await
}

async fn error_page_with(state: &AppState, status: StatusCode, message: &str) -> Response {
    let l = crate::lang::current();
    // The domain's reasons are English; the known ones read in the page's language.
    let n = Notice::new(
        &l.t("consent-error-title"),
        &l.t("consent-error-heading"),
        &l.rule(message),
    )
    .alert()
    .with_more(&l.t("notice-authorize-more"));
    crate::portal::notice(state, status, n).await
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

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    app_id: &str,
    req: &AuthorizeRequest,
    pushed: Option<&str>,
    outcome: AuthorizeOutcome,
    session: &Session,
    back: &str,
    parts: Option<axum::http::request::Parts>,
) -> Response {
    match outcome {
        AuthorizeOutcome::ErrorPage(m) => error_page(state, &m).await,
        AuthorizeOutcome::UnknownApp => {
            let message = crate::lang::current().t("authorize-no-app");
            error_page_with(state, StatusCode::NOT_FOUND, &message).await
        }
        AuthorizeOutcome::Failed(e) => {
            failure_page(state, e.cause.as_deref().unwrap_or(&e.description)).await
        }
        AuthorizeOutcome::Redirect(to) | AuthorizeOutcome::Refused { to, .. } => see_other(&to),
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
        AuthorizeOutcome::SecondFactor { setup } => {
            let page = if setup {
                "/account/security"
            } else {
                "/login/second"
            };
            see_other(&format!("{page}?return_to={}", encode(back)))
        }
        AuthorizeOutcome::Consent {
            app_name,
            administrative,
            scopes,
            client,
        } => {
            let csrf = match app::api::ssr::csrf_token(session).await {
                Ok(t) => t,
                Err(e) => return failure_page(state, &e.to_string()).await,
            };
            // A pushed request goes back by its request_uri, never spelled out in the page.
            let hidden: Vec<(String, String)> = match pushed {
                Some(uri) => vec![
                    (
                        "client_id".to_string(),
                        req.client_id.clone().unwrap_or_default(),
                    ),
                    ("request_uri".to_string(), uri.to_string()),
                ],
                None => [
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
                .chain(
                    req.resources
                        .iter()
                        .map(|r| ("resource".to_string(), r.clone())),
                )
                .collect(),
            };
            let view = app::api::account::ConsentRequest {
                app_id: app_id.to_string(),
                app_name,
                scopes,
                administrative,
                client,
                hidden,
                csrf,
            };
            let Some(parts) = parts else {
                return failure_page(state, "the consent page needs the request to render").await;
            };
            let mut res = crate::portal::render_with(state, parts, view).await;
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
        return error_page(&state, &crate::lang::current().t("authorize-malformed")).await;
    };
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        return failure_page(&state, "no session layer on the authorize endpoint").await;
    };
    let raw = parts.uri.query().unwrap_or_default().to_string();
    let s = &state.services;
    let given = match pairs(raw.as_bytes()) {
        Ok(p) => p,
        Err(m) => return error_page(&state, &m).await,
    };
    let (Expanded { req, pushed, lang }, who) =
        match expanded_and_who(&state, &app_id, &given, &session).await {
            Ok(r) => r,
            Err(page) => return page,
        };
    let outcome = s.authorize(&app_id, &req, who.as_ref(), None).await;
    spend_if_done(s, &outcome, pushed.as_deref()).await;
    let back = format!("/oauth2/authorize/{}?{raw}", encode(&app_id));
    // A pushed ui_locales: this answer speaks it, and the pages that follow too.
    let mut parts = parts;
    if let Some(l) = lang {
        parts.extensions.insert(l);
    }
    let answer = render(
        &state,
        &app_id,
        &req,
        pushed.as_deref(),
        outcome,
        &session,
        &back,
        Some(parts),
    );
    match lang {
        None => answer.await,
        Some(l) => {
            let mut res = crate::lang::within(l, answer).await;
            crate::lang::remember(&mut res, Some(l), &s.public_url);
            res
        }
    }
}

pub async fn consent(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    session: Session,
    body: Bytes,
) -> Response {
    let p = match pairs(&body) {
        Ok(p) => p,
        Err(m) => return error_page(&state, &m).await,
    };
    let csrf = p.iter().find(|(k, _)| k == CSRF).map(|(_, v)| v.clone());
    if !csrf_ok(&session, csrf.as_ref()).await {
        return error_page(&state, &crate::lang::current().t("authorize-form-expired")).await;
    }
    let s = &state.services;
    let (Expanded { req, pushed, .. }, who) =
        match expanded_and_who(&state, &app_id, &p, &session).await {
            Ok(r) => r,
            Err(page) => return page,
        };
    let Some(who) = who else {
        return error_page(&state, &crate::lang::current().t("authorize-signed-out")).await;
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
    spend_if_done(s, &outcome, pushed.as_deref()).await;
    render(
        &state,
        &app_id,
        &req,
        pushed.as_deref(),
        outcome,
        &session,
        "/",
        None,
    )
    .await
}

pub async fn withdraw(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    body: Bytes,
) -> Response {
    let p = pairs(&body).unwrap_or_default();
    let csrf = p.iter().find(|(k, _)| k == CSRF).map(|(_, v)| v.clone());
    let s = &state.services;
    let Some(uid) = (match user_id(s, &session).await {
        Ok(u) => u,
        Err(cause) => return failure_page(&state, &cause).await,
    }) else {
        return see_other("/login");
    };
    if !csrf_ok(&session, csrf.as_ref()).await {
        return error_page(
            &state,
            "This form has expired. Reload the page and try again.",
        )
        .await;
    }
    if let Err(e) = s.withdraw_consent(&uid, &app_id, &addr.to_string()).await {
        return failure_page(&state, &e.to_string()).await;
    }
    see_other("/account/apps")
}
