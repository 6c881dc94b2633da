//! Pages of the authorize flow and the person's account, outside the portal: the consent page
//! and the connected apps with Withdraw. Plain forms that post to the OAuth2 endpoints, so they
//! work without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{connected_apps, consent_view, ApprovedApps, ConsentRequest};
use crate::api::encode_query;
use crate::components::error_text;

#[component]
pub fn ConsentPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| consent_view());
    view! {
        <main class="center">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <ConsentForm v=v/> }.into_any(),
                        Err(e) => view! {
                            <Title text="Authorization error"/>
                            <h1>"This sign-in request cannot be completed"</h1>
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
        <Title text=format!("Authorize {app_name}")/>
        <h1>{format!("Allow {app_name} to access your account?")}</h1>
        {client.map(|c| view! { <p class="client">"Requested by " <strong>{c}</strong></p> })}
        {administrative.then(|| view! {
            <p role="alert" class="warning">
                <strong>"This grants administrative access to Gatehouse."</strong>
                {format!(" {app_name} will be able to use Gatehouse's admin API as you: \
                    change apps, users and roles with your admin rights. Approve only if you \
                    set this application up yourself.")}
            </p>
        })}
        <form method="post" action=format!("/oauth2/consent/{}", encode_query(&app_id))>
            {hidden.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()}
            <input type="hidden" name="csrf" value=csrf/>
            <fieldset>
                <legend>{format!("{app_name} asks for")}</legend>
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
                <button type="submit" name="decision" value="approve" class="primary">"Approve"</button>
                <button type="submit" name="decision" value="deny">"Deny"</button>
            </div>
        </form>
    }
}

#[component]
pub fn ConnectedAppsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| connected_apps());
    view! {
        <Title text="Connected apps"/>
        <main class="center">
            <h1>"Connected apps"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(ApprovedApps { apps, .. }) if apps.is_empty() => {
                            view! { <p>"You have not approved any application."</p> }.into_any()
                        }
                        Ok(ApprovedApps { apps, csrf }) => view! {
                            <table class="grid">
                                <thead><tr><th>"Application"</th><th>"Approved scopes"</th><th></th></tr></thead>
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
                                                        <button type="submit" aria-label=format!("Withdraw access of {name}")>"Withdraw"</button>
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
