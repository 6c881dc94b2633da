//! Server functions of second factors (SPEC §6a): the second step of a sign-in and a person's
//! security page. Their forms post to the server's plain handlers (`server/src/signin.rs`), so
//! both work without JavaScript; only passkeys need it (WebAuthn is a browser API).

use leptos::prelude::*;
use model::factors::{Factors, TotpSetup};
use serde::{Deserialize, Serialize};

/// The second step: who is signing in, what they can prove it with, where they go next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondStep {
    pub login_name: String,
    pub totp: bool,
    pub recovery_codes: bool,
    pub passkeys: bool,
    pub return_to: String,
    pub csrf: String,
}

/// A person's security page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Security {
    pub login_name: String,
    pub factors: Factors,
    /// An authenticator app being set up.
    pub setup: Option<TotpSetup>,
    /// Recovery codes just made: shown this once.
    pub new_codes: Vec<String>,
    /// What the last change did (a fixed sentence).
    pub note: Option<String>,
    /// Whether the note is an error.
    pub note_is_error: bool,
    /// Passkeys work with this server's public URL (a host name, not an address).
    pub passkeys_available: bool,
    /// An app or the portal requires a second factor: set one up, then continue here.
    pub return_to: Option<String>,
    pub csrf: String,
    /// The language the person chose for their pages and mail; None: their browser's.
    pub language: Option<model::i18n::Lang>,
}

/// What the security page may say after a change: a fixed set, chosen by a code the server
/// keeps in the session (never text from a URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecurityNote {
    TotpOn,
    TotpOff,
    WrongCode,
    Throttled,
    NoSetup,
    CodesMade,
    PasskeyAdded,
    PasskeyRemoved,
    LanguageSaved,
    Expired,
}

impl SecurityNote {
    /// The note's key in the catalogues.
    pub fn key(self) -> &'static str {
        use model::i18n::msg;
        match self {
            SecurityNote::TotpOn => msg("security-note-totp-on"),
            SecurityNote::TotpOff => msg("security-note-totp-off"),
            SecurityNote::WrongCode => msg("security-note-wrong-code"),
            SecurityNote::Throttled => msg("security-note-throttled"),
            SecurityNote::NoSetup => msg("security-note-no-setup"),
            SecurityNote::CodesMade => msg("security-note-codes-made"),
            SecurityNote::PasskeyAdded => msg("security-note-passkey-added"),
            SecurityNote::PasskeyRemoved => msg("security-note-passkey-removed"),
            SecurityNote::LanguageSaved => msg("security-note-language-saved"),
            SecurityNote::Expired => msg("form-expired"),
        }
    }
    pub fn is_error(self) -> bool {
        matches!(
            self,
            SecurityNote::WrongCode
                | SecurityNote::Throttled
                | SecurityNote::NoSetup
                | SecurityNote::Expired
        )
    }
}

/// What the second step may say after a failed attempt (a message key), chosen in the URL by
/// a code.
pub fn second_step_message(error: Option<&str>) -> Option<&'static str> {
    use model::i18n::msg;
    match error? {
        "invalid" => Some(msg("second-invalid")),
        "throttled" => Some(msg("second-throttled")),
        "passkey" => Some(msg("second-passkey-refused")),
        _ => None,
    }
}

/// Redirects the page's response (an SSR page load) and answers the error the page shows if
/// it is drawn after all.
#[cfg(feature = "ssr")]
fn go(to: &str) -> ServerFnError {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::SEE_OTHER);
        if let Ok(v) = http::HeaderValue::from_str(to) {
            res.insert_header(http::header::LOCATION, v);
        }
    }
    ServerFnError::new(crate::i18n::request_lang().t("error-sign-in-first"))
}

#[server(prefix = "/sfn", endpoint = "security/second")]
pub async fn second_step_view(return_to: Option<String>) -> Result<SecondStep, ServerFnError> {
    use super::ssr::*;
    let session = session().await?;
    let s = services()?;
    let target = super::safe_return_to(return_to.as_deref().unwrap_or(""));
    // A sign-in waiting for its second step, or a signed-in person stepping up.
    let user_id = match pending_sign_in(&session).await.map_err(map_err)? {
        Some(p) => p.user_id,
        None => match session_principal(&session, &s).await.map_err(map_err)? {
            Some(p) => p.user_id,
            None => {
                return Err(go(&format!(
                    "/login?return_to={}",
                    super::encode_query(&target)
                )))
            }
        },
    };
    let Some(user) = s.person(&user_id).await.map_err(map_err)? else {
        return Err(go("/login"));
    };
    let f = s.factors(&user.id).await.map_err(map_err)?;
    Ok(SecondStep {
        login_name: user.login_name,
        totp: f.totp,
        recovery_codes: f.recovery_codes_left > 0,
        passkeys: !f.passkeys.is_empty(),
        return_to: target,
        csrf: csrf_token(&session).await.map_err(map_err)?,
    })
}

#[server(prefix = "/sfn", endpoint = "security/view")]
pub async fn security_view(return_to: Option<String>) -> Result<Security, ServerFnError> {
    use super::ssr::*;
    let session = session().await?;
    let s = services()?;
    let Some(p) = session_principal(&session, &s).await.map_err(map_err)? else {
        let back = match return_to.as_deref() {
            Some(r) => format!("/account/security?return_to={}", super::encode_query(r)),
            None => "/account/security".into(),
        };
        return Err(go(&format!(
            "/login?return_to={}",
            super::encode_query(&back)
        )));
    };
    let Some(user) = s.person(&p.user_id).await.map_err(map_err)? else {
        return Err(go("/login"));
    };
    let factors = s.factors(&user.id).await.map_err(map_err)?;
    let language = s.person_language(&user.id).await.map_err(map_err)?;
    let setup = if factors.totp {
        None
    } else {
        s.pending_totp_setup(&user.id, &user.login_name)
            .await
            .map_err(map_err)?
    };
    let store = |e: tower_sessions::session::Error| internal(format!("session store: {e}"));
    let new_codes = session
        .remove::<Vec<String>>(SESSION_NEW_CODES)
        .await
        .map_err(store)?
        .unwrap_or_default();
    let note = session
        .remove::<SecurityNote>(SESSION_NOTE)
        .await
        .map_err(store)?;
    Ok(Security {
        login_name: user.login_name,
        factors,
        setup,
        new_codes,
        note: note.map(|n| crate::i18n::request_lang().t(n.key())),
        note_is_error: note.is_some_and(SecurityNote::is_error),
        passkeys_available: s.passkeys_available(),
        return_to: return_to
            .filter(|r| !r.is_empty())
            .map(|r| super::safe_return_to(&r)),
        csrf: csrf_token(&session).await.map_err(map_err)?,
        language,
    })
}

/// Whether the login page offers "Sign in with a passkey" (passkeys need a host name).
#[server(prefix = "/sfn", endpoint = "security/passkeys")]
pub async fn passkeys_available() -> Result<bool, ServerFnError> {
    Ok(super::ssr::services()?.passkeys_available())
}
