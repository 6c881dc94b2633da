//! The authorize flow (SPEC §3): checks in the contract's order, the consent rule, and the
//! redirect that carries a code or a token back to the client.

use std::sync::Arc;

use sqlx::Row;

use crate::apps::{App, AuthMethod, ClientIdType};
use crate::clock::now;
use crate::names::RedirectUri;
use crate::oauth::{resolve_scopes, OAuthError, OAuthErrorCode};
use crate::oidc::{Prompt, SignIn};
use crate::Services;

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    /// RFC 8707 `resource` parameters (the parameter may repeat).
    pub resources: Vec<String>,
    /// The parameters came from a pushed request (RFC 9126), not from the browser.
    #[serde(default)]
    pub pushed: bool,
}

/// The signed-in person as the authorize endpoint sees them: who, and since when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user_id: String,
    pub auth_time: i64,
    /// How the person signed in (RFC 8176 values).
    pub amr: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AuthorizeOutcome {
    /// The client or redirect URI is bad: show an error page (400), never redirect.
    ErrorPage(String),
    /// There is no such app: the error page with 404 (SPEC §3), never a redirect.
    UnknownApp,
    /// An unexpected failure (database, signing): a bare 500 error page. The cause is logged
    /// once where the outcome becomes a response.
    Failed(OAuthError),
    /// Send the browser here: the client's answer (a code or tokens).
    Redirect(String),
    /// Send the browser here, to tell the client `error` (RFC 6749 §4.1.2.1): `to` carries it
    /// with its description, the `state` and the issuer.
    Refused { to: String, error: OAuthError },
    /// The person must sign in first (again, when `fresh`: `prompt=login` or `max_age`);
    /// `login_hint` pre-fills the login name.
    SignIn {
        login_hint: Option<String>,
        fresh: bool,
    },
    /// The app requires a second factor this sign-in has not given: the person gives one
    /// (`setup: false`) or, having none, sets one up first (`setup: true`), then comes back.
    SecondFactor { setup: bool },
    /// The person must approve these scopes (name, description) of this app; `administrative`
    /// when one of them reaches Gatehouse's own admin API (the page says so).
    Consent {
        app_name: String,
        administrative: bool,
        scopes: Vec<(String, String)>,
        /// A registered client: its name and the host it sends the person back to, so the
        /// person sees who is asking (clients name themselves when they register).
        client: Option<String>,
    },
}

pub use model::encode;

/// The `response_type` values Gatehouse answers (OAuth2 and OpenID Connect Core §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseType {
    Code,
    Token,
    IdToken,
    IdTokenToken,
}

impl ResponseType {
    /// The space-separated values in any order; None for anything else.
    pub fn parse(s: Option<&str>) -> Option<Self> {
        let mut v: Vec<&str> = s?.split(' ').filter(|x| !x.is_empty()).collect();
        v.sort_unstable();
        match v.as_slice() {
            ["code"] => Some(ResponseType::Code),
            ["token"] => Some(ResponseType::Token),
            ["id_token"] => Some(ResponseType::IdToken),
            ["id_token", "token"] => Some(ResponseType::IdTokenToken),
            _ => None,
        }
    }
    pub fn has_id_token(self) -> bool {
        matches!(self, ResponseType::IdToken | ResponseType::IdTokenToken)
    }
    /// The JSON names, for discovery.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
            ResponseType::IdToken => "id_token",
            ResponseType::IdTokenToken => "id_token token",
        }
    }
}

fn with_params(base: &str, sep_fragment: bool, params: &[(&str, Option<&str>)]) -> String {
    let pairs: Vec<String> = params
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", encode(v))))
        .collect();
    let joined = pairs.join("&");
    if sep_fragment {
        format!("{base}#{joined}")
    } else if base.contains('?') {
        format!("{base}&{joined}")
    } else {
        format!("{base}?{joined}")
    }
}

/// The checked parts of a request, once app, client and redirect are known to be good.
struct Checked {
    app: Arc<App>,
    client_id: String,
    redirect_uri: String,
    fragment: bool,
    state: Option<String>,
    /// Who a registered client says it is, for the consent page (`client_label`).
    client: Option<String>,
}

/// How the consent page names a registered client: its name (if it gave one), the host of
/// its metadata document (which vouches for the name) and the host it returns to.
fn client_label(c: &crate::registration::RegisteredClient, redirect_uri: &str) -> String {
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default()
    };
    let back = host(redirect_uri);
    match (&c.metadata.client_name, c.document) {
        (Some(n), true) => format!(
            "{n}, published by {} (returns to {back})",
            host(&c.client_id)
        ),
        (None, true) => format!(
            "A client published by {} (returns to {back})",
            host(&c.client_id)
        ),
        (Some(n), false) => format!("{n} (returns to {back})"),
        (None, false) => format!("A client that returns to {back}"),
    }
}

impl Checked {
    fn error(&self, code: OAuthErrorCode, description: &str) -> AuthorizeOutcome {
        AuthorizeOutcome::Refused {
            to: with_params(
                &self.redirect_uri,
                self.fragment,
                &[
                    ("error", Some(code.as_str())),
                    ("error_description", Some(description)),
                    ("state", self.state.as_deref()),
                    // RFC 9207 §2: error responses name the issuer too.
                    ("iss", Some(&self.app.issuer)),
                ],
            ),
            error: OAuthError::new(code, description),
        }
    }
}

impl Services {
    /// Step one: the app, `client_id` and `redirect_uri`, before anything else (even sign-in).
    async fn check_client(
        &self,
        app_id: &str,
        req: &AuthorizeRequest,
    ) -> Result<Checked, AuthorizeOutcome> {
        let page = |m: &str| AuthorizeOutcome::ErrorPage(m.to_string());
        let (app, _) = self
            .cached_app(app_id)
            .await
            .map_err(AuthorizeOutcome::Failed)?
            .ok_or(AuthorizeOutcome::UnknownApp)?;
        let client_id = req
            .client_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| page("The request has no client_id."))?;
        // A registered client brings its own redirect URIs; the others use the app's.
        let mut redirect_uris = &app.redirect_uris;
        let mut registered_client = None;
        let client_ok = match app.client_id_type {
            ClientIdType::Registered => {
                registered_client = self
                    .app_client(&app, client_id)
                    .await
                    .map_err(|e| AuthorizeOutcome::Failed(e.into()))?;
                match &registered_client {
                    Some(c) if c.has_grant("authorization_code") => {
                        redirect_uris = &c.metadata.redirect_uris;
                        true
                    }
                    _ => false,
                }
            }
            ClientIdType::Anything => true,
            ClientIdType::List => app
                .allowed_clients
                .iter()
                .any(|c| c.eq_ignore_ascii_case(client_id)),
            ClientIdType::Confidential => match self
                .user_row_by_login(client_id)
                .await
                .map_err(|e| AuthorizeOutcome::Failed(e.into()))?
            {
                Some(u) if u.user.enabled && u.user.is_oauth_confidential_client => self
                    .user_may_use(&app, &u.user.id)
                    .await
                    .map_err(AuthorizeOutcome::Failed)?,
                _ => false,
            },
        };
        if !client_ok {
            return Err(page("The client_id is not valid for this application."));
        }
        let client_is_registered = app.client_id_type == ClientIdType::Registered;
        let registered: Vec<RedirectUri> = redirect_uris
            .iter()
            .filter_map(|u| RedirectUri::parse(u).ok())
            .collect();
        let redirect_uri = match req.redirect_uri.as_deref().filter(|r| !r.is_empty()) {
            Some(r)
                if registered.iter().any(|x| {
                    // A registered client's `localhost` also matches on any port (SPEC §3b).
                    if client_is_registered {
                        x.matches_any_loopback(r)
                    } else {
                        x.matches(r)
                    }
                }) =>
            {
                r.to_string()
            }
            Some(_) => {
                return Err(page(
                    "The redirect_uri is not registered for this application.",
                ))
            }
            None if registered.len() == 1 => registered[0].as_str().to_string(),
            None => return Err(page("The request has no redirect_uri.")),
        };
        let fragment = ResponseType::parse(req.response_type.as_deref())
            .is_some_and(|r| r != ResponseType::Code);
        let client = registered_client
            .as_ref()
            .map(|c| client_label(c, &redirect_uri));
        Ok(Checked {
            app,
            client_id: client_id.to_string(),
            redirect_uri,
            fragment,
            state: req.state.clone(),
            client,
        })
    }

    /// Checks an authorize request as the endpoint would, up to the person who signs in later:
    /// what the PAR endpoint checks before it stores a request.
    pub(crate) async fn check_authorize_request(
        &self,
        app_id: &str,
        req: &AuthorizeRequest,
    ) -> Result<(), OAuthError> {
        let mut req = req.clone();
        req.pushed = true;
        match self.authorize_checked(app_id, &req, None, None).await? {
            AuthorizeOutcome::UnknownApp => Err(OAuthError::unknown_app()),
            AuthorizeOutcome::ErrorPage(m) => {
                Err(OAuthError::new(OAuthErrorCode::InvalidRequest, m))
            }
            AuthorizeOutcome::Failed(e) => Err(e),
            // Not signed in yet is what a pushed request is.
            AuthorizeOutcome::Refused { error, .. }
                if error.code == OAuthErrorCode::LoginRequired =>
            {
                Ok(())
            }
            AuthorizeOutcome::Refused { error, .. } => Err(error),
            _ => Ok(()),
        }
    }

    /// Runs the authorize request for `user_id` (None: not signed in). `approved` carries the
    /// scopes the person just approved on the consent page.
    pub async fn authorize(
        &self,
        app_id: &str,
        req: &AuthorizeRequest,
        session: Option<&Session>,
        approved: Option<Vec<String>>,
    ) -> AuthorizeOutcome {
        self.authorize_checked(app_id, req, session, approved)
            .await
            .unwrap_or_else(AuthorizeOutcome::Failed)
    }

    /// `authorize`, with unexpected failures as errors so none is mistaken for a refusal.
    async fn authorize_checked(
        &self,
        app_id: &str,
        req: &AuthorizeRequest,
        session: Option<&Session>,
        approved: Option<Vec<String>>,
    ) -> Result<AuthorizeOutcome, OAuthError> {
        let c = match self.check_client(app_id, req).await {
            Ok(c) => c,
            Err(o) => return Ok(o),
        };
        if c.app.require_par && !req.pushed {
            return Ok(c.error(
                OAuthErrorCode::InvalidRequest,
                "this application takes pushed authorization requests only (PAR, RFC 9126)",
            ));
        }
        let response = match ResponseType::parse(req.response_type.as_deref()) {
            Some(r) => r,
            None if req.response_type.as_deref().unwrap_or("").is_empty() => {
                return Ok(c.error(OAuthErrorCode::InvalidRequest, "response_type is required"))
            }
            None => {
                return Ok(c.error(
                    OAuthErrorCode::UnsupportedResponseType,
                    "response_type must be code, token, id_token or id_token token",
                ))
            }
        };
        let method = if response == ResponseType::Code {
            AuthMethod::AuthorizationCode
        } else {
            AuthMethod::Implicit
        };
        if !c.app.allows(method)
            || (c.app.client_id_type == ClientIdType::Registered
                && method != AuthMethod::AuthorizationCode)
        {
            return Ok(c.error(OAuthErrorCode::UnauthorizedClient, "auth mode not allowed"));
        }
        let scopes = match resolve_scopes(&c.app, req.scope.as_deref()) {
            Ok(s) => s,
            Err(e) => return Ok(c.error(e.code, &e.description)),
        };
        let resources = match crate::oauth::resources::requested(&c.app, &req.resources, None) {
            Ok(r) => r,
            Err(e) => return Ok(c.error(e.code, &e.description)),
        };
        let openid = scopes.iter().any(|s| s == "openid");
        let nonce = req.nonce.as_deref().filter(|n| !n.is_empty());
        if response.has_id_token() {
            if !openid {
                return Ok(c.error(
                    OAuthErrorCode::InvalidScope,
                    "response_type id_token needs the scope openid",
                ));
            }
            if nonce.is_none() {
                return Ok(c.error(
                    OAuthErrorCode::InvalidRequest,
                    "nonce is required for response_type id_token",
                ));
            }
        }
        if nonce.is_some_and(|n| n.len() > 512) {
            return Ok(c.error(OAuthErrorCode::InvalidRequest, "nonce is too long"));
        }
        let prompt = match Prompt::parse(req.prompt.as_deref()) {
            Ok(p) => p,
            Err(m) => return Ok(c.error(OAuthErrorCode::InvalidRequest, m)),
        };
        let max_age = match req.max_age.as_deref().filter(|m| !m.is_empty()) {
            None => None,
            Some(m) => match m.parse::<u32>() {
                Ok(v) => Some(i64::from(v)),
                Err(_) => {
                    return Ok(c.error(
                        OAuthErrorCode::InvalidRequest,
                        "max_age must be a whole number of seconds",
                    ))
                }
            },
        };
        let challenge = req.code_challenge.as_deref().filter(|s| !s.is_empty());
        if method == AuthMethod::AuthorizationCode {
            if challenge.is_some() && req.code_challenge_method.as_deref() != Some("S256") {
                return Ok(c.error(
                    OAuthErrorCode::InvalidRequest,
                    "code_challenge_method must be S256",
                ));
            }
            if challenge.is_none() && c.app.client_id_type != ClientIdType::Confidential {
                return Ok(c.error(
                    OAuthErrorCode::InvalidRequest,
                    "PKCE (code_challenge with S256) is required for public clients",
                ));
            }
            if challenge.is_some_and(|ch| !(43..=128).contains(&ch.len())) {
                return Ok(c.error(
                    OAuthErrorCode::InvalidRequest,
                    "code_challenge is malformed",
                ));
            }
        }
        let login_hint = req
            .login_hint
            .as_deref()
            .filter(|h| !h.is_empty() && h.len() <= 256)
            .map(str::to_string);
        let sign_in = |fresh: bool| {
            if prompt.none {
                c.error(OAuthErrorCode::LoginRequired, "the user must sign in")
            } else {
                AuthorizeOutcome::SignIn {
                    login_hint: login_hint.clone(),
                    fresh,
                }
            }
        };
        let Some(session) = session else {
            return Ok(sign_in(false));
        };
        let user_id = session.user_id.as_str();
        let user = match self.user_row_by_id(user_id).await? {
            Some(u) if u.user.enabled => u,
            _ => return Ok(sign_in(false)),
        };
        let too_old = max_age.is_some_and(|m| now() - session.auth_time > m);
        if prompt.login || too_old {
            return Ok(sign_in(true));
        }
        if !self.user_may_use(&c.app, user_id).await? {
            return Ok(c.error(
                OAuthErrorCode::AccessDenied,
                "the user may not use this application",
            ));
        }
        // An app that requires a second factor takes no sign-in without one (SPEC §6a).
        if c.app.require_mfa
            && !session
                .amr
                .iter()
                .any(|m| m == model::factors::amr::MULTI_FACTOR)
        {
            if prompt.none {
                return Ok(c.error(
                    OAuthErrorCode::InteractionRequired,
                    "this application requires a second factor",
                ));
            }
            return Ok(AuthorizeOutcome::SecondFactor {
                setup: !self.has_second_factor(user_id).await?,
            });
        }
        // A person's token for Gatehouse's own admin API is always their explicit decision,
        // on a page that says so (whatever the app's User must confirm says).
        let administrative = match self.cached_app(&c.app.app_id).await? {
            Some((_, m)) => m.any_administrative(scopes.iter().map(String::as_str)),
            None => true,
        };
        let granted =
            if administrative || c.app.user_must_confirm || prompt.consent || approved.is_some() {
                match approved {
                    Some(a) => {
                        let granted: Vec<String> =
                            scopes.iter().filter(|s| a.contains(s)).cloned().collect();
                        self.remember_consent(user_id, &c.app.app_id, &granted)
                            .await?;
                        granted
                    }
                    None => {
                        let remembered = self.consent_of(user_id, &c.app.app_id).await?;
                        match remembered {
                            Some(r)
                                if !administrative
                                    && !prompt.consent
                                    && scopes.iter().all(|s| r.contains(s)) =>
                            {
                                scopes
                            }
                            _ if prompt.none => {
                                return Ok(c.error(
                                    OAuthErrorCode::ConsentRequired,
                                    "the user must approve the request",
                                ))
                            }
                            _ => {
                                return Ok(AuthorizeOutcome::Consent {
                                    app_name: c.app.name.clone(),
                                    client: c.client.clone(),
                                    administrative,
                                    scopes: scopes
                                        .iter()
                                        .map(|s| {
                                            (s.clone(), crate::oidc::scope_description(&c.app, s))
                                        })
                                        .collect(),
                                })
                            }
                        }
                    }
                }
            } else {
                scopes
            };
        let sign_in = SignIn {
            auth_time: session.auth_time,
            nonce: nonce.map(str::to_string),
            amr: session.amr.clone(),
        };
        // Codes are audited here, tokens where they are issued (`issue`).
        if administrative && response == ResponseType::Code {
            self.audit_admin_grant(
                "token.admin_code",
                &c.app.app_id,
                &user.user.login_name,
                &c.client_id,
                &granted,
            )
            .await?;
        }
        if response == ResponseType::Code {
            let code = self
                .create_code(
                    &c.app,
                    &c.client_id,
                    user_id,
                    &c.redirect_uri,
                    &granted,
                    challenge,
                    &sign_in,
                    &resources,
                )
                .await?;
            return Ok(AuthorizeOutcome::Redirect(with_params(
                &c.redirect_uri,
                false,
                &[
                    ("code", Some(&code)),
                    ("state", c.state.as_deref()),
                    ("iss", Some(&c.app.issuer)),
                ],
            )));
        }
        let with_access = response != ResponseType::IdToken;
        let mut t = self
            .issue_implicit(
                &c.app,
                &c.client_id,
                &user.user,
                granted,
                sign_in,
                with_access,
                resources,
            )
            .await?;
        if !response.has_id_token() {
            t.id_token = None;
        }
        let expires = t.expires_in.to_string();
        let access: [(&str, Option<&str>); 4] = if with_access {
            [
                ("access_token", Some(&t.access_token)),
                ("token_type", Some("Bearer")),
                ("expires_in", Some(&expires)),
                ("scope", Some(&t.scope)),
            ]
        } else {
            [
                ("access_token", None),
                ("token_type", None),
                ("expires_in", None),
                ("scope", None),
            ]
        };
        let mut params: Vec<(&str, Option<&str>)> = access.to_vec();
        params.push(("id_token", t.id_token.as_deref()));
        params.push(("state", c.state.as_deref()));
        params.push(("iss", Some(&c.app.issuer)));
        Ok(AuthorizeOutcome::Redirect(with_params(
            &c.redirect_uri,
            true,
            &params,
        )))
    }

    /// The person denied the consent: `access_denied` back to the client.
    pub async fn deny_authorization(
        &self,
        app_id: &str,
        req: &AuthorizeRequest,
    ) -> AuthorizeOutcome {
        match self.check_client(app_id, req).await {
            Ok(c) => c.error(OAuthErrorCode::AccessDenied, "the user denied the request"),
            Err(o) => o,
        }
    }

    async fn consent_of(&self, user_id: &str, app_id: &str) -> crate::Result<Option<Vec<String>>> {
        let row = sqlx::query("SELECT scopes FROM consents WHERE user_id = $1 AND app_id = $2")
            .bind(user_id)
            .bind(app_id)
            .fetch_optional(&self.store.pool)
            .await?;
        // A row that does not decode refuses the request (it is not "no consent yet").
        let scopes = row.map(|r| r.try_get::<String, _>("scopes")).transpose()?;
        Ok(scopes.map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        }))
    }

    async fn remember_consent(
        &self,
        user_id: &str,
        app_id: &str,
        scopes: &[String],
    ) -> crate::Result<()> {
        let before = self.consent_of(user_id, app_id).await?;
        let mut tx = self.store.pool.begin().await?;
        sqlx::query(
            "INSERT INTO consents (user_id, app_id, scopes, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, app_id) DO UPDATE SET scopes = $3, granted_at = $4",
        )
        .bind(user_id)
        .bind(app_id)
        .bind(scopes.join(" "))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let change = (
            "scopes".into(),
            before.map(|b| b.join(" ")),
            Some(scopes.join(" ")),
        );
        self.audit_consent(&mut tx, "consent.grant", user_id, app_id, None, change)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The apps a person has approved: (app id, app name, scopes).
    pub async fn connected_apps(
        &self,
        user_id: &str,
    ) -> crate::Result<Vec<(String, String, String)>> {
        let rows = sqlx::query("SELECT c.app_id, a.name, c.scopes FROM consents c JOIN apps a ON a.app_id = c.app_id WHERE c.user_id = $1 ORDER BY a.name")
            .bind(user_id)
            .fetch_all(&self.store.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("app_id")?,
                    r.try_get("name")?,
                    r.try_get("scopes")?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Withdraws a person's consent to an app; the next authorization asks again.
    pub async fn withdraw_consent(
        &self,
        user_id: &str,
        app_id: &str,
        address: &str,
    ) -> crate::Result<()> {
        let Some(before) = self.consent_of(user_id, app_id).await? else {
            return Ok(());
        };
        let mut tx = self.store.pool.begin().await?;
        sqlx::query("DELETE FROM consents WHERE user_id = $1 AND app_id = $2")
            .bind(user_id)
            .bind(app_id)
            .execute(&mut *tx)
            .await?;
        let change = ("scopes".into(), Some(before.join(" ")), None);
        self.audit_consent(
            &mut tx,
            "consent.withdraw",
            user_id,
            app_id,
            Some(address),
            change,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_go_in_the_query_or_the_fragment() {
        assert_eq!(
            with_params(
                "https://c.example/cb",
                false,
                &[("code", Some("a b")), ("state", None)]
            ),
            "https://c.example/cb?code=a%20b"
        );
        assert_eq!(
            with_params("https://c.example/cb?x=1", false, &[("code", Some("c"))]),
            "https://c.example/cb?x=1&code=c"
        );
        assert_eq!(
            with_params(
                "https://c.example/cb",
                true,
                &[("access_token", Some("t")), ("state", Some("s"))]
            ),
            "https://c.example/cb#access_token=t&state=s"
        );
    }
}
