//! `/admin/identity-providers` (SPEC §6b): the upstream OpenID providers people may sign in
//! through — the list, and one provider's form (add, change, delete). Plain forms.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use model::providers::{IdentityProvider, MatchBy};

use crate::api::providers::{
    get_identity_provider, list_identity_providers, DeleteIdentityProvider, SaveIdentityProvider,
};
use crate::components::{error_text, field_error, Outcome, SaveStatus, Switch, TextField};
use crate::i18n::{tr, use_lang};
use model::i18n::msg;

/// The message key of how a first sign-in finds its local person.
fn match_by_key(m: MatchBy) -> &'static str {
    match m {
        MatchBy::Email => msg("providers-match-email"),
        MatchBy::PreferredUsername => msg("providers-match-preferred-username"),
        MatchBy::None => msg("providers-match-none"),
    }
}

#[component]
pub fn ProvidersPage() -> impl IntoView {
    let l = use_lang();
    let list = Resource::new(|| (), |_| list_identity_providers());
    view! {
        <Title text=l.t("providers-title")/>
        <div class="page-head"><h1>{l.t("providers-title")}</h1><a href="/admin/identity-providers/new">{l.t("providers-add")}</a></div>
        <p class="muted">{l.t("providers-intro")}</p>
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(items) if items.is_empty() => view! { <p>{l.t("providers-none")}</p> }.into_any(),
                    Ok(items) => view! {
                        <table>
                            <caption class="visually-hidden">{l.t("providers-title")}</caption>
                            <thead><tr><th scope="col">{l.t("providers-name")}</th><th scope="col">{l.t("providers-issuer")}</th><th scope="col">{l.t("providers-button")}</th><th scope="col">{l.t("providers-enabled")}</th></tr></thead>
                            <tbody>
                                {items.into_iter().map(|p| view! {
                                    <tr>
                                        <td><a href=format!("/admin/identity-providers/{}", p.id)>{p.name.clone()}</a></td>
                                        <td><code>{p.issuer.clone()}</code></td>
                                        <td>{tr!(l, "providers-sign-in-with", provider = p.button_label.clone())}</td>
                                        <td>{if p.enabled { l.t("providers-yes") } else { l.t("providers-no") }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn ProviderPage() -> impl IntoView {
    let l = use_lang();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let save = ServerAction::<SaveIdentityProvider>::new();
    let delete = ServerAction::<DeleteIdentityProvider>::new();
    let detail = Resource::new(
        move || (id(), save.version().get()),
        |(id, _)| async move {
            if id == "new" {
                Ok(None)
            } else {
                get_identity_provider(id).await.map(Some)
            }
        },
    );
    let outcome: Outcome = save.value().into();
    let delete_outcome: Outcome = delete.value().into();
    let saved = move || query.read().get("saved").is_some();
    view! {
        <Title text=l.t("providers-title-one")/>
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(p) => view! { <ProviderForm p save delete outcome delete_outcome saved=saved()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProviderForm(
    p: Option<IdentityProvider>,
    save: ServerAction<SaveIdentityProvider>,
    delete: ServerAction<DeleteIdentityProvider>,
    outcome: Outcome,
    delete_outcome: Outcome,
    saved: bool,
) -> impl IntoView {
    let l = use_lang();
    let new = p.is_none();
    let p = p.unwrap_or_else(|| IdentityProvider {
        id: String::new(),
        name: String::new(),
        issuer: String::new(),
        client_id: String::new(),
        client_secret_set: false,
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        button_label: String::new(),
        match_by: MatchBy::Email,
        create_users: false,
        default_role: None,
        enabled: true,
        redirect_uri: String::new(),
        created_at: String::new(),
    });
    let heading = if new {
        l.t("providers-add-title")
    } else {
        p.name.clone()
    };
    let (id_save, id_del) = (p.id.clone(), p.id.clone());
    view! {
        <div class="page-head"><h1>{heading}</h1><a href="/admin/identity-providers">{l.t("providers-all")}</a></div>
        {saved.then(|| view! { <p class="status ok" role="status">{l.t("providers-saved")}</p> })}
        {(!new).then(|| view! {
            <p>{l.t("providers-register-redirect-uri")}": " <code id="redirect-uri">{p.redirect_uri.clone()}</code></p>
        })}
        <ActionForm action=save attr:class="form">
            <input type="hidden" name="id" value=id_save/>
            <TextField label=l.t("providers-name") name="name" value=p.name.clone() required=true error=field_error(outcome, "name")/>
            <TextField label=l.t("providers-issuer") name="issuer" kind="url" value=p.issuer.clone() required=true error=field_error(outcome, "issuer")/>
            <TextField label=l.t("providers-client-id") name="client_id" value=p.client_id.clone() required=true error=field_error(outcome, "client_id")/>
            <TextField label=if new { l.t("providers-client-secret") } else { l.t("providers-client-secret-keep") }
                name="client_secret" kind="password" autocomplete="off" required=new error=field_error(outcome, "client_secret")/>
            <TextField label=l.t("providers-scopes") name="scopes" value=p.scopes.join(" ") error=field_error(outcome, "scopes")/>
            <TextField label=l.t("providers-button-label") name="button_label" value=p.button_label.clone() required=true error=field_error(outcome, "button_label")/>
            <fieldset>
                <legend>{l.t("providers-match-by")}</legend>
                {MatchBy::ALL.into_iter().map(|m| view! {
                    <label class="choice"><input type="radio" name="match_by" value=m.as_str() checked=p.match_by == m/>{l.t(match_by_key(m))}</label>
                }).collect_view()}
            </fieldset>
            <Switch label=l.t("providers-create-users") name="create_users" checked=p.create_users/>
            <TextField label=l.t("providers-default-role") name="default_role" value=p.default_role.clone().unwrap_or_default() error=field_error(outcome, "default_role")/>
            <Switch label=l.t("providers-enabled") name="enabled" checked=p.enabled/>
            <SaveStatus outcome=outcome/>
            <div class="actions"><button type="submit" class="primary">{l.t("save")}</button></div>
        </ActionForm>
        {(!new).then(|| view! {
            <section class="danger" aria-labelledby="delete-provider">
                <h2 id="delete-provider">{l.t("providers-delete")}</h2>
                <p>{l.t("providers-delete-help")}</p>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id_del/>
                    <button type="submit" class="danger">{l.t("providers-delete")}</button>
                </ActionForm>
                <SaveStatus outcome=delete_outcome/>
            </section>
        })}
    }
}
