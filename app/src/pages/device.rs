//! `/device` (RFC 8628, SPEC §3c): a signed-in person types the code their device shows, sees
//! which app asks for what, and approves or denies. Plain forms: it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::device::{device_view, done_message, DevicePageData};
use crate::components::error_text;
use crate::i18n::{tr, use_lang, LanguageLinks};

#[component]
pub fn DevicePage() -> impl IntoView {
    let l = use_lang();
    let query = use_query_map();
    let code = move || query.read().get("user_code");
    let data = Resource::new(code, device_view);
    let done = move || done_message(query.read().get("done").as_deref());
    view! {
        <Title text=l.t("device-title")/>
        <main class="center">
            <h1>{l.t("device-title")}</h1>
            {move || done().map(|(m, error)| if error {
                view! { <p class="status error" role="alert">{l.t(m)}</p> }.into_any()
            } else {
                view! { <p class="status ok" role="status">{l.t(m)}</p> }.into_any()
            })}
            <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <DeviceBody v/> }.into_any(),
                        Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <LanguageLinks/>
        </main>
    }
}

#[component]
fn DeviceBody(v: DevicePageData) -> impl IntoView {
    let l = use_lang();
    let who = view! { <p class="muted">{format!("{} ", l.t("signed-in-as"))}<strong>{v.login_name.clone()}</strong></p> };
    match v.request {
        Some(r) => view! {
            {who}
            <section aria-labelledby="device-request">
                <h2 id="device-request">{tr!(l, "device-wants", app = r.app_name.clone())}</h2>
                <p>{format!("{} ", l.t("device-check-code"))}<strong id="device-user-code">{r.user_code.clone()}</strong></p>
                {(!r.scopes.is_empty()).then(|| view! {
                    <p>{l.t("device-asks-for")}</p>
                    <ul>
                        {r.scopes.iter().map(|(n, d)| view! { <li><strong>{n.clone()}</strong>" — "{d.clone()}</li> }).collect_view()}
                    </ul>
                })}
                <form method="post" action="/device">
                    <input type="hidden" name="csrf" value=v.csrf.clone()/>
                    <input type="hidden" name="user_code" value=r.user_code.clone()/>
                    <div class="actions">
                        <button type="submit" name="decision" value="approve" class="primary">{l.t("approve")}</button>
                        <button type="submit" name="decision" value="deny">{l.t("deny")}</button>
                    </div>
                </form>
            </section>
        }
        .into_any(),
        None => view! {
            {who}
            <form method="get" action="/device">
                <div class="field">
                    <label for="user_code">{l.t("device-code-label")}</label>
                    <input id="user_code" name="user_code" value=v.typed.clone() autocomplete="off"
                        autocapitalize="characters" spellcheck="false" required
                        aria-describedby=(v.not_found || v.throttled).then_some("device-error")/>
                </div>
                {v.not_found.then(|| view! { <p class="status error" role="alert" id="device-error">{l.t("device-not-found")}</p> })}
                {v.throttled.then(|| view! { <p class="status error" role="alert" id="device-error">{l.t("device-throttled")}</p> })}
                <button type="submit" class="primary">{l.t("continue")}</button>
            </form>
        }
        .into_any(),
    }
}
