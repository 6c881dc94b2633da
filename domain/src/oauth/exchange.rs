//! Token exchange (RFC 8693, SPEC §3c): a client trades a token of this app for another one —
//! narrower in scope, or for another of the app's resources — that names it as the actor
//! (`act.sub`). The step a gateway or an agent takes before calling a service on a person's
//! behalf, and what migrations from Keycloak need.
//!
//! - Who may: a confidential client of the app (a confidential-client user in one of its User
//!   Access roles, or a registered client with a secret or keys that registered the grant).
//! - `subject_token`: an active access token of this app (its scopes, narrowed by `scope`), or
//!   an ID token this app signed for a person (then only the identity scopes `openid`,
//!   `profile`, `email`: an ID token carries no grant of anything else).
//! - `actor_token` (delegation): an active access token of this app held by the same client;
//!   `act.sub` is its subject. Without one (impersonation) `act.sub` is the client.
//! - `resource` / `audience`: any of the app's `resources` (the exchange is how a token gets
//!   another audience); otherwise `invalid_target`.
//! - Only access tokens are issued (`requested_token_type`), never a refresh token. Audited.

use std::sync::Arc;

use super::grants::{resolve_scopes, Grant};
use super::TokenRequest;
use crate::apps::App;
use crate::audit::{Entry, Who};
use crate::clients::Client;
use crate::error::{OAuthError, OAuthErrorCode};
use crate::Services;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
/// What an ID token may be exchanged for.
const IDENTITY_SCOPES: [&str; 3] = ["openid", "profile", "email"];

fn invalid(code: OAuthErrorCode, d: &str) -> OAuthError {
    OAuthError::new(code, d)
}

impl Services {
    pub(crate) async fn exchange_grant(
        &self,
        app: &Arc<App>,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<Grant, OAuthError> {
        if matches!(
            client,
            Client::Public { .. } | Client::Registered { public: true, .. }
        ) {
            return Err(invalid(
                OAuthErrorCode::UnauthorizedClient,
                "only a confidential client may exchange tokens",
            ));
        }
        if req
            .requested_token_type
            .as_deref()
            .is_some_and(|t| !t.is_empty() && t != ACCESS_TOKEN)
        {
            return Err(OAuthError::request(
                "requested_token_type: only access tokens are issued",
            ));
        }
        let subject = req
            .subject_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::request("subject_token is required"))?;
        let (sub, username, held, identity_only) = match req.subject_token_type.as_deref() {
            Some(ACCESS_TOKEN) => {
                let info = self
                    .inspect_token(subject)
                    .await?
                    .filter(|i| i.app_id == app.app_id && !i.is_refresh)
                    .ok_or_else(|| {
                        OAuthError::grant("the subject_token is not an active access token of this app")
                    })?;
                let held: Vec<String> = info
                    .scope
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                (info.sub.clone(), info.username.clone(), held, false)
            }
            Some(ID_TOKEN) => {
                let claims = self
                    .id_token_claims(app, subject)
                    .await?
                    .filter(|c| c.exp > crate::clock::now() && c.aud == client.client_id())
                    .ok_or_else(|| {
                        OAuthError::grant(
                            "the subject_token is not a valid ID token of this app issued to this client",
                        )
                    })?;
                let user = self
                    .user_row_by_id(&claims.sub)
                    .await?
                    .ok_or_else(|| OAuthError::grant("the ID token's person is gone"))?;
                let held = IDENTITY_SCOPES.iter().map(|s| s.to_string()).collect();
                (claims.sub, Some(user.user.login_name), held, true)
            }
            _ => {
                return Err(OAuthError::request(
                    "subject_token_type must be urn:ietf:params:oauth:token-type:access_token or …:id_token",
                ))
            }
        };
        // A person's token follows the directory: disabled, or no longer allowed, and it is
        // not exchanged. (A client's own token names the client.)
        let is_person = self.user_row_by_id(&sub).await?.is_some();
        if is_person && !self.user_may_use(app, &sub).await? {
            return Err(OAuthError::grant(
                "the person is disabled or may no longer use this application",
            ));
        }
        // Narrower only: every scope asked for is one the subject token holds.
        let scopes = match req.scope.as_deref().filter(|s| !s.trim().is_empty()) {
            None if identity_only => vec!["openid".to_string()],
            None => held.clone(),
            Some(asked) => {
                let asked = resolve_scopes(app, Some(asked))?;
                if let Some(extra) = asked.iter().find(|s| !held.contains(s)) {
                    return Err(invalid(
                        OAuthErrorCode::InvalidScope,
                        &format!("the subject_token does not hold the scope {extra:?}"),
                    ));
                }
                asked
            }
        };
        let targets: Vec<String> = req
            .resources
            .iter()
            .chain(req.audience.iter())
            .cloned()
            .collect();
        let resources = super::resources::requested(app, &targets, None)?;
        let act = match req.actor_token.as_deref().filter(|t| !t.is_empty()) {
            None => client.client_id().to_string(),
            Some(actor) => {
                if req.actor_token_type.as_deref() != Some(ACCESS_TOKEN) {
                    return Err(OAuthError::request(
                        "actor_token_type must be urn:ietf:params:oauth:token-type:access_token",
                    ));
                }
                let info = self
                    .inspect_token(actor)
                    .await?
                    .filter(|i| {
                        i.app_id == app.app_id && !i.is_refresh && i.client_id == client.client_id()
                    })
                    .ok_or_else(|| {
                        OAuthError::grant(
                            "the actor_token is not an active access token of this client",
                        )
                    })?;
                info.sub.clone()
            }
        };
        let mut conn = self
            .store
            .writer
            .acquire()
            .await
            .map_err(OAuthError::internal)?;
        crate::audit::write(
            &mut conn,
            Who::System,
            &Entry::new("token.exchange", "user", &sub)
                .named(username.as_deref().unwrap_or(&sub))
                .changes(vec![
                    ("client".into(), None, Some(client.client_id().to_string())),
                    ("act".into(), None, Some(act.clone())),
                    ("scope".into(), None, Some(scopes.join(" "))),
                ]),
        )
        .await
        .map_err(OAuthError::from)?;
        Ok(Grant {
            app: app.clone(),
            client_id: client.client_id().to_string(),
            user_id: sub,
            username,
            scopes,
            family: None,
            sign_in: None,
            resources,
            act: Some(act),
            dpop: Default::default(),
        })
    }
}
