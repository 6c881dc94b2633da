//! Pages of the authorize flow and the person's account, outside the portal: the consent page
//! and the connected apps with Withdraw. Plain forms that post to the OAuth2 endpoints, so they
//! work without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{connected_apps, consent_view, ApprovedApps, ConsentRequest};
use crate::api::encode_query;
use crate::components::error_text;
use crate::i18n::{tr, use_lang};

#[component]
pub fn ConsentPage() -> impl IntoView {
    let l = use_lang();
    let data = Resource::new(|| (), |_| consent_view());
    view! {
        <main class="center">
            <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <ConsentForm v=v/> }.into_any(),
                        Err(e) => view! {
                            <Title text=l.t("consent-error-title")/>
                            <h1>{l.t("consent-error-heading")}</h1>
                            <p role="alert">{error_text(&e)}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn ConsentForm(v: ConsentRequest) -> impl IntoView {
    let l = use_lang();
    let ConsentRequest {
        app_id,
        app_name,
        scopes,
        administrative,
        client,
        hidden,
        csrf,
    } = v;
    view! {
        <Title text=tr!(l, "consent-title", app = app_name.clone())/>
        <h1>{tr!(l, "consent-heading", app = app_name.clone())}</h1>
        {client.map(|c| view! { <p class="client">{format!("{} ", l.t("consent-requested-by"))}<strong>{c}</strong></p> })}
        {administrative.then(|| view! {
            <p role="alert" class="warning">
                <strong>{l.t("consent-admin-warning")}</strong>
                {format!(" {}", tr!(l, "consent-admin-detail", app = app_name.clone()))}
            </p>
        })}
        <form method="post" action=format!("/oauth2/consent/{}", encode_query(&app_id))>
            {hidden.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()}
            <input type="hidden" name="csrf" value=csrf/>
            <fieldset>
                <legend>{tr!(l, "consent-asks-for", app = app_name.clone())}</legend>
                {scopes.into_iter().enumerate().map(|(i, (name, desc))| {
                    let id = format!("scope-{i}");
                    view! {
                        <div class="field switch">
                            <input type="checkbox" id=id.clone() name="scope_choice" value=name.clone() checked=true/>
                            <label for=id>
                                <strong>{name}</strong>
                                {(!desc.is_empty()).then(|| format!(" — {desc}"))}
                            </label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <div class="actions">
                <button type="submit" name="decision" value="approve" class="primary">{l.t("approve")}</button>
                <button type="submit" name="decision" value="deny">{l.t("deny")}</button>
            </div>
        </form>
    }
}

#[component]
pub fn ConnectedAppsPage() -> impl IntoView {
    let l = use_lang();
    let data = Resource::new(|| (), |_| connected_apps());
    view! {
        <Title text=l.t("connected-title")/>
        <main class="center">
            <h1>{l.t("connected-title")}</h1>
            <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(ApprovedApps { apps, .. }) if apps.is_empty() => {
                            view! { <p>{l.t("connected-none")}</p> }.into_any()
                        }
                        Ok(ApprovedApps { apps, csrf }) => view! {
                            <table class="grid">
                                <thead><tr><th>{l.t("connected-app")}</th><th>{l.t("connected-scopes")}</th><th></th></tr></thead>
                                <tbody>
                                    {apps.into_iter().map(|(id, name, scopes)| {
                                        let csrf = csrf.clone();
                                        view! {
                                            <tr>
                                                <td>{name.clone()}</td>
                                                <td>{scopes}</td>
                                                <td>
                                                    <form method="post" action=format!("/account/apps/{}/withdraw", encode_query(&id))>
                                                        <input type="hidden" name="csrf" value=csrf/>
                                                        <button type="submit" aria-label=tr!(l, "connected-withdraw-named", app = name.clone())>{l.t("connected-withdraw")}</button>
                                                    </form>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}
