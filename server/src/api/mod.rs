//! The admin REST API (SPEC §5): thin handlers over the domain services.

pub mod error;
pub mod extract;
mod roles;
mod users;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(users::router()).merge(roles::router())
}
