//! The directory's users: people and OAuth confidential clients (SPEC §2).

use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::audited_change_in;
use crate::audit::{self, Entry, Who};
use crate::clock::now;
use crate::clock::rfc3339;
use crate::error::{DomainError, Result};
use crate::names::{check_password, Email, LoginName};
use crate::rights::{Principal, Right};
use crate::store::{get_bool, like_escape, on_unique};
use crate::{Page, Services};

pub use model::users::User;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUser {
    pub login_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    pub password: String,
    #[serde(default)]
    pub is_oauth_confidential_client: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Public keys for `private_key_jwt` (a JWK set); absent or null: none.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub jwks: Option<serde_json::Value>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserPatch {
    pub login_name: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub password: Option<String>,
    pub is_oauth_confidential_client: Option<bool>,
    pub enabled: Option<bool>,
    /// A JWK set replaces the client's keys; `null` removes them.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub jwks: Option<serde_json::Value>,
}

/// A field that was sent, even as `null` (Some(Null)), apart from one that was not (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// The stored form of a `jwks` field: checked, or None for null.
pub(crate) fn jwks_text(v: Option<&serde_json::Value>) -> Result<Option<String>> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => crate::jwks::check_jwks(v).map(Some),
    }
}

/// The row as stored, with the hash: it stays inside the domain.
pub struct UserRow {
    pub user: User,
    pub password_hash: String,
    pub secret_version: i64,
    /// The registered JWK set as stored.
    pub jwks: Option<String>,
}

pub(crate) const USER_COLS: &str = "id, login_name, email, display_name, password_hash, is_oauth_confidential_client, enabled, secret_version, created_at, jwks, email_verified";

pub(crate) fn user_row(row: &AnyRow) -> Result<UserRow, sqlx::Error> {
    let jwks: Option<String> = row.try_get("jwks")?;
    let parsed = match &jwks {
        Some(t) => Some(serde_json::from_str(t).map_err(|e| sqlx::Error::Decode(Box::new(e)))?),
        None => None,
    };
    Ok(UserRow {
        user: User {
            id: row.try_get("id")?,
            login_name: row.try_get("login_name")?,
            email: row.try_get("email")?,
            display_name: row.try_get("display_name")?,
            is_oauth_confidential_client: get_bool(row, "is_oauth_confidential_client")?,
            enabled: get_bool(row, "enabled")?,
            created_at: rfc3339(row.try_get("created_at")?),
            jwks: parsed,
            email_verified: get_bool(row, "email_verified")?,
        },
        password_hash: row.try_get("password_hash")?,
        secret_version: row.try_get("secret_version")?,
        jwks,
    })
}

/// What the audit log shows for a secret that was set or changed (never its value).
const SET: &str = "(set)";
const CHANGED: &str = "(changed)";

/// The user's fields that differ, for the audit log (the password is never among them).
fn user_diff(old: Option<&User>, new: &User) -> Vec<crate::audit::FieldChange> {
    let o = old
        .and_then(|o| serde_json::to_value(o).ok())
        .unwrap_or_default();
    let n = serde_json::to_value(new).unwrap_or_default();
    // A new user's address is unverified: not worth a line in its record.
    let skip: &[&str] = match old {
        None => &["id", "created_at", "email_verified"],
        Some(_) => &["id", "created_at"],
    };
    crate::audit::json_diff(&o, &n, skip)
}

fn display_or_login(display: &str, login: &LoginName) -> Result<String> {
    let d = crate::names::normal_form(display);
    Ok(if d.is_empty() {
        login.as_str().to_string()
    } else {
        d.chars().take(256).collect()
    })
}

impl Services {
    /// Creates a user; needs the `users` right.
    pub async fn create_user(&self, actor: &Principal, new: NewUser) -> Result<User> {
        actor.require(Right::Users)?;
        self.create_user_unchecked(new, Who::Principal(actor), None)
            .await
    }

    /// Creates a user without a rights check: for bootstrap and the doors that checked already.
    /// `hash`: a password hash to store as it is (an import; a PHC string or
    /// `passwords::UNUSABLE`) instead of hashing `new.password`.
    pub(crate) async fn create_user_unchecked(
        &self,
        new: NewUser,
        who: Who<'_>,
        hash: Option<String>,
    ) -> Result<User> {
        let prepared = prepare_user(&self.hasher, new, hash).await?;
        let mut tx = self.store.begin_write().await?;
        let user = insert_user_in(&mut tx, prepared, who).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn get_user(&self, actor: &Principal, id: &str) -> Result<User> {
        actor.require(Right::Users)?;
        Ok(self
            .user_row_by_id(id)
            .await?
            .ok_or(DomainError::NotFound("user"))?
            .user)
    }

    pub(crate) async fn user_row_by_id(&self, id: &str) -> Result<Option<UserRow>> {
        user_by_id(&mut *self.store.pool.acquire().await?, id).await
    }

    pub(crate) async fn user_row_by_login(&self, login: &str) -> Result<Option<UserRow>> {
        user_by_login(&mut *self.store.pool.acquire().await?, login).await
    }

    /// Users ordered by login name, optionally filtered by login name.
    pub async fn list_users(
        &self,
        actor: &Principal,
        filter: UserFilter<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<Page<User>> {
        actor.require(Right::Users)?;
        let (limit, offset) = crate::clamp_page(limit, offset);
        let (where_, arg) = match filter {
            UserFilter::Exact(l) => ("WHERE login_name_lower = $1", Some(l.trim().to_lowercase())),
            UserFilter::Contains(f) if !f.trim().is_empty() => (
                "WHERE login_name_lower LIKE $1 ESCAPE '\\'",
                Some(format!("%{}%", like_escape(&f.trim().to_lowercase()))),
            ),
            _ => ("", None),
        };
        let (l, o) = if arg.is_some() {
            ("$2", "$3")
        } else {
            ("$1", "$2")
        };
        let sql = format!(
            "SELECT {USER_COLS} FROM users {where_} ORDER BY login_name_lower LIMIT {l} OFFSET {o}"
        );
        let mut q = sqlx::query(&sql);
        if let Some(a) = &arg {
            q = q.bind(a);
        }
        let rows = q
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.store.pool)
            .await?;
        let count_sql = format!("SELECT COUNT(*) AS n FROM users {where_}");
        let mut cq = sqlx::query(&count_sql);
        if let Some(a) = &arg {
            cq = cq.bind(a);
        }
        let total: i64 = cq.fetch_one(&self.store.pool).await?.try_get("n")?;
        let items = rows
            .iter()
            .map(|r| user_row(r).map(|u| u.user))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, total })
    }

    pub async fn update_user(&self, actor: &Principal, id: &str, patch: UserPatch) -> Result<User> {
        actor.require(Right::Users)?;
        let current = self
            .user_row_by_id(id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        self.require_over_user(actor, id, &current.user.login_name, "user.update")
            .await?;
        // A new password is hashed before the transaction: Argon2 holds no lock.
        let hash = match &patch.password {
            Some(p) if !p.is_empty() => {
                check_password("password", p)?;
                Some(self.hasher.hash(p.clone()).await?)
            }
            _ => None,
        };
        let mut tx = self.store.begin_write().await?;
        let (user, credentials) =
            update_user_in(&mut tx, Who::Principal(actor), id, patch, hash).await?;
        tx.commit().await?;
        self.after_user_update(id, credentials).await?;
        Ok(user)
    }

    /// What follows a committed update of `id`: with `credentials` (a secret, the enabled or
    /// client flag changed, or the user is disabled) everything issued on the old ones ends.
    pub(crate) async fn after_user_update(&self, id: &str, credentials: bool) -> Result<()> {
        if credentials {
            self.on_user_credentials_changed(id).await?;
        }
        self.principals.invalidate_all();
        Ok(())
    }

    pub async fn delete_user(&self, actor: &Principal, id: &str) -> Result<()> {
        actor.require(Right::Users)?;
        if actor.user_id == id {
            return Err(DomainError::Conflict("you cannot delete yourself".into()));
        }
        let Some(gone) = self.user_row_by_id(id).await? else {
            return Err(DomainError::NotFound("user"));
        };
        self.require_over_user(actor, id, &gone.user.login_name, "user.delete")
            .await?;
        let mut tx = self.store.begin_write().await?;
        delete_user_in(&mut tx, Who::Principal(actor), id).await?;
        tx.commit().await?;
        // Everything issued to or for the user stops working.
        self.before_user_deleted(id).await?;
        Ok(())
    }

    /// Sets a user's password hash as it is (an import made `--with-secrets`); needs System
    /// Administrator.
    pub async fn set_password_hash(&self, actor: &Principal, id: &str, hash: &str) -> Result<()> {
        actor.require_sysadmin()?;
        if argon2::PasswordHash::new(hash).is_err() {
            return Err(DomainError::invalid(
                "password_hash",
                "not an Argon2 PHC string",
            ));
        }
        self.replace_password_hash(Who::Principal(actor), id, hash)
            .await
    }

    async fn replace_password_hash(&self, who: Who<'_>, id: &str, hash: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        replace_password_hash_in(&mut tx, who, id, hash).await?;
        tx.commit().await?;
        self.on_user_credentials_changed(id).await
    }

    /// For an administrator locked out (the command line): gives the user a new password,
    /// enables them and lifts the sign-in throttle on their login name. Returns the user id.
    pub async fn reset_password(&self, login: &str, password: &str) -> Result<String> {
        check_password("password", password)?;
        let row = self
            .user_row_by_login(login)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        let hash = self.hasher.hash(password.to_string()).await?;
        self.replace_password_hash(Who::System, &row.user.id, &hash)
            .await?;
        if !row.user.enabled {
            let entry = Entry::new("user.update", "user", &row.user.id)
                .named(&row.user.login_name)
                .changes(vec![(
                    "enabled".into(),
                    Some("false".into()),
                    Some("true".into()),
                )]);
            self.audited_change(
                sqlx::query("UPDATE users SET enabled = 1 WHERE id = $1").bind(&row.user.id),
                DomainError::from,
                Who::System,
                &entry,
                false,
            )
            .await?;
        }
        self.lift_throttle(&row.user.login_name).await?;
        Ok(row.user.id)
    }

    /// The id of the user with this login name (case-insensitive).
    pub async fn user_id_by_login(&self, actor: &Principal, login: &str) -> Result<Option<String>> {
        if !(actor.has(Right::Users) || actor.has(Right::Roles)) {
            return Err(DomainError::Forbidden(
                "this needs the admin right \"users\" or \"roles\"".into(),
            ));
        }
        Ok(self.user_row_by_login(login).await?.map(|r| r.user.id))
    }

    /// Sign-in of a person by login name and password, throttled per account and per address.
    /// Every failure is the same error, whatever was wrong. Identical concurrent attempts (same
    /// name, password and address) share one verification and count once.
    pub async fn authenticate_person(
        &self,
        login: &str,
        password: &str,
        client_addr: &str,
    ) -> Result<(User, i64), AuthError> {
        let key = crate::signin::attempt_key(login, password, client_addr);
        self.person_flights
            .run(key, || async {
                crate::signin::SharedOutcome::of(
                    self.authenticate_person_once(login, password, client_addr)
                        .await,
                )
            })
            .await
            .into_result()
    }

    async fn authenticate_person_once(
        &self,
        login: &str,
        password: &str,
        client_addr: &str,
    ) -> Result<(User, i64), AuthError> {
        // A full queue refuses before anything is counted or read.
        if !self.hasher.has_room() {
            return Err(AuthError::Busy);
        }
        let keys = crate::throttle::AttemptKeys::new(login, client_addr);
        self.throttle_begin(&keys).await?;
        let row = self
            .user_row_by_login(login)
            .await
            .map_err(AuthError::Domain)?;
        let Ok(ok) = self
            .hasher
            .verify(
                password.to_string(),
                row.as_ref().map(|r| r.password_hash.clone()),
            )
            .await
        else {
            self.throttle_unverified(&keys).await?;
            return Err(AuthError::Busy);
        };
        match row {
            // Confidential clients (machines) never sign in as a person.
            Some(r) if ok && r.user.enabled && !r.user.is_oauth_confidential_client => {
                self.throttle_succeeded(&keys).await?;
                Ok((r.user, r.secret_version))
            }
            // The attempt was counted before it was verified.
            _ => Err(AuthError::InvalidCredentials),
        }
    }

    /// The user's current credential version (what a session signed in now would remember).
    pub async fn credential_version(&self, user_id: &str) -> Result<Option<i64>> {
        Ok(self
            .user_row_by_id(user_id)
            .await?
            .map(|r| r.secret_version))
    }

    /// Resolves the user behind a bearer token to the principal with its rights; None when the
    /// user is gone or disabled.
    pub async fn principal(&self, user_id: &str) -> Result<Option<Principal>> {
        let Some(row) = self.user_row_by_id(user_id).await? else {
            return Ok(None);
        };
        if !row.user.enabled {
            return Ok(None);
        }
        self.principal_of(row.user).await.map(Some)
    }

    /// Resolves a portal session: the person it was signed in as, with the credential version
    /// of that sign-in (`credential`). None when the user is gone, disabled, a confidential
    /// client, or their credentials changed since (a password change or reset, disabling,
    /// new client keys: every session of theirs ends, on every instance).
    pub async fn session_principal(
        &self,
        user_id: &str,
        credential: i64,
    ) -> Result<Option<Principal>> {
        let Some(row) = self.user_row_by_id(user_id).await? else {
            return Ok(None);
        };
        if !row.user.enabled
            || row.user.is_oauth_confidential_client
            || row.secret_version != credential
        {
            return Ok(None);
        }
        self.principal_of(row.user).await.map(Some)
    }

    async fn principal_of(&self, user: User) -> Result<Principal> {
        let standing = self.standing(&user.id).await?;
        Ok(Principal {
            user_id: user.id,
            login_name: user.login_name,
            display_name: user.display_name,
            rights: standing.rights,
            sysadmin: standing.sysadmin,
            origin: Default::default(),
        })
    }
}

pub(crate) async fn user_by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<UserRow>> {
    let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| user_row(&r)).transpose()?)
}

pub(crate) async fn user_by_login(
    conn: &mut AnyConnection,
    login: &str,
) -> Result<Option<UserRow>> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLS} FROM users WHERE login_name_lower = $1"
    ))
    .bind(login.trim().to_lowercase())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| user_row(&r)).transpose()?)
}

/// A new user, checked and with its password hash: everything but the database.
pub(crate) struct PreparedUser {
    login: LoginName,
    email: Email,
    display: String,
    jwks: Option<String>,
    hash: String,
    /// The hash came as it is (an import), not from a password.
    preset: bool,
    confidential: bool,
    enabled: bool,
}

/// Checks `new` and hashes its password (or takes `hash` as it is).
pub(crate) async fn prepare_user(
    hasher: &crate::passwords::Hasher,
    new: NewUser,
    hash: Option<String>,
) -> Result<PreparedUser> {
    let login = crate::names::login_name(&new.login_name)?;
    let email = Email::parse(&new.email)?;
    if hash.is_none() {
        check_password("password", &new.password)?;
    }
    let display = display_or_login(&new.display_name, &login)?;
    let jwks = jwks_text(new.jwks.as_ref())?;
    let preset = hash.is_some();
    let hash = match hash {
        Some(h) => h,
        None => hasher.hash(new.password).await?,
    };
    Ok(PreparedUser {
        login,
        email,
        display,
        jwks,
        hash,
        preset,
        confidential: new.is_oauth_confidential_client,
        enabled: new.enabled,
    })
}

/// Inserts a prepared user and its audit record on `conn` (a transaction).
pub(crate) async fn insert_user_in(
    conn: &mut AnyConnection,
    p: PreparedUser,
    who: Who<'_>,
) -> Result<User> {
    insert_users_in(conn, vec![p], who)
        .await?
        .pop()
        .ok_or_else(|| DomainError::Internal("a user insert returned no user".into()))
}

/// Inserts many prepared users and their audit records on `conn` (a transaction) in a few
/// statements (an import of a directory), and returns them. A login name taken already fails
/// the whole batch.
pub(crate) async fn insert_users_in(
    conn: &mut AnyConnection,
    prepared: Vec<PreparedUser>,
    who: Who<'_>,
) -> Result<Vec<User>> {
    let t = now();
    let mut inserted = Vec::with_capacity(prepared.len());
    for chunk in prepared.chunks(100) {
        let sql = format!(
            "INSERT INTO users (id, login_name, login_name_lower, email, display_name, password_hash, is_oauth_confidential_client, enabled, secret_version, created_at, updated_at, jwks) VALUES {}",
            crate::store::value_rows(chunk.len(), 12)
        );
        let ids: Vec<String> = chunk
            .iter()
            .map(|_| uuid::Uuid::new_v4().to_string())
            .collect();
        let mut q = sqlx::query(&sql);
        for (p, id) in chunk.iter().zip(&ids) {
            q = q
                .bind(id)
                .bind(p.login.as_str())
                .bind(p.login.lower())
                .bind(p.email.as_str())
                .bind(&p.display)
                .bind(&p.hash)
                .bind(p.confidential as i64)
                .bind(p.enabled as i64)
                .bind(0_i64)
                .bind(t)
                .bind(t)
                .bind(&p.jwks);
        }
        q.execute(&mut *conn).await.map_err(on_unique(
            "login_name",
            "a user with this Login Name already exists",
        ))?;
        let users: Vec<User> = chunk
            .iter()
            .zip(&ids)
            .map(|(p, id)| User {
                id: id.clone(),
                login_name: p.login.as_str().to_string(),
                email: p.email.as_str().to_string(),
                display_name: p.display.clone(),
                is_oauth_confidential_client: p.confidential,
                enabled: p.enabled,
                created_at: rfc3339(t),
                jwks: p.jwks.as_deref().and_then(|t| serde_json::from_str(t).ok()),
                email_verified: false,
            })
            .collect();
        let entries: Vec<Entry<'_>> = chunk
            .iter()
            .zip(&users)
            .map(|(p, u)| {
                let mut changes = user_diff(None, u);
                if !p.preset || p.hash != crate::passwords::UNUSABLE {
                    changes.push(("password".into(), None, Some(SET.into())));
                }
                Entry::new("user.create", "user", &u.id)
                    .named(&u.login_name)
                    .changes(changes)
            })
            .collect();
        audit::write_many(conn, who, &entries).await?;
        drop(entries);
        inserted.extend(users);
    }
    Ok(inserted)
}

/// Applies `patch` to user `id` on `conn` (a transaction), with `new_hash` the hash of a new
/// password (hashed by the caller, outside the transaction; `patch.password` is not read).
/// Returns the user and whether its credentials changed (what was issued on them must end:
/// `after_user_update`). A patch that changes nothing writes nothing.
pub(crate) async fn update_user_in(
    conn: &mut AnyConnection,
    who: Who<'_>,
    id: &str,
    patch: UserPatch,
    new_hash: Option<String>,
) -> Result<(User, bool)> {
    let current = user_by_id(conn, id)
        .await?
        .ok_or(DomainError::NotFound("user"))?;
    let mut u = current.user.clone();
    let mut secret_changed = false;
    if let Some(l) = &patch.login_name {
        u.login_name = crate::names::login_name(l)?.into_inner();
    }
    if let Some(e) = &patch.email {
        u.email = Email::parse(e)?.into_inner();
        // Another address is not proven until its owner follows a link sent to it.
        if !u.email.eq_ignore_ascii_case(&current.user.email) {
            u.email_verified = false;
        }
    }
    if let Some(d) = &patch.display_name {
        u.display_name = display_or_login(d, &LoginName::parse(&u.login_name)?)?;
    }
    if let Some(c) = patch.is_oauth_confidential_client {
        secret_changed |= c != u.is_oauth_confidential_client;
        u.is_oauth_confidential_client = c;
    }
    if let Some(e) = patch.enabled {
        secret_changed |= e != u.enabled;
        u.enabled = e;
    }
    let mut jwks = current.jwks.clone();
    if let Some(v) = &patch.jwks {
        let new = jwks_text(Some(v))?;
        secret_changed |= new != jwks;
        jwks = new;
        u.jwks = jwks.as_deref().and_then(|t| serde_json::from_str(t).ok());
    }
    secret_changed |= new_hash.is_some();
    let hash = new_hash.unwrap_or_else(|| current.password_hash.clone());
    let mut changes = user_diff(Some(&current.user), &u);
    if hash != current.password_hash {
        changes.push(("password".into(), None, Some(CHANGED.into())));
    }
    if changes.is_empty() {
        // Nothing changed: no write, no record.
        return Ok((u, false));
    }
    let version = current.secret_version + secret_changed as i64;
    let lower = u.login_name.to_lowercase();
    let update = sqlx::query(
        "UPDATE users SET login_name = $1, login_name_lower = $2, email = $3, display_name = $4, password_hash = $5, \
         is_oauth_confidential_client = $6, enabled = $7, secret_version = $8, updated_at = $9, jwks = $11, email_verified = $12 WHERE id = $10",
    )
    .bind(&u.login_name)
    .bind(&lower)
    .bind(&u.email)
    .bind(&u.display_name)
    .bind(&hash)
    .bind(u.is_oauth_confidential_client as i64)
    .bind(u.enabled as i64)
    .bind(version)
    .bind(now())
    .bind(id)
    .bind(jwks)
    .bind(u.email_verified as i64);
    let duplicate = on_unique("login_name", "a user with this Login Name already exists");
    let entry = Entry::new("user.update", "user", id)
        .named(&u.login_name)
        .changes(changes);
    // Disabling, or turning a person into a machine, may take the last administrator away:
    // checked in the same transaction.
    let last_admin_rule = (current.user.enabled && !u.enabled)
        || (!current.user.is_oauth_confidential_client && u.is_oauth_confidential_client);
    audited_change_in(conn, update, duplicate, who, &entry, last_admin_rule).await?;
    let credentials = secret_changed || !u.enabled;
    Ok((u, credentials))
}

/// Deletes user `id` and writes its record on `conn`; the caller ends what was issued to them
/// after the commit (`before_user_deleted`).
pub(crate) async fn delete_user_in(conn: &mut AnyConnection, who: Who<'_>, id: &str) -> Result<()> {
    let gone = user_by_id(conn, id)
        .await?
        .ok_or(DomainError::NotFound("user"))?;
    let entry = Entry::new("user.delete", "user", id).named(&gone.user.login_name);
    let deleted = audited_change_in(
        conn,
        sqlx::query("DELETE FROM users WHERE id = $1").bind(id),
        DomainError::from,
        who,
        &entry,
        true,
    )
    .await?;
    if deleted == 0 {
        return Err(DomainError::NotFound("user"));
    }
    Ok(())
}

/// Stores `hash` as user `id`'s password hash on `conn`; the caller ends what was issued on the
/// old one after the commit.
pub(crate) async fn replace_password_hash_in(
    conn: &mut AnyConnection,
    who: Who<'_>,
    id: &str,
    hash: &str,
) -> Result<()> {
    let row = user_by_id(conn, id)
        .await?
        .ok_or(DomainError::NotFound("user"))?;
    let entry = Entry::new("user.update", "user", id)
        .named(&row.user.login_name)
        .changes(vec![("password".into(), None, Some(CHANGED.into()))]);
    audited_change_in(
        conn,
        sqlx::query(
            "UPDATE users SET password_hash = $1, secret_version = secret_version + 1, updated_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(now())
        .bind(id),
        DomainError::from,
        who,
        &entry,
        false,
    )
    .await?;
    Ok(())
}

/// How a user list is filtered by login name (case-insensitively).
#[derive(Clone, Copy, Debug)]
pub enum UserFilter<'a> {
    All,
    Exact(&'a str),
    Contains(&'a str),
}

pub use crate::error::AuthError;

/// The language a person chose for the pages and mail they get (their own page, `/account/
/// security`); none: the language their browser asks for.
impl Services {
    /// `user_id`'s chosen language. A stored tag this build does not speak counts as none.
    pub async fn person_language(&self, user_id: &str) -> Result<Option<model::i18n::Lang>> {
        let tag: Option<Option<String>> =
            sqlx::query_scalar("SELECT language FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.store.pool)
                .await?;
        Ok(tag.flatten().and_then(|t| model::i18n::Lang::from_tag(&t)))
    }

    /// Sets (or, with None, forgets) `user_id`'s language.
    pub async fn set_person_language(
        &self,
        user_id: &str,
        lang: Option<model::i18n::Lang>,
    ) -> Result<()> {
        let done = sqlx::query("UPDATE users SET language = $1 WHERE id = $2")
            .bind(lang.map(|l| l.tag()))
            .bind(user_id)
            .execute(&self.store.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(DomainError::NotFound("user"));
        }
        Ok(())
    }
}
