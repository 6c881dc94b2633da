//! Languages (SPEC §6b): the hosted pages, the portal, notices, server-function answers and mail
//! speak the language negotiated for the request — `ui_locales` (remembered for the visit),
//! then `Accept-Language`, then the deployment's default — in English or German.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;
use crate::smtp::SmtpSink;

/// A page fetched with `Accept-Language: accept` (none when empty) by `c`.
async fn page_in(c: &reqwest::Client, url: &str, path: &str, accept: &str) -> (u16, String) {
    let mut req = c.get(format!("{url}{path}"));
    if !accept.is_empty() {
        req = req.header("Accept-Language", accept);
    }
    let res = req.send().await.expect("page");
    (res.status().as_u16(), res.text().await.expect("html"))
}

#[tokio::test]
async fn pages_follow_accept_language_then_ui_locales_for_the_visit_then_the_default() {
    let app = spawn_app().await;
    let c = client();

    // The browser's languages, by their weights.
    let (s, de) = page_in(
        &c,
        &app.url,
        "/login",
        "fr-CH, fr;q=0.9, de;q=0.8, en;q=0.7",
    )
    .await;
    assert_eq!(s, 200);
    assert!(de.contains("<html lang=\"de\""), "{de}");
    assert!(de.contains("Anmeldename") && de.contains("<title>Anmelden · Gatehouse</title>"));
    assert!(!de.contains("Login Name"));
    let (_, en) = page_in(&c, &app.url, "/login", "en-GB,de;q=0.5").await;
    assert!(en.contains("<html lang=\"en\"") && en.contains("Login Name"));
    let (_, none) = page_in(&c, &app.url, "/login", "ja, zh").await;
    assert!(
        none.contains("Login Name"),
        "nothing spoken: the default, English"
    );
    // Each page links to itself in the other language.
    assert!(en.contains("hreflang=\"de\"") && en.contains("ui_locales=de"));

    // ui_locales beats Accept-Language and is remembered for the visit (a session cookie).
    let res = c
        .get(format!("{}/login?ui_locales=fr%20de", app.url))
        .header("Accept-Language", "en")
        .send()
        .await
        .expect("login");
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gatehouse_lang="))
        .expect("the language is remembered")
        .to_string();
    assert!(cookie.starts_with("gatehouse_lang=de") && cookie.contains("HttpOnly"));
    assert!(
        !cookie.to_ascii_lowercase().contains("max-age"),
        "for the visit only: {cookie}"
    );
    assert!(res.text().await.expect("html").contains("Anmeldename"));
    let (_, later) = page_in(&c, &app.url, "/login", "en").await;
    assert!(
        later.contains("Anmeldename"),
        "the visit keeps the language"
    );
    // A language Gatehouse does not speak changes nothing.
    let (_, still) = page_in(&c, &app.url, "/login?ui_locales=tlh", "en").await;
    assert!(still.contains("Anmeldename"));

    // An authorize request's ui_locales reaches the page it ends on (here: a refusal).
    let fresh = client();
    let (s, refused) = page_in(
        &fresh,
        &app.url,
        "/oauth2/authorize/no-such-app?response_type=code&client_id=x&ui_locales=de",
        "en",
    )
    .await;
    assert!(s >= 400, "{s}");
    assert!(refused.contains("<html lang=\"de\""), "{refused}");
    assert!(refused.contains("Diese Anmeldeanfrage kann nicht abgeschlossen werden"));
    let (_, login) = page_in(&fresh, &app.url, "/login", "en").await;
    assert!(
        login.contains("Anmeldename"),
        "and the sign-in that follows"
    );

    // A page that is not there, and a server function's answer.
    let (s, missing) = page_in(&client(), &app.url, "/no/such/page", "de").await;
    assert_eq!(s, 404);
    assert!(missing.contains("Seite nicht gefunden"), "{missing}");
    let res = client()
        .post(format!("{}/sfn/login", app.url))
        .header("Origin", &app.url)
        .header("Accept-Language", "de")
        .form(&[
            ("login_name", "admin"),
            ("password", "wrong"),
            ("return_to", "/admin"),
        ])
        .send()
        .await
        .expect("login");
    let body = res.text().await.expect("body");
    assert!(
        body.contains("Anmeldename oder Passwort ist falsch."),
        "{body}"
    );

    // The portal, signed in, in German: the navigation and a date.
    let (_, portal) = page_in(&app.admin, &app.url, "/admin/users", "de").await;
    assert!(portal.contains("<html lang=\"de\""));
    assert!(
        portal.contains("Benutzer") && portal.contains("Abmelden"),
        "{portal}"
    );
}

#[tokio::test]
async fn the_default_language_is_a_setting_of_system_administrators() {
    let app = spawn_app().await;
    let (s, v) = app
        .api(
            Method::PATCH,
            "/api/v1/settings/branding",
            Some(json!({"default_language": "de"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["default_language"], "de");
    let (_, v) = app
        .api(Method::GET, "/api/v1/settings/branding", None)
        .await;
    assert_eq!(v["default_language"], "de");
    // No language asked for, or none spoken: the default.
    let (_, p) = page_in(&client(), &app.url, "/login", "").await;
    assert!(p.contains("<html lang=\"de\"") && p.contains("Anmeldename"));
    let (_, p) = page_in(&client(), &app.url, "/login", "ja").await;
    assert!(p.contains("Anmeldename"));
    // The browser's wish still wins.
    let (_, p) = page_in(&client(), &app.url, "/login", "en-US").await;
    assert!(p.contains("Login Name"));
    // Only a language Gatehouse speaks.
    let (s, e) = app
        .api(
            Method::PATCH,
            "/api/v1/settings/branding",
            Some(json!({"default_language": "tlh"})),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let (_, v) = app
        .api(Method::GET, "/api/v1/settings/branding", None)
        .await;
    assert_eq!(v["default_language"], "de", "unchanged");
}

#[tokio::test]
async fn mail_goes_out_in_the_language_of_the_page_it_was_asked_from() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|cfg| sink.receive_from(cfg)).await;
    app.create_user("alice", "alice-password-1", false).await;
    let (_, forgot) = page_in(&client(), &app.url, "/login/forgot", "de").await;
    assert!(forgot.contains("Passwort vergessen?") && forgot.contains("Link senden"));
    let res = forgot_password(&app, "alice", "de-AT").await;
    let mails = sink.wait_for(1).await;
    assert_eq!(
        mails[0].subject(),
        "Ihr Passwort für Gatehouse zurücksetzen"
    );
    let text = mails[0].part("text/plain");
    assert!(
        text.contains("Hallo alice,") && text.contains("30 Minuten lang."),
        "{text}"
    );
    let html = mails[0].part("text/html");
    assert!(html.contains("<html lang=\"de\">") && html.contains("Neues Passwort festlegen"));
    // The answer page, in German too.
    let to = location(&res);
    let (_, answer) = page_in(&client(), &app.url, &to, "de").await;
    assert!(answer.contains("Wenn ein Konto diese Adresse"), "{answer}");
}

#[tokio::test]
async fn a_pushed_ui_locales_reaches_the_sign_in_and_consent_pages_and_metadata_names_the_languages(
) {
    use crate::authorize::{alice, challenge, make_app, setup, CB, VERIFIER};
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "web", json!({"user_must_confirm": true})).await;
    let meta = as_metadata(&app.url, "web").await;
    assert_eq!(meta["ui_locales_supported"], json!(["en", "de"]));

    // The client pushes ui_locales=de; the browser carries only the request_uri.
    let ch = challenge(VERIFIER);
    let pushed: serde_json::Value = client()
        .post(format!("{}/oauth2/par/web", app.url))
        .basic_auth("web-client", Some("web-secret-123"))
        .form(&[
            ("response_type", "code"),
            ("redirect_uri", CB),
            ("scope", "read"),
            ("state", "s"),
            ("code_challenge", ch.as_str()),
            ("code_challenge_method", "S256"),
            ("ui_locales", "de"),
        ])
        .send()
        .await
        .expect("par")
        .json()
        .await
        .expect("json");
    let uri = pushed["request_uri"]
        .as_str()
        .expect("request_uri")
        .to_string();
    let at = format!(
        "/oauth2/authorize/web?client_id=web-client&request_uri={}",
        uri.replace(':', "%3A")
    );
    // A stranger is sent to sign in: in German (the cookie), though the browser asks for English.
    let stranger = client();
    let res = stranger
        .get(format!("{}{at}", app.url))
        .header("Accept-Language", "en")
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), 303);
    assert!(res.headers().get_all("set-cookie").iter().any(|v| v
        .to_str()
        .unwrap_or_default()
        .starts_with("gatehouse_lang=de")));
    let (_, login) = page_in(&stranger, &app.url, &location(&res), "en").await;
    assert!(login.contains("Anmeldename"), "{login}");
    // Signed in, the consent page itself speaks German.
    let alice = alice(&app).await;
    let (s, consent) = page_in(&alice, &app.url, &at, "en").await;
    assert_eq!(s, 200, "{consent}");
    assert!(consent.contains("<html lang=\"de\""));
    assert!(
        consent.contains("App web Zugriff auf Ihr Konto erlauben?"),
        "{consent}"
    );
}

/// "Forgot your password?" for `who`, from a page in `accept`'s language (a plain form post).
async fn forgot_password(app: &TestApp, who: &str, accept: &str) -> reqwest::Response {
    let res = client()
        .post(format!("{}/sfn/self/forgot", app.url))
        .header("Accept", "text/html")
        .header("Origin", &app.url)
        .header("Accept-Language", accept)
        .form(&[("who", who)])
        .send()
        .await
        .expect("forgot");
    assert!(res.status().is_redirection());
    res
}

/// The `gatehouse_lang` cookie `res` sets, if it sets one.
fn lang_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gatehouse_lang="))
        .map(str::to_string)
}

/// Posts the language form of the security page: `tag`, or "" for the browser's language.
async fn choose_language(c: &reqwest::Client, url: &str, tag: &str) -> reqwest::Response {
    let (s, p) = page_in(c, url, "/account/security", "en").await;
    assert_eq!(s, 200, "{p}");
    let res = c
        .post(format!("{url}/account/security"))
        .header("Origin", url)
        .form(&[
            ("csrf", input_value(&p, "csrf").as_str()),
            ("op", "language"),
            ("language", tag),
        ])
        .send()
        .await
        .expect("language form");
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account/security");
    res
}

/// A person's own language (their security page): it beats their browser's from then on, in
/// every later sign-in on any browser and in the mail sent to them, until they choose the
/// browser's again; a language asked for by `ui_locales` still beats it for that visit.
#[tokio::test]
async fn a_person_chooses_their_language_for_their_pages_and_mail() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|cfg| sink.receive_from(cfg)).await;
    app.create_user("alice", "alice-password-1", false).await;
    let signed_in = || async {
        let c = client();
        let res = sign_in(
            &c,
            &app.url,
            "alice",
            "alice-password-1",
            "/account/security",
        )
        .await;
        assert_eq!(res.status(), 302);
        c
    };
    let c = signed_in().await;
    let (_, p) = page_in(&c, &app.url, "/account/security", "en").await;
    assert!(
        p.contains("<option value=\"\" selected")
            && p.contains("Your browser's language")
            && p.contains("<option value=\"de\">Deutsch</option>"),
        "{p}"
    );

    // German, by the person's choice, though the browser asks for English.
    let res = choose_language(&c, &app.url, "de").await;
    let cookie = lang_cookie(&res).expect("the visit follows the choice");
    assert!(cookie.starts_with("gatehouse_lang=de;"), "{cookie}");
    let (_, p) = page_in(&c, &app.url, "/account/security", "en").await;
    assert!(p.contains("<html lang=\"de\""), "{p}");
    assert!(p.contains("Ihre Sprache ist gespeichert."), "{p}");
    assert!(p.contains("<option value=\"de\" selected"), "{p}");

    // Another browser (no cookie of this visit): German from the sign-in on.
    let other = signed_in().await;
    let (_, p) = page_in(&other, &app.url, "/account/security", "en").await;
    assert!(
        p.contains("<html lang=\"de\"") && p.contains("Sicherheit"),
        "{p}"
    );
    let (_, portal) = page_in(&other, &app.url, "/", "en-US").await;
    assert!(portal.contains("<html lang=\"de\""));
    // A language a request asks for beats it, for that visit.
    let (_, asked) = page_in(&other, &app.url, "/account/security?ui_locales=en", "de").await;
    assert!(asked.contains("<html lang=\"en\"") && asked.contains("Security"));
    // Signed out, the browser's language again.
    let (_, login) = page_in(&client(), &app.url, "/login", "en").await;
    assert!(login.contains("<html lang=\"en\""));

    // The reset mail speaks the person's language, though asked for from an English page.
    forgot_password(&app, "alice", "en").await;
    let mails = sink.wait_for(1).await;
    assert_eq!(
        mails[0].subject(),
        "Ihr Passwort für Gatehouse zurücksetzen"
    );

    // The browser's language again: the visit's cookie goes, and later sign-ins follow the
    // browser.
    let res = choose_language(&c, &app.url, "").await;
    let cookie = lang_cookie(&res).expect("the visit's language is forgotten");
    assert!(cookie.starts_with("gatehouse_lang=;"), "{cookie}");
    let (_, p) = page_in(&c, &app.url, "/account/security", "en").await;
    assert!(
        p.contains("<html lang=\"en\"") && p.contains("Your language is saved."),
        "{p}"
    );
    let again = signed_in().await;
    let (_, p) = page_in(&again, &app.url, "/account/security", "en").await;
    assert!(p.contains("<html lang=\"en\""), "{p}");
    // A made-up language is the browser's.
    choose_language(&again, &app.url, "tlh").await;
    let (_, p) = page_in(&again, &app.url, "/account/security", "de").await;
    assert!(p.contains("<option value=\"\" selected"), "{p}");
}
