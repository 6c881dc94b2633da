//! The portal's app screen as a plain form post (no JavaScript): `POST /admin/apps/{app}`
//! adds or removes a row, or saves, and answers with the same Leptos page re-rendered around
//! what was typed (or, after a successful save, a redirect to the saved app).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::provide_context;

use app::api::apps::{editor_data, save, AppForm, FormOp, PostedEditor};
use app::i18n::{tr, Lang};
use app::pages::notice::Notice;
use domain::authorize::encode;

use crate::AppState;

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// An unexpected failure: logged here, once and in full; a bare 500 to the browser.
fn failure(cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "internal error on the app screen");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

pub async fn app_form(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let Some(session) = parts.extensions.get::<tower_sessions::Session>().cloned() else {
        return failure("no session layer on the portal");
    };
    let principal = match app::api::ssr::session_principal(&session, &state.services).await {
        Ok(Some(p)) => p,
        Ok(None) => return see_other(&format!("/login?return_to={}", encode(&path))),
        Err(e) => return failure(e),
    };
    if !principal.has(domain::Right::Apps) {
        return (StatusCode::FORBIDDEN, "this needs the admin right \"apps\"").into_response();
    }
    let bytes = match axum::body::to_bytes(body, crate::http::MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response(),
    };
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) else {
        return (StatusCode::BAD_REQUEST, "the form is malformed").into_response();
    };
    let (mut form, op) = AppForm::from_pairs(&pairs);
    // The address decides which app this is: a new one, or the one named in the path (an
    // app's id never changes).
    let path_id = path.trim_start_matches("/admin/apps/").to_string();
    form.is_new = path_id == "new";
    if !form.is_new {
        form.app.app_id = path_id.clone();
    }
    let s = &state.services;
    let outcome = match op {
        FormOp::Save => match save(s, &principal, &form).await {
            Ok(r) if r.ok => {
                let id = r.id.unwrap_or(path_id);
                let what = if form.is_new { "created" } else { "saved" };
                return see_other(&format!("/admin/apps/{}?saved={what}", encode(&id)));
            }
            Ok(r) => Some(r),
            // Saving an app that is not there (deleted meanwhile, or a made-up address).
            Err(domain::DomainError::NotFound(_)) => {
                return notice(&state, StatusCode::NOT_FOUND, no_such_app()).await;
            }
            Err(e) => return failure(e),
        },
        other => {
            form.apply(other);
            None
        }
    };
    let refused = outcome.is_some();
    let data = match editor_data(s, &principal, form, outcome).await {
        Ok(d) => d,
        Err(e) => return failure(e),
    };
    let mut res = render_with(&state, parts, PostedEditor(data)).await;
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if refused && res.status() == StatusCode::OK {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

/// The notice for an app that is not there (deleted meanwhile, or a made-up address).
fn no_such_app() -> Notice {
    let l = crate::lang::current();
    Notice::new(
        &l.t("clients-notice-not-found-title"),
        &l.t("clients-notice-app-not-found"),
        &l.t("clients-notice-no-such-app"),
    )
    .alert()
    .with_link("/admin/apps", &l.t("clients-notice-back-to-apps"))
}

/// Renders the Leptos app at the request's URL with `context` provided (beside the services and
/// options every page has): how an axum handler answers with a page built around what it
/// decided. Pages read it through a server function, so hydration sees the same data.
pub async fn render_with<T: Clone + Send + Sync + 'static>(
    state: &AppState,
    parts: axum::http::request::Parts,
    context: T,
) -> Response {
    let services = state.services.clone();
    let options = (*state.leptos_options).clone();
    // The request's language, for a notice drawn without the request's parts.
    let lang = crate::lang::current();
    let render = leptos_axum::render_app_async_with_context(
        {
            let options = options.clone();
            move || {
                provide_context(lang);
                provide_context(services.clone());
                provide_context(options.clone());
                provide_context(context.clone());
            }
        },
        move || app::shell(options.clone()),
    );
    render(Request::from_parts(parts, Body::empty())).await
}

/// Answers with a notice page (`app::pages::notice`): an error, a refusal or a confirmation an
/// endpoint decided on, drawn in the same shell as every page, with `status`; never cached.
pub async fn notice(state: &AppState, status: StatusCode, n: Notice) -> Response {
    // The notice replaces the routes, so the address it is drawn at does not matter.
    let (parts, _) = Request::new(Body::empty()).into_parts();
    let mut res = render_with(state, parts, n).await;
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// `POST /admin/apps/{app}/clients`: the Clients page's forms (`op=add`, `op=rotate`,
/// `op=delete` with `client_id`), acted on and answered with the page drawn again around what
/// happened (a new secret shown once), or its refusal.
pub async fn clients_form(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let Some(session) = parts.extensions.get::<tower_sessions::Session>().cloned() else {
        return failure("no session layer on the portal");
    };
    let principal = match app::api::ssr::session_principal(&session, &state.services).await {
        Ok(Some(p)) => p,
        Ok(None) => return see_other(&format!("/login?return_to={}", encode(&path))),
        Err(e) => return failure(e),
    };
    let app_id = path
        .trim_start_matches("/admin/apps/")
        .trim_end_matches("/clients")
        .to_string();
    let app_id = percent_encoding::percent_decode_str(&app_id)
        .decode_utf8_lossy()
        .into_owned();
    let bytes = match axum::body::to_bytes(body, crate::http::MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response(),
    };
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) else {
        return (StatusCode::BAD_REQUEST, "the form is malformed").into_response();
    };
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let s = &state.services;
    let l = crate::lang::current();
    let client_id = get("client_id").unwrap_or_default();
    let outcome: Result<(String, Option<(String, String)>), domain::DomainError> = match get("op")
        .as_deref()
    {
        Some("add") => {
            let uris: Vec<String> = get("redirect_uris")
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_string)
                .collect();
            let grants: Vec<&String> = pairs
                .iter()
                .filter(|(k, _)| k == "grant_types")
                .map(|(_, v)| v)
                .collect();
            let mut body = serde_json::json!({
                "redirect_uris": uris,
                "grant_types": grants,
                "token_endpoint_auth_method": get("token_endpoint_auth_method").unwrap_or_default(),
            });
            if let Some(name) = get("client_name").filter(|n| !n.is_empty()) {
                body["client_name"] = serde_json::json!(name);
            }
            s.create_client(&principal, &app_id, &body)
                .await
                .map(|(c, secret)| (l.t("clients-added"), secret.map(|x| (c.client_id, x))))
        }
        Some("rotate") => s
            .rotate_client_secret(&principal, &app_id, &client_id)
            .await
            .map(|x| (l.t("clients-secret-rotated"), Some((client_id.clone(), x)))),
        Some("delete") => s
            .delete_client(&principal, &app_id, &client_id)
            .await
            .map(|()| (l.t("clients-deleted"), None)),
        _ => Err(domain::DomainError::invalid(
            "op",
            l.t("clients-unknown-form-action"),
        )),
    };
    let (message, secret, refused) = match outcome {
        Ok((m, secret)) => (m, secret, false),
        Err(domain::DomainError::Internal(cause)) => return failure(cause),
        Err(domain::DomainError::Forbidden(m)) => {
            return (StatusCode::FORBIDDEN, m).into_response();
        }
        Err(e) => (refusal_text(e, l), None, true),
    };
    let mut data = match app::api::clients::clients_data(s, &principal, &app_id).await {
        Ok(d) => d,
        Err(domain::DomainError::NotFound(_)) => {
            return notice(&state, StatusCode::NOT_FOUND, no_such_app()).await;
        }
        Err(domain::DomainError::Forbidden(m)) => {
            return (StatusCode::FORBIDDEN, m).into_response()
        }
        Err(e) => return failure(e),
    };
    data.message = Some(message);
    data.refused = refused;
    data.secret = secret;
    let mut res = render_with(&state, parts, app::api::clients::PostedClients(data)).await;
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if refused && res.status() == StatusCode::OK {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

/// A refusal as the page says it.
fn refusal_text(e: domain::DomainError, l: Lang) -> String {
    match e {
        domain::DomainError::Validation { message, .. }
        | domain::DomainError::Duplicate { message, .. }
        | domain::DomainError::Unknown { message, .. } => message,
        domain::DomainError::Conflict(m) | domain::DomainError::Forbidden(m) => m,
        domain::DomainError::NotFound("client") => l.t("clients-refusal-client-not-found"),
        domain::DomainError::NotFound("app") => l.t("clients-refusal-app-not-found"),
        domain::DomainError::NotFound(what) => tr!(l, "clients-refusal-not-found", what = what),
        domain::DomainError::Internal(m) => m,
    }
}
