//! The `gatehouse` server: start-up and the router that serves the portal, the hosted login page,
//! the OAuth2 endpoints and the admin REST API from one axum process.
#![recursion_limit = "512"]

pub mod api;
pub mod assets;
pub mod auth;
pub mod branding;
pub mod cli;
pub mod client_addr;
pub mod config;
pub mod federation;
pub mod http;
pub mod lang;
pub mod metrics;
pub mod oauth;
pub mod portal;
pub mod rate_limit;
pub mod serve;
pub mod sessions;
pub mod signin;

use std::net::SocketAddr;

use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::Router;
use domain::{Services, Store};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

pub use config::Config;

/// The router's state. Axum clones it for every request; the Leptos options (several strings)
/// sit behind an `Arc` and are copied out only for the page routes that ask for them.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: std::sync::Arc<LeptosOptions>,
    pub services: Services,
    pub registrations: oauth::RegistrationLimit,
    /// How long a sign-in lasts (the absolute timeout).
    pub policy: app::api::ssr::SessionPolicy,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        (*s.leptos_options).clone()
    }
}

impl FromRef<AppState> for oauth::RegistrationLimit {
    fn from_ref(s: &AppState) -> Self {
        s.registrations.clone()
    }
}

impl FromRef<AppState> for Services {
    fn from_ref(s: &AppState) -> Self {
        s.services.clone()
    }
}

/// What start-up produced: the bound listener and the router to serve on it.
pub struct Prepared {
    pub listener: tokio::net::TcpListener,
    pub router: Router,
    pub limits: serve::Limits,
    pub addr: SocketAddr,
    pub public_url: String,
    pub services: Services,
    /// `--metrics-bind`: its listener and router, served beside the main one.
    pub metrics: Option<(tokio::net::TcpListener, Router)>,
}

/// Everything that can stop start-up, each naming the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("GATEHOUSE_BIND {addr}: cannot listen: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("GATEHOUSE_METRICS_BIND {addr}: cannot listen: {source}")]
    MetricsBind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    PublicUrl(String),
    #[error("DATABASE_URL: {0}")]
    Database(domain::store::StoreOpenError),
    #[error("GATEHOUSE_SECRET_KEY: {0}")]
    Secret(String),
    #[error("GATEHOUSE_OUTBOUND_CA_FILE: {0}")]
    OutboundCa(String),
    #[error("{0}")]
    Mail(String),
    #[error("cannot prepare the signing keys: {0}")]
    Keys(domain::DomainError),
    #[error("GATEHOUSE_ADMIN_USER / GATEHOUSE_ADMIN_PASSWORD: cannot create the first administrator: {0}")]
    Bootstrap(domain::DomainError),
}

/// Password reset and sign-up by e-mail, as configured: SMTP needs a sender, sign-up needs SMTP.
fn self_service(config: &Config) -> Result<domain::signin::selfservice::SelfService, String> {
    let mailer = match (&config.smtp_url, &config.mail_from) {
        (Some(url), Some(from)) => Some(std::sync::Arc::new(domain::mail::Mailer::new(url, from)?)),
        (Some(_), None) => {
            return Err("GATEHOUSE_MAIL_FROM is needed with GATEHOUSE_SMTP_URL".into())
        }
        (None, _) => None,
    };
    let open = config.sign_up == config::SignUp::Open;
    if open && mailer.is_none() {
        return Err("GATEHOUSE_REGISTRATION=open needs mail: set GATEHOUSE_SMTP_URL and GATEHOUSE_MAIL_FROM".into());
    }
    Ok(domain::signin::selfservice::SelfService {
        mailer,
        registration_open: open,
        allowed_domains: config
            .registration_domains
            .iter()
            .map(|d| d.trim().trim_start_matches('@').to_lowercase())
            .filter(|d| !d.is_empty())
            .collect(),
        default_role: config
            .registration_role
            .clone()
            .filter(|r| !r.trim().is_empty()),
    })
}

/// Binds, opens the database (migrating it), creates the first administrator on an empty
/// directory, and builds the router.
pub async fn prepare(config: Config) -> Result<Prepared, StartError> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;
    let public_url = config
        .checked_public_url(addr)
        .map_err(StartError::PublicUrl)?;
    let store = Store::open(&config.database_url)
        .await
        .map_err(StartError::Database)?;
    let secrets = config
        .secrets()
        .and_then(|s| domain::secrets::SecretBox::new(&s))
        .map_err(StartError::Secret)?;
    let services = Services::with_hash_limits(store, &public_url, secrets, config.hash_limits());
    services.registration_cap.store(
        config.registration_max_clients,
        std::sync::atomic::Ordering::Relaxed,
    );
    services.registration_idle.store(
        config.registration_idle_days.max(1) * 86_400,
        std::sync::atomic::Ordering::Relaxed,
    );
    services.allow_document_hosts(&config.cimd_allow_hosts);
    services.admin_require_mfa.store(
        config.admin_require_mfa,
        std::sync::atomic::Ordering::Relaxed,
    );
    services
        .dpop_nonce
        .store(config.dpop_nonce, std::sync::atomic::Ordering::Relaxed);
    services.set_self_service(self_service(&config).map_err(StartError::Mail)?);
    if let Some(path) = &config.outbound_ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|pem| services.outbound.trust_pem(&pem))
            .map_err(StartError::OutboundCa)?;
        tracing::info!(
            certificates = pem,
            "extra certificate authorities for outbound HTTPS"
        );
    }
    services
        .ensure_signing_key()
        .await
        .map_err(StartError::Keys)?;
    if let Some(password) = services
        .bootstrap(&config.admin_user, config.admin_password.as_deref())
        .await
        .map_err(StartError::Bootstrap)?
    {
        // Printed once, on the start that created the administrator; never logged again.
        println!(
            "Created the first administrator {:?} with the generated password: {password}",
            config.admin_user
        );
    }
    services.activity.set_enabled(config.metrics);
    // The branding every page reads; read again now and then (changes on other instances).
    services
        .load_branding()
        .await
        .map_err(StartError::Bootstrap)?;
    {
        let services = services.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(domain::branding::REFRESH).await;
                if let Err(e) = services.load_branding().await {
                    tracing::warn!(error = %e, "could not read the branding again");
                }
            }
        });
    }
    if services.store.backend == domain::store::Backend::Postgres {
        services.seen.set_enabled(false);
        tokio::spawn(hear_announcements(
            services.clone(),
            config.database_url.clone(),
        ));
    }
    let handle = if config.metrics {
        metrics::install()
    } else {
        None
    };
    let metrics_state = metrics::MetricsState {
        handle,
        services: services.clone(),
        on_main_address: config.metrics_bind.is_none(),
    };
    let metrics = match config.metrics_bind {
        Some(at) => {
            let l = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|source| StartError::MetricsBind { addr: at, source })?;
            let r = Router::new()
                .route("/metrics", get(metrics::on_metrics_address))
                .with_state(metrics_state.clone());
            Some((l, r))
        }
        None => None,
    };
    let router = router(&config, addr, &public_url, services.clone(), metrics_state);
    Ok(Prepared {
        metrics,
        listener,
        router,
        limits: serve::Limits {
            header_timeout: std::time::Duration::from_secs(config.header_timeout.max(1)),
            max_connections: config.max_connections,
        },
        addr,
        public_url,
        services,
    })
}

/// Listens for what other instances announce (PostgreSQL `NOTIFY`): revocations (tokens this
/// one remembers as valid are forgotten) and changes to apps, roles and users (the caches forget
/// them). The token memory is used only while the channel is up: when it drops (a notification
/// could be missed) lookups go to the database until it is back, and the other caches start
/// over.
async fn hear_announcements(services: Services, url: String) {
    use sqlx::postgres::PgListener;
    let revoked = domain::oauth::seen::CHANNEL;
    let mut down_logged = false;
    let up = ::metrics::gauge!("gatehouse_change_listener_up");
    up.set(0.0);
    loop {
        let listener = async {
            let mut l = PgListener::connect(&url).await?;
            l.listen_all([revoked, domain::changes::CHANNEL]).await?;
            Ok::<_, sqlx::Error>(l)
        }
        .await;
        let mut l = match listener {
            Ok(l) => l,
            Err(e) => {
                if !down_logged {
                    tracing::warn!(error = %e, "cannot listen for other instances' changes; tokens are looked up every time");
                    down_logged = true;
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                continue;
            }
        };
        if down_logged {
            tracing::info!("listening for other instances' changes again");
        }
        up.set(1.0);
        services.forget_shared();
        services.seen.set_enabled(true);
        // `try_recv` answers None when the connection was lost: anything announced meanwhile
        // is unknown, so the memory goes off and is cleared before listening again.
        while let Ok(Some(n)) = l.try_recv().await {
            if n.channel() == revoked {
                services.seen.invalidate_all();
            } else {
                services.hear_change(n.payload());
            }
        }
        services.seen.set_enabled(false);
        up.set(0.0);
        tracing::warn!(
            "lost the channel of other instances' changes; tokens are looked up every time until it is back"
        );
        down_logged = true;
    }
}

/// The Leptos routes the portal serves, generated once per process. Generating them runs the app
/// with resource loading suppressed by a process-wide flag (`leptos_server`'s
/// `SuppressResourceLoad`): a page rendered meanwhile by another server in the same process would
/// wait forever on its first resource (leptos issue #4773). Once, before any server answers, no
/// render can overlap it; the integration tests start many servers in one process.
fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES
        .get_or_init(|| {
            let mut routes = generate_route_list(app::App);
            // The authorize endpoint is axum's; it renders the consent route itself when it asks.
            routes.retain(|r| !r.path().starts_with("/oauth2/"));
            routes
        })
        .clone()
}

pub fn router(
    config: &Config,
    addr: SocketAddr,
    public_url: &str,
    services: Services,
    metrics_state: metrics::MetricsState,
) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name("gatehouse")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .hash_files(assets::hashed())
        .build();
    let state = AppState {
        leptos_options: std::sync::Arc::new(leptos_options),
        services: services.clone(),
        registrations: oauth::RegistrationLimit::new(config.registration_rate),
        policy: app::api::ssr::SessionPolicy {
            absolute_secs: config.session_absolute_timeout.max(1),
        },
    };
    let routes = page_routes();
    let session_store = sessions::DbSessionStore::new(services.store.pool.clone());
    let sweeper = session_store.clone();
    tokio::spawn(async move {
        loop {
            sweeper.delete_expired().await;
            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        }
    });
    // Housekeeping on every instance: expired tokens, codes, counters and old keys go, in
    // small batches; the start is spread so instances do not purge in step.
    // Write watchdog: a failing write marks the pool's connections for replacement, so the
    // instance recovers by itself once the database takes writes again; each change is logged
    // once.
    let watched = services.clone();
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            let started = std::time::Instant::now();
            let probe = watched.store.probe_write().await;
            ::metrics::histogram!("gatehouse_db_query_duration_seconds", "query" => "write_probe")
                .record(started.elapsed().as_secs_f64());
            match probe {
                Err(e) if !failing => {
                    failing = true;
                    tracing::error!(error = %e, "the database stopped taking writes");
                }
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!("the database takes writes again");
                }
                _ => {}
            }
        }
    });
    let flusher = services.clone();
    tokio::spawn(async move {
        let mut tick =
            tokio::time::interval(std::time::Duration::from_secs(domain::activity::FLUSH_SECS));
        loop {
            tick.tick().await;
            if let Err(e) = flusher.flush_activity().await {
                tracing::warn!(error = %e, "writing the activity counts failed; kept for the next try");
            }
        }
    });
    let purger = services.clone();
    tokio::spawn(async move {
        let jitter = u64::from(std::process::id() % 30);
        tokio::time::sleep(std::time::Duration::from_secs(5 + jitter)).await;
        loop {
            // At full load tokens expire faster than one round deletes: go again after a
            // second while rows are left, otherwise once a minute.
            let mut pause = 60;
            match purger.purge_expired(200).await {
                Ok(r) if r.total() > 0 => {
                    if r.more_left {
                        pause = 1;
                    } else {
                        give_back_memory();
                    }
                    tracing::info!(deleted = r.total(), ?r, "purged expired rows")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging expired rows failed; retrying later"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(pause)).await;
        }
    });
    let session_layer = tower_sessions::SessionManagerLayer::new(session_store)
        .with_name("gatehouse_session")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(public_url.starts_with("https://"))
        .with_expiry(tower_sessions::Expiry::OnInactivity(
            time::Duration::seconds(config.session_idle_timeout.max(1)),
        ));
    let policy = state.policy;
    let context_services = services.clone();
    let fallback_services = services.clone();
    let http_state = http::HttpState::new(state.clone(), public_url);

    // Probes and the endpoints programs call skip the session, Origin and page layers: they
    // use none of them, and the token endpoint is the hot path.
    let machine = Router::new()
        .route("/healthz", get(http::healthz))
        .route("/readyz", get(http::readyz))
        .merge(oauth::machine_router())
        .merge(branding::router())
        .merge(
            Router::new()
                .route("/metrics", get(metrics::on_main))
                .with_state(metrics_state),
        );
    // Unknown paths render the app's "not found" page; the pages it may reach need the same
    // context as routed ones.
    let pages_fallback = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        {
            let services = fallback_services;
            move || {
                provide_context(services.clone());
                provide_context(policy);
            }
        },
        app::shell,
    );
    let inner = Router::new()
        .merge(api::router())
        .merge(oauth::browser_router())
        .merge(signin::router())
        .merge(federation::router())
        .merge(branding::portal_router())
        .route(
            "/admin/apps/{app_id}",
            axum::routing::post(portal::app_form),
        )
        .route(
            "/admin/apps/{app_id}/clients",
            axum::routing::post(portal::clients_form),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(context_services.clone());
                provide_context(policy);
            },
            {
                let options = (*state.leptos_options).clone();
                move || app::shell(options.clone())
            },
        )
        // Unknown paths render the app's "not found" page; the pages it may reach need the
        // same context as routed ones.
        // An OpenID discovery document under an overridden issuer's path is answered
        // before the page fallback.
        .fallback(move |state: State<AppState>, req: axum::extract::Request| {
            let pages = pages_fallback.clone();
            async move {
                let path = req.uri().path();
                if let Some(prefix) = path.strip_suffix("/.well-known/openid-configuration") {
                    if let Some(res) =
                        oauth::configuration_at_issuer_path(&state.services, prefix).await
                    {
                        return res;
                    }
                }
                // No file has a name longer than the file system allows: such a path is not
                // looked up (the file server would log the OS's refusal as an error).
                if path.split('/').any(|segment| segment.len() > 255) {
                    let l = lang::current();
                    let n = app::pages::notice::Notice::new(
                        &l.t("notice-not-found-title"),
                        &l.t("notice-page-not-found"),
                        &l.t("notice-no-page"),
                    );
                    return portal::notice(&state, axum::http::StatusCode::NOT_FOUND, n).await;
                }
                pages(req.uri().clone(), state, req).await
            }
        })
        .layer(axum::middleware::from_fn(assets::cache_headers))
        .layer(axum::middleware::from_fn_with_state(
            http_state.clone(),
            http::admin_guard,
        ))
        // The language of pages, server functions and notices (not of the machine routes),
        // inside the session (a signed-in person's own choice is kept there).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            lang::negotiate,
        ))
        .layer(session_layer)
        .layer(axum::middleware::from_fn_with_state(
            http_state,
            http::origin_check,
        ))
        .layer(axum::middleware::from_fn(http::server_fn_status))
        .merge(machine);
    // What every route gets, as one layer (one boxed route level per request, not four): the
    // edge (request id, client address, security headers, access log, metrics), the rate limit
    // when configured (no layer at all on the hot path otherwise), the body timeout and limit.
    let edge = tower::ServiceBuilder::new().layer(axum::middleware::from_fn_with_state(
        http::EdgeState {
            trusted: client_addr::TrustedProxies(std::sync::Arc::new(
                config.trusted_proxies.clone(),
            )),
            store: state.services.store.clone(),
        },
        http::edge,
    ));
    let body_timeout = tower_http::timeout::RequestBodyTimeoutLayer::new(
        std::time::Duration::from_secs(config.body_timeout.max(1)),
    );
    let body_limit = tower_http::limit::RequestBodyLimitLayer::new(http::MAX_BODY);
    match rate_limit::RateLimit::new(config.token_rate_limit) {
        Some(limit) => with_edge(
            inner,
            state,
            edge.layer(axum::middleware::from_fn_with_state(
                limit,
                rate_limit::layer,
            ))
            .layer(body_timeout)
            .layer(body_limit),
        ),
        None => with_edge(inner, state, edge.layer(body_timeout).layer(body_limit)),
    }
}

/// The whole router: `edge` on every route. An admin API request without any cookie (a program
/// with a bearer token) skips the session, Origin and page layers, which do nothing for it: no
/// session cookie means no session, and the Origin check guards cookie-authenticated requests
/// only. Any other request, or a path no API route matches, goes through the whole stack.
fn with_edge<L>(inner: Router<AppState>, state: AppState, edge: L) -> Router
where
    L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
    L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
    <L::Service as tower::Service<axum::extract::Request>>::Response:
        axum::response::IntoResponse + 'static,
    <L::Service as tower::Service<axum::extract::Request>>::Error:
        Into<std::convert::Infallible> + 'static,
    <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
{
    let inner = inner.layer(edge.clone()).with_state(state.clone());
    let cookieless_api = api::router()
        .route_layer(edge)
        .fallback_service(inner.clone())
        .with_state(state);
    // The documents' compatibility call is matched case-insensitively, before routing.
    Router::new().fallback_service(tower::service_fn(move |req: axum::extract::Request| {
        let req = http::fold_compat_path(req);
        let router = if http::is_cookieless_api(&req) {
            cookieless_api.clone()
        } else {
            inner.clone()
        };
        tower::ServiceExt::oneshot(router, req)
    }))
}

/// After a large purge, hand freed memory back so the resident size returns near where it was:
/// mimalloc (the binary's allocator) purges its free pages, glibc (tests) trims its heaps.
fn give_back_memory() {
    // SAFETY: mi_collect only frees mimalloc's own unused pages and may be called from any
    // thread at any time; it is a no-op for memory mimalloc did not allocate.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory at the top of glibc's heaps and arenas; it
    // touches no live allocation and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Serves until the process ends.
pub async fn serve(p: Prepared) -> std::io::Result<()> {
    if let Some((listener, router)) = p.metrics {
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    serve::run(p.listener, p.router, p.limits).await
}
