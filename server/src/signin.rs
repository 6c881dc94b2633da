//! The doors of second factors (SPEC §6a): the plain form posts of the second step and of a
//! person's security page (they answer with redirects, so they work without JavaScript), and
//! the JSON calls `/passkeys.js` makes for WebAuthn ceremonies. The rules are the domain's
//! (`domain::signin::{factors, passkeys}`); the session is changed here.

use app::api::security::SecurityNote;
use app::api::ssr::{
    add_second_factor, csrf_ok, pending_sign_in, session_principal, start_session, PendingSignIn,
    SESSION_LANG, SESSION_NEW_CODES, SESSION_NOTE,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use domain::error::AuthError;
use domain::factors::amr;
use domain::signin::factors::SecondFactor;
use domain::users::User;
use serde_json::{json, Value};
use tower_sessions::Session;

use crate::client_addr::ClientAddr;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/second", post(second_step))
        .route("/login/passkey/begin", post(passkey_begin))
        .route("/login/passkey/finish", post(passkey_finish))
        .route("/account/security", post(security_form))
        .route("/account/passkeys/begin", post(passkey_add_begin))
        .route("/account/passkeys/finish", post(passkey_add_finish))
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

/// An unexpected failure: logged here, once and in full; a bare 500 to the browser.
fn failure(cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "internal error in a sign-in step");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

fn json_error(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({"error": error, "message": message})),
    )
        .into_response()
}

fn json_failure(cause: impl std::fmt::Display) -> Response {
    tracing::error!(error = %cause, "internal error in a passkey ceremony");
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        &crate::lang::current().t("error-server"),
    )
}

/// A form body's fields (a repeated field: the last one).
fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn encode(s: &str) -> String {
    domain::authorize::encode(s)
}

/// Who a second step is for: the sign-in waiting for it, or the signed-in person stepping up.
enum Stepping {
    Pending(PendingSignIn, User),
    SignedIn(User),
}

impl Stepping {
    fn user(&self) -> &User {
        match self {
            Stepping::Pending(_, u) | Stepping::SignedIn(u) => u,
        }
    }
}

async fn stepping(state: &AppState, session: &Session) -> Result<Option<Stepping>, String> {
    let s = &state.services;
    if let Some(p) = pending_sign_in(session).await.map_err(|e| e.to_string())? {
        return Ok(s
            .person(&p.user_id)
            .await
            .map_err(|e| e.to_string())?
            .map(|u| Stepping::Pending(p, u)));
    }
    let Some(p) = session_principal(session, s)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    Ok(s.person(&p.user_id)
        .await
        .map_err(|e| e.to_string())?
        .map(Stepping::SignedIn))
}

/// The second factor proved: a waiting sign-in becomes a session; a signed-in person's session
/// says two factors from now on.
async fn complete(
    state: &AppState,
    session: &Session,
    step: &Stepping,
    factor: SecondFactor,
    addr: &str,
) -> Result<(), String> {
    let s = &state.services;
    match step {
        Stepping::Pending(p, user) => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "succeeded").increment(1);
            s.activity.sign_in("succeeded");
            s.audit_session("session.sign_in", &user.login_name, Some(&user.id), addr)
                .await
                .map_err(|e| e.to_string())?;
            // The first step's method in place of the password's (an upstream provider's `fed`).
            let first = p.first.as_deref().unwrap_or(amr::PASSWORD);
            let amr: Vec<String> = factor
                .amr_after_password()
                .into_iter()
                .map(|m| {
                    if m == amr::PASSWORD {
                        first.to_string()
                    } else {
                        m
                    }
                })
                .collect();
            start_session(
                session,
                &state.services,
                &user.id,
                p.credential,
                &amr,
                state.policy.absolute_secs,
            )
            .await
            .map_err(|e| e.to_string())
        }
        Stepping::SignedIn(_) => {
            let m = match factor {
                SecondFactor::Passkey => amr::HARDWARE_KEY,
                _ => amr::OTP,
            };
            add_second_factor(session, m)
                .await
                .map_err(|e| e.to_string())
        }
    }
}

/// `POST /login/second`: a code from the authenticator app or a recovery code.
async fn second_step(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let target = app::api::safe_return_to(f.get("return_to").map(String::as_str).unwrap_or(""));
    let again = |error: &str| {
        see_other(&format!(
            "/login/second?error={error}&return_to={}",
            encode(&target)
        ))
    };
    let step = match stepping(&state, &session).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other(&format!("/login?return_to={}", encode(&target))),
        Err(e) => return failure(e),
    };
    if !csrf_ok(&session, f.get("csrf").map(String::as_str)).await {
        return again("expired");
    }
    let addr = addr.to_string();
    let code = f.get("code").map(String::as_str).unwrap_or("");
    match state
        .services
        .verify_second_factor(step.user(), code, &addr)
        .await
    {
        Ok(factor) => match complete(&state, &session, &step, factor, &addr).await {
            Ok(()) => see_other(&target),
            Err(e) => failure(e),
        },
        Err(AuthError::InvalidCredentials) => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "failed").increment(1);
            state.services.activity.sign_in("failed");
            if let Err(e) = state
                .services
                .audit_session(
                    "session.second_factor_failed",
                    &step.user().login_name,
                    Some(&step.user().id),
                    &addr,
                )
                .await
            {
                return failure(e);
            }
            again("invalid")
        }
        Err(AuthError::Throttled(_)) | Err(AuthError::Busy) => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "throttled").increment(1);
            again("throttled")
        }
        Err(AuthError::Domain(e)) => failure(e),
    }
}

fn ceremony_answer(id: String, options: Value) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({"ceremony": id, "options": options})),
    )
        .into_response()
}

/// `POST /login/passkey/begin` `{"mode": "signin" | "second"}`: a ceremony for any passkey
/// (sign-in without a password), or for the passkeys of the person in the second step.
async fn passkey_begin(State(state): State<AppState>, session: Session, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let user = match body["mode"].as_str() {
        Some("signin") => None,
        Some("second") => match stepping(&state, &session).await {
            Ok(Some(s)) => Some(s.user().id.clone()),
            Ok(None) => {
                return json_error(
                    StatusCode::UNAUTHORIZED,
                    "sign_in_required",
                    &crate::lang::current().t("passkey-give-password"),
                )
            }
            Err(e) => return json_failure(e),
        },
        _ => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "mode must be signin or second",
            )
        }
    };
    match state.services.begin_passkey_sign_in(user.as_deref()).await {
        Ok((id, options)) => ceremony_answer(id, options),
        Err(domain::DomainError::Conflict(m)) => {
            json_error(StatusCode::CONFLICT, "unavailable", &m)
        }
        Err(e) => json_failure(e),
    }
}

/// `POST /login/passkey/finish` `{"ceremony", "credential", "return_to"}`: the person the
/// passkey belongs to is signed in (or, in a second step, must be the one stepping).
async fn passkey_finish(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let target = app::api::safe_return_to(body["return_to"].as_str().unwrap_or(""));
    let addr = addr.to_string();
    let s = &state.services;
    let refused = || {
        json_error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            &crate::lang::current().t("second-passkey-refused"),
        )
    };
    let (user, credential) = match s
        .finish_passkey_sign_in(
            body["ceremony"].as_str().unwrap_or(""),
            &body["credential"],
            &addr,
        )
        .await
    {
        Ok(u) => u,
        Err(AuthError::InvalidCredentials) => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "failed").increment(1);
            s.activity.sign_in("failed");
            return refused();
        }
        Err(AuthError::Throttled(_)) | Err(AuthError::Busy) => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "throttled").increment(1);
            return json_error(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                &crate::lang::current().t("second-throttled"),
            );
        }
        // Passkeys do not work at this public URL (an address, not a host name).
        Err(AuthError::Domain(domain::DomainError::Conflict(m))) => {
            return json_error(StatusCode::CONFLICT, "unavailable", &m)
        }
        Err(e) => return json_failure(e),
    };
    let step = match stepping(&state, &session).await {
        Ok(s) => s,
        Err(e) => return json_failure(e),
    };
    let outcome = match step {
        // The second step: the passkey must be the person's who gave the password.
        Some(step) if step.user().id != user.id => return refused(),
        Some(step) => complete(&state, &session, &step, SecondFactor::Passkey, &addr).await,
        // No password: a passkey with user verification is two factors in one.
        None => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "succeeded").increment(1);
            s.activity.sign_in("succeeded");
            match s
                .audit_session("session.sign_in", &user.login_name, Some(&user.id), &addr)
                .await
            {
                Ok(()) => start_session(
                    &session,
                    &state.services,
                    &user.id,
                    credential,
                    &[amr::HARDWARE_KEY.into(), amr::MULTI_FACTOR.into()],
                    state.policy.absolute_secs,
                )
                .await
                .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
    };
    match outcome {
        Ok(()) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({"go_to": target})),
        )
            .into_response(),
        Err(e) => json_failure(e),
    }
}

/// The signed-in person, for their own security page.
async fn signed_in_person(state: &AppState, session: &Session) -> Result<Option<User>, String> {
    let Some(p) = session_principal(session, &state.services)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    state
        .services
        .person(&p.user_id)
        .await
        .map_err(|e| e.to_string())
}

async fn note(session: &Session, n: SecurityNote) -> Result<(), String> {
    session
        .insert(SESSION_NOTE, n)
        .await
        .map_err(|e| format!("session store: {e}"))
}

/// `POST /account/security`: `op` = `totp_begin`, `totp_confirm` (`code`), `totp_remove`,
/// `recovery_regenerate`, `passkey_remove` (`credential`), `language` (`en`, `de`, or empty for
/// the browser's); back to the page, which says what happened (and shows new recovery codes
/// once).
async fn security_form(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let return_to = f
        .get("return_to")
        .filter(|r| !r.is_empty())
        .map(|r| app::api::safe_return_to(r));
    let page = match &return_to {
        Some(r) => format!("/account/security?return_to={}", encode(r)),
        None => "/account/security".to_string(),
    };
    let user = match signed_in_person(&state, &session).await {
        Ok(Some(u)) => u,
        Ok(None) => return see_other(&format!("/login?return_to={}", encode(&page))),
        Err(e) => return failure(e),
    };
    if !csrf_ok(&session, f.get("csrf").map(String::as_str)).await {
        return match note(&session, SecurityNote::Expired).await {
            Ok(()) => see_other(&page),
            Err(e) => failure(e),
        };
    }
    let s = &state.services;
    let addr = addr.to_string();
    // The language form's choice (None: the browser's).
    let chosen_language = f
        .get("language")
        .and_then(|t| model::i18n::Lang::from_tag(t));
    let done: Result<(), String> = async {
        match f.get("op").map(String::as_str) {
            Some("totp_begin") => match s.totp_setup(&user.id, &user.login_name).await {
                Ok(_) | Err(domain::DomainError::Conflict(_)) => Ok(()),
                Err(e) => Err(e.to_string()),
            },
            Some("totp_confirm") => {
                let code = f.get("code").map(String::as_str).unwrap_or("");
                match s.confirm_totp(&user, code, &addr).await {
                    Ok(codes) => {
                        session
                            .insert(SESSION_NEW_CODES, codes)
                            .await
                            .map_err(|e| format!("session store: {e}"))?;
                        // The person just proved the factor: this session has two.
                        add_second_factor(&session, amr::OTP)
                            .await
                            .map_err(|e| e.to_string())?;
                        note(&session, SecurityNote::TotpOn).await
                    }
                    Err(AuthError::InvalidCredentials) => {
                        note(&session, SecurityNote::WrongCode).await
                    }
                    Err(AuthError::Throttled(_)) | Err(AuthError::Busy) => {
                        note(&session, SecurityNote::Throttled).await
                    }
                    Err(AuthError::Domain(domain::DomainError::Conflict(_))) => {
                        note(&session, SecurityNote::NoSetup).await
                    }
                    Err(AuthError::Domain(e)) => Err(e.to_string()),
                }
            }
            Some("totp_remove") => {
                s.remove_totp(&user, &addr)
                    .await
                    .map_err(|e| e.to_string())?;
                note(&session, SecurityNote::TotpOff).await
            }
            Some("recovery_regenerate") => match s.regenerate_recovery_codes(&user, &addr).await {
                Ok(codes) => {
                    session
                        .insert(SESSION_NEW_CODES, codes)
                        .await
                        .map_err(|e| format!("session store: {e}"))?;
                    note(&session, SecurityNote::CodesMade).await
                }
                Err(domain::DomainError::Conflict(_)) => {
                    note(&session, SecurityNote::NoSetup).await
                }
                Err(e) => Err(e.to_string()),
            },
            Some("language") => {
                s.set_person_language(&user.id, chosen_language)
                    .await
                    .map_err(|e| e.to_string())?;
                let store = |e: tower_sessions::session::Error| format!("session store: {e}");
                match chosen_language {
                    Some(l) => session.insert(SESSION_LANG, l).await.map_err(store)?,
                    None => {
                        session.remove_value(SESSION_LANG).await.map_err(store)?;
                    }
                }
                note(&session, SecurityNote::LanguageSaved).await
            }
            Some("passkey_remove") => {
                let id = f.get("credential").map(String::as_str).unwrap_or("");
                match s.remove_passkey(&user, id, &addr).await {
                    Ok(()) => note(&session, SecurityNote::PasskeyRemoved).await,
                    // Removed meanwhile (another tab): the page shows what is left.
                    Err(domain::DomainError::NotFound(_)) => Ok(()),
                    Err(e) => Err(e.to_string()),
                }
            }
            _ => Ok(()),
        }
    }
    .await;
    match done {
        Ok(()) => {
            let mut res = see_other(&page);
            // The visit's language follows the choice at once (a language link's cookie would
            // otherwise outrank it).
            if f.get("op").map(String::as_str) == Some("language") {
                crate::lang::remember(&mut res, chosen_language, &s.public_url);
            }
            res
        }
        Err(e) => failure(e),
    }
}

/// `POST /account/passkeys/begin`: a ceremony to add a passkey for the signed-in person.
async fn passkey_add_begin(State(state): State<AppState>, session: Session) -> Response {
    let user = match signed_in_person(&state, &session).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return json_error(
                StatusCode::UNAUTHORIZED,
                "sign_in_required",
                &crate::lang::current().t("error-sign-in-first"),
            )
        }
        Err(e) => return json_failure(e),
    };
    match state.services.begin_passkey_registration(&user).await {
        Ok((id, options)) => ceremony_answer(id, options),
        Err(domain::DomainError::Conflict(m)) => {
            json_error(StatusCode::CONFLICT, "unavailable", &m)
        }
        Err(e) => json_failure(e),
    }
}

/// `POST /account/passkeys/finish` `{"ceremony", "name", "credential"}`: the passkey is
/// stored; the session, which just proved it, counts two factors.
async fn passkey_add_finish(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    body: Bytes,
) -> Response {
    let user = match signed_in_person(&state, &session).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return json_error(
                StatusCode::UNAUTHORIZED,
                "sign_in_required",
                &crate::lang::current().t("error-sign-in-first"),
            )
        }
        Err(e) => return json_failure(e),
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let added = state
        .services
        .finish_passkey_registration(
            &user,
            body["ceremony"].as_str().unwrap_or(""),
            body["name"].as_str().unwrap_or(""),
            &body["credential"],
            &addr.to_string(),
        )
        .await;
    match added {
        Ok(()) => {
            let marked = async {
                add_second_factor(&session, amr::HARDWARE_KEY)
                    .await
                    .map_err(|e| e.to_string())?;
                note(&session, SecurityNote::PasskeyAdded).await
            }
            .await;
            match marked {
                Ok(()) => (
                    [(header::CACHE_CONTROL, "no-store")],
                    Json(json!({"added": true})),
                )
                    .into_response(),
                Err(e) => json_failure(e),
            }
        }
        Err(domain::DomainError::Validation { message, .. }) => json_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_credential",
            &message,
        ),
        Err(domain::DomainError::Conflict(m))
        | Err(domain::DomainError::Duplicate { message: m, .. }) => {
            json_error(StatusCode::CONFLICT, "conflict", &m)
        }
        Err(e) => json_failure(e),
    }
}
