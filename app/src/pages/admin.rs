//! The admin portal's frame: navigation on the left, the signed-in person and sign-out on top.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};

use model::rights::Right;

use crate::api::auth::{current_user, Logout};
use crate::i18n::{use_lang, LanguageLinks};

#[component]
pub fn AdminShell() -> impl IntoView {
    let l = use_lang();
    // The Outlet stays outside any Suspense: a page nested in a Suspend would be created more
    // than once during server rendering and then fail to hydrate. Only the parts that depend on
    // who is signed in wait for it. (The server guard already sent anonymous visitors to /login.)
    let me = Resource::new(|| (), |_| current_user());
    let logout = ServerAction::<Logout>::new();
    view! {
        <Title text=l.t("admin-title")/>
        <div class="layout">
            <header class="topbar">
                <a class="brand" href="/admin">{use_context::<model::branding::Branding>().unwrap_or_default().product_name}</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        me.await.ok().flatten().map(|me| view! {
                            <span class="whoami">{format!("{} ", l.t("signed-in-as"))}<strong>{me.login_name}</strong></span>
                        })
                    })}
                </Suspense>
                <LanguageLinks/>
                <ActionForm action=logout>
                    <button type="submit" class="link">{l.t("sign-out")}</button>
                </ActionForm>
            </header>
            <nav class="sidenav" aria-label=l.t("admin-nav")>
                <ul>
                    <li><A href="/admin/apps">{l.t("admin-nav-apps")}</A></li>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let me = me.await.ok().flatten();
                            let has = |r: Right| me.as_ref().is_some_and(|m| m.has(r));
                            view! {
                                {has(Right::Users).then(|| view! { <li><A href="/admin/users">{l.t("admin-nav-users")}</A></li> })}
                                {has(Right::Roles).then(|| view! { <li><A href="/admin/roles">{l.t("admin-nav-roles")}</A></li> })}
                                {me.as_ref().is_some_and(|m| m.sysadmin).then(|| view! { <li><A href="/admin/audit">{l.t("admin-nav-audit")}</A></li> })}
                                {me.as_ref().is_some_and(|m| m.sysadmin).then(|| view! { <li><A href="/admin/identity-providers">{l.t("admin-nav-providers")}</A></li> })}
                                {me.as_ref().is_some_and(|m| m.sysadmin).then(|| view! { <li><A href="/admin/settings">{l.t("admin-nav-settings")}</A></li> })}
                            }
                        })}
                    </Suspense>
                </ul>
            </nav>
            <main class="content" id="main">
                <Outlet/>
            </main>
        </div>
    }
}

#[component]
pub fn AdminHome() -> impl IntoView {
    let l = use_lang();
    let activity = super::activity::activity_resource(|| None, true);
    view! {
        <h1>{l.t("admin-home-title")}</h1>
        <p>{l.t("admin-home-intro")}</p>
        <ul class="cards">
            <li><a href="/admin/apps">{l.t("admin-nav-apps")}</a>" — "{l.t("admin-home-apps")}</li>
            <li><a href="/admin/users">{l.t("admin-nav-users")}</a>" — "{l.t("admin-home-users")}</li>
            <li><a href="/admin/roles">{l.t("admin-nav-roles")}</a>" — "{l.t("admin-home-roles")}</li>
            <li><a href="/admin/audit">{l.t("admin-nav-audit")}</a>" — "{l.t("admin-home-audit")}</li>
        </ul>
        <super::activity::ActivityPanel activity/>
    }
}
