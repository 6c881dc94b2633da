//! The Leptos portal: the hosted login page and the admin portal, rendered on the server and
//! hydrated in the browser. Server functions live in `api`, screens in `pages`.
#![recursion_limit = "512"]

pub mod api;
pub mod components;
pub mod i18n;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The shell is drawn only on the server.
    #[cfg(feature = "ssr")]
    let lang = i18n::request_lang();
    #[cfg(not(feature = "ssr"))]
    let lang = i18n::Lang::default();
    view! {
        <!DOCTYPE html>
        <html lang=lang.tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HashedStylesheet id="leptos" options=options.clone()/>
                // The accent colour an administrator chose (empty for the default).
                <link rel="stylesheet" href="/branding.css"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    use pages::*;
    // Marks the page once the wasm has taken over (browser tests wait for it).
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    // The product's name, colour and logo (the same value on the server and in the browser).
    let brand = components::shared_branding();
    provide_context(brand.clone());
    // The page's language (the same on the server and in the browser).
    let lang = i18n::shared_lang();
    provide_context(lang);
    let name = brand.product_name.clone();
    let title = move |t: String| {
        if t.is_empty() || t == name {
            name.clone()
        } else {
            format!("{t} · {name}")
        }
    };
    // An endpoint that answered with a notice (an error, a confirmation) draws only that.
    if let Some(n) = notice::current() {
        return view! {
            <Link rel="icon" href="data:,"/>
            <Title formatter=title/>
            <notice::NoticePage n/>
        }
        .into_any();
    }
    // Async SSR everywhere: every page is complete HTML, so it works without JavaScript.
    view! {
        <Link rel="icon" href="data:,"/>
        <Title formatter=title text=brand.product_name.clone()/>
        <Router>
            <Routes fallback=move || view! { <main class="center"><h1>{lang.t("page-not-found")}</h1></main> }>
                <Route path=path!("/") view=login::RootRedirect ssr=SsrMode::Async/>
                <Route path=path!("/login") view=login::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/login/second") view=security::SecondStepPage ssr=SsrMode::Async/>
                <Route path=path!("/login/forgot") view=selfservice::ForgotPage ssr=SsrMode::Async/>
                <Route path=path!("/login/reset") view=selfservice::ResetPage ssr=SsrMode::Async/>
                <Route path=path!("/signup") view=selfservice::SignUpPage ssr=SsrMode::Async/>
                <Route path=path!("/signup/verify") view=selfservice::VerifyPage ssr=SsrMode::Async/>
                <Route path=path!("/account/security") view=security::SecurityPage ssr=SsrMode::Async/>
                <Route path=path!("/device") view=device::DevicePage ssr=SsrMode::Async/>
                // Rendered by the authorize endpoint when it asks for consent.
                <Route path=path!("/oauth2/authorize/:app") view=account::ConsentPage ssr=SsrMode::Async/>
                <Route path=path!("/account/apps") view=account::ConnectedAppsPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("/admin") view=admin::AdminShell ssr=SsrMode::Async>
                    <Route path=path!("") view=admin::AdminHome/>
                    <Route path=path!("apps") view=apps::AppsPage/>
                    <Route path=path!("apps/:app_id") view=apps::AppEditPage/>
                    <Route path=path!("apps/:app_id/clients") view=clients::AppClientsPage/>
                    <Route path=path!("users") view=users::UsersPage/>
                    <Route path=path!("users/new") view=users::NewUserPage/>
                    <Route path=path!("users/:id") view=users::EditUserPage/>
                    <Route path=path!("roles") view=roles::RolesPage/>
                    <Route path=path!("roles/:id") view=roles::RolePage/>
                    <Route path=path!("audit") view=audit::AuditPage/>
                    <Route path=path!("identity-providers") view=providers::ProvidersPage/>
                    <Route path=path!("settings") view=settings::SettingsPage/>
                    <Route path=path!("identity-providers/:id") view=providers::ProviderPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
    .into_any()
}
