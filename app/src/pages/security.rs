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

/// Unix seconds as `YYYY-MM-DD HH:MM UTC` (civil from days, no time zone database).
pub fn utc(ts: i64) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// The passkey script, for pages with a passkey button.
#[component]
fn PasskeyScript() -> impl IntoView {
    view! { <script src="/passkeys.js" defer></script> }
}

#[component]
pub fn SecondStepPage() -> impl IntoView {
    let query = use_query_map();
    let return_to = move || query.read().get("return_to");
    let data = Resource::new(return_to, second_step_view);
    let message = move || second_step_message(query.read().get("error").as_deref());
    view! {
        <Title text="Second step"/>
        <main class="login-page">
            <section class="login-card" aria-labelledby="second-title">
                <h1 id="second-title">"Confirm it is you"</h1>
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(s) => view! {
                                <p class="muted">"Signing in as " <strong>{s.login_name.clone()}</strong></p>
                                {message().map(|m| view! { <p class="status error" role="alert" id="second-error">{m}</p> })}
                                {(s.totp || s.recovery_codes).then(|| view! {
                                    <form method="post" action="/login/second">
                                        <input type="hidden" name="csrf" value=s.csrf.clone()/>
                                        <input type="hidden" name="return_to" value=s.return_to.clone()/>
                                        <div class="field">
                                            <label for="code">{if s.totp { "Code from your authenticator app, or a recovery code" } else { "A recovery code" }}</label>
                                            <input id="code" name="code" autocomplete="one-time-code" required autofocus
                                                aria-describedby=move || message().map(|_| "second-error")/>
                                        </div>
                                        <button type="submit" class="primary">"Verify"</button>
                                    </form>
                                })}
                                {s.passkeys.then(|| view! {
                                    <div class="passkey-step" data-passkey="second" data-return-to=s.return_to.clone()>
                                        <button type="button" class="passkey-button">"Use a passkey"</button>
                                        <p class="status" role="status" data-passkey-status=""></p>
                                    </div>
                                    <PasskeyScript/>
                                })}
                                <p><a href="/login">"Sign in as someone else"</a></p>
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
    let side = qr.size + 8;
    view! {
        <svg class="qr" role="img" aria-labelledby="qr-title" viewBox=format!("0 0 {side} {side}")
            width="240" height="240" shape-rendering="crispEdges" xmlns="http://www.w3.org/2000/svg">
            <title id="qr-title">"QR code of the authenticator link below"</title>
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
    let Security {
        factors,
        setup,
        csrf,
        return_to,
        ..
    } = s;
    let body = if factors.totp {
        view! {
            <p>"An authenticator app is on: signing in asks for its code after your password."</p>
            <SecurityForm op="totp_remove" csrf return_to>
                <button type="submit" class="danger">"Remove the authenticator app"</button>
            </SecurityForm>
        }
        .into_any()
    } else if let Some(TotpSetup { secret, url, qr }) = setup {
        view! {
            <ol>
                <li>"Scan this QR code with your authenticator app, or open the link on this device, or type the secret."</li>
                <li>"Enter the 6-digit code the app shows."</li>
            </ol>
            <figure>
                <QrImage qr/>
                <figcaption>
                    <a href=url.clone() id="otpauth-link">"Open in an authenticator app"</a>
                    <br/>"Secret: " <code id="totp-secret">{secret}</code>
                </figcaption>
            </figure>
            <SecurityForm op="totp_confirm" csrf return_to>
                <div class="field">
                    <label for="code">"Code from the app"</label>
                    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required/>
                </div>
                <button type="submit" class="primary">"Turn on"</button>
            </SecurityForm>
        }
        .into_any()
    } else {
        view! {
            <p>"Use an app such as a password manager or an authenticator to make a code each time you sign in."</p>
            <SecurityForm op="totp_begin" csrf return_to>
                <button type="submit" class="primary">"Set up an authenticator app"</button>
            </SecurityForm>
        }
        .into_any()
    };
    view! {
        <section aria-labelledby="h-totp">
            <h2 id="h-totp">"Authenticator app"</h2>
            {body}
        </section>
    }
}

#[component]
fn RecoverySection(s: Security) -> impl IntoView {
    let any = s.factors.any();
    view! {
        <section aria-labelledby="h-recovery">
            <h2 id="h-recovery">"Recovery codes"</h2>
            {(!s.new_codes.is_empty()).then(|| view! {
                <p><strong>"Save these codes now: they are shown this once."</strong>" Each one signs you in once if you lose your second factor."</p>
                <ul class="recovery-codes" id="recovery-codes">
                    {s.new_codes.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view()}
                </ul>
            })}
            <p>{format!("{} unused recovery codes.", s.factors.recovery_codes_left)}</p>
            {any.then(|| view! {
                <SecurityForm op="recovery_regenerate" csrf=s.csrf.clone() return_to=s.return_to.clone()>
                    <button type="submit">"Make new recovery codes"</button>
                </SecurityForm>
            })}
        </section>
    }
}

#[component]
fn PasskeySection(s: Security) -> impl IntoView {
    let list = s.factors.passkeys.clone();
    view! {
        <section aria-labelledby="h-passkeys">
            <h2 id="h-passkeys">"Passkeys"</h2>
            {if list.is_empty() {
                view! { <p>"You have no passkey."</p> }.into_any()
            } else {
                view! {
                    <table class="grid" id="passkeys">
                        <thead><tr><th>"Name"</th><th>"Added"</th><th>"Last used"</th><th><span class="visually-hidden">"Remove"</span></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|p| {
                                let label = format!("Remove the passkey {}", p.name);
                                view! {
                                    <tr>
                                        <td>{p.name.clone()}{p.backed_up.then_some(" (synced)")}</td>
                                        <td>{utc(p.created_at)}</td>
                                        <td>{p.last_used_at.map(utc).unwrap_or_else(|| "never".into())}</td>
                                        <td>
                                            <SecurityForm op="passkey_remove" csrf=s.csrf.clone() return_to=s.return_to.clone()>
                                                <input type="hidden" name="credential" value=p.id.clone()/>
                                                <button type="submit" class="danger" aria-label=label>"Remove"</button>
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
                    <form class="passkey-add" data-passkey="register" data-return-to=s.return_to.clone().unwrap_or_default()>
                        <div class="field">
                            <label for="passkey-name">"Name of the new passkey"</label>
                            <input id="passkey-name" name="name" value="Passkey" maxlength="64" required/>
                        </div>
                        <button type="submit">"Add a passkey"</button>
                        <p class="status" role="status" data-passkey-status=""></p>
                    </form>
                    <PasskeyScript/>
                }.into_any()
            } else {
                view! { <p class="muted">"Passkeys need Gatehouse at a host name (GATEHOUSE_PUBLIC_URL), not an address."</p> }.into_any()
            }}
        </section>
    }
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    let query = use_query_map();
    let return_to = move || query.read().get("return_to");
    let data = Resource::new(return_to, security_view);
    view! {
        <Title text="Security"/>
        <main class="center">
            <h1>"Security"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(s) => {
                            let required = s.return_to.clone().map(|r| {
                                if s.factors.any() {
                                    view! { <p class="status"><a href=r>"Continue"</a></p> }.into_any()
                                } else {
                                    view! { <p class="status error" role="alert">"A second factor is required to continue: set one up below."</p> }.into_any()
                                }
                            });
                            view! {
                                <p class="muted">"Signed in as " <strong>{s.login_name.clone()}</strong></p>
                                {s.note.clone().map(|n| if s.note_is_error {
                                    view! { <p class="status error" role="alert">{n}</p> }.into_any()
                                } else {
                                    view! { <p class="status ok" role="status">{n}</p> }.into_any()
                                })}
                                {required}
                                <TotpSection s=s.clone()/>
                                <RecoverySection s=s.clone()/>
                                <PasskeySection s/>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn unix_times_read_as_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_796_601_600 + 3_661), "2026-12-07 01:01 UTC");
    }
}
