//! Self-service by e-mail (SPEC §6b): "Forgot your password?", the reset link's form, sign-up
//! and the address confirmation. Each works as a plain form post too: the answer is then a
//! redirect to the page, which shows a message chosen by a code in the URL, never text from it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the hosted pages offer (mail set up; sign-up open).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offers {
    pub reset: bool,
    pub sign_up: bool,
}

#[server(prefix = "/sfn", endpoint = "self/offers")]
pub async fn self_service_offers() -> Result<Offers, ServerFnError> {
    let o = super::ssr::services()?.offers();
    Ok(Offers {
        reset: o.reset,
        sign_up: o.sign_up,
    })
}

/// The login page's buttons for upstream providers.
#[server(prefix = "/sfn", endpoint = "self/providers")]
pub async fn provider_buttons() -> Result<Vec<model::providers::ProviderButton>, ServerFnError> {
    use super::ssr::*;
    services()?.provider_buttons().await.map_err(map_err)
}

/// What a self-service form may say: a fixed set, chosen by a code (`?m=…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Said {
    /// A reset was asked for (whatever exists).
    Sent,
    /// The reset link does not work (used, expired or unknown).
    BadLink,
    /// The two passwords differ.
    Mismatch,
    /// The password was changed: sign in.
    Changed,
    /// A sign-up was taken: check the mail.
    SignedUp,
    /// The address is confirmed: sign in.
    Verified,
    /// Too many requests from here.
    Throttled,
}

impl Said {
    const ALL: [Said; 7] = [
        Said::Sent,
        Said::BadLink,
        Said::Mismatch,
        Said::Changed,
        Said::SignedUp,
        Said::Verified,
        Said::Throttled,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Said::Sent => "sent",
            Said::BadLink => "bad-link",
            Said::Mismatch => "mismatch",
            Said::Changed => "changed",
            Said::SignedUp => "signed-up",
            Said::Verified => "verified",
            Said::Throttled => "throttled",
        }
    }
    pub fn from_code(code: Option<&str>) -> Option<Said> {
        let code = code?;
        Said::ALL.into_iter().find(|s| s.code() == code)
    }
    /// Whether it reports a problem (shown as an alert) rather than news.
    pub fn is_error(self) -> bool {
        matches!(self, Said::BadLink | Said::Mismatch | Said::Throttled)
    }
    /// The message's key in the catalogues.
    pub fn key(self) -> &'static str {
        use model::i18n::msg;
        match self {
            Said::Sent => msg("self-sent"),
            Said::BadLink => msg("self-bad-link"),
            Said::Mismatch => msg("self-mismatch"),
            Said::Changed => msg("self-changed"),
            Said::SignedUp => msg("self-signed-up"),
            Said::Verified => msg("self-verified"),
            Said::Throttled => msg("self-throttled"),
        }
    }
}

/// The answer of a self-service form: a message, or a field's error (with JavaScript).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SelfServiceResult {
    Said(Said),
    /// A field is not acceptable: (field, message).
    Field(String, String),
    /// Go here with a full page load.
    GoTo(String),
}

#[cfg(feature = "ssr")]
async fn answer(page: &str, said: Said) -> SelfServiceResult {
    if super::ssr::is_plain_form_post().await {
        leptos_axum::redirect(&format!("{page}?m={}", said.code()));
    }
    SelfServiceResult::Said(said)
}

/// "Forgot your password?": the same answer whether or not the account exists.
#[server(prefix = "/sfn", endpoint = "self/forgot")]
pub async fn forgot_password(who: String) -> Result<SelfServiceResult, ServerFnError> {
    use super::ssr::*;
    services()?
        .request_password_reset(&who, &client_addr(), crate::i18n::request_lang())
        .await
        .map_err(map_err)?;
    Ok(answer("/login/forgot", Said::Sent).await)
}

/// Whether a reset link works (the page shows its form only then).
#[server(prefix = "/sfn", endpoint = "self/reset_link")]
pub async fn reset_link_valid(token: String) -> Result<bool, ServerFnError> {
    use super::ssr::*;
    services()?.reset_link_valid(&token).await.map_err(map_err)
}

/// A new password with a reset link.
#[server(prefix = "/sfn", endpoint = "self/reset")]
pub async fn reset_password(
    token: String,
    password: String,
    confirm: String,
) -> Result<SelfServiceResult, ServerFnError> {
    use super::ssr::*;
    let back = format!("/login/reset?token={}", super::encode_query(&token));
    if password != confirm {
        if is_plain_form_post().await {
            leptos_axum::redirect(&format!("{back}&m={}", Said::Mismatch.code()));
        }
        return Ok(SelfServiceResult::Said(Said::Mismatch));
    }
    let done = services()?
        .reset_password_with_link(&token, &password, &client_addr())
        .await;
    match done {
        Ok(true) => {
            let to = format!("/login?done={}", Said::Changed.code());
            if is_plain_form_post().await {
                leptos_axum::redirect(&to);
            }
            Ok(SelfServiceResult::GoTo(to))
        }
        Ok(false) => Ok(answer("/login/reset", Said::BadLink).await),
        Err(domain::DomainError::Validation { field, message }) => {
            if is_plain_form_post().await {
                leptos_axum::redirect(&format!("{back}&m=weak"));
            }
            let _ = message;
            Ok(SelfServiceResult::Field(
                field,
                field_hint(crate::i18n::request_lang(), "password"),
            ))
        }
        Err(e) => Err(map_err(e)),
    }
}

/// Sign-up (`GATEHOUSE_REGISTRATION=open`).
#[server(prefix = "/sfn", endpoint = "self/sign_up")]
pub async fn sign_up(
    login_name: String,
    email: String,
    display_name: String,
    password: String,
    confirm: String,
) -> Result<SelfServiceResult, ServerFnError> {
    use super::ssr::*;
    use domain::signin::selfservice::SignUpError;
    let typed = (login_name.clone(), email.clone(), display_name.clone());
    let field = |f: &str, m: &str| {
        let (f, m) = (f.to_string(), m.to_string());
        let (login_name, email, display_name) = typed.clone();
        async move {
            if is_plain_form_post().await {
                leptos_axum::redirect(&format!(
                    "/signup?field={}&login_name={}&email={}&display_name={}",
                    super::encode_query(&f),
                    super::encode_query(&login_name),
                    super::encode_query(&email),
                    super::encode_query(&display_name),
                ));
            }
            SelfServiceResult::Field(f, m)
        }
    };
    if password != confirm {
        let l = crate::i18n::request_lang();
        return Ok(field("confirm", &field_hint(l, "confirm")).await);
    }
    let new = domain::users::NewUser {
        login_name: login_name.clone(),
        email: email.clone(),
        display_name: display_name.clone(),
        password,
        is_oauth_confidential_client: false,
        enabled: false,
        jwks: None,
    };
    let l = crate::i18n::request_lang();
    match services()?.sign_up(new, &client_addr(), l).await {
        Ok(()) => Ok(answer("/signup", Said::SignedUp).await),
        Err(SignUpError::Closed) => Err(fail(
            http::StatusCode::NOT_FOUND,
            "sign-up is not open here",
        )),
        Err(SignUpError::Throttled) => Ok(answer("/signup", Said::Throttled).await),
        // The field's rule in the page's language (the same words a plain post shows).
        Err(SignUpError::Invalid(f, _)) => Ok(field(&f, &field_hint(l, &f)).await),
        Err(SignUpError::Domain(e)) => Err(map_err(e)),
    }
}

/// Confirms an address with its link (a button on the page: a mail scanner that opens links
/// confirms nothing).
#[server(prefix = "/sfn", endpoint = "self/verify")]
pub async fn verify_address(token: String) -> Result<SelfServiceResult, ServerFnError> {
    use super::ssr::*;
    match services()?
        .verify_address(&token, &client_addr())
        .await
        .map_err(map_err)?
    {
        Some(login) => {
            let to = format!(
                "/login?done={}&login_name={}",
                Said::Verified.code(),
                super::encode_query(&login)
            );
            if is_plain_form_post().await {
                leptos_axum::redirect(&to);
            }
            Ok(SelfServiceResult::GoTo(to))
        }
        None => Ok(answer("/signup/verify", Said::BadLink).await),
    }
}

/// The message a sign-up field error shows after a plain post (`?field=`): the rules of that
/// field, since the server's own wording does not travel in the URL.
pub fn field_hint(l: crate::i18n::Lang, field: &str) -> String {
    use model::i18n::msg;
    l.t(match field {
        "login_name" => msg("self-hint-login-name"),
        "email" => msg("self-hint-email"),
        "password" => msg("self-hint-password"),
        "confirm" => msg("self-mismatch"),
        _ => msg("self-hint-form"),
    })
}

#[cfg(test)]
mod tests {
    use super::Said;

    #[test]
    fn a_message_is_chosen_by_its_code_only() {
        for s in Said::ALL {
            assert_eq!(Said::from_code(Some(s.code())), Some(s));
        }
        assert_eq!(Said::from_code(Some("Call 555-0100 to unlock")), None);
        assert_eq!(Said::from_code(None), None);
    }
}
