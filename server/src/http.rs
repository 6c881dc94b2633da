//! Cross-cutting HTTP pieces: health, the access log, security headers, the Origin check for
//! unsafe requests and the portal's sign-in guard.

use std::sync::Arc;
use std::time::Instant;

use app::pages::notice::Notice;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::{Right, Services};

/// Largest request body accepted anywhere (413 above it).
pub const MAX_BODY: usize = 1 << 20;

#[derive(Clone)]
pub struct HttpState {
    /// The services and what pages are drawn with (the guard answers with a page).
    pub app: crate::AppState,
    /// `scheme://host[:port]` of the public URL, what a browser sends as `Origin`.
    pub origin: Arc<str>,
}

impl HttpState {
    pub fn new(app: crate::AppState, public_url: &str) -> Self {
        HttpState {
            app,
            origin: origin_of(public_url).into(),
        }
    }
}

/// The origin of a URL (RFC 6454 serialization): scheme, host and port, lower-case, without a
/// default port or a trailing slash, so `https://ID.example.com:443/` is `https://id.example.com`.
/// Anything that is not an absolute URL with a host is the opaque origin `null`.
pub fn origin_of(url: &str) -> String {
    url::Url::parse(url.trim())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "null".into())
}

pub async fn healthz() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
}

/// Ready when the database answers and takes a write (a read-only or full database is not
/// ready, and the cause is logged).
pub async fn readyz(State(services): State<Services>) -> Response {
    let unavailable = |status: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": status})),
        )
            .into_response()
    };
    // Within 2 s whatever the database does: a probe that does not answer in time is as good
    // as a failed one (a load balancer waits for this answer).
    let probe = async {
        if !services.store.ping().await {
            return Err("database unreachable");
        }
        if let Err(e) = services.store.probe_write().await {
            tracing::error!(error = %e, "the database does not take writes");
            return Err("database not writable");
        }
        Ok(())
    };
    match tokio::time::timeout(std::time::Duration::from_millis(1800), probe).await {
        Ok(Ok(())) => {}
        Ok(Err(status)) => return unavailable(status),
        Err(_) => return unavailable("database did not answer in time"),
    }
    // The cause was logged where the tokens were refused.
    if services.store.hot_write_failed_recently() {
        return unavailable("database not writable");
    }
    Json(serde_json::json!({"status": "ready"})).into_response()
}

/// One line per request: method, path (never the query, which may carry codes), status, latency.
/// A request's id: the caller's `X-Request-Id` when it is a plain token (so a proxy's id carries
/// through), otherwise 128 random bits (URL-safe base64).
fn request_id(req: &Request) -> String {
    if let Some(given) = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (8..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    {
        return given.to_string();
    }
    domain::tokens::random_token(16)
}

/// The edge of every route, one middleware rather than three stacked ones (each layer costs a
/// boxed clone of the route below it and a boxed future per request): every request gets an id,
/// answered in `X-Request-Id` and carried by a span on every log line written while it is
/// served; its client address is resolved once (trusted proxies, see `client_addr`); the
/// response gets the security headers; then the access line and the request metrics.
/// What the edge needs: the trusted proxies, and the store (to tell an outage from a bug).
#[derive(Clone)]
pub struct EdgeState {
    pub trusted: crate::client_addr::TrustedProxies,
    pub store: domain::Store,
}

pub async fn edge(
    State(EdgeState { trusted, store }): State<EdgeState>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = request_id(&req);
    if let Some(peer) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        let ip = trusted.resolve(peer.0.ip(), req.headers());
        req.extensions_mut()
            .insert(crate::client_addr::ClientAddr(ip));
    }
    let span = tracing::info_span!("request", id = %id);
    let mut res = tracing::Instrument::instrument(timed(req, next, store), span).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

async fn timed(req: Request, next: Next, store: domain::Store) -> Response {
    let start = Instant::now();
    let kind = PathKind::of(req.uri().path());
    // The route template, never the raw path: a bounded set of label values. (`MatchedPath`
    // shares its text; no copy.)
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    let method = method_label(req.method());
    // Free when the access log is filtered out; otherwise no copy of the path (a `Uri` clone
    // shares its bytes).
    let logged = tracing::enabled!(target: "gatehouse::access", tracing::Level::INFO)
        .then(|| req.uri().clone());
    let mut res = next.run(req).await;
    if res.status() == StatusCode::INTERNAL_SERVER_ERROR && !store.reachable().await {
        // Not a bug here: the database is out of reach. The cause was logged where the error
        // became a response; the client is told to come back (503 with Retry-After).
        res = unavailable(kind);
    }
    let res = with_security_headers(res).await;
    let status = res.status().as_u16();
    record_request(
        route.as_ref().map_or("other", |r| r.as_str()),
        method,
        status_label(status),
        start.elapsed().as_secs_f64(),
    );
    let Some(uri) = logged else {
        return res;
    };
    tracing::info!(
        target: "gatehouse::access",
        method = %method,
        path = uri.path(),
        status,
        latency_ms = (start.elapsed().as_secs_f64() * 1e5).round() / 100.0,
        "request"
    );
    res
}

/// Which door a path belongs to, for the format of an answer the edge writes itself.
#[derive(Clone, Copy)]
enum PathKind {
    OAuth,
    Api,
    Page,
}

impl PathKind {
    fn of(path: &str) -> PathKind {
        if path.starts_with("/oauth2/") || path.starts_with("/.well-known/") {
            PathKind::OAuth
        } else if path.starts_with("/api/") || path.eq_ignore_ascii_case(crate::api::compat::PATH) {
            PathKind::Api
        } else {
            PathKind::Page
        }
    }
}

/// 503 with `Retry-After` while the database cannot be reached, in the door's own format:
/// RFC 6749's `temporarily_unavailable`, the admin API's error object, or a plain page.
fn unavailable(kind: PathKind) -> Response {
    let message = "the database is unreachable; try again in a moment";
    let mut res = match kind {
        PathKind::OAuth => Json(serde_json::json!({
            "error": "temporarily_unavailable", "error_description": message
        }))
        .into_response(),
        PathKind::Api => {
            Json(serde_json::json!({"error": "unavailable", "message": message})).into_response()
        }
        PathKind::Page => message.into_response(),
    };
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A route's metric handles: its latency histogram and its request counter per method and status.
struct RouteMetrics {
    duration: metrics::Histogram,
    requests: Vec<(&'static str, &'static str, metrics::Counter)>,
}

thread_local! {
    /// Handles already registered, per route template, so a request neither builds a metric key
    /// (label strings) nor looks it up in the recorder's registry. Per thread: no lock. Bounded
    /// by the routes, methods and status labels (all fixed sets).
    static ROUTE_METRICS: std::cell::RefCell<std::collections::HashMap<Box<str>, RouteMetrics>> =
        std::cell::RefCell::default();
}

/// `gatehouse_http_request_duration_seconds{route}` and
/// `gatehouse_http_requests_total{route, method, status}`.
fn record_request(route: &str, method: &'static str, status: &'static str, secs: f64) {
    let counter = |route: &str| metrics::counter!("gatehouse_http_requests_total", "route" => route.to_string(), "method" => method, "status" => status);
    // Until the recorder is installed (metrics off), the handles would be no-ops for good.
    if !domain::counters::recorder_live() {
        metrics::histogram!("gatehouse_http_request_duration_seconds", "route" => route.to_string())
            .record(secs);
        counter(route).increment(1);
        return;
    }
    ROUTE_METRICS.with_borrow_mut(|cache| {
        if !cache.contains_key(route) {
            let duration = metrics::histogram!("gatehouse_http_request_duration_seconds", "route" => route.to_string());
            cache.insert(route.into(), RouteMetrics { duration, requests: Vec::new() });
        }
        let Some(m) = cache.get_mut(route) else { return };
        m.duration.record(secs);
        match m.requests.iter().find(|(me, st, _)| *me == method && *st == status) {
            Some((_, _, c)) => c.increment(1),
            None => {
                let c = counter(route);
                c.increment(1);
                m.requests.push((method, status, c));
            }
        }
    });
}

fn method_label(m: &axum::http::Method) -> &'static str {
    match *m {
        axum::http::Method::GET => "GET",
        axum::http::Method::POST => "POST",
        axum::http::Method::PUT => "PUT",
        axum::http::Method::PATCH => "PATCH",
        axum::http::Method::DELETE => "DELETE",
        axum::http::Method::HEAD => "HEAD",
        axum::http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The status as a static label (no allocation per request).
fn status_label(s: u16) -> &'static str {
    const KNOWN: [(u16, &str); 17] = [
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (301, "301"),
        (302, "302"),
        (303, "303"),
        (304, "304"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (409, "409"),
        (413, "413"),
        (422, "422"),
        (429, "429"),
        (500, "500"),
    ];
    match KNOWN.iter().find(|(c, _)| *c == s) {
        Some((_, l)) => l,
        None if s >= 500 => "5xx",
        None if s >= 400 => "4xx",
        None => "other",
    }
}

/// Scripts from our origin only; Leptos' inline hydration scripts carry a per-response nonce
/// (leptos_axum generates it), which the policy then allows. No `'unsafe-inline'` scripts.
fn csp(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(n) => format!("'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "'self'".to_string(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

/// The nonce Leptos put on the page's inline scripts, if any.
fn page_nonce(html: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(html.get(..html.len().min(64 * 1024))?).ok()?;
    let start = text.find("nonce=\"")? + 7;
    let value = &text[start..start + text[start..].find('"')?];
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'='))
        .then(|| value.to_string())
}

/// `nosniff`, no framing, same-origin referrers on every response; pages also get the CSP with
/// their script nonce.
async fn with_security_headers(res: Response) -> Response {
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let (mut parts, body) = res.into_parts();
    let body = if is_html {
        // Pages are rendered whole (async SSR), so reading the body costs no streaming.
        let Ok(bytes) = axum::body::to_bytes(body, 16 << 20).await else {
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        };
        if let Ok(v) = HeaderValue::from_str(&csp(page_nonce(&bytes).as_deref())) {
            parts.headers.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        Body::from(bytes)
    } else {
        body
    };
    let h = &mut parts.headers;
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    Response::from_parts(parts, body)
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The name of the portal's session cookie.
pub const SESSION_COOKIE: &str = "gatehouse_session";

/// The request carries the portal's session cookie (ambient authority a foreign page can use).
/// An admin API request (`/api/v1/…` or the compatibility call) that carries no cookie at all.
pub fn is_cookieless_api(req: &Request) -> bool {
    let path = req.uri().path();
    (path.starts_with("/api/v1/") || path == crate::api::compat::PATH)
        && !req.headers().contains_key(header::COOKIE)
}

/// Whether the request carries the session cookie, parsed exactly as the session layer parses
/// it (tower-cookies: each `;`-separated piece through `Cookie::parse_encoded`), so the two can
/// never disagree about `gatehouse_session =x` or other odd spellings.
fn has_session_cookie(req: &Request) -> bool {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
        .flat_map(|v| v.split(';'))
        .any(|c| {
            tower_sessions::cookie::Cookie::parse_encoded(c.to_owned())
                .is_ok_and(|c| c.name() == SESSION_COOKIE)
        })
}

/// The origin the request says it comes from: `Origin`, or else the origin of `Referer`.
fn claimed_origin(req: &Request) -> Option<String> {
    let h = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    h(header::ORIGIN)
        .map(origin_of)
        .or_else(|| h(header::REFERER).map(origin_of))
}

/// Unsafe requests to the portal's server functions, the login and consent forms must come
/// from our own origin. The admin API (and the documents' CreateUser call) is guarded only when
/// the session cookie rides along: a call without it carries no ambient authority, so it is
/// left to authenticate itself (401 with a `Bearer` challenge when it cannot).
pub async fn origin_check(State(st): State<HttpState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let api = path.starts_with("/api/v1/") || path == crate::api::compat::PATH;
    let forms = path.starts_with("/sfn/")
        || path.starts_with("/admin/")
        || path == "/login"
        || path.starts_with("/login/")
        || path == "/device"
        || path.starts_with("/oauth2/consent/")
        || path.starts_with("/account/");
    if !(api || forms) || !is_unsafe(req.method()) {
        return next.run(req).await;
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
    let cookie = has_session_cookie(&req);
    if api && (!cookie || bearer) {
        // No ambient authority (a bearer header is never sent cross-site without CORS).
        return next.run(req).await;
    }
    let refused = match claimed_origin(&req) {
        Some(o) => o != *st.origin,
        // A cookie-authenticated unsafe request must say where it comes from; a form post
        // without any cookie carries no authority (the login form before a session exists).
        None => cookie,
    };
    if refused {
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({"error": "forbidden", "message": "cross-origin request refused: Origin (or Referer) must match the public URL"})),
        )
            .into_response();
    }
    next.run(req).await
}

/// "Something went wrong" (the cause is logged where it happened), in the request's language.
async fn failed_page(app: &crate::AppState) -> Response {
    let l = crate::lang::current();
    let n = Notice::new(
        &l.t("notice-error-title"),
        &l.t("notice-error-heading"),
        &l.t("notice-error-message"),
    )
    .alert();
    crate::portal::notice(app, StatusCode::INTERNAL_SERVER_ERROR, n).await
}

/// The portal needs a signed-in person with an admin right; each area needs its own right.
/// Anonymous visitors go to the login page, which brings them back afterwards.
pub async fn admin_guard(State(st): State<HttpState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !(path == "/admin" || path.starts_with("/admin/")) || is_unsafe(req.method()) {
        return next.run(req).await;
    }
    let needed = if path.starts_with("/admin/users") {
        Some(Right::Users)
    } else if path.starts_with("/admin/roles") {
        Some(Right::Roles)
    } else if path.starts_with("/admin/apps") {
        Some(Right::Apps)
    } else {
        None
    };
    let principal = match req.extensions().get::<tower_sessions::Session>() {
        Some(session) => {
            match app::api::ssr::session_principal(session, &st.app.services).await {
                Ok(p) => p,
                Err(e) => {
                    // A failed read is not "signed out": no login redirect on an outage.
                    tracing::error!(error = %e, "cannot read the signed-in user");
                    return failed_page(&st.app).await;
                }
            }
        }
        None => None,
    };
    let Some(p) = principal else {
        let back = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/admin");
        let to = format!("/login?return_to={}", domain::authorize::encode(back));
        return Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, to)
            .body(Body::empty())
            .unwrap_or_default();
    };
    let allowed = match needed {
        Some(r) => p.has(r),
        None => p.any_admin_right(),
    };
    // GATEHOUSE_ADMIN_REQUIRE_MFA: an administrator gives a second factor first, or sets one
    // up, and comes back.
    if let Some(session) = req.extensions().get::<tower_sessions::Session>() {
        let missing = app::api::ssr::admin_second_factor_missing(session, &st.app.services, &p)
            .await
            .map(|m| m.then_some(()));
        match missing {
            Ok(None) => {}
            Ok(Some(())) => {
                let has = st.app.services.has_second_factor(&p.user_id).await;
                let back = req
                    .uri()
                    .path_and_query()
                    .map(|pq| pq.as_str())
                    .unwrap_or("/admin");
                let page = match has {
                    Ok(true) => "/login/second",
                    Ok(false) => "/account/security",
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the administrator's factors");
                        return failed_page(&st.app).await;
                    }
                };
                return Response::builder()
                    .status(StatusCode::SEE_OTHER)
                    .header(
                        header::LOCATION,
                        format!("{page}?return_to={}", domain::authorize::encode(back)),
                    )
                    .body(Body::empty())
                    .unwrap_or_default();
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the session's sign-in");
                return failed_page(&st.app).await;
            }
        }
    }
    if !allowed {
        let l = crate::lang::current();
        let message = match needed {
            Some(r) => model::tr!(l, "notice-forbidden-message", right = r.as_str()),
            None => l.t("notice-forbidden-any-message"),
        };
        let n = Notice::new(
            &l.t("notice-forbidden-title"),
            &l.t("notice-forbidden-heading"),
            &message,
        )
        .with_link("/admin", &l.t("notice-back-to-portal"));
        return crate::portal::notice(&st.app, StatusCode::FORBIDDEN, n).await;
    }
    next.run(req).await
}

/// Server functions set their own status for the errors they raise (`app::api::ssr::fail`).
/// What is left at 500 may still be the framework's own refusal of the arguments (a malformed
/// form post): that is the caller's fault, so it becomes 400 — decided by the error's decoded
/// variant, never by its message. The body stays what the browser side decodes.
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    use leptos::server_fn::error::{FromServerFnError, ServerFnError};
    if !req.uri().path().starts_with("/sfn/") {
        return next.run(req).await;
    }
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "cannot read a server function's error body");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let bad_input = matches!(
        <ServerFnError as FromServerFnError>::de(bytes.clone()),
        ServerFnError::Args(_) | ServerFnError::MissingArg(_) | ServerFnError::Deserialization(_)
    );
    if bad_input {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `/CDirectoryService/CreateUser` in any case → the one route that serves it.
pub fn fold_compat_path(mut req: Request) -> Request {
    if req
        .uri()
        .path()
        .eq_ignore_ascii_case(crate::api::compat::PATH)
        && req.uri().path() != crate::api::compat::PATH
    {
        let pq = match req.uri().query() {
            Some(q) => format!("{}?{q}", crate::api::compat::PATH),
            None => crate::api::compat::PATH.to_string(),
        };
        if let Ok(uri) = pq.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_in_their_normal_form() {
        assert_eq!(
            origin_of("https://ID.example.com:443/"),
            "https://id.example.com"
        );
        assert_eq!(
            origin_of("https://id.example.com"),
            "https://id.example.com"
        );
        assert_eq!(
            origin_of("http://127.0.0.1:3000/admin?x=1"),
            "http://127.0.0.1:3000"
        );
        assert_eq!(origin_of("http://localhost:80"), "http://localhost");
        assert_ne!(
            origin_of("https://id.example.com:8443"),
            origin_of("https://id.example.com")
        );
        assert_eq!(origin_of("null"), "null");
        assert_eq!(origin_of("not a url"), "null");
    }
}
