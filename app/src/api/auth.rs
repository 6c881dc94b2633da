//! Sign-in, sign-out and "who am I" for the hosted login page and the portal shell.

use leptos::prelude::*;

use model::rights::Principal;

/// What a sign-in attempt produced: where to go next, or the error to show.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum LoginResult {
    /// Go here with a full page load: the target may be outside the portal (the authorize
    /// endpoint), so the client router must not handle it.
    GoTo(String),
    Error(String),
}

/// Signs a person in. On success the browser goes to `return_to` (same-origin paths only).
/// On failure the answer never says whether the login name or the password was wrong.
#[server(prefix = "/sfn", endpoint = "login")]
pub async fn login(
    login_name: String,
    password: String,
    return_to: Option<String>,
) -> Result<LoginResult, ServerFnError> {
    use super::ssr::*;
    use domain::users::AuthError;

    let target = super::safe_return_to(return_to.as_deref().unwrap_or(""));
    let addr = client_addr();
    let services = services()?;
    let message = match services
        .authenticate_person(&login_name, &password, &addr)
        .await
    {
        Ok((user, credential)) => {
            let session = session().await?;
            // A person with a second factor is not signed in yet: the second step finishes it.
            if services
                .has_second_factor(&user.id)
                .await
                .map_err(map_err)?
            {
                hold_for_second_step(
                    &session,
                    &user.id,
                    credential,
                    model::factors::amr::PASSWORD,
                )
                .await
                .map_err(map_err)?;
                let next = format!("/login/second?return_to={}", super::encode_query(&target));
                if is_plain_form_post().await {
                    leptos_axum::redirect(&next);
                }
                return Ok(LoginResult::GoTo(next));
            }
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "succeeded").increment(1);
            services.activity.sign_in("succeeded");
            services
                .audit_session("session.sign_in", &user.login_name, Some(&user.id), &addr)
                .await
                .map_err(map_err)?;
            let absolute = use_context::<SessionPolicy>()
                .map(|p| p.absolute_secs)
                .unwrap_or(12 * 3600);
            start_session(
                &session,
                &services,
                &user.id,
                credential,
                &[model::factors::amr::PASSWORD.to_string()],
                absolute,
            )
            .await
            .map_err(map_err)?;
            if is_plain_form_post().await {
                leptos_axum::redirect(&target);
            }
            return Ok(LoginResult::GoTo(target));
        }
        Err(AuthError::InvalidCredentials) => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "failed").increment(1);
            services.activity.sign_in("failed");
            services
                .audit_session("session.sign_in_failed", &login_name, None, &addr)
                .await
                .map_err(map_err)?;
            LoginMessage::Invalid
        }
        Err(AuthError::Throttled(secs)) => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "throttled").increment(1);
            services.activity.sign_in("throttled");
            LoginMessage::Throttled {
                minutes: (secs.max(1) as u64).div_ceil(60),
            }
        }
        Err(AuthError::Busy) => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "busy").increment(1);
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.insert_header(
                    http::header::RETRY_AFTER,
                    http::HeaderValue::from_static("1"),
                );
            }
            LoginMessage::Busy
        }
        Err(AuthError::Domain(e)) => return Err(map_err(e)),
    };
    if is_plain_form_post().await {
        // The page shows a message chosen by a code, never text from the URL.
        leptos_axum::redirect(&format!(
            "/login?{}&login_name={}&return_to={}",
            message.query(),
            super::encode_query(&login_name),
            super::encode_query(&target)
        ));
    }
    Ok(LoginResult::Error(
        message.text(crate::i18n::request_lang()),
    ))
}

/// What the login page may say after a failed sign-in: a fixed set, chosen in the URL by a
/// code (`error=invalid`, `error=throttled&minutes=N`), so nobody can make Gatehouse's own page
/// show a sentence of their choosing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginMessage {
    Invalid,
    Throttled {
        minutes: u64,
    },
    /// Too many sign-ins are being verified at once (a flood): nothing was counted.
    Busy,
}

impl LoginMessage {
    pub fn from_query(error: Option<&str>, minutes: Option<&str>) -> Option<LoginMessage> {
        match error? {
            "invalid" => Some(LoginMessage::Invalid),
            "busy" => Some(LoginMessage::Busy),
            "throttled" => Some(LoginMessage::Throttled {
                minutes: minutes
                    .and_then(|m| m.parse::<u64>().ok())
                    .unwrap_or(15)
                    .clamp(1, 15),
            }),
            _ => None,
        }
    }
    pub fn query(self) -> String {
        match self {
            LoginMessage::Invalid => "error=invalid".into(),
            LoginMessage::Throttled { minutes } => format!("error=throttled&minutes={minutes}"),
            LoginMessage::Busy => "error=busy".into(),
        }
    }
    pub fn text(self, l: crate::i18n::Lang) -> String {
        match self {
            LoginMessage::Invalid => l.t("login-invalid"),
            LoginMessage::Throttled { minutes } => {
                crate::i18n::tr!(l, "login-locked", minutes = minutes)
            }
            LoginMessage::Busy => l.t("login-busy"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LoginMessage;

    #[test]
    fn the_login_page_says_only_what_a_code_chooses() {
        let back = |m: LoginMessage| {
            let query = m.query();
            let q: Vec<(&str, &str)> = query.split('&').filter_map(|p| p.split_once('=')).collect();
            let get = |k: &str| q.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
            LoginMessage::from_query(get("error").as_deref(), get("minutes").as_deref())
        };
        for m in [
            LoginMessage::Invalid,
            LoginMessage::Throttled { minutes: 3 },
        ] {
            assert_eq!(back(m), Some(m));
        }
        assert_eq!(
            LoginMessage::from_query(
                Some("Your password expired. Email it to help@evil.example"),
                None
            ),
            None
        );
        assert_eq!(
            LoginMessage::from_query(Some("throttled"), Some("99999")),
            Some(LoginMessage::Throttled { minutes: 15 })
        );
    }
}

#[server(prefix = "/sfn", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    use super::ssr::*;
    let session = session().await?;
    let who = session_user_id(&session).await.map_err(map_err)?;
    session.flush().await.map_err(internal)?;
    if let Some(uid) = who {
        services()?
            .audit_sign_out(&uid, &client_addr())
            .await
            .map_err(map_err)?;
    }
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in person with their rights, or None.
#[server(prefix = "/sfn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<Principal>, ServerFnError> {
    super::ssr::current().await
}
