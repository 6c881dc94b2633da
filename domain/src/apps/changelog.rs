//! Every change of an app, field by field with old and new values (never a secret).

use serde_json::Value;
use sqlx::Row;

use super::*;
use crate::error::{DomainError, Result};
use crate::rights::{Principal, Right};
use crate::users::rfc3339;
use crate::{Page, Services};

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

pub(super) fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Services {
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
pub(super) async fn insert_change(
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
