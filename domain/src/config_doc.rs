//! Configuration as code (SPEC §7a): every app, role and user as one JSON document, and that
//! document applied back idempotently — created or updated by natural key (app id, role name,
//! login name), optionally pruning what it does not name. The CLI and the admin API use these.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::apps::AppFields;
use crate::audit::Who;
use crate::error::{DomainError, Result};
use crate::rights::Principal;
use crate::roles::{NewRole, RolePatch};
use crate::scopes::Scope;
use crate::users::{user_row, NewUser, UserPatch, USER_COLS};
use crate::Services;

/// The format version written in every document.
pub const FORMAT: u32 = 1;

/// Every app, role and user, sorted by natural key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigDocument {
    /// Format version: 1.
    pub gatehouse_config: u32,
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    #[serde(default)]
    pub roles: Vec<RoleConfig>,
    #[serde(default)]
    pub users: Vec<UserConfig>,
}

/// An app with every setting (SPEC §2), its scopes, redirects and the roles with user access.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppConfig {
    pub app_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: String,
    #[serde(default = "defaults::client_id_type")]
    pub client_id_type: String,
    #[serde(default)]
    pub allowed_clients: Vec<String>,
    /// Empty: the default issuer.
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default = "defaults::client_registration")]
    pub client_registration: String,
    #[serde(default)]
    pub client_id_metadata_documents: bool,
    #[serde(default = "defaults::token_type")]
    pub token_type: String,
    #[serde(default)]
    pub auth_methods: Vec<String>,
    #[serde(default = "defaults::token_lifetime_secs")]
    pub token_lifetime_secs: i64,
    #[serde(default)]
    pub issue_refresh_tokens: bool,
    #[serde(default = "defaults::refresh_token_lifetime_secs")]
    pub refresh_token_lifetime_secs: i64,
    #[serde(default)]
    pub user_must_confirm: bool,
    #[serde(default)]
    pub require_mfa: bool,
    #[serde(default)]
    pub require_par: bool,
    #[serde(default)]
    pub require_dpop: bool,
    #[serde(default)]
    pub scopes: Vec<Scope>,
    #[serde(default)]
    pub user_access_roles: Vec<String>,
    /// The clients registered with the app (Client ID Type `registered`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientConfig>,
}

/// A client registered with an app: its RFC 7591 metadata; its secret's and registration
/// access token's hashes only in an export with secrets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientConfig {
    pub client_id: String,
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metadata: crate::registration::ClientMetadata,
    /// It registered itself (RFC 7591); housekeeping deletes it when unused.
    #[serde(default)]
    pub self_registered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_token_hash: Option<String>,
}

/// What an omitted app field means in a document: the admin API's defaults (SPEC §2).
mod defaults {
    pub fn client_registration() -> String {
        "off".into()
    }
    pub fn client_id_type() -> String {
        "confidential".into()
    }
    pub fn token_type() -> String {
        "jwt_rs256".into()
    }
    pub fn token_lifetime_secs() -> i64 {
        18_000
    }
    pub fn refresh_token_lifetime_secs() -> i64 {
        30 * 24 * 3600
    }
}

/// A role with its admin rights and its members' login names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleConfig {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub admin_rights: Vec<String>,
    #[serde(default)]
    pub members: Vec<String>,
}

/// A user; the password hash only in an export made `--with-secrets`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserConfig {
    pub login_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub is_oauth_confidential_client: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub jwks: Option<serde_json::Value>,
    /// An Argon2 PHC string. Without it a new user has no usable password (no sign-in until
    /// one is set: `gatehouse users reset-password`, or an administrator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// The person's second factors (`with_secrets` only). Absent: an import keeps the ones in
    /// place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factors: Option<crate::signin::factors::FactorsConfig>,
}

fn yes() -> bool {
    true
}

/// One step of an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanStep {
    /// `create`, `update` or `delete`.
    pub action: String,
    /// `app`, `role` or `user`.
    pub kind: String,
    /// The natural key: app id, role name or login name.
    pub key: String,
}

/// What an import did (or, dry, would do); `unchanged` counts what already matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportPlan {
    pub dry_run: bool,
    pub steps: Vec<PlanStep>,
    pub unchanged: usize,
}

impl From<crate::apps::App> for AppConfig {
    fn from(a: crate::apps::App) -> Self {
        let mut roles = a.user_access_roles;
        roles.sort_by_key(|r| r.to_lowercase());
        AppConfig {
            issuer: if a.issuer_is_default {
                String::new()
            } else {
                a.issuer
            },
            app_id: a.app_id,
            name: a.name,
            description: a.description,
            category: a.category,
            client_id_type: a.client_id_type.as_str().to_string(),
            allowed_clients: a.allowed_clients,
            redirect_uris: a.redirect_uris,
            post_logout_redirect_uris: a.post_logout_redirect_uris,
            resources: a.resources,
            client_registration: a.client_registration.as_str().to_string(),
            client_id_metadata_documents: a.client_id_metadata_documents,
            token_type: a.token_type.as_str().to_string(),
            auth_methods: a
                .auth_methods
                .iter()
                .map(|m| m.as_str().to_string())
                .collect(),
            token_lifetime_secs: a.token_lifetime_secs,
            issue_refresh_tokens: a.issue_refresh_tokens,
            refresh_token_lifetime_secs: a.refresh_token_lifetime_secs,
            user_must_confirm: a.user_must_confirm,
            require_mfa: a.require_mfa,
            require_par: a.require_par,
            require_dpop: a.require_dpop,
            scopes: a.scopes,
            user_access_roles: roles,
            clients: Vec::new(),
        }
    }
}

impl From<AppConfig> for AppFields {
    fn from(a: AppConfig) -> Self {
        AppFields {
            app_id: Some(a.app_id),
            name: Some(a.name),
            description: Some(a.description),
            category: Some(a.category),
            client_id_type: Some(a.client_id_type),
            allowed_clients: Some(a.allowed_clients),
            issuer: Some(a.issuer),
            redirect_uris: Some(a.redirect_uris),
            post_logout_redirect_uris: Some(a.post_logout_redirect_uris),
            resources: Some(a.resources),
            client_registration: Some(a.client_registration),
            client_id_metadata_documents: Some(a.client_id_metadata_documents),
            token_type: Some(a.token_type),
            auth_methods: Some(a.auth_methods),
            token_lifetime_secs: Some(a.token_lifetime_secs),
            issue_refresh_tokens: Some(a.issue_refresh_tokens),
            refresh_token_lifetime_secs: Some(a.refresh_token_lifetime_secs),
            user_must_confirm: Some(a.user_must_confirm),
            require_mfa: Some(a.require_mfa),
            require_par: Some(a.require_par),
            require_dpop: Some(a.require_dpop),
            scopes: Some(a.scopes),
            user_access_roles: Some(a.user_access_roles),
            ..Default::default()
        }
    }
}

/// Every setting of an app, as a whole replacement (the portal saves the whole app): the same
/// fields as the app in a configuration document.
impl From<crate::apps::App> for AppFields {
    fn from(a: crate::apps::App) -> Self {
        AppConfig::from(a).into()
    }
}

/// What the document says of a user, without the password (compared apart).
fn user_fields(u: &UserConfig) -> (&str, &str, &str, bool, bool, &Option<serde_json::Value>) {
    (
        &u.login_name,
        &u.email,
        &u.display_name,
        u.is_oauth_confidential_client,
        u.enabled,
        &u.jwks,
    )
}

fn lower(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Services {
    /// The configuration as one document. Needs System Administrator; password hashes only
    /// `with_secrets`.
    pub async fn export_config(
        &self,
        actor: &Principal,
        with_secrets: bool,
    ) -> Result<ConfigDocument> {
        actor.require_sysadmin()?;
        let doc = self.snapshot(with_secrets).await?;
        let entry = crate::audit::Entry::new("config.export", "config", "")
            .named("configuration")
            .changes(vec![(
                "with_secrets".into(),
                None,
                Some(with_secrets.to_string()),
            )]);
        let mut conn = self.store.pool.acquire().await?;
        crate::audit::write(&mut conn, crate::audit::Who::Principal(actor), &entry).await?;
        Ok(doc)
    }

    /// The configuration as it is now (what an import compares with), unaudited.
    async fn snapshot(&self, with_secrets: bool) -> Result<ConfigDocument> {
        let ids = sqlx::query("SELECT app_id FROM apps ORDER BY app_id")
            .fetch_all(&self.store.pool)
            .await?;
        let mut apps = Vec::with_capacity(ids.len());
        for r in &ids {
            let id: String = r.try_get("app_id")?;
            if let Some(a) = self.app(&id).await? {
                let mut config = AppConfig::from(a);
                config.clients = self.client_configs(&id, with_secrets).await?;
                apps.push(config);
            }
        }
        let rows = sqlx::query(
            "SELECT r.name, r.description, r.admin_rights, u.login_name FROM roles r \
             LEFT JOIN role_members m ON m.role_id = r.id LEFT JOIN users u ON u.id = m.user_id",
        )
        .fetch_all(&self.store.pool)
        .await?;
        let mut roles: BTreeMap<String, RoleConfig> = BTreeMap::new();
        for r in &rows {
            let name: String = r.try_get("name")?;
            let role = roles.entry(lower(&name)).or_insert_with(|| RoleConfig {
                name: name.clone(),
                description: String::new(),
                admin_rights: Vec::new(),
                members: Vec::new(),
            });
            role.description = r.try_get("description")?;
            role.admin_rights =
                crate::rights::rights_from_db(&r.try_get::<String, _>("admin_rights")?)
                    .iter()
                    .map(|x| x.as_str().to_string())
                    .collect();
            if let Some(l) = r.try_get::<Option<String>, _>("login_name")? {
                role.members.push(l);
            }
        }
        let mut roles: Vec<RoleConfig> = roles.into_values().collect();
        for r in &mut roles {
            r.members.sort_by_key(|m| lower(m));
        }
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users ORDER BY login_name_lower"
        ))
        .fetch_all(&self.store.pool)
        .await?;
        let mut factors = if with_secrets {
            self.factor_configs().await?
        } else {
            Default::default()
        };
        let users = rows
            .iter()
            .map(|r| {
                let row = user_row(r)?;
                Ok(UserConfig {
                    factors: factors.remove(&row.user.id),
                    login_name: row.user.login_name,
                    email: row.user.email,
                    display_name: row.user.display_name,
                    is_oauth_confidential_client: row.user.is_oauth_confidential_client,
                    enabled: row.user.enabled,
                    jwks: row.user.jwks,
                    password_hash: with_secrets.then_some(row.password_hash),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(ConfigDocument {
            gatehouse_config: FORMAT,
            apps,
            roles,
            users,
        })
    }

    /// Applies a document: users first (roles name them), then roles and their members, then
    /// apps (they name roles); with `prune`, what the document does not name is deleted (apps,
    /// then roles, then users; never a built-in role, never the acting user). Every change goes
    /// through the same rules and audit records as one made in the portal, all in one
    /// transaction: a document that fails anywhere changes nothing. `dry_run` runs the same
    /// and rolls back.
    pub async fn import_config(
        &self,
        actor: &Principal,
        doc: ConfigDocument,
        dry_run: bool,
        prune: bool,
    ) -> Result<ImportPlan> {
        actor.require_sysadmin()?;
        if doc.gatehouse_config != FORMAT {
            return Err(DomainError::invalid(
                "gatehouse_config",
                format!("this Gatehouse reads format {FORMAT}"),
            ));
        }
        self.check_document(&doc)?;
        check_unique(doc.apps.iter().map(|a| lower(&a.app_id)), "apps")?;
        check_unique(doc.roles.iter().map(|r| lower(&r.name)), "roles")?;
        check_unique(doc.users.iter().map(|u| lower(&u.login_name)), "users")?;
        let now = self.snapshot(true).await?;
        // Names a document may refer to: its own and those already here.
        let users: BTreeSet<String> = doc
            .users
            .iter()
            .map(|u| lower(&u.login_name))
            .chain(now.users.iter().map(|u| lower(&u.login_name)))
            .collect();
        let roles: BTreeSet<String> = doc
            .roles
            .iter()
            .map(|r| lower(&r.name))
            .chain(now.roles.iter().map(|r| lower(&r.name)))
            .collect();
        for (i, r) in doc.roles.iter().enumerate() {
            if let Some(m) = r.members.iter().find(|m| !users.contains(&lower(m))) {
                return Err(DomainError::invalid(
                    format!("roles[{i}].members"),
                    format!("{m} is no user here or in the document"),
                ));
            }
        }
        for (i, a) in doc.apps.iter().enumerate() {
            if let Some(r) = a
                .user_access_roles
                .iter()
                .find(|r| !roles.contains(&lower(r)))
            {
                return Err(DomainError::invalid(
                    format!("apps[{i}].user_access_roles"),
                    format!("{r} is no role here or in the document"),
                ));
            }
        }
        let mut plan = ImportPlan {
            dry_run,
            steps: Vec::new(),
            unchanged: 0,
        };
        // All or nothing: one transaction. A dry run is the same code rolled back, so it
        // reports the same errors as the real import.
        let mut tx = self.store.begin_write().await?;
        let mut after = AfterImport::default();
        self.apply_document(&mut tx, actor, &doc, &now, prune, &mut plan, &mut after)
            .await?;
        if dry_run {
            tx.rollback().await?;
            return Ok(plan);
        }
        tx.commit().await?;
        self.after_import(after).await?;
        Ok(plan)
    }

    /// Applies `doc` over `now` (the configuration when the import began) on `conn`, recording
    /// each step in `plan` and what must follow the commit in `after`.
    #[allow(clippy::too_many_arguments)]
    async fn apply_document(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor: &Principal,
        doc: &ConfigDocument,
        now: &ConfigDocument,
        prune: bool,
        plan: &mut ImportPlan,
        after: &mut AfterImport,
    ) -> Result<()> {
        let who = Who::Principal(actor);
        let step = |plan: &mut ImportPlan, action: &str, kind: &str, key: &str| {
            plan.steps.push(PlanStep {
                action: action.into(),
                kind: kind.into(),
                key: key.into(),
            })
        };

        // Users: the new ones inserted together once the document's users are read.
        let mut new_users = Vec::new();
        let have_users: BTreeMap<String, &UserConfig> = now
            .users
            .iter()
            .map(|u| (lower(&u.login_name), u))
            .collect();
        for u in &doc.users {
            match have_users.get(&lower(&u.login_name)) {
                None => {
                    step(plan, "create", "user", &u.login_name);
                    // The document's hash as it is, or the unusable marker: no Argon2 run
                    // per imported user.
                    let prepared = crate::users::prepare_user(
                        &self.hasher,
                        NewUser {
                            login_name: u.login_name.clone(),
                            email: u.email.clone(),
                            display_name: u.display_name.clone(),
                            password: String::new(),
                            is_oauth_confidential_client: u.is_oauth_confidential_client,
                            enabled: u.enabled,
                            jwks: u.jwks.clone(),
                        },
                        Some(
                            u.password_hash
                                .clone()
                                .unwrap_or_else(|| crate::passwords::UNUSABLE.to_string()),
                        ),
                    )
                    .await?;
                    new_users.push(prepared);
                }
                Some(have) => {
                    let hash_differs = u
                        .password_hash
                        .as_ref()
                        .is_some_and(|h| Some(h) != have.password_hash.as_ref());
                    let differs = user_fields(u) != user_fields(have);
                    if !differs && !hash_differs {
                        plan.unchanged += 1;
                        continue;
                    }
                    step(plan, "update", "user", &u.login_name);
                    let id = crate::users::user_by_login(conn, &u.login_name)
                        .await?
                        .ok_or(DomainError::NotFound("user"))?
                        .user
                        .id;
                    if differs {
                        let patch = UserPatch {
                            login_name: Some(u.login_name.clone()),
                            email: Some(u.email.clone()),
                            display_name: Some(u.display_name.clone()),
                            password: None,
                            is_oauth_confidential_client: Some(u.is_oauth_confidential_client),
                            enabled: Some(u.enabled),
                            jwks: Some(u.jwks.clone().unwrap_or(serde_json::Value::Null)),
                        };
                        let (_, credentials) =
                            crate::users::update_user_in(conn, who, &id, patch, None).await?;
                        after.users.push((id.clone(), credentials));
                    }
                    if let (true, Some(h)) = (hash_differs, &u.password_hash) {
                        crate::users::replace_password_hash_in(conn, who, &id, h).await?;
                        after.users.push((id, true));
                    }
                }
            }
        }

        crate::users::insert_users_in(conn, new_users, who).await?;

        // Second factors, for the people whose document carries them (with secrets).
        for u in &doc.users {
            let Some(f) = &u.factors else { continue };
            let have = have_users.get(&lower(&u.login_name));
            if have.is_some_and(|h| h.factors.as_ref() == Some(f)) {
                continue;
            }
            // A person the users above left unchanged changes now.
            if let Some(h) = have {
                let hash_differs = u
                    .password_hash
                    .as_ref()
                    .is_some_and(|x| Some(x) != h.password_hash.as_ref());
                if user_fields(u) == user_fields(h) && !hash_differs {
                    plan.unchanged = plan.unchanged.saturating_sub(1);
                    step(plan, "update", "user", &u.login_name);
                }
            }
            let id = crate::users::user_by_login(conn, &u.login_name)
                .await?
                .ok_or(DomainError::NotFound("user"))?
                .user
                .id;
            self.replace_factors_in(conn, Who::Principal(actor), &id, &u.login_name, f)
                .await?;
        }

        // Roles and members.
        let have_roles: BTreeMap<String, &RoleConfig> =
            now.roles.iter().map(|r| (lower(&r.name), r)).collect();
        for r in &doc.roles {
            let have = have_roles.get(&lower(&r.name));
            let mut rights: Vec<String> = r.admin_rights.iter().map(|x| lower(x)).collect();
            rights.sort();
            let same_role = have.is_some_and(|h| {
                let mut hr: Vec<String> = h.admin_rights.clone();
                hr.sort();
                h.name == r.name && h.description == r.description.trim() && hr == rights
            });
            let want: BTreeSet<String> = r.members.iter().map(|m| lower(m)).collect();
            let had: BTreeSet<String> = have
                .map(|h| h.members.iter().map(|m| lower(m)).collect())
                .unwrap_or_default();
            if same_role && want == had {
                plan.unchanged += 1;
                continue;
            }
            step(
                plan,
                if have.is_some() { "update" } else { "create" },
                "role",
                &r.name,
            );
            after.roles = true;
            let role_id = match have {
                None => {
                    let new = NewRole {
                        name: r.name.clone(),
                        description: r.description.clone(),
                        admin_rights: r.admin_rights.clone(),
                    };
                    Services::create_role_in(conn, who, &new).await?.id
                }
                Some(_) => {
                    let id = role_id_by_name(conn, &r.name).await?;
                    if !same_role {
                        let patch = RolePatch {
                            name: Some(r.name.clone()),
                            description: Some(r.description.clone()),
                            admin_rights: Some(r.admin_rights.clone()),
                        };
                        crate::roles::update_role_in(conn, who, &id, &patch).await?;
                    }
                    id
                }
            };
            // Add before removing, so System Administrator never passes through empty.
            for m in want.difference(&had) {
                let uid = crate::users::user_by_login(conn, m)
                    .await?
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "roles[].members",
                            format!("{} names the unknown user {m}", r.name),
                        )
                    })?
                    .user
                    .id;
                crate::roles::add_role_member_in(conn, who, &role_id, &uid).await?;
            }
            for m in had.difference(&want) {
                if let Some(row) = crate::users::user_by_login(conn, m).await? {
                    crate::roles::remove_role_member_in(conn, who, &role_id, &row.user.id).await?;
                }
            }
        }

        // Apps.
        let have_apps: BTreeMap<String, &AppConfig> =
            now.apps.iter().map(|a| (lower(&a.app_id), a)).collect();
        for a in &doc.apps {
            // The app's settings and its clients are compared (and applied) apart.
            let settings = AppConfig {
                clients: Vec::new(),
                ..a.clone()
            };
            let have = have_apps.get(&lower(&a.app_id)).copied();
            let have_clients = have.map(|h| h.clients.as_slice()).unwrap_or_default();
            match have.map(|h| AppConfig {
                clients: Vec::new(),
                ..h.clone()
            }) {
                Some(h) if h == settings => plan.unchanged += 1,
                Some(_) => {
                    step(plan, "update", "app", &a.app_id);
                    let mut fields = AppFields::from(a.clone());
                    fields.app_id = None;
                    // In one transaction the version cannot move under us on SQLite; on
                    // PostgreSQL a concurrent save makes the import fail as a whole.
                    self.update_app_in(conn, actor, &a.app_id, fields)
                        .await?
                        .ok_or_else(|| {
                            DomainError::Conflict(format!(
                                "the app {} was changed during the import; run it again",
                                a.app_id
                            ))
                        })?;
                    after.apps.push(a.app_id.clone());
                }
                None => {
                    step(plan, "create", "app", &a.app_id);
                    self.create_app_in(conn, actor, AppFields::from(a.clone()))
                        .await?;
                    after.apps.push(a.app_id.clone());
                }
            }
            if !a.clients.is_empty() || (prune && !have_clients.is_empty()) {
                self.sync_clients_in(conn, who, actor, a, have_clients, prune, plan)
                    .await?;
                after.apps.push(a.app_id.clone());
                after.revoked = true;
            }
        }

        if prune {
            let named: BTreeSet<String> = doc.apps.iter().map(|a| lower(&a.app_id)).collect();
            for a in now
                .apps
                .iter()
                .filter(|a| !named.contains(&lower(&a.app_id)))
            {
                step(plan, "delete", "app", &a.app_id);
                crate::apps::delete_app_in(conn, who, &a.app_id).await?;
                after.apps.push(a.app_id.clone());
                after.revoked = true;
            }
            let named: BTreeSet<String> = doc.roles.iter().map(|r| lower(&r.name)).collect();
            let builtin = [
                lower(crate::roles::SYSADMIN),
                lower(crate::roles::EVERYBODY),
            ];
            for r in now
                .roles
                .iter()
                .filter(|r| !named.contains(&lower(&r.name)) && !builtin.contains(&lower(&r.name)))
            {
                step(plan, "delete", "role", &r.name);
                let id = role_id_by_name(conn, &r.name).await?;
                crate::roles::delete_role_in(conn, who, &id).await?;
                after.roles = true;
            }
            let named: BTreeSet<String> = doc.users.iter().map(|u| lower(&u.login_name)).collect();
            for u in now.users.iter().filter(|u| {
                !named.contains(&lower(&u.login_name))
                    && lower(&u.login_name) != lower(&actor.login_name)
            }) {
                step(plan, "delete", "user", &u.login_name);
                if let Some(row) = crate::users::user_by_login(conn, &u.login_name).await? {
                    crate::users::delete_user_in(conn, who, &row.user.id).await?;
                    after.deleted_users.push(row.user.id);
                }
            }
        }
        Ok(())
    }

    /// What follows a committed import: caches emptied and other instances told, as after
    /// each change made one by one.
    async fn after_import(&self, after: AfterImport) -> Result<()> {
        for (id, credentials) in &after.users {
            self.after_user_update(id, *credentials).await?;
        }
        for id in &after.deleted_users {
            self.before_user_deleted(id).await?;
        }
        if after.roles {
            self.on_roles_changed().await?;
        }
        if after.revoked {
            self.announce_revocation().await?;
        }
        for app in &after.apps {
            self.on_app_changed(app).await;
        }
        Ok(())
    }

    /// Every rule that needs no database, checked before anything is applied (a dry run
    /// reports the same errors as the real one); the error's field is the document path.
    fn check_document(&self, doc: &ConfigDocument) -> Result<()> {
        let at = |path: String| {
            move |e: DomainError| match e {
                DomainError::Validation { field, message } => DomainError::Validation {
                    field: format!("{path}.{field}"),
                    message,
                },
                other => other,
            }
        };
        for (i, u) in doc.users.iter().enumerate() {
            let path = format!("users[{i}]");
            crate::names::login_name(&u.login_name).map_err(at(path.clone()))?;
            crate::names::Email::parse(&u.email)
                .map_err(DomainError::from)
                .map_err(at(path.clone()))?;
            crate::users::jwks_text(u.jwks.as_ref()).map_err(at(path.clone()))?;
            if let Some(f) = &u.factors {
                f.check(&format!("{path}.factors"))?;
            }
            if let Some(h) = &u.password_hash {
                if argon2::PasswordHash::new(h).is_err() {
                    return Err(DomainError::invalid(
                        format!("{path}.password_hash"),
                        "not an Argon2 PHC string",
                    ));
                }
            }
        }
        for (i, r) in doc.roles.iter().enumerate() {
            let path = format!("roles[{i}]");
            crate::names::role_name(&r.name).map_err(at(path.clone()))?;
            crate::rights::parse_rights("admin_rights", &r.admin_rights)
                .map_err(DomainError::from)
                .map_err(at(path.clone()))?;
            if r.description.chars().count() > 1024 {
                return Err(DomainError::invalid(
                    format!("{path}.description"),
                    "Description is at most 1024 characters",
                ));
            }
        }
        for (i, a) in doc.apps.iter().enumerate() {
            let app = crate::apps::check_fields(AppFields::from(a.clone()), &self.public_url)
                .map_err(at(format!("apps[{i}]")))?;
            if !a.clients.is_empty() && app.client_id_type != crate::apps::ClientIdType::Registered
            {
                return Err(DomainError::invalid(
                    format!("apps[{i}].clients"),
                    "only an app whose Client ID Type is registered has clients",
                ));
            }
            for (j, c) in a.clients.iter().enumerate() {
                let path = format!("apps[{i}].clients[{j}]");
                if c.client_id.is_empty()
                    || c.client_id.chars().count() > 128
                    || c.client_id
                        .chars()
                        .any(|ch| ch.is_whitespace() || ch.is_control())
                {
                    return Err(DomainError::invalid(
                        format!("{path}.client_id"),
                        "a client id is 1-128 characters without spaces",
                    ));
                }
                let as_sent = serde_json::to_value(&c.metadata)
                    .map_err(|e| DomainError::Internal(e.to_string()))?;
                let checked = crate::registration::check_metadata(&app, &as_sent)
                    .map_err(|e| DomainError::invalid(format!("{path}.metadata"), e.description))?;
                if checked != c.metadata {
                    return Err(DomainError::invalid(
                        format!("{path}.metadata"),
                        "the metadata is not in the form Gatehouse keeps it (export it again)",
                    ));
                }
            }
            check_unique(a.clients.iter().map(|c| c.client_id.clone()), "clients")?;
        }
        check_unique(
            doc.apps
                .iter()
                .flat_map(|a| a.clients.iter().map(|c| c.client_id.clone())),
            "clients",
        )?;
        Ok(())
    }

    /// The clients registered with `app_id`, as the document holds them.
    async fn client_configs(&self, app_id: &str, with_secrets: bool) -> Result<Vec<ClientConfig>> {
        let rows = sqlx::query(
            "SELECT client_id, metadata, secret_hash, registration_token_hash, created_by FROM app_clients \
             WHERE app_id = $1 ORDER BY client_id",
        )
        .bind(app_id)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let metadata: String = r.try_get("metadata")?;
                Ok(ClientConfig {
                    client_id: r.try_get("client_id")?,
                    metadata: serde_json::from_str(&metadata).map_err(|e| {
                        DomainError::Internal(format!("bad stored client metadata: {e}"))
                    })?,
                    self_registered: r.try_get::<String, _>("created_by")?
                        == crate::registration::SELF_REGISTERED,
                    secret_hash: if with_secrets {
                        r.try_get("secret_hash")?
                    } else {
                        None
                    },
                    registration_token_hash: if with_secrets {
                        r.try_get("registration_token_hash")?
                    } else {
                        None
                    },
                })
            })
            .collect()
    }

    /// Makes an app's clients what the document says (on `conn`, audited): new ones added,
    /// changed ones changed (their secrets kept unless the document carries hashes), and with
    /// `prune` the ones it does not name deleted.
    #[allow(clippy::too_many_arguments)]
    async fn sync_clients_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        who: Who<'_>,
        actor: &Principal,
        app: &AppConfig,
        have: &[ClientConfig],
        prune: bool,
        plan: &mut ImportPlan,
    ) -> Result<()> {
        let t = crate::clock::now();
        for c in &app.clients {
            let old = have.iter().find(|h| h.client_id == c.client_id);
            let metadata = serde_json::to_string(&c.metadata)
                .map_err(|e| DomainError::Internal(e.to_string()))?;
            let created_by = if c.self_registered {
                crate::registration::SELF_REGISTERED.to_string()
            } else {
                actor.user_id.clone()
            };
            let action = match old {
                Some(o)
                    if o.metadata == c.metadata
                        && o.self_registered == c.self_registered
                        && c.secret_hash
                            .as_ref()
                            .is_none_or(|h| o.secret_hash.as_ref() == Some(h))
                        && c.registration_token_hash
                            .as_ref()
                            .is_none_or(|h| o.registration_token_hash.as_ref() == Some(h)) =>
                {
                    plan.unchanged += 1;
                    continue;
                }
                Some(o) => {
                    sqlx::query(
                        "UPDATE app_clients SET metadata = $1, secret_hash = $2, registration_token_hash = $3, updated_at = $4 \
                         WHERE client_id = $5 AND app_id = $6",
                    )
                    .bind(&metadata)
                    .bind(c.secret_hash.as_ref().or(o.secret_hash.as_ref()))
                    .bind(c.registration_token_hash.as_ref().or(o.registration_token_hash.as_ref()))
                    .bind(t)
                    .bind(&c.client_id)
                    .bind(&app.app_id)
                    .execute(&mut *conn)
                    .await?;
                    "update"
                }
                None => {
                    sqlx::query(
                        "INSERT INTO app_clients (client_id, app_id, metadata, secret_hash, registration_token_hash, created_by, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                    )
                    .bind(&c.client_id)
                    .bind(&app.app_id)
                    .bind(&metadata)
                    .bind(c.secret_hash.as_deref())
                    .bind(c.registration_token_hash.as_deref())
                    .bind(&created_by)
                    .bind(t)
                    .execute(&mut *conn)
                    .await
                    .map_err(crate::store::on_unique(
                        "clients",
                        "a client with this id is registered with another app",
                    ))?;
                    "create"
                }
            };
            plan.steps.push(PlanStep {
                action: action.into(),
                kind: "client".into(),
                key: c.client_id.clone(),
            });
            let name = c.metadata.client_name.clone().unwrap_or_default();
            let audit_action = if action == "create" {
                "client.create"
            } else {
                "client.update"
            };
            crate::audit::write(
                conn,
                who,
                &crate::audit::Entry::new(audit_action, "client", &c.client_id).named(&name),
            )
            .await?;
        }
        if prune {
            for h in have
                .iter()
                .filter(|h| !app.clients.iter().any(|c| c.client_id == h.client_id))
            {
                sqlx::query("DELETE FROM app_clients WHERE client_id = $1 AND app_id = $2")
                    .bind(&h.client_id)
                    .bind(&app.app_id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("UPDATE tokens SET revoked = 1 WHERE app_id = $1 AND client_id = $2 AND revoked = 0")
                    .bind(&app.app_id)
                    .bind(&h.client_id)
                    .execute(&mut *conn)
                    .await?;
                plan.steps.push(PlanStep {
                    action: "delete".into(),
                    kind: "client".into(),
                    key: h.client_id.clone(),
                });
                let name = h.metadata.client_name.clone().unwrap_or_default();
                crate::audit::write(
                    conn,
                    who,
                    &crate::audit::Entry::new("client.delete", "client", &h.client_id).named(&name),
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// What an import leaves to do once it has committed.
#[derive(Default)]
struct AfterImport {
    /// Users updated, and whether their credentials changed.
    users: Vec<(String, bool)>,
    deleted_users: Vec<String>,
    roles: bool,
    apps: Vec<String>,
    /// Tokens were revoked (an app deleted).
    revoked: bool,
}

async fn role_id_by_name(conn: &mut sqlx::AnyConnection, name: &str) -> Result<String> {
    Ok(sqlx::query("SELECT id FROM roles WHERE name_lower = $1")
        .bind(lower(name))
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(DomainError::NotFound("role"))?
        .try_get("id")?)
}

fn check_unique(keys: impl Iterator<Item = String>, what: &'static str) -> Result<()> {
    let mut seen = BTreeSet::new();
    for k in keys {
        if !seen.insert(k.clone()) {
            return Err(DomainError::invalid(
                what,
                format!("{what} names {k} twice"),
            ));
        }
    }
    Ok(())
}
