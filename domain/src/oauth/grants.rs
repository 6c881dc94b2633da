//! The token endpoint: the grant type parsed once, the client authenticated, then one grant
//! (client credentials, password, authorization code, refresh token) producing a `Grant`.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::introspect::TokenRow;
use super::{TokenRequest, TokenResponse};
use crate::apps::{App, AuthMethod, ClientIdType};
use crate::clients::{has_access, Client};
use crate::clock::now;
use crate::error::{OAuthError, OAuthErrorCode};
use crate::oidc::{is_standard_scope, SignIn};
use crate::tokens::sha256_hex;
use crate::Services;

/// The `grant_type` of a token request, parsed once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantType {
    ClientCredentials,
    Password,
    AuthorizationCode,
    /// The documents' sample client exchanges a code with `grant_type=implicit`.
    ImplicitCode,
    RefreshToken,
    /// RFC 8628 (`urn:ietf:params:oauth:grant-type:device_code`).
    DeviceCode,
    /// RFC 8693 (`urn:ietf:params:oauth:grant-type:token-exchange`).
    TokenExchange,
}

impl GrantType {
    /// `has_code`: the request carries a `code` (only then is `implicit` a code exchange).
    pub fn parse(grant_type: Option<&str>, has_code: bool) -> Result<Self, OAuthError> {
        match grant_type.filter(|g| !g.is_empty()) {
            None => Err(OAuthError::request("grant_type is required")),
            Some("client_credentials") => Ok(GrantType::ClientCredentials),
            Some("password") => Ok(GrantType::Password),
            Some("authorization_code") => Ok(GrantType::AuthorizationCode),
            Some("implicit") if has_code => Ok(GrantType::ImplicitCode),
            Some("refresh_token") => Ok(GrantType::RefreshToken),
            Some(super::device::GRANT_TYPE) => Ok(GrantType::DeviceCode),
            Some(super::exchange::GRANT_TYPE) => Ok(GrantType::TokenExchange),
            Some(other) => Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                format!("grant_type {other:?} is not supported"),
            )),
        }
    }

    /// The app's Auth Method that allows this grant.
    pub fn auth_method(self) -> AuthMethod {
        match self {
            GrantType::ClientCredentials => AuthMethod::ClientCredentials,
            GrantType::Password => AuthMethod::Password,
            GrantType::ImplicitCode => AuthMethod::Implicit,
            GrantType::AuthorizationCode | GrantType::RefreshToken => AuthMethod::AuthorizationCode,
            GrantType::DeviceCode => AuthMethod::DeviceCode,
            GrantType::TokenExchange => AuthMethod::TokenExchange,
        }
    }
}

/// What a grant produced, before it becomes tokens.
pub(crate) struct Grant {
    pub(crate) app: Arc<App>,
    pub(crate) client_id: String,
    pub(crate) user_id: String,
    pub(crate) username: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) family: Option<String>,
    /// A person's sign-in, when the grant comes from one: with `openid` granted, the tokens
    /// include an ID token about it.
    pub(crate) sign_in: Option<SignIn>,
    /// The resources (RFC 8707) the tokens are for; empty: the app itself.
    pub(crate) resources: Vec<String>,
    /// A token exchange (RFC 8693): who acted (`act.sub`).
    pub(crate) act: Option<String>,
    /// The DPoP key the tokens are bound to (RFC 9449).
    pub(crate) dpop: Binding,
}

/// What a token request's DPoP proof binds: the access token, and for a public client the
/// refresh token too (RFC 9449 §5: a confidential client's refresh token is already bound to
/// its credentials).
#[derive(Clone, Debug, Default)]
pub(crate) struct Binding {
    pub(crate) jkt: Option<String>,
    pub(crate) refresh_too: bool,
}

/// An authorization code row, read whole so a bad row refuses the exchange.
#[derive(sqlx::FromRow)]
struct CodeRow {
    client_id: String,
    user_id: String,
    redirect_uri: String,
    scope: String,
    code_challenge: Option<String>,
    family_id: String,
    expires_at: i64,
    nonce: Option<String>,
    auth_time: Option<i64>,
    resources: Option<String>,
    amr: Option<String>,
}

/// Space-separated scopes → the granted list. None or empty: all of the app's scopes.
pub fn resolve_scopes(app: &App, requested: Option<&str>) -> Result<Vec<String>, OAuthError> {
    let names: Vec<&str> = requested
        .map(|s| s.split(' ').filter(|x| !x.is_empty()).collect())
        .unwrap_or_default();
    if names.is_empty() {
        return Ok(app.scopes.iter().map(|s| s.name.clone()).collect());
    }
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if app.scope(n).is_none() && !is_standard_scope(n) {
            return Err(OAuthError::new(
                OAuthErrorCode::InvalidScope,
                format!("scope {n:?} is not defined for this app"),
            ));
        }
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    Ok(out)
}

/// PKCE S256: BASE64URL(SHA256(verifier)) == challenge, compared in constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let valid = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    valid && computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

impl Services {
    /// `POST /oauth2/token/{app}`.
    pub async fn token(
        &self,
        app_id: &str,
        req: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let app = self.app_or_404(app_id).await?;
        let grant_type = GrantType::parse(req.grant_type.as_deref(), req.code.is_some())?;
        let client = self
            .authenticate_client(&app, &req.credentials, &req.client_addr)
            .await?;
        if let Client::Confidential { roles, .. } = &client {
            if !has_access(&app, roles) {
                return Err(OAuthError::new(
                    OAuthErrorCode::UnauthorizedClient,
                    "the client is in none of the app's User Access roles",
                ));
            }
        }
        let dpop = self
            .dpop_binding(&app, &client, req.dpop.as_deref())
            .await?;
        let unauthorized =
            || OAuthError::new(OAuthErrorCode::UnauthorizedClient, "auth mode not allowed");
        // A registered client uses only the grants it registered.
        if let Client::Registered { grant_types, .. } = &client {
            let name = match grant_type {
                GrantType::ClientCredentials => "client_credentials",
                GrantType::AuthorizationCode => "authorization_code",
                GrantType::RefreshToken => "refresh_token",
                GrantType::DeviceCode => super::device::GRANT_TYPE,
                GrantType::TokenExchange => super::exchange::GRANT_TYPE,
                GrantType::Password | GrantType::ImplicitCode => "",
            };
            if !grant_types.iter().any(|g| g == name) {
                return Err(unauthorized());
            }
        }
        let grant = match grant_type {
            GrantType::ClientCredentials => {
                if !app.allows(grant_type.auth_method()) {
                    return Err(unauthorized());
                }
                // The client acts as itself: a confidential-client user, or a registered
                // client with a secret or keys (its own id is the subject).
                let (user_id, login_name) = match &client {
                    Client::Confidential {
                        user_id,
                        login_name,
                        ..
                    } if app.client_id_type == ClientIdType::Confidential => (user_id, login_name),
                    Client::Registered {
                        client_id,
                        public: false,
                        ..
                    } => (client_id, client_id),
                    _ => return Err(unauthorized()),
                };
                Grant {
                    scopes: resolve_scopes(&app, req.scope.as_deref())?,
                    resources: super::resources::requested(&app, &req.resources, None)?,
                    act: None,
                    dpop: Default::default(),
                    client_id: login_name.clone(),
                    user_id: user_id.clone(),
                    username: None,
                    family: None,
                    sign_in: None,
                    app: app.clone(),
                }
            }
            GrantType::Password => {
                if !app.allows(grant_type.auth_method()) {
                    return Err(unauthorized());
                }
                self.password_grant(&app, &client, &req).await?
            }
            GrantType::RefreshToken => {
                if !app.issue_refresh_tokens {
                    return Err(unauthorized());
                }
                return self.refresh_grant(&app, &client, &req, dpop).await;
            }
            GrantType::TokenExchange => {
                if !app.allows(grant_type.auth_method()) {
                    return Err(unauthorized());
                }
                let grant = Grant {
                    dpop,
                    ..self.exchange_grant(&app, &client, &req).await?
                };
                let mut issued = self.issue(grant, false).await?;
                issued.issued_token_type = Some(super::exchange::ACCESS_TOKEN.to_string());
                return Ok(issued);
            }
            GrantType::DeviceCode => {
                if !app.allows(grant_type.auth_method()) {
                    return Err(unauthorized());
                }
                self.device_grant(&app, &client, req.device_code.as_deref())
                    .await?
            }
            GrantType::AuthorizationCode | GrantType::ImplicitCode => {
                if !(app.allows(AuthMethod::AuthorizationCode)
                    || (grant_type == GrantType::ImplicitCode && app.allows(AuthMethod::Implicit)))
                {
                    return Err(unauthorized());
                }
                self.code_grant(&app, &client, &req).await?
            }
        };
        // Refresh tokens come with code exchanges and device grants only (the documents: not
        // for client credentials, implicit or the resource owner flow).
        let with_refresh = app.issue_refresh_tokens
            && matches!(
                grant_type,
                GrantType::AuthorizationCode | GrantType::DeviceCode
            )
            && match &client {
                Client::Registered { grant_types, .. } => {
                    grant_types.iter().any(|g| g == "refresh_token")
                }
                _ => true,
            };
        self.issue(Grant { dpop, ..grant }, with_refresh).await
    }

    /// The DPoP binding of a token request (RFC 9449 §5): its proof checked for this app's token
    /// endpoint, or none — refused when the app requires DPoP.
    async fn dpop_binding(
        &self,
        app: &App,
        client: &Client,
        proof: Option<&str>,
    ) -> Result<Binding, OAuthError> {
        let Some(proof) = proof else {
            if app.require_dpop {
                return Err(OAuthError::new(
                    OAuthErrorCode::InvalidDpopProof,
                    "this app requires a DPoP proof (the DPoP header) with every token request",
                ));
            }
            return Ok(Binding::default());
        };
        let htu = format!("{}/oauth2/token/{}", self.public_url, app.app_id);
        let proof = self.accept_proof(proof, "POST", &htu).await?;
        Ok(Binding {
            jkt: Some(proof.jkt),
            refresh_too: matches!(
                client,
                Client::Public { .. } | Client::Registered { public: true, .. }
            ),
        })
    }

    async fn password_grant(
        &self,
        app: &Arc<App>,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<Grant, OAuthError> {
        let username = req
            .username
            .as_deref()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| OAuthError::request("username is required"))?;
        let password = req
            .password
            .as_deref()
            .ok_or_else(|| OAuthError::request("password is required"))?;
        let scopes = resolve_scopes(app, req.scope.as_deref())?;
        let resources = super::resources::requested(app, &req.resources, None)?;
        // Throttled is 429, wrong credentials invalid_grant, a database failure a 500.
        let (user, _) = self
            .authenticate_person(username, password, &req.client_addr)
            .await?;
        if !self.user_may_use(app, &user.id).await? {
            return Err(OAuthError::grant("invalid username or password"));
        }
        // The password grant has no second step: it would be a way around a person's second
        // factor, and it cannot meet an app's `require_mfa`.
        if app.require_mfa || self.has_second_factor(&user.id).await? {
            return Err(OAuthError::grant(
                "this sign-in needs a second factor, which the password grant cannot give: use the authorization code flow",
            ));
        }
        Ok(Grant {
            app: app.clone(),
            client_id: client.client_id().to_string(),
            user_id: user.id,
            username: Some(user.login_name),
            scopes,
            family: None,
            sign_in: Some(SignIn {
                auth_time: now(),
                nonce: None,
                amr: vec![model::factors::amr::PASSWORD.into()],
            }),
            resources,
            act: None,
            dpop: Default::default(),
        })
    }

    /// The person may use the app: enabled and in one of its User Access roles.
    pub async fn user_may_use(&self, app: &App, user_id: &str) -> Result<bool, OAuthError> {
        let Some(row) = self.user_row_by_id(user_id).await? else {
            return Ok(false);
        };
        if !row.user.enabled {
            return Ok(false);
        }
        let roles = self.role_names_of(user_id).await?;
        Ok(has_access(app, &roles))
    }

    async fn code_grant(
        &self,
        app: &Arc<App>,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<Grant, OAuthError> {
        let code = req
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthError::request("code is required"))?;
        let hash = sha256_hex(code);
        let t = now();
        // Single use: the update wins for exactly one request. On the writer pool: on SQLite it
        // queues behind the token writer instead of meeting it in SQLite's sleeping busy handler.
        let claimed = sqlx::query(
            "UPDATE auth_codes SET used = 1 WHERE code_hash = $1 AND used = 0 AND app_id = $2",
        )
        .bind(&hash)
        .bind(&app.app_id)
        .execute(&self.store.writer)
        .await
        .map_err(OAuthError::internal)?
        .rows_affected();
        let row: CodeRow = sqlx::query_as("SELECT client_id, user_id, redirect_uri, scope, code_challenge, family_id, expires_at, nonce, auth_time, resources, amr FROM auth_codes WHERE code_hash = $1 AND app_id = $2")
            .bind(&hash)
            .bind(&app.app_id)
            .fetch_optional(&self.store.pool)
            .await
            .map_err(OAuthError::internal)?
            .ok_or_else(|| OAuthError::grant("invalid authorization code"))?;
        let family = row.family_id;
        if claimed == 0 {
            // A replay: revoke what the first exchange issued (RFC 6749 §4.1.2).
            self.revoke_family(&family).await?;
            return Err(OAuthError::grant("authorization code already used"));
        }
        if row.expires_at < t {
            return Err(OAuthError::grant("authorization code expired"));
        }
        if !row.client_id.eq_ignore_ascii_case(client.client_id()) {
            return Err(OAuthError::grant("the code was issued to another client"));
        }
        if req.redirect_uri.as_deref().unwrap_or("") != row.redirect_uri {
            return Err(OAuthError::grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        match row.code_challenge {
            Some(challenge) => {
                let verifier = req
                    .code_verifier
                    .as_deref()
                    .ok_or_else(|| OAuthError::grant("code_verifier is required"))?;
                if !pkce_matches(verifier, &challenge) {
                    return Err(OAuthError::grant(
                        "code_verifier does not match the code_challenge",
                    ));
                }
            }
            None if matches!(
                client,
                Client::Public { .. } | Client::Registered { public: true, .. }
            ) =>
            {
                return Err(OAuthError::grant("PKCE is required for public clients"))
            }
            None => {}
        }
        // The exchange may narrow what the code was for, never widen it (RFC 8707 §2.2).
        let granted = super::resources::parse_stored(row.resources.as_deref());
        let resources = super::resources::requested(app, &req.resources, Some(&granted))?;
        let user_id = row.user_id;
        let user = self
            .user_row_by_id(&user_id)
            .await?
            .filter(|u| u.user.enabled)
            .ok_or_else(|| OAuthError::grant("the user is disabled"))?;
        Ok(Grant {
            app: app.clone(),
            client_id: client.client_id().to_string(),
            user_id,
            username: Some(user.user.login_name),
            scopes: row
                .scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            family: Some(family),
            sign_in: Some(SignIn {
                auth_time: row.auth_time.unwrap_or(t),
                nonce: row.nonce,
                amr: SignIn::amr_of(row.amr.as_deref()),
            }),
            resources,
            act: None,
            dpop: Default::default(),
        })
    }

    async fn refresh_grant(
        &self,
        app: &Arc<App>,
        client: &Client,
        req: &TokenRequest,
        dpop: Binding,
    ) -> Result<TokenResponse, OAuthError> {
        let token = req
            .refresh_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::request("refresh_token is required"))?;
        let hash = crate::tokens::opaque_token_key_of(token);
        let row: TokenRow = sqlx::query_as(TokenRow::SELECT_REFRESH)
            .bind(&hash)
            .bind(&app.app_id)
            .fetch_optional(&self.store.pool)
            .await
            .map_err(OAuthError::internal)?
            .ok_or_else(|| OAuthError::grant("invalid refresh token"))?;
        let family = row.family_id.clone().unwrap_or_default();
        if row.revoked != 0
            || self
                .is_revoked(
                    &row.user_id,
                    &app.app_id,
                    Some(&family),
                    row.issued_at,
                    None,
                )
                .await?
        {
            return Err(OAuthError::grant("refresh token revoked"));
        }
        if !row.client_id.eq_ignore_ascii_case(client.client_id()) {
            return Err(OAuthError::grant(
                "the refresh token was issued to another client",
            ));
        }
        // A public client's refresh token works only with a proof by the key it was bound to
        // (RFC 9449 §5); checked before it is spent.
        if row.jkt.is_some() && row.jkt != dpop.jkt {
            return Err(OAuthError::grant(
                "the refresh token is bound to a DPoP key: send a proof signed by that key",
            ));
        }
        // A bad request does not spend the token: scopes can be narrowed, never widened.
        let had: Vec<String> = row
            .scope
            .split(' ')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect();
        let scopes = match req.scope.as_deref().filter(|x| !x.trim().is_empty()) {
            None => had.clone(),
            Some(asked) => {
                let asked = resolve_scopes(app, Some(asked))?;
                if let Some(extra) = asked.iter().find(|a| !had.contains(a)) {
                    return Err(OAuthError::new(
                        OAuthErrorCode::InvalidScope,
                        format!("scope {extra:?} was not granted"),
                    ));
                }
                asked
            }
        };
        let granted = super::resources::parse_stored(row.resources.as_deref());
        let resources = super::resources::requested(app, &req.resources, Some(&granted))?;
        // Rotation: exactly one use; a second use revokes the whole family (RFC 9700 §4.14).
        let claimed = sqlx::query(
            "UPDATE tokens SET used = 1 WHERE token_hash = $1 AND used = 0 AND revoked = 0",
        )
        .bind(&hash)
        .execute(&self.store.writer)
        .await
        .map_err(OAuthError::internal)?
        .rows_affected();
        if claimed == 0 {
            self.revoke_family(&family).await?;
            return Err(OAuthError::grant("refresh token already used"));
        }
        if row.expires_at < now() {
            return Err(OAuthError::grant("refresh token expired"));
        }
        let user_id = row.user_id;
        // Access follows the directory: disabled, or no longer in a User Access role, and the
        // refresh token stops minting tokens.
        if !self.user_may_use(app, &user_id).await? {
            return Err(OAuthError::grant(
                "the user is disabled or may no longer use this application",
            ));
        }
        self.issue(
            Grant {
                app: app.clone(),
                client_id: row.client_id,
                user_id,
                username: row.username,
                scopes,
                family: Some(family),
                sign_in: Some(SignIn {
                    auth_time: row.auth_time.unwrap_or(row.issued_at),
                    nonce: None,
                    amr: SignIn::amr_of(row.amr.as_deref()),
                }),
                resources,
                act: None,
                dpop,
            },
            true,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_the_rfc_example() {
        // RFC 7636 appendix B.
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "short",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn scopes_default_to_all_and_unknown_is_invalid_scope() {
        let app: App = serde_json::from_value(serde_json::json!({
            "app_id": "a", "name": "a", "description": "", "category": "Other", "client_id_type": "confidential",
            "allowed_clients": [], "issuer": "x", "issuer_is_default": true, "redirect_uris": [], "token_type": "opaque",
            "auth_methods": [], "token_lifetime_secs": 60, "issue_refresh_tokens": false, "refresh_token_lifetime_secs": 60,
            "user_must_confirm": false, "user_access_roles": [], "created_at": "", "updated_at": "",
            "scopes": [{"name": "read", "description": "", "rest_regexes": []}, {"name": "write", "description": "", "rest_regexes": []}]
        }))
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            resolve_scopes(&app, None).ok(),
            Some(vec!["read".to_string(), "write".to_string()])
        );
        assert_eq!(
            resolve_scopes(&app, Some("write  write")).ok(),
            Some(vec!["write".to_string()])
        );
        assert_eq!(
            resolve_scopes(&app, Some("admin")).err().map(|e| e.code),
            Some(OAuthErrorCode::InvalidScope)
        );
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::resolve_scopes;
    use crate::apps::App;
    use crate::scopes::Scope;

    proptest! {
        #[test]
        fn requested_scopes_resolve_to_a_duplicate_free_subset_or_invalid_scope(
            defined in proptest::collection::btree_set("[a-z:._-]{1,8}", 0..6),
            requested in "\\PC{0,80}",
        ) {
            let mut app = App::new_app();
            app.scopes = defined.iter().map(|n| Scope { name: n.clone(), description: String::new(), rest_regexes: vec![] }).collect();
            match resolve_scopes(&app, Some(&requested)) {
                Ok(granted) => {
                    let mut seen = std::collections::HashSet::new();
                    prop_assert!(granted.iter().all(|g| defined.contains(g) && seen.insert(g.clone())));
                }
                Err(e) => prop_assert_eq!(e.code, crate::oauth::OAuthErrorCode::InvalidScope),
            }
        }
    }
}
