//! Passkeys (WebAuthn Level 2, SPEC §6a) with webauthn-rs: a person adds discoverable
//! credentials on their security page, and signs in with one alone ("Sign in with a passkey")
//! or uses one as the second step after their password.
//!
//! A ceremony has two steps (the browser talks to the authenticator in between). Its state is
//! kept in the database (`webauthn_ceremonies`, as Rauthy does), under the SHA-256 of a random
//! id handed to the browser, for two minutes and one use: any instance can finish a ceremony
//! another began. The relying party is `GATEHOUSE_PUBLIC_URL`: its host is the RP id, the URL
//! the only origin. webauthn-rs requires user verification and checks the signature counter;
//! the counter and the backup flags are recorded at each use.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::Row;
use webauthn_rs::prelude::{
    DiscoverableKey, Passkey, PublicKeyCredential, RegisterPublicKeyCredential, Uuid, Webauthn,
    WebauthnBuilder,
};

use super::factors::audit_own;
use crate::clock::now;
use crate::error::{AuthError, DomainError, Result};
use crate::throttle::AttemptKeys;
use crate::tokens::{random_token, sha256_hex};
use crate::users::User;
use crate::Services;

/// How long a ceremony may take, from its first step to its second.
pub const CEREMONY_SECS: i64 = 120;
/// Passkeys a person may have.
pub const MAX_PASSKEYS: usize = 20;

/// The relying party, built from the public URL on first use.
#[derive(Default)]
pub struct RelyingParty(OnceLock<std::result::Result<Webauthn, String>>);

/// What a ceremony is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Register,
    /// A known person's passkeys (the second step).
    Authenticate,
    /// Whoever's passkey the authenticator offers (sign-in without a password).
    Discover,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Register => "register",
            Kind::Authenticate => "authenticate",
            Kind::Discover => "discover",
        }
    }
}

/// The WebAuthn user handle of a person: their id when it is a UUID (it always is for users
/// Gatehouse made), else one derived from it.
fn user_handle(user_id: &str) -> Uuid {
    Uuid::parse_str(user_id).unwrap_or_else(|_| {
        let h = sha256_hex(user_id);
        let mut b = [0u8; 16];
        for (i, x) in b.iter_mut().enumerate() {
            *x = u8::from_str_radix(&h[i * 2..i * 2 + 2], 16).unwrap_or(0);
        }
        uuid::Builder::from_random_bytes(b).into_uuid()
    })
}

pub(crate) fn credential_id(pk: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(pk.cred_id().as_ref())
}

/// A stored passkey's counter and backup flags, read from webauthn-rs's own serialisation.
pub(crate) fn flags(pk: &Passkey) -> (i64, bool, bool) {
    let v = serde_json::to_value(pk).unwrap_or_default();
    let c = &v["cred"];
    (
        c["counter"].as_i64().unwrap_or(0),
        c["backup_eligible"].as_bool().unwrap_or(false),
        c["backup_state"].as_bool().unwrap_or(false),
    )
}

fn refused(why: &str) -> AuthError {
    tracing::info!(why, "passkey refused");
    AuthError::InvalidCredentials
}

impl Services {
    fn webauthn(&self) -> Result<&Webauthn> {
        self.relying_party
            .0
            .get_or_init(|| {
                let origin = url::Url::parse(&self.public_url).map_err(|e| e.to_string())?;
                let rp_id = origin
                    .domain()
                    .ok_or("passkeys need GATEHOUSE_PUBLIC_URL with a host name, not an address")?
                    .to_string();
                WebauthnBuilder::new(&rp_id, &origin)
                    .and_then(|b| b.rp_name("Gatehouse").build())
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| DomainError::Conflict(format!("passkeys are not available: {e}")))
    }

    /// Whether passkeys work with this server's public URL (a host name; not an address).
    pub fn passkeys_available(&self) -> bool {
        self.webauthn().is_ok()
    }

    async fn store_ceremony(
        &self,
        kind: Kind,
        user_id: Option<&str>,
        state: &impl serde::Serialize,
    ) -> Result<String> {
        let id = random_token(32);
        let state = serde_json::to_string(state)
            .map_err(|e| DomainError::Internal(format!("ceremony state: {e}")))?;
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (id_hash, user_id, kind, state, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&id))
        .bind(user_id)
        .bind(kind.as_str())
        .bind(state)
        .bind(now() + CEREMONY_SECS)
        .execute(&self.store.writer)
        .await?;
        Ok(id)
    }

    /// The ceremony `id` of `kind`, taken (so it is used once); None when it is unknown,
    /// expired or taken already.
    async fn take_ceremony<T: DeserializeOwned>(
        &self,
        id: &str,
        kind: Kind,
    ) -> Result<Option<(Option<String>, T)>> {
        let hash = sha256_hex(id);
        let Some(row) = sqlx::query(
            "SELECT user_id, state FROM webauthn_ceremonies WHERE id_hash = $1 AND kind = $2 AND expires_at > $3",
        )
        .bind(&hash)
        .bind(kind.as_str())
        .bind(now())
        .fetch_optional(&self.store.pool)
        .await?
        else {
            return Ok(None);
        };
        let taken = sqlx::query("DELETE FROM webauthn_ceremonies WHERE id_hash = $1")
            .bind(&hash)
            .execute(&self.store.writer)
            .await?
            .rows_affected();
        if taken != 1 {
            return Ok(None);
        }
        let state: String = row.try_get("state")?;
        let state = serde_json::from_str(&state)
            .map_err(|e| DomainError::Internal(format!("stored ceremony state: {e}")))?;
        Ok(Some((row.try_get("user_id")?, state)))
    }

    async fn passkeys_of(&self, user_id: &str) -> Result<Vec<Passkey>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT passkey FROM passkeys WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&self.store.pool)
                .await?;
        rows.into_iter()
            .map(|(j,)| {
                serde_json::from_str(&j)
                    .map_err(|e| DomainError::Internal(format!("stored passkey: {e}")))
            })
            .collect()
    }

    /// Step one of adding a passkey: the options for `navigator.credentials.create` (a
    /// discoverable credential, none of the person's existing ones) and the ceremony id.
    pub async fn begin_passkey_registration(&self, user: &User) -> Result<(String, Value)> {
        let existing = self.passkeys_of(&user.id).await?;
        if existing.len() >= MAX_PASSKEYS {
            return Err(DomainError::Conflict(format!(
                "a person may have {MAX_PASSKEYS} passkeys; remove one first"
            )));
        }
        let display = if user.display_name.trim().is_empty() {
            &user.login_name
        } else {
            &user.display_name
        };
        let (ccr, state) = self
            .webauthn()?
            .start_passkey_registration(
                user_handle(&user.id),
                &user.login_name,
                display,
                Some(existing.iter().map(|p| p.cred_id().clone()).collect()),
            )
            .map_err(|e| DomainError::Internal(format!("passkey registration: {e}")))?;
        let mut options = serde_json::to_value(&ccr)
            .map_err(|e| DomainError::Internal(format!("passkey options: {e}")))?;
        // A passkey is found by the authenticator at sign-in without a name first: it must be
        // discoverable (a resident key).
        if let Some(sel) = options["publicKey"].get_mut("authenticatorSelection") {
            sel["residentKey"] = Value::from("required");
            sel["requireResidentKey"] = Value::from(true);
        }
        let id = self
            .store_ceremony(Kind::Register, Some(&user.id), &state)
            .await?;
        Ok((id, options))
    }

    /// Step two: the authenticator's answer, checked against the ceremony; the passkey is
    /// stored under `name`.
    pub async fn finish_passkey_registration(
        &self,
        user: &User,
        ceremony: &str,
        name: &str,
        credential: &Value,
        addr: &str,
    ) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "name",
                "name the passkey (1-64 characters)",
            ));
        }
        let Some((owner, state)) = self
            .take_ceremony::<webauthn_rs::prelude::PasskeyRegistration>(ceremony, Kind::Register)
            .await?
        else {
            return Err(DomainError::Conflict(
                "this passkey request expired; try again".into(),
            ));
        };
        if owner.as_deref() != Some(user.id.as_str()) {
            return Err(DomainError::Conflict(
                "this passkey request was made for someone else".into(),
            ));
        }
        let reg: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|_| DomainError::invalid("credential", "not a WebAuthn credential"))?;
        let pk = self
            .webauthn()?
            .finish_passkey_registration(&reg, &state)
            .map_err(|e| {
                DomainError::invalid(
                    "credential",
                    format!("the authenticator's answer was refused: {e}"),
                )
            })?;
        let (counter, eligible, backed_up) = flags(&pk);
        let json = serde_json::to_string(&pk)
            .map_err(|e| DomainError::Internal(format!("passkey: {e}")))?;
        let mut tx = self.store.begin_write().await?;
        sqlx::query(
            "INSERT INTO passkeys (credential_id, user_id, name, passkey, sign_count, backup_eligible, backup_state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(credential_id(&pk))
        .bind(&user.id)
        .bind(name)
        .bind(json)
        .bind(counter)
        .bind(eligible as i64)
        .bind(backed_up as i64)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(crate::store::on_unique(
            "credential",
            "this passkey is registered already",
        ))?;
        audit_own(&mut tx, user, addr, "factor.passkey_add", name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Step one of signing in with a passkey: for `user_id`'s passkeys (the second step), or
    /// for any discoverable one (no password).
    pub async fn begin_passkey_sign_in(&self, user_id: Option<&str>) -> Result<(String, Value)> {
        let w = self.webauthn()?;
        let (rcr, id) = match user_id {
            Some(uid) => {
                let keys = self.passkeys_of(uid).await?;
                if keys.is_empty() {
                    return Err(DomainError::Conflict("no passkey to sign in with".into()));
                }
                let (rcr, state) = w
                    .start_passkey_authentication(&keys)
                    .map_err(|e| DomainError::Internal(format!("passkey sign-in: {e}")))?;
                (
                    rcr,
                    self.store_ceremony(Kind::Authenticate, Some(uid), &state)
                        .await?,
                )
            }
            None => {
                let (rcr, state) = w
                    .start_discoverable_authentication()
                    .map_err(|e| DomainError::Internal(format!("passkey sign-in: {e}")))?;
                (
                    rcr,
                    self.store_ceremony(Kind::Discover, None, &state).await?,
                )
            }
        };
        let options = serde_json::to_value(&rcr)
            .map_err(|e| DomainError::Internal(format!("passkey options: {e}")))?;
        Ok((id, options))
    }

    /// Step two: the authenticator's signature checked; the person it belongs to (enabled, a
    /// person and not a machine) with their credential version. A failure counts against the
    /// sending address only (a signature cannot be guessed, and a count per person would let
    /// anyone lock them out).
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony: &str,
        credential: &Value,
        addr: &str,
    ) -> std::result::Result<(User, i64), AuthError> {
        let keys = AttemptKeys::address(addr);
        if let Some(secs) = self.blocks.blocked(&keys) {
            return Err(AuthError::Throttled(secs));
        }
        self.throttle_begin(&keys).await?;
        let cred: PublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|_| refused("not a WebAuthn credential"))?;
        let w = self.webauthn()?;
        let (user_id, result) = if let Some((Some(uid), state)) = self
            .take_ceremony::<webauthn_rs::prelude::PasskeyAuthentication>(
                ceremony,
                Kind::Authenticate,
            )
            .await?
        {
            let r = w
                .finish_passkey_authentication(&cred, &state)
                .map_err(|e| refused(&e.to_string()))?;
            (uid, r)
        } else if let Some((_, state)) = self
            .take_ceremony::<webauthn_rs::prelude::DiscoverableAuthentication>(
                ceremony,
                Kind::Discover,
            )
            .await?
        {
            let (handle, _) = w
                .identify_discoverable_authentication(&cred)
                .map_err(|e| refused(&e.to_string()))?;
            let uid = self
                .user_of_handle(handle)
                .await?
                .ok_or_else(|| refused("no person has this passkey"))?;
            let known: Vec<DiscoverableKey> = self
                .passkeys_of(&uid)
                .await?
                .iter()
                .map(DiscoverableKey::from)
                .collect();
            let r = w
                .finish_discoverable_authentication(&cred, state, &known)
                .map_err(|e| refused(&e.to_string()))?;
            (uid, r)
        } else {
            return Err(refused("unknown or expired ceremony"));
        };
        // Counter and backup flags as the authenticator now reports them.
        let id = URL_SAFE_NO_PAD.encode(result.cred_id().as_ref());
        let mut stored = self
            .passkeys_of(&user_id)
            .await?
            .into_iter()
            .find(|p| credential_id(p) == id)
            .ok_or_else(|| refused("the passkey was removed"))?;
        stored.update_credential(&result);
        let (counter, eligible, backed_up) = flags(&stored);
        sqlx::query(
            "UPDATE passkeys SET passkey = $1, sign_count = $2, backup_eligible = $3, backup_state = $4, last_used_at = $5 \
             WHERE credential_id = $6 AND user_id = $7",
        )
        .bind(serde_json::to_string(&stored).map_err(|e| DomainError::Internal(e.to_string()))?)
        .bind(counter)
        .bind(eligible as i64)
        .bind(backed_up as i64)
        .bind(now())
        .bind(&id)
        .bind(&user_id)
        .execute(&self.store.writer)
        .await?;
        let row = self
            .user_row_by_id(&user_id)
            .await?
            .filter(|r| r.user.enabled && !r.user.is_oauth_confidential_client)
            .ok_or_else(|| refused("the person is disabled or gone"))?;
        self.throttle_succeeded(&keys).await?;
        Ok((row.user, row.secret_version))
    }

    /// The person a user handle names (one whose passkeys exist).
    async fn user_of_handle(&self, handle: Uuid) -> Result<Option<String>> {
        let ids: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT user_id FROM passkeys WHERE user_id = $1")
                .bind(handle.to_string())
                .fetch_all(&self.store.pool)
                .await?;
        if let Some((id,)) = ids.into_iter().next() {
            return Ok(Some(id));
        }
        // A user id that is not a UUID maps to a derived handle: look among those.
        let all: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT user_id FROM passkeys")
            .fetch_all(&self.store.pool)
            .await?;
        Ok(all
            .into_iter()
            .map(|(id,)| id)
            .find(|id| Uuid::parse_str(id).is_err() && user_handle(id) == handle))
    }

    /// Removes one of the person's passkeys.
    pub async fn remove_passkey(&self, user: &User, credential: &str, addr: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let name: Option<String> = sqlx::query_scalar(
            "SELECT name FROM passkeys WHERE credential_id = $1 AND user_id = $2",
        )
        .bind(credential)
        .bind(&user.id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(name) = name else {
            return Err(DomainError::NotFound("passkey"));
        };
        sqlx::query("DELETE FROM passkeys WHERE credential_id = $1 AND user_id = $2")
            .bind(credential)
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        self.forget_unneeded_recovery_codes_in(&mut tx, &user.id)
            .await?;
        audit_own(&mut tx, user, addr, "factor.passkey_remove", &name).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_user_id_is_its_own_handle_and_others_get_a_stable_one() {
        let id = "0b7a3c4e-2f1d-4c5b-9a8e-1f2d3c4b5a69";
        assert_eq!(user_handle(id).to_string(), id);
        assert_eq!(user_handle("legacy-42"), user_handle("legacy-42"));
        assert_ne!(user_handle("legacy-42"), user_handle("legacy-43"));
    }
}
