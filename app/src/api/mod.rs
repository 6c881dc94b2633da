//! Server functions: thin doors from the portal to the domain services. Each one parses its
//! arguments, calls one domain function and maps the result; the types here cross to the browser.

pub mod account;
pub mod apps;
pub mod auth;
pub mod clients;
pub mod device;
pub mod operations;
pub mod providers;
pub mod roles;
pub mod security;
pub mod selfservice;
pub mod settings;
pub mod users;

use serde::{Deserialize, Serialize};

/// The outcome of a form save: either success (with the object's id) or one field's error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FormResult {
    pub ok: bool,
    pub message: String,
    /// The field at fault (its form name), when one is.
    pub field: Option<String>,
    pub id: Option<String>,
}

impl FormResult {
    pub fn saved(message: &str, id: Option<String>) -> Self {
        FormResult {
            ok: true,
            message: message.into(),
            field: None,
            id,
        }
    }
    /// The error message for `field`, if the save failed because of it.
    pub fn error_for(&self, field: &str) -> Option<String> {
        (!self.ok && self.field.as_deref() == Some(field)).then(|| self.message.clone())
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Helpers for the server side of the server functions.
    use domain::{DomainError, Principal, Services};
    use leptos::prelude::*;

    use super::FormResult;

    pub const SESSION_USER: &str = "uid";
    /// Unix time after which the sign-in is over, whatever the activity (absolute timeout).
    pub const SESSION_UNTIL: &str = "until";
    /// Unix time the person signed in (OpenID Connect `auth_time`).
    pub const SESSION_AUTH_TIME: &str = "auth_time";
    /// The credential version the person signed in with: a password change, reset or
    /// disabling since then ends the session.
    pub const SESSION_CREDENTIAL: &str = "credential";
    /// The session's form token.
    pub const CSRF: &str = "csrf";
    /// How the person signed in (RFC 8176 `amr` values, a list).
    pub const SESSION_AMR: &str = "amr";
    /// A sign-in waiting for its second step (`PendingSignIn`): no one is signed in yet.
    pub const SESSION_PENDING: &str = "pending";
    /// Recovery codes just made, shown once by the next security page and then gone.
    pub const SESSION_NEW_CODES: &str = "new_codes";
    /// What the security page says once after a change (`SecurityNote` code).
    pub const SESSION_NOTE: &str = "note";
    /// The language the signed-in person chose (`model::i18n::Lang`), for the pages of this
    /// session: set when the session starts and when they choose on their security page.
    pub const SESSION_LANG: &str = "lang";

    /// A person who gave their password and must still give a second factor.
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    pub struct PendingSignIn {
        pub user_id: String,
        pub credential: i64,
        /// Unix time after which the password must be given again.
        pub until: i64,
        /// How the first step was made (`amr`: `pwd`, or `fed` at an upstream provider).
        #[serde(default)]
        pub first: Option<String>,
    }

    /// How long the second step may wait for the person.
    pub const PENDING_SECS: i64 = 300;

    fn unix_now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    /// Signs `user_id` in on `session` (a new session id against fixation): who, with which
    /// credential version, until when, since when and how (`amr`), and the language they chose.
    /// Any pending sign-in ends.
    pub async fn start_session(
        session: &tower_sessions::Session,
        s: &Services,
        user_id: &str,
        credential: i64,
        amr: &[String],
        absolute_secs: i64,
    ) -> Result<(), DomainError> {
        let store = |e: tower_sessions::session::Error| {
            DomainError::Internal(format!("session store: {e}"))
        };
        session.cycle_id().await.map_err(store)?;
        let _ = session
            .remove::<PendingSignIn>(SESSION_PENDING)
            .await
            .map_err(store)?;
        let now = unix_now();
        session.insert(SESSION_USER, user_id).await.map_err(store)?;
        session
            .insert(SESSION_CREDENTIAL, credential)
            .await
            .map_err(store)?;
        session
            .insert(SESSION_UNTIL, now.saturating_add(absolute_secs))
            .await
            .map_err(store)?;
        session
            .insert(SESSION_AUTH_TIME, now)
            .await
            .map_err(store)?;
        session.insert(SESSION_AMR, amr).await.map_err(store)?;
        if let Some(lang) = s.person_language(user_id).await? {
            session.insert(SESSION_LANG, lang).await.map_err(store)?;
        }
        Ok(())
    }

    /// Holds a sign-in for its second step: nobody is signed in on `session` meanwhile.
    pub async fn hold_for_second_step(
        session: &tower_sessions::Session,
        user_id: &str,
        credential: i64,
        first: &str,
    ) -> Result<(), DomainError> {
        let store = |e: tower_sessions::session::Error| {
            DomainError::Internal(format!("session store: {e}"))
        };
        session.cycle_id().await.map_err(store)?;
        for key in [
            SESSION_USER,
            SESSION_CREDENTIAL,
            SESSION_UNTIL,
            SESSION_AUTH_TIME,
            SESSION_AMR,
        ] {
            let _ = session.remove_value(key).await.map_err(store)?;
        }
        session
            .insert(
                SESSION_PENDING,
                PendingSignIn {
                    user_id: user_id.to_string(),
                    credential,
                    until: unix_now() + PENDING_SECS,
                    first: Some(first.to_string()),
                },
            )
            .await
            .map_err(store)
    }

    /// The sign-in waiting for its second step on `session`, if it has not expired.
    pub async fn pending_sign_in(
        session: &tower_sessions::Session,
    ) -> Result<Option<PendingSignIn>, DomainError> {
        let p = session
            .get::<PendingSignIn>(SESSION_PENDING)
            .await
            .map_err(|e| DomainError::Internal(format!("session store: {e}")))?;
        Ok(p.filter(|p| p.until > unix_now()))
    }

    /// Adds a proved second factor to the signed-in session (a step-up, or a factor just set
    /// up): its `amr` then says two factors.
    pub async fn add_second_factor(
        session: &tower_sessions::Session,
        factor: &str,
    ) -> Result<(), DomainError> {
        let store = |e: tower_sessions::session::Error| {
            DomainError::Internal(format!("session store: {e}"))
        };
        let mut amr = session
            .get::<Vec<String>>(SESSION_AMR)
            .await
            .map_err(store)?
            .unwrap_or_else(|| vec![model::factors::amr::PASSWORD.into()]);
        for m in [factor, model::factors::amr::MULTI_FACTOR] {
            if !amr.iter().any(|x| x == m) {
                amr.push(m.to_string());
            }
        }
        session.insert(SESSION_AMR, amr).await.map_err(store)
    }

    /// How long a sign-in lasts: `absolute_secs` from signing in at most (the idle timeout is
    /// the session cookie's own expiry).
    #[derive(Clone, Copy, Debug)]
    pub struct SessionPolicy {
        pub absolute_secs: i64,
    }

    /// The client address a request came from: behind trusted proxies the forwarded one,
    /// otherwise the TCP peer (resolved once per request by the server's client-address layer).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ClientAddr(pub std::net::IpAddr);

    impl ClientAddr {
        pub fn of(parts: &http::request::Parts) -> ClientAddr {
            parts
                .extensions
                .get::<ClientAddr>()
                .copied()
                .or_else(|| {
                    parts
                        .extensions
                        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                        .map(|c| ClientAddr(c.0.ip()))
                })
                .unwrap_or(ClientAddr(std::net::IpAddr::from([0, 0, 0, 0])))
        }
    }

    impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
        type Rejection = std::convert::Infallible;
        async fn from_request_parts(
            parts: &mut http::request::Parts,
            _state: &S,
        ) -> Result<Self, Self::Rejection> {
            Ok(ClientAddr::of(parts))
        }
    }

    /// The client address of the request a server function serves.
    pub fn client_addr() -> String {
        use_context::<http::request::Parts>()
            .map(|p| ClientAddr::of(&p).0.to_string())
            .unwrap_or_else(|| "unknown".into())
    }

    /// A server-function error that sets its own HTTP status (server functions otherwise
    /// answer 500 for every error): 401/403/404/409/422 for the caller's mistakes, 500 only
    /// for a real failure, which is logged here, once and in full.
    pub fn fail(status: http::StatusCode, message: impl Into<String>) -> ServerFnError {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(status);
        }
        ServerFnError::new(message.into())
    }

    /// The session's form token (made on first use): forms outside the portal that post to
    /// plain endpoints (consent, withdraw) carry it.
    pub async fn csrf_token(session: &tower_sessions::Session) -> Result<String, DomainError> {
        let store = |e: tower_sessions::session::Error| {
            DomainError::Internal(format!("session store: {e}"))
        };
        if let Some(t) = session.get::<String>(CSRF).await.map_err(store)? {
            return Ok(t);
        }
        let t = domain::tokens::random_token(24);
        session.insert(CSRF, t.clone()).await.map_err(store)?;
        Ok(t)
    }

    /// Whether `sent` is the session's form token (compared in constant time).
    pub async fn csrf_ok(session: &tower_sessions::Session, sent: Option<&str>) -> bool {
        match (session.get::<String>(CSRF).await.ok().flatten(), sent) {
            (Some(a), Some(b)) => domain::tokens::constant_time_eq(&a, b),
            _ => false,
        }
    }

    /// An unexpected failure: logged with its cause; the browser sees a plain message.
    pub fn internal(cause: impl std::fmt::Display) -> ServerFnError {
        tracing::error!(error = %cause, "internal error in a server function");
        fail(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            crate::i18n::request_lang().t("error-server"),
        )
    }

    /// The domain services, provided by the server as context.
    pub fn services() -> Result<Services, ServerFnError> {
        use_context::<Services>().ok_or_else(|| internal("the Services context is missing"))
    }

    pub async fn session() -> Result<tower_sessions::Session, ServerFnError> {
        leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(internal)
    }

    /// The user id the session is signed in as. A session-store failure is an error, never
    /// "signed out".
    pub async fn session_user_id(
        session: &tower_sessions::Session,
    ) -> Result<Option<String>, DomainError> {
        session
            .get::<String>(SESSION_USER)
            .await
            .map_err(|e| DomainError::Internal(format!("session store: {e}")))
    }

    /// The one way every door reads who is signed in: the session's user, resolved to an
    /// enabled principal (None when signed out, or the user is gone or disabled).
    pub async fn session_principal(
        session: &tower_sessions::Session,
        services: &Services,
    ) -> Result<Option<Principal>, DomainError> {
        let Some(uid) = session_user_id(session).await? else {
            return Ok(None);
        };
        // A sign-in without its end or credential version (or past its end) is over: fail
        // closed.
        let until = session
            .get::<i64>(SESSION_UNTIL)
            .await
            .map_err(|e| DomainError::Internal(format!("session store: {e}")))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(i64::MAX);
        let credential = session
            .get::<i64>(SESSION_CREDENTIAL)
            .await
            .map_err(|e| DomainError::Internal(format!("session store: {e}")))?;
        let principal = match (until, credential) {
            (Some(u), Some(c)) if u > now => services.session_principal(&uid, c).await?,
            _ => None,
        };
        if principal.is_none() {
            // Over, or the person's credentials changed since: the session ends here.
            session
                .flush()
                .await
                .map_err(|e| DomainError::Internal(format!("session store: {e}")))?;
        }
        Ok(principal)
    }

    /// After a person changed their own credentials (their password), the session they did it
    /// from stays signed in: it takes the new credential version. Every other session of theirs
    /// has ended.
    pub async fn keep_session(
        session: &tower_sessions::Session,
        services: &Services,
        user_id: &str,
    ) -> Result<(), DomainError> {
        if session_user_id(session).await?.as_deref() != Some(user_id) {
            return Ok(());
        }
        if let Some(v) = services.credential_version(user_id).await? {
            session
                .insert(SESSION_CREDENTIAL, v)
                .await
                .map_err(|e| DomainError::Internal(format!("session store: {e}")))?;
        }
        Ok(())
    }

    /// Whether `p`, signed in on `session`, is an administrator who must still give a second
    /// factor (`GATEHOUSE_ADMIN_REQUIRE_MFA`): the portal and the admin API refuse them until
    /// the session says two factors.
    pub async fn admin_second_factor_missing(
        session: &tower_sessions::Session,
        services: &Services,
        p: &Principal,
    ) -> Result<bool, DomainError> {
        if !services
            .admin_require_mfa
            .load(std::sync::atomic::Ordering::Relaxed)
            || !p.any_admin_right()
        {
            return Ok(false);
        }
        let amr = session
            .get::<Vec<String>>(SESSION_AMR)
            .await
            .map_err(|e| DomainError::Internal(format!("session store: {e}")))?
            .unwrap_or_default();
        Ok(!amr.iter().any(|m| m == model::factors::amr::MULTI_FACTOR))
    }

    /// What an administrator without a second factor is told (portal and API).
    pub const ADMIN_NEEDS_SECOND_FACTOR: &str =
        "Administrators need a second factor: set one up at /account/security, or sign in with it.";

    /// The signed-in principal, if any.
    pub async fn current() -> Result<Option<Principal>, ServerFnError> {
        session_principal(&session().await?, &services()?)
            .await
            .map_err(map_err)
    }

    /// The signed-in principal, or a 401 for the page to show.
    pub async fn principal() -> Result<Principal, ServerFnError> {
        let session = session().await?;
        let services = services()?;
        let mut p = session_principal(&session, &services)
            .await
            .map_err(map_err)?
            .ok_or_else(|| {
                fail(
                    http::StatusCode::UNAUTHORIZED,
                    crate::i18n::request_lang().t("error-not-signed-in"),
                )
            })?;
        if admin_second_factor_missing(&session, &services, &p)
            .await
            .map_err(map_err)?
        {
            return Err(fail(
                http::StatusCode::FORBIDDEN,
                crate::i18n::request_lang().t("error-second-factor-required"),
            ));
        }
        p.origin.address = Some(client_addr());
        Ok(p)
    }

    /// Domain errors the page cannot attribute to a field, each with its status.
    pub fn map_err(e: DomainError) -> ServerFnError {
        use http::StatusCode;
        match e {
            DomainError::Internal(cause) => internal(cause),
            DomainError::NotFound(_) => fail(StatusCode::NOT_FOUND, e.to_string()),
            DomainError::Unknown { message, .. } => fail(StatusCode::NOT_FOUND, message),
            DomainError::Forbidden(m) => fail(StatusCode::FORBIDDEN, m),
            DomainError::Conflict(m) => fail(StatusCode::CONFLICT, m),
            DomainError::Duplicate { message, .. } => fail(StatusCode::CONFLICT, message),
            DomainError::Validation { message, .. } => {
                fail(StatusCode::UNPROCESSABLE_ENTITY, message)
            }
        }
    }

    /// Validation and duplicate errors become a field error; others a server error.
    pub fn form_result<T>(
        r: Result<T, DomainError>,
        ok: impl FnOnce(T) -> FormResult,
    ) -> Result<FormResult, ServerFnError> {
        match r {
            Ok(v) => Ok(ok(v)),
            Err(DomainError::Validation { field, message }) => Ok(FormResult {
                ok: false,
                message,
                field: Some(field),
                id: None,
            }),
            Err(DomainError::Duplicate { field, message })
            | Err(DomainError::Unknown { field, message }) => Ok(FormResult {
                ok: false,
                message,
                field: Some(field),
                id: None,
            }),
            Err(DomainError::Conflict(message)) | Err(DomainError::Forbidden(message)) => {
                Ok(FormResult {
                    ok: false,
                    message,
                    field: None,
                    id: None,
                })
            }
            Err(e) => Err(map_err(e)),
        }
    }

    /// True when the request is a plain HTML form post (no JavaScript): the answer must then be
    /// a redirect, since the browser would otherwise show the raw result.
    pub async fn is_plain_form_post() -> bool {
        leptos_axum::extract::<http::HeaderMap>()
            .await
            .ok()
            .and_then(|h| {
                h.get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.contains("text/html"))
            })
            .unwrap_or(false)
    }
}

pub use model::encode as encode_query;

/// A same-origin path to return to after sign-in, or `/admin`. Absolute URLs, scheme-relative
/// `//host` and backslash tricks are ignored (no open redirect).
pub fn safe_return_to(s: &str) -> String {
    let ok = s.starts_with('/')
        && !s.starts_with("//")
        && !s.starts_with("/\\")
        && !s.chars().any(|c| c.is_control() || c == '\\')
        && s.len() <= 2048;
    if ok {
        s.to_string()
    } else {
        "/admin".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_accepts_only_same_origin_paths() {
        assert_eq!(safe_return_to("/admin/users?x=1"), "/admin/users?x=1");
        assert_eq!(safe_return_to("https://evil.example/"), "/admin");
        assert_eq!(safe_return_to("//evil.example/"), "/admin");
        assert_eq!(safe_return_to("/\\evil.example"), "/admin");
        assert_eq!(safe_return_to(""), "/admin");
    }
}
