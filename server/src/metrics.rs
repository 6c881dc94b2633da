//! Prometheus metrics (SPEC §7a): `metrics` macros recorded by `metrics-exporter-prometheus`
//! (the well-kept pair: lock-free atomics per series, no allocation for a series already seen)
//! and rendered in the text exposition format at `GET /metrics` — on `--metrics-bind` when set,
//! otherwise on the main address to loopback peers only.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::Services;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from a cached token (sub-millisecond) to a slow Argon2id check.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Installs the process's recorder once and returns its handle (every later call, e.g. a second
/// server in the same test process, shares it). None when it cannot be installed.
pub fn install() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
                .ok()?
                .install_recorder()
                .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                .ok()?;
            metrics::gauge!("gatehouse_build_info", "version" => env!("CARGO_PKG_VERSION"))
                .set(1.0);
            spawn_upkeep(handle.clone());
            domain::counters::recorder_installed();
            Some(handle)
        })
        .clone()
}

/// A histogram keeps every recorded sample until the recorder's upkeep folds them into its
/// buckets; `install_recorder` leaves that to the caller. Without it memory grows with every
/// request until someone scrapes `/metrics` (about 8 bytes per request: 80 MB after ten
/// million). A thread of its own, because the recorder outlives any one runtime (tests start
/// several servers in one process).
fn spawn_upkeep(handle: PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            handle.run_upkeep();
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "metrics upkeep thread not started; histograms grow until scraped");
    }
}

/// What `/metrics` needs: the recorder's handle, the database pools to report on, and whether
/// the main address serves it (only when no separate metrics address is configured).
#[derive(Clone)]
pub struct MetricsState {
    pub handle: Option<PrometheusHandle>,
    pub services: Services,
    pub on_main_address: bool,
}

fn render(state: &MetricsState) -> Response {
    let Some(handle) = &state.handle else {
        return (StatusCode::NOT_FOUND, "metrics are off").into_response();
    };
    for (name, pool) in [
        ("main", &state.services.store.pool),
        ("writer", &state.services.store.writer),
    ] {
        let size = f64::from(pool.size());
        let idle = pool.num_idle() as f64;
        metrics::gauge!("gatehouse_db_pool_connections", "pool" => name, "state" => "idle")
            .set(idle);
        metrics::gauge!("gatehouse_db_pool_connections", "pool" => name, "state" => "in_use")
            .set(size - idle);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// `GET /metrics` on the main address: loopback peers only, and only when no separate
/// metrics address is configured (never to the internet by default).
pub async fn on_main(
    State(state): State<MetricsState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !state.on_main_address || !peer.ip().is_loopback() {
        return StatusCode::NOT_FOUND.into_response();
    }
    render(&state)
}

/// `GET /metrics` on `--metrics-bind`.
pub async fn on_metrics_address(State(state): State<MetricsState>) -> Response {
    render(&state)
}
