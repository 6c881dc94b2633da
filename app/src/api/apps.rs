//! Server functions of the Apps screens, and the app screen's form as the browser holds it:
//! the shared model `App` as typed, with the row operations a form without JavaScript posts.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

pub use model::apps::{App, AuthMethod, Change, ClientIdType, ClientRegistration, TokenType};
pub use model::scopes::Scope;

use super::FormResult;
use crate::i18n::Lang;

/// Apps per page in the portal's list.
pub const APPS_PAGE: i64 = 50;

/// The units a lifetime can be typed in.
pub const UNITS: [(&str, i64); 4] = [
    ("seconds", 1),
    ("minutes", 60),
    ("hours", 3600),
    ("days", 86400),
];

/// A lifetime as the form holds it: the number as typed and its unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifetime {
    pub value: String,
    pub unit: String,
}

impl Lifetime {
    /// In the largest unit that divides `secs` evenly.
    pub fn from_secs(secs: i64) -> Self {
        let (name, n) = UNITS
            .iter()
            .rev()
            .find(|(_, n)| secs % n == 0)
            .copied()
            .unwrap_or(("seconds", 1));
        Lifetime {
            value: (secs / n).to_string(),
            unit: name.to_string(),
        }
    }
    /// Seconds, when the number is a whole number in a known unit.
    pub fn secs(&self) -> Option<i64> {
        let n: i64 = self.value.trim().parse().ok()?;
        let m = UNITS
            .iter()
            .find(|(u, _)| *u == self.unit)
            .map(|(_, m)| *m)?;
        n.checked_mul(m)
    }
}

/// The app screen's state: the app as typed (also while it is not valid), the lifetimes as
/// typed, and whether it is a new app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppForm {
    pub is_new: bool,
    pub app: App,
    pub token_lifetime: Lifetime,
    pub refresh_lifetime: Lifetime,
}

/// What the app screen shows: the form, the outcome of the last save, every role name and the
/// public URL (for the endpoint list).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditorData {
    pub form: AppForm,
    pub outcome: Option<FormResult>,
    pub roles: Vec<String>,
    pub public_url: String,
}

/// The app screen as a plain form post re-renders it (no JavaScript): the server provides it
/// as context and `load_editor` answers with it instead of the stored app.
#[derive(Clone, Debug)]
pub struct PostedEditor(pub EditorData);

/// What a button of the app screen asks for. Without JavaScript every button submits the form
/// with `name="op"` and one of these values; with JavaScript the rows change in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormOp {
    Save,
    AddRedirect,
    RemoveRedirect(usize),
    AddLogoutRedirect,
    RemoveLogoutRedirect(usize),
    AddResource,
    RemoveResource(usize),
    AddScope,
    RemoveScope(usize),
    AddRegex(usize),
    RemoveRegex(usize, usize),
}

impl FormOp {
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split(':');
        let name = parts.next()?;
        let mut num = || parts.next().and_then(|n| n.parse::<usize>().ok());
        Some(match name {
            "save" => FormOp::Save,
            "add_redirect" => FormOp::AddRedirect,
            "remove_redirect" => FormOp::RemoveRedirect(num()?),
            "add_logout_redirect" => FormOp::AddLogoutRedirect,
            "remove_logout_redirect" => FormOp::RemoveLogoutRedirect(num()?),
            "add_resource" => FormOp::AddResource,
            "remove_resource" => FormOp::RemoveResource(num()?),
            "add_scope" => FormOp::AddScope,
            "remove_scope" => FormOp::RemoveScope(num()?),
            "add_regex" => FormOp::AddRegex(num()?),
            "remove_regex" => {
                let i = num()?;
                FormOp::RemoveRegex(i, num()?)
            }
            _ => return None,
        })
    }
    pub fn value(self) -> String {
        match self {
            FormOp::Save => "save".into(),
            FormOp::AddRedirect => "add_redirect".into(),
            FormOp::RemoveRedirect(i) => format!("remove_redirect:{i}"),
            FormOp::AddLogoutRedirect => "add_logout_redirect".into(),
            FormOp::RemoveLogoutRedirect(i) => format!("remove_logout_redirect:{i}"),
            FormOp::AddResource => "add_resource".into(),
            FormOp::RemoveResource(i) => format!("remove_resource:{i}"),
            FormOp::AddScope => "add_scope".into(),
            FormOp::RemoveScope(i) => format!("remove_scope:{i}"),
            FormOp::AddRegex(i) => format!("add_regex:{i}"),
            FormOp::RemoveRegex(i, j) => format!("remove_regex:{i}:{j}"),
        }
    }
}

/// `scopes[3].rest_regexes` → (3, "rest_regexes").
fn scope_field(name: &str) -> Option<(usize, &str)> {
    let rest = name.strip_prefix("scopes[")?;
    let (i, field) = rest.split_once("].")?;
    Some((i.parse().ok()?, field))
}

impl AppForm {
    pub fn from_app(app: App, is_new: bool) -> Self {
        AppForm {
            is_new,
            token_lifetime: Lifetime::from_secs(app.token_lifetime_secs),
            refresh_lifetime: Lifetime::from_secs(app.refresh_token_lifetime_secs),
            app,
        }
    }

    /// The form as a browser posts it (`application/x-www-form-urlencoded` pairs), every typed
    /// value kept, and the button that was pressed (Save when none: Enter in a field).
    pub fn from_pairs(pairs: &[(String, String)]) -> (Self, FormOp) {
        let mut app = App::new_app();
        app.auth_methods.clear();
        let mut form = AppForm::from_app(app, false);
        let mut op = FormOp::Save;
        let a = &mut form.app;
        for (k, v) in pairs {
            match k.as_str() {
                "op" => op = FormOp::parse(v).unwrap_or(FormOp::Save),
                "is_new" => form.is_new = v == "true",
                "app_id" => a.app_id = v.clone(),
                "name" => a.name = v.clone(),
                "description" => a.description = v.clone(),
                "category" => a.category = v.clone(),
                "client_id_type" => {
                    if let Some(t) = ClientIdType::parse(v) {
                        a.client_id_type = t;
                    }
                }
                "allowed_clients" => {
                    a.allowed_clients = v
                        .lines()
                        .map(|l| l.trim().to_string())
                        .filter(|l| !l.is_empty())
                        .collect()
                }
                "issuer" => {
                    a.issuer = v.clone();
                    a.issuer_is_default = v.trim().is_empty();
                }
                "redirect_uris" => a.redirect_uris.push(v.clone()),
                "post_logout_redirect_uris" => a.post_logout_redirect_uris.push(v.clone()),
                "resources" => a.resources.push(v.clone()),
                "client_registration" => {
                    if let Some(r) = ClientRegistration::parse(v) {
                        a.client_registration = r;
                    }
                }
                "token_type" => {
                    if let Some(t) = TokenType::parse(v) {
                        a.token_type = t;
                    }
                }
                "auth_methods" => {
                    if let Some(m) = AuthMethod::parse(v) {
                        if !a.auth_methods.contains(&m) {
                            a.auth_methods.push(m);
                        }
                    }
                }
                "token_lifetime" => form.token_lifetime.value = v.clone(),
                "token_lifetime_unit" => form.token_lifetime.unit = v.clone(),
                "issue_refresh_tokens" => a.issue_refresh_tokens = true,
                "refresh_lifetime" => form.refresh_lifetime.value = v.clone(),
                "refresh_lifetime_unit" => form.refresh_lifetime.unit = v.clone(),
                "user_must_confirm" => a.user_must_confirm = true,
                "require_mfa" => a.require_mfa = true,
                "require_par" => a.require_par = true,
                "require_dpop" => a.require_dpop = true,
                "client_id_metadata_documents" => a.client_id_metadata_documents = true,
                "user_access_roles" => {
                    if !a.user_access_roles.contains(v) {
                        a.user_access_roles.push(v.clone())
                    }
                }
                other => {
                    // Scope rows: indexes as posted, at most a few hundred of them.
                    if let Some((i, field)) = scope_field(other).filter(|(i, _)| *i < 1000) {
                        while a.scopes.len() <= i {
                            a.scopes.push(Scope {
                                name: String::new(),
                                description: String::new(),
                                rest_regexes: vec![],
                            });
                        }
                        let s = &mut a.scopes[i];
                        match field {
                            "name" => s.name = v.clone(),
                            "description" => s.description = v.clone(),
                            "rest_regexes" => s.rest_regexes.push(v.clone()),
                            _ => {}
                        }
                    }
                }
            }
        }
        (form, op)
    }

    /// Adds or removes a row in place; indexes out of range change nothing.
    pub fn apply(&mut self, op: FormOp) {
        let a = &mut self.app;
        match op {
            FormOp::Save => {}
            FormOp::AddRedirect => a.redirect_uris.push(String::new()),
            FormOp::RemoveRedirect(i) if i < a.redirect_uris.len() => {
                a.redirect_uris.remove(i);
            }
            FormOp::AddLogoutRedirect => a.post_logout_redirect_uris.push(String::new()),
            FormOp::RemoveLogoutRedirect(i) if i < a.post_logout_redirect_uris.len() => {
                a.post_logout_redirect_uris.remove(i);
            }
            FormOp::AddResource => a.resources.push(String::new()),
            FormOp::RemoveResource(i) if i < a.resources.len() => {
                a.resources.remove(i);
            }
            FormOp::AddScope => a.scopes.push(Scope {
                name: String::new(),
                description: String::new(),
                rest_regexes: vec![String::new()],
            }),
            FormOp::RemoveScope(i) if i < a.scopes.len() => {
                a.scopes.remove(i);
            }
            FormOp::AddRegex(i) if i < a.scopes.len() => {
                a.scopes[i].rest_regexes.push(String::new())
            }
            FormOp::RemoveRegex(i, j)
                if i < a.scopes.len() && j < a.scopes[i].rest_regexes.len() =>
            {
                a.scopes[i].rest_regexes.remove(j);
            }
            _ => {}
        }
    }

    /// The app to save: lifetimes in seconds, rows left empty dropped. A lifetime that is not a
    /// whole number is the error of its field, said in `l`.
    pub fn to_app(&self, l: Lang) -> Result<App, FormResult> {
        let bad = |field: &str, message: String| FormResult {
            ok: false,
            message,
            field: Some(field.into()),
            id: None,
        };
        let mut a = self.app.clone();
        a.token_lifetime_secs = self
            .token_lifetime
            .secs()
            .ok_or_else(|| bad("token_lifetime_secs", l.t("apps-token-lifetime-whole")))?;
        a.refresh_token_lifetime_secs = self.refresh_lifetime.secs().ok_or_else(|| {
            bad(
                "refresh_token_lifetime_secs",
                l.t("apps-refresh-lifetime-whole"),
            )
        })?;
        a.app_id = a.app_id.trim().to_string();
        a.redirect_uris.retain(|u| !u.trim().is_empty());
        a.post_logout_redirect_uris.retain(|u| !u.trim().is_empty());
        a.resources.retain(|u| !u.trim().is_empty());
        for s in &mut a.scopes {
            s.rest_regexes.retain(|r| !r.trim().is_empty());
        }
        Ok(a)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppList {
    pub items: Vec<App>,
    pub total: i64,
    pub categories: Vec<String>,
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
        items: page.items,
        total: page.total,
        categories,
    })
}

/// The app screen's data: the form a plain post re-renders when there is one, else the stored
/// app (or a new one).
#[server(prefix = "/sfn", endpoint = "apps/editor")]
pub async fn load_editor(app_id: Option<String>) -> Result<EditorData, ServerFnError> {
    use super::ssr::*;
    if let Some(PostedEditor(mut data)) = use_context::<PostedEditor>() {
        // The plain post was saved outside this render, where the request's language is not at
        // hand: a lifetime error it found (the form's own check, run first) is said again here
        // in the page's language.
        if data.outcome.as_ref().is_some_and(|o| !o.ok) {
            if let Err(f) = data.form.to_app(crate::i18n::request_lang()) {
                data.outcome = Some(f);
            }
        }
        return Ok(data);
    }
    let p = principal().await?;
    let s = services()?;
    let form = match app_id.filter(|a| !a.is_empty()) {
        Some(id) => AppForm::from_app((*s.get_app(&p, &id).await.map_err(map_err)?).clone(), false),
        None => AppForm::from_app(App::new_app(), true),
    };
    editor_data(&s, &p, form, None).await.map_err(map_err)
}

/// Saves the whole app (creates it when new). Field errors come back with their JSON path.
#[server(prefix = "/sfn", endpoint = "apps/save", input = Json)]
pub async fn save_app(form: AppForm) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    ssr::save(&services()?, &p, &form).await.map_err(map_err)
}

#[server(prefix = "/sfn", endpoint = "apps/changelog")]
pub async fn app_changelog(app_id: String) -> Result<Vec<Change>, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let page = services()?
        .app_changelog(&p, &app_id, 200, 0)
        .await
        .map_err(map_err)?;
    Ok(page.items)
}

#[server(prefix = "/sfn", endpoint = "apps/delete")]
pub async fn delete_app(app_id: String) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let l = crate::i18n::request_lang();
    let r = form_result(services()?.delete_app(&p, &app_id).await, |_| {
        FormResult::saved(&l.t("apps-deleted"), None)
    })?;
    if r.ok {
        leptos_axum::redirect("/admin/apps");
    }
    Ok(r)
}

#[cfg(feature = "ssr")]
pub use ssr::{editor_data, save};

#[cfg(feature = "ssr")]
mod ssr {
    use domain::apps::AppFields;
    use domain::{DomainError, Principal, Services};

    use super::{AppForm, EditorData};
    use crate::api::FormResult;

    /// The editor's data around `form`: every role name and the public URL.
    pub async fn editor_data(
        s: &Services,
        p: &Principal,
        form: AppForm,
        outcome: Option<FormResult>,
    ) -> Result<EditorData, DomainError> {
        let roles = s.role_names(p).await?.into_iter().map(|(_, n)| n).collect();
        Ok(EditorData {
            form,
            outcome,
            roles,
            public_url: s.public_url.clone(),
        })
    }

    /// Creates or updates the app of `form`: the outcome for the form (a field's error when the
    /// rules refuse it); only an unexpected failure is an error.
    pub async fn save(
        s: &Services,
        p: &Principal,
        form: &AppForm,
    ) -> Result<FormResult, DomainError> {
        // The request's language in a server function; outside a render (the plain post's
        // handler) the default, and `load_editor` says a lifetime error again in the page's.
        let l = crate::i18n::request_lang();
        let app = match form.to_app(l) {
            Ok(a) => a,
            Err(f) => return Ok(f),
        };
        let id = app.app_id.clone();
        let fields = AppFields::from(app);
        let r = if form.is_new {
            s.create_app(p, fields)
                .await
                .map(|a| FormResult::saved(&l.t("apps-created"), Some(a.app_id)))
        } else {
            s.update_app(p, &id, fields)
                .await
                .map(|a| FormResult::saved(&l.t("saved"), Some(a.app_id)))
        };
        match r {
            Ok(f) => Ok(f),
            Err(DomainError::Validation { field, message }) => Ok(refused(Some(field), message)),
            Err(DomainError::Duplicate { field, message })
            | Err(DomainError::Unknown { field, message }) => Ok(refused(Some(field), message)),
            Err(DomainError::Conflict(m)) | Err(DomainError::Forbidden(m)) => Ok(refused(None, m)),
            Err(e) => Err(e),
        }
    }

    fn refused(field: Option<String>, message: String) -> FormResult {
        FormResult {
            ok: false,
            message,
            field,
            id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_posted_form_keeps_every_typed_value_and_its_rows() {
        let (form, op) = AppForm::from_pairs(&pairs(&[
            ("is_new", "true"),
            ("app_id", "web"),
            ("name", "Web"),
            ("client_id_type", "list"),
            ("allowed_clients", "a\n\nb "),
            ("redirect_uris", "https://a.example/cb"),
            ("redirect_uris", "not a uri"),
            ("token_type", "opaque"),
            ("auth_methods", "authorization_code"),
            ("auth_methods", "bogus"),
            ("token_lifetime", "abc"),
            ("token_lifetime_unit", "hours"),
            ("scopes[0].name", "read"),
            ("scopes[0].rest_regexes", "api/.*"),
            ("scopes[0].rest_regexes", "("),
            ("scopes[1].name", "write"),
            ("user_access_roles", "Everybody"),
            ("op", "remove_regex:0:1"),
        ]));
        assert!(form.is_new);
        assert_eq!(op, FormOp::RemoveRegex(0, 1));
        assert_eq!(form.app.client_id_type, ClientIdType::List);
        assert_eq!(form.app.allowed_clients, vec!["a", "b"]);
        assert_eq!(
            form.app.redirect_uris,
            vec!["https://a.example/cb", "not a uri"]
        );
        assert_eq!(form.app.auth_methods, vec![AuthMethod::AuthorizationCode]);
        assert_eq!(form.token_lifetime.value, "abc");
        assert_eq!(form.app.scopes[0].rest_regexes, vec!["api/.*", "("]);
        assert_eq!(form.app.scopes[1].name, "write");
        assert_eq!(
            form.to_app(Lang::En).err().and_then(|f| f.field),
            Some("token_lifetime_secs".into())
        );
    }

    #[test]
    fn row_operations_change_only_their_row() {
        let mut form = AppForm::from_app(App::new_app(), true);
        form.apply(FormOp::AddRedirect);
        form.apply(FormOp::AddRedirect);
        form.app.redirect_uris[1] = "https://b.example/cb".into();
        form.apply(FormOp::RemoveRedirect(0));
        assert_eq!(form.app.redirect_uris, vec!["https://b.example/cb"]);
        form.apply(FormOp::AddScope);
        form.apply(FormOp::AddRegex(0));
        assert_eq!(form.app.scopes[0].rest_regexes.len(), 2);
        form.apply(FormOp::RemoveRegex(0, 5));
        form.apply(FormOp::RemoveScope(3));
        assert_eq!(form.app.scopes[0].rest_regexes.len(), 2);
        form.apply(FormOp::RemoveScope(0));
        assert!(form.app.scopes.is_empty());
        for op in [
            FormOp::Save,
            FormOp::AddScope,
            FormOp::RemoveRegex(2, 7),
            FormOp::AddRegex(4),
        ] {
            assert_eq!(FormOp::parse(&op.value()), Some(op));
        }
        assert_eq!(FormOp::parse("remove_regex:1"), None);
    }

    #[test]
    fn lifetimes_show_in_their_largest_unit() {
        assert_eq!(
            Lifetime::from_secs(18_000),
            Lifetime {
                value: "5".into(),
                unit: "hours".into()
            }
        );
        assert_eq!(Lifetime::from_secs(90).secs(), Some(90));
        assert_eq!(Lifetime::from_secs(86_400 * 30).unit, "days");
    }
}
