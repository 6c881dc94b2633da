//! OAuth2 client apps: every setting of the documents' "OAuth2 Client" app, validated in one
//! place for the portal and the API, with a changelog of every change (SPEC §2).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::{DomainError, Result};
use crate::names::{AppId, RedirectUri};
use crate::rights::{Principal, Right};
use crate::scopes::{validate_scopes, Scope};
use crate::store::{get_bool, now};
use crate::users::rfc3339;
use crate::{Page, Services};

pub const MIN_LIFETIME: i64 = 60;
pub const MAX_LIFETIME: i64 = 31_536_000;
pub const DEFAULT_LIFETIME: i64 = 18_000;
pub const DEFAULT_REFRESH_LIFETIME: i64 = 30 * 24 * 3600;
/// Refresh tokens may live up to ten years.
pub const MAX_REFRESH_LIFETIME: i64 = 10 * MAX_LIFETIME;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClientIdType {
    Anything,
    List,
    Confidential,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TokenType {
    #[serde(rename = "jwt_rs256")]
    JwtRs256,
    #[serde(rename = "opaque")]
    Opaque,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuthMethod {
    ClientCredentials,
    AuthorizationCode,
    Implicit,
    Password,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 4] = [
        AuthMethod::ClientCredentials,
        AuthMethod::AuthorizationCode,
        AuthMethod::Implicit,
        AuthMethod::Password,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientCredentials => "client_credentials",
            AuthMethod::AuthorizationCode => "authorization_code",
            AuthMethod::Implicit => "implicit",
            AuthMethod::Password => "password",
        }
    }
}

fn parse_enum<T: for<'de> Deserialize<'de>>(field: &str, s: &str, allowed: &str) -> Result<T> {
    serde_json::from_value(Value::String(s.trim().to_string()))
        .map_err(|_| DomainError::invalid(field, format!("{s:?} is not one of {allowed}")))
}

/// An app as the doors show it. `issuer` is the effective issuer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct App {
    pub app_id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub client_id_type: ClientIdType,
    pub allowed_clients: Vec<String>,
    pub issuer: String,
    /// True when `issuer` is the default `{public_url}/oauth2/{app_id}`.
    pub issuer_is_default: bool,
    pub redirect_uris: Vec<String>,
    pub token_type: TokenType,
    pub auth_methods: Vec<AuthMethod>,
    pub token_lifetime_secs: i64,
    pub issue_refresh_tokens: bool,
    pub refresh_token_lifetime_secs: i64,
    pub user_must_confirm: bool,
    pub scopes: Vec<Scope>,
    pub user_access_roles: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl App {
    pub fn allows(&self, m: AuthMethod) -> bool {
        self.auth_methods.contains(&m)
    }
    pub fn scope(&self, name: &str) -> Option<&Scope> {
        self.scopes.iter().find(|s| s.name == name)
    }
}

/// Any fields of an app, for create (app_id and name required) and partial update.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppFields {
    pub app_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub client_id_type: Option<String>,
    pub allowed_clients: Option<Vec<String>>,
    /// Empty resets to the default issuer.
    pub issuer: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub token_type: Option<String>,
    pub auth_methods: Option<Vec<String>>,
    pub token_lifetime_secs: Option<i64>,
    pub issue_refresh_tokens: Option<bool>,
    pub refresh_token_lifetime_secs: Option<i64>,
    pub user_must_confirm: Option<bool>,
    pub scopes: Option<Vec<Scope>>,
    pub user_access_roles: Option<Vec<String>>,
    /// Read-only fields a client may echo back from a read; ignored.
    #[serde(default)]
    pub issuer_is_default: Option<bool>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// The settings as stored (the issuer override separately from the effective one).
#[derive(Clone, Debug)]
struct Draft {
    app: App,
    issuer_override: Option<String>,
}

fn text(field: &str, label: &str, s: &str, min: usize, max: usize) -> Result<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min || n > max {
        return Err(DomainError::invalid(
            field,
            if min > 0 {
                format!("{label} must be {min}-{max} characters")
            } else {
                format!("{label} is at most {max} characters")
            },
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::invalid(
            field,
            format!("{label} may not contain control characters"),
        ));
    }
    Ok(t.to_string())
}

fn check_lifetime(field: &str, v: i64, max: i64) -> Result<i64> {
    if !(MIN_LIFETIME..=max).contains(&v) {
        return Err(DomainError::invalid(
            field,
            format!("must be between {MIN_LIFETIME} and {max} seconds"),
        ));
    }
    Ok(v)
}

fn check_issuer(s: &str) -> Result<Option<String>> {
    let s = s.trim().trim_end_matches('/');
    if s.is_empty() {
        return Ok(None);
    }
    let ok = (s.starts_with("https://") || s.starts_with("http://"))
        && !s.contains(['#', '?', ' '])
        && s.len() <= 1024;
    if !ok {
        return Err(DomainError::invalid(
            "issuer",
            "Issuer must be an absolute http(s) URL without query or fragment",
        ));
    }
    Ok(Some(s.to_string()))
}

impl Draft {
    fn defaults(app_id: &str, public_url: &str) -> Draft {
        Draft {
            app: App {
                app_id: app_id.to_string(),
                name: String::new(),
                description: String::new(),
                category: "Other".into(),
                client_id_type: ClientIdType::Confidential,
                allowed_clients: vec![],
                issuer: default_issuer(public_url, app_id),
                issuer_is_default: true,
                redirect_uris: vec![],
                token_type: TokenType::JwtRs256,
                auth_methods: vec![],
                token_lifetime_secs: DEFAULT_LIFETIME,
                issue_refresh_tokens: false,
                refresh_token_lifetime_secs: DEFAULT_REFRESH_LIFETIME,
                user_must_confirm: false,
                scopes: vec![],
                user_access_roles: vec![],
                created_at: String::new(),
                updated_at: String::new(),
            },
            issuer_override: None,
        }
    }

    /// Applies and validates every field present. Role names are resolved by the caller.
    fn apply(&mut self, f: AppFields, public_url: &str) -> Result<()> {
        let a = &mut self.app;
        if let Some(id) = &f.app_id {
            if id != &a.app_id {
                return Err(DomainError::invalid(
                    "app_id",
                    "Application ID cannot be changed after creation",
                ));
            }
        }
        if let Some(v) = &f.name {
            a.name = text("name", "Application Name", v, 1, 128)?;
        }
        if let Some(v) = &f.description {
            a.description = text("description", "Description", v, 0, 4096)?;
        }
        if let Some(v) = &f.category {
            let c = text("category", "Category", v, 0, 64)?;
            a.category = if c.is_empty() { "Other".into() } else { c };
        }
        if let Some(v) = &f.client_id_type {
            a.client_id_type = parse_enum("client_id_type", v, "anything, list, confidential")?;
        }
        if let Some(list) = f.allowed_clients {
            let mut out = Vec::new();
            for (i, c) in list.iter().enumerate() {
                let c = c.trim();
                if c.is_empty() || c.chars().count() > 128 || c.chars().any(char::is_whitespace) {
                    return Err(DomainError::invalid(
                        format!("allowed_clients[{i}]"),
                        "a client id is 1-128 characters without spaces",
                    ));
                }
                if !out.iter().any(|o: &String| o.eq_ignore_ascii_case(c)) {
                    out.push(c.to_string());
                }
            }
            a.allowed_clients = out;
        }
        if let Some(v) = &f.issuer {
            self.issuer_override = check_issuer(v)?;
        }
        if let Some(list) = f.redirect_uris {
            let mut out = Vec::new();
            for (i, u) in list.iter().enumerate() {
                let u =
                    RedirectUri::parse(u).map_err(|e| e.under(&format!("redirect_uris[{i}]")))?;
                if !out.contains(&u.as_str().to_string()) {
                    out.push(u.into_inner());
                }
            }
            if out.len() > 100 {
                return Err(DomainError::invalid(
                    "redirect_uris",
                    "at most 100 redirect URIs",
                ));
            }
            a.redirect_uris = out;
        }
        if let Some(v) = &f.token_type {
            a.token_type = parse_enum("token_type", v, "jwt_rs256, opaque")?;
        }
        if let Some(list) = &f.auth_methods {
            let mut out = Vec::new();
            for (i, m) in list.iter().enumerate() {
                let m: AuthMethod = parse_enum(
                    &format!("auth_methods[{i}]"),
                    m,
                    "client_credentials, authorization_code, implicit, password",
                )?;
                if !out.contains(&m) {
                    out.push(m);
                }
            }
            out.sort_by_key(|m| AuthMethod::ALL.iter().position(|x| x == m));
            a.auth_methods = out;
        }
        if let Some(v) = f.token_lifetime_secs {
            a.token_lifetime_secs = check_lifetime("token_lifetime_secs", v, MAX_LIFETIME)?;
        }
        if let Some(v) = f.issue_refresh_tokens {
            a.issue_refresh_tokens = v;
        }
        if let Some(v) = f.refresh_token_lifetime_secs {
            a.refresh_token_lifetime_secs =
                check_lifetime("refresh_token_lifetime_secs", v, MAX_REFRESH_LIFETIME)?;
        }
        if let Some(v) = f.user_must_confirm {
            a.user_must_confirm = v;
        }
        if let Some(s) = f.scopes {
            a.scopes = validate_scopes(s)?;
        }
        a.issuer = self
            .issuer_override
            .clone()
            .unwrap_or_else(|| default_issuer(public_url, &a.app_id));
        a.issuer_is_default = self.issuer_override.is_none();
        Ok(())
    }
}

pub fn default_issuer(public_url: &str, app_id: &str) -> String {
    format!("{public_url}/oauth2/{app_id}")
}

/// One changelog row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub at: String,
    pub actor: String,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// The fields that differ between two versions of an app, with old and new values as text.
/// Timestamps are not changes; apps hold no secrets, and nothing secret is ever passed here.
pub fn diff(old: &App, new: &App) -> Vec<(String, Option<String>, Option<String>)> {
    let (Ok(Value::Object(o)), Ok(Value::Object(n))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return vec![];
    };
    let mut out = Vec::new();
    for (k, nv) in &n {
        if matches!(
            k.as_str(),
            "created_at" | "updated_at" | "issuer_is_default"
        ) {
            continue;
        }
        let ov = o.get(k).cloned().unwrap_or(Value::Null);
        if &ov != nv {
            out.push((k.clone(), value_text(&ov), value_text(nv)));
        }
    }
    out
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

const APP_COLS: &str = "app_id, name, description, category, client_id_type, allowed_clients, issuer, redirect_uris, token_type, auth_methods, \
token_lifetime_secs, issue_refresh_tokens, refresh_token_lifetime_secs, user_must_confirm, scopes, version, created_at, updated_at";

fn json_col<T: for<'de> Deserialize<'de>>(row: &AnyRow, col: &str) -> Result<T> {
    let s: String = row.try_get(col)?;
    serde_json::from_str(&s).map_err(|e| DomainError::Internal(format!("bad stored {col}: {e}")))
}

fn enum_col<T: for<'de> Deserialize<'de>>(row: &AnyRow, col: &str) -> Result<T> {
    let s: String = row.try_get(col)?;
    serde_json::from_value(Value::String(s))
        .map_err(|e| DomainError::Internal(format!("bad stored {col}: {e}")))
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn enum_text<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

impl Services {
    fn draft_from_row(&self, row: &AnyRow, roles: Vec<String>) -> Result<(Draft, i64)> {
        let app_id: String = row.try_get("app_id")?;
        let issuer_override: Option<String> = row.try_get("issuer")?;
        let app = App {
            issuer: issuer_override
                .clone()
                .unwrap_or_else(|| default_issuer(&self.public_url, &app_id)),
            issuer_is_default: issuer_override.is_none(),
            app_id,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            category: row.try_get("category")?,
            client_id_type: enum_col(row, "client_id_type")?,
            allowed_clients: json_col(row, "allowed_clients")?,
            redirect_uris: json_col(row, "redirect_uris")?,
            token_type: enum_col(row, "token_type")?,
            auth_methods: json_col(row, "auth_methods")?,
            token_lifetime_secs: row.try_get("token_lifetime_secs")?,
            issue_refresh_tokens: get_bool(row, "issue_refresh_tokens")?,
            refresh_token_lifetime_secs: row.try_get("refresh_token_lifetime_secs")?,
            user_must_confirm: get_bool(row, "user_must_confirm")?,
            scopes: json_col(row, "scopes")?,
            user_access_roles: roles,
            created_at: rfc3339(row.try_get("created_at")?),
            updated_at: rfc3339(row.try_get("updated_at")?),
        };
        Ok((
            Draft {
                app,
                issuer_override,
            },
            row.try_get("version")?,
        ))
    }

    async fn roles_of_app(&self, app_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT r.name FROM app_roles ar JOIN roles r ON r.id = ar.role_id WHERE ar.app_id = $1 ORDER BY r.name_lower")
            .bind(app_id)
            .fetch_all(&self.store.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("name"))
            .collect::<Result<_, _>>()?)
    }

    /// The User Access roles of several apps in one query (a page of the apps list).
    async fn roles_of_apps(
        &self,
        app_ids: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<String>>> {
        let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
        if app_ids.is_empty() {
            return Ok(out);
        }
        let marks: Vec<String> = (1..=app_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT ar.app_id, r.name FROM app_roles ar JOIN roles r ON r.id = ar.role_id \
             WHERE ar.app_id IN ({}) ORDER BY r.name_lower",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql);
        for id in app_ids {
            q = q.bind(id);
        }
        for (app_id, name) in q.fetch_all(&self.store.pool).await? {
            out.entry(app_id).or_default().push(name);
        }
        Ok(out)
    }

    async fn load_draft(&self, app_id: &str) -> Result<Option<(Draft, i64)>> {
        let Some(row) = sqlx::query(&format!("SELECT {APP_COLS} FROM apps WHERE app_id = $1"))
            .bind(app_id)
            .fetch_optional(&self.store.pool)
            .await?
        else {
            return Ok(None);
        };
        let roles = self.roles_of_app(app_id).await?;
        Ok(Some(self.draft_from_row(&row, roles)?))
    }

    /// The app, without a rights check: for the OAuth2 endpoints.
    pub async fn app(&self, app_id: &str) -> Result<Option<App>> {
        Ok(self.load_draft(app_id).await?.map(|(d, _)| d.app))
    }

    /// Role names → ids; an unknown name is a validation error at its index.
    async fn resolve_roles(&self, names: &[String]) -> Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let row = sqlx::query("SELECT id, name FROM roles WHERE name_lower = $1")
                .bind(n.trim().to_lowercase())
                .fetch_optional(&self.store.pool)
                .await?
                .ok_or_else(|| {
                    DomainError::invalid(
                        format!("user_access_roles[{i}]"),
                        format!("there is no role named {n:?}"),
                    )
                })?;
            let id: String = row.try_get("id")?;
            if !out.iter().any(|(x, _)| x == &id) {
                out.push((id, row.try_get("name")?));
            }
        }
        Ok(out)
    }

    pub async fn create_app(&self, actor: &Principal, mut fields: AppFields) -> Result<App> {
        actor.require(Right::Apps)?;
        let raw_id = fields
            .app_id
            .clone()
            .ok_or_else(|| DomainError::invalid("app_id", "Application ID is required"))?;
        let app_id = AppId::parse(raw_id.trim())?;
        if fields.name.is_none() {
            return Err(DomainError::invalid("name", "Application Name is required"));
        }
        fields.app_id = Some(app_id.to_string());
        let roles = fields.user_access_roles.take();
        let mut draft = Draft::defaults(app_id.as_str(), &self.public_url);
        draft.apply(fields, &self.public_url)?;
        let roles = self.resolve_roles(roles.as_deref().unwrap_or(&[])).await?;
        draft.app.user_access_roles = roles.iter().map(|(_, n)| n.clone()).collect();
        let t = now();
        let a = &draft.app;
        let mut tx = self.store.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO apps ({APP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16)"
        ))
        .bind(&a.app_id)
        .bind(&a.name)
        .bind(&a.description)
        .bind(&a.category)
        .bind(enum_text(&a.client_id_type))
        .bind(to_json(&a.allowed_clients))
        .bind(&draft.issuer_override)
        .bind(to_json(&a.redirect_uris))
        .bind(enum_text(&a.token_type))
        .bind(to_json(&a.auth_methods))
        .bind(a.token_lifetime_secs)
        .bind(a.issue_refresh_tokens as i64)
        .bind(a.refresh_token_lifetime_secs)
        .bind(a.user_must_confirm as i64)
        .bind(to_json(&a.scopes))
        .bind(t)
        .execute(&mut *tx)
        .await
        .map_err(crate::store::on_unique("app_id", "an app with this Application ID already exists"))?;
        for (rid, _) in &roles {
            sqlx::query("INSERT INTO app_roles (app_id, role_id) VALUES ($1, $2)")
                .bind(&a.app_id)
                .bind(rid)
                .execute(&mut *tx)
                .await?;
        }
        insert_change(
            &mut tx,
            &a.app_id,
            1,
            t,
            &actor.login_name,
            "app",
            None,
            Some("created"),
        )
        .await?;
        tx.commit().await?;
        let mut app = draft.app;
        app.created_at = rfc3339(t);
        app.updated_at = rfc3339(t);
        self.on_app_changed(&app.app_id).await;
        Ok(app)
    }

    pub async fn get_app(&self, actor: &Principal, app_id: &str) -> Result<App> {
        actor.require(Right::Apps)?;
        self.app(app_id).await?.ok_or(DomainError::NotFound("app"))
    }

    /// Apps by name; `category` filters exactly (case-insensitively), `search` matches name or id.
    pub async fn list_apps(
        &self,
        actor: &Principal,
        category: Option<&str>,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Page<App>> {
        actor.require(Right::Apps)?;
        let (limit, offset) = crate::clamp_page(limit, offset);
        let mut conds = Vec::new();
        let mut args: Vec<String> = Vec::new();
        if let Some(c) = category.map(str::trim).filter(|c| !c.is_empty()) {
            args.push(c.to_lowercase());
            conds.push(format!("LOWER(category) = ${}", args.len()));
        }
        if let Some(s) = search.map(str::trim).filter(|s| !s.is_empty()) {
            args.push(format!(
                "%{}%",
                crate::store::like_escape(&s.to_lowercase())
            ));
            let n = args.len();
            conds.push(format!(
                "(LOWER(name) LIKE ${n} ESCAPE '\\' OR LOWER(app_id) LIKE ${n} ESCAPE '\\')"
            ));
        }
        let where_ = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let sql = format!("SELECT {APP_COLS} FROM apps {where_} ORDER BY LOWER(name), app_id LIMIT ${} OFFSET ${}", args.len() + 1, args.len() + 2);
        let mut q = sqlx::query(&sql);
        for a in &args {
            q = q.bind(a);
        }
        let rows = q
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.store.pool)
            .await?;
        let ids = rows
            .iter()
            .map(|r| r.try_get::<String, _>("app_id"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut roles = self.roles_of_apps(&ids).await?;
        let mut items = Vec::with_capacity(rows.len());
        for (r, id) in rows.iter().zip(&ids) {
            let app_roles = roles.remove(id).unwrap_or_default();
            items.push(self.draft_from_row(r, app_roles)?.0.app);
        }
        let count_sql = format!("SELECT COUNT(*) AS n FROM apps {where_}");
        let mut cq = sqlx::query(&count_sql);
        for a in &args {
            cq = cq.bind(a);
        }
        let total: i64 = cq.fetch_one(&self.store.pool).await?.try_get("n")?;
        Ok(Page { items, total })
    }

    /// Every category in use, for the portal's filter.
    pub async fn app_categories(&self, actor: &Principal) -> Result<Vec<String>> {
        actor.require(Right::Apps)?;
        let rows = sqlx::query("SELECT DISTINCT category FROM apps ORDER BY category")
            .fetch_all(&self.store.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("category"))
            .collect::<Result<_, _>>()?)
    }

    /// Partial update: only the fields present change; `scopes` replaces the list. Concurrent
    /// updates never lose a write: each is applied on the latest version (optimistic retry).
    pub async fn update_app(
        &self,
        actor: &Principal,
        app_id: &str,
        fields: AppFields,
    ) -> Result<App> {
        actor.require(Right::Apps)?;
        for _ in 0..8 {
            let (mut draft, version) = self
                .load_draft(app_id)
                .await?
                .ok_or(DomainError::NotFound("app"))?;
            let old = draft.app.clone();
            let mut f = fields.clone();
            let roles = f.user_access_roles.take();
            draft.apply(f, &self.public_url)?;
            let resolved = match &roles {
                Some(names) => Some(self.resolve_roles(names).await?),
                None => None,
            };
            if let Some(r) = &resolved {
                draft.app.user_access_roles = r.iter().map(|(_, n)| n.clone()).collect();
            }
            let changes = diff(&old, &draft.app);
            if changes.is_empty() {
                return Ok(draft.app);
            }
            let t = now();
            let a = &draft.app;
            let mut tx = self.store.pool.begin().await?;
            let done = sqlx::query(
                "UPDATE apps SET name = $1, description = $2, category = $3, client_id_type = $4, allowed_clients = $5, issuer = $6, \
                 redirect_uris = $7, token_type = $8, auth_methods = $9, token_lifetime_secs = $10, issue_refresh_tokens = $11, \
                 refresh_token_lifetime_secs = $12, user_must_confirm = $13, scopes = $14, version = $15, updated_at = $16 \
                 WHERE app_id = $17 AND version = $18",
            )
            .bind(&a.name)
            .bind(&a.description)
            .bind(&a.category)
            .bind(enum_text(&a.client_id_type))
            .bind(to_json(&a.allowed_clients))
            .bind(&draft.issuer_override)
            .bind(to_json(&a.redirect_uris))
            .bind(enum_text(&a.token_type))
            .bind(to_json(&a.auth_methods))
            .bind(a.token_lifetime_secs)
            .bind(a.issue_refresh_tokens as i64)
            .bind(a.refresh_token_lifetime_secs)
            .bind(a.user_must_confirm as i64)
            .bind(to_json(&a.scopes))
            .bind(version + 1)
            .bind(t)
            .bind(app_id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                // Someone else saved in between: apply this patch again on their version.
                tx.rollback().await?;
                continue;
            }
            if let Some(r) = &resolved {
                sqlx::query("DELETE FROM app_roles WHERE app_id = $1")
                    .bind(app_id)
                    .execute(&mut *tx)
                    .await?;
                for (rid, _) in r {
                    sqlx::query("INSERT INTO app_roles (app_id, role_id) VALUES ($1, $2)")
                        .bind(app_id)
                        .bind(rid)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for (field, o, n) in &changes {
                insert_change(
                    &mut tx,
                    app_id,
                    version + 1,
                    t,
                    &actor.login_name,
                    field,
                    o.as_deref(),
                    n.as_deref(),
                )
                .await?;
            }
            tx.commit().await?;
            let mut app = draft.app;
            app.updated_at = rfc3339(t);
            self.on_app_changed(app_id).await;
            return Ok(app);
        }
        Err(DomainError::Conflict(
            "the app is being changed by others; try again".into(),
        ))
    }

    /// Deletes the app with its scopes, grants and changelog, and revokes its tokens.
    pub async fn delete_app(&self, actor: &Principal, app_id: &str) -> Result<()> {
        actor.require(Right::Apps)?;
        self.before_app_deleted(app_id).await?;
        let done = sqlx::query("DELETE FROM apps WHERE app_id = $1")
            .bind(app_id)
            .execute(&self.store.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(DomainError::NotFound("app"));
        }
        self.on_app_changed(app_id).await;
        Ok(())
    }

    /// Newest first.
    pub async fn app_changelog(
        &self,
        actor: &Principal,
        app_id: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Change>> {
        actor.require(Right::Apps)?;
        if self.app(app_id).await?.is_none() {
            return Err(DomainError::NotFound("app"));
        }
        let (limit, offset) = crate::clamp_page(limit, offset);
        let rows = sqlx::query(
            "SELECT at, actor, field, old_value, new_value FROM app_changelog WHERE app_id = $1 ORDER BY seq DESC, field LIMIT $2 OFFSET $3",
        )
        .bind(app_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.store.pool)
        .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(Change {
                    at: rfc3339(r.try_get("at")?),
                    actor: r.try_get("actor")?,
                    field: r.try_get("field")?,
                    old: r.try_get("old_value")?,
                    new: r.try_get("new_value")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM app_changelog WHERE app_id = $1")
            .bind(app_id)
            .fetch_one(&self.store.pool)
            .await?
            .try_get("n")?;
        Ok(Page { items, total })
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_change(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    app_id: &str,
    seq: i64,
    at: i64,
    actor: &str,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> Result<()> {
    sqlx::query("INSERT INTO app_changelog (id, app_id, seq, at, actor, field, old_value, new_value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(app_id)
        .bind(seq)
        .bind(at)
        .bind(actor)
        .bind(field)
        .bind(old)
        .bind(new)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft::defaults("my-app", "https://id.example")
    }

    fn err_field(r: Result<()>) -> String {
        match r {
            Err(DomainError::Validation { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn defaults_follow_the_contract() {
        let d = draft();
        assert_eq!(d.app.client_id_type, ClientIdType::Confidential);
        assert_eq!(d.app.token_type, TokenType::JwtRs256);
        assert_eq!(d.app.token_lifetime_secs, 18_000);
        assert_eq!(d.app.category, "Other");
        assert_eq!(d.app.issuer, "https://id.example/oauth2/my-app");
        assert_eq!(d.app.refresh_token_lifetime_secs, 30 * 24 * 3600);
    }

    #[test]
    fn every_field_is_validated_with_its_name() {
        let cases: Vec<(AppFields, &str)> = vec![
            (
                AppFields {
                    name: Some(" ".into()),
                    ..Default::default()
                },
                "name",
            ),
            (
                AppFields {
                    app_id: Some("other".into()),
                    ..Default::default()
                },
                "app_id",
            ),
            (
                AppFields {
                    client_id_type: Some("public".into()),
                    ..Default::default()
                },
                "client_id_type",
            ),
            (
                AppFields {
                    token_type: Some("jwt_hs256".into()),
                    ..Default::default()
                },
                "token_type",
            ),
            (
                AppFields {
                    auth_methods: Some(vec!["implicit".into(), "device".into()]),
                    ..Default::default()
                },
                "auth_methods[1]",
            ),
            (
                AppFields {
                    token_lifetime_secs: Some(59),
                    ..Default::default()
                },
                "token_lifetime_secs",
            ),
            (
                AppFields {
                    token_lifetime_secs: Some(31_536_001),
                    ..Default::default()
                },
                "token_lifetime_secs",
            ),
            (
                AppFields {
                    refresh_token_lifetime_secs: Some(0),
                    ..Default::default()
                },
                "refresh_token_lifetime_secs",
            ),
            (
                AppFields {
                    redirect_uris: Some(vec!["https://ok.example/cb".into(), "/relative".into()]),
                    ..Default::default()
                },
                "redirect_uris[1]",
            ),
            (
                AppFields {
                    redirect_uris: Some(vec!["https://a.example/cb#x".into()]),
                    ..Default::default()
                },
                "redirect_uris[0]",
            ),
            (
                AppFields {
                    issuer: Some("not a url".into()),
                    ..Default::default()
                },
                "issuer",
            ),
            (
                AppFields {
                    allowed_clients: Some(vec!["a b".into()]),
                    ..Default::default()
                },
                "allowed_clients[0]",
            ),
            (
                AppFields {
                    scopes: Some(vec![Scope {
                        name: "s".into(),
                        description: String::new(),
                        rest_regexes: vec!["(".into()],
                    }]),
                    ..Default::default()
                },
                "scopes[0].rest_regexes[0]",
            ),
        ];
        for (f, field) in cases {
            assert_eq!(err_field(draft().apply(f, "https://id.example")), field);
        }
    }

    #[test]
    fn issuer_override_and_reset() {
        let mut d = draft();
        assert!(d
            .apply(
                AppFields {
                    issuer: Some("https://issuer.example/x/".into()),
                    ..Default::default()
                },
                "https://id.example"
            )
            .is_ok());
        assert_eq!(d.app.issuer, "https://issuer.example/x");
        assert!(!d.app.issuer_is_default);
        assert!(d
            .apply(
                AppFields {
                    issuer: Some(String::new()),
                    ..Default::default()
                },
                "https://id.example"
            )
            .is_ok());
        assert_eq!(d.app.issuer, "https://id.example/oauth2/my-app");
    }

    #[test]
    fn diff_names_each_changed_field_with_old_and_new() {
        let old = draft().app;
        let mut new = old.clone();
        new.name = "New name".into();
        new.token_lifetime_secs = 3600;
        new.updated_at = "later".into();
        let d = diff(&old, &new);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.contains(&("name".into(), Some(String::new()), Some("New name".into()))));
        assert!(d.contains(&(
            "token_lifetime_secs".into(),
            Some("18000".into()),
            Some("3600".into())
        )));
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn auth_methods_are_deduplicated_in_a_stable_order() {
        let mut d = draft();
        let f = AppFields {
            auth_methods: Some(vec![
                "password".into(),
                "client_credentials".into(),
                "password".into(),
            ]),
            ..Default::default()
        };
        assert!(d.apply(f, "https://id.example").is_ok());
        assert_eq!(
            d.app.auth_methods,
            vec![AuthMethod::ClientCredentials, AuthMethod::Password]
        );
    }
}
