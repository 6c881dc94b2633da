//! The portal's app screen as a plain form post (no JavaScript): `POST /admin/apps/{app}`
//! adds or removes a row, or saves, and answers with the same Leptos page re-rendered around
//! what was typed (or, after a successful save, a redirect to the saved app).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::provide_context;

use app::api::apps::{editor_data, save, AppForm, FormOp, PostedEditor};
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
                let n = Notice::new("Not found", "App not found", "There is no such app.")
                    .alert()
                    .with_link("/admin/apps", "Back to the apps");
                return notice(&state, StatusCode::NOT_FOUND, n).await;
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
    let render = leptos_axum::render_app_async_with_context(
        {
            let options = options.clone();
            move || {
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
