//! OAuth2 client apps: every setting of the documents' "OAuth2 Client" app, validated in one
//! place for the portal and the API (`validate`), stored (`store`), with a changelog of every
//! change (`changelog`). The app itself and its enums are the shared model (SPEC §2).

mod changelog;
mod store;
mod validate;

use std::sync::Arc;

use serde::Deserialize;
use sqlx::Row;

use crate::clock::now;
use crate::clock::rfc3339;
use crate::error::{DomainError, Result};
use crate::names::AppId;
use crate::rights::{Principal, Right};
use crate::scopes::Scope;
use crate::{Page, Services};

use crate::audit::{self, Entry, Who};
pub use changelog::diff;
pub use model::apps::*;
use store::{enum_text, to_json, APP_COLS};
use validate::Draft;

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
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// RFC 8707 resource indicators a token may be asked for.
    pub resources: Option<Vec<String>>,
    /// `off`, `token` or `open` (RFC 7591 registration; Client ID Type `registered` only).
    pub client_registration: Option<String>,
    /// Take https client IDs as client ID metadata documents (Client ID Type `registered` only).
    pub client_id_metadata_documents: Option<bool>,
    pub token_type: Option<String>,
    pub auth_methods: Option<Vec<String>>,
    #[serde(default, deserialize_with = "whole_number")]
    pub token_lifetime_secs: Option<i64>,
    pub issue_refresh_tokens: Option<bool>,
    #[serde(default, deserialize_with = "whole_number")]
    pub refresh_token_lifetime_secs: Option<i64>,
    pub user_must_confirm: Option<bool>,
    /// People need a second factor to use the app.
    pub require_mfa: Option<bool>,
    /// Authorization requests must be pushed first (RFC 9126).
    pub require_par: Option<bool>,
    /// Token requests must carry a DPoP proof (RFC 9449).
    pub require_dpop: Option<bool>,
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

/// A whole number of seconds, also when written `3600.0` (JSON Schema's `integer` allows it).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(n) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("expected a whole number, not {n}")))
}

/// Checks every field of a whole app as `create_app` would, without the database (roles named
/// in `user_access_roles` are not looked up).
pub(crate) fn check_fields(fields: AppFields, public_url: &str) -> Result<App> {
    let raw_id = fields.app_id.clone().unwrap_or_default();
    let app_id = AppId::parse(raw_id.trim())?;
    let mut draft = Draft::defaults(app_id.as_str(), public_url);
    draft.apply(fields, public_url)?;
    Ok(draft.app)
}

impl Services {
    /// The app, without a rights check: for the OAuth2 endpoints.
    pub async fn app(&self, app_id: &str) -> Result<Option<App>> {
        Ok(self.load_draft(app_id).await?.map(|(d, _)| d.app))
    }

    pub async fn create_app(&self, actor: &Principal, fields: AppFields) -> Result<App> {
        actor.require(Right::Apps)?;
        let (app_id, draft) = self.new_draft(fields.clone())?;
        self.require_admin_scopes_allowed(actor, app_id.as_str(), &[], &draft.app.scopes)
            .await?;
        let mut tx = self.store.begin_write().await?;
        let app = self.create_app_in(&mut tx, actor, fields).await?;
        tx.commit().await?;
        self.on_app_changed(&app.app_id).await;
        Ok(app)
    }

    /// A new app's id and its checked settings (defaults for what `fields` omits).
    fn new_draft(&self, mut fields: AppFields) -> Result<(AppId, Draft)> {
        let raw_id = fields
            .app_id
            .clone()
            .ok_or_else(|| DomainError::invalid("app_id", "Application ID is required"))?;
        let app_id = AppId::parse(raw_id.trim())?;
        if fields.name.is_none() {
            return Err(DomainError::invalid("name", "Application Name is required"));
        }
        fields.app_id = Some(app_id.to_string());
        fields.user_access_roles = None;
        let mut draft = Draft::defaults(app_id.as_str(), &self.public_url);
        draft.apply(fields, &self.public_url)?;
        Ok((app_id, draft))
    }

    /// Creates an app with its User Access roles and audit record on `conn` (a transaction).
    pub(crate) async fn create_app_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor: &Principal,
        mut fields: AppFields,
    ) -> Result<App> {
        let roles = fields.user_access_roles.take();
        let (_, mut draft) = self.new_draft(fields)?;
        if !actor.sysadmin && crate::delegation::admin_scope_added(&[], &draft.app.scopes).is_some()
        {
            return Err(DomainError::Forbidden(
                "only a System Administrator may define scopes for Gatehouse's own API".into(),
            ));
        }
        let roles = Self::resolve_roles_on(conn, roles.as_deref().unwrap_or(&[])).await?;
        draft.app.user_access_roles = roles.iter().map(|(_, n)| n.clone()).collect();
        self.require_unique_issuer(conn, &draft.app.app_id, &draft.app.issuer)
            .await?;
        let t = now();
        let a = &draft.app;
        let sql = format!(
            "INSERT INTO apps ({APP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16, $17, $18, $19, $20, $21, $22, $23)"
        );
        let insert = sqlx::query(&sql).bind(&a.app_id);
        bind_settings(insert, &draft)
            .bind(t)
            .bind(to_json(&a.post_logout_redirect_uris))
            .bind(to_json(&a.resources))
            .bind(enum_text(&a.client_registration))
            .bind(a.client_id_metadata_documents as i64)
            .bind(a.require_mfa as i64)
            .bind(a.require_par as i64)
            .bind(a.require_dpop as i64)
            .execute(&mut *conn)
            .await
            .map_err(crate::store::on_unique(
                "app_id",
                "an app with this Application ID already exists",
            ))?;
        for (rid, _) in &roles {
            sqlx::query("INSERT INTO app_roles (app_id, role_id) VALUES ($1, $2)")
                .bind(&a.app_id)
                .bind(rid)
                .execute(&mut *conn)
                .await?;
        }
        let initial = serde_json::to_value(a).unwrap_or_default();
        audit::write(
            conn,
            Who::Principal(actor),
            &Entry::new("app.create", "app", &a.app_id)
                .named(&a.app_id)
                .changes(audit::json_diff(
                    &serde_json::Value::Null,
                    &initial,
                    &["created_at", "updated_at", "issuer_is_default"],
                )),
        )
        .await?;
        let mut app = draft.app;
        app.created_at = rfc3339(t);
        app.updated_at = rfc3339(t);
        Ok(app)
    }

    /// One app, through the app cache (a change on this instance is seen at once, one on
    /// another as the cache says).
    pub async fn get_app(&self, actor: &Principal, app_id: &str) -> Result<Arc<App>> {
        actor.require(Right::Apps)?;
        self.app_through_cache(app_id)
            .await?
            .map(|(app, _)| app)
            .ok_or(DomainError::NotFound("app"))
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
        // Refused escalations are recorded before any transaction begins.
        let (mut draft, _) = self
            .load_draft(app_id)
            .await?
            .ok_or(DomainError::NotFound("app"))?;
        let old_scopes = draft.app.scopes.clone();
        let mut f = fields.clone();
        f.user_access_roles = None;
        draft.apply(f, &self.public_url)?;
        self.require_admin_scopes_allowed(actor, app_id, &old_scopes, &draft.app.scopes)
            .await?;
        for _ in 0..8 {
            let mut tx = self.store.begin_write().await?;
            // None: someone else saved in between; apply this patch again on their version.
            if let Some((app, changed)) = self
                .update_app_in(&mut tx, actor, app_id, fields.clone())
                .await?
            {
                tx.commit().await?;
                if changed {
                    self.on_app_changed(app_id).await;
                }
                return Ok(app);
            }
        }
        Err(DomainError::Conflict(
            "the app is being changed by others; try again".into(),
        ))
    }

    /// Applies `fields` to the app on `conn` (a transaction): the app and whether it changed,
    /// or None when its version moved since it was read (PostgreSQL: another transaction saved).
    pub(crate) async fn update_app_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor: &Principal,
        app_id: &str,
        fields: AppFields,
    ) -> Result<Option<(App, bool)>> {
        let (mut draft, version) = self
            .load_draft_on(conn, app_id)
            .await?
            .ok_or(DomainError::NotFound("app"))?;
        let old = draft.app.clone();
        let mut f = fields;
        let roles = f.user_access_roles.take();
        draft.apply(f, &self.public_url)?;
        let resolved = match &roles {
            Some(names) => Some(Self::resolve_roles_on(conn, names).await?),
            None => None,
        };
        if let Some(r) = &resolved {
            draft.app.user_access_roles = r.iter().map(|(_, n)| n.clone()).collect();
        }
        let changes = diff(&old, &draft.app);
        if changes.is_empty() {
            return Ok(Some((draft.app, false)));
        }
        if !actor.sysadmin
            && crate::delegation::admin_scope_added(&old.scopes, &draft.app.scopes).is_some()
        {
            return Err(DomainError::Forbidden(
                "only a System Administrator may define scopes for Gatehouse's own API".into(),
            ));
        }
        if draft.app.issuer != old.issuer {
            self.require_unique_issuer(conn, app_id, &draft.app.issuer)
                .await?;
        }
        let t = now();
        let a = &draft.app;
        let done = bind_settings(
            sqlx::query(
                "UPDATE apps SET name = $1, description = $2, category = $3, client_id_type = $4, allowed_clients = $5, issuer = $6, \
                 redirect_uris = $7, token_type = $8, auth_methods = $9, token_lifetime_secs = $10, issue_refresh_tokens = $11, \
                 refresh_token_lifetime_secs = $12, user_must_confirm = $13, scopes = $14, version = $15, updated_at = $16, \
                 post_logout_redirect_uris = $19, resources = $20, client_registration = $21, client_id_metadata_documents = $22, require_mfa = $23, require_par = $24, require_dpop = $25 WHERE app_id = $17 AND version = $18",
            ),
            &draft,
        )
        .bind(version + 1)
        .bind(t)
        .bind(app_id)
        .bind(version)
        .bind(to_json(&a.post_logout_redirect_uris))
        .bind(to_json(&a.resources))
        .bind(enum_text(&a.client_registration))
        .bind(a.client_id_metadata_documents as i64)
        .bind(a.require_mfa as i64)
        .bind(a.require_par as i64)
        .bind(a.require_dpop as i64)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let mut changes = changes;
        if let Some(r) = &resolved {
            sqlx::query("DELETE FROM app_roles WHERE app_id = $1")
                .bind(app_id)
                .execute(&mut *conn)
                .await?;
            for (rid, _) in r {
                sqlx::query("INSERT INTO app_roles (app_id, role_id) VALUES ($1, $2)")
                    .bind(app_id)
                    .bind(rid)
                    .execute(&mut *conn)
                    .await?;
            }
            // Access follows the directory: whoever lost access with the new User Access roles
            // loses the app's refresh and opaque access tokens too (one statement).
            let revoked = sqlx::query(
                "UPDATE tokens SET revoked = 1 WHERE app_id = $1 AND revoked = 0 \
                 AND NOT EXISTS (SELECT 1 FROM app_roles ar JOIN roles r ON r.id = ar.role_id \
                   WHERE ar.app_id = $1 AND r.builtin = 'everybody') \
                 AND user_id NOT IN (SELECT m.user_id FROM role_members m JOIN app_roles ar \
                   ON ar.role_id = m.role_id WHERE ar.app_id = $1)",
            )
            .bind(app_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if revoked > 0 {
                changes.push(("tokens_revoked".into(), None, Some(revoked.to_string())));
            }
        }
        audit::write(
            conn,
            Who::Principal(actor),
            &Entry::new("app.update", "app", app_id)
                .named(app_id)
                .changes(changes),
        )
        .await?;
        let mut app = draft.app;
        app.updated_at = rfc3339(t);
        Ok(Some((app, true)))
    }

    /// No other app has `issuer` (each app's discovery, `id_token_hint` and `iss` checks rely
    /// on it): neither as its override nor as its default `{public_url}/oauth2/{app_id}`.
    /// Checked in the transaction that stores the app.
    async fn require_unique_issuer(
        &self,
        conn: &mut sqlx::AnyConnection,
        app_id: &str,
        issuer: &str,
    ) -> Result<()> {
        let overridden = sqlx::query("SELECT app_id FROM apps WHERE issuer = $1 AND app_id <> $2")
            .bind(issuer)
            .bind(app_id)
            .fetch_optional(&mut *conn)
            .await?;
        let default_of = issuer
            .strip_prefix(&format!("{}/oauth2/", self.public_url))
            .filter(|id| *id != app_id && !id.contains('/'));
        let defaulted = match default_of {
            Some(other) => {
                sqlx::query("SELECT app_id FROM apps WHERE app_id = $1 AND issuer IS NULL")
                    .bind(other)
                    .fetch_optional(&mut *conn)
                    .await?
            }
            None => None,
        };
        if let Some(row) = overridden.or(defaulted) {
            let other: String = row.try_get("app_id")?;
            return Err(DomainError::invalid(
                "issuer",
                format!("the app {other} has this Issuer already: each app needs its own"),
            ));
        }
        Ok(())
    }

    /// Deletes the app with its scopes, grants and changelog, and revokes its tokens.
    pub async fn delete_app(&self, actor: &Principal, app_id: &str) -> Result<()> {
        actor.require(Right::Apps)?;
        let mut tx = self.store.begin_write().await?;
        delete_app_in(&mut tx, Who::Principal(actor), app_id).await?;
        tx.commit().await?;
        self.announce_revocation().await?;
        self.on_app_changed(app_id).await;
        Ok(())
    }
}

/// Deletes the app on `conn` (a transaction) with its tokens and codes; what was issued for it
/// is revoked (the caller announces the revocation after the commit).
pub(crate) async fn delete_app_in(
    conn: &mut sqlx::AnyConnection,
    who: Who<'_>,
    app_id: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO revocations (subject, revoked_before) VALUES ($1, $2) ON CONFLICT (subject) DO UPDATE SET revoked_before = $2",
    )
    .bind(format!("app:{app_id}"))
    .bind(now() + 1)
    .execute(&mut *conn)
    .await?;
    for sql in [
        "DELETE FROM tokens WHERE app_id = $1",
        "DELETE FROM auth_codes WHERE app_id = $1",
    ] {
        sqlx::query(sql).bind(app_id).execute(&mut *conn).await?;
    }
    let done = sqlx::query("DELETE FROM apps WHERE app_id = $1")
        .bind(app_id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(DomainError::NotFound("app"));
    }
    audit::write(
        conn,
        who,
        &Entry::new("app.delete", "app", app_id).named(app_id),
    )
    .await?;
    Ok(())
}

/// Binds an app's settings, in the order both the INSERT and the UPDATE list them (name …
/// scopes), after whatever the statement binds first.
fn bind_settings<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    draft: &'q Draft,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let a = &draft.app;
    q.bind(&a.name)
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
}
