//! `GET /api/v1/openapi.json`: the OpenAPI 3 document, generated from the handlers' annotations
//! and the domain types by utoipa.

use axum::response::IntoResponse;
use axum::Json;
use utoipa::OpenApi;

/// The error body of every admin API failure.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code: invalid_request, unauthorized, forbidden, not_found, duplicate,
    /// conflict, validation_failed.
    pub error: String,
    pub message: String,
    /// The JSON name of the field at fault, with a path for nested values.
    pub field: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct KeyRotated {
    pub kid: String,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse admin API", description = "Apps, users, roles and keys of a Gatehouse OAuth2 server. \
Authenticate with the portal's session cookie (unsafe methods need an Origin equal to the public URL) or a bearer token whose scope's REST regex matches the path."),
    paths(
        super::apps::list, super::apps::create, super::apps::read, super::apps::update, super::apps::delete, super::apps::changelog,
        super::users::list, super::users::create, super::users::read, super::users::update, super::users::delete,
        super::roles::list, super::roles::create, super::roles::read, super::roles::update, super::roles::delete,
        super::roles::add_member, super::roles::remove_member, super::keys::rotate,
    ),
    components(schemas(ErrorBody, KeyRotated)),
    modifiers(&Security),
    security(("session" = []), ("bearer" = [])),
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("gatehouse_session"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
