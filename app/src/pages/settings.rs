//! `/admin/settings` (SPEC §6b): how the hosted pages look — product name, accent colour
//! (checked for WCAG AA contrast), logo — and the language they speak when nobody asks for one.
//! Plain forms; the logo is a multipart upload to `POST /admin/settings/logo`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::settings::{branding_settings, RemoveBrandingLogo, SaveBranding};
use crate::components::{error_text, field_error, Outcome, SaveStatus, TextField};
use crate::i18n::{use_lang, Lang};
use model::i18n::msg;

/// What the logo upload's answer says (`?logo=`), chosen by a code: the message's key, and
/// whether it is an error.
fn logo_message(code: Option<&str>) -> Option<(&'static str, bool)> {
    match code? {
        "saved" => Some((msg("settings-logo-saved"), false)),
        "too-large" => Some((msg("settings-logo-too-large"), true)),
        "not-an-image" => Some((msg("settings-logo-not-an-image"), true)),
        _ => None,
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let l = use_lang();
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
        <Title text=l.t("settings-title")/>
        <div class="page-head"><h1>{l.t("settings-title")}</h1></div>
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(b) => view! {
                        // One form, one Save, for the branding and the language.
                        <ActionForm action=save attr:class="form">
                            <section aria-labelledby="branding">
                                <h2 id="branding">{l.t("settings-branding")}</h2>
                                <p class="muted">{l.t("settings-branding-intro")}</p>
                                <TextField label=l.t("settings-product-name") name="product_name" value=b.product_name.clone() required=true error=field_error(outcome, "product_name")/>
                                <div class="field">
                                    <label for="f-accent_color">{l.t("settings-accent-color")}</label>
                                    <input id="f-accent_color" name="accent_color" type="color"
                                        value=b.accent_color.clone().unwrap_or_else(|| "#1f5fbf".into())
                                        aria-describedby="accent-help"/>
                                    <p class="muted" id="accent-help">{l.t("settings-accent-help")}</p>
                                    {move || field_error(outcome, "accent_color").get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                                </div>
                                <label class="choice"><input type="checkbox" name="default_color" value="on" checked=b.accent_color.is_none()/>{l.t("settings-default-color")}</label>
                            </section>
                            <section aria-labelledby="language">
                                <h2 id="language">{l.t("settings-language")}</h2>
                                <div class="field">
                                    <label for="f-default_language">{l.t("settings-default-language")}</label>
                                    <select id="f-default_language" name="default_language" aria-describedby="language-help">
                                        {Lang::ALL.into_iter().map(|lang| view! {
                                            <option value=lang.tag() lang=lang.tag() selected=lang == b.default_language>{lang.name()}</option>
                                        }).collect_view()}
                                    </select>
                                    <p class="muted" id="language-help">{l.t("settings-default-language-help")}</p>
                                    {move || field_error(outcome, "default_language").get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                                </div>
                            </section>
                            <SaveStatus outcome=outcome/>
                            <div class="actions"><button type="submit" class="primary">{l.t("save")}</button></div>
                        </ActionForm>
                        <section aria-labelledby="logo">
                            <h2 id="logo">{l.t("settings-logo")}</h2>
                            {logo().map(|(m, error)| if error {
                                view! { <p class="status error" role="alert">{l.t(m)}</p> }.into_any()
                            } else {
                                view! { <p class="status ok" role="status">{l.t(m)}</p> }.into_any()
                            })}
                            {b.logo_url.clone().map(|src| view! {
                                <p><img src=src alt=l.t("settings-logo-current") height="48"/></p>
                                <ActionForm action=remove>
                                    <button type="submit" class="danger">{l.t("settings-logo-remove")}</button>
                                </ActionForm>
                                <SaveStatus outcome=remove_outcome/>
                            })}
                            <form method="post" action="/admin/settings/logo" enctype="multipart/form-data" class="form">
                                <div class="field">
                                    <label for="logo-file">{l.t("settings-logo-new")}</label>
                                    <input id="logo-file" name="logo" type="file" accept="image/png,image/jpeg,image/webp,image/gif" required/>
                                </div>
                                <div class="actions"><button type="submit">{l.t("settings-logo-upload")}</button></div>
                            </form>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
