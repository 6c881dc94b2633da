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

#[component]
pub fn ProvidersPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| list_identity_providers());
    view! {
        <Title text="Sign-in providers"/>
        <div class="page-head"><h1>"Sign-in providers"</h1><a href="/admin/identity-providers/new">"Add a provider"</a></div>
        <p class="muted">"People may sign in through these OpenID providers: a button on the login page for each enabled one."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(items) if items.is_empty() => view! { <p>"None yet."</p> }.into_any(),
                    Ok(items) => view! {
                        <table>
                            <caption class="visually-hidden">"Sign-in providers"</caption>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Issuer"</th><th scope="col">"Button"</th><th scope="col">"Enabled"</th></tr></thead>
                            <tbody>
                                {items.into_iter().map(|p| view! {
                                    <tr>
                                        <td><a href=format!("/admin/identity-providers/{}", p.id)>{p.name.clone()}</a></td>
                                        <td><code>{p.issuer.clone()}</code></td>
                                        <td>{format!("Sign in with {}", p.button_label)}</td>
                                        <td>{if p.enabled { "Yes" } else { "No" }}</td>
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
        <Title text="Sign-in provider"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
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
        "Add a sign-in provider".to_string()
    } else {
        p.name.clone()
    };
    let (id_save, id_del) = (p.id.clone(), p.id.clone());
    view! {
        <div class="page-head"><h1>{heading}</h1><a href="/admin/identity-providers">"All providers"</a></div>
        {saved.then(|| view! { <p class="status ok" role="status">"Provider saved."</p> })}
        {(!new).then(|| view! {
            <p>"Register this redirect URI with the provider: " <code id="redirect-uri">{p.redirect_uri.clone()}</code></p>
        })}
        <ActionForm action=save attr:class="form">
            <input type="hidden" name="id" value=id_save/>
            <TextField label="Name" name="name" value=p.name.clone() required=true error=field_error(outcome, "name")/>
            <TextField label="Issuer" name="issuer" kind="url" value=p.issuer.clone() required=true error=field_error(outcome, "issuer")/>
            <TextField label="Client ID" name="client_id" value=p.client_id.clone() required=true error=field_error(outcome, "client_id")/>
            <TextField label=if new { "Client secret" } else { "Client secret (leave empty to keep the stored one)" }
                name="client_secret" kind="password" autocomplete="off" required=new error=field_error(outcome, "client_secret")/>
            <TextField label="Scopes (space-separated)" name="scopes" value=p.scopes.join(" ") error=field_error(outcome, "scopes")/>
            <TextField label="Button label (Sign in with …)" name="button_label" value=p.button_label.clone() required=true error=field_error(outcome, "button_label")/>
            <fieldset>
                <legend>"A first sign-in is this local person"</legend>
                {MatchBy::ALL.into_iter().map(|m| view! {
                    <label class="choice"><input type="radio" name="match_by" value=m.as_str() checked=p.match_by == m/>{m.label()}</label>
                }).collect_view()}
            </fieldset>
            <Switch label="Create a user for a person no local user matches" name="create_users" checked=p.create_users/>
            <TextField label="Role of created users (a role name; empty: none)" name="default_role" value=p.default_role.clone().unwrap_or_default() error=field_error(outcome, "default_role")/>
            <Switch label="Enabled" name="enabled" checked=p.enabled/>
            <SaveStatus outcome=outcome/>
            <div class="actions"><button type="submit" class="primary">"Save"</button></div>
        </ActionForm>
        {(!new).then(|| view! {
            <section class="danger" aria-labelledby="delete-provider">
                <h2 id="delete-provider">"Delete provider"</h2>
                <p>"People linked to it can no longer sign in through it; their accounts here stay."</p>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id_del/>
                    <button type="submit" class="danger">"Delete provider"</button>
                </ActionForm>
                <SaveStatus outcome=delete_outcome/>
            </section>
        })}
    }
}
