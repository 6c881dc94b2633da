//! The Roles screens: list and create, then a role's name, description, admin rights and members.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use model::rights::Right;

use crate::api::roles::{
    get_role, list_roles, AddMember, CreateRole, DeleteRole, RemoveMember, UpdateRole,
};
use crate::components::{error_text, field_error, Outcome, SaveStatus, TextField};

/// The three admin-right checkboxes, ticked as `rights` says.
#[component]
fn RightsFields(rights: Vec<Right>) -> impl IntoView {
    let has = move |r: &str| rights.iter().any(|x| x.as_str() == r);
    view! {
        <fieldset class="rights">
            <legend>"Admin rights"</legend>
            <div class="field switch"><input id="right-apps" type="checkbox" name="right_apps" value="on" checked=has("apps")/><label for="right-apps">"apps"</label></div>
            <div class="field switch"><input id="right-users" type="checkbox" name="right_users" value="on" checked=has("users")/><label for="right-users">"users"</label></div>
            <div class="field switch"><input id="right-roles" type="checkbox" name="right_roles" value="on" checked=has("roles")/><label for="right-roles">"roles"</label></div>
        </fieldset>
    }
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let create = ServerAction::<CreateRole>::new();
    let roles = Resource::new(move || create.version().get(), |_| list_roles());
    let outcome: Outcome = create.value().into();
    view! {
        <Title text="Roles"/>
        <h1>"Roles"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match roles.await {
                    Ok(list) => view! {
                        <table class="grid">
                            <thead><tr><th>"Name"</th><th>"Description"</th><th>"Admin rights"</th><th>"Members"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|r| view! {
                                    <tr>
                                        <td><A href=format!("/admin/roles/{}", r.id)>{r.name.clone()}</A></td>
                                        <td>{r.description}</td>
                                        <td>{r.admin_rights.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")}</td>
                                        <td>{if r.builtin.as_deref() == Some("everybody") { "every enabled user".to_string() } else { r.members.len().to_string() }}</td>
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
            <h2 id="new-role">"New role"</h2>
            <ActionForm action=create attr:class="form">
                <TextField label="Name" name="name" required=true error=field_error(outcome, "name")/>
                <TextField label="Description" name="description" error=field_error(outcome, "description")/>
                <RightsFields rights=vec![]/>
                <SaveStatus outcome=outcome/>
                <div class="actions"><button type="submit" class="primary">"Create role"</button></div>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn RolePage() -> impl IntoView {
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
        <Title text="Role"/>
        {created.then(|| view! { <p class="status ok" role="status">"Role created."</p> })}
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
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
                            view! { <p>"Everybody contains every enabled user."</p> }.into_any()
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
                                                <button type="submit" class="link" aria-label=format!("Remove {login}")>"Remove"</button>
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
                                        <TextField label="Add member by login name" name="login_name" id_prefix="add-" error=field_error(add_outcome, "login_name")/>
                                        <button type="submit">"Add member"</button>
                                    </ActionForm>
                                })}
                                <SaveStatus outcome=add_outcome/>
                            }.into_any()
                        };
                        let delete_view = (!builtin && editable).then(|| {
                            let rid = rid.clone();
                            view! {
                                <section class="danger" aria-labelledby="delete-role">
                                    <h2 id="delete-role">"Delete role"</h2>
                                    <ActionForm action=delete>
                                        <input type="hidden" name="id" value=rid/>
                                        <button type="submit" class="danger">"Delete role"</button>
                                    </ActionForm>
                                    <SaveStatus outcome=delete_outcome/>
                                </section>
                            }
                        });
                        view! {
                            <div class="page-head"><h1>{r.name.clone()}</h1><a href="/admin/roles">"All roles"</a></div>
                            {(!editable).then(|| view! {
                                <p class="status" role="note">"Only an administrator holding every right of this role may change it or its members."</p>
                            })}
                            <ActionForm action=save attr:class="form">
                                <input type="hidden" name="id" value=rid.clone()/>
                                <fieldset class="plain" disabled=!editable>
                                <TextField label="Name" name="name" value=r.name.clone() required=true error=field_error(outcome, "name")/>
                                <TextField label="Description" name="description" value=r.description.clone() error=field_error(outcome, "description")/>
                                <RightsFields rights=r.admin_rights.clone()/>
                                <SaveStatus outcome=outcome/>
                                <div class="actions"><button type="submit" class="primary">"Save"</button></div>
                                </fieldset>
                            </ActionForm>
                            <section aria-labelledby="role-members">
                                <h2 id="role-members">"Members"</h2>
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
