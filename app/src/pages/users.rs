//! The Users screens: list with search and paging, create, edit (password, roles), delete.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::roles::{AddMember, RemoveMember};
use crate::api::users::{get_user, list_users, CreateUser, DeleteUser, UpdateUser, PAGE_SIZE};
use crate::components::{error_text, field_error, JwksField, SaveStatus, Switch, TextField};
use crate::i18n::{tr, use_lang};

#[component]
pub fn UsersPage() -> impl IntoView {
    let l = use_lang();
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let offset = move || {
        query
            .read()
            .get("offset")
            .and_then(|o| o.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0)
    };
    let users = Resource::new(move || (q(), offset()), |(q, o)| list_users(q, o));
    view! {
        <Title text=l.t("users-title")/>
        <div class="page-head">
            <h1>{l.t("users-title")}</h1>
            <a class="button primary" href="/admin/users/new">{l.t("users-new")}</a>
        </div>
        <Form method="GET" action="">
            <div class="search">
                <label for="user-search">{l.t("users-search-label")}</label>
                <input id="user-search" type="search" name="q" value=q/>
                <button type="submit">{l.t("users-search")}</button>
            </div>
        </Form>
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => {
                        let o = offset();
                        let q = q();
                        let total = list.total;
                        let prev = (o > 0).then(|| format!("/admin/users?q={}&offset={}", crate::api::encode_query(&q), (o - PAGE_SIZE).max(0)));
                        let next = (o + PAGE_SIZE < total).then(|| format!("/admin/users?q={}&offset={}", crate::api::encode_query(&q), o + PAGE_SIZE));
                        view! {
                            <table class="grid">
                                <thead><tr><th>{l.t("users-login-name")}</th><th>{l.t("users-display-name")}</th><th>{l.t("users-email")}</th><th>{l.t("users-confidential-client")}</th><th>{l.t("users-enabled")}</th></tr></thead>
                                <tbody>
                                    {list.items.into_iter().map(move |u| view! {
                                        <tr>
                                            <td><A href=format!("/admin/users/{}", u.id)>{u.login_name}</A></td>
                                            <td>{u.display_name}</td>
                                            <td>{u.email}</td>
                                            <td>{if u.is_oauth_confidential_client { l.t("users-yes") } else { String::new() }}</td>
                                            <td>{if u.enabled { l.t("users-yes") } else { l.t("users-no") }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <p class="pager">
                                {tr!(l, "users-count", count = total)}
                                {prev.map(|h| view! { " " <a href=h>{l.t("users-previous")}</a> })}
                                {next.map(|h| view! { " " <a href=h>{l.t("users-next")}</a> })}
                            </p>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn NewUserPage() -> impl IntoView {
    let l = use_lang();
    let query = use_query_map();
    let confidential = query.read_untracked().get("confidential").is_some();
    let return_to = query.read_untracked().get("return_to").unwrap_or_default();
    let action = ServerAction::<CreateUser>::new();
    let outcome: crate::components::Outcome = action.value().into();
    view! {
        <Title text=l.t("users-new")/>
        <h1>{l.t("users-new")}</h1>
        <ActionForm action=action attr:class="form">
            <input type="hidden" name="return_to" value=return_to/>
            <TextField label=l.t("users-login-name") name="login_name" required=true error=field_error(outcome, "login_name")/>
            <TextField label=l.t("users-email") name="email" kind="email" error=field_error(outcome, "email")/>
            <TextField label=l.t("users-display-name") name="display_name" error=field_error(outcome, "display_name")/>
            <TextField label=l.t("users-password") name="password" kind="password" autocomplete="new-password" error=field_error(outcome, "password")/>
            <TextField label=l.t("users-confirm-password") name="confirm_password" kind="password" autocomplete="new-password" error=field_error(outcome, "confirm_password")/>
            <Switch label=l.t("users-is-confidential-client") name="is_oauth_confidential_client" checked=confidential/>
            <JwksField error=field_error(outcome, "jwks")/>
            <Switch label=l.t("users-enabled") name="enabled" checked=true/>
            <SaveStatus outcome=outcome/>
            <div class="actions"><button type="submit" class="primary">{l.t("users-create")}</button></div>
        </ActionForm>
    }
}

#[component]
pub fn EditUserPage() -> impl IntoView {
    let l = use_lang();
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let save = ServerAction::<UpdateUser>::new();
    let add = ServerAction::<AddMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let reset = ServerAction::<crate::api::users::ResetUserFactors>::new();
    let unlink = ServerAction::<crate::api::users::UnlinkUser>::new();
    let detail = Resource::new(
        move || {
            (
                id(),
                add.version().get(),
                remove.version().get(),
                reset.version().get(),
                unlink.version().get(),
            )
        },
        |(id, _, _, _, _)| get_user(id),
    );
    let reset_outcome: crate::components::Outcome = reset.value().into();
    let unlink_outcome: crate::components::Outcome = unlink.value().into();
    let outcome: crate::components::Outcome = save.value().into();
    let add_outcome: crate::components::Outcome = add.value().into();
    let remove_outcome: crate::components::Outcome = remove.value().into();
    let delete_outcome: crate::components::Outcome = delete.value().into();
    let created = query.read_untracked().get("saved").is_some();
    view! {
        <Title text=l.t("users-user-title")/>
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(d) => {
                        let u = d.user.clone();
                        let uid = u.id.clone();
                        let editable = d.editable;
                        let assignable: Vec<String> = d.all_roles.iter().map(|(r, _)| r.clone()).collect();
                        let role_items = d.roles.clone().into_iter().map(|(rid, name)| {
                            let uid = uid.clone();
                            let removable = assignable.contains(&rid);
                            view! {
                                <li>
                                    <a href=format!("/admin/roles/{rid}")>{name.clone()}</a>
                                    {removable.then(|| view! {
                                        <ActionForm action=remove attr:class="inline">
                                            <input type="hidden" name="role_id" value=rid/>
                                            <input type="hidden" name="user_id" value=uid/>
                                            <button type="submit" class="link" aria-label=tr!(l, "users-remove-from-role", role = name.clone())>{l.t("remove")}</button>
                                        </ActionForm>
                                    })}
                                </li>
                            }
                        }).collect_view();
                        let (uid_save, uid_add, uid_del) = (uid.clone(), uid.clone(), uid.clone());
                        let uid_reset = uid.clone();
                        let link_items = d.links.clone().into_iter().map(|link| {
                            let uid = uid.clone();
                            let name = link.provider_name.clone();
                            view! {
                                <li>
                                    {link.provider_name.clone()}" — "<code>{link.subject.clone()}</code>
                                    {editable.then(|| view! {
                                        <ActionForm action=unlink attr:class="inline">
                                            <input type="hidden" name="id" value=uid/>
                                            <input type="hidden" name="provider_id" value=link.provider_id.clone()/>
                                            <button type="submit" class="link" aria-label=tr!(l, "users-remove-link", provider = name.clone())>{l.t("remove")}</button>
                                        </ActionForm>
                                    })}
                                </li>
                            }
                        }).collect_view();
                        let no_links = d.links.is_empty();
                        let f = d.factors.clone();
                        let factor_text = {
                            let mut parts = Vec::new();
                            if f.totp {
                                parts.push(tr!(l, "users-factor-totp", count = f.recovery_codes_left));
                            }
                            for p in &f.passkeys {
                                parts.push(tr!(l, "users-factor-passkey", name = p.name.clone()));
                            }
                            parts
                        };
                        let options = d.all_roles.iter()
                            .filter(|(rid, n)| n != "Everybody" && !d.roles.iter().any(|(r, _)| r == rid))
                            .map(|(rid, n)| view! { <option value=rid.clone()>{n.clone()}</option> })
                            .collect_view();
                        view! {
                            <div class="page-head"><h1>{u.login_name.clone()}</h1><a href="/admin/users">{l.t("users-all")}</a></div>
                            {created.then(|| view! { <p class="status ok" role="status">{l.t("users-created")}</p> })}
                            {(!editable).then(|| view! {
                                <p class="status" role="note">{l.t("users-not-editable")}</p>
                            })}
                            <ActionForm action=save attr:class="form">
                                <input type="hidden" name="id" value=uid_save/>
                                <fieldset class="plain" disabled=!editable>
                                <TextField label=l.t("users-login-name") name="login_name" value=u.login_name.clone() required=true error=field_error(outcome, "login_name")/>
                                <TextField label=l.t("users-email") name="email" kind="email" value=u.email.clone() error=field_error(outcome, "email")/>
                                <TextField label=l.t("users-display-name") name="display_name" value=u.display_name.clone() error=field_error(outcome, "display_name")/>
                                <fieldset>
                                    <legend>{l.t("users-reset-password")}</legend>
                                    <TextField label=l.t("users-password") name="password" kind="password" autocomplete="new-password" error=field_error(outcome, "password")/>
                                    <TextField label=l.t("users-confirm-password") name="confirm_password" kind="password" autocomplete="new-password" error=field_error(outcome, "confirm_password")/>
                                </fieldset>
                                <Switch label=l.t("users-is-confidential-client") name="is_oauth_confidential_client" checked=u.is_oauth_confidential_client/>
                                <JwksField value=u.jwks.as_ref().map(|j| j.to_string()).unwrap_or_default() error=field_error(outcome, "jwks")/>
                                <Switch label=l.t("users-enabled") name="enabled" checked=u.enabled/>
                                <SaveStatus outcome=outcome/>
                                <div class="actions"><button type="submit" class="primary">{l.t("save")}</button></div>
                                </fieldset>
                            </ActionForm>
                            <section aria-labelledby="user-roles">
                                <h2 id="user-roles">{l.t("users-roles")}</h2>
                                <ul class="members">
                                    {role_items}
                                </ul>
                                <SaveStatus outcome=remove_outcome/>
                                <ActionForm action=add attr:class="inline-form">
                                    <input type="hidden" name="user_id" value=uid_add/>
                                    <label for="add-role">{l.t("users-add-to-role")}</label>
                                    <select id="add-role" name="role_id">
                                        {options}
                                    </select>
                                    <button type="submit">{l.t("add")}</button>
                                </ActionForm>
                                <SaveStatus outcome=add_outcome/>
                            </section>
                            <section aria-labelledby="user-factors">
                                <h2 id="user-factors">{l.t("users-factors")}</h2>
                                {if factor_text.is_empty() {
                                    view! { <p>{l.t("users-factors-none")}</p> }.into_any()
                                } else {
                                    view! { <ul id="factors">{factor_text.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul> }.into_any()
                                }}
                                {(editable && f.any()).then(|| view! {
                                    <ActionForm action=reset>
                                        <input type="hidden" name="id" value=uid_reset/>
                                        <button type="submit" class="danger">{l.t("users-factors-reset")}</button>
                                    </ActionForm>
                                })}
                                <SaveStatus outcome=reset_outcome/>
                            </section>
                            <section aria-labelledby="user-links">
                                <h2 id="user-links">{l.t("users-links")}</h2>
                                {if no_links {
                                    view! { <p>{l.t("users-links-none")}</p> }.into_any()
                                } else {
                                    view! { <ul class="members" id="links">{link_items}</ul> }.into_any()
                                }}
                                <SaveStatus outcome=unlink_outcome/>
                            </section>
                            <section class="danger" aria-labelledby="delete-user" hidden=!editable>
                                <h2 id="delete-user">{l.t("users-delete")}</h2>
                                <ActionForm action=delete>
                                    <input type="hidden" name="id" value=uid_del/>
                                    <button type="submit" class="danger">{l.t("users-delete")}</button>
                                </ActionForm>
                                <SaveStatus outcome=delete_outcome/>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
