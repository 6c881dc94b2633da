//! Pushed authorization requests (RFC 9126, SPEC §3c): the client posts its authorize
//! parameters to `POST /oauth2/par/{app}` (authenticated as at the token endpoint), they are
//! checked there as the authorize endpoint would, and the client sends the browser with only
//! `client_id` and the `request_uri` it got back. The parameters never pass through the
//! browser, so nobody can change them on the way.
//!
//! The request URI is 256 random bits (stored as SHA-256), lives 60 seconds, and is used once:
//! it stays usable while the person signs in or approves, and is spent when the authorization
//! ends (a code, or an error, sent to the client). App field `require_par` refuses plain
//! authorize requests.

use crate::authorize::AuthorizeRequest;
use crate::clients::ClientCredentials;
use crate::clock::now;
use crate::error::OAuthError;
use crate::tokens::{random_token, sha256_hex};
use crate::Services;

/// What every request URI starts with (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a pushed request waits for the browser.
pub const LIFETIME_SECS: i64 = 60;

/// The authorize parameters a pushed request may carry (all of them, but never another
/// `request_uri` or a `request` object).
fn allowed(name: &str) -> bool {
    !matches!(
        name,
        "request_uri" | "request" | "client_secret" | "client_assertion" | "client_assertion_type"
    )
}

impl Services {
    /// `POST /oauth2/par/{app}`: checks `params` as an authorize request of the authenticated
    /// client and answers the request URI and its lifetime.
    pub async fn push_authorization_request(
        &self,
        app_id: &str,
        creds: &ClientCredentials,
        params: &[(String, String)],
        req: &AuthorizeRequest,
        addr: &str,
    ) -> Result<(String, i64), OAuthError> {
        let app = self.app_or_404(app_id).await?;
        let client = self.authenticate_client(&app, creds, addr).await?;
        if params
            .iter()
            .any(|(k, _)| k == "request_uri" || k == "request")
        {
            return Err(OAuthError::request(
                "a pushed request carries its parameters, not request_uri or request",
            ));
        }
        if req
            .client_id
            .as_deref()
            .is_some_and(|c| c != client.client_id())
        {
            return Err(OAuthError::request(
                "client_id is not the client that authenticated",
            ));
        }
        // The authorize endpoint's own checks, before anything is stored.
        let mut checked = req.clone();
        checked.client_id = Some(client.client_id().to_string());
        self.check_authorize_request(&app.app_id, &checked).await?;
        let mut stored: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| allowed(k) && k != "client_id")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        stored.push(("client_id", client.client_id()));
        let uri = format!("{REQUEST_URI_PREFIX}{}", random_token(32));
        sqlx::query(
            "INSERT INTO pushed_requests (request_uri_hash, app_id, client_id, params, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&uri))
        .bind(&app.app_id)
        .bind(client.client_id())
        .bind(serde_json::to_string(&stored).map_err(OAuthError::internal)?)
        .bind(now() + LIFETIME_SECS)
        .execute(&self.store.writer)
        .await
        .map_err(OAuthError::internal)?;
        Ok((uri, LIFETIME_SECS))
    }

    /// The parameters pushed under `request_uri` for `client_id` at `app_id`, while they may
    /// still be used; None when unknown, expired, spent, or another client's.
    pub async fn pushed_request(
        &self,
        app_id: &str,
        request_uri: &str,
        client_id: Option<&str>,
    ) -> crate::Result<Option<Vec<(String, String)>>> {
        if !request_uri.starts_with(REQUEST_URI_PREFIX) {
            return Ok(None);
        }
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT client_id, params FROM pushed_requests WHERE request_uri_hash = $1 AND app_id = $2 AND expires_at > $3",
        )
        .bind(sha256_hex(request_uri))
        .bind(app_id)
        .bind(now())
        .fetch_optional(&self.store.pool)
        .await?;
        let Some((owner, params)) = row else {
            return Ok(None);
        };
        // RFC 9126 §4: the client_id sent with the request_uri must be its client's.
        if client_id != Some(owner.as_str()) {
            return Ok(None);
        }
        let params: Vec<(String, String)> = serde_json::from_str(&params)
            .map_err(|e| crate::DomainError::Internal(format!("stored pushed request: {e}")))?;
        Ok(Some(params))
    }

    /// The authorization that `request_uri` started has ended: it cannot be used again.
    pub async fn spend_pushed_request(&self, request_uri: &str) -> crate::Result<()> {
        sqlx::query("DELETE FROM pushed_requests WHERE request_uri_hash = $1")
            .bind(sha256_hex(request_uri))
            .execute(&self.store.writer)
            .await?;
        Ok(())
    }
}
