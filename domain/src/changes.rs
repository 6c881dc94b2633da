//! Changes one instance announces to the others (PostgreSQL `NOTIFY` on `CHANNEL`, heard by the
//! server's listener), so the caches of apps, clients and principals forget at once what another
//! instance changed instead of waiting out `CACHE_TTL`. On SQLite there is one instance per file
//! as far as these caches know; a second process (the CLI) is seen within `CACHE_TTL`.

use crate::Services;

pub const CHANNEL: &str = "gatehouse_changed";

/// What changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Change<'a> {
    /// An app or one of its registered clients was created, changed or deleted.
    App(&'a str),
    /// Roles, their rights or their members: apps name roles, clients and principals carry them.
    Roles,
    /// A user's password, enabled flag or client flag, or the user is gone.
    User(&'a str),
}

impl<'a> Change<'a> {
    fn payload(&self) -> String {
        match self {
            Change::App(id) => format!("app:{id}"),
            Change::Roles => "roles".into(),
            Change::User(id) => format!("user:{id}"),
        }
    }
    /// `None` for a payload this version does not know (everything is forgotten then).
    pub fn parse(payload: &'a str) -> Option<Change<'a>> {
        match payload.split_once(':') {
            Some(("app", id)) => Some(Change::App(id)),
            Some(("user", id)) => Some(Change::User(id)),
            None if payload == "roles" => Some(Change::Roles),
            _ => None,
        }
    }
}

impl Services {
    /// Tells the other instances (PostgreSQL); the change is committed already, so a failure is
    /// logged and the others see it within `CACHE_TTL` as before.
    pub(crate) async fn announce_change(&self, change: Change<'_>) {
        if self.store.backend != crate::store::Backend::Postgres {
            return;
        }
        if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(change.payload())
            .execute(&self.store.pool)
            .await
        {
            tracing::warn!(error = %e, ?change, "announcing a change to the other instances failed");
        }
    }

    /// Another instance announced `payload`: forget what it makes stale here.
    pub fn hear_change(&self, payload: &str) {
        match Change::parse(payload) {
            Some(Change::App(id)) => {
                self.apps.invalidate(id);
                self.client_records.invalidate_all();
            }
            Some(Change::User(id)) => {
                self.clients.invalidate_user(id);
                self.principals.invalidate_all();
            }
            Some(Change::Roles) | None => self.forget_shared(),
        }
    }

    /// Every cache of shared state is read again (a notification may have been missed).
    pub fn forget_shared(&self) {
        self.apps.invalidate_all();
        self.clients.invalidate_all();
        self.client_records.invalidate_all();
        self.principals.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip() {
        for c in [Change::App("my-app"), Change::Roles, Change::User("u-1")] {
            assert_eq!(Change::parse(&c.payload()), Some(c));
        }
        assert_eq!(Change::parse("app:a:b"), Some(Change::App("a:b")));
        assert_eq!(Change::parse("something-new"), None);
    }
}
