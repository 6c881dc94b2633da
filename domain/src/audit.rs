//! The audit log (SPEC §7a): every admin change, sign-in, sign-out and consent, written in the
//! same transaction as the change it records. The per-app changelog is a view of it.

use sqlx::Row;

use crate::clock::now;
use crate::clock::rfc3339;
use crate::error::{DomainError, Result};
use crate::rights::Principal;
use crate::{Page, Services};

pub use model::operations::{AuditChange, AuditFilter, AuditRecord};

/// (field, old, new) as text; never a secret.
pub type FieldChange = (String, Option<String>, Option<String>);

/// Who acted: a principal (person or client through its token), a person signing in or out, or
/// the command line.
#[derive(Clone, Copy, Debug)]
pub enum Who<'a> {
    Principal(&'a Principal),
    Person {
        login: &'a str,
        address: Option<&'a str>,
    },
    System,
}

impl Who<'_> {
    fn parts(&self) -> (&str, &'static str, Option<&str>, Option<&str>) {
        match self {
            Who::Principal(p) => (
                &p.login_name,
                if p.user_id.is_empty() {
                    "system"
                } else if p.origin.client_id.is_some() {
                    "client"
                } else {
                    "user"
                },
                p.origin.client_id.as_deref(),
                p.origin.address.as_deref(),
            ),
            Who::Person { login, address } => (login, "user", None, *address),
            Who::System => ("system", "system", None, None),
        }
    }
}

/// What happened to which object.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: &'a str,
    pub object_name: Option<&'a str>,
    pub changes: Vec<FieldChange>,
}

impl<'a> Entry<'a> {
    pub fn new(action: &'static str, object_type: &'static str, object_id: &'a str) -> Self {
        Entry {
            action,
            object_type,
            object_id,
            object_name: None,
            changes: Vec::new(),
        }
    }
    pub fn named(mut self, name: &'a str) -> Self {
        self.object_name = Some(name);
        self
    }
    pub fn changes(mut self, changes: Vec<FieldChange>) -> Self {
        self.changes = changes;
        self
    }
}

/// The fields that differ between two JSON objects (top level), with values as text; `skip`
/// names fields that are not changes (timestamps, derived values).
pub fn json_diff(
    old: &serde_json::Value,
    new: &serde_json::Value,
    skip: &[&str],
) -> Vec<FieldChange> {
    use serde_json::Value;
    let empty = serde_json::Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !skip.contains(&k.as_str()))
        .filter_map(|k| {
            let ov = o.get(k).unwrap_or(&Value::Null);
            let nv = n.get(k).unwrap_or(&Value::Null);
            (ov != nv).then(|| (k.clone(), value_text(ov), value_text(nv)))
        })
        .collect()
}

pub(crate) fn value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Runs `change` and writes its audit record (when it changed a row) on `conn`, a transaction:
/// the record commits with the change or not at all. With `last_admin_rule` (a statement that
/// may take an administrator away: removing a membership, disabling or deleting a user) it also
/// keeps System Administrator with an enabled person, so two concurrent removals cannot leave
/// it empty: it first writes the System Administrator row, which on PostgreSQL locks it and on
/// SQLite holds the write lock, so such changes run one after the other. On an error the
/// caller's transaction is rolled back when dropped.
pub(crate) async fn audited_change_in<'q>(
    conn: &mut sqlx::AnyConnection,
    change: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    on_error: impl FnOnce(sqlx::Error) -> DomainError,
    who: Who<'_>,
    entry: &Entry<'_>,
    last_admin_rule: bool,
) -> Result<u64> {
    if last_admin_rule {
        sqlx::query("UPDATE roles SET builtin = builtin WHERE builtin = 'sysadmin'")
            .execute(&mut *conn)
            .await?;
    }
    let changed = change
        .execute(&mut *conn)
        .await
        .map_err(on_error)?
        .rows_affected();
    if last_admin_rule && administrators(conn).await? == 0 {
        return Err(DomainError::Conflict(
            "System Administrator cannot lose its last member".into(),
        ));
    }
    if changed > 0 {
        write(conn, who, entry).await?;
    }
    Ok(changed)
}

/// The enabled people (not confidential clients) in System Administrator.
pub(crate) async fn administrators(conn: &mut sqlx::AnyConnection) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM role_members m JOIN roles r ON r.id = m.role_id JOIN users u ON u.id = m.user_id \
         WHERE r.builtin = 'sysadmin' AND u.enabled = 1 AND u.is_oauth_confidential_client = 0",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(n)
}

/// Writes many records by one actor on `conn` in a few statements (an import writes a record per
/// user it creates: one statement per record would dominate its time).
pub(crate) async fn write_many(
    conn: &mut sqlx::AnyConnection,
    who: Who<'_>,
    entries: &[Entry<'_>],
) -> Result<()> {
    let (actor, kind, client, address) = who.parts();
    let at = now();
    let ids: Vec<String> = entries
        .iter()
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    // At most 100 records (1,000 parameters) per statement.
    for (chunk, chunk_ids) in entries.chunks(100).zip(ids.chunks(100)) {
        let sql = format!(
            "INSERT INTO audit_log (id, at, actor, actor_kind, client_id, address, action, object_type, object_id, object_name) VALUES {}",
            crate::store::value_rows(chunk.len(), 10)
        );
        let mut q = sqlx::query(&sql);
        for (e, id) in chunk.iter().zip(chunk_ids) {
            q = q
                .bind(id)
                .bind(at)
                .bind(actor)
                .bind(kind)
                .bind(client)
                .bind(address)
                .bind(e.action)
                .bind(e.object_type)
                .bind(e.object_id)
                .bind(e.object_name);
        }
        q.execute(&mut *conn).await?;
    }
    // Every changed field of every record, at most 250 (1,000 parameters) per statement.
    let changes: Vec<(&String, &FieldChange)> = entries
        .iter()
        .zip(&ids)
        .flat_map(|(e, id)| e.changes.iter().map(move |c| (id, c)))
        .collect();
    for chunk in changes.chunks(250) {
        let sql = format!(
            "INSERT INTO audit_changes (audit_id, field, old_value, new_value) VALUES {}",
            crate::store::value_rows(chunk.len(), 4)
        );
        let mut q = sqlx::query(&sql);
        for (id, (field, old, new)) in chunk {
            q = q
                .bind(*id)
                .bind(field)
                .bind(old.as_deref())
                .bind(new.as_deref());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes one record on `conn` (a transaction's connection: the record commits with the change).
pub async fn write(conn: &mut sqlx::AnyConnection, who: Who<'_>, e: &Entry<'_>) -> Result<()> {
    write_many(conn, who, std::slice::from_ref(e)).await
}

/// A time filter value: RFC 3339 or Unix seconds.
fn parse_time(field: &str, v: &str) -> Result<i64> {
    let v = v.trim();
    let digits = v.strip_prefix('-').unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return v
            .parse::<i64>()
            .map_err(|_| DomainError::invalid(field, format!("{field} is out of range")));
    }
    // What a browser's date and datetime-local inputs send, taken as UTC.
    let full = match v.len() {
        10 => format!("{v}T00:00:00Z"),
        16 => format!("{v}:00Z"),
        _ => v.to_string(),
    };
    time::OffsetDateTime::parse(&full, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            DomainError::invalid(
                field,
                format!("{field} must be an RFC 3339 time or Unix seconds"),
            )
        })
}

/// The WHERE clause and its arguments for a filter.
fn conditions(f: &AuditFilter) -> Result<(String, Vec<Arg>)> {
    let mut conds: Vec<String> = Vec::new();
    let mut args: Vec<Arg> = Vec::new();
    let push = |args: &mut Vec<Arg>, a: Arg| {
        args.push(a);
        args.len()
    };
    let nonempty = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if let Some(a) = nonempty(&f.actor) {
        let n = push(&mut args, Arg::Text(a.to_lowercase()));
        conds.push(format!("LOWER(actor) = ${n}"));
    }
    if let Some(o) = nonempty(&f.object) {
        match o.split_once(':') {
            Some((t, id)) => {
                let a = push(&mut args, Arg::Text(t.to_string()));
                let b = push(&mut args, Arg::Text(id.to_string()));
                conds.push(format!(
                    "(object_type = ${a} AND (object_id = ${b} OR object_name = ${b}))"
                ));
            }
            None => {
                let a = push(&mut args, Arg::Text(o));
                conds.push(format!(
                    "(object_type = ${a} OR object_id = ${a} OR object_name = ${a})"
                ));
            }
        }
    }
    if let Some(a) = nonempty(&f.action) {
        if a.contains('.') {
            let n = push(&mut args, Arg::Text(a));
            conds.push(format!("action = ${n}"));
        } else {
            let n = push(
                &mut args,
                Arg::Text(format!("{}.%", crate::store::like_escape(&a))),
            );
            conds.push(format!("action LIKE ${n} ESCAPE '\\'"));
        }
    }
    if let Some(s) = nonempty(&f.since) {
        let n = push(&mut args, Arg::Int(parse_time("since", &s)?));
        conds.push(format!("at >= ${n}"));
    }
    if let Some(u) = nonempty(&f.until) {
        let n = push(&mut args, Arg::Int(parse_time("until", &u)?));
        conds.push(format!("at < ${n}"));
    }
    let where_ = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    Ok((where_, args))
}

#[derive(Clone, Debug)]
enum Arg {
    Text(String),
    Int(i64),
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: &'q [Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s.as_str()),
            Arg::Int(n) => q.bind(*n),
        };
    }
    q
}

impl Services {
    /// Audit records, newest first. Only a System Administrator reads them: the log spans every
    /// kind of object, so it needs every right.
    pub async fn audit_log(
        &self,
        actor: &Principal,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<AuditRecord>> {
        actor.require_sysadmin()?;
        let (limit, offset) = crate::clamp_page(limit, offset);
        let (where_, args) = conditions(filter)?;
        let sql = format!(
            "SELECT id, at, actor, actor_kind, client_id, address, action, object_type, object_id, object_name \
             FROM audit_log {where_} ORDER BY at DESC, id DESC LIMIT ${} OFFSET ${}",
            args.len() + 1,
            args.len() + 2
        );
        let rows = bind_all(sqlx::query(&sql), &args)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.store.pool)
            .await?;
        let count = format!("SELECT COUNT(*) AS n FROM audit_log {where_}");
        let total: i64 = bind_all(sqlx::query(&count), &args)
            .fetch_one(&self.store.pool)
            .await?
            .try_get("n")?;
        let items = self.with_changes(&rows).await?;
        Ok(Page { items, total })
    }

    /// Records (newest first) for one object, from its latest creation on.
    pub(crate) async fn object_history(
        &self,
        object_type: &str,
        object_id: &str,
    ) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, actor_kind, client_id, address, action, object_type, object_id, object_name \
             FROM audit_log WHERE object_type = $1 AND object_id = $2 ORDER BY at DESC, id DESC",
        )
        .bind(object_type)
        .bind(object_id)
        .fetch_all(&self.store.pool)
        .await?;
        let create = format!("{object_type}.create");
        let end = rows
            .iter()
            .position(|r| r.try_get::<String, _>("action").ok().as_deref() == Some(&create))
            .map_or(rows.len(), |i| i + 1);
        self.with_changes(&rows[..end]).await
    }

    async fn with_changes(&self, rows: &[sqlx::any::AnyRow]) -> Result<Vec<AuditRecord>> {
        let mut items = rows
            .iter()
            .map(|r| {
                Ok(AuditRecord {
                    id: r.try_get("id")?,
                    at: rfc3339(r.try_get("at")?),
                    actor: r.try_get("actor")?,
                    actor_kind: r.try_get("actor_kind")?,
                    client_id: r.try_get("client_id")?,
                    address: r.try_get("address")?,
                    action: r.try_get("action")?,
                    object_type: r.try_get("object_type")?,
                    object_id: r.try_get("object_id")?,
                    object_name: r.try_get("object_name")?,
                    changes: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        if items.is_empty() {
            return Ok(items);
        }
        let marks = (1..=items.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT audit_id, field, old_value, new_value FROM audit_changes WHERE audit_id IN ({marks}) ORDER BY field"
        );
        let mut q = sqlx::query(&sql);
        for i in &items {
            q = q.bind(i.id.as_str());
        }
        let changes = q.fetch_all(&self.store.pool).await?;
        let at: std::collections::HashMap<String, usize> = items
            .iter()
            .enumerate()
            .map(|(n, i)| (i.id.clone(), n))
            .collect();
        for c in &changes {
            let id: String = c.try_get("audit_id")?;
            if let Some(&n) = at.get(&id) {
                items[n].changes.push(AuditChange {
                    field: c.try_get("field")?,
                    old: c.try_get("old_value")?,
                    new: c.try_get("new_value")?,
                });
            }
        }
        Ok(items)
    }

    /// Writes a consent given or withdrawn by a person, with the change it made, on `conn`.
    pub(crate) async fn audit_consent(
        &self,
        conn: &mut sqlx::AnyConnection,
        action: &'static str,
        user_id: &str,
        app_id: &str,
        address: Option<&str>,
        change: FieldChange,
    ) -> Result<()> {
        let login = self.login_or_id(user_id).await?;
        let object = format!("{user_id}/{app_id}");
        write(
            conn,
            Who::Person {
                login: &login,
                address,
            },
            &Entry::new(action, "consent", &object)
                .named(app_id)
                .changes(vec![change]),
        )
        .await
    }

    /// The login name of a user for a record, or the id when the user is gone.
    pub(crate) async fn login_or_id(&self, user_id: &str) -> Result<String> {
        Ok(self
            .user_row_by_id(user_id)
            .await?
            .map_or_else(|| user_id.to_string(), |r| r.user.login_name))
    }

    /// Records that a person signed out.
    pub async fn audit_sign_out(&self, user_id: &str, address: &str) -> Result<()> {
        let login = self.login_or_id(user_id).await?;
        self.audit_session("session.sign_out", &login, Some(user_id), address)
            .await
    }

    /// Records a sign-in, failed sign-in or sign-out of a person (outside any admin change).
    pub async fn audit_session(
        &self,
        action: &'static str,
        login: &str,
        user_id: Option<&str>,
        address: &str,
    ) -> Result<()> {
        let login: String = login.trim().chars().take(256).collect();
        let id = user_id.unwrap_or(&login);
        let mut conn = self.store.pool.acquire().await?;
        write(
            &mut conn,
            Who::Person {
                login: &login,
                address: Some(address),
            },
            &Entry::new(action, "session", id).named(&login),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_lists_changed_added_and_removed_fields_but_not_skipped_ones() {
        let old = json!({"name": "A", "n": 1, "gone": true, "updated_at": "x"});
        let new = json!({"name": "B", "n": 1, "added": [1], "updated_at": "y"});
        assert_eq!(
            json_diff(&old, &new, &["updated_at"]),
            vec![
                ("added".to_string(), None, Some("[1]".to_string())),
                ("gone".to_string(), Some("true".to_string()), None),
                (
                    "name".to_string(),
                    Some("A".to_string()),
                    Some("B".to_string())
                ),
            ]
        );
    }

    #[test]
    fn filters_build_exact_prefix_and_time_conditions() {
        let f = AuditFilter {
            actor: Some("Admin".into()),
            object: Some("app:billing".into()),
            action: Some("app".into()),
            since: Some("2026-01-01T00:00:00Z".into()),
            until: Some("1800000000".into()),
        };
        let (w, args) = conditions(&f).unwrap_or_default();
        assert_eq!(
            w,
            "WHERE LOWER(actor) = $1 AND (object_type = $2 AND (object_id = $3 OR object_name = $3)) \
             AND action LIKE $4 ESCAPE '\\' AND at >= $5 AND at < $6"
        );
        assert!(matches!(&args[0], Arg::Text(a) if a == "admin"));
        assert!(matches!(&args[3], Arg::Text(a) if a == "app.%"));
        assert!(matches!(args[4], Arg::Int(1767225600)));
        assert!(matches!(args[5], Arg::Int(1800000000)));
        assert_eq!(parse_time("since", "2026-01-01").ok(), Some(1767225600));
        assert_eq!(
            parse_time("since", "2026-01-01T00:01").ok(),
            Some(1767225660)
        );
        assert!(conditions(&AuditFilter {
            since: Some("yesterday".into()),
            ..Default::default()
        })
        .is_err());
        assert_eq!(
            conditions(&AuditFilter::default()).map(|c| c.0).ok(),
            Some(String::new())
        );
    }
}
