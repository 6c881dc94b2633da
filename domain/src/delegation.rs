//! Delegated administration never escalates (SPEC §2): one rule, used by every door (portal,
//! API, import, command line). An administrator acts on a user only when the user's rights and
//! System Administrator membership are a subset of its own; grants only rights it holds; adds or
//! removes members only of roles whose rights it holds; and only System Administrators touch
//! System Administrator's members, Everybody's rights, or scopes for Gatehouse's own API.
//! Every refusal is audited (`escalation.denied`).

use sqlx::Row;

use crate::audit::{self, Entry, Who};
use crate::error::{DomainError, Result};
use crate::rights::{rights_from_db, Principal, Right, Standing};
use crate::scopes::{can_match_admin_api, Scope};
use crate::Services;

impl Services {
    /// What `user_id` holds through its roles (Everybody's included), enabled or not.
    pub(crate) async fn standing(&self, user_id: &str) -> Result<Standing> {
        let roles = sqlx::query(
            "SELECT r.admin_rights, r.builtin FROM roles r WHERE r.builtin = 'everybody' \
             OR r.id IN (SELECT role_id FROM role_members WHERE user_id = $1)",
        )
        .bind(user_id)
        .fetch_all(&self.store.pool)
        .await?;
        let mut s = Standing::default();
        for r in roles {
            let builtin: Option<String> = r.try_get("builtin")?;
            s.sysadmin |= builtin.as_deref() == Some("sysadmin");
            for right in rights_from_db(&r.try_get::<String, _>("admin_rights")?) {
                if !s.rights.contains(&right) {
                    s.rights.push(right);
                }
            }
        }
        s.rights.sort();
        Ok(s)
    }

    /// Whether `actor` may change the user `user_id` (the portal disables what it may not).
    pub async fn may_change_user(&self, actor: &Principal, user_id: &str) -> Result<bool> {
        Ok(actor.sysadmin || actor.outranks(&self.standing(user_id).await?))
    }

    /// The roles (id, name) whose members `actor` may add or remove: every right of the role
    /// held, System Administrator only for System Administrators, never Everybody.
    pub async fn assignable_roles(&self, actor: &Principal) -> Result<Vec<(String, String)>> {
        if !actor.has(Right::Roles) {
            return Ok(Vec::new());
        }
        let rows =
            sqlx::query("SELECT id, name, admin_rights, builtin FROM roles ORDER BY name_lower")
                .fetch_all(&self.store.pool)
                .await?;
        let mut out = Vec::new();
        for r in rows {
            let builtin: Option<String> = r.try_get("builtin")?;
            let rights = rights_from_db(&r.try_get::<String, _>("admin_rights")?);
            let allowed = match builtin.as_deref() {
                Some("everybody") => false,
                Some("sysadmin") => actor.sysadmin,
                _ => actor.holds_all(&rights),
            };
            if allowed {
                out.push((r.try_get("id")?, r.try_get("name")?));
            }
        }
        Ok(out)
    }

    /// Refuses, with an audit record, unless `actor` outranks the user `user_id` (`login` names
    /// it in the record; `action` is what was attempted).
    pub(crate) async fn require_over_user(
        &self,
        actor: &Principal,
        user_id: &str,
        login: &str,
        action: &'static str,
    ) -> Result<()> {
        if actor.sysadmin {
            return Ok(());
        }
        let target = self.standing(user_id).await?;
        if actor.outranks(&target) {
            return Ok(());
        }
        let why = if target.sysadmin {
            "only a System Administrator may change a System Administrator".to_string()
        } else {
            "this user holds admin rights you do not hold".to_string()
        };
        Err(self
            .refuse(actor, action, "user", user_id, login, why)
            .await)
    }

    /// Refuses, with an audit record, unless `actor` holds every one of `rights`.
    pub(crate) async fn require_rights_held(
        &self,
        actor: &Principal,
        rights: &[Right],
        action: &'static str,
        object: (&'static str, &str, &str),
    ) -> Result<()> {
        if actor.holds_all(rights) {
            return Ok(());
        }
        let missing: Vec<&str> = rights
            .iter()
            .filter(|r| !actor.has(**r))
            .map(|r| r.as_str())
            .collect();
        let why = format!(
            "you cannot grant or take admin rights you do not hold ({})",
            missing.join(", ")
        );
        Err(self
            .refuse(actor, action, object.0, object.1, object.2, why)
            .await)
    }

    /// Refuses, with an audit record, unless `actor` is a System Administrator.
    pub(crate) async fn require_sysadmin_for(
        &self,
        actor: &Principal,
        action: &'static str,
        object: (&'static str, &str, &str),
        why: &str,
    ) -> Result<()> {
        if actor.sysadmin {
            return Ok(());
        }
        Err(self
            .refuse(actor, action, object.0, object.1, object.2, why.to_string())
            .await)
    }

    /// Scopes whose REST regexes can reach Gatehouse's own admin API are a System
    /// Administrator's to define: refuses (audited) a scope of `new` that reaches it and is not
    /// in `old` with the same regexes.
    pub(crate) async fn require_admin_scopes_allowed(
        &self,
        actor: &Principal,
        app_id: &str,
        old: &[Scope],
        new: &[Scope],
    ) -> Result<()> {
        if actor.sysadmin {
            return Ok(());
        }
        match admin_scope_added(old, new) {
            None => Ok(()),
            Some(s) => Err(self
                .refuse(
                    actor,
                    "app.scope_admin_api",
                    "app",
                    app_id,
                    app_id,
                    format!(
                        "the scope {:?} can reach Gatehouse's own admin API: only a System Administrator may define it",
                        s.name
                    ),
                )
                .await),
        }
    }

    /// Records a code or token that lets a person's client act on Gatehouse's own admin API.
    pub(crate) async fn audit_admin_grant(
        &self,
        action: &'static str,
        app_id: &str,
        login: &str,
        client_id: &str,
        scopes: &[String],
    ) -> Result<()> {
        let entry = Entry::new(action, "app", app_id)
            .named(app_id)
            .changes(vec![
                ("client_id".into(), None, Some(client_id.to_string())),
                ("scope".into(), None, Some(scopes.join(" "))),
            ]);
        let mut conn = self.store.pool.acquire().await?;
        audit::write(
            &mut conn,
            Who::Person {
                login,
                address: None,
            },
            &entry,
        )
        .await
    }

    /// Records a refused escalation and returns the 403 to answer with. A failure to write the
    /// record is the answer instead (fail closed: the attempt is refused either way).
    async fn refuse(
        &self,
        actor: &Principal,
        action: &'static str,
        object_type: &'static str,
        object_id: &str,
        object_name: &str,
        why: String,
    ) -> DomainError {
        let entry = Entry::new("escalation.denied", object_type, object_id)
            .named(object_name)
            .changes(vec![
                ("attempted".into(), None, Some(action.to_string())),
                ("reason".into(), None, Some(why.clone())),
            ]);
        let written = async {
            let mut conn = self.store.pool.acquire().await?;
            audit::write(&mut conn, Who::Principal(actor), &entry).await
        }
        .await;
        match written {
            Ok(()) => DomainError::Forbidden(why),
            Err(e) => e,
        }
    }
}

/// A scope of `new` that can reach Gatehouse's own admin API and is not in `old` with the same
/// regexes (a change of name or description alone defines nothing new).
pub(crate) fn admin_scope_added<'a>(old: &[Scope], new: &'a [Scope]) -> Option<&'a Scope> {
    new.iter().find(|s| {
        !old.iter()
            .any(|o| o.name == s.name && o.rest_regexes == s.rest_regexes)
            && s.rest_regexes.iter().any(|r| can_match_admin_api(r))
    })
}
