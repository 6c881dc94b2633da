//! Activity for the dashboard (SPEC §7a): tokens issued and refused per app, by grant type and
//! by error, and sign-ins. Counted in memory on the request path (a map lookup, no I/O, no
//! allocation once an app has been seen), added to the database every few seconds by each
//! instance into its own rows, summed across instances when read, kept 90 days.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::Row;

use crate::clock::now;
use crate::error::Result;
use crate::rights::{Principal, Right};
use crate::Services;

pub use model::operations::{Activity, Series, Window};

/// How long activity rows are kept.
pub const KEEP_SECS: i64 = 90 * 86_400;
/// How often each instance adds its counts to the database.
pub const FLUSH_SECS: u64 = 5;

/// kind and detail of one counter: ("issued", grant type), ("refused", error code), ("sign_in",
/// outcome). Both are from fixed sets, so they are `&'static str`.
type Key = (&'static str, &'static str);

/// The counts since the last flush, per app id ("" for sign-ins).
#[derive(Clone)]
pub struct Counters {
    counts: Arc<Mutex<HashMap<String, HashMap<Key, u64>>>>,
    /// This instance's rows in `activity`.
    instance: Arc<str>,
    /// Off only to measure what counting costs (`GATEHOUSE_METRICS=false`).
    off: Arc<std::sync::atomic::AtomicBool>,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            counts: Default::default(),
            instance: uuid::Uuid::new_v4().to_string().into(),
            off: Default::default(),
        }
    }
}

impl Counters {
    /// A token was issued for `app` by `grant`.
    pub fn issued(&self, app: &str, grant: &'static str) {
        self.add(app, ("issued", grant), 1);
    }
    /// A token request for `app` was refused with `error`.
    pub fn refused(&self, app: &str, error: &'static str) {
        self.add(app, ("refused", error), 1);
    }
    /// A sign-in on the hosted page ended with `outcome` (succeeded, failed, throttled).
    pub fn sign_in(&self, outcome: &'static str) {
        self.add("", ("sign_in", outcome), 1);
    }

    /// Stops (or restarts) counting.
    pub fn set_enabled(&self, on: bool) {
        self.off.store(!on, std::sync::atomic::Ordering::Relaxed);
    }

    fn add(&self, app: &str, key: Key, n: u64) {
        if self.off.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let Ok(mut m) = self.counts.lock() else {
            return;
        };
        match m.get_mut(app) {
            Some(per_app) => *per_app.entry(key).or_default() += n,
            None => {
                // Unknown apps are refused before this, but never let names tried grow the map.
                if m.len() < 10_000 {
                    m.entry(app.to_string()).or_default().insert(key, n);
                }
            }
        }
    }

    /// Takes the counts, leaving the apps' (empty) entries so the next count allocates nothing.
    fn take(&self) -> Vec<(String, Key, u64)> {
        let Ok(mut m) = self.counts.lock() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (app, per_app) in m.iter_mut() {
            for (key, n) in per_app.drain() {
                if n > 0 {
                    out.push((app.clone(), key, n));
                }
            }
        }
        out
    }
}

impl Services {
    /// Adds the counts since the last flush to this instance's rows for the current minute.
    /// Counts that could not be written are kept for the next flush.
    pub async fn flush_activity(&self) -> Result<usize> {
        let counts = self.activity.take();
        if counts.is_empty() {
            return Ok(0);
        }
        let bucket = now() / 60 * 60;
        let written = async {
            // Through the writer pool: on SQLite it queues behind the token writer instead of
            // meeting it in SQLite's busy handler.
            let mut tx = self.store.writer.begin().await?;
            for (app, (kind, detail), n) in &counts {
                sqlx::query(
                    "INSERT INTO activity (bucket, instance, app_id, kind, detail, n) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (bucket, instance, app_id, kind, detail) DO UPDATE SET n = activity.n + excluded.n",
                )
                .bind(bucket)
                .bind(&*self.activity.instance)
                .bind(app)
                .bind(*kind)
                .bind(*detail)
                .bind(*n as i64)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(())
        }
        .await;
        if let Err(e) = written {
            for (app, key, n) in counts {
                self.activity.add(&app, key, n);
            }
            return Err(e.into());
        }
        Ok(counts.len())
    }

    /// Deletes activity older than 90 days.
    pub(crate) async fn purge_activity(&self) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM activity WHERE bucket < $1")
            .bind(now() - KEEP_SECS)
            .execute(&self.store.pool)
            .await?
            .rows_affected())
    }

    /// The activity of one app (or, with `None`, of every app plus sign-ins) over `window`,
    /// summed across instances. Needs the `apps` right.
    pub async fn activity(
        &self,
        actor: &Principal,
        app_id: Option<&str>,
        window: Window,
    ) -> Result<Activity> {
        actor.require(Right::Apps)?;
        let (width, count) = window.shape();
        let end = (now() / width + 1) * width;
        let start = end - width * count;
        // "" (no app id is empty) stands for every app and the sign-ins.
        let app = app_id.unwrap_or("");
        let sql = "SELECT (bucket - $1) / $2 AS i, kind, detail, CAST(SUM(n) AS BIGINT) AS n FROM activity \
                   WHERE bucket >= $1 AND ($3 = '' OR app_id = $3) GROUP BY 1, 2, 3 ORDER BY 2, 3";
        let rows = sqlx::query(sql)
            .bind(start)
            .bind(width)
            .bind(app)
            .fetch_all(&self.store.pool)
            .await?;
        let mut series: Vec<Series> = Vec::new();
        for r in rows {
            let i: i64 = r.try_get("i")?;
            let kind: String = r.try_get("kind")?;
            let detail: String = r.try_get("detail")?;
            let n: i64 = r.try_get("n")?;
            if !(0..count).contains(&i) {
                continue;
            }
            let pos = match series
                .iter()
                .position(|s| s.kind == kind && s.detail == detail)
            {
                Some(p) => p,
                None => {
                    series.push(Series {
                        kind,
                        detail,
                        counts: vec![0; count as usize],
                    });
                    series.len() - 1
                }
            };
            series[pos].counts[i as usize] += n;
        }
        Ok(Activity {
            window,
            starts: (0..count).map(|i| start + i * width).collect(),
            series,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_per_app_and_key_and_are_taken_once() {
        let c = Counters::default();
        c.issued("a", "client_credentials");
        c.issued("a", "client_credentials");
        c.issued("b", "password");
        c.refused("a", "invalid_client");
        c.sign_in("failed");
        let mut got = c.take();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("".to_string(), ("sign_in", "failed"), 1),
                ("a".to_string(), ("issued", "client_credentials"), 2),
                ("a".to_string(), ("refused", "invalid_client"), 1),
                ("b".to_string(), ("issued", "password"), 1),
            ]
        );
        assert!(c.take().is_empty());
    }
}
