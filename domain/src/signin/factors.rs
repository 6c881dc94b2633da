//! Second factors (SPEC §6a): an authenticator app (TOTP, RFC 6238), recovery codes, and what a
//! person has; the second step of a sign-in; an administrator's reset. Passkeys are in
//! `passkeys.rs`.
//!
//! - The TOTP secret (160 random bits) is sealed at rest like the signing keys, bound to its
//!   row. It is turned on only by one correct code. Codes are SHA-1, 6 digits, 30 s, taken one
//!   step either side; each time step is accepted once per person (`user_totp.last_step`,
//!   moved by one conditional UPDATE, so two instances cannot both accept a code).
//! - Recovery codes: 10, shown once, stored as HMAC under the system secret, each used once.
//! - Every second-step attempt is counted by the password throttle (the person's account and
//!   the address) before it is checked.

use model::factors::{amr, Factors, PasskeyInfo, QrCode, TotpSetup};
use sqlx::Row;
use totp_rs::{Algorithm, TOTP};

use crate::audit::{Entry, Who};
use crate::clock::now;
use crate::error::{AuthError, DomainError, Result};
use crate::rights::{Principal, Right};
use crate::throttle::AttemptKeys;
use crate::Services;

/// Seconds per code.
pub const STEP: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;
/// The alphabet of recovery codes: no 0/o, 1/l/i.
const RECOVERY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// The code for `secret` at Unix time `time` with `digits` digits (RFC 6238, SHA-1).
pub fn code_at(secret: &[u8], time: u64, digits: usize) -> String {
    totp(secret, digits, String::new(), None).generate(time)
}

fn totp(secret: &[u8], digits: usize, account: String, issuer: Option<String>) -> TOTP {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        digits,
        1,
        STEP,
        secret.to_vec(),
        issuer,
        account,
    )
}

/// The time step `code` is right for at `time`, one step either side (clock drift), compared
/// in constant time; None when it is right for none.
pub fn matching_step(secret: &[u8], code: &str, time: u64) -> Option<u64> {
    let now_step = time / STEP;
    let mut found = None;
    for step in [now_step.saturating_sub(1), now_step, now_step + 1] {
        let expected = code_at(secret, step * STEP, DIGITS);
        if crate::tokens::constant_time_eq(&expected, code) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` link an authenticator app reads (and the base32 secret in it).
pub fn otpauth_url(secret: &[u8], issuer: &str, account: &str) -> (String, String) {
    // An issuer or account with ':' is refused by the format; the link shows them percent-encoded.
    let issuer = issuer.replace(':', " ");
    let t = totp(secret, DIGITS, account.replace(':', " "), Some(issuer));
    (t.get_url(), t.get_secret_base32())
}

/// The QR code of `text`, as the page draws it.
pub fn qr_code(text: &str) -> Result<QrCode> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| DomainError::Internal(format!("QR code: {e}")))?;
    let dark: Vec<bool> = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Ok(QrCode::from_modules(code.width() as u32, &dark))
}

/// A recovery code as typed, the way it is stored: lowercase, without dashes or spaces.
fn normalise_recovery(code: &str) -> Option<String> {
    let c: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    (c.len() == 10 && c.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(c)
}

fn new_recovery_code() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let c: String = (0..10)
        .map(|_| RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &c[..5], &c[5..])
}

/// Which second factor a person proved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
    Passkey,
}

impl SecondFactor {
    /// The `amr` of a sign-in with a password and this factor.
    pub fn amr_after_password(self) -> Vec<String> {
        let second = match self {
            SecondFactor::Totp | SecondFactor::RecoveryCode => amr::OTP,
            SecondFactor::Passkey => amr::HARDWARE_KEY,
        };
        vec![
            amr::PASSWORD.into(),
            second.into(),
            amr::MULTI_FACTOR.into(),
        ]
    }
}

/// The context a TOTP secret is sealed under: its row.
fn totp_context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

fn recovery_context(user_id: &str) -> String {
    format!("recovery:{user_id}")
}

impl Services {
    /// What protects `user_id`'s sign-in besides the password.
    pub async fn factors(&self, user_id: &str) -> Result<Factors> {
        let totp: Option<i64> =
            sqlx::query_scalar("SELECT enabled FROM user_totp WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.store.pool)
                .await?;
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&self.store.pool)
        .await?;
        let rows = sqlx::query(
            "SELECT credential_id, name, created_at, last_used_at, backup_eligible, backup_state \
             FROM passkeys WHERE user_id = $1 ORDER BY created_at, credential_id",
        )
        .bind(user_id)
        .fetch_all(&self.store.pool)
        .await?;
        let mut passkeys = Vec::with_capacity(rows.len());
        for r in rows {
            passkeys.push(PasskeyInfo {
                id: r.try_get("credential_id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                backup_eligible: r.try_get::<i64, _>("backup_eligible")? != 0,
                backed_up: r.try_get::<i64, _>("backup_state")? != 0,
            });
        }
        Ok(Factors {
            totp: totp == Some(1),
            recovery_codes_left: left.max(0) as u32,
            passkeys,
        })
    }

    /// An enabled person (not a machine) by id: who a second step or a security page is for.
    pub async fn person(&self, user_id: &str) -> Result<Option<crate::users::User>> {
        Ok(self
            .user_row_by_id(user_id)
            .await?
            .filter(|r| r.user.enabled && !r.user.is_oauth_confidential_client)
            .map(|r| r.user))
    }

    /// Whether signing `user_id` in takes a second step.
    pub async fn has_second_factor(&self, user_id: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM user_totp WHERE user_id = $1 AND enabled = 1) \
                  + (SELECT COUNT(*) FROM passkeys WHERE user_id = $1)",
        )
        .bind(user_id)
        .fetch_one(&self.store.pool)
        .await?;
        Ok(n > 0)
    }

    /// The authenticator app being set up for `user_id` (a new secret unless one is pending),
    /// with its link and QR code. Refused while one is on: remove it first.
    pub async fn totp_setup(&self, user_id: &str, account: &str) -> Result<TotpSetup> {
        let row = sqlx::query("SELECT secret, enabled FROM user_totp WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.store.pool)
            .await?;
        let secret = match row {
            Some(r) if r.try_get::<i64, _>("enabled")? == 1 => {
                return Err(DomainError::Conflict(
                    "an authenticator app is already set up".into(),
                ))
            }
            Some(r) => {
                let sealed: String = r.try_get("secret")?;
                self.open_totp(user_id, &sealed)?
            }
            None => {
                let mut secret = vec![0u8; 20];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
                let sealed = self.secrets.seal(&hex(&secret), &totp_context(user_id))?;
                sqlx::query(
                    "INSERT INTO user_totp (user_id, secret, enabled, last_step, created_at) VALUES ($1, $2, 0, 0, $3) \
                     ON CONFLICT (user_id) DO NOTHING",
                )
                .bind(user_id)
                .bind(sealed)
                .bind(now())
                .execute(&self.store.writer)
                .await?;
                // Two set-ups at once: the one stored wins, and both pages show it.
                return Box::pin(self.totp_setup(user_id, account)).await;
            }
        };
        self.setup_of(&secret, account)
    }

    /// The authenticator app being set up for `user_id`, if one is (nothing is made here).
    pub async fn pending_totp_setup(
        &self,
        user_id: &str,
        account: &str,
    ) -> Result<Option<TotpSetup>> {
        let sealed: Option<String> =
            sqlx::query_scalar("SELECT secret FROM user_totp WHERE user_id = $1 AND enabled = 0")
                .bind(user_id)
                .fetch_optional(&self.store.pool)
                .await?;
        match sealed {
            Some(sealed) => {
                let secret = self.open_totp(user_id, &sealed)?;
                Ok(Some(self.setup_of(&secret, account)?))
            }
            None => Ok(None),
        }
    }

    fn setup_of(&self, secret: &[u8], account: &str) -> Result<TotpSetup> {
        let issuer = url::Url::parse(&self.public_url)
            .ok()
            .and_then(|u| u.host_str().map(|h| format!("Gatehouse {h}")))
            .unwrap_or_else(|| "Gatehouse".into());
        let (url, base32) = otpauth_url(secret, &issuer, account);
        Ok(TotpSetup {
            secret: base32,
            qr: qr_code(&url)?,
            url,
        })
    }

    fn open_totp(&self, user_id: &str, sealed: &str) -> Result<Vec<u8>> {
        let (plain, _) = self.secrets.open(sealed, &totp_context(user_id))?;
        unhex(&plain).ok_or_else(|| DomainError::Internal("a TOTP secret is malformed".into()))
    }

    /// Turns the pending authenticator app on with one correct `code`; answers the person's
    /// new recovery codes (shown once). A wrong code is a validation error on `code`, and
    /// counts against the throttle like a password.
    pub async fn confirm_totp(
        &self,
        user: &crate::users::User,
        code: &str,
        addr: &str,
    ) -> std::result::Result<Vec<String>, AuthError> {
        let keys = AttemptKeys::new(&user.login_name, addr);
        if let Some(secs) = self.blocks.blocked(&keys) {
            return Err(AuthError::Throttled(secs));
        }
        self.throttle_begin(&keys).await?;
        let row = sqlx::query("SELECT secret FROM user_totp WHERE user_id = $1 AND enabled = 0")
            .bind(&user.id)
            .fetch_optional(&self.store.pool)
            .await
            .map_err(DomainError::from)?;
        let Some(row) = row else {
            return Err(AuthError::Domain(DomainError::Conflict(
                "no authenticator app is being set up".into(),
            )));
        };
        let sealed: String = row.try_get("secret").map_err(DomainError::from)?;
        let secret = self.open_totp(&user.id, &sealed)?;
        let Some(step) = matching_step(&secret, code.trim(), now().max(0) as u64) else {
            return Err(AuthError::InvalidCredentials);
        };
        self.throttle_succeeded(&keys).await?;
        let mut tx = self.store.begin_write().await.map_err(DomainError::from)?;
        let done = sqlx::query(
            "UPDATE user_totp SET enabled = 1, last_step = $1 WHERE user_id = $2 AND enabled = 0",
        )
        .bind(step as i64)
        .bind(&user.id)
        .execute(&mut *tx)
        .await
        .map_err(DomainError::from)?;
        if done.rows_affected() == 0 {
            return Err(AuthError::Domain(DomainError::Conflict(
                "the authenticator app was set up meanwhile".into(),
            )));
        }
        let codes = self.replace_recovery_codes_in(&mut tx, &user.id).await?;
        audit_own(&mut tx, user, addr, "factor.totp_add", &user.login_name).await?;
        tx.commit().await.map_err(DomainError::from)?;
        Ok(codes)
    }

    /// Removes the person's authenticator app (set up or pending).
    pub async fn remove_totp(&self, user: &crate::users::User, addr: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let n = sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
            .bind(&user.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n > 0 {
            self.forget_unneeded_recovery_codes_in(&mut tx, &user.id)
                .await?;
            audit_own(&mut tx, user, addr, "factor.totp_remove", &user.login_name).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// New recovery codes for a person with a second factor (the old ones stop working).
    pub async fn regenerate_recovery_codes(
        &self,
        user: &crate::users::User,
        addr: &str,
    ) -> Result<Vec<String>> {
        if !self.has_second_factor(&user.id).await? {
            return Err(DomainError::Conflict(
                "recovery codes come with a second factor: set one up first".into(),
            ));
        }
        let mut tx = self.store.begin_write().await?;
        let codes = self.replace_recovery_codes_in(&mut tx, &user.id).await?;
        audit_own(
            &mut tx,
            user,
            addr,
            "factor.recovery_codes",
            &user.login_name,
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    pub(crate) async fn replace_recovery_codes_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        user_id: &str,
    ) -> Result<Vec<String>> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let t = now();
        for c in &codes {
            let plain = normalise_recovery(c).unwrap_or_default();
            let hash = self
                .secrets
                .keyed_hashes(&recovery_context(user_id), &plain)
                .swap_remove(0);
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, code_hash, used_at, created_at) VALUES ($1, $2, NULL, $3)",
            )
            .bind(user_id)
            .bind(hash)
            .bind(t)
            .execute(&mut *conn)
            .await?;
        }
        Ok(codes)
    }

    /// Without a second factor, recovery codes recover nothing: they go.
    pub(crate) async fn forget_unneeded_recovery_codes_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        user_id: &str,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM recovery_codes WHERE user_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM user_totp WHERE user_id = $1 AND enabled = 1) \
             AND NOT EXISTS (SELECT 1 FROM passkeys WHERE user_id = $1)",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The second step of a sign-in: a code from the person's authenticator app (each time step
    /// once) or one of their recovery codes (each once). Counted by the password throttle first.
    pub async fn verify_second_factor(
        &self,
        user: &crate::users::User,
        code: &str,
        addr: &str,
    ) -> std::result::Result<SecondFactor, AuthError> {
        let keys = AttemptKeys::new(&user.login_name, addr);
        if let Some(secs) = self.blocks.blocked(&keys) {
            return Err(AuthError::Throttled(secs));
        }
        self.throttle_begin(&keys).await?;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let proved = if code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
            self.take_totp_code(&user.id, &code).await?
        } else if let Some(c) = normalise_recovery(&code) {
            self.take_recovery_code(&user.id, &c).await?
        } else {
            None
        };
        let Some(factor) = proved else {
            return Err(AuthError::InvalidCredentials);
        };
        self.throttle_succeeded(&keys).await?;
        if factor == SecondFactor::RecoveryCode {
            let mut conn = self
                .store
                .writer
                .acquire()
                .await
                .map_err(DomainError::from)?;
            audit_own(
                &mut conn,
                user,
                addr,
                "factor.recovery_code_use",
                &user.login_name,
            )
            .await?;
        }
        Ok(factor)
    }

    async fn take_totp_code(&self, user_id: &str, code: &str) -> Result<Option<SecondFactor>> {
        let Some(row) =
            sqlx::query("SELECT secret FROM user_totp WHERE user_id = $1 AND enabled = 1")
                .bind(user_id)
                .fetch_optional(&self.store.pool)
                .await?
        else {
            return Ok(None);
        };
        let secret = self.open_totp(user_id, &row.try_get::<String, _>("secret")?)?;
        let Some(step) = matching_step(&secret, code, now().max(0) as u64) else {
            return Ok(None);
        };
        // Only a step after the last one accepted: a code (or an older one) works once.
        let taken = sqlx::query(
            "UPDATE user_totp SET last_step = $1 WHERE user_id = $2 AND enabled = 1 AND last_step < $1",
        )
        .bind(step as i64)
        .bind(user_id)
        .execute(&self.store.writer)
        .await?
        .rows_affected();
        Ok((taken == 1).then_some(SecondFactor::Totp))
    }

    async fn take_recovery_code(&self, user_id: &str, code: &str) -> Result<Option<SecondFactor>> {
        for hash in self.secrets.keyed_hashes(&recovery_context(user_id), code) {
            let taken = sqlx::query(
                "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
            )
            .bind(now())
            .bind(user_id)
            .bind(hash)
            .execute(&self.store.writer)
            .await?
            .rows_affected();
            if taken == 1 {
                return Ok(Some(SecondFactor::RecoveryCode));
            }
        }
        Ok(None)
    }

    /// An administrator's view of a person's factors (the `users` right).
    pub async fn user_factors(&self, actor: &Principal, user_id: &str) -> Result<Factors> {
        actor.require(Right::Users)?;
        if self.user_row_by_id(user_id).await?.is_none() {
            return Err(DomainError::NotFound("user"));
        }
        self.factors(user_id).await
    }

    /// An administrator removes every second factor of a person who lost theirs (audited;
    /// the delegation rule decides whether `actor` may act on this person).
    pub async fn reset_factors(&self, actor: &Principal, user_id: &str) -> Result<()> {
        actor.require(Right::Users)?;
        let Some(row) = self.user_row_by_id(user_id).await? else {
            return Err(DomainError::NotFound("user"));
        };
        self.require_over_user(actor, user_id, &row.user.login_name, "user.factors_reset")
            .await?;
        let mut tx = self.store.begin_write().await?;
        for table in ["user_totp", "recovery_codes", "passkeys"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        crate::audit::write(
            &mut tx,
            Who::Principal(actor),
            &Entry::new("user.factors_reset", "user", user_id).named(&row.user.login_name),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The audit record of a person's own change to their factors (`named`: what changed).
pub(crate) async fn audit_own(
    conn: &mut sqlx::AnyConnection,
    user: &crate::users::User,
    addr: &str,
    action: &'static str,
    named: &str,
) -> Result<()> {
    crate::audit::write(
        conn,
        Who::Person {
            login: &user.login_name,
            address: Some(addr),
        },
        &Entry::new(action, "user", &user.id).named(named),
    )
    .await
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 (the secret is the ASCII "12345678901234567890").
    #[test]
    fn the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(secret, time, 8), expected, "T = {time}");
        }
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_only() {
        let secret = b"12345678901234567890";
        let t = 1_111_111_111;
        let step = t / STEP;
        let code = code_at(secret, t, DIGITS);
        assert_eq!(matching_step(secret, &code, t), Some(step));
        assert_eq!(matching_step(secret, &code, t + STEP), Some(step));
        assert_eq!(matching_step(secret, &code, t - STEP), Some(step));
        assert_eq!(matching_step(secret, &code, t + 2 * STEP), None);
        assert_eq!(matching_step(secret, &code, t - 2 * STEP), None);
        assert_eq!(matching_step(secret, "000000x", t), None);
    }

    #[test]
    fn the_otpauth_link_carries_the_secret_and_names() {
        let (url, b32) = otpauth_url(b"12345678901234567890", "Gatehouse id.example", "alice");
        assert_eq!(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert!(
            url.starts_with("otpauth://totp/Gatehouse%20id.example:alice?"),
            "{url}"
        );
        assert!(
            url.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{url}"
        );
        assert!(url.contains("issuer=Gatehouse%20id.example"), "{url}");
    }

    #[test]
    fn recovery_codes_have_their_shape_and_are_read_leniently() {
        for _ in 0..50 {
            let c = new_recovery_code();
            assert_eq!(c.len(), 11);
            assert_eq!(&c[5..6], "-");
            assert!(normalise_recovery(&c).is_some(), "{c}");
        }
        assert_eq!(
            normalise_recovery(" ABCDE-fghjk "),
            Some("abcdefghjk".into())
        );
        assert_eq!(normalise_recovery("abcde-fghj"), None);
        assert_eq!(normalise_recovery("abcde-fghj0"), None, "no zero");
    }

    #[test]
    fn the_qr_code_is_square() {
        let q = qr_code("otpauth://totp/x?secret=GEZDGNBV").unwrap();
        assert!(q.size >= 21);
        assert_eq!(q.rows.len(), q.size as usize);
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}

/// A person's second factors in a configuration document (`--with-secrets` only): the
/// authenticator app's secret (base32) and the passkeys. Recovery codes are not carried: they
/// are keyed by this deployment's system secret; the person makes new ones.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactorsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passkeys: Vec<PasskeyConfig>,
}

/// A passkey as webauthn-rs keeps it (public key, counter, flags: nothing secret), named.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyConfig {
    pub name: String,
    pub created_at: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub passkey: serde_json::Value,
}

impl FactorsConfig {
    /// Checks a document's factors (`path` names them in the error).
    pub fn check(&self, path: &str) -> Result<()> {
        if let Some(s) = &self.totp_secret {
            let ok = totp_rs::Secret::Encoded(s.clone())
                .to_bytes()
                .is_ok_and(|b| b.len() >= 16);
            if !ok {
                return Err(DomainError::invalid(
                    format!("{path}.totp_secret"),
                    "a base32 secret of at least 128 bits",
                ));
            }
        }
        for (i, p) in self.passkeys.iter().enumerate() {
            let name = p.name.trim();
            if name.is_empty() || name.chars().count() > 64 {
                return Err(DomainError::invalid(
                    format!("{path}.passkeys[{i}].name"),
                    "1-64 characters",
                ));
            }
            if serde_json::from_value::<webauthn_rs::prelude::Passkey>(p.passkey.clone()).is_err() {
                return Err(DomainError::invalid(
                    format!("{path}.passkeys[{i}].passkey"),
                    "not a passkey as Gatehouse exports it",
                ));
            }
        }
        Ok(())
    }
}

impl Services {
    /// Every person's factors as a configuration document carries them, by user id.
    pub(crate) async fn factor_configs(
        &self,
    ) -> Result<std::collections::BTreeMap<String, FactorsConfig>> {
        let mut out: std::collections::BTreeMap<String, FactorsConfig> = Default::default();
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT user_id, secret FROM user_totp WHERE enabled = 1")
                .fetch_all(&self.store.pool)
                .await?;
        for (uid, sealed) in rows {
            let secret = self.open_totp(&uid, &sealed)?;
            out.entry(uid).or_default().totp_secret =
                Some(totp_rs::Secret::Raw(secret).to_encoded().to_string());
        }
        let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
            "SELECT user_id, name, created_at, passkey FROM passkeys ORDER BY created_at, credential_id",
        )
        .fetch_all(&self.store.pool)
        .await?;
        for (uid, name, created_at, passkey) in rows {
            let passkey = serde_json::from_str(&passkey)
                .map_err(|e| DomainError::Internal(format!("stored passkey: {e}")))?;
            out.entry(uid).or_default().passkeys.push(PasskeyConfig {
                name,
                created_at,
                passkey,
            });
        }
        Ok(out)
    }

    /// Replaces person `user_id`'s factors with `f` on `conn` (an import), audited.
    pub(crate) async fn replace_factors_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        who: Who<'_>,
        user_id: &str,
        login: &str,
        f: &FactorsConfig,
    ) -> Result<()> {
        for table in ["user_totp", "passkeys"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                .bind(user_id)
                .execute(&mut *conn)
                .await?;
        }
        if let Some(s) = &f.totp_secret {
            let raw = totp_rs::Secret::Encoded(s.clone())
                .to_bytes()
                .map_err(|_| DomainError::invalid("totp_secret", "not base32"))?;
            sqlx::query(
                "INSERT INTO user_totp (user_id, secret, enabled, last_step, created_at) VALUES ($1, $2, 1, 0, $3)",
            )
            .bind(user_id)
            .bind(self.secrets.seal(&hex(&raw), &totp_context(user_id))?)
            .bind(now())
            .execute(&mut *conn)
            .await?;
        }
        for p in &f.passkeys {
            let pk: webauthn_rs::prelude::Passkey = serde_json::from_value(p.passkey.clone())
                .map_err(|_| DomainError::invalid("passkey", "not a passkey"))?;
            let (counter, eligible, backed_up) = super::passkeys::flags(&pk);
            sqlx::query(
                "INSERT INTO passkeys (credential_id, user_id, name, passkey, sign_count, backup_eligible, backup_state, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(super::passkeys::credential_id(&pk))
            .bind(user_id)
            .bind(p.name.trim())
            .bind(p.passkey.to_string())
            .bind(counter)
            .bind(eligible as i64)
            .bind(backed_up as i64)
            .bind(p.created_at)
            .execute(&mut *conn)
            .await
            .map_err(crate::store::on_unique(
                "passkeys",
                "a passkey in the document belongs to someone else here",
            ))?;
        }
        self.forget_unneeded_recovery_codes_in(conn, user_id)
            .await?;
        crate::audit::write(
            conn,
            who,
            &Entry::new("user.factors_import", "user", user_id).named(login),
        )
        .await
    }
}
