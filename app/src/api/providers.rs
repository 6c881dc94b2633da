//! Upstream OpenID providers in the portal (SPEC §6b): the list, one provider's form, delete.
//! System Administrators only (the domain checks it).

use leptos::prelude::*;
use model::providers::IdentityProvider;

use super::FormResult;

#[server(prefix = "/sfn", endpoint = "providers/list")]
pub async fn list_identity_providers() -> Result<Vec<IdentityProvider>, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    Ok(services()?.list_providers(&p).await.map_err(map_err)?.items)
}

#[server(prefix = "/sfn", endpoint = "providers/get")]
pub async fn get_identity_provider(id: String) -> Result<IdentityProvider, ServerFnError> {
    use super::ssr::*;
    let p = principal().await?;
    services()?.get_provider(&p, &id).await.map_err(map_err)
}

/// Creates (no `id`) or changes a provider. An empty secret keeps the stored one.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/sfn", endpoint = "providers/save")]
pub async fn save_identity_provider(
    id: Option<String>,
    name: String,
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
    scopes: String,
    button_label: String,
    match_by: String,
    create_users: Option<String>,
    default_role: Option<String>,
    enabled: Option<String>,
) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    use domain::signin::upstream::ProviderFields;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    let s = services()?;
    let fields = ProviderFields {
        name: Some(name),
        issuer: Some(issuer),
        client_id: Some(client_id),
        client_secret: client_secret.filter(|c| !c.is_empty()),
        button_label: Some(button_label),
        scopes: Some(scopes.split_whitespace().map(str::to_string).collect()),
        match_by: model::providers::MatchBy::parse(&match_by),
        create_users: Some(create_users.is_some()),
        default_role: Some(default_role.filter(|r| !r.trim().is_empty())),
        enabled: Some(enabled.is_some()),
        ..Default::default()
    };
    let id = id.filter(|i| !i.is_empty());
    let r = match &id {
        Some(id) => form_result(s.update_provider(&p, id, fields).await, |_| {
            FormResult::saved(&l.t("providers-saved"), None)
        })?,
        None => form_result(s.create_provider(&p, fields).await, |p| {
            FormResult::saved(&l.t("providers-added"), Some(p.id))
        })?,
    };
    if r.ok && is_plain_form_post().await {
        let to = r.id.clone().or(id).unwrap_or_default();
        leptos_axum::redirect(&format!("/admin/identity-providers/{to}?saved=1"));
    }
    Ok(r)
}

#[server(prefix = "/sfn", endpoint = "providers/delete")]
pub async fn delete_identity_provider(id: String) -> Result<FormResult, ServerFnError> {
    use super::ssr::*;
    let l = crate::i18n::request_lang();
    let p = principal().await?;
    let r = form_result(services()?.delete_provider(&p, &id).await, |_| {
        FormResult::saved(&l.t("providers-deleted"), None)
    })?;
    if r.ok {
        leptos_axum::redirect("/admin/identity-providers");
    }
    Ok(r)
}
