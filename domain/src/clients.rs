//! Client authentication at an app's endpoints, with a keyed cache of recent successful secret
//! verifications so a client that proved its secret does not pay Argon2id on every request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::apps::{App, ClientIdType};
use crate::error::{AuthError, OAuthError, OAuthErrorCode};
use crate::tokens::sha256_hex;
use crate::Services;

/// How long a cached verification (and an app) is trusted before it is re-checked against the
/// database. A secret changed on another instance is refused after at most this long; on this
/// instance the change invalidates at once.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const MAX_ENTRIES: usize = 50_000;

/// What the client sent to authenticate.
#[derive(Clone, Debug, Default)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// The credentials came in an HTTP Basic header (the error then carries a challenge).
    pub via_basic: bool,
    /// A `private_key_jwt` client assertion (RFC 7523 §2.2) instead of a secret.
    pub assertion: Option<String>,
    /// The endpoint called (`token`, `introspect`, `revoke`): an assertion's `aud` may name
    /// its URL.
    pub endpoint: &'static str,
}

/// What a `client_assertion` must say (RFC 7523 §3).
#[derive(serde::Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    exp: i64,
    jti: String,
}

/// How far in the future an assertion's `exp` may be: it is meant for one request.
const ASSERTION_MAX_LIFETIME: i64 = 300;

/// The algorithms a client may sign an assertion with (never `none` or an HMAC).
const ASSERTION_ALGORITHMS: [jsonwebtoken::Algorithm; 6] = [
    jsonwebtoken::Algorithm::RS256,
    jsonwebtoken::Algorithm::PS256,
    jsonwebtoken::Algorithm::ES256,
    jsonwebtoken::Algorithm::ES384,
    jsonwebtoken::Algorithm::EdDSA,
    jsonwebtoken::Algorithm::RS512,
];

/// An authenticated client of an app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Client {
    /// A confidential-client user that proved its secret.
    Confidential {
        user_id: String,
        login_name: String,
        roles: Vec<String>,
    },
    /// A public client (Client ID Type anything or list): only its id.
    Public { client_id: String },
    /// A client registered with the app (Client ID Type registered), authenticated as its
    /// record says; `grant_types` are the ones it registered.
    Registered {
        client_id: String,
        grant_types: Vec<String>,
        /// It authenticates without a secret (`none`): PKCE stands in for one.
        public: bool,
    },
}

impl Client {
    pub fn client_id(&self) -> &str {
        match self {
            Client::Confidential { login_name, .. } => login_name,
            Client::Public { client_id } => client_id,
            Client::Registered { client_id, .. } => client_id,
        }
    }
}

#[derive(Clone)]
struct Verified {
    user_id: String,
    login_name: String,
    secret_version: i64,
    roles: Vec<String>,
    generation: u64,
    checked: Instant,
}

/// Keyed by SHA-256(login name, secret): the secret itself is never held.
#[derive(Clone, Default)]
pub struct ClientCache {
    entries: Arc<RwLock<HashMap<String, Verified>>>,
    generation: Arc<AtomicU64>,
}

impl ClientCache {
    /// Every entry must be re-checked against the database (roles changed).
    pub fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }
    /// Drops the entries of one user (secret, flags or the user changed).
    pub fn invalidate_user(&self, user_id: &str) {
        if let Ok(mut m) = self.entries.write() {
            m.retain(|_, v| v.user_id != user_id);
        }
    }
    fn key(login_lower: &str, secret: &str) -> String {
        sha256_hex(&format!("{login_lower}\u{0}{secret}"))
    }
}

/// The user-access rule of SPEC §2: a member of one of the app's roles (Everybody: anyone enabled).
pub fn has_access(app: &App, roles: &[String]) -> bool {
    app.user_access_roles.iter().any(|r| {
        let r = r.to_lowercase();
        r == "everybody" || roles.iter().any(|m| m.to_lowercase() == r)
    })
}

fn invalid_client(via_basic: bool, description: &str) -> OAuthError {
    OAuthError {
        basic_challenge: via_basic,
        ..OAuthError::new(OAuthErrorCode::InvalidClient, description)
    }
}

impl Services {
    /// Role names a user is an explicit member of, with its secret version and flags.
    async fn client_row(
        &self,
        login: &str,
    ) -> crate::Result<Option<(crate::users::UserRow, Vec<String>)>> {
        let Some(row) = self.user_row_by_login(login).await? else {
            return Ok(None);
        };
        let roles = self.role_names_of(&row.user.id).await?;
        Ok(Some((row, roles)))
    }

    /// The names of the roles a user is an explicit member of.
    pub(crate) async fn role_names_of(&self, user_id: &str) -> crate::Result<Vec<String>> {
        let names: Vec<(String,)> = sqlx::query_as(
            "SELECT r.name FROM roles r JOIN role_members m ON m.role_id = r.id WHERE m.user_id = $1",
        )
        .bind(user_id)
        .fetch_all(&self.store.pool)
        .await?;
        Ok(names.into_iter().map(|(n,)| n).collect())
    }

    /// Authenticates the client of a request to `app`'s endpoints. Confidential apps need a
    /// confidential-client user whose secret verifies; public apps (anything/list) take the
    /// `client_id` alone. Errors are `invalid_client`, whatever was wrong.
    pub async fn authenticate_client(
        &self,
        app: &App,
        creds: &ClientCredentials,
        client_addr: &str,
    ) -> Result<Client, OAuthError> {
        self.authenticate_client_as(app, app.client_id_type, creds, client_addr)
            .await
    }

    /// As `authenticate_client`, with `id_type` in place of the app's Client ID Type.
    async fn authenticate_client_as(
        &self,
        app: &App,
        id_type: ClientIdType,
        creds: &ClientCredentials,
        client_addr: &str,
    ) -> Result<Client, OAuthError> {
        let Some(client_id) = creds
            .client_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        else {
            return Err(invalid_client(
                creds.via_basic,
                "client authentication is required",
            ));
        };
        if id_type == ClientIdType::Registered {
            return self.verify_registered(app, client_id, creds).await;
        }
        if let (ClientIdType::Confidential, Some(assertion)) = (id_type, creds.assertion.as_deref())
        {
            return self
                .verify_assertion(app, client_id, assertion, creds.endpoint, client_addr)
                .await;
        }
        match (id_type, creds.client_secret.as_deref()) {
            (ClientIdType::Confidential, Some(secret)) => {
                self.verify_confidential(client_id, secret, creds.via_basic, client_addr)
                    .await
            }
            (ClientIdType::Confidential, None) => Err(invalid_client(
                creds.via_basic,
                "client authentication failed",
            )),
            (ClientIdType::Registered, _) => {
                Err(invalid_client(creds.via_basic, "unknown client_id"))
            }
            (ClientIdType::Anything, _) => Ok(Client::Public {
                client_id: client_id.to_string(),
            }),
            (ClientIdType::List, _) => {
                let allowed = app.allowed_clients.iter().any(|c| {
                    crate::tokens::constant_time_eq(&c.to_lowercase(), &client_id.to_lowercase())
                });
                if allowed {
                    Ok(Client::Public {
                        client_id: client_id.to_string(),
                    })
                } else {
                    Err(invalid_client(creds.via_basic, "unknown client_id"))
                }
            }
        }
    }

    /// Authenticates a client of `app` for introspection and revocation: a confidential client
    /// must also be in one of the app's User Access roles, else it is `invalid_client` (401) — a
    /// client of another app learns nothing about this app's tokens.
    /// `id_type` is the app's Client ID Type, or `Confidential` where only a confidential
    /// client may call (introspection).
    pub async fn authenticate_app_client(
        &self,
        app: &App,
        id_type: ClientIdType,
        creds: &ClientCredentials,
        client_addr: &str,
    ) -> Result<Client, OAuthError> {
        let client = self
            .authenticate_client_as(app, id_type, creds, client_addr)
            .await?;
        if let Client::Confidential { roles, .. } = &client {
            if !has_access(app, roles) {
                return Err(invalid_client(
                    creds.via_basic,
                    "the client is not a client of this application",
                ));
            }
        }
        Ok(client)
    }

    /// Verifies a confidential client's secret: from the cache when it was proven recently,
    /// otherwise with Argon2id (throttled like sign-in).
    pub async fn verify_confidential(
        &self,
        client_id: &str,
        secret: &str,
        via_basic: bool,
        client_addr: &str,
    ) -> Result<Client, OAuthError> {
        // The throttle comes before the cache: a locked account (or address) is refused even
        // when this very secret was proven before the lockout began.
        let (login_lower, keys) = self.unless_blocked(client_id, client_addr)?;
        let key = ClientCache::key(&login_lower, secret);
        let generation = self.clients.generation.load(Ordering::Relaxed);
        let cached = self
            .clients
            .entries
            .read()
            .ok()
            .and_then(|m| m.get(&key).cloned());
        if let Some(v) = cached {
            if v.generation == generation && v.checked.elapsed() < CACHE_TTL {
                crate::counters::cache_lookup(crate::counters::Cache::ClientSecret, true);
                return Ok(Client::Confidential {
                    user_id: v.user_id,
                    login_name: v.login_name,
                    roles: v.roles,
                });
            }
            // Stale: re-read the user and the throttle (no Argon2), so a change or a lockout made
            // on another instance is seen within CACHE_TTL; keep the entry if nothing changed.
            self.throttle_check(&keys).await?;
            if let Some((row, roles)) = self.client_row(&login_lower).await? {
                if row.secret_version == v.secret_version
                    && row.user.enabled
                    && row.user.is_oauth_confidential_client
                {
                    return Ok(self.remember(key, row, roles, generation));
                }
            }
            if let Ok(mut m) = self.clients.entries.write() {
                m.remove(&key);
            }
        }
        crate::counters::cache_lookup(crate::counters::Cache::ClientSecret, false);
        // Identical concurrent attempts (a client starting many requests at once with a cold
        // cache) share one Argon2 run and count as one attempt.
        let flight =
            crate::signin::attempt_key(&login_lower, secret, &format!("{client_addr}|{via_basic}"));
        self.client_flights
            .run(flight, || async {
                self.verify_secret_once(&login_lower, secret, via_basic, &keys, key, generation)
                    .await
            })
            .await
    }

    /// One verification of a client's secret with Argon2: counted first, refused at once when
    /// the hashing queue is full (and then not counted).
    async fn verify_secret_once(
        &self,
        login_lower: &str,
        secret: &str,
        via_basic: bool,
        keys: &crate::throttle::AttemptKeys,
        key: String,
        generation: u64,
    ) -> Result<Client, OAuthError> {
        if !self.hasher.has_room() {
            return Err(AuthError::Busy.into());
        }
        self.throttle_begin(keys).await?;
        let found = self.client_row(login_lower).await?;
        let hash = found.as_ref().map(|(r, _)| r.password_hash.clone());
        let Ok(ok) = self.hasher.verify(secret.to_string(), hash).await else {
            self.throttle_unverified(keys).await?;
            return Err(AuthError::Busy.into());
        };
        match found {
            Some((row, roles))
                if ok && row.user.enabled && row.user.is_oauth_confidential_client =>
            {
                self.throttle_succeeded(keys).await?;
                Ok(self.remember(key, row, roles, generation))
            }
            // The attempt was counted before it was verified.
            _ => Err(invalid_client(via_basic, "client authentication failed")),
        }
    }

    /// Verifies a `private_key_jwt` client assertion (RFC 7523 §2.2, §3): signed by a key of the
    /// client's registered JWK set, `iss` = `sub` = the client id, `aud` naming this app (its
    /// issuer or the endpoint called), `exp` within five minutes, and a `jti` never seen before
    /// (the replay store is the database, shared by every instance). Throttled like secrets.
    async fn verify_assertion(
        &self,
        app: &App,
        client_id: &str,
        assertion: &str,
        endpoint: &'static str,
        client_addr: &str,
    ) -> Result<Client, OAuthError> {
        let (login_lower, _) = self.unless_blocked(client_id, client_addr)?;
        // A signature cannot be guessed: its failures count against the sending address only,
        // never against the client (which a stranger could otherwise lock out).
        let keys = crate::throttle::AttemptKeys::address(client_addr);
        self.throttle_begin(&keys).await?;
        let fail = |why: &str| {
            tracing::info!(client_id, why, "client assertion refused");
            invalid_client(false, "client authentication failed")
        };
        let Some((row, roles)) = self.client_row(&login_lower).await? else {
            return Err(fail("unknown client"));
        };
        if !row.user.enabled || !row.user.is_oauth_confidential_client {
            return Err(fail("not an enabled confidential client"));
        }
        let Some(jwks) = row.jwks.as_deref() else {
            return Err(fail("the client has no registered keys"));
        };
        if let Err(why) = self
            .check_assertion(app, &login_lower, jwks, assertion, endpoint)
            .await?
        {
            return Err(fail(why));
        }
        self.throttle_succeeded(&keys).await?;
        Ok(Client::Confidential {
            user_id: row.user.id,
            login_name: row.user.login_name,
            roles,
        })
    }

    /// A client registered with `app`, authenticated the way it registered: no secret for
    /// `none`, its secret in the header or the body as it said, or (`private_key_jwt`) an
    /// assertion signed with one of its keys. Secrets are 256 random bits compared by SHA-256
    /// in constant time, so no guessing throttle is needed and no Argon2 runs here.
    async fn verify_registered(
        &self,
        app: &App,
        client_id: &str,
        creds: &ClientCredentials,
    ) -> Result<Client, OAuthError> {
        let fail = || invalid_client(creds.via_basic, "client authentication failed");
        let Some(c) = self.app_client(app, client_id).await? else {
            return Err(fail());
        };
        let ok = match c.metadata.token_endpoint_auth_method.as_str() {
            "none" => creds.client_secret.is_none() && creds.assertion.is_none(),
            "client_secret_basic" => {
                creds.via_basic
                    && creds
                        .client_secret
                        .as_deref()
                        .is_some_and(|s| c.secret_matches(s))
            }
            "client_secret_post" => {
                !creds.via_basic
                    && creds
                        .client_secret
                        .as_deref()
                        .is_some_and(|s| c.secret_matches(s))
            }
            "private_key_jwt" => match (creds.assertion.as_deref(), &c.metadata.jwks) {
                (Some(a), Some(jwks)) => self
                    .check_assertion(
                        app,
                        &client_id.to_lowercase(),
                        &jwks.to_string(),
                        a,
                        creds.endpoint,
                    )
                    .await?
                    .is_ok(),
                _ => false,
            },
            _ => false,
        };
        if !ok {
            return Err(fail());
        }
        if !c.document {
            self.touch_registered(&c).await?;
        }
        Ok(Client::Registered {
            public: c.metadata.token_endpoint_auth_method == "none",
            grant_types: c.metadata.grant_types,
            client_id: c.client_id,
        })
    }

    /// Checks a `private_key_jwt` assertion (RFC 7523 §3) of client `login_lower` against its
    /// public keys `jwks`: signature, audience (the issuer or the endpoint), lifetime, and a
    /// `jti` used once on every instance. `Ok(Err(why))` is a refusal.
    async fn check_assertion(
        &self,
        app: &App,
        login_lower: &str,
        jwks: &str,
        assertion: &str,
        endpoint: &'static str,
    ) -> Result<Result<(), &'static str>, OAuthError> {
        let Ok(set) = serde_json::from_str::<jsonwebtoken::jwk::JwkSet>(jwks) else {
            return Ok(Err("stored keys unreadable"));
        };
        let Ok(header) = jsonwebtoken::decode_header(assertion) else {
            return Ok(Err("malformed"));
        };
        if !ASSERTION_ALGORITHMS.contains(&header.alg) {
            return Ok(Err("algorithm not allowed"));
        }
        let jwk = match &header.kid {
            Some(kid) => set.find(kid),
            None if set.keys.len() == 1 => set.keys.first(),
            None => None,
        };
        let Some(jwk) = jwk else {
            return Ok(Err("no registered key for the assertion"));
        };
        let Ok(key) = jsonwebtoken::DecodingKey::from_jwk(jwk) else {
            return Ok(Err("unusable key"));
        };
        let mut v = jsonwebtoken::Validation::new(header.alg);
        let url = |e: &str| format!("{}/oauth2/{e}/{}", self.public_url, app.app_id);
        let mut audiences = vec![app.issuer.clone(), url("token")];
        if !endpoint.is_empty() && endpoint != "token" {
            audiences.push(url(endpoint));
        }
        v.set_audience(&audiences);
        v.set_required_spec_claims(&["iss", "sub", "aud", "exp", "jti"]);
        v.leeway = 30;
        let Ok(claims) = jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &v) else {
            return Ok(Err("signature, audience or lifetime not valid"));
        };
        let claims = claims.claims;
        if !claims.iss.eq_ignore_ascii_case(login_lower)
            || !claims.sub.eq_ignore_ascii_case(login_lower)
        {
            return Ok(Err("iss and sub must be the client id"));
        }
        let t = crate::clock::now();
        if claims.exp > t + ASSERTION_MAX_LIFETIME {
            return Ok(Err("exp is more than five minutes away"));
        }
        if claims.jti.is_empty() || claims.jti.len() > 256 {
            return Ok(Err("jti missing or too long"));
        }
        // The first instance to store this jti wins; any later use is a replay.
        let first = self
            .first_use(
                sha256_hex(&format!("{login_lower}\u{0}{}", claims.jti)),
                claims.exp.max(t) + 60,
            )
            .await
            .map_err(OAuthError::internal)?;
        if !first {
            return Ok(Err("the assertion was used before (replay)"));
        }
        Ok(Ok(()))
    }

    /// The client's throttling keys, or the refusal when its account or address is locked.
    fn unless_blocked(
        &self,
        client_id: &str,
        client_addr: &str,
    ) -> Result<(String, crate::throttle::AttemptKeys), OAuthError> {
        let login_lower = client_id.to_lowercase();
        let keys = crate::throttle::AttemptKeys::client(&login_lower, client_addr);
        match self.blocks.blocked(&keys) {
            Some(secs) => Err(AuthError::Throttled(secs).into()),
            None => Ok((login_lower, keys)),
        }
    }

    /// Caches a proven secret and answers with the client it proves.
    fn remember(
        &self,
        key: String,
        row: crate::users::UserRow,
        roles: Vec<String>,
        generation: u64,
    ) -> Client {
        if let Ok(mut m) = self.clients.entries.write() {
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.insert(
                key,
                Verified {
                    user_id: row.user.id.clone(),
                    login_name: row.user.login_name.clone(),
                    secret_version: row.secret_version,
                    roles: roles.clone(),
                    generation,
                    checked: Instant::now(),
                },
            );
        }
        Client::Confidential {
            user_id: row.user.id,
            login_name: row.user.login_name,
            roles,
        }
    }
}
