//! Self-service pages (SPEC §6b): `/login/forgot`, `/login/reset`, `/signup`, `/signup/verify`.
//! Plain forms: they work without JavaScript (the server function then redirects back here
//! with a message code).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::selfservice::{
    field_hint, reset_link_valid, self_service_offers, ForgotPassword, ResetPassword, Said,
    SelfServiceResult, SignUp, VerifyAddress,
};
use crate::components::error_text;

/// The message of a plain post (`?m=`), or of the last answer with JavaScript.
fn said_view(said: Option<Said>) -> impl IntoView {
    said.map(|s| {
        if s.is_error() {
            view! { <p class="status error" role="alert" id="self-message">{s.text()}</p> }
                .into_any()
        } else {
            view! { <p class="status ok" role="status" id="self-message">{s.text()}</p> }.into_any()
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

fn message_view(m: Option<Result<Said, String>>) -> impl IntoView {
    match m {
        Some(Ok(s)) => said_view(Some(s)).into_any(),
        Some(Err(e)) => {
            view! { <p class="status error" role="alert" id="self-message">{e}</p> }.into_any()
        }
        None => ().into_any(),
    }
}

#[component]
pub fn ForgotPage() -> impl IntoView {
    let query = use_query_map();
    let action = ServerAction::<ForgotPassword>::new();
    let offers = Resource::new(|| (), |_| self_service_offers());
    let from_url = move || Said::from_code(query.read().get("m").as_deref());
    view! {
        <Title text="Forgot your password?"/>
        <main class="login-page">
            <section class="login-card" aria-labelledby="forgot-title">
                <h1 id="forgot-title">"Forgot your password?"</h1>
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match offers.await {
                            Ok(o) if o.reset => view! {
                                <p class="muted">"Type your e-mail address or login name. We send a link to choose a new password to the address of the account."</p>
                                {move || message_view(message(action.value().get(), from_url()))}
                                <ActionForm action=action>
                                    <div class="field">
                                        <label for="who">"E-mail address or login name"</label>
                                        <input id="who" name="who" autocomplete="username" required autofocus/>
                                    </div>
                                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Send the link"</button>
                                </ActionForm>
                            }.into_any(),
                            Ok(_) => view! { <p class="status error" role="alert">"Password reset by e-mail is not set up here. Ask your administrator."</p> }.into_any(),
                            Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                        }
                    })}
                </Suspense>
                <p><a href="/login">"Back to sign in"</a></p>
            </section>
        </main>
    }
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let valid = Resource::new(token, reset_link_valid);
    let action = ServerAction::<ResetPassword>::new();
    follow(move || action.value().get());
    let from_url = move || Said::from_code(query.read().get("m").as_deref());
    let weak = move || query.read().get("m").as_deref() == Some("weak");
    let field_error = move || match action.value().get() {
        Some(Ok(SelfServiceResult::Field(_, m))) => Some(m),
        _ => weak().then(|| field_hint("password").to_string()),
    };
    view! {
        <Title text="Choose a new password"/>
        <main class="login-page">
            <section class="login-card" aria-labelledby="reset-title">
                <h1 id="reset-title">"Choose a new password"</h1>
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match valid.await {
                            Ok(true) => view! {
                                {move || message_view(message(action.value().get(), from_url()))}
                                <ActionForm action=action>
                                    <input type="hidden" name="token" value=token/>
                                    <div class="field">
                                        <label for="password">"New password"</label>
                                        <input id="password" name="password" type="password" autocomplete="new-password" required autofocus
                                            aria-describedby="password-help"/>
                                        <p class="muted" id="password-help">"At least 8 characters. Every other sign-in of yours ends."</p>
                                        {move || field_error().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                                    </div>
                                    <div class="field">
                                        <label for="confirm">"New password again"</label>
                                        <input id="confirm" name="confirm" type="password" autocomplete="new-password" required/>
                                    </div>
                                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Change password"</button>
                                </ActionForm>
                            }.into_any(),
                            Ok(false) => view! {
                                {said_view(Some(Said::BadLink))}
                                <p><a href="/login/forgot">"Ask for a new link"</a></p>
                            }.into_any(),
                            Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                        }
                    })}
                </Suspense>
                <p><a href="/login">"Back to sign in"</a></p>
            </section>
        </main>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let query = use_query_map();
    let action = ServerAction::<SignUp>::new();
    let offers = Resource::new(|| (), |_| self_service_offers());
    let from_url = move || Said::from_code(query.read().get("m").as_deref());
    let q = move |k: &str| query.read().get(k).unwrap_or_default();
    let field_error = move |f: &'static str| {
        move || match action.value().get() {
            Some(Ok(SelfServiceResult::Field(field, m))) if field == f => Some(m),
            Some(_) => None,
            None => {
                (query.read().get("field").as_deref() == Some(f)).then(|| field_hint(f).to_string())
            }
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
        <Title text="Create an account"/>
        <main class="login-page">
            <section class="login-card" aria-labelledby="signup-title">
                <h1 id="signup-title">"Create an account"</h1>
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match offers.await {
                            Ok(o) if o.sign_up => view! {
                                {move || message_view(message(action.value().get(), from_url()))}
                                <ActionForm action=action>
                                    <div class="field">
                                        <label for="login_name">"Login Name"</label>
                                        <input id="login_name" name="login_name" value=move || q("login_name") autocomplete="username" required autofocus
                                            aria-describedby=described("login_name")/>
                                        {error_line("login_name")}
                                    </div>
                                    <div class="field">
                                        <label for="email">"E-mail address"</label>
                                        <input id="email" name="email" type="email" value=move || q("email") autocomplete="email" required
                                            aria-describedby=described("email")/>
                                        {error_line("email")}
                                    </div>
                                    <div class="field">
                                        <label for="display_name">"Your name"</label>
                                        <input id="display_name" name="display_name" value=move || q("display_name") autocomplete="name"/>
                                    </div>
                                    <div class="field">
                                        <label for="password">"Password"</label>
                                        <input id="password" name="password" type="password" autocomplete="new-password" required
                                            aria-describedby=described("password")/>
                                        {error_line("password")}
                                    </div>
                                    <div class="field">
                                        <label for="confirm">"Password again"</label>
                                        <input id="confirm" name="confirm" type="password" autocomplete="new-password" required
                                            aria-describedby=described("confirm")/>
                                        {error_line("confirm")}
                                    </div>
                                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Create account"</button>
                                </ActionForm>
                            }.into_any(),
                            Ok(_) => view! { <p class="status error" role="alert">"You cannot create an account here. Ask your administrator for one."</p> }.into_any(),
                            Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                        }
                    })}
                </Suspense>
                <p><a href="/login">"Back to sign in"</a></p>
            </section>
        </main>
    }
}

#[component]
pub fn VerifyPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<VerifyAddress>::new();
    follow(move || action.value().get());
    let from_url = move || Said::from_code(query.read().get("m").as_deref());
    view! {
        <Title text="Confirm your address"/>
        <main class="login-page">
            <section class="login-card" aria-labelledby="verify-title">
                <h1 id="verify-title">"Confirm your address"</h1>
                {move || message_view(message(action.value().get(), from_url()))}
                <ActionForm action=action>
                    <input type="hidden" name="token" value=token/>
                    <p>"Confirm that this e-mail address is yours to finish creating your account."</p>
                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Confirm my address"</button>
                </ActionForm>
                <p><a href="/login">"Back to sign in"</a></p>
            </section>
        </main>
    }
}
