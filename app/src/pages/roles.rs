//! The Roles screens: list and create, then a role's name, description, admin rights and members.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use model::i18n::msg;
use model::rights::Right;

use crate::api::roles::{
    get_role, list_roles, AddMember, CreateRole, DeleteRole, RemoveMember, UpdateRole,
};
use crate::components::{error_text, field_error, Outcome, SaveStatus, TextField};
use crate::i18n::{tr, use_lang};

/// The key of an admin right's name as the pages show it.
fn right_key(r: Right) -> &'static str {
    match r {
        Right::Apps => msg("roles-right-apps"),
        Right::Users => msg("roles-right-users"),
        Right::Roles => msg("roles-right-roles"),
    }
}

/// The three admin-right checkboxes, ticked as `rights` says.
#[component]
fn RightsFields(rights: Vec<Right>) -> impl IntoView {
    let l = use_lang();
    let has = move |r: &str| rights.iter().any(|x| x.as_str() == r);
    view! {
        <fieldset class="rights">
            <legend>{l.t("roles-admin-rights")}</legend>
            <div class="field switch"><input id="right-apps" type="checkbox" name="right_apps" value="on" checked=has("apps")/><label for="right-apps">{l.t(right_key(Right::Apps))}</label></div>
            <div class="field switch"><input id="right-users" type="checkbox" name="right_users" value="on" checked=has("users")/><label for="right-users">{l.t(right_key(Right::Users))}</label></div>
            <div class="field switch"><input id="right-roles" type="checkbox" name="right_roles" value="on" checked=has("roles")/><label for="right-roles">{l.t(right_key(Right::Roles))}</label></div>
        </fieldset>
    }
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let l = use_lang();
    let create = ServerAction::<CreateRole>::new();
    let roles = Resource::new(move || create.version().get(), |_| list_roles());
    let outcome: Outcome = create.value().into();
    view! {
        <Title text=l.t("roles-title")/>
        <h1>{l.t("roles-title")}</h1>
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
            {move || Suspend::new(async move {
                match roles.await {
                    Ok(list) => view! {
                        <table class="grid">
                            <thead><tr><th>{l.t("roles-name")}</th><th>{l.t("roles-description")}</th><th>{l.t("roles-admin-rights")}</th><th>{l.t("roles-members")}</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(move |r| view! {
                                    <tr>
                                        <td><A href=format!("/admin/roles/{}", r.id)>{r.name.clone()}</A></td>
                                        <td>{r.description}</td>
                                        <td>{r.admin_rights.iter().map(|r| l.t(right_key(*r))).collect::<Vec<_>>().join(", ")}</td>
                                        <td>{if r.builtin.as_deref() == Some("everybody") { l.t("roles-every-enabled-user") } else { l.number(r.members.len() as i64) }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
        <section aria-labelledby="new-role">
            <h2 id="new-role">{l.t("roles-new")}</h2>
            <ActionForm action=create attr:class="form">
                <TextField label=l.t("roles-name") name="name" required=true error=field_error(outcome, "name")/>
                <TextField label=l.t("roles-description") name="description" error=field_error(outcome, "description")/>
                <RightsFields rights=vec![]/>
                <SaveStatus outcome=outcome/>
                <div class="actions"><button type="submit" class="primary">{l.t("roles-create")}</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn RolePage() -> impl IntoView {
    let l = use_lang();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let save = ServerAction::<UpdateRole>::new();
    let add = ServerAction::<AddMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let delete = ServerAction::<DeleteRole>::new();
    let detail = Resource::new(
        move || {
            (
                id(),
                save.version().get(),
                add.version().get(),
                remove.version().get(),
            )
        },
        |(id, _, _, _)| get_role(id),
    );
    let outcome: Outcome = save.value().into();
    let add_outcome: Outcome = add.value().into();
    let remove_outcome: Outcome = remove.value().into();
    let delete_outcome: Outcome = delete.value().into();
    let created = use_query_map().read_untracked().get("saved").is_some();
    view! {
        <Title text=l.t("roles-role-title")/>
        {created.then(|| view! { <p class="status ok" role="status">{l.t("roles-created")}</p> })}
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(d) => {
                        let r = d.role.clone();
                        let rid = r.id.clone();
                        let everybody = r.builtin.as_deref() == Some("everybody");
                        let builtin = r.builtin.is_some();
                        let editable = d.editable;
                        let members_view = if everybody {
                            view! { <p>{l.t("roles-everybody-members")}</p> }.into_any()
                        } else {
                            let items = d.members.clone().into_iter().map(|(uid, login)| {
                                let rid = rid.clone();
                                view! {
                                    <li>
                                        <a href=format!("/admin/users/{uid}")>{login.clone()}</a>
                                        {editable.then(|| view! {
                                            <ActionForm action=remove attr:class="inline">
                                                <input type="hidden" name="role_id" value=rid/>
                                                <input type="hidden" name="user_id" value=uid.clone()/>
                                                <button type="submit" class="link" aria-label=tr!(l, "roles-remove-member", login = login.clone())>{l.t("remove")}</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }
                            }).collect_view();
                            let rid = rid.clone();
                            view! {
                                <ul class="members">{items}</ul>
                                <SaveStatus outcome=remove_outcome/>
                                {editable.then(|| view! {
                                    <ActionForm action=add attr:class="inline-form">
                                        <input type="hidden" name="role_id" value=rid/>
                                        <TextField label=l.t("roles-add-member-label") name="login_name" id_prefix="add-" error=field_error(add_outcome, "login_name")/>
                                        <button type="submit">{l.t("roles-add-member")}</button>
                                    </ActionForm>
                                })}
                                <SaveStatus outcome=add_outcome/>
                            }.into_any()
                        };
                        let delete_view = (!builtin && editable).then(|| {
                            let rid = rid.clone();
                            view! {
                                <section class="danger" aria-labelledby="delete-role">
                                    <h2 id="delete-role">{l.t("roles-delete")}</h2>
                                    <ActionForm action=delete>
                                        <input type="hidden" name="id" value=rid/>
                                        <button type="submit" class="danger">{l.t("roles-delete")}</button>
                                    </ActionForm>
                                    <SaveStatus outcome=delete_outcome/>
                                </section>
                            }
                        });
                        view! {
                            <div class="page-head"><h1>{r.name.clone()}</h1><a href="/admin/roles">{l.t("roles-all")}</a></div>
                            {(!editable).then(|| view! {
                                <p class="status" role="note">{l.t("roles-not-editable")}</p>
                            })}
                            <ActionForm action=save attr:class="form">
                                <input type="hidden" name="id" value=rid.clone()/>
                                <fieldset class="plain" disabled=!editable>
                                <TextField label=l.t("roles-name") name="name" value=r.name.clone() required=true error=field_error(outcome, "name")/>
                                <TextField label=l.t("roles-description") name="description" value=r.description.clone() error=field_error(outcome, "description")/>
                                <RightsFields rights=r.admin_rights.clone()/>
                                <SaveStatus outcome=outcome/>
                                <div class="actions"><button type="submit" class="primary">{l.t("save")}</button></div>
                                </fieldset>
                            </ActionForm>
                            <section aria-labelledby="role-members">
                                <h2 id="role-members">{l.t("roles-members")}</h2>
                                {members_view}
                            </section>
                            {delete_view}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
