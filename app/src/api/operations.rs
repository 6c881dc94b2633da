//! Server functions of the activity dashboard and the Audit page.

use leptos::prelude::*;

pub use model::operations::{Activity, AuditRecord, Series, Window};

/// Rows per page of the Audit page.
pub const AUDIT_PAGE: i64 = 50;

/// Activity over a window: of one app, or (without `app_id`) of every app and the sign-ins.
#[server(prefix = "/sfn", endpoint = "activity")]
pub async fn load_activity(
    app_id: Option<String>,
    window: String,
) -> Result<Activity, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let window = Window::parse(&window).unwrap_or(Window::Hour);
    services()?
        .activity(&p, app_id.as_deref().filter(|a| !a.is_empty()), window)
        .await
        .map_err(map_err)
}

/// A page of the audit log, newest first.
#[server(prefix = "/sfn", endpoint = "audit")]
pub async fn audit_log(
    actor: String,
    object: String,
    action: String,
    since: String,
    until: String,
    offset: i64,
) -> Result<model::Page<AuditRecord>, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let filter = model::operations::AuditFilter {
        actor: Some(actor),
        object: Some(object),
        action: Some(action),
        since: Some(since),
        until: Some(until),
    };
    services()?
        .audit_log(&p, &filter, AUDIT_PAGE, offset)
        .await
        .map_err(map_err)
}
