//! Reusable view pieces: a labelled field with its error, the save status line.

use leptos::prelude::*;

use crate::api::FormResult;
use crate::i18n::use_lang;

/// The result of the last save of a form, as a signal of `Option<Result<FormResult, _>>`.
pub type Outcome = Signal<Option<Result<FormResult, ServerFnError>>>;

/// The error for `field` in the last outcome, if any.
/// (The domain states its rules in English; they show in the page's language.)
pub fn field_error(outcome: Outcome, field: &'static str) -> Signal<Option<String>> {
    let l = use_lang();
    Signal::derive(move || {
        outcome
            .get()
            .and_then(|r| r.ok())
            .and_then(|f| f.error_for(field))
            .map(|m| l.rule(&m))
    })
}

/// A labelled text input whose error is shown beside it and tied to it for screen readers.
/// A confidential client's public keys (a JWK set, JSON) for `private_key_jwt`; empty: none.
#[component]
pub fn JwksField(
    #[prop(into, optional)] value: String,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let l = use_lang();
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for="f-jwks">{l.t("field-jwks")}</label>
            <textarea id="f-jwks" name="jwks" rows="4" spellcheck="false" placeholder="{\"keys\": [ … ]}"
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" } aria-describedby="f-jwks-error">{value}</textarea>
            <p class="field-error" id="f-jwks-error" role="alert">{move || error.get().unwrap_or_default()}</p>
        </div>
    }
}

#[component]
pub fn TextField(
    #[prop(into)] label: String,
    name: &'static str,
    #[prop(into, optional)] value: String,
    #[prop(optional)] kind: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] id_prefix: Option<&'static str>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("{}{}", id_prefix.unwrap_or("f-"), name);
    let err_id = format!("{id}-error");
    let err_id2 = err_id.clone();
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind.unwrap_or("text")
                value=value
                required=required
                autocomplete=autocomplete.unwrap_or("off")
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=err_id.clone()
            />
            <p class="field-error" id=err_id2 role="alert">{move || error.get().unwrap_or_default()}</p>
        </div>
    }
}

/// A checkbox shown as a switch, with its label.
#[component]
pub fn Switch(
    #[prop(into)] label: String,
    name: &'static str,
    checked: bool,
    #[prop(optional)] id_prefix: Option<&'static str>,
) -> impl IntoView {
    let id = format!("{}{}", id_prefix.unwrap_or("f-"), name);
    view! {
        <div class="field switch">
            <input id=id.clone() type="checkbox" role="switch" name=name value="on" checked=checked/>
            <label for=id>{label}</label>
        </div>
    }
}

/// "Saved." or the error that is not tied to a field.
#[component]
pub fn SaveStatus(outcome: Outcome) -> impl IntoView {
    let l = use_lang();
    move || match outcome.get() {
        Some(Ok(f)) if f.ok => {
            view! { <p class="status ok" role="status">{f.message}</p> }.into_any()
        }
        Some(Ok(f)) if f.field.is_none() => {
            view! { <p class="status error" role="alert">{l.rule(&f.message)}</p> }.into_any()
        }
        Some(Ok(_)) => {
            view! { <p class="status error" role="alert">{l.t("form-correct-errors")}</p> }
                .into_any()
        }
        Some(Err(e)) => {
            view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any()
        }
        None => ().into_any(),
    }
}

/// The message of a server function error, without the framework's prefix, in the page's
/// language.
pub fn error_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => use_lang().rule(m),
        other => other.to_string(),
    }
}

/// The product's branding as the server rendered the page with it: read from the services on
/// the server, read back from the page while hydrating (call once, in `App`; pages take it from
/// the context).
pub fn shared_branding() -> model::branding::Branding {
    SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<domain::Services>()
                .map(|s| (*s.branding()).clone())
                .unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            model::branding::Branding::default()
        }
    })
    .into_inner()
}
