//! `GET /oauth2/authorize/{app}`, the consent decision `POST /oauth2/consent/{app}`, and the
//! signed-in person's connected apps (`/account/apps`). The pages are plain server-rendered
//! HTML forms: they work without JavaScript and carry a per-session CSRF token.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::authorize::{encode, AuthorizeOutcome, AuthorizeRequest};
use domain::Services;
use tower_sessions::Session;

use crate::html::{escape, page};

const CSRF: &str = "csrf";

/// The signed-in person's id through the one session helper: signed out, expired or disabled
/// is None; a session-store or database failure is an error (a 500, never "signed out").
async fn user_id(s: &Services, session: &Session) -> Result<Option<String>, Response> {
    app::api::ssr::session_principal(session, s)
        .await
        .map(|p| p.map(|p| p.user_id))
        .map_err(|e| failure_page(&e.to_string()))
}

async fn csrf_token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(CSRF).await {
        return t;
    }
    let t = domain::tokens::random_token(24);
    let _ = session.insert(CSRF, t.clone()).await;
    t
}

async fn csrf_ok(session: &Session, sent: Option<&String>) -> bool {
    match (session.get::<String>(CSRF).await.ok().flatten(), sent) {
        (Some(a), Some(b)) => domain::tokens::constant_time_eq(&a, b),
        _ => false,
    }
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
    })
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
) -> Response {
    match outcome {
        AuthorizeOutcome::ErrorPage(m) => error_page(&m),
        AuthorizeOutcome::UnknownApp => {
            error_page_with(StatusCode::NOT_FOUND, "There is no such application.")
        }
        AuthorizeOutcome::Failed(e) => failure_page(e.cause.as_deref().unwrap_or(&e.description)),
        AuthorizeOutcome::Redirect(to) => see_other(&to),
        AuthorizeOutcome::SignIn => see_other(&format!("/login?return_to={}", encode(back))),
        AuthorizeOutcome::Consent { app_name, scopes } => {
            let token = csrf_token(session).await;
            let hidden: String = [
                ("response_type", &req.response_type),
                ("client_id", &req.client_id),
                ("redirect_uri", &req.redirect_uri),
                ("scope", &req.scope),
                ("state", &req.state),
                ("code_challenge", &req.code_challenge),
                ("code_challenge_method", &req.code_challenge_method),
                ("nonce", &req.nonce),
            ]
            .iter()
            .filter_map(|(k, v)| {
                v.as_ref().map(|v| {
                    format!(
                        "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                        escape(v)
                    )
                })
            })
            .collect();
            let rows: String = scopes
                .iter()
                .enumerate()
                .map(|(i, (name, desc))| {
                    format!(
                        "<div class=\"field switch\"><input type=\"checkbox\" id=\"scope-{i}\" name=\"scope_choice\" value=\"{n}\" checked>\
                         <label for=\"scope-{i}\"><strong>{n}</strong>{d}</label></div>",
                        n = escape(name),
                        d = if desc.is_empty() { String::new() } else { format!(" — {}", escape(desc)) }
                    )
                })
                .collect();
            let body = format!(
                "<h1>Allow {app} to access your account?</h1>\
                 <form method=\"post\" action=\"/oauth2/consent/{id}\">{hidden}<input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
                 <fieldset><legend>{app} asks for</legend>{rows}</fieldset>\
                 <div class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"approve\" class=\"primary\">Approve</button>\
                 <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></div></form>",
                app = escape(&app_name),
                id = escape(app_id),
            );
            let mut res = page(&format!("Authorize {app_name}"), &body).into_response();
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            res
        }
    }
}

pub async fn authorize(
    State(s): State<Services>,
    Path(app_id): Path<String>,
    RawQuery(q): RawQuery,
    session: Session,
) -> Response {
    let raw = q.unwrap_or_default();
    let req = match pairs(raw.as_bytes()).and_then(|p| request_from(&p)) {
        Ok(r) => r,
        Err(m) => return error_page(&m),
    };
    let uid = match user_id(&s, &session).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let outcome = s.authorize(&app_id, &req, uid.as_deref(), None).await;
    let back = format!("/oauth2/authorize/{}?{raw}", encode(&app_id));
    render(&app_id, &req, outcome, &session, &back).await
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
    let Some(uid) = (match user_id(&s, &session).await {
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
        s.authorize(&app_id, &req, Some(&uid), Some(chosen)).await
    } else {
        s.deny_authorization(&app_id, &req).await
    };
    render(&app_id, &req, outcome, &session, "/").await
}

/// `GET /account/apps`: the apps the signed-in person has approved, each with Withdraw.
pub async fn connected_apps(State(s): State<Services>, session: Session) -> Response {
    let Some(uid) = (match user_id(&s, &session).await {
        Ok(u) => u,
        Err(res) => return res,
    }) else {
        return see_other("/login?return_to=%2Faccount%2Fapps");
    };
    let token = csrf_token(&session).await;
    let apps = match s.connected_apps(&uid).await {
        Ok(a) => a,
        Err(e) => return failure_page(&e.to_string()),
    };
    let rows: String = apps
        .iter()
        .map(|(id, name, scopes)| {
            format!(
                "<tr><td>{n}</td><td>{sc}</td><td><form method=\"post\" action=\"/account/apps/{i}/withdraw\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{token}\"><button type=\"submit\" aria-label=\"Withdraw access of {n}\">Withdraw</button></form></td></tr>",
                n = escape(name),
                sc = escape(scopes),
                i = escape(&encode(id)),
            )
        })
        .collect();
    let table = if apps.is_empty() {
        "<p>You have not approved any application.</p>".to_string()
    } else {
        format!("<table class=\"grid\"><thead><tr><th>Application</th><th>Approved scopes</th><th></th></tr></thead><tbody>{rows}</tbody></table>")
    };
    page("Connected apps", &format!("<h1>Connected apps</h1>{table}")).into_response()
}

pub async fn withdraw(
    State(s): State<Services>,
    Path(app_id): Path<String>,
    session: Session,
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
    if let Err(e) = s.withdraw_consent(&uid, &app_id).await {
        return failure_page(&e.to_string());
    }
    see_other("/account/apps")
}
