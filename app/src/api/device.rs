//! The `/device` page's data (RFC 8628, SPEC §3c): who is signed in, and the pending request a
//! typed user code names. The decision is a plain form post to the server (`POST /device`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A pending device request as the person sees it before deciding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceRequestView {
    /// `XXXX-XXXX`.
    pub user_code: String,
    pub app_name: String,
    pub client_id: String,
    pub scopes: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DevicePageData {
    pub login_name: String,
    /// What the person typed (shown again when it names nothing).
    pub typed: String,
    pub request: Option<DeviceRequestView>,
    /// A code was typed, and it names no pending request.
    pub not_found: bool,
    /// Too many wrong codes from this address.
    pub throttled: bool,
    pub csrf: String,
}

/// What the page says after a decision (a message key), chosen by a code in the URL.
pub fn done_message(done: Option<&str>) -> Option<(&'static str, bool)> {
    use model::i18n::msg;
    Some(match done? {
        "approved" => (msg("device-approved"), false),
        "denied" => (msg("device-denied"), false),
        "gone" => (msg("device-gone"), true),
        "not_allowed" => (msg("device-not-allowed"), true),
        "expired" => (msg("form-expired"), true),
        _ => return None,
    })
}

#[server(prefix = "/sfn", endpoint = "device/view")]
pub async fn device_view(user_code: Option<String>) -> Result<DevicePageData, ServerFnError> {
    use super::ssr::*;
    let session = session().await?;
    let s = services()?;
    let typed = user_code.unwrap_or_default().trim().to_string();
    let Some(p) = session_principal(&session, &s).await.map_err(map_err)? else {
        let back = if typed.is_empty() {
            "/device".to_string()
        } else {
            format!("/device?user_code={}", super::encode_query(&typed))
        };
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::SEE_OTHER);
            if let Ok(v) = http::HeaderValue::from_str(&format!(
                "/login?return_to={}",
                super::encode_query(&back)
            )) {
                res.insert_header(http::header::LOCATION, v);
            }
        }
        return Err(ServerFnError::new(
            crate::i18n::request_lang().t("error-sign-in-first"),
        ));
    };
    let (mut request, mut not_found, mut throttled) = (None, false, false);
    if !typed.is_empty() {
        match s.device_request(&typed, &client_addr()).await {
            Ok(Some(r)) => {
                request = Some(DeviceRequestView {
                    user_code: r.user_code,
                    app_name: r.app_name,
                    client_id: r.client_id,
                    scopes: r.scopes,
                })
            }
            Ok(None) => not_found = true,
            Err(domain::users::AuthError::Throttled(_)) | Err(domain::users::AuthError::Busy) => {
                throttled = true
            }
            Err(domain::users::AuthError::InvalidCredentials) => not_found = true,
            Err(domain::users::AuthError::Domain(e)) => return Err(map_err(e)),
        }
    }
    Ok(DevicePageData {
        login_name: p.login_name.clone(),
        typed,
        request,
        not_found,
        throttled,
        csrf: csrf_token(&session).await.map_err(map_err)?,
    })
}
