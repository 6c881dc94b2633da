//! Server functions of the Users pages.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::FormResult;

pub use model::users::User;

/// A page of users.
pub type UserList = model::Page<User>;

/// A user with the roles they are an explicit member of, and every role to pick from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: User,
    pub roles: Vec<(String, String)>,
    /// The roles the signed-in administrator may add this user to.
    pub all_roles: Vec<(String, String)>,
    /// Whether the signed-in administrator may change this user (delegation never escalates:
    /// someone holding rights the administrator lacks is read-only to them).
    pub editable: bool,
    /// The person's second factors (SPEC §6a).
    #[serde(default)]
    pub factors: model::factors::Factors,
    /// Their accounts at upstream providers they sign in through (SPEC §6b).
    #[serde(default)]
    pub links: Vec<model::providers::UserLink>,
}

pub const PAGE_SIZE: i64 = 50;

#[server(prefix = "/sfn", endpoint = "users/list")]
pub async fn list_users(q: String, offset: i64) -> Result<UserList, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let page = services()?
        .list_users(
            &p,
            domain::users::UserFilter::Contains(&q),
            PAGE_SIZE,
            offset,
        )
        .await
        .map_err(map_err)?;
    Ok(page)
}

#[server(prefix = "/sfn", endpoint = "users/get")]
pub async fn get_user(id: String) -> Result<UserDetail, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let s = services()?;
    let user = s.get_user(&p, &id).await.map_err(map_err)?;
    let roles = s.roles_of_user(&p, &id).await.map_err(map_err)?;
    let all_roles = s.assignable_roles(&p).await.map_err(map_err)?;
    let editable = s.may_change_user(&p, &id).await.map_err(map_err)?;
    let factors = s.user_factors(&p, &id).await.map_err(map_err)?;
    let links = s.user_links(&p, &id).await.map_err(map_err)?.items;
    Ok(UserDetail {
        user,
        roles,
        all_roles,
        editable,
        factors,
        links,
    })
}

/// Form checkboxes arrive as "on"/"true" when ticked and not at all otherwise.
/// The form's JWK set text: empty is `null` (no keys), otherwise it must be JSON; what a key
/// set must hold is the domain's rule.
pub fn jwks_field(
    text: Option<String>,
    l: crate::i18n::Lang,
) -> Result<Option<serde_json::Value>, FormResult> {
    let text = text.unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(Some(serde_json::Value::Null));
    }
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| FormResult {
            ok: false,
            message: crate::i18n::tr!(l, "users-jwks-not-json", detail = e.to_string()),
            field: Some("jwks".into()),
            id: None,
        })
}

pub fn ticked(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("on") | Some("true") | Some("1"))
}

#[server(prefix = "/sfn", endpoint = "users/create")]
#[allow(clippy::too_many_arguments)]
pub async fn create_user(
    login_name: String,
    email: String,
    display_name: String,
    password: String,
    confirm_password: String,
    is_oauth_confidential_client: Option<String>,
    enabled: Option<String>,
    return_to: Option<String>,
    jwks: Option<String>,
) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    let jwks = match jwks_field(jwks, l) {
        Ok(j) => j,
        Err(r) => return Ok(r),
    };
    if password != confirm_password {
        return Ok(FormResult {
            ok: false,
            message: l.t("users-passwords-differ"),
            field: Some("confirm_password".into()),
            id: None,
        });
    }
    let new = domain::users::NewUser {
        login_name,
        email,
        display_name,
        password,
        is_oauth_confidential_client: ticked(&is_oauth_confidential_client),
        enabled: ticked(&enabled),
        jwks: jwks.filter(|j| !j.is_null()),
    };
    let r = form_result(services()?.create_user(&p, new).await, |u| {
        FormResult::saved(&l.t("users-created"), Some(u.id))
    })?;
    if let (true, Some(id)) = (r.ok, &r.id) {
        match return_to.filter(|s| !s.is_empty()) {
            Some(back) => leptos_axum::redirect(&super::safe_return_to(&back)),
            None => leptos_axum::redirect(&format!("/admin/users/{id}?saved=created")),
        }
    }
    Ok(r)
}

#[server(prefix = "/sfn", endpoint = "users/update")]
#[allow(clippy::too_many_arguments)]
pub async fn update_user(
    id: String,
    login_name: String,
    email: String,
    display_name: String,
    password: Option<String>,
    confirm_password: Option<String>,
    is_oauth_confidential_client: Option<String>,
    enabled: Option<String>,
    jwks: Option<String>,
) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    let jwks = match jwks_field(jwks, l) {
        Ok(j) => j,
        Err(r) => return Ok(r),
    };
    let password = password.filter(|s| !s.is_empty());
    if password.is_some() && password != confirm_password {
        return Ok(FormResult {
            ok: false,
            message: l.t("users-passwords-differ"),
            field: Some("confirm_password".into()),
            id: None,
        });
    }
    let patch = domain::users::UserPatch {
        login_name: Some(login_name),
        email: Some(email),
        display_name: Some(display_name),
        password,
        is_oauth_confidential_client: Some(ticked(&is_oauth_confidential_client)),
        enabled: Some(ticked(&enabled)),
        jwks,
    };
    let s = services()?;
    let updated = s.update_user(&p, &id, patch).await;
    if updated.is_ok() && p.user_id == id {
        keep_session(&session().await?, &s, &id)
            .await
            .map_err(map_err)?;
    }
    form_result(updated, |u| FormResult::saved(&l.t("saved"), Some(u.id)))
}

/// Removes every second factor of a person who lost theirs (audited).
#[server(prefix = "/sfn", endpoint = "users/reset_factors")]
pub async fn reset_user_factors(id: String) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    form_result(services()?.reset_factors(&p, &id).await, |_| {
        FormResult::saved(&l.t("users-factors-removed"), None)
    })
}

/// Removes the user's link to an upstream provider: their next sign-in there is a first one.
#[server(prefix = "/sfn", endpoint = "users/unlink")]
pub async fn unlink_user(id: String, provider_id: String) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    form_result(
        services()?.remove_user_link(&p, &id, &provider_id).await,
        |_| FormResult::saved(&l.t("users-link-removed"), None),
    )
}

#[server(prefix = "/sfn", endpoint = "users/delete")]
pub async fn delete_user(id: String) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    let r = form_result(services()?.delete_user(&p, &id).await, |_| {
        FormResult::saved(&l.t("users-deleted"), None)
    })?;
    if r.ok {
        leptos_axum::redirect("/admin/users");
    }
    Ok(r)
}
