//! Server functions of the Roles pages.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::FormResult;

pub use model::roles::Role;

/// A role with its members' names and every user that could be added (first page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleDetail {
    pub role: Role,
    /// (user id, login name)
    pub members: Vec<(String, String)>,
    /// Whether the signed-in administrator may change the role and its members: a System
    /// Administrator, or one holding every right the role gives (never System Administrator or
    /// Everybody).
    pub editable: bool,
}

#[server(prefix = "/sfn", endpoint = "roles/list")]
pub async fn list_roles() -> Result<Vec<Role>, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let page = services()?.list_roles(&p, 500, 0).await.map_err(map_err)?;
    Ok(page.items)
}

#[server(prefix = "/sfn", endpoint = "roles/get")]
pub async fn get_role(id: String) -> Result<RoleDetail, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let s = services()?;
    let role = s.get_role(&p, &id).await.map_err(map_err)?;
    let members = s.role_member_names(&p, &id).await.map_err(map_err)?;
    let editable = p.sysadmin || (role.builtin.is_none() && p.holds_all(&role.admin_rights));
    Ok(RoleDetail {
        role,
        members,
        editable,
    })
}

#[cfg(feature = "ssr")]
fn rights_from_form(
    apps: &Option<String>,
    users: &Option<String>,
    roles: &Option<String>,
) -> Vec<String> {
    use super::users::ticked;
    [("apps", apps), ("users", users), ("roles", roles)]
        .into_iter()
        .filter(|(_, v)| ticked(v))
        .map(|(n, _)| n.to_string())
        .collect()
}

#[server(prefix = "/sfn", endpoint = "roles/create")]
pub async fn create_role(
    name: String,
    description: String,
    right_apps: Option<String>,
    right_users: Option<String>,
    right_roles: Option<String>,
) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    let new = domain::roles::NewRole {
        name,
        description,
        admin_rights: rights_from_form(&right_apps, &right_users, &right_roles),
    };
    let r = form_result(services()?.create_role(&p, new).await, |r| {
        FormResult::saved(&l.t("roles-created"), Some(r.id))
    })?;
    if let (true, Some(id)) = (r.ok, &r.id) {
        leptos_axum::redirect(&format!("/admin/roles/{id}?saved=created"));
    }
    Ok(r)
}

#[server(prefix = "/sfn", endpoint = "roles/update")]
pub async fn update_role(
    id: String,
    name: String,
    description: String,
    right_apps: Option<String>,
    right_users: Option<String>,
    right_roles: Option<String>,
) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    let patch = domain::roles::RolePatch {
        name: Some(name),
        description: Some(description),
        admin_rights: Some(rights_from_form(&right_apps, &right_users, &right_roles)),
    };
    form_result(services()?.update_role(&p, &id, patch).await, |r| {
        FormResult::saved(&l.t("saved"), Some(r.id))
    })
}

#[server(prefix = "/sfn", endpoint = "roles/delete")]
pub async fn delete_role(id: String) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    let r = form_result(services()?.delete_role(&p, &id).await, |_| {
        FormResult::saved(&l.t("roles-deleted"), None)
    })?;
    if r.ok {
        leptos_axum::redirect("/admin/roles");
    }
    Ok(r)
}

/// Adds a member by login name (the role page) or by user id (the user page).
#[server(prefix = "/sfn", endpoint = "roles/add_member")]
pub async fn add_member(
    role_id: String,
    login_name: Option<String>,
    user_id: Option<String>,
) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    let s = services()?;
    let uid = match (user_id.filter(|s| !s.is_empty()), login_name) {
        (Some(id), _) => id,
        (None, Some(login)) => match s.user_id_by_login(&p, &login).await.map_err(map_err)? {
            Some(id) => id,
            None => {
                return Ok(FormResult {
                    ok: false,
                    message: l.t("roles-no-such-login"),
                    field: Some("login_name".into()),
                    id: None,
                })
            }
        },
        (None, None) => {
            return Ok(FormResult {
                ok: false,
                message: l.t("roles-choose-user"),
                field: Some("login_name".into()),
                id: None,
            })
        }
    };
    form_result(s.add_role_member(&p, &role_id, &uid).await, |_| {
        FormResult::saved(&l.t("roles-member-added"), None)
    })
}

#[server(prefix = "/sfn", endpoint = "roles/remove_member")]
pub async fn remove_member(role_id: String, user_id: String) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    form_result(
        services()?.remove_role_member(&p, &role_id, &user_id).await,
        |_| FormResult::saved(&l.t("roles-member-removed"), None),
    )
}
