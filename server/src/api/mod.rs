//! The admin REST API (SPEC §5): thin handlers over the domain services.

mod apps;
pub mod error;
pub mod extract;
pub mod openapi;
mod roles;
mod users;

use axum::routing::get;
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi::document))
        .merge(apps::router())
        .merge(users::router())
        .merge(roles::router())
}
