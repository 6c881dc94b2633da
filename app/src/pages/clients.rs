//! `/admin/apps/:app_id/clients`: the clients registered with an app (SPEC §3b) — who they are,
//! how they authenticate, their grants and redirect URIs — with plain forms to add one, rotate a
//! secret and delete one (they work without JavaScript: `server::portal::clients_form`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::clients::{load_clients, ClientRow, ClientsData};
use crate::components::error_text;

#[component]
pub fn AppClientsPage() -> impl IntoView {
    let params = use_params_map();
    let app_id = move || params.read().get("app_id").unwrap_or_default();
    let data = Resource::new(app_id, load_clients);
    view! {
        <Title text="Clients"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
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
        <h1>{format!("Clients of {app_name}")}</h1>
        {message.map(|m| if refused {
            view! { <p class="status error" role="alert">{m}</p> }.into_any()
        } else {
            view! { <p class="status ok" role="status">{m}</p> }.into_any()
        })}
        {secret.map(|(id, s)| view! {
            <section class="secret" aria-labelledby="h-secret">
                <h2 id="h-secret">"The client's secret"</h2>
                <p>{format!("Client {id}. Copy the secret now: it is not shown again.")}</p>
                <pre><code>{s}</code></pre>
            </section>
        })}
        {(!registered).then(|| view! {
            <p>"This app's Client ID Type is not "<strong>"Registered clients"</strong>": switch it on the app screen (General Usage) to add clients here or let them register themselves."</p>
        })}
        <section aria-labelledby="h-list">
            <h2 id="h-list">"Clients"</h2>
            {if clients.is_empty() {
                view! { <p>"No clients yet."</p> }.into_any()
            } else {
                view! { <ClientTable clients action=action.clone()/> }.into_any()
            }}
        </section>
        {registered.then(|| view! { <AddClient action=action.clone()/> })}
    }
}

#[component]
fn ClientTable(clients: Vec<ClientRow>, action: String) -> impl IntoView {
    view! {
        <table class="grid">
            <thead><tr>
                <th>"Name"</th><th>"Client ID"</th><th>"Authentication"</th><th>"Grants"</th>
                <th>"Redirect URIs"</th><th>"Added"</th><th>"Last used"</th><th>"Actions"</th>
            </tr></thead>
            <tbody>
                {clients.into_iter().map(|c| {
                    let secret = matches!(c.auth_method.as_str(), "client_secret_basic" | "client_secret_post");
                    let label = if c.name.is_empty() { c.client_id.clone() } else { c.name.clone() };
                    view! {
                        <tr>
                            <td>{c.name.clone()}</td>
                            <td><code>{c.client_id.clone()}</code></td>
                            <td>{c.auth_method.clone()}</td>
                            <td>{c.grant_types.join(", ")}</td>
                            <td>{c.redirect_uris.join(" ")}</td>
                            <td>{format!("{}{}", c.created_at, if c.self_registered { " (registered itself)" } else { "" })}</td>
                            <td>{c.last_used_at.clone().unwrap_or_else(|| "never".into())}</td>
                            <td>
                                {secret.then(|| view! {
                                    <form method="post" action=action.clone() class="inline">
                                        <input type="hidden" name="client_id" value=c.client_id.clone()/>
                                        <button type="submit" name="op" value="rotate" aria-label=format!("New secret for {label}")>"New secret"</button>
                                    </form>
                                })}
                                <form method="post" action=action.clone() class="inline">
                                    <input type="hidden" name="client_id" value=c.client_id.clone()/>
                                    <button type="submit" name="op" value="delete" class="danger" aria-label=format!("Delete {label}")>"Delete"</button>
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
    view! {
        <section aria-labelledby="h-add">
            <h2 id="h-add">"Add a client"</h2>
            <form method="post" action=action>
                <input type="hidden" name="op" value="add"/>
                <div class="field">
                    <label for="client_name">"Client name"</label>
                    <input id="client_name" name="client_name" autocomplete="off"/>
                </div>
                <div class="field">
                    <label for="redirect_uris">"Redirect URIs (one per line; https, or http on 127.0.0.1, [::1] or localhost)"</label>
                    <textarea id="redirect_uris" name="redirect_uris"></textarea>
                </div>
                <div class="field">
                    <label for="auth_method">"Authentication at the token endpoint"</label>
                    <select id="auth_method" name="token_endpoint_auth_method">
                        <option value="none">"None (a public client with PKCE)"</option>
                        <option value="client_secret_basic" selected=true>"Secret in the Basic header"</option>
                        <option value="client_secret_post">"Secret in the body"</option>
                    </select>
                </div>
                <fieldset>
                    <legend>"Grant types"</legend>
                    <label class="choice"><input type="checkbox" name="grant_types" value="authorization_code" checked=true/>"Authorization code"</label>
                    <label class="choice"><input type="checkbox" name="grant_types" value="refresh_token"/>"Refresh token"</label>
                    <label class="choice"><input type="checkbox" name="grant_types" value="client_credentials"/>"Client credentials"</label>
                </fieldset>
                <button type="submit" class="primary">"Add client"</button>
            </form>
        </section>
    }
}
