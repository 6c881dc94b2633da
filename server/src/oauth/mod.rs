//! The OAuth2 endpoints of SPEC §3, each a thin door over `domain::Services`.

mod authorize;
mod error;
mod keys;
mod metadata;
mod params;
mod token;

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth2/token/{app}", post(token::token))
        .route("/oauth2/introspect/{app}", post(token::introspect))
        .route("/oauth2/revoke/{app}", post(token::revoke))
        .route("/oauth2/keys/{app}", get(keys::jwks))
        .route("/oauth2/authorize/{app}", get(authorize::authorize))
        .route("/oauth2/consent/{app}", post(authorize::consent))
        .route("/account/apps/{app}/withdraw", post(authorize::withdraw))
        .route(
            "/oauth2/{app}/.well-known/oauth-authorization-server",
            get(metadata::metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server/oauth2/{app}",
            get(metadata::metadata),
        )
}
