//! The OAuth2 endpoints of SPEC §3, each a thin door over `domain::Services`.

mod authorize;
pub mod device;
mod error;
mod keys;
mod metadata;
mod oidc;
mod par;

pub use oidc::configuration_at_issuer_path;
mod params;
mod register;
pub use register::RegistrationLimit;
mod token;

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

/// The endpoints a person's browser reaches: they read the sign-in session.
pub fn browser_router() -> Router<AppState> {
    Router::new()
        .route("/oauth2/authorize/{app}", get(authorize::authorize))
        .route("/oauth2/consent/{app}", post(authorize::consent))
        .route("/account/apps/{app}/withdraw", post(authorize::withdraw))
        .route("/device", post(device::decide))
        .route(
            "/oauth2/logout/{app}",
            get(oidc::logout).post(oidc::logout_confirmed),
        )
}

/// Cross-origin reads and calls from browser-based clients (single-page apps, MCP clients such
/// as MCP Inspector): any origin, never with cookies — these endpoints take no cookie, only
/// what the request itself carries.
pub fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{header, Method};
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("dpop"),
        ])
        .expose_headers([
            header::WWW_AUTHENTICATE,
            header::RETRY_AFTER,
            token::DPOP_NONCE,
        ])
        .max_age(std::time::Duration::from_secs(86_400))
}

/// The endpoints programs call: no session, no cookie, no page middleware on the way.
pub fn machine_router() -> Router<AppState> {
    Router::new()
        .route("/oauth2/token/{app}", post(token::token))
        .route("/oauth2/device/{app}", post(device::authorization))
        .route("/oauth2/par/{app}", post(par::push))
        .route("/oauth2/register/{app}", post(register::register))
        .route(
            "/oauth2/register/{app}/{client_id}",
            get(register::read)
                .put(register::update)
                .delete(register::delete),
        )
        .route("/oauth2/introspect/{app}", post(token::introspect))
        .route("/oauth2/revoke/{app}", post(token::revoke))
        .route("/oauth2/keys/{app}", get(keys::jwks))
        .route(
            "/oauth2/{app}/.well-known/oauth-authorization-server",
            get(metadata::metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server/oauth2/{app}",
            get(metadata::metadata),
        )
        .route(
            "/oauth2/{app}/.well-known/openid-configuration",
            get(oidc::configuration),
        )
        .route(
            "/oauth2/userinfo/{app}",
            get(oidc::userinfo).post(oidc::userinfo),
        )
        .layer(cors())
}
