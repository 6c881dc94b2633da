//! The admin portal's frame: navigation on the left, the signed-in person and sign-out on top.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};

use model::rights::Right;

use crate::api::auth::{current_user, Logout};

#[component]
pub fn AdminShell() -> impl IntoView {
    // The Outlet stays outside any Suspense: a page nested in a Suspend would be created more
    // than once during server rendering and then fail to hydrate. Only the parts that depend on
    // who is signed in wait for it. (The server guard already sent anonymous visitors to /login.)
    let me = Resource::new(|| (), |_| current_user());
    let logout = ServerAction::<Logout>::new();
    view! {
        <Title text="Admin"/>
        <div class="layout">
            <header class="topbar">
                <a class="brand" href="/admin">{use_context::<model::branding::Branding>().unwrap_or_default().product_name}</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        me.await.ok().flatten().map(|me| view! {
                            <span class="whoami">"Signed in as " <strong>{me.login_name}</strong></span>
                        })
                    })}
                </Suspense>
                <ActionForm action=logout>
                    <button type="submit" class="link">"Sign out"</button>
                </ActionForm>
            </header>
            <nav class="sidenav" aria-label="Admin">
                <ul>
                    <li><A href="/admin/apps">"Apps"</A></li>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let me = me.await.ok().flatten();
                            let has = |r: Right| me.as_ref().is_some_and(|m| m.has(r));
                            view! {
                                {has(Right::Users).then(|| view! { <li><A href="/admin/users">"Users"</A></li> })}
                                {has(Right::Roles).then(|| view! { <li><A href="/admin/roles">"Roles"</A></li> })}
                                {me.as_ref().is_some_and(|m| m.sysadmin).then(|| view! { <li><A href="/admin/audit">"Audit"</A></li> })}
                                {me.as_ref().is_some_and(|m| m.sysadmin).then(|| view! { <li><A href="/admin/identity-providers">"Sign-in providers"</A></li> })}
                                {me.as_ref().is_some_and(|m| m.sysadmin).then(|| view! { <li><A href="/admin/settings">"Settings"</A></li> })}
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
    let activity = super::activity::activity_resource(|| None, true);
    view! {
        <h1>"Administration"</h1>
        <p>"Manage OAuth2 client apps, the users who sign in and the roles that give them access."</p>
        <ul class="cards">
            <li><a href="/admin/apps">"Apps"</a>" — OAuth2 clients, their scopes, tokens and user access."</li>
            <li><a href="/admin/users">"Users"</a>" — people and OAuth confidential clients."</li>
            <li><a href="/admin/roles">"Roles"</a>" — members and admin rights."</li>
            <li><a href="/admin/audit">"Audit"</a>" — who changed what, sign-ins and consents."</li>
        </ul>
        <super::activity::ActivityPanel activity/>
    }
}
