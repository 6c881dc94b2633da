//! Self-service by e-mail (SPEC §6b): "Forgot your password?" and sign-up with a verified
//! address. Both send a link (`mail`) whose token is stored only as SHA-256 in `email_links`,
//! works once (one conditional UPDATE claims it, so two instances cannot both use it) and for a
//! limited time.
//!
//! - A reset request answers the same whether or not an account exists, and takes the same time:
//!   the lookup runs either way and the mail goes out on a task of its own. Requests are
//!   throttled per address (in memory, per instance) and per account (3 links an hour, counted
//!   in the database, so every instance agrees); over either, nothing is sent and the answer is
//!   unchanged. A reset ends every session and refresh token of the person (the credential
//!   version moves) and proves the address.
//! - Sign-up (`GATEHOUSE_REGISTRATION=open`) makes a disabled person, optionally only for
//!   allowed e-mail domains, in the configured role; the verification link enables them and sets
//!   `email_verified`. Throttled per address like resets.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::audit::{Entry, Who};
use crate::clock::now;
use crate::error::{DomainError, Result};
use crate::mail::{link_mail, LinkKind, Mailer};
use crate::tokens::{random_token, sha256_hex};
use crate::users::NewUser;
use crate::Services;

/// A reset link works this long.
pub const RESET_MINUTES: i64 = 30;
/// A verification link works this long.
pub const VERIFY_MINUTES: i64 = 24 * 60;
/// Reset links an account may be sent per hour.
const RESETS_PER_HOUR: i64 = 3;
/// Requests (resets and sign-ups together) an address may make per minute on one instance.
const PER_ADDRESS_PER_MINUTE: u32 = 10;

const RESET: &str = "reset";
const VERIFY: &str = "verify";

/// How self-service is set up (from the configuration; fixed after start).
#[derive(Default)]
pub struct SelfService {
    pub mailer: Option<Arc<Mailer>>,
    /// `GATEHOUSE_REGISTRATION=open`.
    pub registration_open: bool,
    /// E-mail domains sign-up takes (lowercase); empty: any.
    pub allowed_domains: Vec<String>,
    /// The role a verified sign-up joins (a role name); None: only Everybody.
    pub default_role: Option<String>,
}

/// What the hosted pages offer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Offers {
    /// "Forgot your password?" (mail is set up).
    pub reset: bool,
    /// "Create an account" (registration is open and mail is set up).
    pub sign_up: bool,
}

/// Requests per address, in memory.
pub(crate) struct AddressLimit(DefaultKeyedRateLimiter<String>);

impl Default for AddressLimit {
    fn default() -> Self {
        let n = NonZeroU32::new(PER_ADDRESS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        AddressLimit(RateLimiter::keyed(Quota::per_minute(n)))
    }
}

impl AddressLimit {
    fn allows(&self, address: &str) -> bool {
        if self.0.len() > 100_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&address.to_string()).is_ok()
    }
}

/// Why a sign-up was not taken.
#[derive(Debug)]
pub enum SignUpError {
    /// Registration is closed, or mail is not set up: there is no such page.
    Closed,
    /// Too many requests from this address.
    Throttled,
    /// A field is not acceptable: (field, message).
    Invalid(String, String),
    Domain(DomainError),
}

impl From<DomainError> for SignUpError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation { field, message }
            | DomainError::Duplicate { field, message } => SignUpError::Invalid(field, message),
            DomainError::Conflict(m) => SignUpError::Invalid("login_name".into(), m),
            other => SignUpError::Domain(other),
        }
    }
}

impl Services {
    /// Sets self-service up (at start).
    pub fn set_self_service(&self, s: SelfService) {
        let _ = self.self_service.set(s);
    }

    fn self_service(&self) -> Option<&SelfService> {
        self.self_service.get()
    }

    fn mailer(&self) -> Option<Arc<Mailer>> {
        self.self_service().and_then(|s| s.mailer.clone())
    }

    /// What the hosted pages offer.
    pub fn offers(&self) -> Offers {
        let mail = self.mailer().is_some();
        Offers {
            reset: mail,
            sign_up: mail && self.self_service().is_some_and(|s| s.registration_open),
        }
    }

    /// Creates a link of `purpose` for `user_id` valid `minutes` on `conn`; returns the token.
    async fn new_link(
        conn: &mut sqlx::AnyConnection,
        purpose: &str,
        user_id: &str,
        minutes: i64,
    ) -> Result<String> {
        let token = random_token(32);
        let t = now();
        sqlx::query(
            "INSERT INTO email_links (token_hash, purpose, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&token))
        .bind(purpose)
        .bind(user_id)
        .bind(t)
        .bind(t + minutes * 60)
        .execute(&mut *conn)
        .await?;
        Ok(token)
    }

    /// The user a live link of `purpose` names, without using it.
    async fn link_user(&self, purpose: &str, token: &str) -> Result<Option<String>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM email_links WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(sha256_hex(token))
        .bind(purpose)
        .bind(now())
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// Uses a live link of `purpose` on `conn`: its user, once.
    async fn claim_link(
        conn: &mut sqlx::AnyConnection,
        purpose: &str,
        token: &str,
    ) -> Result<Option<String>> {
        let t = now();
        let hash = sha256_hex(token);
        let claimed = sqlx::query(
            "UPDATE email_links SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(t)
        .bind(&hash)
        .bind(purpose)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        Ok(
            sqlx::query_scalar("SELECT user_id FROM email_links WHERE token_hash = $1")
                .bind(&hash)
                .fetch_optional(&mut *conn)
                .await?,
        )
    }

    /// Sends `mail` to `to` on a task of its own; a failure is logged, never the link.
    fn send_later(&self, to: String, mail: crate::mail::Mail) {
        let Some(mailer) = self.mailer() else { return };
        tokio::spawn(async move {
            if let Err(e) = mailer.send(&to, &mail).await {
                tracing::error!(error = %e, subject = %mail.subject, "a mail could not be sent");
            }
        });
    }

    /// "Forgot your password?" for `who` (an e-mail address or a login name) from `address`.
    /// Always `Ok(())` when mail is set up, whatever exists; a link goes out only to an enabled
    /// person with an address, within the limits.
    /// The message is in the language the person chose, else `lang`, the language of the page it
    /// was asked from.
    pub async fn request_password_reset(
        &self,
        who: &str,
        address: &str,
        lang: model::i18n::Lang,
    ) -> Result<()> {
        if self.mailer().is_none() {
            return Err(DomainError::NotFound("password reset"));
        }
        let who = who.trim();
        let within = self.self_service_limit.allows(address);
        let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, login_name, email, display_name, language FROM users \
             WHERE (login_name_lower = $1 OR LOWER(email) = $1) AND enabled = 1 \
             AND is_oauth_confidential_client = 0 AND email <> '' ORDER BY login_name_lower LIMIT 5",
        )
        .bind(who.to_lowercase())
        .fetch_all(&self.store.pool)
        .await?;
        if !within || who.is_empty() {
            return Ok(());
        }
        for (id, login, email, display, chosen) in rows {
            // In the language the person chose, else the one of the page it was asked from.
            let lang = chosen
                .as_deref()
                .and_then(model::i18n::Lang::from_tag)
                .unwrap_or(lang);
            let (recent,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM email_links WHERE user_id = $1 AND purpose = $2 AND created_at > $3",
            )
            .bind(&id)
            .bind(RESET)
            .bind(now() - 3600)
            .fetch_one(&self.store.pool)
            .await?;
            if recent >= RESETS_PER_HOUR {
                continue;
            }
            let mut tx = self.store.begin_write().await?;
            let token = Self::new_link(&mut tx, RESET, &id, RESET_MINUTES).await?;
            crate::audit::write(
                &mut tx,
                Who::Person {
                    login: &login,
                    address: Some(address),
                },
                &Entry::new("user.password_reset_requested", "user", &id).named(&login),
            )
            .await?;
            tx.commit().await?;
            let link = format!("{}/login/reset?token={token}", self.public_url);
            let name = if display.is_empty() { &login } else { &display };
            let mail = link_mail(
                lang,
                LinkKind::PasswordReset,
                &self.branding().product_name,
                name,
                &link,
                RESET_MINUTES,
            )
            .map_err(DomainError::Internal)?;
            self.send_later(email, mail);
        }
        Ok(())
    }

    /// Whether a reset link still works (the page asks before showing its form).
    pub async fn reset_link_valid(&self, token: &str) -> Result<bool> {
        Ok(self.link_user(RESET, token).await?.is_some())
    }

    /// Sets a new password with a reset link: once, while it is valid. Everything issued on
    /// the old password ends (sessions on every instance, refresh and opaque access tokens);
    /// the address counts as proven. `Ok(false)`: the link does not work (used, expired, unknown).
    pub async fn reset_password_with_link(
        &self,
        token: &str,
        password: &str,
        address: &str,
    ) -> Result<bool> {
        model::names::check_password("password", password)?;
        if self.link_user(RESET, token).await?.is_none() {
            return Ok(false);
        }
        // Hashed before the transaction: Argon2 holds no lock.
        let hash = self.hasher.hash(password.to_string()).await?;
        let mut tx = self.store.begin_write().await?;
        let Some(user_id) = Self::claim_link(&mut tx, RESET, token).await? else {
            return Ok(false);
        };
        let Some(row) = crate::users::user_by_id(&mut tx, &user_id).await? else {
            return Ok(false);
        };
        let login = row.user.login_name.clone();
        crate::users::replace_password_hash_in(
            &mut tx,
            Who::Person {
                login: &login,
                address: Some(address),
            },
            &user_id,
            &hash,
        )
        .await?;
        sqlx::query("UPDATE users SET email_verified = 1 WHERE id = $1")
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        // Other reset links of the person stop working too.
        sqlx::query("UPDATE email_links SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(now())
            .bind(&user_id)
            .bind(RESET)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.on_user_credentials_changed(&user_id).await?;
        self.lift_throttle(&login).await?;
        Ok(true)
    }

    /// Sign-up: a disabled person with `new`'s login name, address and password, and a
    /// verification link mailed to the address. The same answer (`Ok`) when the address is
    /// taken already (then nothing is made or sent): the page does not tell who has an account.
    pub async fn sign_up(
        &self,
        new: NewUser,
        address: &str,
        lang: model::i18n::Lang,
    ) -> std::result::Result<(), SignUpError> {
        let open = self.offers().sign_up;
        if !open {
            return Err(SignUpError::Closed);
        }
        if !self.self_service_limit.allows(address) {
            return Err(SignUpError::Throttled);
        }
        let email = crate::names::Email::parse(&new.email)
            .map_err(DomainError::from)?
            .into_inner();
        if email.is_empty() {
            return Err(SignUpError::Invalid(
                "email".into(),
                "an e-mail address is required".into(),
            ));
        }
        let domain = email.rsplit('@').next().unwrap_or_default().to_lowercase();
        let allowed = &self
            .self_service()
            .map(|s| s.allowed_domains.clone())
            .unwrap_or_default();
        if !allowed.is_empty() && !allowed.contains(&domain) {
            return Err(SignUpError::Invalid(
                "email".into(),
                "addresses of this domain cannot sign up here".into(),
            ));
        }
        let (taken,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE LOWER(email) = $1")
            .bind(email.to_lowercase())
            .fetch_one(&self.store.pool)
            .await
            .map_err(DomainError::from)?;
        if taken > 0 {
            return Ok(());
        }
        let login = new.login_name.trim().to_string();
        let prepared = crate::users::prepare_user(
            &self.hasher,
            NewUser {
                enabled: false,
                is_oauth_confidential_client: false,
                jwks: None,
                email,
                ..new
            },
            None,
        )
        .await?;
        let mut tx = self.store.begin_write().await.map_err(DomainError::from)?;
        let user = crate::users::insert_user_in(
            &mut tx,
            prepared,
            Who::Person {
                login: &login,
                address: Some(address),
            },
        )
        .await?;
        let token = Self::new_link(&mut tx, VERIFY, &user.id, VERIFY_MINUTES).await?;
        tx.commit().await.map_err(DomainError::from)?;
        let link = format!("{}/signup/verify?token={token}", self.public_url);
        let mail = link_mail(
            lang,
            LinkKind::VerifyAddress,
            &self.branding().product_name,
            &user.display_name,
            &link,
            VERIFY_MINUTES,
        )
        .map_err(DomainError::Internal)?;
        self.send_later(user.email.clone(), mail);
        Ok(())
    }

    /// Follows a verification link: the person is enabled, their address verified, and they
    /// join the configured role. `Ok(None)`: the link does not work; else their login name.
    pub async fn verify_address(&self, token: &str, address: &str) -> Result<Option<String>> {
        let mut tx = self.store.begin_write().await?;
        let Some(user_id) = Self::claim_link(&mut tx, VERIFY, token).await? else {
            return Ok(None);
        };
        let Some(row) = crate::users::user_by_id(&mut tx, &user_id).await? else {
            return Ok(None);
        };
        let login = row.user.login_name.clone();
        let entry = Entry::new("user.verified", "user", &user_id)
            .named(&login)
            .changes(vec![
                ("enabled".into(), Some("false".into()), Some("true".into())),
                (
                    "email_verified".into(),
                    Some("false".into()),
                    Some("true".into()),
                ),
            ]);
        crate::audit::audited_change_in(
            &mut tx,
            sqlx::query("UPDATE users SET enabled = 1, email_verified = 1 WHERE id = $1")
                .bind(&user_id),
            DomainError::from,
            Who::Person {
                login: &login,
                address: Some(address),
            },
            &entry,
            false,
        )
        .await?;
        let role = self.self_service().and_then(|s| s.default_role.clone());
        if let Some(role) = role {
            crate::roles::add_to_role_named_in(&mut tx, &role, &user_id).await?;
        }
        tx.commit().await?;
        self.after_user_update(&user_id, false).await?;
        self.on_roles_changed().await?;
        Ok(Some(login))
    }
}
