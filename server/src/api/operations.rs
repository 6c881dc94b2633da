//! `GET /api/v1/audit`, `GET /api/v1/export`, `POST /api/v1/import` (SPEC §7a).

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::audit::AuditFilter;
use domain::config_doc::ConfigDocument;
use domain::Services;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Actor, ApiJson};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/export", get(export))
        .route("/api/v1/import", post(import))
}

/// Paging and the filters of the audit log.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// Login name of whoever acted (case-insensitive).
    pub actor: Option<String>,
    /// An object type (`app`), id or name, or `type:id` (`app:billing`).
    pub object: Option<String>,
    /// An action (`app.update`) or all of one kind (`app`).
    pub action: Option<String>,
    /// From this time on (RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` in UTC, or Unix seconds).
    #[param(
        pattern = r"^\s*(-?[0-9]+|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?)?\s*$"
    )]
    pub since: Option<String>,
    /// Before this time (same forms as `since`).
    #[param(
        pattern = r"^\s*(-?[0-9]+|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?)?\s*$"
    )]
    pub until: Option<String>,
}

fn query<T: serde::de::DeserializeOwned>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|q| q.0)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "operations", params(AuditQuery),
    responses((status = 200, body = domain::Page<domain::audit::AuditRecord>), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn audit(
    State(s): State<Services>,
    Actor(p): Actor,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let q = query(q)?;
    let filter = AuditFilter {
        actor: q.actor,
        object: q.object,
        action: q.action,
        since: q.since,
        until: q.until,
    };
    Ok(Json(
        s.audit_log(&p, &filter, q.limit.unwrap_or(0), q.offset.unwrap_or(0))
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Include the users' password hashes.
    #[serde(default)]
    pub with_secrets: bool,
}

#[utoipa::path(get, path = "/api/v1/export", tag = "operations", params(ExportQuery),
    responses((status = 200, body = ConfigDocument), (status = 403, body = super::openapi::ErrorBody)))]
pub async fn export(
    State(s): State<Services>,
    Actor(p): Actor,
    q: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let q = query(q)?;
    let doc = s.export_config(&p, q.with_secrets).await?;
    Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], Json(doc)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Only plan: report what would change.
    #[serde(default)]
    pub dry_run: bool,
    /// Delete apps, roles and users the document does not name.
    #[serde(default)]
    pub prune: bool,
}

#[utoipa::path(post, path = "/api/v1/import", tag = "operations", params(ImportQuery), request_body = ConfigDocument,
    responses((status = 200, body = domain::config_doc::ImportPlan), (status = 403, body = super::openapi::ErrorBody), (status = 422, body = super::openapi::ErrorBody)))]
pub async fn import(
    State(s): State<Services>,
    Actor(p): Actor,
    q: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    ApiJson(doc): ApiJson<ConfigDocument>,
) -> Result<impl IntoResponse, ApiError> {
    let q = query(q)?;
    Ok(Json(s.import_config(&p, doc, q.dry_run, q.prune).await?))
}
