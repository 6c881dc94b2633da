//! OpenID Connect (SPEC §3a) on top of the OAuth2 flows: the standard scopes every app accepts,
//! ID tokens (Core 1.0 §2, §3.1.3.6), UserInfo (§5.3), the authorize request's `prompt`,
//! `max_age` and `login_hint` (§3.1.2.1) and RP-initiated logout.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

use crate::apps::App;
use crate::error::OAuthError;
use crate::keys::algorithm_of;
use crate::names::RedirectUri;
use crate::users::User;
use crate::Services;

/// The scopes every app accepts without defining them, with what they mean in plain words (the
/// consent page shows these).
pub const STANDARD_SCOPES: [(&str, &str); 3] = [
    ("openid", "Sign you in with your account (your user id)"),
    ("profile", "Your name and login name"),
    ("email", "Your email address"),
];

pub fn is_standard_scope(name: &str) -> bool {
    STANDARD_SCOPES.iter().any(|(n, _)| *n == name)
}

/// What a scope means, for the consent page: the app's own description when it defines the
/// scope, otherwise the standard scope's.
pub fn scope_description(app: &App, name: &str) -> String {
    match app.scope(name) {
        Some(s) => s.description.clone(),
        None => STANDARD_SCOPES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| d.to_string())
            .unwrap_or_default(),
    }
}

fn has(scopes: &[String], name: &str) -> bool {
    scopes.iter().any(|s| s == name)
}

/// The sign-in an ID token speaks of: when the person authenticated, and the client's nonce.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignIn {
    pub auth_time: i64,
    pub nonce: Option<String>,
    /// How the person proved who they are (RFC 8176: `pwd`, `otp`, `hwk`, `mfa`); empty when
    /// not known (a sign-in from before second factors).
    pub amr: Vec<String>,
}

impl SignIn {
    /// `amr` as stored with codes and tokens (space-separated), None when unknown.
    pub fn amr_text(&self) -> Option<String> {
        (!self.amr.is_empty()).then(|| self.amr.join(" "))
    }
    /// `amr` read back from its stored form.
    pub fn amr_of(stored: Option<&str>) -> Vec<String> {
        stored
            .unwrap_or_default()
            .split(' ')
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// The claims about the person that `profile` and `email` release (ID token and UserInfo).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PersonClaims {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    /// True once the person proved the address (a verification or password-reset link); an
    /// address an administrator typed is not verified.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email_verified: Option<bool>,
}

impl PersonClaims {
    pub fn of(user: &User, scopes: &[String]) -> Self {
        let mut c = PersonClaims::default();
        if has(scopes, "profile") {
            let name = if user.display_name.trim().is_empty() {
                &user.login_name
            } else {
                &user.display_name
            };
            c.name = Some(name.clone());
            c.preferred_username = Some(user.login_name.clone());
        }
        if has(scopes, "email") && !user.email.is_empty() {
            c.email = Some(user.email.clone());
            c.email_verified = Some(user.email_verified);
        }
        c
    }
}

/// ID token claims (Core 1.0 §2).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub at_hash: Option<String>,
    /// How the person signed in, and what that is worth (`1` one factor, `2` two).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub amr: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub acr: Option<String>,
    pub azp: String,
    #[serde(flatten)]
    pub person: PersonClaims,
}

/// `at_hash` (Core 1.0 §3.1.3.6): the left half of the access token's hash, with the hash of the
/// ID token's algorithm (SHA-512 for Ed25519, as node-oidc-provider and other providers do).
pub fn at_hash(alg: Algorithm, access_token: &str) -> String {
    let digest: Vec<u8> = match alg {
        Algorithm::EdDSA => Sha512::digest(access_token.as_bytes()).to_vec(),
        _ => Sha256::digest(access_token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// The authorize request's OpenID parameters, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

impl Prompt {
    /// `prompt` is a space-separated list; `none` with anything else is invalid (§3.1.2.1).
    pub fn parse(s: Option<&str>) -> Result<Self, &'static str> {
        let mut p = Prompt::default();
        for v in s.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
            match v {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                "select_account" => {}
                _ => return Err("prompt must be none, login, consent or select_account"),
            }
        }
        if p.none && (p.login || p.consent) {
            return Err("prompt=none cannot be combined with other values");
        }
        Ok(p)
    }
}

/// What RP-initiated logout decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// A bad request: show this message, never redirect.
    ErrorPage(String),
    /// Ask the person to confirm (no valid `id_token_hint`); then end the session and go to
    /// `redirect` (None: Gatehouse's own signed-out page).
    Confirm {
        app_name: String,
        redirect: Option<String>,
    },
    /// End the session now and go to `redirect`.
    Done { redirect: Option<String> },
}

/// The path of an issuer URL (`https://h/a/b/` → `/a/b`), without a trailing slash.
fn issuer_path(issuer: &str) -> &str {
    let rest = issuer.split_once("://").map_or(issuer, |(_, r)| r);
    rest.find('/')
        .map_or("", |i| &rest[i..])
        .trim_end_matches('/')
}

impl Services {
    /// The app whose overridden issuer has this path (its discovery document is served at
    /// `{issuer path}/.well-known/openid-configuration`, SPEC §3a).
    pub async fn app_id_by_issuer_path(&self, path: &str) -> crate::Result<Option<String>> {
        let path = path.trim_end_matches('/');
        if path.is_empty() {
            return Ok(None);
        }
        let index = match self.apps.issuer_index() {
            Some(index) => index,
            None => {
                let generation = self.apps.index_generation();
                let rows: Vec<(String, String)> =
                    sqlx::query_as("SELECT app_id, issuer FROM apps WHERE issuer IS NOT NULL")
                        .fetch_all(&self.store.pool)
                        .await?;
                let index: std::collections::HashMap<String, String> = rows
                    .into_iter()
                    .map(|(id, issuer)| (issuer_path(&issuer).to_string(), id))
                    .collect();
                let index = std::sync::Arc::new(index);
                self.apps.put_issuer_index(index.clone(), generation);
                index
            }
        };
        Ok(index.get(path).cloned())
    }

    /// Signs an ID token for `user` in `app`, issued to `client_id`.
    pub(crate) async fn id_token(
        &self,
        app: &App,
        client_id: &str,
        user: &User,
        scopes: &[String],
        sign_in: &SignIn,
        access_token: Option<&str>,
    ) -> Result<String, OAuthError> {
        let now = crate::clock::now();
        let alg = algorithm_of(app.token_type);
        let ring = self.key_ring().await?;
        let key = ring
            .signer(alg)
            .ok_or_else(|| OAuthError::internal(format!("no active {alg:?} signing key")))?;
        let mut header = Header::new(alg);
        header.kid = Some(key.kid().to_string());
        let claims = IdClaims {
            iss: app.issuer.clone(),
            sub: user.id.clone(),
            aud: client_id.to_string(),
            exp: now + app.token_lifetime_secs,
            iat: now,
            auth_time: sign_in.auth_time,
            nonce: sign_in.nonce.clone(),
            at_hash: access_token.map(|t| at_hash(alg, t)),
            acr: (!sign_in.amr.is_empty()).then(|| model::factors::amr::acr(&sign_in.amr).into()),
            amr: sign_in.amr.clone(),
            azp: client_id.to_string(),
            person: PersonClaims::of(user, scopes),
        };
        key.sign(&header, &claims).map_err(OAuthError::internal)
    }

    /// `id_token_subject` for token exchange (which checks expiry and audience itself).
    pub(crate) async fn id_token_claims(
        &self,
        app: &App,
        token: &str,
    ) -> Result<Option<IdClaims>, OAuthError> {
        self.id_token_subject(app, token).await
    }

    /// The user an ID token of this app names, if the token is one this server signed for the
    /// app. Expiry is not checked: logout accepts an expired hint (RP-Initiated Logout §2).
    async fn id_token_subject(
        &self,
        app: &App,
        token: &str,
    ) -> Result<Option<IdClaims>, OAuthError> {
        let Some((alg, key)) = self.verifier_of(token).await? else {
            return Ok(None);
        };
        let mut v = Validation::new(alg);
        v.validate_exp = false;
        v.validate_aud = false;
        v.set_required_spec_claims(&["sub", "iss", "aud"]);
        v.set_issuer(&[&app.issuer]);
        Ok(jsonwebtoken::decode::<IdClaims>(token, &key, &v)
            .ok()
            .map(|d| d.claims))
    }

    /// UserInfo (Core 1.0 §5.3) for a bearer access token of `app_id` that was granted
    /// `openid`: `sub` and the claims its scopes release.
    pub async fn userinfo(
        &self,
        app_id: &str,
        presented: &crate::oauth::dpop::Presented<'_>,
    ) -> Result<UserInfo, OAuthError> {
        let Some(info) = self.inspect_token(presented.token).await? else {
            return Ok(UserInfo::InvalidToken);
        };
        if info.is_refresh || info.app_id != app_id {
            return Ok(UserInfo::InvalidToken);
        }
        if let Err(e) = self.check_presented(info.jkt.as_deref(), presented).await {
            return Ok(UserInfo::Binding(e));
        }
        let scopes: Vec<String> = info.scope.split(' ').map(str::to_string).collect();
        if !has(&scopes, "openid") {
            return Ok(UserInfo::InsufficientScope);
        }
        let Some(row) = self.user_row_by_id(&info.sub).await? else {
            return Ok(UserInfo::InvalidToken);
        };
        if !row.user.enabled {
            return Ok(UserInfo::InvalidToken);
        }
        let mut claims = serde_json::to_value(PersonClaims::of(&row.user, &scopes))
            .map_err(OAuthError::internal)?;
        if let Some(m) = claims.as_object_mut() {
            m.insert("sub".into(), serde_json::Value::String(row.user.id));
        }
        Ok(UserInfo::Claims(claims))
    }

    /// RP-initiated logout for `app_id`: checks `post_logout_redirect_uri` against the app's
    /// registered list (exactly) and the `id_token_hint`; `signed_in` is the session's user.
    pub async fn logout(
        &self,
        app_id: &str,
        id_token_hint: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        client_id: Option<&str>,
        state: Option<&str>,
        signed_in: Option<&str>,
    ) -> Result<LogoutOutcome, OAuthError> {
        let Some((app, _)) = self.cached_app(app_id).await? else {
            return Ok(LogoutOutcome::ErrorPage(
                "There is no such application.".into(),
            ));
        };
        let hint = match id_token_hint.filter(|h| !h.is_empty()) {
            Some(h) => match self.id_token_subject(&app, h).await? {
                Some(c) => Some(c),
                None => {
                    return Ok(LogoutOutcome::ErrorPage(
                        "The id_token_hint is not an ID token of this application.".into(),
                    ))
                }
            },
            None => None,
        };
        if let (Some(h), Some(c)) = (&hint, client_id.filter(|c| !c.is_empty())) {
            if !h.aud.eq_ignore_ascii_case(c) {
                return Ok(LogoutOutcome::ErrorPage(
                    "The client_id does not match the id_token_hint.".into(),
                ));
            }
        }
        let redirect = match post_logout_redirect_uri.filter(|u| !u.is_empty()) {
            Some(uri) => {
                let registered = app
                    .post_logout_redirect_uris
                    .iter()
                    .filter_map(|u| RedirectUri::parse(u).ok())
                    .any(|r| r.matches(uri));
                if !registered {
                    return Ok(LogoutOutcome::ErrorPage(
                        "The post_logout_redirect_uri is not registered for this application."
                            .into(),
                    ));
                }
                let mut to = uri.to_string();
                if let Some(s) = state {
                    to.push(if to.contains('?') { '&' } else { '?' });
                    to.push_str("state=");
                    to.push_str(&model::encode(s));
                }
                Some(to)
            }
            None => None,
        };
        // Without a hint naming the signed-in person, someone else's page could sign them out:
        // ask first (RP-Initiated Logout §2, "SHOULD ask the End-User").
        let confirmed = match (&hint, signed_in) {
            (Some(h), Some(uid)) => h.sub == uid,
            (Some(_), None) => true,
            (None, None) => true,
            (None, Some(_)) => false,
        };
        Ok(if confirmed {
            LogoutOutcome::Done { redirect }
        } else {
            LogoutOutcome::Confirm {
                app_name: app.name.clone(),
                redirect,
            }
        })
    }
}

/// What UserInfo answers.
#[derive(Clone, Debug, PartialEq)]
pub enum UserInfo {
    Claims(serde_json::Value),
    /// 401 `invalid_token` (RFC 6750).
    InvalidToken,
    /// 403 `insufficient_scope`: the token was not granted `openid`.
    InsufficientScope,
    /// 401: a valid token not presented the way its DPoP binding asks.
    Binding(crate::oauth::dpop::BindingError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_the_algorithms_hash() {
        // Expected values computed independently (Python's hashlib): SHA-256 for RS256 and
        // ES256, SHA-512 for Ed25519, the left half base64url-encoded.
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNaf77HHO";
        assert_eq!(at_hash(Algorithm::RS256, token), "eolPRAQwXLSTXC58xlGdOg");
        assert_eq!(at_hash(Algorithm::ES256, token), "eolPRAQwXLSTXC58xlGdOg");
        assert_eq!(
            at_hash(Algorithm::EdDSA, token),
            "9A9zwT0gpxxhGqzDKr4lqCd52_lk0vIQ3XImFzuDDJM"
        );
    }

    #[test]
    fn an_issuers_path_is_what_follows_its_host() {
        assert_eq!(
            issuer_path("https://id.example.com/tenants/acme/"),
            "/tenants/acme"
        );
        assert_eq!(issuer_path("http://127.0.0.1:3000/oauth2/x"), "/oauth2/x");
        assert_eq!(issuer_path("https://id.example.com"), "");
    }

    #[test]
    fn prompt_none_stands_alone() {
        assert_eq!(
            Prompt::parse(Some("login consent")),
            Ok(Prompt {
                none: false,
                login: true,
                consent: true
            })
        );
        assert!(Prompt::parse(Some("none login")).is_err());
        assert!(Prompt::parse(Some("bogus")).is_err());
        assert_eq!(Prompt::parse(None), Ok(Prompt::default()));
    }

    #[test]
    fn profile_and_email_release_only_their_claims() {
        let user = User {
            id: "u1".into(),
            login_name: "ada".into(),
            email: "ada@example.com".into(),
            display_name: "Ada Lovelace".into(),
            is_oauth_confidential_client: false,
            enabled: true,
            created_at: String::new(),
            jwks: None,
            email_verified: false,
        };
        let none = PersonClaims::of(&user, &["openid".into()]);
        assert_eq!(none, PersonClaims::default());
        let p = PersonClaims::of(&user, &["openid".into(), "profile".into()]);
        assert_eq!(p.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(p.preferred_username.as_deref(), Some("ada"));
        assert_eq!(p.email, None);
        let e = PersonClaims::of(&user, &["email".into()]);
        assert_eq!(e.email.as_deref(), Some("ada@example.com"));
        assert_eq!(e.email_verified, Some(false));
        assert_eq!(e.name, None);
        let verified = User {
            email_verified: true,
            ..user
        };
        let e = PersonClaims::of(&verified, &["email".into()]);
        assert_eq!(e.email_verified, Some(true));
    }
}
