//! The device authorization grant (RFC 8628, SPEC §3c): a device without a browser (a TV, a
//! CLI, `step ssh login`) asks `POST /oauth2/device/{app}` for a device code and a user code; a
//! person opens `/device`, signs in (with their second factor, when they have one), types the
//! user code, sees the app and the scopes, and approves or denies; meanwhile the device polls
//! the token endpoint with the device code.
//!
//! - The device code is 256 random bits, stored as SHA-256, used once.
//! - The user code is 8 consonants (`BCDFGHJKLMNPQRSTVWXZ`, shown `XXXX-XXXX`, read without
//!   the dash and in any case): 20^8 ≈ 2^34.6, valid 10 minutes, and each wrong code a person
//!   types counts against their address with the sign-in throttle.
//! - Polling faster than the interval answers `slow_down` and adds 5 s to it (§3.5).

use serde::Serialize;
use sqlx::Row;

use super::grants::{resolve_scopes, Grant};
use crate::apps::{App, AuthMethod, ClientIdType};
use crate::clients::{has_access, Client, ClientCredentials};
use crate::clock::now;
use crate::error::{AuthError, OAuthError, OAuthErrorCode};
use crate::oidc::SignIn;
use crate::throttle::AttemptKeys;
use crate::tokens::{random_token, sha256_hex};
use crate::Services;

/// How long a device code lives.
pub const LIFETIME_SECS: i64 = 600;
/// The first polling interval.
pub const INTERVAL_SECS: i64 = 5;
/// The device grant's `grant_type`.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// RFC 8628 §3.2: what the device is told.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// What the /device page shows a person about a pending request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRequest {
    /// As shown: `XXXX-XXXX`.
    pub user_code: String,
    pub app_name: String,
    pub client_id: String,
    /// (name, description) of each scope asked for.
    pub scopes: Vec<(String, String)>,
}

/// A person's decision on /device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceDecision {
    Approved,
    Denied,
    /// Unknown, expired or decided already.
    Gone,
    /// The app requires a second factor this sign-in has not given.
    NeedsSecondFactor,
    /// The person may not use the app.
    NotAllowed,
}

/// A typed user code as stored (8 letters, upper case), if it can be one.
pub fn normalise_user_code(typed: &str) -> Option<String> {
    let c: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .flat_map(char::to_uppercase)
        .collect();
    (c.len() == 8 && c.bytes().all(|b| ALPHABET.contains(&b))).then_some(c)
}

/// `ABCDEFGH` as `ABCD-EFGH`.
pub fn display_user_code(code: &str) -> String {
    match (code.get(..4), code.get(4..)) {
        (Some(a), Some(b)) => format!("{a}-{b}"),
        _ => code.to_string(),
    }
}

fn new_user_code() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..8)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn unauthorized() -> OAuthError {
    OAuthError::new(OAuthErrorCode::UnauthorizedClient, "auth mode not allowed")
}

impl Services {
    /// `POST /oauth2/device/{app}`: the client (authenticated as at the token endpoint) asks for
    /// a device code for `scope` and `resources`.
    pub async fn device_authorization(
        &self,
        app_id: &str,
        creds: &ClientCredentials,
        scope: Option<&str>,
        resources: &[String],
        addr: &str,
    ) -> Result<DeviceAuthorization, OAuthError> {
        let app = self.app_or_404(app_id).await?;
        let client = self.authenticate_client(&app, creds, addr).await?;
        if !app.allows(AuthMethod::DeviceCode) {
            return Err(unauthorized());
        }
        match &client {
            Client::Confidential { roles, .. } if !has_access(&app, roles) => {
                return Err(OAuthError::new(
                    OAuthErrorCode::UnauthorizedClient,
                    "the client is in none of the app's User Access roles",
                ))
            }
            Client::Registered { grant_types, .. }
                if !grant_types.iter().any(|g| g == GRANT_TYPE) =>
            {
                return Err(unauthorized())
            }
            _ => {}
        }
        let scopes = resolve_scopes(&app, scope)?;
        let resources = super::resources::requested(&app, resources, None)?;
        let device_code = random_token(32);
        let t = now();
        // A clash with a pending user code (about one in 2^34 per pending request) draws again.
        let mut user_code = new_user_code();
        for attempt in 0..5 {
            let inserted = sqlx::query(
                "INSERT INTO device_codes (device_code_hash, user_code, app_id, client_id, scope, resources, status, poll_interval, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9)",
            )
            .bind(sha256_hex(&device_code))
            .bind(&user_code)
            .bind(&app.app_id)
            .bind(client.client_id())
            .bind(scopes.join(" "))
            .bind(super::resources::stored(&resources))
            .bind(INTERVAL_SECS)
            .bind(t)
            .bind(t + LIFETIME_SECS)
            .execute(&self.store.writer)
            .await;
            match inserted {
                Ok(_) => break,
                Err(e) if attempt < 4 && crate::store::is_unique_violation(&e) => {
                    // An expired request may still hold the code: make room, then draw again.
                    sqlx::query(
                        "DELETE FROM device_codes WHERE user_code = $1 AND expires_at < $2",
                    )
                    .bind(&user_code)
                    .bind(t)
                    .execute(&self.store.writer)
                    .await
                    .map_err(OAuthError::internal)?;
                    user_code = new_user_code();
                }
                Err(e) => return Err(OAuthError::internal(e)),
            }
        }
        let shown = display_user_code(&user_code);
        let verification_uri = format!("{}/device", self.public_url);
        Ok(DeviceAuthorization {
            device_code,
            verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
            verification_uri,
            user_code: shown,
            expires_in: LIFETIME_SECS,
            interval: INTERVAL_SECS,
        })
    }

    /// The pending request a person's typed `user_code` names. Each code that names none
    /// counts against the address like a failed sign-in (guessing is throttled).
    pub async fn device_request(
        &self,
        typed: &str,
        addr: &str,
    ) -> Result<Option<DeviceRequest>, AuthError> {
        let keys = AttemptKeys::address(addr);
        if let Some(secs) = self.blocks.blocked(&keys) {
            return Err(AuthError::Throttled(secs));
        }
        let Some(code) = normalise_user_code(typed) else {
            return Ok(None);
        };
        self.throttle_begin(&keys).await?;
        let row = sqlx::query(
            "SELECT app_id, client_id, scope FROM device_codes WHERE user_code = $1 AND status = 'pending' AND expires_at > $2",
        )
        .bind(&code)
        .bind(now())
        .fetch_optional(&self.store.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        self.throttle_succeeded(&keys).await?;
        let app_id: String = row.try_get("app_id")?;
        let Some((app, _)) = self
            .cached_app(&app_id)
            .await
            .map_err(|e| AuthError::Domain(crate::DomainError::Internal(e.description)))?
        else {
            return Ok(None);
        };
        let scope: String = row.try_get("scope")?;
        Ok(Some(DeviceRequest {
            user_code: display_user_code(&code),
            app_name: app.name.clone(),
            client_id: row.try_get("client_id")?,
            scopes: scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(|s| (s.to_string(), crate::oidc::scope_description(&app, s)))
                .collect(),
        }))
    }

    /// The signed-in person (`sign_in` says how) approves or denies the request `user_code`.
    pub async fn device_decide(
        &self,
        typed: &str,
        user_id: &str,
        approve: bool,
        sign_in: &SignIn,
    ) -> crate::Result<DeviceDecision> {
        let Some(code) = normalise_user_code(typed) else {
            return Ok(DeviceDecision::Gone);
        };
        let app_id: Option<String> = sqlx::query_scalar(
            "SELECT app_id FROM device_codes WHERE user_code = $1 AND status = 'pending' AND expires_at > $2",
        )
        .bind(&code)
        .bind(now())
        .fetch_optional(&self.store.pool)
        .await?;
        let Some(app_id) = app_id else {
            return Ok(DeviceDecision::Gone);
        };
        let Some((app, _)) = self
            .cached_app(&app_id)
            .await
            .map_err(|e| crate::DomainError::Internal(e.description))?
        else {
            return Ok(DeviceDecision::Gone);
        };
        if approve {
            if !self
                .user_may_use(&app, user_id)
                .await
                .map_err(|e| crate::DomainError::Internal(e.description))?
            {
                return Ok(DeviceDecision::NotAllowed);
            }
            if app.require_mfa
                && !sign_in
                    .amr
                    .iter()
                    .any(|m| m == model::factors::amr::MULTI_FACTOR)
            {
                return Ok(DeviceDecision::NeedsSecondFactor);
            }
        }
        let status = if approve { "approved" } else { "denied" };
        let done = sqlx::query(
            "UPDATE device_codes SET status = $1, user_id = $2, auth_time = $3, amr = $4 \
             WHERE user_code = $5 AND status = 'pending' AND expires_at > $6",
        )
        .bind(status)
        .bind(user_id)
        .bind(sign_in.auth_time)
        .bind(sign_in.amr_text())
        .bind(&code)
        .bind(now())
        .execute(&self.store.writer)
        .await?
        .rows_affected();
        Ok(match (done, approve) {
            (0, _) => DeviceDecision::Gone,
            (_, true) => DeviceDecision::Approved,
            (_, false) => DeviceDecision::Denied,
        })
    }

    /// The token endpoint's device grant: pending (and how fast the device polls), denied,
    /// expired, or approved — then the grant, once.
    pub(crate) async fn device_grant(
        &self,
        app: &std::sync::Arc<App>,
        client: &Client,
        device_code: Option<&str>,
    ) -> Result<Grant, OAuthError> {
        let device_code = device_code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthError::request("device_code is required"))?;
        let hash = sha256_hex(device_code);
        let row = sqlx::query(
            "SELECT app_id, client_id, scope, resources, status, user_id, auth_time, amr, poll_interval, last_polled_at, expires_at \
             FROM device_codes WHERE device_code_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&self.store.pool)
        .await
        .map_err(OAuthError::internal)?;
        let Some(row) = row else {
            return Err(OAuthError::grant("unknown device_code"));
        };
        let get = |c: &str| -> Result<Option<String>, OAuthError> {
            row.try_get(c).map_err(OAuthError::internal)
        };
        let int = |c: &str| -> Result<Option<i64>, OAuthError> {
            row.try_get(c).map_err(OAuthError::internal)
        };
        if get("app_id")?.as_deref() != Some(app.app_id.as_str())
            || get("client_id")?.as_deref() != Some(client.client_id())
        {
            return Err(OAuthError::grant(
                "the device_code was issued to another client",
            ));
        }
        let t = now();
        if int("expires_at")?.unwrap_or(0) <= t {
            return Err(OAuthError::new(
                OAuthErrorCode::ExpiredToken,
                "the device code expired; start again",
            ));
        }
        match get("status")?.as_deref() {
            Some("pending") => {
                let interval = int("poll_interval")?.unwrap_or(INTERVAL_SECS);
                let too_soon = int("last_polled_at")?.is_some_and(|last| t - last < interval);
                let next = if too_soon { interval + 5 } else { interval };
                sqlx::query(
                    "UPDATE device_codes SET last_polled_at = $1, poll_interval = $2 WHERE device_code_hash = $3",
                )
                .bind(t)
                .bind(next)
                .bind(&hash)
                .execute(&self.store.writer)
                .await
                .map_err(OAuthError::internal)?;
                Err(if too_soon {
                    OAuthError::new(
                        OAuthErrorCode::SlowDown,
                        format!("poll at most every {next} seconds"),
                    )
                } else {
                    OAuthError::new(
                        OAuthErrorCode::AuthorizationPending,
                        "the person has not decided yet",
                    )
                })
            }
            Some("denied") => {
                sqlx::query("DELETE FROM device_codes WHERE device_code_hash = $1")
                    .bind(&hash)
                    .execute(&self.store.writer)
                    .await
                    .map_err(OAuthError::internal)?;
                Err(OAuthError::new(
                    OAuthErrorCode::AccessDenied,
                    "the person denied the request",
                ))
            }
            Some("approved") => {
                // Single use: the first poll after the approval takes it.
                let taken = sqlx::query(
                    "DELETE FROM device_codes WHERE device_code_hash = $1 AND status = 'approved'",
                )
                .bind(&hash)
                .execute(&self.store.writer)
                .await
                .map_err(OAuthError::internal)?
                .rows_affected();
                if taken != 1 {
                    return Err(OAuthError::grant("the device_code was used already"));
                }
                let user_id = get("user_id")?.unwrap_or_default();
                let user = match self.user_row_by_id(&user_id).await? {
                    Some(u) if u.user.enabled => u.user,
                    _ => return Err(OAuthError::grant("the person is disabled or gone")),
                };
                if !self.user_may_use(app, &user_id).await? {
                    return Err(OAuthError::grant(
                        "the person may no longer use this application",
                    ));
                }
                let scopes = get("scope")?
                    .unwrap_or_default()
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                Ok(Grant {
                    app: app.clone(),
                    client_id: client.client_id().to_string(),
                    user_id,
                    username: Some(user.login_name),
                    scopes,
                    family: Some(random_token(12)),
                    sign_in: Some(SignIn {
                        auth_time: int("auth_time")?.unwrap_or(t),
                        nonce: None,
                        amr: SignIn::amr_of(get("amr")?.as_deref()),
                    }),
                    resources: super::resources::parse_stored(get("resources")?.as_deref()),
                    act: None,
                    dpop: Default::default(),
                })
            }
            _ => Err(OAuthError::internal("a device code with an unknown status")),
        }
    }
}

/// Whether an app's clients may use the device flow at all (for the metadata).
pub fn offered(app: &App) -> bool {
    app.allows(AuthMethod::DeviceCode) && app.client_id_type != ClientIdType::Registered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_consonants_read_leniently() {
        for _ in 0..100 {
            let c = new_user_code();
            assert_eq!(c.len(), 8);
            assert!(!c.chars().any(|x| "AEIOUY".contains(x)), "{c}");
            assert_eq!(normalise_user_code(&display_user_code(&c)), Some(c.clone()));
            assert_eq!(normalise_user_code(&c.to_lowercase()), Some(c));
        }
        assert_eq!(normalise_user_code("bcdf-ghjk"), Some("BCDFGHJK".into()));
        assert_eq!(normalise_user_code(" BCDF GHJK "), Some("BCDFGHJK".into()));
        assert_eq!(normalise_user_code("BCDF-GHJ"), None);
        assert_eq!(
            normalise_user_code("ABCD-EFGH"),
            None,
            "vowels are never in a code"
        );
        assert_eq!(display_user_code("BCDFGHJK"), "BCDF-GHJK");
    }
}
