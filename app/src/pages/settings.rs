//! `/admin/settings` (SPEC §6b): how the hosted pages look — product name, accent colour
//! (checked for WCAG AA contrast), logo. Plain forms; the logo is a multipart upload to
//! `POST /admin/settings/logo`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::settings::{branding_settings, RemoveBrandingLogo, SaveBranding};
use crate::components::{error_text, field_error, Outcome, SaveStatus, TextField};

/// What the logo upload's answer says (`?logo=`), chosen by a code.
fn logo_message(code: Option<&str>) -> Option<(&'static str, bool)> {
    match code? {
        "saved" => Some(("Logo saved.", false)),
        "too-large" => Some(("The logo is too large: at most 100 KB.", true)),
        "not-an-image" => Some(("Choose a PNG, JPEG, WebP or GIF image.", true)),
        _ => None,
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let query = use_query_map();
    let save = ServerAction::<SaveBranding>::new();
    let remove = ServerAction::<RemoveBrandingLogo>::new();
    let data = Resource::new(
        move || (save.version().get(), remove.version().get()),
        |_| branding_settings(),
    );
    let outcome: Outcome = save.value().into();
    let remove_outcome: Outcome = remove.value().into();
    let logo = move || logo_message(query.read().get("logo").as_deref());
    view! {
        <Title text="Settings"/>
        <div class="page-head"><h1>"Settings"</h1></div>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(b) => view! {
                        <section aria-labelledby="branding">
                            <h2 id="branding">"Branding of the hosted pages"</h2>
                            <p class="muted">"The sign-in, consent, device and self-service pages show this name, logo and colour."</p>
                            <ActionForm action=save attr:class="form">
                                <TextField label="Product name" name="product_name" value=b.product_name.clone() required=true error=field_error(outcome, "product_name")/>
                                <div class="field">
                                    <label for="f-accent_color">"Accent colour"</label>
                                    <input id="f-accent_color" name="accent_color" type="color"
                                        value=b.accent_color.clone().unwrap_or_else(|| "#1f5fbf".into())
                                        aria-describedby="accent-help"/>
                                    <p class="muted" id="accent-help">"Buttons and links. It must have a contrast of at least 4.5:1 with white and with the page background (WCAG AA); a lighter colour is refused."</p>
                                    {move || field_error(outcome, "accent_color").get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                                </div>
                                <label class="choice"><input type="checkbox" name="default_color" value="on" checked=b.accent_color.is_none()/>"Use the default colour"</label>
                                <SaveStatus outcome=outcome/>
                                <div class="actions"><button type="submit" class="primary">"Save"</button></div>
                            </ActionForm>
                        </section>
                        <section aria-labelledby="logo">
                            <h2 id="logo">"Logo"</h2>
                            {logo().map(|(m, error)| if error {
                                view! { <p class="status error" role="alert">{m}</p> }.into_any()
                            } else {
                                view! { <p class="status ok" role="status">{m}</p> }.into_any()
                            })}
                            {b.logo_url.clone().map(|src| view! {
                                <p><img src=src alt="The current logo" height="48"/></p>
                                <ActionForm action=remove>
                                    <button type="submit" class="danger">"Remove the logo"</button>
                                </ActionForm>
                                <SaveStatus outcome=remove_outcome/>
                            })}
                            <form method="post" action="/admin/settings/logo" enctype="multipart/form-data" class="form">
                                <div class="field">
                                    <label for="logo-file">"New logo (PNG, JPEG, WebP or GIF, at most 100 KB)"</label>
                                    <input id="logo-file" name="logo" type="file" accept="image/png,image/jpeg,image/webp,image/gif" required/>
                                </div>
                                <div class="actions"><button type="submit">"Upload logo"</button></div>
                            </form>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
