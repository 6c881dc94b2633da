//! The Audit page: every admin change, sign-in, sign-out and consent, newest first, filtered by
//! actor, object, action and time, in pages.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::encode_query;
use crate::api::operations::{audit_log, AUDIT_PAGE};
use crate::components::error_text;
use crate::i18n::{tr, use_lang};
use model::i18n::msg;

/// The actions the filter offers: each group, then each action (with its label's message key).
const ACTIONS: [(&str, &str); 20] = [
    ("app", msg("audit-action-app-any")),
    ("app.create", msg("audit-action-app-create")),
    ("app.update", msg("audit-action-app-update")),
    ("app.delete", msg("audit-action-app-delete")),
    ("user", msg("audit-action-user-any")),
    ("user.create", msg("audit-action-user-create")),
    ("user.update", msg("audit-action-user-update")),
    ("user.delete", msg("audit-action-user-delete")),
    ("role", msg("audit-action-role-any")),
    ("role.create", msg("audit-action-role-create")),
    ("role.update", msg("audit-action-role-update")),
    ("role.delete", msg("audit-action-role-delete")),
    ("role.member_add", msg("audit-action-role-member-add")),
    ("role.member_remove", msg("audit-action-role-member-remove")),
    ("keys.rotate", msg("audit-action-keys-rotate")),
    ("session", msg("audit-action-session-any")),
    ("session.sign_in", msg("audit-action-session-sign-in")),
    (
        "session.sign_in_failed",
        msg("audit-action-session-sign-in-failed"),
    ),
    ("session.sign_out", msg("audit-action-session-sign-out")),
    ("consent", msg("audit-action-consent-any")),
];

const FILTERS: [&str; 5] = ["actor", "object", "action", "since", "until"];

#[component]
pub fn AuditPage() -> impl IntoView {
    let l = use_lang();
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
        <Title text=l.t("audit-title")/>
        <h1>{l.t("audit-title")}</h1>
        <p>{l.t("audit-intro")}</p>
        <Form method="GET" action="">
            <div class="filters">
                <div class="field">
                    <label for="a-actor">{l.t("audit-actor")}</label>
                    <input id="a-actor" name="actor" type="search" value=get("actor") placeholder=l.t("audit-actor-placeholder")/>
                </div>
                <div class="field">
                    <label for="a-object">{l.t("audit-object")}</label>
                    <input id="a-object" name="object" type="search" value=get("object") placeholder=l.t("audit-object-placeholder")/>
                </div>
                <div class="field">
                    <label for="a-action">{l.t("audit-action")}</label>
                    <select id="a-action" name="action">
                        <option value="" selected=action_now.is_empty()>{l.t("audit-action-any")}</option>
                        {ACTIONS.iter().map(|(v, label)| {
                            let selected = action_now == *v;
                            view! { <option value=*v selected=selected>{l.t(label)}</option> }
                        }).collect_view()}
                        <option value="consent.grant" selected=action_now == "consent.grant">{l.t("audit-action-consent-grant")}</option>
                        <option value="consent.withdraw" selected=action_now == "consent.withdraw">{l.t("audit-action-consent-withdraw")}</option>
                    </select>
                </div>
                <div class="field">
                    <label for="a-since">{l.t("audit-since")}</label>
                    <input id="a-since" name="since" type="datetime-local" value=get("since")/>
                </div>
                <div class="field">
                    <label for="a-until">{l.t("audit-until")}</label>
                    <input id="a-until" name="until" type="datetime-local" value=get("until")/>
                </div>
                <div class="actions"><button type="submit">{l.t("audit-filter")}</button></div>
            </div>
        </Form>
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
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
                                <thead><tr><th>{l.t("audit-when")}</th><th>{l.t("audit-actor")}</th><th>{l.t("audit-from")}</th><th>{l.t("audit-action")}</th><th>{l.t("audit-object")}</th><th>{l.t("audit-changes")}</th></tr></thead>
                                <tbody>
                                    {page.items.into_iter().map(|r| {
                                        let who = match &r.client_id {
                                            Some(c) => tr!(l, "audit-actor-client", name = r.actor.clone(), id = c.clone()),
                                            None if r.actor_kind == "system" => tr!(l, "audit-actor-system", name = r.actor.clone()),
                                            None => r.actor.clone(),
                                        };
                                        let object = format!("{} {}", r.object_type, r.object_name.clone().unwrap_or(r.object_id.clone()));
                                        view! {
                                            <tr>
                                                <td><time datetime=r.at.clone()>{l.rfc3339(&r.at)}</time></td>
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
                                {tr!(l, "audit-records", count = page.total)}
                                {prev.map(|h| view! { " " <a href=h>{l.t("audit-previous")}</a> })}
                                {next.map(|h| view! { " " <a href=h>{l.t("audit-next")}</a> })}
                            </p>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
