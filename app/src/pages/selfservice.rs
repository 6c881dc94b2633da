//! Self-service pages (SPEC §6b): `/login/forgot`, `/login/reset`, `/signup`, `/signup/verify`.
//! Plain forms: they work without JavaScript (the server function then redirects back here
//! with a message code).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::selfservice::{
    field_hint, reset_link_valid, self_service_offers, ForgotPassword, Offers, ResetPassword, Said,
    SelfServiceResult, SignUp, VerifyAddress,
};
use crate::components::error_text;
use crate::i18n::{use_lang, Lang, LanguageLinks};
use model::i18n::msg;

/// The message of a plain post (`?m=`), or of the last answer with JavaScript.
fn said_view(l: Lang, said: Option<Said>) -> impl IntoView {
    said.map(|s| {
        if s.is_error() {
            view! { <p class="status error" role="alert" id="self-message">{l.t(s.key())}</p> }
                .into_any()
        } else {
            view! { <p class="status ok" role="status" id="self-message">{l.t(s.key())}</p> }
                .into_any()
        }
    })
}

/// Follows a `GoTo` answer with a full page load (the target may be the login page).
fn follow(value: impl Fn() -> Option<Result<SelfServiceResult, ServerFnError>> + 'static) {
    Effect::new(move |_| {
        if let Some(Ok(SelfServiceResult::GoTo(to))) = value() {
            let _ = window().location().assign(&to);
        }
    });
}

/// What an answer says, falling back to the URL's code.
fn message(
    value: Option<Result<SelfServiceResult, ServerFnError>>,
    from_url: Option<Said>,
) -> Option<Result<Said, String>> {
    match value {
        Some(Ok(SelfServiceResult::Said(s))) => Some(Ok(s)),
        Some(Err(e)) => Some(Err(error_text(&e))),
        _ => from_url.map(Ok),
    }
}

fn message_view(l: Lang, m: Option<Result<Said, String>>) -> impl IntoView {
    match m {
        Some(Ok(s)) => said_view(l, Some(s)).into_any(),
        Some(Err(e)) => {
            view! { <p class="status error" role="alert" id="self-message">{e}</p> }.into_any()
        }
        None => ().into_any(),
    }
}

/// The frame of a self-service page: its title, the card, the way back to sign in and the
/// language links.
#[component]
fn Card(title: &'static str, id: &'static str, children: Children) -> impl IntoView {
    let l = use_lang();
    view! {
        <Title text=l.t(title)/>
        <main class="login-page">
            <section class="login-card" aria-labelledby=id>
                <h1 id=id>{l.t(title)}</h1>
                {children()}
                <p><a href="/login">{l.t("back-to-sign-in")}</a></p>
                <LanguageLinks/>
            </section>
        </main>
    }
}

/// `children` once the offers are known and `offered` says this one is; else that it is not
/// set up here (the message `not_offered`).
#[component]
fn WhenOffered(
    offered: fn(&Offers) -> bool,
    not_offered: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let l = use_lang();
    let offers = Resource::new(|| (), |_| self_service_offers());
    view! {
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match offers.await {
                        Ok(o) if offered(&o) => children().into_any(),
                        Ok(_) => view! { <p class="status error" role="alert">{l.t(not_offered)}</p> }.into_any(),
                        Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
pub fn ForgotPage() -> impl IntoView {
    let l = use_lang();
    let query = use_query_map();
    let action = ServerAction::<ForgotPassword>::new();
    let from_url = move || Said::from_code(query.read().get("m").as_deref());
    view! {
        <Card title=msg("forgot-title") id="forgot-title">
            <WhenOffered offered=|o| o.reset not_offered=msg("forgot-not-offered")>
                <p class="muted">{l.t("forgot-intro")}</p>
                {move || message_view(l, message(action.value().get(), from_url()))}
                <ActionForm action=action>
                    <div class="field">
                        <label for="who">{l.t("forgot-who")}</label>
                        <input id="who" name="who" autocomplete="username" required autofocus/>
                    </div>
                    <button type="submit" class="primary" disabled=move || action.pending().get()>{l.t("forgot-send")}</button>
                </ActionForm>
            </WhenOffered>
        </Card>
    }
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let l = use_lang();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let valid = Resource::new(token, reset_link_valid);
    let action = ServerAction::<ResetPassword>::new();
    follow(move || action.value().get());
    let from_url = move || Said::from_code(query.read().get("m").as_deref());
    let weak = move || query.read().get("m").as_deref() == Some("weak");
    let field_error = move || match action.value().get() {
        Some(Ok(SelfServiceResult::Field(_, m))) => Some(m),
        _ => weak().then(|| field_hint(l, "password")),
    };
    view! {
        <Card title=msg("reset-title") id="reset-title">
            <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
                {move || Suspend::new(async move {
                    match valid.await {
                        Ok(true) => view! {
                            {move || message_view(l, message(action.value().get(), from_url()))}
                            <ActionForm action=action>
                                <input type="hidden" name="token" value=token/>
                                <div class="field">
                                    <label for="password">{l.t("reset-new")}</label>
                                    <input id="password" name="password" type="password" autocomplete="new-password" required autofocus
                                        aria-describedby="password-help"/>
                                    <p class="muted" id="password-help">{l.t("reset-help")}</p>
                                    {move || field_error().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                                </div>
                                <div class="field">
                                    <label for="confirm">{l.t("reset-again")}</label>
                                    <input id="confirm" name="confirm" type="password" autocomplete="new-password" required/>
                                </div>
                                <button type="submit" class="primary" disabled=move || action.pending().get()>{l.t("reset-change")}</button>
                            </ActionForm>
                        }.into_any(),
                        Ok(false) => view! {
                            {said_view(l, Some(Said::BadLink))}
                            <p><a href="/login/forgot">{l.t("reset-ask-again")}</a></p>
                        }.into_any(),
                        Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Card>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let l = use_lang();
    let query = use_query_map();
    let action = ServerAction::<SignUp>::new();
    let from_url = move || Said::from_code(query.read().get("m").as_deref());
    let q = move |k: &str| query.read().get(k).unwrap_or_default();
    let field_error = move |f: &'static str| {
        move || match action.value().get() {
            Some(Ok(SelfServiceResult::Field(field, m))) if field == f => Some(m),
            Some(_) => None,
            None => (query.read().get("field").as_deref() == Some(f)).then(|| field_hint(l, f)),
        }
    };
    let described = move |f: &'static str| {
        let e = field_error(f);
        move || e().map(|_| format!("{f}-error"))
    };
    let error_line = move |f: &'static str| {
        let e = field_error(f);
        move || {
            e().map(
                |m| view! { <p class="field-error" role="alert" id=format!("{f}-error")>{m}</p> },
            )
        }
    };
    view! {
        <Card title=msg("signup-title") id="signup-title">
            <WhenOffered offered=|o| o.sign_up not_offered=msg("signup-not-offered")>
                {move || message_view(l, message(action.value().get(), from_url()))}
                <ActionForm action=action>
                    <div class="field">
                        <label for="login_name">{l.t("login-name")}</label>
                        <input id="login_name" name="login_name" value=move || q("login_name") autocomplete="username" required autofocus
                            aria-describedby=described("login_name")/>
                        {error_line("login_name")}
                    </div>
                    <div class="field">
                        <label for="email">{l.t("signup-email")}</label>
                        <input id="email" name="email" type="email" value=move || q("email") autocomplete="email" required
                            aria-describedby=described("email")/>
                        {error_line("email")}
                    </div>
                    <div class="field">
                        <label for="display_name">{l.t("signup-display-name")}</label>
                        <input id="display_name" name="display_name" value=move || q("display_name") autocomplete="name"/>
                    </div>
                    <div class="field">
                        <label for="password">{l.t("password")}</label>
                        <input id="password" name="password" type="password" autocomplete="new-password" required
                            aria-describedby=described("password")/>
                        {error_line("password")}
                    </div>
                    <div class="field">
                        <label for="confirm">{l.t("signup-password-again")}</label>
                        <input id="confirm" name="confirm" type="password" autocomplete="new-password" required
                            aria-describedby=described("confirm")/>
                        {error_line("confirm")}
                    </div>
                    <button type="submit" class="primary" disabled=move || action.pending().get()>{l.t("signup-create")}</button>
                </ActionForm>
            </WhenOffered>
        </Card>
    }
}

#[component]
pub fn VerifyPage() -> impl IntoView {
    let l = use_lang();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<VerifyAddress>::new();
    follow(move || action.value().get());
    let from_url = move || Said::from_code(query.read().get("m").as_deref());
    view! {
        <Card title=msg("verify-title") id="verify-title">
            {move || message_view(l, message(action.value().get(), from_url()))}
            <ActionForm action=action>
                <input type="hidden" name="token" value=token/>
                <p>{l.t("verify-intro")}</p>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{l.t("verify-confirm")}</button>
            </ActionForm>
        </Card>
    }
}
