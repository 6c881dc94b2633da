//! Self-service by e-mail (SPEC §6b) against a real SMTP server on loopback: "Forgot your
//! password?" sends a link that works once and ends every other sign-in; sign-up sends a link
//! that confirms the address, enables the account and puts it in the configured role.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::smtp::SmtpSink;

/// A plain form post to a self-service server function (no JavaScript): the redirect it answers.
async fn post(c: &reqwest::Client, url: &str, endpoint: &str, form: &[(&str, &str)]) -> String {
    let res = c
        .post(format!("{url}/sfn/self/{endpoint}"))
        .header("Accept", "text/html")
        .header("Origin", url)
        .form(form)
        .send()
        .await
        .expect("post");
    assert!(
        res.status().is_redirection(),
        "{endpoint}: {}",
        res.status()
    );
    location(&res)
}

async fn page(url: &str, path: &str) -> String {
    client()
        .get(format!("{url}{path}"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html")
}

/// Who the session of `c` is (`null`: nobody).
async fn whoami(c: &reqwest::Client, url: &str) -> Value {
    let res = c
        .post(format!("{url}/sfn/current_user"))
        .header("Origin", url)
        .send()
        .await
        .expect("whoami");
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

async fn user(app: &TestApp, login: &str) -> Value {
    let (s, v) = app
        .api(
            Method::GET,
            &format!("/api/v1/users?login_name={login}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v["items"][0].clone()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_once_by_the_mailed_link() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|cfg| sink.receive_from(cfg)).await;
    let id = app.create_user("alice", "alice-password-1", false).await;
    assert!(page(&app.url, "/login")
        .await
        .contains("Forgot your password?"));

    // A session of alice's, to see it end.
    let old = client();
    assert_eq!(
        location(&sign_in(&old, &app.url, "alice", "alice-password-1", "/account/apps").await),
        "/account/apps"
    );

    assert_eq!(whoami(&old, &app.url).await["login_name"], "alice");

    // Asked by address and by a name nobody has: the same answer; one mail, to alice.
    let c = client();
    let to = post(&c, &app.url, "forgot", &[("who", "ALICE@example.com")]).await;
    assert_eq!(to, "/login/forgot?m=sent");
    assert_eq!(
        post(&c, &app.url, "forgot", &[("who", "nobody-at-all")]).await,
        to
    );
    let mails = sink.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1, "no mail for a name nobody has");
    assert_eq!(mails[0].to, vec!["alice@example.com".to_string()]);
    assert!(
        mails[0].subject().contains("Reset your"),
        "{}",
        mails[0].subject()
    );
    let link = mails[0].link(&format!("{}/login/reset?token=", app.url));
    assert!(mails[0]
        .part("text/html")
        .contains(&link.replace('&', "&amp;")));
    let path = link.trim_start_matches(&app.url).to_string();
    let token = path.split("token=").nth(1).unwrap_or_default().to_string();
    assert!(page(&app.url, &path).await.contains("New password"));

    // The two passwords differ: nothing changes, the link still works.
    let back = post(
        &c,
        &app.url,
        "reset",
        &[
            ("token", &token),
            ("password", "new-password-22"),
            ("confirm", "other-password-22"),
        ],
    )
    .await;
    assert!(back.ends_with("&m=mismatch"), "{back}");
    let done = post(
        &c,
        &app.url,
        "reset",
        &[
            ("token", &token),
            ("password", "new-password-22"),
            ("confirm", "new-password-22"),
        ],
    )
    .await;
    assert_eq!(done, "/login?done=changed");
    assert!(page(&app.url, &done)
        .await
        .contains("Your password was changed"));

    // The old session ended; the old password no longer works, the new one does; the link
    // works once; the address counts as proven.
    assert!(
        whoami(&old, &app.url).await.is_null(),
        "the old session ended"
    );
    let res = sign_in(&client(), &app.url, "alice", "alice-password-1", "/").await;
    assert!(
        location(&res).starts_with("/login?error=invalid"),
        "{}",
        location(&res)
    );
    let res = sign_in(&client(), &app.url, "alice", "new-password-22", "/").await;
    assert_eq!(location(&res), "/");
    let again = post(
        &c,
        &app.url,
        "reset",
        &[
            ("token", &token),
            ("password", "third-password-3"),
            ("confirm", "third-password-3"),
        ],
    )
    .await;
    assert_eq!(again, "/login/reset?m=bad-link");
    assert!(page(&app.url, &path)
        .await
        .contains("This link does not work any more"));
    assert_eq!(user(&app, "alice").await["email_verified"], true);
    let (_, audit) = app
        .api(
            Method::GET,
            "/api/v1/audit?action=user.password_reset_requested",
            None,
        )
        .await;
    assert!(
        audit["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["object_id"] == id.as_str())),
        "{audit}"
    );

    // Three links an hour per account: the fourth request sends nothing, and says the same.
    for _ in 0..3 {
        assert_eq!(post(&c, &app.url, "forgot", &[("who", "alice")]).await, to);
    }
    sink.wait_for(3).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 3, "1 + 2 more within the hour");
}

#[tokio::test]
async fn without_mail_there_is_no_reset_and_no_sign_up() {
    let app = spawn_app().await;
    let login = page(&app.url, "/login").await;
    assert!(!login.contains("Forgot your password?"));
    assert!(!login.contains("Create an account"));
    assert!(page(&app.url, "/login/forgot")
        .await
        .contains("not set up here"));
    let res = client()
        .post(format!("{}/sfn/self/forgot", app.url))
        .header("Origin", &app.url)
        .form(&[("who", "admin")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn sign_up_confirms_the_address_then_enables_the_account_in_its_role() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|cfg| {
        sink.receive_from(cfg);
        cfg.sign_up = gatehouse::config::SignUp::Open;
        cfg.registration_domains = vec!["example.org".into()];
        cfg.registration_role = Some("Members".into());
    })
    .await;
    let role = app.create_role("Members", &[]).await;
    let login = page(&app.url, "/login").await;
    assert!(login.contains("Create an account") && login.contains("Forgot your password?"));

    let c = client();
    let form = |email: &'static str| {
        vec![
            ("login_name", "newcomer"),
            ("email", email),
            ("display_name", "New Comer"),
            ("password", "newcomer-pass-1"),
            ("confirm", "newcomer-pass-1"),
        ]
    };
    // Another domain: refused on its field, nothing made.
    let to = post(&c, &app.url, "sign_up", &form("new@example.com")).await;
    assert!(to.starts_with("/signup?field=email"), "{to}");
    assert!(page(&app.url, &to).await.contains("cannot sign up here"));
    assert!(user(&app, "newcomer").await.is_null());

    assert_eq!(
        post(&c, &app.url, "sign_up", &form("new@example.org")).await,
        "/signup?m=signed-up"
    );
    let u = user(&app, "newcomer").await;
    assert_eq!(
        (u["enabled"].as_bool(), u["email_verified"].as_bool()),
        (Some(false), Some(false))
    );
    let res = sign_in(&client(), &app.url, "newcomer", "newcomer-pass-1", "/").await;
    assert!(
        location(&res).starts_with("/login?error=invalid"),
        "not before the address is confirmed"
    );

    // The same address again: the same answer, no second account, no second mail.
    let mut twin = form("NEW@example.org");
    twin[0] = ("login_name", "newcomer-twin");
    assert_eq!(
        post(&c, &app.url, "sign_up", &twin).await,
        "/signup?m=signed-up"
    );
    assert!(user(&app, "newcomer-twin").await.is_null());

    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["new@example.org".to_string()]);
    let link = mails[0].link(&format!("{}/signup/verify?token=", app.url));
    let path = link.trim_start_matches(&app.url).to_string();
    let token = path.split("token=").nth(1).unwrap_or_default().to_string();
    // Opening the link confirms nothing (a mail scanner may open it); the button does.
    assert!(page(&app.url, &path).await.contains("Confirm my address"));
    assert_eq!(user(&app, "newcomer").await["enabled"], false);
    let done = post(&c, &app.url, "verify", &[("token", &token)]).await;
    assert_eq!(done, "/login?done=verified&login_name=newcomer");
    let u = user(&app, "newcomer").await;
    assert_eq!(
        (u["enabled"].as_bool(), u["email_verified"].as_bool()),
        (Some(true), Some(true))
    );
    let (_, r) = app
        .api(Method::GET, &format!("/api/v1/roles/{role}"), None)
        .await;
    assert!(
        r["members"]
            .as_array()
            .is_some_and(|m| m.contains(&json!(u["id"]))),
        "{r}"
    );
    let res = sign_in(
        &client(),
        &app.url,
        "newcomer",
        "newcomer-pass-1",
        "/account/apps",
    )
    .await;
    assert_eq!(location(&res), "/account/apps");
    assert_eq!(
        post(&c, &app.url, "verify", &[("token", &token)]).await,
        "/signup/verify?m=bad-link"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1);
}
