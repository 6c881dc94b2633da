//! Apps in the database: rows to apps and back, and their User Access roles.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::*;
use crate::clock::rfc3339;
use crate::error::{DomainError, Result};
use crate::store::get_bool;
use crate::Services;

pub(super) const APP_COLS: &str = "app_id, name, description, category, client_id_type, allowed_clients, issuer, redirect_uris, token_type, auth_methods, \
token_lifetime_secs, issue_refresh_tokens, refresh_token_lifetime_secs, user_must_confirm, scopes, version, created_at, updated_at, post_logout_redirect_uris, resources, client_registration, client_id_metadata_documents, require_mfa, require_par, require_dpop";

pub(super) fn json_col<T: for<'de> Deserialize<'de>>(row: &AnyRow, col: &str) -> Result<T> {
    let s: String = row.try_get(col)?;
    serde_json::from_str(&s).map_err(|e| DomainError::Internal(format!("bad stored {col}: {e}")))
}

pub(super) fn enum_col<T: for<'de> Deserialize<'de>>(row: &AnyRow, col: &str) -> Result<T> {
    let s: String = row.try_get(col)?;
    serde_json::from_value(Value::String(s))
        .map_err(|e| DomainError::Internal(format!("bad stored {col}: {e}")))
}

pub(super) fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

pub(super) fn enum_text<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

impl Services {
    pub(super) fn draft_from_row(&self, row: &AnyRow, roles: Vec<String>) -> Result<(Draft, i64)> {
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
            post_logout_redirect_uris: json_col(row, "post_logout_redirect_uris")?,
            resources: json_col(row, "resources")?,
            client_registration: enum_col(row, "client_registration")?,
            client_id_metadata_documents: get_bool(row, "client_id_metadata_documents")?,
            require_mfa: get_bool(row, "require_mfa")?,
            require_par: get_bool(row, "require_par")?,
            require_dpop: get_bool(row, "require_dpop")?,
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

    /// The User Access roles of several apps in one query (a page of the apps list).
    pub(super) async fn roles_of_apps(
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

    pub(super) async fn load_draft(&self, app_id: &str) -> Result<Option<(Draft, i64)>> {
        self.load_draft_on(&mut *self.store.pool.acquire().await?, app_id)
            .await
    }

    /// The app as stored with its version, read on `conn`.
    pub(super) async fn load_draft_on(
        &self,
        conn: &mut sqlx::AnyConnection,
        app_id: &str,
    ) -> Result<Option<(Draft, i64)>> {
        let Some(row) = sqlx::query(&format!("SELECT {APP_COLS} FROM apps WHERE app_id = $1"))
            .bind(app_id)
            .fetch_optional(&mut *conn)
            .await?
        else {
            return Ok(None);
        };
        let roles = sqlx::query("SELECT r.name FROM app_roles ar JOIN roles r ON r.id = ar.role_id WHERE ar.app_id = $1 ORDER BY r.name_lower")
            .bind(app_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("name"))
            .collect::<Result<_, _>>()?;
        Ok(Some(self.draft_from_row(&row, roles)?))
    }

    /// Role names → ids, read on `conn`; an unknown name is a validation error at its index.
    pub(super) async fn resolve_roles_on(
        conn: &mut sqlx::AnyConnection,
        names: &[String],
    ) -> Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let row = sqlx::query("SELECT id, name FROM roles WHERE name_lower = $1")
                .bind(n.trim().to_lowercase())
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| DomainError::Unknown {
                    field: format!("user_access_roles[{i}]"),
                    message: format!("there is no role named {n:?}"),
                })?;
            let id: String = row.try_get("id")?;
            if !out.iter().any(|(x, _)| x == &id) {
                out.push((id, row.try_get("name")?));
            }
        }
        Ok(out)
    }
}
