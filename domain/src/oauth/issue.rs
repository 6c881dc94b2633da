//! Turning a grant into tokens: a JWT RS256 (RFC 9068) or an opaque token, and a refresh token
//! when the grant allows one; authorization codes for the authorize endpoint.

use std::sync::Arc;

use jsonwebtoken::Header;

use super::grants::Grant;
use super::{Claims, TokenResponse};
use crate::apps::{App, TokenType};
use crate::clock::now;
use crate::error::OAuthError;
use crate::oidc::SignIn;
use crate::tokens::{opaque_token, opaque_token_key_of, random_token, sha256_hex};
use crate::Services;

impl Services {
    /// Issues the access token (JWT or opaque per the app) and, when asked, a refresh token.
    pub(crate) async fn issue(
        &self,
        g: Grant,
        with_refresh: bool,
    ) -> Result<TokenResponse, OAuthError> {
        let t = now();
        let exp = t + g.app.token_lifetime_secs;
        let scope = g.scopes.join(" ");
        if g.sign_in.is_some() {
            // A person's token for Gatehouse's own admin API is audited (a client's own tokens,
            // the hot path, act with the client's own rights and are not).
            let (_, matcher) = self
                .cached_app(&g.app.app_id)
                .await?
                .ok_or_else(|| OAuthError::internal("the app vanished while issuing"))?;
            if matcher.any_administrative(g.scopes.iter().map(String::as_str)) {
                self.audit_admin_grant(
                    "token.admin_issue",
                    &g.app.app_id,
                    g.username.as_deref().unwrap_or(&g.user_id),
                    &g.client_id,
                    &g.scopes,
                )
                .await
                .map_err(OAuthError::from)?;
            }
        }
        let jti = match &g.family {
            Some(f) => format!("{f}.{}", random_token(12)),
            None => random_token(16),
        };
        let access_token = match g.app.token_type {
            TokenType::JwtRs256 | TokenType::JwtEs256 | TokenType::JwtEdDsa => {
                let alg = crate::keys::algorithm_of(g.app.token_type);
                let ring = self.key_ring().await?;
                let key = ring.signer(alg).ok_or_else(|| {
                    OAuthError::internal(format!("no active {alg:?} signing key"))
                })?;
                let mut header = Header::new(alg);
                header.kid = Some(key.kid().to_string());
                header.typ = Some("at+jwt".into());
                let claims = Claims {
                    iss: g.app.issuer.clone(),
                    sub: g.user_id.clone(),
                    aud: super::resources::audience(&g.app.app_id, &g.resources),
                    app_id: (!g.resources.is_empty()).then(|| g.app.app_id.clone()),
                    client_id: g.client_id.clone(),
                    scope: scope.clone(),
                    iat: t,
                    nbf: t,
                    exp,
                    jti: jti.clone(),
                    username: g.username.clone(),
                    amr: g
                        .sign_in
                        .as_ref()
                        .map(|s| s.amr.clone())
                        .unwrap_or_default(),
                    acr: g
                        .sign_in
                        .as_ref()
                        .filter(|s| !s.amr.is_empty())
                        .map(|s| model::factors::amr::acr(&s.amr).to_string()),
                    act: g.act.clone().map(|sub| super::Actor { sub }),
                    cnf: g
                        .dpop
                        .jkt
                        .clone()
                        .map(|jkt| super::dpop::Confirmation { jkt }),
                };
                key.sign(&header, &claims).map_err(OAuthError::internal)?
            }
            TokenType::Opaque => {
                let token = opaque_token();
                self.store_token(&token, "access", &g, &scope, &jti, t, exp)
                    .await?;
                token
            }
        };
        let id_token = match &g.sign_in {
            Some(sign_in) if g.scopes.iter().any(|s| s == "openid") => {
                let user = self
                    .user_row_by_id(&g.user_id)
                    .await?
                    .ok_or_else(|| OAuthError::grant("the user is gone"))?;
                Some(
                    self.id_token(
                        &g.app,
                        &g.client_id,
                        &user.user,
                        &g.scopes,
                        sign_in,
                        Some(&access_token),
                    )
                    .await?,
                )
            }
            _ => None,
        };
        let bound = g.dpop.jkt.is_some();
        let refresh_token = if with_refresh {
            let token = opaque_token();
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
            token_type: if bound { "DPoP" } else { "Bearer" }.into(),
            expires_in: exp - t,
            scope,
            refresh_token,
            id_token,
            issued_token_type: None,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn store_token(
        &self,
        token: &str,
        kind: &'static str,
        g: &Grant,
        scope: &str,
        jti: &str,
        iat: i64,
        exp: i64,
    ) -> Result<(), OAuthError> {
        let writer = self.token_writer.get_or_init(|| {
            super::TokenWriter::new(
                self.store.writer.clone(),
                self.store.backend,
                self.store.hot_write_failed_at_ms.clone(),
            )
        });
        writer
            .insert(super::batch::NewToken {
                token_hash: opaque_token_key_of(token),
                kind,
                app_id: g.app.app_id.clone(),
                client_id: g.client_id.clone(),
                user_id: g.user_id.clone(),
                username: g.username.clone(),
                scope: scope.to_string(),
                jti: jti.to_string(),
                family: g.family.clone(),
                issued_at: iat,
                expires_at: exp,
                auth_time: g.sign_in.as_ref().map(|s| s.auth_time),
                resources: super::resources::stored(&g.resources),
                amr: g.sign_in.as_ref().and_then(SignIn::amr_text),
                act: g.act.clone(),
                jkt: match kind {
                    "refresh" if !g.dpop.refresh_too => None,
                    _ => g.dpop.jkt.clone(),
                },
            })
            .await
            .map_err(OAuthError::internal)
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
        sign_in: &SignIn,
        resources: &[String],
    ) -> crate::Result<String> {
        let code = random_token(32);
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, app_id, client_id, user_id, redirect_uri, scope, code_challenge, nonce, family_id, expires_at, auth_time, resources, amr) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(sha256_hex(&code))
        .bind(&app.app_id)
        .bind(client_id)
        .bind(user_id)
        .bind(redirect_uri)
        .bind(scopes.join(" "))
        .bind(challenge)
        .bind(sign_in.nonce.as_deref())
        .bind(random_token(12))
        .bind(now() + 60)
        .bind(sign_in.auth_time)
        .bind(super::resources::stored(resources))
        .bind(sign_in.amr_text())
        .execute(&self.store.writer)
        .await?;
        Ok(code)
    }

    /// The implicit flow's tokens (no refresh token): an access token, and an ID token when
    /// `openid` is granted; `access_token: false` for `response_type=id_token` (the ID token
    /// alone, without `at_hash`).
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_implicit(
        &self,
        app: &App,
        client_id: &str,
        user: &crate::users::User,
        scopes: Vec<String>,
        sign_in: SignIn,
        access_token: bool,
        resources: Vec<String>,
    ) -> Result<TokenResponse, OAuthError> {
        if !access_token {
            let id_token = self
                .id_token(app, client_id, user, &scopes, &sign_in, None)
                .await?;
            return Ok(TokenResponse {
                access_token: String::new(),
                token_type: "Bearer".into(),
                expires_in: app.token_lifetime_secs,
                scope: scopes.join(" "),
                refresh_token: None,
                id_token: Some(id_token),
                issued_token_type: None,
            });
        }
        let g = Grant {
            app: Arc::new(app.clone()),
            client_id: client_id.to_string(),
            user_id: user.id.clone(),
            username: Some(user.login_name.clone()),
            scopes,
            family: None,
            sign_in: Some(sign_in),
            resources,
            act: None,
            dpop: Default::default(),
        };
        self.issue(g, false).await
    }
}
