//! The Audit page: every admin change, sign-in, sign-out and consent, newest first, filtered by
//! actor, object, action and time, in pages.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::encode_query;
use crate::api::operations::{audit_log, AUDIT_PAGE};
use crate::components::error_text;

/// The actions the filter offers: each group, then each action.
const ACTIONS: [(&str, &str); 20] = [
    ("app", "Apps: any"),
    ("app.create", "App created"),
    ("app.update", "App changed"),
    ("app.delete", "App deleted"),
    ("user", "Users: any"),
    ("user.create", "User created"),
    ("user.update", "User changed"),
    ("user.delete", "User deleted"),
    ("role", "Roles: any"),
    ("role.create", "Role created"),
    ("role.update", "Role changed"),
    ("role.delete", "Role deleted"),
    ("role.member_add", "Member added"),
    ("role.member_remove", "Member removed"),
    ("keys.rotate", "Keys rotated"),
    ("session", "Sessions: any"),
    ("session.sign_in", "Signed in"),
    ("session.sign_in_failed", "Sign-in failed"),
    ("session.sign_out", "Signed out"),
    ("consent", "Consents: any"),
];

const FILTERS: [&str; 5] = ["actor", "object", "action", "since", "until"];

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k).unwrap_or_default();
    let offset = move || get("offset").parse::<i64>().unwrap_or(0).max(0);
    let records = Resource::new(
        move || (FILTERS.map(get), offset()),
        |([actor, object, action, since, until], o)| {
            audit_log(actor, object, action, since, until, o)
        },
    );
    let action_now = get("action");
    view! {
        <Title text="Audit"/>
        <h1>"Audit"</h1>
        <p>"Every change to apps, users, roles and keys, every sign-in and sign-out, every consent given or withdrawn. Times are UTC."</p>
        <Form method="GET" action="">
            <div class="filters">
                <div class="field">
                    <label for="a-actor">"Actor"</label>
                    <input id="a-actor" name="actor" type="search" value=get("actor") placeholder="login name"/>
                </div>
                <div class="field">
                    <label for="a-object">"Object"</label>
                    <input id="a-object" name="object" type="search" value=get("object") placeholder="app:billing, a login name…"/>
                </div>
                <div class="field">
                    <label for="a-action">"Action"</label>
                    <select id="a-action" name="action">
                        <option value="" selected=action_now.is_empty()>"Any"</option>
                        {ACTIONS.iter().map(|(v, label)| {
                            let selected = action_now == *v;
                            view! { <option value=*v selected=selected>{*label}</option> }
                        }).collect_view()}
                        <option value="consent.grant" selected=action_now == "consent.grant">"Consent given"</option>
                        <option value="consent.withdraw" selected=action_now == "consent.withdraw">"Consent withdrawn"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="a-since">"Since (UTC)"</label>
                    <input id="a-since" name="since" type="datetime-local" value=get("since")/>
                </div>
                <div class="field">
                    <label for="a-until">"Until (UTC)"</label>
                    <input id="a-until" name="until" type="datetime-local" value=get("until")/>
                </div>
                <div class="actions"><button type="submit">"Filter"</button></div>
            </div>
        </Form>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match records.await {
                    Ok(page) => {
                        let o = offset();
                        let base: String = FILTERS
                            .iter()
                            .map(|k| format!("{k}={}&", encode_query(&get(k))))
                            .collect();
                        let prev = (o > 0).then(|| format!("/admin/audit?{base}offset={}", (o - AUDIT_PAGE).max(0)));
                        let next = (o + AUDIT_PAGE < page.total).then(|| format!("/admin/audit?{base}offset={}", o + AUDIT_PAGE));
                        view! {
                            <table class="grid audit">
                                <thead><tr><th>"When"</th><th>"Actor"</th><th>"From"</th><th>"Action"</th><th>"Object"</th><th>"Changes"</th></tr></thead>
                                <tbody>
                                    {page.items.into_iter().map(|r| {
                                        let who = match &r.client_id {
                                            Some(c) => format!("{} (client {c})", r.actor),
                                            None if r.actor_kind == "system" => format!("{} (command line)", r.actor),
                                            None => r.actor.clone(),
                                        };
                                        let object = format!("{} {}", r.object_type, r.object_name.clone().unwrap_or(r.object_id.clone()));
                                        view! {
                                            <tr>
                                                <td><time datetime=r.at.clone()>{r.at.replace('T', " ").replace('Z', "")}</time></td>
                                                <td>{who}</td>
                                                <td>{r.address.unwrap_or_default()}</td>
                                                <td><code>{r.action}</code></td>
                                                <td>{object}</td>
                                                <td>
                                                    <ul class="changes">
                                                        {r.changes.into_iter().map(|c| view! {
                                                            <li><strong>{c.field}</strong>": "
                                                                {c.old.unwrap_or_else(|| "—".into())}" → "{c.new.unwrap_or_else(|| "—".into())}</li>
                                                        }).collect_view()}
                                                    </ul>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <p class="pager">
                                {format!("{} record(s)", page.total)}
                                {prev.map(|h| view! { " " <a href=h>"Previous"</a> })}
                                {next.map(|h| view! { " " <a href=h>"Next"</a> })}
                            </p>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
