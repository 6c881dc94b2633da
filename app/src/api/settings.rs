//! The Settings page's server functions (SPEC §6b): the hosted pages' product name, accent
//! colour, logo and default language. System Administrators change them (the domain checks it).

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
    default_language: Option<String>,
) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    // Absent (or empty): unchanged; a language Gatehouse does not speak: the field's error.
    let default_language = match default_language.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(tag) => match model::i18n::Lang::from_tag(tag) {
            Some(lang) => Some(lang),
            None => {
                return Ok(FormResult {
                    ok: false,
                    message: l.t("settings-language-unknown"),
                    field: Some("default_language".into()),
                    id: None,
                })
            }
        },
    };
    let patch = domain::branding::BrandingPatch {
        product_name: Some(product_name),
        accent_color: Some(Some(accent_color).filter(|_| default_color.is_none())),
        logo_url: None,
        default_language,
    };
    form_result(services()?.update_branding(&p, patch).await, |_| {
        FormResult::saved(&l.t("settings-saved"), None)
    })
}

#[server(prefix = "/sfn", endpoint = "settings/remove_logo")]
pub async fn remove_branding_logo() -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    form_result(services()?.remove_logo(&p).await, |_| {
        FormResult::saved(&l.t("settings-logo-removed"), None)
    })
}
