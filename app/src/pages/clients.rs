//! `/admin/apps/:app_id/clients`: the clients registered with an app (SPEC §3b) — who they are,
//! how they authenticate, their grants and redirect URIs — with plain forms to add one, rotate a
//! secret and delete one (they work without JavaScript: `server::portal::clients_form`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::clients::{load_clients, ClientRow, ClientsData};
use crate::components::error_text;
use crate::i18n::{tr, use_lang};

#[component]
pub fn AppClientsPage() -> impl IntoView {
    let l = use_lang();
    let params = use_params_map();
    let app_id = move || params.read().get("app_id").unwrap_or_default();
    let data = Resource::new(app_id, load_clients);
    view! {
        <Title text=l.t("clients-title")/>
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(d) => view! { <Clients d/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Clients(d: ClientsData) -> impl IntoView {
    let l = use_lang();
    let ClientsData {
        app_id,
        app_name,
        registered,
        clients,
        message,
        refused,
        secret,
    } = d;
    let action = format!("/admin/apps/{app_id}/clients");
    view! {
        <p><a href=format!("/admin/apps/{app_id}")>{format!("← {app_name}")}</a></p>
        <h1>{tr!(l, "clients-heading", app = app_name.clone())}</h1>
        {message.map(|m| if refused {
            view! { <p class="status error" role="alert">{m}</p> }.into_any()
        } else {
            view! { <p class="status ok" role="status">{m}</p> }.into_any()
        })}
        {secret.map(|(id, s)| view! {
            <section class="secret" aria-labelledby="h-secret">
                <h2 id="h-secret">{l.t("clients-secret-heading")}</h2>
                <p>{tr!(l, "clients-secret-once", id = id)}</p>
                <pre><code>{s}</code></pre>
            </section>
        })}
        {(!registered).then(|| view! {
            <p>{l.t("clients-not-registered-start")}" "<strong>{l.t("clients-registered-clients")}</strong>": "{l.t("clients-not-registered-end")}</p>
        })}
        <section aria-labelledby="h-list">
            <h2 id="h-list">{l.t("clients-title")}</h2>
            {if clients.is_empty() {
                view! { <p>{l.t("clients-none")}</p> }.into_any()
            } else {
                view! { <ClientTable clients action=action.clone()/> }.into_any()
            }}
        </section>
        {registered.then(|| view! { <AddClient action=action.clone()/> })}
    }
}

#[component]
fn ClientTable(clients: Vec<ClientRow>, action: String) -> impl IntoView {
    let l = use_lang();
    view! {
        <table class="grid">
            <thead><tr>
                <th>{l.t("clients-col-name")}</th><th>{l.t("clients-col-client-id")}</th><th>{l.t("clients-col-authentication")}</th><th>{l.t("clients-col-grants")}</th>
                <th>{l.t("clients-col-redirect-uris")}</th><th>{l.t("clients-col-added")}</th><th>{l.t("clients-col-last-used")}</th><th>{l.t("clients-col-actions")}</th>
            </tr></thead>
            <tbody>
                {clients.into_iter().map(move |c| {
                    let secret = matches!(c.auth_method.as_str(), "client_secret_basic" | "client_secret_post");
                    let label = if c.name.is_empty() { c.client_id.clone() } else { c.name.clone() };
                    view! {
                        <tr>
                            <td>{c.name.clone()}</td>
                            <td><code>{c.client_id.clone()}</code></td>
                            <td>{c.auth_method.clone()}</td>
                            <td>{c.grant_types.join(", ")}</td>
                            <td>{c.redirect_uris.join(" ")}</td>
                            <td>{format!("{}{}", l.rfc3339(&c.created_at), if c.self_registered { format!(" ({})", l.t("clients-registered-itself")) } else { String::new() })}</td>
                            <td>{c.last_used_at.as_deref().map(|t| l.rfc3339(t)).unwrap_or_else(|| l.t("never"))}</td>
                            <td>
                                {secret.then(|| view! {
                                    <form method="post" action=action.clone() class="inline">
                                        <input type="hidden" name="client_id" value=c.client_id.clone()/>
                                        <button type="submit" name="op" value="rotate" aria-label=tr!(l, "clients-new-secret-for", name = label.clone())>{l.t("clients-new-secret")}</button>
                                    </form>
                                })}
                                <form method="post" action=action.clone() class="inline">
                                    <input type="hidden" name="client_id" value=c.client_id.clone()/>
                                    <button type="submit" name="op" value="delete" class="danger" aria-label=tr!(l, "clients-delete-named", name = label.clone())>{l.t("delete")}</button>
                                </form>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn AddClient(action: String) -> impl IntoView {
    let l = use_lang();
    view! {
        <section aria-labelledby="h-add">
            <h2 id="h-add">{l.t("clients-add-heading")}</h2>
            <form method="post" action=action>
                <input type="hidden" name="op" value="add"/>
                <div class="field">
                    <label for="client_name">{l.t("clients-name-label")}</label>
                    <input id="client_name" name="client_name" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="redirect_uris">{l.t("clients-redirect-uris-label")}</label>
                    <textarea id="redirect_uris" name="redirect_uris"></textarea>
                </div>
                <div class="field">
                    <label for="auth_method">{l.t("clients-auth-label")}</label>
                    <select id="auth_method" name="token_endpoint_auth_method">
                        <option value="none">{l.t("clients-auth-none")}</option>
                        <option value="client_secret_basic" selected=true>{l.t("clients-auth-basic")}</option>
                        <option value="client_secret_post">{l.t("clients-auth-post")}</option>
                    </select>
                </div>
                <fieldset>
                    <legend>{l.t("clients-grant-types")}</legend>
                    <label class="choice"><input type="checkbox" name="grant_types" value="authorization_code" checked=true/>{l.t("clients-grant-authorization-code")}</label>
                    <label class="choice"><input type="checkbox" name="grant_types" value="refresh_token"/>{l.t("clients-grant-refresh-token")}</label>
                    <label class="choice"><input type="checkbox" name="grant_types" value="client_credentials"/>{l.t("clients-grant-client-credentials")}</label>
                </fieldset>
                <button type="submit" class="primary">{l.t("clients-add")}</button>
            </form>
        </section>
    }
}
