//! Second factors (SPEC §6a) the way a browser without JavaScript uses them: a person sets up
//! an authenticator app on /account/security from the page's otpauth:// link, and codes are
//! computed by an independent TOTP implementation (totp-lite); the second step at sign-in,
//! replays, recovery codes, throttling, `amr`/`acr`, and an administrator's reset.

use reqwest::Method;
use serde_json::{json, Value};

use crate::authorize::{make_app, setup};
use crate::helpers::*;
use crate::oidc::{code_flow_as, segment};

/// RFC 4648 base32 (no padding), as in an otpauth:// secret.
fn base32(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        let v = alphabet.iter().position(|a| *a == c).expect("base32") as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

/// The code an authenticator app shows now for `secret` (SHA-1, 6 digits, 30 s).
fn code_now(secret: &[u8]) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, secret, t)
}

/// The code of the next 30-second step: taken one step early (clock drift), and after the
/// step that set the app up (its code was used then).
fn code_next(secret: &[u8]) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, secret, t + 30)
}

/// A code that is certainly not the current one (nor its neighbours').
fn wrong_code(secret: &[u8]) -> String {
    let right: Vec<String> = [-30i64, 0, 30]
        .iter()
        .map(|d| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("time")
                .as_secs() as i64
                + d;
            totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, secret, t as u64)
        })
        .collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !right.contains(c))
        .expect("a wrong code")
}

async fn page(c: &reqwest::Client, url: &str, path: &str) -> (u16, String) {
    let res = c.get(format!("{url}{path}")).send().await.expect("page");
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

async fn post(
    c: &reqwest::Client,
    url: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(format!("{url}{path}"))
        .header("Origin", url)
        .form(form)
        .send()
        .await
        .expect("post")
}

/// Posts one of the security page's forms with the page's form token.
async fn security_op(c: &reqwest::Client, url: &str, op: &str, extra: &[(&str, &str)]) -> String {
    let (s, p) = page(c, url, "/account/security").await;
    assert_eq!(s, 200, "{p}");
    let csrf = input_value(&p, "csrf");
    let mut form = vec![("csrf", csrf.as_str()), ("op", op)];
    form.extend_from_slice(extra);
    let res = post(c, url, "/account/security", &form).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account/security");
    page(c, url, "/account/security").await.1
}

/// Sets up alice's authenticator app through the pages; answers its secret and the recovery
/// codes shown once.
async fn enrol(app: &TestApp) -> (Vec<u8>, Vec<String>) {
    let c = crate::authorize::alice(app).await;
    let (s, p) = page(&c, &app.url, "/account/security").await;
    assert_eq!(s, 200);
    assert!(p.contains("Set up an authenticator app"), "{p}");
    let p = security_op(&c, &app.url, "totp_begin", &[]).await;
    let link = p
        .split("href=\"")
        .find(|s| s.starts_with("otpauth://"))
        .and_then(|s| s.split('"').next())
        .expect("an otpauth:// link")
        .replace("&amp;", "&");
    assert!(link.starts_with("otpauth://totp/"), "{link}");
    assert!(link.contains("alice"), "{link}");
    let secret_b32 = link
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("secret="))
        .expect("secret");
    let secret = base32(secret_b32);
    assert_eq!(secret.len(), 20, "160 bits");
    let svg = p.split("<svg").nth(1).unwrap_or_default();
    assert!(
        svg.contains("class=\"qr\"") && svg.contains("<rect"),
        "the QR code is drawn on the page: {p}"
    );
    // A wrong code does not turn it on.
    let p = security_op(
        &c,
        &app.url,
        "totp_confirm",
        &[("code", &wrong_code(&secret))],
    )
    .await;
    assert!(p.contains("That code is not right"), "{p}");
    assert!(p.contains("Turn on"), "still being set up");
    // One right code does, and shows ten recovery codes once.
    let p = security_op(
        &c,
        &app.url,
        "totp_confirm",
        &[("code", &code_now(&secret))],
    )
    .await;
    assert!(p.contains("Your authenticator app is on"), "{p}");
    let codes: Vec<String> = p
        .split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split("</code>").next().map(str::to_string))
        .collect();
    assert_eq!(codes.len(), 10, "{p}");
    assert!(
        codes.iter().all(|c| c.len() == 11 && &c[5..6] == "-"),
        "{codes:?}"
    );
    let (_, again) = page(&c, &app.url, "/account/security").await;
    assert!(!again.contains(&codes[0]), "shown once");
    assert!(again.contains("10 unused recovery codes"), "{again}");
    (secret, codes)
}

/// Alice gives her password; answers the client and where the login sent it.
async fn password(app: &TestApp, return_to: &str) -> (reqwest::Client, String) {
    let c = client();
    let res = sign_in(&c, &app.url, "alice", "alice-password", return_to).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    (c, location(&res))
}

/// Posts the second step's form; answers where it sent the browser.
async fn second(c: &reqwest::Client, url: &str, code: &str, return_to: &str) -> String {
    let (s, p) = page(
        c,
        url,
        &format!(
            "/login/second?return_to={}",
            domain::authorize::encode(return_to)
        ),
    )
    .await;
    assert_eq!(s, 200, "{p}");
    let csrf = input_value(&p, "csrf");
    let res = post(
        c,
        url,
        "/login/second",
        &[("csrf", &csrf), ("code", code), ("return_to", return_to)],
    )
    .await;
    assert_eq!(res.status(), 303);
    location(&res)
}

async fn signed_in(c: &reqwest::Client, url: &str) -> bool {
    page(c, url, "/account/security").await.0 == 200
}

/// Waits for the next 30-second step (a code can be used once per step).
async fn next_step() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_millis() as u64;
    tokio::time::sleep(std::time::Duration::from_millis(30_000 - now % 30_000 + 50)).await;
}

#[tokio::test]
async fn an_authenticator_app_is_the_second_step_and_each_code_works_once() {
    let app = spawn_app().await;
    setup(&app).await;
    let (secret, codes) = enrol(&app).await;

    // The password alone no longer signs alice in: the second step comes first.
    let (c, to) = password(&app, "/account/apps").await;
    assert_eq!(to, "/login/second?return_to=%2Faccount%2Fapps");
    assert!(
        !signed_in(&c, &app.url).await,
        "not signed in before the second step"
    );
    let (_, p) = page(&c, &app.url, &to).await;
    assert!(p.contains("Signing in as <strong>alice</strong>"), "{p}");
    // A wrong code; then the right one.
    let to_after = second(&c, &app.url, &wrong_code(&secret), "/account/apps").await;
    assert_eq!(
        to_after,
        "/login/second?error=invalid&return_to=%2Faccount%2Fapps"
    );
    assert!(!signed_in(&c, &app.url).await);
    // The code that set the app up was this step's: it does not work again.
    let used = second(&c, &app.url, &code_now(&secret), "/account/apps").await;
    assert!(used.contains("error=invalid"), "{used}");
    let code = code_next(&secret);
    assert_eq!(
        second(&c, &app.url, &code, "/account/apps").await,
        "/account/apps"
    );
    assert!(signed_in(&c, &app.url).await);

    // The same code again (another sign-in, same 30 s): refused, it was used.
    let (c2, _) = password(&app, "/").await;
    let to_replay = second(&c2, &app.url, &code, "/").await;
    assert!(to_replay.contains("error=invalid"), "{to_replay}");
    assert!(
        !signed_in(&c2, &app.url).await,
        "a replayed code signs no one in"
    );

    // A recovery code works once.
    assert_eq!(
        second(&c2, &app.url, &codes[3].to_uppercase(), "/").await,
        "/"
    );
    assert!(signed_in(&c2, &app.url).await);
    let (c3, _) = password(&app, "/").await;
    assert!(second(&c3, &app.url, &codes[3], "/")
        .await
        .contains("error=invalid"));
    let (_, p) = page(&c2, &app.url, "/account/security").await;
    assert!(p.contains("9 unused recovery codes"), "{p}");

    // The next step's code works (and is the replay store's new mark).
    next_step().await;
    assert_eq!(second(&c3, &app.url, &code_next(&secret), "/").await, "/");
    assert!(signed_in(&c3, &app.url).await);

    // Every use was audited.
    let (_, audit) = app.api(Method::GET, "/api/v1/audit?limit=200", None).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["action"].as_str()).collect())
        .unwrap_or_default();
    for a in [
        "factor.totp_add",
        "factor.recovery_code_use",
        "session.second_factor_failed",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn wrong_second_steps_are_throttled_like_passwords() {
    let app = spawn_app().await;
    setup(&app).await;
    let (secret, _) = enrol(&app).await;
    let (c, _) = password(&app, "/").await;
    let mut last = String::new();
    for _ in 0..12 {
        last = second(&c, &app.url, &wrong_code(&secret), "/").await;
    }
    assert!(last.contains("error=throttled"), "{last}");
    // While throttled, even the right code is refused (and the password too).
    assert!(second(&c, &app.url, &code_next(&secret), "/")
        .await
        .contains("error=throttled"));
    assert!(!signed_in(&c, &app.url).await);
    let res = sign_in(&client(), &app.url, "alice", "alice-password", "/").await;
    assert!(
        location(&res).contains("error=throttled"),
        "{}",
        location(&res)
    );
}

#[tokio::test]
async fn id_tokens_and_introspection_say_how_the_person_signed_in() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(
        &app,
        "web",
        json!({"scopes": [{"name": "read", "description": "Read"}],
               "auth_methods": ["authorization_code", "client_credentials"]}),
    )
    .await;
    // Password only: amr pwd, acr 1.
    let (c, _) = password(&app, "/").await;
    let (_, body) = code_flow_as(&app, "web", "openid read", c).await;
    let id = segment(body["id_token"].as_str().expect("id_token"), 1);
    assert_eq!(
        (id["amr"].clone(), id["acr"].clone()),
        (json!(["pwd"]), json!("1")),
        "{id}"
    );
    let (s, i) = introspect_with(
        &app.url,
        "web",
        Some(("web-client", "web-secret-123")),
        body["access_token"].as_str().unwrap_or_default(),
    )
    .await;
    assert_eq!(
        (s, i["amr"].clone(), i["acr"].clone()),
        (200, json!(["pwd"]), json!("1")),
        "{i}"
    );

    // With the authenticator app: pwd otp mfa, acr 2 — in the ID token, introspection, and
    // again after a refresh.
    let (secret, _) = enrol(&app).await;
    let (c, _) = password(&app, "/").await;
    assert_eq!(second(&c, &app.url, &code_next(&secret), "/").await, "/");
    let (_, body) = code_flow_as(&app, "web", "openid read", c).await;
    let id = segment(body["id_token"].as_str().expect("id_token"), 1);
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]), "{id}");
    assert_eq!(id["acr"], "2");
    let (_, i) = introspect_with(
        &app.url,
        "web",
        Some(("web-client", "web-secret-123")),
        body["access_token"].as_str().unwrap_or_default(),
    )
    .await;
    assert_eq!(
        (i["amr"].clone(), i["acr"].clone()),
        (json!(["pwd", "otp", "mfa"]), json!("2")),
        "{i}"
    );
    let (s, r, _) = form_token(
        &app.url,
        "web",
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                body["refresh_token"].as_str().unwrap_or_default(),
            ),
            ("client_id", "web-client"),
            ("client_secret", "web-secret-123"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let id = segment(r["id_token"].as_str().expect("id_token on refresh"), 1);
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]), "{id}");
    // A client's own token says nothing of a person's sign-in.
    let (s, t, _) = form_token(
        &app.url,
        "web",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "web-client"),
            ("client_secret", "web-secret-123"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let (_, i) = introspect_with(
        &app.url,
        "web",
        Some(("web-client", "web-secret-123")),
        t["access_token"].as_str().unwrap_or_default(),
    )
    .await;
    assert_eq!(i["active"], true, "{i}");
    assert!(i.get("amr").is_none() && i.get("acr").is_none(), "{i}");
}

#[tokio::test]
async fn an_administrator_sees_and_resets_a_persons_factors() {
    let app = spawn_app().await;
    let alice = setup(&app).await;
    let (s, f) = app
        .api(Method::GET, &format!("/api/v1/users/{alice}/factors"), None)
        .await;
    assert_eq!((s, f["totp"].as_bool()), (200, Some(false)), "{f}");
    enrol(&app).await;
    let (_, f) = app
        .api(Method::GET, &format!("/api/v1/users/{alice}/factors"), None)
        .await;
    assert_eq!(
        (f["totp"].as_bool(), f["recovery_codes_left"].as_u64()),
        (Some(true), Some(10)),
        "{f}"
    );
    // Someone without the users right may not; a missing person is 404.
    let (s, _) = app
        .api(Method::DELETE, "/api/v1/users/no-such-user/factors", None)
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/users/{alice}/factors"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (_, f) = app
        .api(Method::GET, &format!("/api/v1/users/{alice}/factors"), None)
        .await;
    assert_eq!(
        f,
        json!({"totp": false, "recovery_codes_left": 0, "passkeys": []}),
        "everything is gone"
    );
    // The password alone signs alice in again; the reset is in the audit log.
    let (c, to) = password(&app, "/account/apps").await;
    assert_eq!(to, "/account/apps");
    assert!(signed_in(&c, &app.url).await);
    let (_, audit) = app.api(Method::GET, "/api/v1/audit", None).await;
    let reset: Vec<&Value> = audit["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["action"] == "user.factors_reset")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(reset.len(), 1, "{audit}");
    assert_eq!(reset[0]["object_id"], alice.as_str());
}

/// `require_mfa`: a person without a second factor is led to set one up and then continues to
/// the app; one whose session has only the password gives the second factor first;
/// `prompt=none` cannot do either.
#[tokio::test]
async fn an_app_that_requires_a_second_factor_leads_people_to_one() {
    use crate::authorize::{authorize, challenge, query_of, CB, VERIFIER};
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "strict", json!({"require_mfa": true})).await;
    let ch = challenge(VERIFIER);
    let params = |prompt: Option<&'static str>| {
        let mut p = vec![
            ("response_type", "code"),
            ("client_id", "web-client"),
            ("redirect_uri", CB),
            ("scope", "openid read"),
            ("state", "st"),
            ("code_challenge", ch.as_str()),
            ("code_challenge_method", "S256"),
        ];
        if let Some(v) = prompt {
            p.push(("prompt", v));
        }
        p
    };
    // Alice has no second factor: sent to set one up, with the way back.
    let (a, _) = password(&app, "/").await;
    let res = authorize(&a, &app.url, "strict", &params(None)).await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(
        to.starts_with("/account/security?return_to=%2Foauth2%2Fauthorize%2Fstrict%3F"),
        "{to}"
    );
    let res = authorize(&a, &app.url, "strict", &params(Some("none"))).await;
    assert_eq!(
        query_of(&location(&res)).get("error").map(String::as_str),
        Some("interaction_required")
    );
    let (_, p) = page(&a, &app.url, &to).await;
    assert!(p.contains("A second factor is required to continue"), "{p}");

    // A second session, signed in with the password only before the app was set up.
    let (b, _) = password(&app, "/").await;
    assert!(signed_in(&b, &app.url).await);

    // Set up on the first session, from the page the app sent it to: that session proved the
    // factor, so the app lets it through at once.
    let p = security_op(&a, &app.url, "totp_begin", &[]).await;
    let secret = base32(
        p.split("secret=")
            .nth(1)
            .and_then(|s| s.split(['&', '"']).next())
            .expect("secret"),
    );
    let p = security_op(
        &a,
        &app.url,
        "totp_confirm",
        &[("code", &code_now(&secret))],
    )
    .await;
    assert!(p.contains("Your authenticator app is on"), "{p}");
    let res = authorize(&a, &app.url, "strict", &params(None)).await;
    assert!(location(&res).starts_with(CB), "{}", location(&res));

    // The password-only session steps up with a code and comes back to the app.
    let res = authorize(&b, &app.url, "strict", &params(None)).await;
    let to = location(&res);
    assert!(to.starts_with("/login/second?return_to="), "{to}");
    let back = query_of(&to).get("return_to").cloned().unwrap_or_default();
    assert_eq!(second(&b, &app.url, &code_next(&secret), &back).await, back);
    let res = b
        .get(format!("{}{back}", app.url))
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), 303);
    let loc = location(&res);
    assert!(loc.starts_with(CB), "{loc}");
    let code = query_of(&loc).get("code").cloned().expect("a code");
    let (s, body) = crate::authorize::exchange(&app.url, "strict", &code, VERIFIER).await;
    assert_eq!(s, 200, "{body}");
    let id = segment(body["id_token"].as_str().expect("id_token"), 1);
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]), "{id}");
    assert_eq!(id["acr"], "2");
}

/// `GATEHOUSE_ADMIN_REQUIRE_MFA`: an administrator signed in with the password alone is led
/// to a second factor by the portal, and the admin API refuses their session.
#[tokio::test]
async fn administrators_can_be_required_to_give_a_second_factor() {
    let app = spawn_app_with(|c| c.admin_require_mfa = true).await;
    let res = app
        .admin
        .get(format!("{}/admin/users", app.url))
        .send()
        .await
        .expect("portal");
    assert_eq!(res.status(), 303);
    assert_eq!(
        location(&res),
        "/account/security?return_to=%2Fadmin%2Fusers"
    );
    let (s, e) = app.api(Method::GET, "/api/v1/users", None).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (403, Some("second_factor_required")),
        "{e}"
    );
    // People without an admin right are not asked: their security page works.
    let (s, p) = page(&app.admin, &app.url, "/account/security").await;
    assert_eq!(s, 200, "{p}");
}

/// Configuration as code carries a person's authenticator app (and passkeys) only with
/// secrets; imported into another Gatehouse, the same codes work there; a document without
/// them leaves the factors in place.
#[tokio::test]
async fn factors_travel_in_the_configuration_document_only_with_secrets() {
    let app = spawn_app().await;
    setup(&app).await;
    let (secret, _) = enrol(&app).await;
    let alice_of = |doc: &Value| {
        doc["users"]
            .as_array()
            .and_then(|u| u.iter().find(|u| u["login_name"] == "alice").cloned())
            .unwrap_or(Value::Null)
    };
    let (_, plain) = app.api(Method::GET, "/api/v1/export", None).await;
    assert!(alice_of(&plain).get("factors").is_none(), "{plain}");
    let (_, full) = app
        .api(Method::GET, "/api/v1/export?with_secrets=true", None)
        .await;
    let factors = alice_of(&full)["factors"].clone();
    let b32 = factors["totp_secret"].as_str().unwrap_or_default();
    assert_eq!(base32(b32), secret, "{factors}");

    // Into another Gatehouse (alice and her role; its own administrator stays).
    let other = spawn_app().await;
    let doc = |alice: Value| {
        json!({"gatehouse_config": 1, "apps": [], "users": [alice],
               "roles": [{"name": "People", "description": "", "admin_rights": [], "members": ["alice"]}]})
    };
    let (s, plan) = other
        .api(Method::POST, "/api/v1/import", Some(doc(alice_of(&full))))
        .await;
    assert_eq!(s, 200, "{plan}");
    let (s, there) = other
        .api(Method::GET, "/api/v1/export?with_secrets=true", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(alice_of(&there)["factors"], factors);
    let (c, to) = password(&other, "/").await;
    assert!(to.starts_with("/login/second"), "{to}");
    assert_eq!(second(&c, &other.url, &code_next(&secret), "/").await, "/");
    // Imported again unchanged: nothing to do; without factors: they stay.
    let (_, plan) = other
        .api(Method::POST, "/api/v1/import", Some(doc(alice_of(&full))))
        .await;
    assert_eq!(plan["steps"], json!([]), "{plan}");
    let (s, plan) = other
        .api(Method::POST, "/api/v1/import", Some(doc(alice_of(&plain))))
        .await;
    assert_eq!(s, 200, "{plan}");
    let (_, again) = other
        .api(Method::GET, "/api/v1/export?with_secrets=true", None)
        .await;
    assert_eq!(alice_of(&again)["factors"], factors, "kept");
    // A document with a broken secret is refused, naming the field.
    let mut bad = alice_of(&full);
    bad["factors"]["totp_secret"] = json!("not base32!");
    let (s, e) = other
        .api(Method::POST, "/api/v1/import", Some(doc(bad)))
        .await;
    assert_eq!(
        (s, e["field"].as_str()),
        (422, Some("users[0].factors.totp_secret")),
        "{e}"
    );
}

/// A passkey ceremony's state is the database's: begun on one instance, it is found (once) on
/// another. (The browser test finishes real ceremonies across instances.)
#[tokio::test]
async fn a_passkey_ceremony_is_found_by_another_instance_once() {
    let app = spawn_app().await;
    let alice = setup(&app).await;
    // Two instances of a deployment at a host name (passkeys need one), on the same database.
    let instance = || {
        let mut cfg = config(&app.db);
        cfg.public_url = Some("http://localhost:1".into());
        start(cfg)
    };
    let (_, a) = instance().await;
    let (_, b) = instance().await;
    let user = a.person(&alice).await.expect("read").expect("alice");
    let (ceremony, options) = a
        .begin_passkey_registration(&user)
        .await
        .expect("begun on A");
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["residentKey"],
        "required"
    );
    // B finds the ceremony: the answer is judged (and refused: no authenticator made it).
    let junk = json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key", "extensions": {},
                      "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"}});
    let first = b
        .finish_passkey_registration(&user, &ceremony, "Key", &junk, "127.0.0.1")
        .await;
    assert!(
        matches!(&first, Err(domain::DomainError::Validation { field, .. }) if field == "credential"),
        "{first:?}"
    );
    // Used once: a second answer finds no ceremony, on either instance.
    for s in [&b, &a] {
        let again = s
            .finish_passkey_registration(&user, &ceremony, "Key", &junk, "127.0.0.1")
            .await;
        assert!(
            matches!(&again, Err(domain::DomainError::Conflict(m)) if m.contains("expired")),
            "{again:?}"
        );
    }
}

/// Signed out, the security page and the second step send the browser to sign in (and back).
#[tokio::test]
async fn the_factor_pages_send_strangers_to_sign_in() {
    let app = spawn_app().await;
    let c = client();
    let res = c
        .get(format!("{}/account/security", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?return_to=%2Faccount%2Fsecurity");
    let res = c
        .get(format!("{}/login/second?return_to=%2Fadmin", app.url))
        .send()
        .await
        .expect("page");
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?return_to=%2Fadmin");
    // The forms refuse them the same way.
    let res = post(&c, &app.url, "/account/security", &[("op", "totp_begin")]).await;
    assert_eq!(location(&res), "/login?return_to=%2Faccount%2Fsecurity");
    let res = post(&c, &app.url, "/login/second", &[("code", "123456")]).await;
    assert_eq!(
        location(&res),
        "/login?return_to=%2Fadmin",
        "the default place"
    );
}

/// `prompt=login` (and `max_age`) ask for the password again, and then for the second factor:
/// a fresh sign-in is a whole one.
#[tokio::test]
async fn a_fresh_sign_in_asks_for_the_second_factor_again() {
    use crate::authorize::{authorize, challenge, query_of, CB, VERIFIER};
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "web", json!({})).await;
    let (secret, _) = enrol(&app).await;
    let (c, _) = password(&app, "/").await;
    assert_eq!(second(&c, &app.url, &code_next(&secret), "/").await, "/");
    let ch = challenge(VERIFIER);
    let res = authorize(
        &c,
        &app.url,
        "web",
        &[
            ("response_type", "code"),
            ("client_id", "web-client"),
            ("redirect_uri", CB),
            ("scope", "openid read"),
            ("code_challenge", ch.as_str()),
            ("code_challenge_method", "S256"),
            ("prompt", "login"),
        ],
    )
    .await;
    let to = location(&res);
    assert!(to.starts_with("/login?return_to="), "{to}");
    let back = query_of(&to).get("return_to").cloned().unwrap_or_default();
    let res = sign_in(&c, &app.url, "alice", "alice-password", &back).await;
    let next = location(&res);
    assert!(
        next.starts_with("/login/second?return_to="),
        "the password alone is not enough: {next}"
    );
    assert!(
        !signed_in(&c, &app.url).await,
        "the earlier sign-in ended with the new one"
    );
    next_step().await;
    assert_eq!(second(&c, &app.url, &code_next(&secret), &back).await, back);
    let res = c
        .get(format!("{}{back}", app.url))
        .send()
        .await
        .expect("authorize");
    assert!(location(&res).starts_with(CB), "{}", location(&res));
}

/// At a public URL that is an address, passkeys are unavailable: every passkey call says so
/// (409), never a 500 (found by the HTTP fuzz with a well-formed credential).
#[tokio::test]
async fn passkey_calls_say_unavailable_at_an_address() {
    let app = spawn_app().await;
    let credential = json!({"id": "AAAA", "rawId": "AAAA", "type": "public-key", "extensions": {},
        "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null}});
    for (path, body) in [
        ("/login/passkey/begin", json!({"mode": "signin"})),
        (
            "/login/passkey/finish",
            json!({"ceremony": "x", "credential": credential}),
        ),
    ] {
        let res = client()
            .post(format!("{}{path}", app.url))
            .json(&body)
            .send()
            .await
            .expect("call");
        let s = res.status().as_u16();
        let b: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(
            (s, b["error"].as_str()),
            (409, Some("unavailable")),
            "{path}: {b}"
        );
    }
}

/// The password grant has no second step: a person with a second factor, or an app that
/// requires one, gets no token from it.
#[tokio::test]
async fn the_password_grant_is_no_way_around_a_second_factor() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "pw", json!({"auth_methods": ["password"]})).await;
    make_app(
        &app,
        "pw-mfa",
        json!({"auth_methods": ["password"], "require_mfa": true}),
    )
    .await;
    let grant = |app_id: &'static str| {
        let url = app.url.clone();
        async move {
            form_token(
                &url,
                app_id,
                &[
                    ("grant_type", "password"),
                    ("username", "alice"),
                    ("password", "alice-password"),
                    ("client_id", "web-client"),
                    ("client_secret", "web-secret-123"),
                ],
            )
            .await
        }
    };
    let (s, t, _) = grant("pw").await;
    assert_eq!(s, 200, "{t}");
    let (s, e, _) = grant("pw-mfa").await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    enrol(&app).await;
    let (s, e, _) = grant("pw").await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    assert!(
        e["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("second factor"),
        "{e}"
    );
}
