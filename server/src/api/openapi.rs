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
    modifiers(&Security, &ErrorResponses),
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

/// Every status the API really answers, on every operation: 400 (malformed JSON or query), 401
/// (no or a bad credential), 403 (a missing right, a foreign Origin, an insufficient scope), 404
/// where a path names an object, 409 and 422 where a body or a change can be refused, 429 and
/// 500 anywhere. Added here once rather than on each handler, so none is forgotten.
struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::HttpMethod;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |what: &str| {
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let named = path.contains('{');
            let ops = [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Put, item.put.as_mut()),
                (HttpMethod::Patch, item.patch.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                let r = &mut op.responses.responses;
                let mut add = |code: &str, what: &str| {
                    r.entry(code.to_string())
                        .or_insert_with(|| error(what).into());
                };
                add("400", "malformed request (JSON or query)");
                add(
                    "401",
                    "no credential, or an invalid, expired or revoked token",
                );
                add(
                    "403",
                    "a missing admin right, a foreign Origin, or an insufficient scope",
                );
                add("429", "too many requests");
                add("500", "an unexpected failure (logged on the server)");
                if named {
                    add("404", "no such object");
                }
                if method != HttpMethod::Get {
                    add("409", "a duplicate or a conflicting change");
                    add("422", "a field breaks a rule (field names it)");
                }
            }
        }
    }
}

pub async fn document() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
