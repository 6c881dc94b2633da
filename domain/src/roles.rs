//! Roles: members, admin rights, and the built-in System Administrator and Everybody (SPEC §2).

use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, audited_change_in, Entry, Who};
use crate::clock::now;
use crate::clock::rfc3339;
use crate::error::{DomainError, Result};
use crate::names::RoleName;
use crate::rights::{parse_rights, rights_from_db, rights_to_db, Principal, Right};
use crate::store::on_unique;
use crate::{Page, Services};

pub use model::roles::{Role, EVERYBODY, SYSADMIN};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewRole {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub admin_rights: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub admin_rights: Option<Vec<String>>,
}

fn role_row(row: &AnyRow) -> Result<Role, sqlx::Error> {
    Ok(Role {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        admin_rights: rights_from_db(&row.try_get::<String, _>("admin_rights")?),
        builtin: row.try_get("builtin")?,
        members: Vec::new(),
        created_at: rfc3339(row.try_get("created_at")?),
    })
}

/// The role's fields that differ, for the audit log (members have their own records).
fn role_diff(old: Option<&Role>, new: &Role) -> Vec<audit::FieldChange> {
    let value = |r: &Role| {
        serde_json::json!({
            "name": r.name,
            "description": r.description,
            "admin_rights": r.admin_rights,
        })
    };
    audit::json_diff(&old.map(value).unwrap_or_default(), &value(new), &[])
}

const ROLE_COLS: &str = "id, name, description, admin_rights, builtin, created_at";

fn check_description(d: &str) -> Result<String> {
    if d.chars().count() > 1024 {
        return Err(DomainError::invalid(
            "description",
            "Description is at most 1024 characters",
        ));
    }
    Ok(d.trim().to_string())
}

impl Services {
    pub async fn create_role(&self, actor: &Principal, new: NewRole) -> Result<Role> {
        actor.require(Right::Roles)?;
        let name = crate::names::role_name(&new.name)?;
        let description = check_description(&new.description)?;
        let rights = parse_rights("admin_rights", &new.admin_rights)?;
        self.require_rights_held(actor, &rights, "role.create", ("role", "", name.as_str()))
            .await?;
        self.insert_role(&name, &description, &rights, None, Who::Principal(actor))
            .await
    }

    /// Creates a role from `new` (checked) on `conn`, a transaction; the caller checked rights.
    pub(crate) async fn create_role_in(
        conn: &mut AnyConnection,
        who: Who<'_>,
        new: &NewRole,
    ) -> Result<Role> {
        let name = crate::names::role_name(&new.name)?;
        let description = check_description(&new.description)?;
        let rights = parse_rights("admin_rights", &new.admin_rights)?;
        insert_role_in(conn, &name, &description, &rights, None, who).await
    }

    pub(crate) async fn insert_role(
        &self,
        name: &RoleName,
        description: &str,
        rights: &[Right],
        builtin: Option<&str>,
        who: Who<'_>,
    ) -> Result<Role> {
        let mut tx = self.store.begin_write().await?;
        let role = insert_role_in(&mut tx, name, description, rights, builtin, who).await?;
        tx.commit().await?;
        Ok(role)
    }

    pub async fn get_role(&self, actor: &Principal, id: &str) -> Result<Role> {
        actor.require(Right::Roles)?;
        self.role_by_id(id).await
    }

    pub(crate) async fn role_by_id(&self, id: &str) -> Result<Role> {
        role_by_id_on(&mut *self.store.pool.acquire().await?, id).await
    }

    pub async fn list_roles(
        &self,
        actor: &Principal,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Role>> {
        actor.require(Right::Roles)?;
        self.all_roles(limit, offset).await
    }

    /// Roles without a rights check: what an app's User Access picker needs.
    pub async fn role_names(&self, actor: &Principal) -> Result<Vec<(String, String)>> {
        if !actor.any_admin_right() {
            return Err(DomainError::Forbidden("this needs an admin right".into()));
        }
        let rows = sqlx::query("SELECT id, name FROM roles ORDER BY name_lower")
            .fetch_all(&self.store.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn all_roles(&self, limit: i64, offset: i64) -> Result<Page<Role>> {
        let (limit, offset) = crate::clamp_page(limit, offset);
        let rows = sqlx::query(&format!(
            "SELECT {ROLE_COLS} FROM roles ORDER BY name_lower LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.store.pool)
        .await?;
        let mut items = rows.iter().map(role_row).collect::<Result<Vec<_>, _>>()?;
        if !items.is_empty() {
            let members = sqlx::query("SELECT role_id, user_id FROM role_members")
                .fetch_all(&self.store.pool)
                .await?;
            for m in members {
                let rid: String = m.try_get("role_id")?;
                if let Some(role) = items.iter_mut().find(|r| r.id == rid) {
                    role.members.push(m.try_get("user_id")?);
                }
            }
        }
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM roles")
            .fetch_one(&self.store.pool)
            .await?
            .try_get("n")?;
        Ok(Page { items, total })
    }

    pub async fn update_role(&self, actor: &Principal, id: &str, patch: RolePatch) -> Result<Role> {
        actor.require(Right::Roles)?;
        let before = self.role_by_id(id).await?;
        let role = role_after(&before, &patch)?;
        if role_diff(Some(&before), &role).is_empty() {
            return Ok(role);
        }
        let object = ("role", id, before.name.as_str());
        if before.builtin.as_deref() == Some("sysadmin") {
            self.require_sysadmin_for(
                actor,
                "role.update",
                object,
                "only a System Administrator may change System Administrator",
            )
            .await?;
        }
        if before.admin_rights != role.admin_rights
            && before.builtin.as_deref() == Some("everybody")
        {
            self.require_sysadmin_for(
                actor,
                "role.update",
                object,
                "only a System Administrator may change the rights of Everybody",
            )
            .await?;
        }
        // Old and new rights: nobody grants, or takes away, a right it does not hold.
        let mut touched = before.admin_rights.clone();
        touched.extend(role.admin_rights.iter().copied());
        self.require_rights_held(actor, &touched, "role.update", object)
            .await?;
        let mut tx = self.store.begin_write().await?;
        let role = update_role_in(&mut tx, Who::Principal(actor), id, &patch).await?;
        tx.commit().await?;
        self.on_roles_changed().await?;
        Ok(role)
    }

    pub async fn delete_role(&self, actor: &Principal, id: &str) -> Result<()> {
        actor.require(Right::Roles)?;
        let role = self.role_by_id(id).await?;
        if role.builtin.is_some() {
            return Err(DomainError::Conflict(format!(
                "the built-in role {} cannot be deleted",
                role.name
            )));
        }
        self.require_rights_held(
            actor,
            &role.admin_rights,
            "role.delete",
            ("role", id, &role.name),
        )
        .await?;
        let mut tx = self.store.begin_write().await?;
        delete_role_in(&mut tx, Who::Principal(actor), id).await?;
        tx.commit().await?;
        self.on_role_deleted(&role.name).await?;
        self.on_roles_changed().await?;
        Ok(())
    }

    pub async fn add_role_member(
        &self,
        actor: &Principal,
        role_id: &str,
        user_id: &str,
    ) -> Result<()> {
        actor.require(Right::Roles)?;
        let role = self.role_by_id(role_id).await?;
        if role.builtin.as_deref() == Some("everybody") {
            return Err(DomainError::Conflict(
                "Everybody contains every enabled user already".into(),
            ));
        }
        self.require_over_role_members(actor, &role, "role.member_add")
            .await?;
        let mut tx = self.store.begin_write().await?;
        add_role_member_in(&mut tx, Who::Principal(actor), role_id, user_id).await?;
        tx.commit().await?;
        self.on_roles_changed().await?;
        Ok(())
    }

    pub async fn remove_role_member(
        &self,
        actor: &Principal,
        role_id: &str,
        user_id: &str,
    ) -> Result<()> {
        actor.require(Right::Roles)?;
        let role = self.role_by_id(role_id).await?;
        if !role.members.iter().any(|m| m == user_id) {
            return Err(DomainError::NotFound("member"));
        }
        self.require_over_role_members(actor, &role, "role.member_remove")
            .await?;
        let mut tx = self.store.begin_write().await?;
        remove_role_member_in(&mut tx, Who::Principal(actor), role_id, user_id).await?;
        tx.commit().await?;
        self.on_roles_changed().await?;
        Ok(())
    }

    /// Members of System Administrator are a System Administrator's decision; of any other
    /// role, of someone who holds every right the role gives.
    async fn require_over_role_members(
        &self,
        actor: &Principal,
        role: &Role,
        action: &'static str,
    ) -> Result<()> {
        let object = ("role", role.id.as_str(), role.name.as_str());
        if role.builtin.as_deref() == Some("sysadmin") {
            return self
                .require_sysadmin_for(
                    actor,
                    action,
                    object,
                    "only a System Administrator may change the members of System Administrator",
                )
                .await;
        }
        self.require_rights_held(actor, &role.admin_rights, action, object)
            .await
    }

    /// (user id, login name) of a role's explicit members, in login-name order, in one query.
    pub async fn role_member_names(
        &self,
        actor: &Principal,
        role_id: &str,
    ) -> Result<Vec<(String, String)>> {
        actor.require(Right::Roles)?;
        let rows = sqlx::query(
            "SELECT u.id, u.login_name FROM role_members m JOIN users u ON u.id = m.user_id WHERE m.role_id = $1 ORDER BY u.login_name_lower",
        )
        .bind(role_id)
        .fetch_all(&self.store.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("login_name")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// The roles a user is an explicit member of, by id and name.
    pub async fn roles_of_user(
        &self,
        actor: &Principal,
        user_id: &str,
    ) -> Result<Vec<(String, String)>> {
        actor.require(Right::Users)?;
        let rows = sqlx::query("SELECT r.id, r.name FROM roles r JOIN role_members m ON m.role_id = r.id WHERE m.user_id = $1 ORDER BY r.name_lower")
            .bind(user_id)
            .fetch_all(&self.store.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Runs `change` and writes its audit record in one transaction (`audited_change_in`).
    pub(crate) async fn audited_change<'q>(
        &self,
        change: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        on_error: impl FnOnce(sqlx::Error) -> DomainError,
        who: Who<'_>,
        entry: &Entry<'_>,
        last_admin_rule: bool,
    ) -> Result<u64> {
        let mut tx = self.store.begin_write().await?;
        let changed =
            audit::audited_change_in(&mut tx, change, on_error, who, entry, last_admin_rule)
                .await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Creates the built-in roles when missing, and on an empty directory the first
    /// administrator. Returns the generated password when one had to be made up.
    pub async fn bootstrap(
        &self,
        admin_login: &str,
        admin_password: Option<&str>,
    ) -> Result<Option<String>> {
        self.ensure_builtin_roles().await?;
        // An enabled person in System Administrator: nothing to do. None (an empty directory,
        // or one imported without administrators): the configured administrator is created,
        // unless that login name is taken (then `gatehouse users create-admin` decides).
        if audit::administrators(&mut *self.store.pool.acquire().await?).await? > 0 {
            return Ok(None);
        }
        if self.user_row_by_login(admin_login).await?.is_some() {
            tracing::warn!(
                login = admin_login,
                "System Administrator has no enabled member; run `gatehouse users create-admin LOGIN`"
            );
            return Ok(None);
        }
        self.create_first_admin(admin_login, admin_password).await
    }

    /// Makes `login` a System Administrator signing in with `password` (the command line's
    /// `users create-admin`): a new person when the name is free, else the existing person,
    /// enabled, with the new password (their sessions and tokens end). Returns the user id.
    pub async fn create_admin(&self, login: &str, password: &str) -> Result<String> {
        self.ensure_builtin_roles().await?;
        let id = match self.user_row_by_login(login).await? {
            Some(row) if row.user.is_oauth_confidential_client => {
                return Err(DomainError::Conflict(
                    "a confidential client (a machine) cannot be an administrator".into(),
                ))
            }
            Some(_) => self.reset_password(login, password).await?,
            None => {
                self.create_user_unchecked(
                    crate::users::NewUser {
                        login_name: login.to_string(),
                        email: format!("{}@localhost", login.split('@').next().unwrap_or("admin")),
                        display_name: "Administrator".into(),
                        password: password.to_string(),
                        is_oauth_confidential_client: false,
                        enabled: true,
                        jwks: None,
                    },
                    Who::System,
                    None,
                )
                .await?
                .id
            }
        };
        self.add_to_sysadmin(&id, login).await?;
        Ok(id)
    }

    async fn add_to_sysadmin(&self, user_id: &str, login: &str) -> Result<()> {
        let sys: String = sqlx::query("SELECT id FROM roles WHERE builtin = 'sysadmin'")
            .fetch_one(&self.store.pool)
            .await?
            .try_get("id")?;
        let entry = Entry::new("role.member_add", "role", &sys)
            .named(SYSADMIN)
            .changes(vec![("member".into(), None, Some(login.to_string()))]);
        self.audited_change(
            sqlx::query("INSERT INTO role_members (role_id, user_id) VALUES ($1, $2) ON CONFLICT (role_id, user_id) DO NOTHING")
                .bind(&sys)
                .bind(user_id),
            DomainError::from,
            Who::System,
            &entry,
            false,
        )
        .await?;
        self.on_roles_changed().await
    }

    /// Creates System Administrator and Everybody when missing.
    pub async fn ensure_builtin_roles(&self) -> Result<()> {
        for (name, builtin, rights) in [
            (SYSADMIN, "sysadmin", Right::ALL.to_vec()),
            (EVERYBODY, "everybody", vec![]),
        ] {
            let exists = sqlx::query("SELECT id FROM roles WHERE builtin = $1")
                .bind(builtin)
                .fetch_optional(&self.store.pool)
                .await?;
            if exists.is_none() {
                let desc = if builtin == "sysadmin" {
                    "Every admin right; cannot be deleted"
                } else {
                    "Every enabled user, implicitly"
                };
                match self
                    .insert_role(
                        &RoleName::parse(name)?,
                        desc,
                        &rights,
                        Some(builtin),
                        Who::System,
                    )
                    .await
                {
                    Ok(_) | Err(DomainError::Duplicate { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    async fn create_first_admin(
        &self,
        admin_login: &str,
        admin_password: Option<&str>,
    ) -> Result<Option<String>> {
        let (password, generated) = match admin_password {
            Some(p) if !p.is_empty() => (p.to_string(), None),
            _ => {
                let p = crate::tokens::random_token(18);
                (p.clone(), Some(p))
            }
        };
        let user = match self
            .create_user_unchecked(
                crate::users::NewUser {
                    login_name: admin_login.to_string(),
                    email: format!(
                        "{}@localhost",
                        admin_login.split('@').next().unwrap_or("admin")
                    ),
                    display_name: "Administrator".into(),
                    password,
                    is_oauth_confidential_client: false,
                    enabled: true,
                    jwks: None,
                },
                Who::System,
                None,
            )
            .await
        {
            Ok(u) => u,
            // Another instance bootstrapped at the same moment.
            Err(DomainError::Duplicate { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        self.add_to_sysadmin(&user.id, &user.login_name).await?;
        Ok(generated)
    }
}

/// Inserts a role and its audit record on `conn` (a transaction).
pub(crate) async fn insert_role_in(
    conn: &mut AnyConnection,
    name: &RoleName,
    description: &str,
    rights: &[Right],
    builtin: Option<&str>,
    who: Who<'_>,
) -> Result<Role> {
    let id = uuid::Uuid::new_v4().to_string();
    let t = now();
    sqlx::query("INSERT INTO roles (id, name, name_lower, description, admin_rights, builtin, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&id)
        .bind(name.as_str())
        .bind(name.as_str().to_lowercase())
        .bind(description)
        .bind(rights_to_db(rights))
        .bind(builtin)
        .bind(t)
        .execute(&mut *conn)
        .await
        .map_err(on_unique("name", "a role with this name already exists"))?;
    let role = Role {
        id,
        name: name.to_string(),
        description: description.to_string(),
        admin_rights: rights.to_vec(),
        builtin: builtin.map(str::to_string),
        members: Vec::new(),
        created_at: rfc3339(t),
    };
    audit::write(
        conn,
        who,
        &Entry::new("role.create", "role", &role.id)
            .named(&role.name)
            .changes(role_diff(None, &role)),
    )
    .await?;
    Ok(role)
}

/// The role with its members' ids, read on `conn`.
pub(crate) async fn role_by_id_on(conn: &mut AnyConnection, id: &str) -> Result<Role> {
    let row = sqlx::query(&format!("SELECT {ROLE_COLS} FROM roles WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound("role"))?;
    let mut role = role_row(&row)?;
    role.members = sqlx::query("SELECT m.user_id FROM role_members m JOIN users u ON u.id = m.user_id WHERE m.role_id = $1 ORDER BY u.login_name_lower")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("user_id"))
        .collect::<Result<_, _>>()?;
    Ok(role)
}

/// The role as `patch` would leave it (checked; nothing stored).
fn role_after(before: &Role, patch: &RolePatch) -> Result<Role> {
    let mut role = before.clone();
    if let Some(n) = &patch.name {
        let n = crate::names::role_name(n)?;
        if role.builtin.is_some() && n.as_str() != role.name {
            return Err(DomainError::Conflict(
                "a built-in role cannot be renamed".into(),
            ));
        }
        role.name = n.into_inner();
    }
    if let Some(d) = &patch.description {
        role.description = check_description(d)?;
    }
    if let Some(r) = &patch.admin_rights {
        role.admin_rights = parse_rights("admin_rights", r)?;
        if role.builtin.as_deref() == Some("sysadmin") {
            role.admin_rights = Right::ALL.to_vec();
        }
    }
    Ok(role)
}

/// Applies `patch` to role `id` on `conn` (a transaction); nothing changed, nothing written.
pub(crate) async fn update_role_in(
    conn: &mut AnyConnection,
    who: Who<'_>,
    id: &str,
    patch: &RolePatch,
) -> Result<Role> {
    let before = role_by_id_on(conn, id).await?;
    let role = role_after(&before, patch)?;
    let changes = role_diff(Some(&before), &role);
    if changes.is_empty() {
        return Ok(role);
    }
    let entry = Entry::new("role.update", "role", id)
        .named(&role.name)
        .changes(changes);
    let update = sqlx::query("UPDATE roles SET name = $1, name_lower = $2, description = $3, admin_rights = $4 WHERE id = $5")
        .bind(&role.name)
        .bind(role.name.to_lowercase())
        .bind(&role.description)
        .bind(rights_to_db(&role.admin_rights))
        .bind(id);
    audited_change_in(
        conn,
        update,
        on_unique("name", "a role with this name already exists"),
        who,
        &entry,
        false,
    )
    .await?;
    Ok(role)
}

/// Deletes role `id` on `conn`; built-in roles stay.
pub(crate) async fn delete_role_in(conn: &mut AnyConnection, who: Who<'_>, id: &str) -> Result<()> {
    let role = role_by_id_on(conn, id).await?;
    if role.builtin.is_some() {
        return Err(DomainError::Conflict(format!(
            "the built-in role {} cannot be deleted",
            role.name
        )));
    }
    audited_change_in(
        conn,
        sqlx::query("DELETE FROM roles WHERE id = $1").bind(id),
        DomainError::from,
        who,
        &Entry::new("role.delete", "role", id).named(&role.name),
        false,
    )
    .await?;
    Ok(())
}

/// Adds `user_id` to role `role_id` on `conn` (Everybody contains everyone already).
/// Adds `user_id` to the role named `name` (case-insensitively) as the system does it (a new
/// user's configured role: sign-up, an upstream provider). A role that no longer exists is
/// logged and skipped: the person is still made.
pub(crate) async fn add_to_role_named_in(
    conn: &mut AnyConnection,
    name: &str,
    user_id: &str,
) -> Result<()> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM roles WHERE LOWER(name) = $1")
        .bind(name.to_lowercase())
        .fetch_optional(&mut *conn)
        .await?;
    match id {
        Some(role_id) => add_role_member_in(conn, Who::System, &role_id, user_id).await,
        None => {
            tracing::warn!(role = %name, "the role for new users does not exist");
            Ok(())
        }
    }
}

pub(crate) async fn add_role_member_in(
    conn: &mut AnyConnection,
    who: Who<'_>,
    role_id: &str,
    user_id: &str,
) -> Result<()> {
    // The role's name and kind, not its members (an import adds thousands one by one).
    let (name, builtin): (String, Option<String>) =
        sqlx::query_as("SELECT name, builtin FROM roles WHERE id = $1")
            .bind(role_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(DomainError::NotFound("role"))?;
    if builtin.as_deref() == Some("everybody") {
        return Err(DomainError::Conflict(
            "Everybody contains every enabled user already".into(),
        ));
    }
    let Some(member) = crate::users::user_by_id(conn, user_id).await? else {
        return Err(DomainError::NotFound("user"));
    };
    let sql = "INSERT INTO role_members (role_id, user_id) VALUES ($1, $2) ON CONFLICT (role_id, user_id) DO NOTHING";
    let entry = Entry::new("role.member_add", "role", role_id)
        .named(&name)
        .changes(vec![(
            "member".into(),
            None,
            Some(member.user.login_name.clone()),
        )]);
    audited_change_in(
        conn,
        sqlx::query(sql).bind(role_id).bind(user_id),
        DomainError::from,
        who,
        &entry,
        false,
    )
    .await?;
    Ok(())
}

/// Removes `user_id` from role `role_id` on `conn`; System Administrator keeps an enabled
/// person.
pub(crate) async fn remove_role_member_in(
    conn: &mut AnyConnection,
    who: Who<'_>,
    role_id: &str,
    user_id: &str,
) -> Result<()> {
    let role = role_by_id_on(conn, role_id).await?;
    if !role.members.iter().any(|m| m == user_id) {
        return Err(DomainError::NotFound("member"));
    }
    let login = crate::users::user_by_id(conn, user_id)
        .await?
        .map_or_else(|| user_id.to_string(), |r| r.user.login_name);
    // Access follows the directory: the refresh and opaque access tokens the member holds for
    // apps this role alone let them use end with the membership (one statement).
    let revoked = sqlx::query(
        "UPDATE tokens SET revoked = 1 WHERE user_id = $1 AND revoked = 0 \
         AND app_id IN (SELECT app_id FROM app_roles WHERE role_id = $2) \
         AND app_id NOT IN (SELECT ar.app_id FROM app_roles ar JOIN roles r ON r.id = ar.role_id \
           WHERE r.builtin = 'everybody' \
              OR ar.role_id IN (SELECT role_id FROM role_members WHERE user_id = $1 AND role_id <> $2))",
    )
    .bind(user_id)
    .bind(role_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let remove = sqlx::query("DELETE FROM role_members WHERE role_id = $1 AND user_id = $2")
        .bind(role_id)
        .bind(user_id);
    let mut changes = vec![("member".into(), Some(login), None)];
    if revoked > 0 {
        changes.push(("tokens_revoked".into(), None, Some(revoked.to_string())));
    }
    let entry = Entry::new("role.member_remove", "role", role_id)
        .named(&role.name)
        .changes(changes);
    audited_change_in(
        conn,
        remove,
        DomainError::from,
        who,
        &entry,
        role.builtin.as_deref() == Some("sysadmin"),
    )
    .await?;
    Ok(())
}
