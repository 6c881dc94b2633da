//! What an operator reads: audit records and activity series (SPEC §7a).

use serde::{Deserialize, Serialize};

/// One field of an audited change: old and new values as text (never a secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// One audit record: who did what to which object, when and from where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// The login name of the person or confidential client; `system` for the command line.
    pub actor: String,
    /// `user`, `client` (through an access token) or `system`.
    pub actor_kind: String,
    /// The OAuth2 client whose token made the change, if any.
    pub client_id: Option<String>,
    /// The client address.
    pub address: Option<String>,
    /// `app.create`, `user.update`, `role.member_add`, `keys.rotate`, `session.sign_in`, …
    pub action: String,
    /// `app`, `user`, `role`, `keys`, `session` or `consent`.
    pub object_type: String,
    pub object_id: String,
    /// A readable name of the object when it was recorded (login name, role name, app id).
    pub object_name: Option<String>,
    pub changes: Vec<AuditChange>,
}

/// The filters of the audit log; every one optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Login name of the actor (case-insensitive).
    pub actor: Option<String>,
    /// An object type (`app`), an object id or name, or `type:id` (`app:billing`).
    pub object: Option<String>,
    /// An action (`app.update`) or a group of them (`app`).
    pub action: Option<String>,
    /// RFC 3339 or Unix seconds, inclusive.
    pub since: Option<String>,
    /// RFC 3339 or Unix seconds, exclusive.
    pub until: Option<String>,
}

/// The window an activity chart shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Window {
    Hour,
    Day,
    Month,
}

impl Window {
    pub const ALL: [Window; 3] = [Window::Hour, Window::Day, Window::Month];
    /// (bucket width, number of buckets) in seconds.
    pub fn shape(self) -> (i64, i64) {
        match self {
            Window::Hour => (60, 60),
            Window::Day => (3600, 24),
            Window::Month => (86400, 30),
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Window::Hour => "Last hour",
            Window::Day => "Last day",
            Window::Month => "Last 30 days",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Hour => "hour",
            Window::Day => "day",
            Window::Month => "30d",
        }
    }
    pub fn parse(s: &str) -> Option<Window> {
        Window::ALL.into_iter().find(|w| w.as_str() == s)
    }
}

/// One line of an activity chart: counts per bucket, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// `issued`, `refused` or `sign_in`.
    pub kind: String,
    /// The grant type, error code or sign-in outcome.
    pub detail: String,
    pub counts: Vec<i64>,
}

/// Activity over one window: the bucket starts (Unix seconds, oldest first) and the series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub window: Window,
    pub starts: Vec<i64>,
    pub series: Vec<Series>,
}

impl Activity {
    /// The total of one kind over the window.
    pub fn total(&self, kind: &str) -> i64 {
        self.series
            .iter()
            .filter(|s| s.kind == kind)
            .flat_map(|s| s.counts.iter())
            .sum()
    }
    /// Per bucket, the sum of every series of one kind.
    pub fn per_bucket(&self, kind: &str) -> Vec<i64> {
        let mut out = vec![0; self.starts.len()];
        for s in self.series.iter().filter(|s| s.kind == kind) {
            for (o, c) in out.iter_mut().zip(&s.counts) {
                *o += c;
            }
        }
        out
    }
}
