//! The OAuth2 rules of SPEC §2-§3: grants at the token endpoint, token issuance (JWT RS256 and
//! opaque), refresh-token rotation with reuse detection, introspection and revocation.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::apps::{App, AuthMethod, ClientIdType, TokenType};
use crate::clients::{has_access, Client, ClientCredentials, CACHE_TTL};
use crate::scopes::ScopeMatcher;
use crate::store::now;
use crate::tokens::{random_token, sha256_hex};
use crate::Services;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    TooManyRequests,
    ServerError,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnauthorizedClient => "unauthorized_client",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::UnsupportedResponseType => "unsupported_response_type",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::AccessDenied => "access_denied",
            OAuthErrorCode::TooManyRequests => "slow_down",
            OAuthErrorCode::ServerError => "server_error",
        }
    }
}

/// An RFC 6749 §5.2 error; the door renders it with its status and headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: OAuthErrorCode,
    pub description: String,
    /// The client authenticated with HTTP Basic: a 401 carries `WWW-Authenticate: Basic`.
    pub basic_challenge: bool,
    pub retry_after: Option<i64>,
    /// The app does not exist (404).
    pub not_found: bool,
    /// For `server_error`: the underlying failure, logged once where the error becomes a
    /// response and never shown to the client.
    pub cause: Option<String>,
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
            basic_challenge: false,
            retry_after: None,
            not_found: false,
            cause: None,
        }
    }
    pub fn unknown_app() -> Self {
        OAuthError {
            not_found: true,
            ..OAuthError::new(OAuthErrorCode::InvalidRequest, "unknown application")
        }
    }
    /// An unexpected failure (database, signing): a bare 500 that keeps its cause for the log.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        OAuthError {
            cause: Some(cause.to_string()),
            ..OAuthError::new(OAuthErrorCode::ServerError, "internal error")
        }
    }
    fn request(d: &str) -> Self {
        OAuthError::new(OAuthErrorCode::InvalidRequest, d)
    }
    fn grant(d: &str) -> Self {
        OAuthError::new(OAuthErrorCode::InvalidGrant, d)
    }
}

impl From<crate::DomainError> for OAuthError {
    fn from(e: crate::DomainError) -> Self {
        match e {
            crate::DomainError::Internal(cause) => OAuthError::internal(cause),
            other => OAuthError::internal(format!("unexpected domain error: {other}")),
        }
    }
}

/// The parameters of a token request, whatever their encoding.
#[derive(Clone, Debug, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
    pub credentials: ClientCredentials,
    pub client_addr: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// JWT access token claims (RFC 9068).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub username: Option<String>,
}

/// What a valid token stands for (introspection, bearer checks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub app_id: String,
    pub client_id: String,
    pub sub: String,
    pub username: Option<String>,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
    pub is_refresh: bool,
}

/// What a grant produced, before it becomes tokens.
struct Grant {
    app: Arc<App>,
    client_id: String,
    user_id: String,
    username: Option<String>,
    scopes: Vec<String>,
    family: Option<String>,
}

/// Apps as the endpoints need them, with their compiled scope regexes; re-read after CACHE_TTL.
#[derive(Clone, Default)]
pub struct AppCache(Arc<RwLock<HashMap<String, CachedApp>>>);

/// An app, its compiled scope regexes, and when they were read.
type CachedApp = (Arc<App>, Arc<ScopeMatcher>, Instant);

impl AppCache {
    pub fn invalidate(&self, app_id: &str) {
        if let Ok(mut m) = self.0.write() {
            m.remove(app_id);
        }
    }
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
        if app.scope(n).is_none() {
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

fn looks_like_jwt(t: &str) -> bool {
    t.len() > 20 && t.split('.').count() == 3
}

impl Services {
    /// The app with its compiled scopes, from the cache when fresh.
    pub async fn cached_app(
        &self,
        app_id: &str,
    ) -> Result<Option<(Arc<App>, Arc<ScopeMatcher>)>, OAuthError> {
        if let Some((a, m, t)) = self.apps.0.read().ok().and_then(|c| c.get(app_id).cloned()) {
            if t.elapsed() < CACHE_TTL {
                return Ok(Some((a, m)));
            }
        }
        let Some(app) = self.app(app_id).await? else {
            self.apps.invalidate(app_id);
            return Ok(None);
        };
        let app = Arc::new(app);
        let matcher = Arc::new(ScopeMatcher::new(&app.scopes));
        if let Ok(mut c) = self.apps.0.write() {
            if c.len() > 10_000 {
                c.clear();
            }
            c.insert(
                app_id.to_string(),
                (app.clone(), matcher.clone(), Instant::now()),
            );
        }
        Ok(Some((app, matcher)))
    }

    async fn app_or_404(&self, app_id: &str) -> Result<Arc<App>, OAuthError> {
        Ok(self
            .cached_app(app_id)
            .await?
            .ok_or_else(OAuthError::unknown_app)?
            .0)
    }

    /// `POST /oauth2/token/{app}`.
    pub async fn token(
        &self,
        app_id: &str,
        req: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let app = self.app_or_404(app_id).await?;
        let grant_type = req
            .grant_type
            .as_deref()
            .filter(|g| !g.is_empty())
            .ok_or_else(|| OAuthError::request("grant_type is required"))?;
        let method = match grant_type {
            "client_credentials" => AuthMethod::ClientCredentials,
            "password" => AuthMethod::Password,
            "authorization_code" => AuthMethod::AuthorizationCode,
            // The documents' sample client exchanges a code with grant_type=implicit.
            "implicit" if req.code.is_some() => AuthMethod::Implicit,
            "refresh_token" => AuthMethod::AuthorizationCode,
            _ => {
                return Err(OAuthError::new(
                    OAuthErrorCode::UnsupportedGrantType,
                    format!("grant_type {grant_type:?} is not supported"),
                ))
            }
        };
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
        let unauthorized =
            || OAuthError::new(OAuthErrorCode::UnauthorizedClient, "auth mode not allowed");
        let grant = match grant_type {
            "client_credentials" => {
                if !app.allows(method) || app.client_id_type != ClientIdType::Confidential {
                    return Err(unauthorized());
                }
                let Client::Confidential {
                    user_id,
                    login_name,
                    ..
                } = &client
                else {
                    return Err(unauthorized());
                };
                Grant {
                    scopes: resolve_scopes(&app, req.scope.as_deref())?,
                    client_id: login_name.clone(),
                    user_id: user_id.clone(),
                    username: None,
                    family: None,
                    app: app.clone(),
                }
            }
            "password" => {
                if !app.allows(method) {
                    return Err(unauthorized());
                }
                self.password_grant(&app, &client, &req).await?
            }
            "refresh_token" => {
                if !app.issue_refresh_tokens {
                    return Err(unauthorized());
                }
                return self.refresh_grant(&app, &client, &req).await;
            }
            _ => {
                if !(app.allows(AuthMethod::AuthorizationCode)
                    || (grant_type == "implicit" && app.allows(AuthMethod::Implicit)))
                {
                    return Err(unauthorized());
                }
                self.code_grant(&app, &client, &req).await?
            }
        };
        // Refresh tokens come with code exchanges only (the documents: not for client
        // credentials, implicit or the resource owner flow).
        let with_refresh = app.issue_refresh_tokens && grant_type == "authorization_code";
        self.issue(grant, with_refresh).await
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
        let user = match self
            .authenticate_person(username, password, &req.client_addr)
            .await
        {
            Ok(u) => u,
            Err(crate::users::AuthError::Throttled(secs)) => {
                return Err(OAuthError {
                    retry_after: Some(secs),
                    ..OAuthError::new(OAuthErrorCode::TooManyRequests, "too many failed attempts")
                })
            }
            Err(_) => return Err(OAuthError::grant("invalid username or password")),
        };
        if !self.user_may_use(app, &user.id).await? {
            return Err(OAuthError::grant("invalid username or password"));
        }
        Ok(Grant {
            app: app.clone(),
            client_id: client.client_id().to_string(),
            user_id: user.id,
            username: Some(user.login_name),
            scopes,
            family: None,
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
        let roles = sqlx::query("SELECT r.name FROM roles r JOIN role_members m ON m.role_id = r.id WHERE m.user_id = $1")
            .bind(user_id)
            .fetch_all(&self.store.pool)
            .await
            .map_err(OAuthError::internal)?
            .iter()
            .filter_map(|r| r.try_get::<String, _>("name").ok())
            .collect::<Vec<_>>();
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
        // Single use: the update wins for exactly one request.
        let claimed = sqlx::query(
            "UPDATE auth_codes SET used = 1 WHERE code_hash = $1 AND used = 0 AND app_id = $2",
        )
        .bind(&hash)
        .bind(&app.app_id)
        .execute(&self.store.pool)
        .await
        .map_err(OAuthError::internal)?
        .rows_affected();
        let row = sqlx::query("SELECT client_id, user_id, redirect_uri, scope, code_challenge, family_id, expires_at FROM auth_codes WHERE code_hash = $1 AND app_id = $2")
            .bind(&hash)
            .bind(&app.app_id)
            .fetch_optional(&self.store.pool)
            .await
            .map_err(OAuthError::internal)?
            .ok_or_else(|| OAuthError::grant("invalid authorization code"))?;
        let get = |c: &str| row.try_get::<String, _>(c).unwrap_or_default();
        let family = get("family_id");
        if claimed == 0 {
            // A replay: revoke what the first exchange issued (RFC 6749 §4.1.2).
            self.revoke_family(&family).await?;
            return Err(OAuthError::grant("authorization code already used"));
        }
        if row.try_get::<i64, _>("expires_at").unwrap_or(0) < t {
            return Err(OAuthError::grant("authorization code expired"));
        }
        if !get("client_id").eq_ignore_ascii_case(client.client_id()) {
            return Err(OAuthError::grant("the code was issued to another client"));
        }
        if req.redirect_uri.as_deref().unwrap_or("") != get("redirect_uri") {
            return Err(OAuthError::grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        match row
            .try_get::<Option<String>, _>("code_challenge")
            .ok()
            .flatten()
        {
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
            None if matches!(client, Client::Public { .. }) => {
                return Err(OAuthError::grant("PKCE is required for public clients"))
            }
            None => {}
        }
        let user_id = get("user_id");
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
            scopes: get("scope")
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            family: Some(family),
        })
    }

    async fn refresh_grant(
        &self,
        app: &Arc<App>,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let token = req
            .refresh_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::request("refresh_token is required"))?;
        let hash = sha256_hex(token);
        let row = sqlx::query("SELECT client_id, user_id, username, scope, family_id, expires_at, used, revoked, issued_at FROM tokens WHERE token_hash = $1 AND kind = 'refresh' AND app_id = $2")
            .bind(&hash)
            .bind(&app.app_id)
            .fetch_optional(&self.store.pool)
            .await
            .map_err(OAuthError::internal)?
            .ok_or_else(|| OAuthError::grant("invalid refresh token"))?;
        let s = |c: &str| row.try_get::<String, _>(c).unwrap_or_default();
        let n = |c: &str| row.try_get::<i64, _>(c).unwrap_or(0);
        let family = s("family_id");
        if n("revoked") != 0
            || self
                .is_revoked(
                    &s("user_id"),
                    &app.app_id,
                    Some(&family),
                    n("issued_at"),
                    None,
                )
                .await?
        {
            return Err(OAuthError::grant("refresh token revoked"));
        }
        if !s("client_id").eq_ignore_ascii_case(client.client_id()) {
            return Err(OAuthError::grant(
                "the refresh token was issued to another client",
            ));
        }
        // A bad request does not spend the token: scopes can be narrowed, never widened.
        let had: Vec<String> = s("scope")
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
        // Rotation: exactly one use; a second use revokes the whole family (RFC 9700 §4.14).
        let claimed = sqlx::query(
            "UPDATE tokens SET used = 1 WHERE token_hash = $1 AND used = 0 AND revoked = 0",
        )
        .bind(&hash)
        .execute(&self.store.pool)
        .await
        .map_err(OAuthError::internal)?
        .rows_affected();
        if claimed == 0 {
            self.revoke_family(&family).await?;
            return Err(OAuthError::grant("refresh token already used"));
        }
        if n("expires_at") < now() {
            return Err(OAuthError::grant("refresh token expired"));
        }
        let user_id = s("user_id");
        if self
            .user_row_by_id(&user_id)
            .await?
            .filter(|u| u.user.enabled)
            .is_none()
        {
            return Err(OAuthError::grant("the user is disabled"));
        }
        let username = row.try_get::<Option<String>, _>("username").ok().flatten();
        self.issue(
            Grant {
                app: app.clone(),
                client_id: s("client_id"),
                user_id,
                username,
                scopes,
                family: Some(family),
            },
            true,
        )
        .await
    }

    /// Issues the access token (JWT or opaque per the app) and, when asked, a refresh token.
    async fn issue(&self, g: Grant, with_refresh: bool) -> Result<TokenResponse, OAuthError> {
        let t = now();
        let exp = t + g.app.token_lifetime_secs;
        let scope = g.scopes.join(" ");
        let jti = match &g.family {
            Some(f) => format!("{f}.{}", random_token(12)),
            None => random_token(16),
        };
        let access_token = match g.app.token_type {
            TokenType::JwtRs256 => {
                let ring = self.key_ring().await?;
                let mut header = Header::new(Algorithm::RS256);
                header.kid = Some(ring.active_kid.clone());
                header.typ = Some("at+jwt".into());
                let claims = Claims {
                    iss: g.app.issuer.clone(),
                    sub: g.user_id.clone(),
                    aud: g.app.app_id.clone(),
                    client_id: g.client_id.clone(),
                    scope: scope.clone(),
                    iat: t,
                    nbf: t,
                    exp,
                    jti: jti.clone(),
                    username: g.username.clone(),
                };
                jsonwebtoken::encode(&header, &claims, &ring.encoding)
                    .map_err(OAuthError::internal)?
            }
            TokenType::Opaque => {
                let token = random_token(32);
                self.store_token(&token, "access", &g, &scope, &jti, t, exp)
                    .await?;
                token
            }
        };
        let refresh_token = if with_refresh {
            let token = random_token(32);
            let family = g.family.clone().unwrap_or_else(|| random_token(12));
            let g = Grant {
                family: Some(family),
                ..g
            };
            self.store_token(
                &token,
                "refresh",
                &g,
                &scope,
                &random_token(16),
                t,
                t + g.app.refresh_token_lifetime_secs,
            )
            .await?;
            Some(token)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: exp - t,
            scope,
            refresh_token,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn store_token(
        &self,
        token: &str,
        kind: &str,
        g: &Grant,
        scope: &str,
        jti: &str,
        iat: i64,
        exp: i64,
    ) -> Result<(), OAuthError> {
        sqlx::query(
            "INSERT INTO tokens (token_hash, kind, app_id, client_id, user_id, username, scope, jti, family_id, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(sha256_hex(token))
        .bind(kind)
        .bind(&g.app.app_id)
        .bind(&g.client_id)
        .bind(&g.user_id)
        .bind(&g.username)
        .bind(scope)
        .bind(jti)
        .bind(&g.family)
        .bind(iat)
        .bind(exp)
        .execute(&self.store.pool)
        .await
        .map_err(OAuthError::internal)?;
        Ok(())
    }

    /// Revokes every token of a code/refresh family.
    pub(crate) async fn revoke_family(&self, family: &str) -> Result<(), OAuthError> {
        if family.is_empty() {
            return Ok(());
        }
        sqlx::query("UPDATE tokens SET revoked = 1 WHERE family_id = $1")
            .bind(family)
            .execute(&self.store.pool)
            .await
            .map_err(OAuthError::internal)?;
        self.revoke_subject(&format!("family:{family}"))
            .await
            .map_err(OAuthError::internal)
    }

    /// Everything issued for `subject` until now is revoked.
    pub(crate) async fn revoke_subject(&self, subject: &str) -> crate::Result<()> {
        sqlx::query(
            "INSERT INTO revocations (subject, revoked_before) VALUES ($1, $2) ON CONFLICT (subject) DO UPDATE SET revoked_before = $2",
        )
        .bind(subject)
        .bind(now() + 1)
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }

    async fn is_revoked(
        &self,
        user: &str,
        app: &str,
        family: Option<&str>,
        iat: i64,
        jti: Option<&str>,
    ) -> Result<bool, OAuthError> {
        let subjects = [
            format!("user:{user}"),
            format!("app:{app}"),
            format!("family:{}", family.unwrap_or("-")),
        ];
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM revocations WHERE subject IN ($1, $2, $3) AND revoked_before > $4",
        )
        .bind(&subjects[0])
        .bind(&subjects[1])
        .bind(&subjects[2])
        .bind(iat)
        .fetch_one(&self.store.pool)
        .await
        .map_err(OAuthError::internal)?;
        if row.try_get::<i64, _>("n").unwrap_or(0) > 0 {
            return Ok(true);
        }
        if let Some(j) = jti {
            let hit = sqlx::query("SELECT jti FROM revoked_jtis WHERE jti = $1")
                .bind(j)
                .fetch_optional(&self.store.pool)
                .await
                .map_err(OAuthError::internal)?;
            return Ok(hit.is_some());
        }
        Ok(false)
    }

    /// What a token stands for if it is valid now: signature or lookup, expiry, not revoked.
    pub async fn inspect_token(&self, token: &str) -> Result<Option<TokenInfo>, OAuthError> {
        if looks_like_jwt(token) {
            let Ok(header) = jsonwebtoken::decode_header(token) else {
                return Ok(None);
            };
            let Some(kid) = header.kid else {
                return Ok(None);
            };
            let Some(key) = self.decoding_key(&kid).await? else {
                return Ok(None);
            };
            let mut v = Validation::new(Algorithm::RS256);
            v.validate_aud = false;
            v.validate_nbf = true;
            v.leeway = 0;
            v.set_required_spec_claims(&["exp", "iat", "nbf", "sub", "aud", "iss"]);
            let Ok(data) = jsonwebtoken::decode::<Claims>(token, &key, &v) else {
                return Ok(None);
            };
            let c = data.claims;
            let family = c.jti.split_once('.').map(|(f, _)| f.to_string());
            if self
                .is_revoked(&c.sub, &c.aud, family.as_deref(), c.iat, Some(&c.jti))
                .await?
            {
                return Ok(None);
            }
            return Ok(Some(TokenInfo {
                app_id: c.aud,
                client_id: c.client_id,
                sub: c.sub,
                username: c.username,
                scope: c.scope,
                iat: c.iat,
                exp: c.exp,
                jti: c.jti,
                iss: c.iss,
                is_refresh: false,
            }));
        }
        if token.is_empty() || token.len() > 512 {
            return Ok(None);
        }
        let Some(r) = sqlx::query("SELECT kind, app_id, client_id, user_id, username, scope, jti, family_id, issued_at, expires_at, used, revoked FROM tokens WHERE token_hash = $1")
            .bind(sha256_hex(token))
            .fetch_optional(&self.store.pool)
            .await
            .map_err(OAuthError::internal)?
        else {
            return Ok(None);
        };
        let s = |c: &str| r.try_get::<String, _>(c).unwrap_or_default();
        let n = |c: &str| r.try_get::<i64, _>(c).unwrap_or(0);
        let is_refresh = s("kind") == "refresh";
        if n("revoked") != 0 || n("expires_at") <= now() || (is_refresh && n("used") != 0) {
            return Ok(None);
        }
        let family: Option<String> = r.try_get("family_id").ok().flatten();
        if self
            .is_revoked(
                &s("user_id"),
                &s("app_id"),
                family.as_deref(),
                n("issued_at"),
                None,
            )
            .await?
        {
            return Ok(None);
        }
        let app_id = s("app_id");
        let iss = self
            .cached_app(&app_id)
            .await?
            .map(|(a, _)| a.issuer.clone())
            .unwrap_or_default();
        Ok(Some(TokenInfo {
            app_id,
            client_id: s("client_id"),
            sub: s("user_id"),
            username: r.try_get("username").ok().flatten(),
            scope: s("scope"),
            iat: n("issued_at"),
            exp: n("expires_at"),
            jti: s("jti"),
            iss,
            is_refresh,
        }))
    }

    /// `POST /oauth2/introspect/{app}`: the caller is a confidential client of the app.
    pub async fn introspect(
        &self,
        app_id: &str,
        creds: &ClientCredentials,
        token: Option<&str>,
        addr: &str,
    ) -> Result<Option<TokenInfo>, OAuthError> {
        let app = self.app_or_404(app_id).await?;
        let confidential_app = App {
            client_id_type: ClientIdType::Confidential,
            ..(*app).clone()
        };
        // Only a client of *this* app may look at its tokens.
        self.authenticate_app_client(&confidential_app, creds, addr)
            .await?;
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::request("token is required"))?;
        Ok(self
            .inspect_token(token)
            .await?
            .filter(|i| i.app_id == app.app_id))
    }

    /// `POST /oauth2/revoke/{app}` (RFC 7009): succeeds for any token, known or not.
    pub async fn revoke(
        &self,
        app_id: &str,
        creds: &ClientCredentials,
        token: Option<&str>,
        addr: &str,
    ) -> Result<(), OAuthError> {
        let app = self.app_or_404(app_id).await?;
        let client = self.authenticate_app_client(&app, creds, addr).await?;
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::request("token is required"))?;
        let Some(info) = self.inspect_token(token).await? else {
            return Ok(());
        };
        if info.app_id != app.app_id || !info.client_id.eq_ignore_ascii_case(client.client_id()) {
            return Ok(());
        }
        if looks_like_jwt(token) {
            sqlx::query("INSERT INTO revoked_jtis (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
                .bind(&info.jti)
                .bind(info.exp)
                .execute(&self.store.pool)
                .await
                .map_err(OAuthError::internal)?;
        } else if info.is_refresh {
            let family: Option<String> =
                sqlx::query("SELECT family_id FROM tokens WHERE token_hash = $1")
                    .bind(sha256_hex(token))
                    .fetch_optional(&self.store.pool)
                    .await
                    .map_err(OAuthError::internal)?
                    .and_then(|r| r.try_get("family_id").ok().flatten());
            match family {
                Some(f) => self.revoke_family(&f).await?,
                None => self.revoke_opaque(token).await?,
            }
        } else {
            self.revoke_opaque(token).await?;
        }
        Ok(())
    }

    async fn revoke_opaque(&self, token: &str) -> Result<(), OAuthError> {
        sqlx::query("UPDATE tokens SET revoked = 1 WHERE token_hash = $1")
            .bind(sha256_hex(token))
            .execute(&self.store.pool)
            .await
            .map_err(OAuthError::internal)?;
        Ok(())
    }

    /// Creates an authorization code (60 s, single use) for a signed-in person.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_code(
        &self,
        app: &App,
        client_id: &str,
        user_id: &str,
        redirect_uri: &str,
        scopes: &[String],
        challenge: Option<&str>,
        nonce: Option<&str>,
    ) -> crate::Result<String> {
        let code = random_token(32);
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, app_id, client_id, user_id, redirect_uri, scope, code_challenge, nonce, family_id, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(sha256_hex(&code))
        .bind(&app.app_id)
        .bind(client_id)
        .bind(user_id)
        .bind(redirect_uri)
        .bind(scopes.join(" "))
        .bind(challenge)
        .bind(nonce)
        .bind(random_token(12))
        .bind(now() + 60)
        .execute(&self.store.pool)
        .await?;
        Ok(code)
    }

    /// An access token for the implicit flow (no refresh token).
    pub async fn issue_implicit(
        &self,
        app: &App,
        client_id: &str,
        user_id: &str,
        username: &str,
        scopes: Vec<String>,
    ) -> Result<TokenResponse, OAuthError> {
        let g = Grant {
            app: Arc::new(app.clone()),
            client_id: client_id.to_string(),
            user_id: user_id.to_string(),
            username: Some(username.to_string()),
            scopes,
            family: None,
        };
        self.issue(g, false).await
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
