//! The admin portal's frame: navigation on the left, the signed-in person and sign-out on top.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};

use crate::api::auth::{current_user, Logout};

#[component]
pub fn AdminShell() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    let logout = ServerAction::<Logout>::new();
    view! {
        <Title text="Admin · Gatehouse"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => {
                        view! {
                            <div class="layout">
                                <header class="topbar">
                                    <a class="brand" href="/admin">"Gatehouse"</a>
                                    <span class="whoami">"Signed in as " <strong>{me.login_name.clone()}</strong></span>
                                    <ActionForm action=logout>
                                        <button type="submit" class="link">"Sign out"</button>
                                    </ActionForm>
                                </header>
                                <nav class="sidenav" aria-label="Admin">
                                    <ul>
                                        <li><A href="/admin/apps">"Apps"</A></li>
                                        {me.has("users").then(|| view! { <li><A href="/admin/users">"Users"</A></li> })}
                                        {me.has("roles").then(|| view! { <li><A href="/admin/roles">"Roles"</A></li> })}
                                    </ul>
                                </nav>
                                <main class="content" id="main">
                                    <Outlet/>
                                </main>
                            </div>
                        }
                            .into_any()
                    }
                    _ => view! {
                        <main class="center">
                            <p>"You are not signed in. " <a href="/login?return_to=/admin">"Sign in"</a></p>
                        </main>
                    }
                        .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn AdminHome() -> impl IntoView {
    view! {
        <h1>"Administration"</h1>
        <p>"Manage OAuth2 client apps, the users who sign in and the roles that give them access."</p>
        <ul class="cards">
            <li><a href="/admin/apps">"Apps"</a>" — OAuth2 clients, their scopes, tokens and user access."</li>
            <li><a href="/admin/users">"Users"</a>" — people and OAuth confidential clients."</li>
            <li><a href="/admin/roles">"Roles"</a>" — members and admin rights."</li>
        </ul>
    }
}
