//! Token exchange (RFC 8693, SPEC §3c): a confidential client trades a person's token of the
//! app for a narrower one, or one for another of the app's resources, that names it in `act`.

use reqwest::Method;
use serde_json::{json, Value};

use crate::authorize::{alice, make_app, setup};
use crate::helpers::*;
use crate::oidc::{code_flow_as, segment};

const TE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const IDT: &str = "urn:ietf:params:oauth:token-type:id_token";
const API: &str = "https://api.example/orders";

async fn exchange_as(
    url: &str,
    app_id: &str,
    who: (&str, &str),
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut f = vec![("grant_type", TE)];
    f.extend_from_slice(form);
    let res = client()
        .post(format!("{url}/oauth2/token/{app_id}"))
        .basic_auth(who.0, Some(who.1))
        .form(&f)
        .send()
        .await
        .expect("token");
    let s = res.status().as_u16();
    (s, res.json().await.unwrap_or(Value::Null))
}

const WEB: (&str, &str) = ("web-client", "web-secret-123");

#[tokio::test]
async fn a_client_exchanges_a_persons_token_for_a_narrower_one_that_names_it() {
    let app = spawn_app().await;
    let alice_id = setup(&app).await;
    make_app(
        &app,
        "api",
        json!({"token_type": "jwt_es256", "resources": [API],
               "auth_methods": ["authorization_code", "client_credentials", "token_exchange"]}),
    )
    .await;
    make_app(
        &app,
        "other",
        json!({"auth_methods": ["authorization_code", "token_exchange"]}),
    )
    .await;
    let meta = as_metadata(&app.url, "api").await;
    assert!(meta["grant_types_supported"]
        .as_array()
        .is_some_and(|g| g.contains(&json!(TE))));

    let (_, t) = code_flow_as(&app, "api", "openid read write", alice(&app).await).await;
    let subject = t["access_token"].as_str().unwrap_or_default().to_string();

    // Narrower, for the API resource: act names the client.
    let (s, x) = exchange_as(
        &app.url,
        "api",
        WEB,
        &[
            ("subject_token", &subject),
            ("subject_token_type", AT),
            ("scope", "read"),
            ("audience", API),
        ],
    )
    .await;
    assert_eq!(s, 200, "{x}");
    assert_eq!(x["issued_token_type"], AT);
    assert_eq!(x["token_type"], "Bearer");
    assert!(
        x.get("refresh_token").is_none() && x.get("id_token").is_none(),
        "{x}"
    );
    let c = segment(x["access_token"].as_str().unwrap_or_default(), 1);
    assert_eq!(
        (
            c["sub"].as_str(),
            c["scope"].as_str(),
            c["aud"].clone(),
            c["act"].clone(),
            c["client_id"].as_str()
        ),
        (
            Some(alice_id.as_str()),
            Some("read"),
            json!(API),
            json!({"sub": "web-client"}),
            Some("web-client")
        ),
        "{c}"
    );
    let (s, i) = introspect_with(
        &app.url,
        "api",
        Some(WEB),
        x["access_token"].as_str().unwrap_or_default(),
    )
    .await;
    assert_eq!(
        (s, i["active"].as_bool(), i["act"].clone()),
        (200, Some(true), json!({"sub": "web-client"})),
        "{i}"
    );

    // Never wider; never for a resource the app does not serve.
    let (_, narrow) = exchange_as(
        &app.url,
        "api",
        WEB,
        &[
            ("subject_token", &subject),
            ("subject_token_type", AT),
            ("scope", "read"),
        ],
    )
    .await;
    let narrow = narrow["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (s, e) = exchange_as(
        &app.url,
        "api",
        WEB,
        &[
            ("subject_token", &narrow),
            ("subject_token_type", AT),
            ("scope", "write"),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_scope")),
        "{e}"
    );
    let (s, e) = exchange_as(
        &app.url,
        "api",
        WEB,
        &[
            ("subject_token", &subject),
            ("subject_token_type", AT),
            ("resource", "https://elsewhere.example/"),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_target")),
        "{e}"
    );

    // Delegation: the client's own token as actor_token; its subject becomes act.sub.
    let (s, own, _) = form_token(
        &app.url,
        "api",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", WEB.0),
            ("client_secret", WEB.1),
        ],
    )
    .await;
    assert_eq!(s, 200, "{own}");
    let own = own["access_token"].as_str().unwrap_or_default().to_string();
    let own_sub = segment(&own, 1)["sub"].clone();
    let (s, d) = exchange_as(
        &app.url,
        "api",
        WEB,
        &[
            ("subject_token", &subject),
            ("subject_token_type", AT),
            ("actor_token", &own),
            ("actor_token_type", AT),
        ],
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        segment(d["access_token"].as_str().unwrap_or_default(), 1)["act"]["sub"],
        own_sub
    );

    // An ID token issued to this client: only identity scopes.
    let id_token = t["id_token"].as_str().unwrap_or_default().to_string();
    let (s, x) = exchange_as(
        &app.url,
        "api",
        WEB,
        &[("subject_token", &id_token), ("subject_token_type", IDT)],
    )
    .await;
    assert_eq!((s, x["scope"].as_str()), (200, Some("openid")), "{x}");
    let (s, e) = exchange_as(
        &app.url,
        "api",
        WEB,
        &[
            ("subject_token", &id_token),
            ("subject_token_type", IDT),
            ("scope", "read"),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_scope")),
        "{e}"
    );

    // What is not this app's active access token is refused.
    for (token, kind) in [
        ("garbage", AT),
        (t["refresh_token"].as_str().unwrap_or_default(), AT),
        (subject.as_str(), IDT),
        (subject.as_str(), "urn:ietf:params:oauth:token-type:saml2"),
    ] {
        let (s, e) = exchange_as(
            &app.url,
            "api",
            WEB,
            &[("subject_token", token), ("subject_token_type", kind)],
        )
        .await;
        assert!(
            s == 400
                && matches!(
                    e["error"].as_str(),
                    Some("invalid_grant") | Some("invalid_request")
                ),
            "{kind}: {e}"
        );
    }
    let (s, e) = exchange_as(
        &app.url,
        "other",
        WEB,
        &[("subject_token", &subject), ("subject_token_type", AT)],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "another app's token: {e}"
    );
    let (s, e) = exchange_as(
        &app.url,
        "api",
        WEB,
        &[
            ("subject_token", &subject),
            ("subject_token_type", AT),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:refresh_token",
            ),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_request")),
        "{e}"
    );

    // Audited, naming the client.
    let (_, audit) = app.api(Method::GET, "/api/v1/audit?limit=200", None).await;
    assert!(
        audit["items"].as_array().is_some_and(|a| a
            .iter()
            .any(|r| r["action"] == "token.exchange" && r["object_id"] == alice_id.as_str())),
        "{audit}"
    );

    // A person who may no longer use the app: their tokens are not exchanged.
    let (s, b) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{alice_id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, e) = exchange_as(
        &app.url,
        "api",
        WEB,
        &[("subject_token", &subject), ("subject_token_type", AT)],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
}

#[tokio::test]
async fn only_confidential_clients_of_apps_that_allow_it_exchange() {
    let app = spawn_app().await;
    setup(&app).await;
    make_app(&app, "plain", json!({})).await;
    make_app(&app, "spa", json!({"client_id_type": "anything", "auth_methods": ["authorization_code", "token_exchange"]})).await;
    let (_, t) = code_flow_as(&app, "plain", "read", alice(&app).await).await;
    let subject = t["access_token"].as_str().unwrap_or_default().to_string();
    let (s, e) = exchange_as(
        &app.url,
        "plain",
        WEB,
        &[("subject_token", &subject), ("subject_token_type", AT)],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{e}"
    );
    let (s, e, _) = form_token(
        &app.url,
        "spa",
        &[
            ("grant_type", TE),
            ("client_id", "anyone"),
            ("subject_token", &subject),
            ("subject_token_type", AT),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{e}"
    );
}
