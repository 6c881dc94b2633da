//! The Settings page's server functions (SPEC §6b): the hosted pages' product name, accent
//! colour and logo. System Administrators change them (the domain checks it).

use leptos::prelude::*;
use model::branding::Branding;

use super::FormResult;

#[server(prefix = "/sfn", endpoint = "settings/branding")]
pub async fn branding_settings() -> Result<Branding, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    p.require_sysadmin()
        .map_err(|e| fail(http::StatusCode::FORBIDDEN, e.to_string()))?;
    Ok((*services()?.branding()).clone())
}

#[server(prefix = "/sfn", endpoint = "settings/save_branding")]
pub async fn save_branding(
    product_name: String,
    accent_color: String,
    default_color: Option<String>,
) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    let patch = domain::branding::BrandingPatch {
        product_name: Some(product_name),
        accent_color: Some(Some(accent_color).filter(|_| default_color.is_none())),
        logo_url: None,
    };
    form_result(services()?.update_branding(&p, patch).await, |_| {
        FormResult::saved("Saved. The hosted pages show it now.", None)
    })
}

#[server(prefix = "/sfn", endpoint = "settings/remove_logo")]
pub async fn remove_branding_logo() -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    form_result(services()?.remove_logo(&p).await, |_| {
        FormResult::saved("Logo removed.", None)
    })
}
