//! Server functions of the pages a signed-in person sees outside the portal: the consent page
//! of the authorize flow and their connected apps.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The consent page: the app asking, the scopes it asks for (name, description), the
/// authorize request's parameters to post back, and the session's form token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentRequest {
    pub app_id: String,
    pub app_name: String,
    pub scopes: Vec<(String, String)>,
    /// One of the scopes reaches Gatehouse's own admin API: the page warns that approving
    /// grants administrative access.
    pub administrative: bool,
    /// A registered client: its name and where it returns the person (it named itself).
    #[serde(default)]
    pub client: Option<String>,
    pub hidden: Vec<(String, String)>,
    pub csrf: String,
}

/// The apps a person has approved: (app id, name, approved scopes), and the form token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovedApps {
    pub apps: Vec<(String, String, String)>,
    pub csrf: String,
}

/// The consent the authorize endpoint decided to ask for; it provides it as context when it
/// renders the page (there is nothing to load on its own).
#[server(prefix = "/sfn", endpoint = "account/consent")]
pub async fn consent_view() -> Result<ConsentRequest, ServerFnError> {
    use super::ssr::fail;
    use_context::<ConsentRequest>().ok_or_else(|| {
        fail(
            http::StatusCode::BAD_REQUEST,
            crate::i18n::request_lang().t("consent-start-again"),
        )
    })
}

#[server(prefix = "/sfn", endpoint = "account/apps")]
pub async fn connected_apps() -> Result<ApprovedApps, ServerFnError> {
    use super::ssr::*;
    let session = session().await?;
    let s = services()?;
    let Some(p) = session_principal(&session, &s).await.map_err(map_err)? else {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::SEE_OTHER);
            res.insert_header(
                http::header::LOCATION,
                http::HeaderValue::from_static("/login?return_to=%2Faccount%2Fapps"),
            );
        }
        return Err(ServerFnError::new(
            crate::i18n::request_lang().t("error-not-signed-in"),
        ));
    };
    let apps = s.connected_apps(&p.user_id).await.map_err(map_err)?;
    Ok(ApprovedApps {
        apps,
        csrf: csrf_token(&session).await.map_err(map_err)?,
    })
}
