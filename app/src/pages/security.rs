//! Second factors (SPEC §6a): the second step of a sign-in (`/login/second`) and a person's
//! security page (`/account/security`). Their forms post to the server's plain handlers, so
//! both work without JavaScript; adding or using a passkey needs it (`/passkeys.js`: WebAuthn
//! is a browser API).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use model::factors::{QrCode, TotpSetup};

use crate::api::security::{second_step_message, second_step_view, security_view, Security};
use crate::components::error_text;
use crate::i18n::{tr, use_lang, LanguageLinks};

/// What `/passkeys.js` says while it works, in the page's language (its `data-words`).
pub fn passkey_words(l: crate::i18n::Lang) -> String {
    let w = |k: &str| serde_json::Value::String(l.t(k));
    serde_json::json!({
        "unsupported": w("passkey-unsupported"),
        "checking": w("passkey-checking"),
        "cancelled": w("passkey-cancelled"),
        "refused": w("second-passkey-refused"),
        "prompt": w("passkey-follow-prompt"),
        "saving": w("passkey-saving"),
    })
    .to_string()
}

/// The passkey script, for pages with a passkey button.
#[component]
fn PasskeyScript() -> impl IntoView {
    view! { <script src="/passkeys.js" defer></script> }
}

#[component]
pub fn SecondStepPage() -> impl IntoView {
    let l = use_lang();
    let query = use_query_map();
    let return_to = move || query.read().get("return_to");
    let data = Resource::new(return_to, second_step_view);
    let message = move || second_step_message(query.read().get("error").as_deref());
    view! {
        <Title text=l.t("second-title")/>
        <main class="login-page">
            <section class="login-card" aria-labelledby="second-title">
                <h1 id="second-title">{l.t("second-heading")}</h1>
                <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(s) => view! {
                                <p class="muted">{format!("{} ", l.t("second-signing-in-as"))}<strong>{s.login_name.clone()}</strong></p>
                                {message().map(|m| view! { <p class="status error" role="alert" id="second-error">{l.t(m)}</p> })}
                                {(s.totp || s.recovery_codes).then(|| view! {
                                    <form method="post" action="/login/second">
                                        <input type="hidden" name="csrf" value=s.csrf.clone()/>
                                        <input type="hidden" name="return_to" value=s.return_to.clone()/>
                                        <div class="field">
                                            <label for="code">{if s.totp { l.t("second-code-or-recovery") } else { l.t("second-recovery-only") }}</label>
                                            <input id="code" name="code" autocomplete="one-time-code" required autofocus
                                                aria-describedby=move || message().map(|_| "second-error")/>
                                        </div>
                                        <button type="submit" class="primary">{l.t("second-verify")}</button>
                                    </form>
                                })}
                                {s.passkeys.then(|| view! {
                                    <div class="passkey-step" data-passkey="second" data-words=passkey_words(l) data-return-to=s.return_to.clone()>
                                        <button type="button" class="passkey-button">{l.t("second-use-passkey")}</button>
                                        <p class="status" role="status" data-passkey-status=""></p>
                                    </div>
                                    <PasskeyScript/>
                                })}
                                <p><a href="/login">{l.t("second-someone-else")}</a></p>
                                <LanguageLinks/>
                            }.into_any(),
                            Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </main>
    }
}

/// A QR code drawn as SVG, each run of dark modules one rectangle, with a quiet zone.
#[component]
fn QrImage(qr: QrCode) -> impl IntoView {
    let l = use_lang();
    let side = qr.size + 8;
    view! {
        <svg class="qr" role="img" aria-labelledby="qr-title" viewBox=format!("0 0 {side} {side}")
            width="240" height="240" shape-rendering="crispEdges" xmlns="http://www.w3.org/2000/svg">
            <title id="qr-title">{l.t("security-qr-title")}</title>
            <rect width=side height=side fill="#fff"/>
            {qr.rows.into_iter().enumerate().flat_map(|(y, runs)| {
                runs.into_iter().map(move |(x, len)| view! {
                    <rect x=x + 4 y=y as u32 + 4 width=len height="1" fill="#000"/>
                })
            }).collect_view()}
        </svg>
    }
}

/// A form of the security page: posts `op` (and what `children` add) with the form token.
#[component]
fn SecurityForm(
    op: &'static str,
    csrf: String,
    return_to: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <form method="post" action="/account/security">
            <input type="hidden" name="csrf" value=csrf/>
            <input type="hidden" name="op" value=op/>
            {return_to.map(|r| view! { <input type="hidden" name="return_to" value=r/> })}
            {children()}
        </form>
    }
}

#[component]
fn TotpSection(s: Security) -> impl IntoView {
    let l = use_lang();
    let Security {
        factors,
        setup,
        csrf,
        return_to,
        ..
    } = s;
    let body = if factors.totp {
        view! {
            <p>{l.t("security-totp-on")}</p>
            <SecurityForm op="totp_remove" csrf return_to>
                <button type="submit" class="danger">{l.t("security-totp-remove")}</button>
            </SecurityForm>
        }
        .into_any()
    } else if let Some(TotpSetup { secret, url, qr }) = setup {
        view! {
            <ol>
                <li>{l.t("security-totp-step-scan")}</li>
                <li>{l.t("security-totp-step-code")}</li>
            </ol>
            <figure>
                <QrImage qr/>
                <figcaption>
                    <a href=url.clone() id="otpauth-link">{l.t("security-totp-open")}</a>
                    <br/>{format!("{} ", l.t("security-totp-secret"))}<code id="totp-secret">{secret}</code>
                </figcaption>
            </figure>
            <SecurityForm op="totp_confirm" csrf return_to>
                <div class="field">
                    <label for="code">{l.t("security-totp-code")}</label>
                    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required/>
                </div>
                <button type="submit" class="primary">{l.t("security-totp-turn-on")}</button>
            </SecurityForm>
        }
        .into_any()
    } else {
        view! {
            <p>{l.t("security-totp-intro")}</p>
            <SecurityForm op="totp_begin" csrf return_to>
                <button type="submit" class="primary">{l.t("security-totp-set-up")}</button>
            </SecurityForm>
        }
        .into_any()
    };
    view! {
        <section aria-labelledby="h-totp">
            <h2 id="h-totp">{l.t("security-totp-heading")}</h2>
            {body}
        </section>
    }
}

#[component]
fn RecoverySection(s: Security) -> impl IntoView {
    let l = use_lang();
    let any = s.factors.any();
    view! {
        <section aria-labelledby="h-recovery">
            <h2 id="h-recovery">{l.t("security-recovery-heading")}</h2>
            {(!s.new_codes.is_empty()).then(|| view! {
                <p><strong>{l.t("security-recovery-save")}</strong>{format!(" {}", l.t("security-recovery-each"))}</p>
                <ul class="recovery-codes" id="recovery-codes">
                    {s.new_codes.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view()}
                </ul>
            })}
            <p>{tr!(l, "security-recovery-left", count = s.factors.recovery_codes_left)}</p>
            {any.then(|| view! {
                <SecurityForm op="recovery_regenerate" csrf=s.csrf.clone() return_to=s.return_to.clone()>
                    <button type="submit">{l.t("security-recovery-make")}</button>
                </SecurityForm>
            })}
        </section>
    }
}

#[component]
fn PasskeySection(s: Security) -> impl IntoView {
    let l = use_lang();
    let list = s.factors.passkeys.clone();
    view! {
        <section aria-labelledby="h-passkeys">
            <h2 id="h-passkeys">{l.t("security-passkeys-heading")}</h2>
            {if list.is_empty() {
                view! { <p>{l.t("security-passkeys-none")}</p> }.into_any()
            } else {
                view! {
                    <table class="grid" id="passkeys">
                        <thead><tr><th>{l.t("security-passkey-name")}</th><th>{l.t("security-passkey-added")}</th><th>{l.t("security-passkey-last-used")}</th><th><span class="visually-hidden">{l.t("remove")}</span></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|p| {
                                let label = tr!(l, "security-passkey-remove-named", name = p.name.clone());
                                view! {
                                    <tr>
                                        <td>{p.name.clone()}{p.backed_up.then(|| format!(" {}", l.t("security-passkey-synced")))}</td>
                                        <td>{l.date_time(p.created_at)}</td>
                                        <td>{p.last_used_at.map(|t| l.date_time(t)).unwrap_or_else(|| l.t("never"))}</td>
                                        <td>
                                            <SecurityForm op="passkey_remove" csrf=s.csrf.clone() return_to=s.return_to.clone()>
                                                <input type="hidden" name="credential" value=p.id.clone()/>
                                                <button type="submit" class="danger" aria-label=label>{l.t("remove")}</button>
                                            </SecurityForm>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {if s.passkeys_available {
                view! {
                    <form class="passkey-add" data-passkey="register" data-words=passkey_words(l) data-return-to=s.return_to.clone().unwrap_or_default()>
                        <div class="field">
                            <label for="passkey-name">{l.t("security-passkey-new-name")}</label>
                            <input id="passkey-name" name="name" value=l.t("security-passkey-default-name") maxlength="64" required/>
                        </div>
                        <button type="submit">{l.t("security-passkey-add")}</button>
                        <p class="status" role="status" data-passkey-status=""></p>
                    </form>
                    <PasskeyScript/>
                }.into_any()
            } else {
                view! { <p class="muted">{l.t("security-passkeys-need-host")}</p> }.into_any()
            }}
        </section>
    }
}

/// The language of the person's pages and mail: their browser's, or one they choose.
#[component]
fn LanguageSection(s: Security) -> impl IntoView {
    let l = use_lang();
    let option = |value: &'static str, label: String, chosen: bool| {
        view! { <option value=value selected=chosen>{label}</option> }
    };
    view! {
        <section aria-labelledby="h-language">
            <h2 id="h-language">{l.t("security-language-heading")}</h2>
            <p>{l.t("security-language-intro")}</p>
            <SecurityForm op="language" csrf=s.csrf.clone() return_to=s.return_to.clone()>
                <div class="field">
                    <label for="language">{l.t("security-language-label")}</label>
                    <select id="language" name="language">
                        {option("", l.t("security-language-browser"), s.language.is_none())}
                        {crate::i18n::Lang::ALL.into_iter().map(|lang| {
                            option(lang.tag(), lang.name().to_string(), s.language == Some(lang))
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit">{l.t("security-language-save")}</button>
            </SecurityForm>
        </section>
    }
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    let l = use_lang();
    let query = use_query_map();
    let return_to = move || query.read().get("return_to");
    let data = Resource::new(return_to, security_view);
    view! {
        <Title text=l.t("security-title")/>
        <main class="center">
            <h1>{l.t("security-title")}</h1>
            <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(s) => {
                            let required = s.return_to.clone().map(|r| {
                                if s.factors.any() {
                                    view! { <p class="status"><a href=r>{l.t("continue")}</a></p> }.into_any()
                                } else {
                                    view! { <p class="status error" role="alert">{l.t("security-required")}</p> }.into_any()
                                }
                            });
                            view! {
                                <p class="muted">{format!("{} ", l.t("signed-in-as"))}<strong>{s.login_name.clone()}</strong></p>
                                {s.note.clone().map(|n| if s.note_is_error {
                                    view! { <p class="status error" role="alert">{n}</p> }.into_any()
                                } else {
                                    view! { <p class="status ok" role="status">{n}</p> }.into_any()
                                })}
                                {required}
                                <TotpSection s=s.clone()/>
                                <RecoverySection s=s.clone()/>
                                <PasskeySection s=s.clone()/>
                                <LanguageSection s/>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}
