//! The language of each page request (SPEC §6b, `model::i18n`): negotiated once here, for every
//! route behind the session layer (pages, server functions, the authorize endpoint, notices),
//! from `ui_locales` in the query, the `gatehouse_lang` cookie, `Accept-Language` and the
//! deployment's default. The pages read it from the request's extensions; code that draws a page
//! without the request at hand (a notice) reads it from the task-local [`current`].
//!
//! A `ui_locales` a client sends with its authorize request (or a person's pick on a language
//! link, which is the same parameter) is remembered in a session cookie, so the login, second
//! step and consent pages that follow speak it too.

use app::api::ssr::SESSION_LANG;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use model::i18n::{self, Lang};
use tower_sessions::cookie::Cookie;
use tower_sessions::Session;

use crate::AppState;

pub const COOKIE: &str = "gatehouse_lang";

tokio::task_local! {
    static LANG: Lang;
}

/// The language of the request being answered on this task (the default outside one).
pub fn current() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query?)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Runs `fut` in `lang` (the pages and notices it draws speak it): for a request whose language
/// is known only once its pushed parameters are read.
pub async fn within<F: std::future::Future>(lang: Lang, fut: F) -> F::Output {
    LANG.scope(lang, fut).await
}

/// Remembers `lang` for the rest of the visit (the `gatehouse_lang` session cookie, `Secure`
/// when the server's `public_url` is https); None forgets the visit's language (the cookie
/// expires).
pub fn remember(res: &mut Response, lang: Option<Lang>, public_url: &str) {
    let mut cookie = Cookie::build((COOKIE, lang.map_or("", Lang::tag)))
        .path("/")
        .http_only(true)
        .secure(public_url.starts_with("https://"))
        .same_site(tower_sessions::cookie::SameSite::Lax)
        .build();
    if lang.is_none() {
        cookie.make_removal();
    }
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub async fn negotiate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let asked = query_param(req.uri().query(), "ui_locales");
    let asked = i18n::from_ui_locales(asked.as_deref());
    let remembered = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_string());
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    // The signed-in person's own choice, when neither this request nor this visit chose.
    let chosen = match (&asked, &remembered, req.extensions().get::<Session>()) {
        (None, None, Some(session)) => session.get::<Lang>(SESSION_LANG).await.ok().flatten(),
        _ => None,
    };
    let remembered = remembered.or(chosen.map(|l| l.tag().to_string()));
    let default = state.services.branding().default_language;
    let lang = i18n::negotiate(asked.map(Lang::tag), remembered.as_deref(), accept, default);
    req.extensions_mut().insert(lang);
    let mut res = LANG.scope(lang, next.run(req)).await;
    if asked.is_some() && remembered.as_deref() != Some(lang.tag()) {
        remember(&mut res, Some(lang), &state.services.public_url);
    }
    res
}
