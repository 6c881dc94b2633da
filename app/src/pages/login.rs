//! The hosted login page (SPEC §6).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{Login, LoginMessage, LoginResult};
use crate::components::error_text;
use crate::i18n::{tr, use_lang, LanguageLinks};

#[component]
pub fn RootRedirect() -> impl IntoView {
    view! { <Redirect path="/admin"/> }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let l = use_lang();
    let query = use_query_map();
    let action = ServerAction::<Login>::new();
    let passkeys = Resource::new(|| (), |_| crate::api::security::passkeys_available());
    let offers = Resource::new(|| (), |_| crate::api::selfservice::self_service_offers());
    let providers = Resource::new(|| (), |_| crate::api::selfservice::provider_buttons());
    // News from a self-service page (a password changed, an address confirmed), by code.
    let done =
        move || crate::api::selfservice::Said::from_code(query.read().get("done").as_deref());
    let login_name = move || query.read().get("login_name").unwrap_or_default();
    let return_to =
        move || crate::api::safe_return_to(&query.read().get("return_to").unwrap_or_default());
    let message = move || match action.value().get() {
        Some(Ok(LoginResult::Error(m))) => Some(m),
        Some(Err(e)) => Some(error_text(&e)),
        Some(Ok(LoginResult::GoTo(_))) => None,
        None => {
            let q = query.read();
            LoginMessage::from_query(q.get("error").as_deref(), q.get("minutes").as_deref())
                .map(|m| m.text(l))
        }
    };
    Effect::new(move |_| {
        if let Some(Ok(LoginResult::GoTo(to))) = action.value().get() {
            let _ = window().location().assign(&to);
        }
    });
    view! {
        <Title text=l.t("sign-in")/>
        <main class="login-page">
            <section class="login-card" aria-labelledby="login-title">
                <h1 id="login-title">{l.t("sign-in")}</h1>
                {
                    let b = use_context::<model::branding::Branding>().unwrap_or_default();
                    let name = b.product_name.clone();
                    view! {
                        {b.logo_url.clone().map(|src| view! { <img class="logo" src=src alt=tr!(l, "logo-alt", name = name.clone()) height="48"/> })}
                        <p class="muted">{b.product_name.clone()}</p>
                    }
                }
                {move || done().filter(|d| !d.is_error()).map(|d| view! { <p class="status ok" role="status" id="login-done">{l.t(d.key())}</p> })}
                <ActionForm action=action>
                    <input type="hidden" name="return_to" value=return_to/>
                    <div class="field">
                        <label for="login_name">{l.t("login-name")}</label>
                        <input id="login_name" name="login_name" value=login_name autocomplete="username webauthn" required autofocus/>
                    </div>
                    <div class="field">
                        <label for="password">{l.t("password")}</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required/>
                    </div>
                    {move || message().map(|m| view! { <p class="status error" role="alert" id="login-error">{m}</p> })}
                    <button type="submit" class="primary" disabled=move || action.pending().get()>{l.t("sign-in")}</button>
                </ActionForm>
                <Suspense>
                    {move || Suspend::new(async move {
                        passkeys.await.unwrap_or(false).then(|| view! {
                            <div class="passkey-step" data-passkey="signin" data-words=crate::pages::security::passkey_words(l) data-return-to=return_to>
                                <button type="button" class="passkey-button">{l.t("login-passkey")}</button>
                                <p class="status" role="status" data-passkey-status=""></p>
                            </div>
                            <script src="/passkeys.js" defer></script>
                        })
                    })}
                </Suspense>
                <Suspense>
                    {move || Suspend::new(async move {
                        let buttons = providers.await.unwrap_or_default();
                        (!buttons.is_empty()).then(|| view! {
                            <ul class="providers" aria-label=l.t("login-other-ways")>
                                {buttons.into_iter().map(|b| view! {
                                    // A server route, not a page of the portal: rel=external makes the
                                    // client router leave it to the browser.
                                    <li><a class="button" rel="external"
                                        href=format!("/login/federated/{}?return_to={}", b.id, crate::api::encode_query(&return_to()))>
                                        {tr!(l, "login-with", provider = b.label.clone())}
                                    </a></li>
                                }).collect_view()}
                            </ul>
                        })
                    })}
                </Suspense>
                <Suspense>
                    {move || Suspend::new(async move {
                        let o = offers.await.unwrap_or_default();
                        (o.reset || o.sign_up).then(|| view! {
                            <p class="login-links">
                                {o.reset.then(|| view! { <a href="/login/forgot">{l.t("forgot-title")}</a> })}
                                {(o.reset && o.sign_up).then_some(" · ")}
                                {o.sign_up.then(|| view! { <a href="/signup">{l.t("signup-title")}</a> })}
                            </p>
                        })
                    })}
                </Suspense>
                <LanguageLinks/>
            </section>
        </main>
    }
}
