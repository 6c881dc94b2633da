//! Every change of an app, field by field with old and new values (never a secret).

use serde_json::Value;

use super::*;
use crate::error::{DomainError, Result};
use crate::rights::{Principal, Right};
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

use crate::audit::value_text;

impl Services {
    /// Newest first: the app's records in the audit log since it was created, one row per
    /// changed field.
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
        let mut rows = Vec::new();
        for r in self.object_history("app", app_id).await? {
            if r.action == "app.create" {
                rows.push(Change {
                    at: r.at,
                    actor: r.actor,
                    field: "app".into(),
                    old: None,
                    new: Some("created".into()),
                });
                continue;
            }
            for c in r.changes {
                rows.push(Change {
                    at: r.at.clone(),
                    actor: r.actor.clone(),
                    field: c.field,
                    old: c.old,
                    new: c.new,
                });
            }
        }
        let total = rows.len() as i64;
        let items = rows
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        Ok(Page { items, total })
    }
}
