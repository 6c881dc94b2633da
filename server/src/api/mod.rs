//! The admin REST API (SPEC §5): thin handlers over the domain services.

mod apps;
mod clients;
pub mod compat;
pub mod error;
pub mod extract;
mod keys;
pub mod openapi;
mod operations;
pub mod protected_resource;
mod providers;
mod roles;
mod settings;
mod users;

use axum::routing::get;
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi::document))
        .route(
            protected_resource::PATH,
            get(protected_resource::document).layer(crate::oauth::cors()),
        )
        .route("/api/v1/keys/rotate", axum::routing::post(keys::rotate))
        .route(compat::PATH, axum::routing::post(compat::create_user))
        .merge(apps::router())
        .merge(clients::router())
        .merge(users::router())
        .merge(roles::router())
        .merge(operations::router())
        .merge(providers::router())
        .merge(settings::router())
        .merge(docs())
}

/// `/api/v1/docs`: Swagger UI on the OpenAPI document, served from files inside the binary
/// (`utoipa-swagger-ui`'s `vendored` feature: nothing is fetched from a CDN, so the portal's
/// CSP, scripts from our origin only, holds).
fn docs() -> Router<AppState> {
    utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs")
        .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json"))
        .into()
}
