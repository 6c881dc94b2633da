//! Server functions of the Apps screens.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use super::FormResult;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScopeView {
    pub name: String,
    pub description: String,
    pub rest_regexes: Vec<String>,
}

/// An app as the editor holds it; enums as their JSON names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppView {
    pub app_id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub client_id_type: String,
    pub allowed_clients: Vec<String>,
    /// The override, empty for the default.
    pub issuer: String,
    pub effective_issuer: String,
    pub redirect_uris: Vec<String>,
    pub token_type: String,
    pub auth_methods: Vec<String>,
    pub token_lifetime_secs: i64,
    pub issue_refresh_tokens: bool,
    pub refresh_token_lifetime_secs: i64,
    pub user_must_confirm: bool,
    pub scopes: Vec<ScopeView>,
    pub user_access_roles: Vec<String>,
}

impl AppView {
    pub fn new_app() -> Self {
        AppView {
            app_id: String::new(),
            name: String::new(),
            description: String::new(),
            category: "Other".into(),
            client_id_type: "confidential".into(),
            allowed_clients: vec![],
            issuer: String::new(),
            effective_issuer: String::new(),
            redirect_uris: vec![],
            token_type: "jwt_rs256".into(),
            auth_methods: vec!["client_credentials".into()],
            token_lifetime_secs: 18_000,
            issue_refresh_tokens: false,
            refresh_token_lifetime_secs: 30 * 24 * 3600,
            user_must_confirm: false,
            scopes: vec![],
            user_access_roles: vec![],
        }
    }
}

/// What the editor needs: the app (None for a new one), every role name, the public URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditorData {
    pub app: Option<AppView>,
    pub roles: Vec<String>,
    pub public_url: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppRow {
    pub app_id: String,
    pub name: String,
    pub category: String,
    pub token_type: String,
    pub auth_methods: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppList {
    pub items: Vec<AppRow>,
    pub total: i64,
    pub categories: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeView {
    pub at: String,
    pub actor: String,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Apps per page in the portal's list.
pub const APPS_PAGE: i64 = 50;

#[cfg(feature = "ssr")]
fn enum_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(feature = "ssr")]
impl From<domain::apps::App> for AppView {
    fn from(a: domain::apps::App) -> Self {
        AppView {
            issuer: if a.issuer_is_default {
                String::new()
            } else {
                a.issuer.clone()
            },
            effective_issuer: a.issuer,
            app_id: a.app_id,
            name: a.name,
            description: a.description,
            category: a.category,
            client_id_type: enum_name(&a.client_id_type),
            allowed_clients: a.allowed_clients,
            redirect_uris: a.redirect_uris,
            token_type: enum_name(&a.token_type),
            auth_methods: a
                .auth_methods
                .iter()
                .map(|m| m.as_str().to_string())
                .collect(),
            token_lifetime_secs: a.token_lifetime_secs,
            issue_refresh_tokens: a.issue_refresh_tokens,
            refresh_token_lifetime_secs: a.refresh_token_lifetime_secs,
            user_must_confirm: a.user_must_confirm,
            scopes: a
                .scopes
                .into_iter()
                .map(|s| ScopeView {
                    name: s.name,
                    description: s.description,
                    rest_regexes: s.rest_regexes,
                })
                .collect(),
            user_access_roles: a.user_access_roles,
        }
    }
}

#[server(prefix = "/sfn", endpoint = "apps/list")]
pub async fn list_apps(q: String, category: String, offset: i64) -> Result<AppList, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let s = services()?;
    let page = s
        .list_apps(&p, Some(&category), Some(&q), APPS_PAGE, offset)
        .await
        .map_err(map_err)?;
    let categories = s.app_categories(&p).await.map_err(map_err)?;
    Ok(AppList {
        items: page
            .items
            .into_iter()
            .map(|a| AppRow {
                token_type: if a.token_type == domain::apps::TokenType::Opaque {
                    "Opaque".into()
                } else {
                    "JwtRS256".into()
                },
                auth_methods: a
                    .auth_methods
                    .iter()
                    .map(|m| m.as_str().to_string())
                    .collect(),
                app_id: a.app_id,
                name: a.name,
                category: a.category,
            })
            .collect(),
        total: page.total,
        categories,
    })
}

#[server(prefix = "/sfn", endpoint = "apps/editor")]
pub async fn load_editor(app_id: Option<String>) -> Result<EditorData, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let s = services()?;
    let app = match app_id.filter(|a| !a.is_empty()) {
        Some(id) => Some(s.get_app(&p, &id).await.map_err(map_err)?.into()),
        None => None,
    };
    let roles = s
        .role_names(&p)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    Ok(EditorData {
        app,
        roles,
        public_url: s.public_url.clone(),
    })
}

/// Saves the whole app (create when `is_new`). Field errors come back with their JSON path.
#[server(prefix = "/sfn", endpoint = "apps/save", input = Json)]
pub async fn save_app(is_new: bool, app: AppView) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    use domain::apps::AppFields;
    use domain::scopes::Scope;
    let p = principal().await?;
    let fields = AppFields {
        app_id: Some(app.app_id.trim().to_string()),
        name: Some(app.name),
        description: Some(app.description),
        category: Some(app.category),
        client_id_type: Some(app.client_id_type),
        allowed_clients: Some(
            app.allowed_clients
                .into_iter()
                .filter(|c| !c.trim().is_empty())
                .collect(),
        ),
        issuer: Some(app.issuer),
        redirect_uris: Some(app.redirect_uris),
        token_type: Some(app.token_type),
        auth_methods: Some(app.auth_methods),
        token_lifetime_secs: Some(app.token_lifetime_secs),
        issue_refresh_tokens: Some(app.issue_refresh_tokens),
        refresh_token_lifetime_secs: Some(app.refresh_token_lifetime_secs),
        user_must_confirm: Some(app.user_must_confirm),
        scopes: Some(
            app.scopes
                .into_iter()
                .map(|s| Scope {
                    name: s.name,
                    description: s.description,
                    rest_regexes: s.rest_regexes,
                })
                .collect(),
        ),
        user_access_roles: Some(app.user_access_roles),
        ..Default::default()
    };
    let s = services()?;
    let id = app.app_id.trim().to_string();
    if is_new {
        form_result(s.create_app(&p, fields).await, |a| {
            FormResult::saved("App created.", Some(a.app_id))
        })
    } else {
        form_result(s.update_app(&p, &id, fields).await, |a| {
            FormResult::saved("Saved.", Some(a.app_id))
        })
    }
}

#[server(prefix = "/sfn", endpoint = "apps/changelog")]
pub async fn app_changelog(app_id: String) -> Result<Vec<ChangeView>, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let page = services()?
        .app_changelog(&p, &app_id, 200, 0)
        .await
        .map_err(map_err)?;
    Ok(page
        .items
        .into_iter()
        .map(|c| ChangeView {
            at: c.at,
            actor: c.actor,
            field: c.field,
            old: c.old,
            new: c.new,
        })
        .collect())
}

#[server(prefix = "/sfn", endpoint = "apps/delete")]
pub async fn delete_app(app_id: String) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let r = form_result(services()?.delete_app(&p, &app_id).await, |_| {
        FormResult::saved("App deleted.", None)
    })?;
    if r.ok {
        leptos_axum::redirect("/admin/apps");
    }
    Ok(r)
}

/// The check the portal runs on a REST regex as it is typed; the server checks again on save
/// with the same anchoring (`(?i)^(?:re)$`).
pub fn check_rest_regex(re: &str) -> Option<String> {
    if re.trim().is_empty() {
        return Some("a REST regex may not be empty".into());
    }
    match regex::RegexBuilder::new(&format!("^(?:{})$", re.trim()))
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
    {
        Ok(_) => None,
        Err(e) => Some(format!(
            "invalid regex: {}",
            e.to_string()
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
        )),
    }
}
