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
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "succeeded").increment(1);
            services.activity.sign_in("succeeded");
            services
                .audit_session("session.sign_in", &user.login_name, Some(&user.id), &addr)
                .await
                .map_err(map_err)?;
            let session = session().await?;
            // A new id on sign-in defeats session fixation.
            session.cycle_id().await.map_err(internal)?;
            session
                .insert(SESSION_USER, user.id)
                .await
                .map_err(internal)?;
            session
                .insert(SESSION_CREDENTIAL, credential)
                .await
                .map_err(internal)?;
            let absolute = use_context::<SessionPolicy>()
                .map(|p| p.absolute_secs)
                .unwrap_or(12 * 3600);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .map_err(internal)?;
            session
                .insert(SESSION_UNTIL, now.saturating_add(absolute))
                .await
                .map_err(internal)?;
            session
                .insert(SESSION_AUTH_TIME, now)
                .await
                .map_err(internal)?;
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
            "Invalid login name or password.".to_string()
        }
        Err(AuthError::Throttled(secs)) => {
            metrics::counter!("gatehouse_sign_ins_total", "outcome" => "throttled").increment(1);
            services.activity.sign_in("throttled");
            format!(
                "Too many failed attempts. Try again in {} minute(s).",
                (secs + 59) / 60
            )
        }
        Err(AuthError::Domain(e)) => return Err(map_err(e)),
    };
    if is_plain_form_post().await {
        leptos_axum::redirect(&format!(
            "/login?error={}&login_name={}&return_to={}",
            super::encode_query(&message),
            super::encode_query(&login_name),
            super::encode_query(&target)
        ));
    }
    Ok(LoginResult::Error(message))
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
