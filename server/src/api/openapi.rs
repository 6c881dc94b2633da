//! `GET /api/v1/openapi.json`: the OpenAPI 3 document, generated from the handlers' annotations
//! and the domain types by utoipa.

use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
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
    info(title = "Gatehouse admin API", description = "Apps, users, roles, keys, the audit log and configuration as code of a Gatehouse OAuth2 server. \
Authenticate with the portal's session cookie (unsafe methods need an Origin equal to the public URL) or a bearer token whose scope's REST regex matches the path."),
    paths(
        super::apps::list, super::apps::create, super::apps::read, super::apps::update, super::apps::delete, super::apps::changelog, super::apps::initial_access_token,
        super::clients::list, super::clients::create, super::clients::read, super::clients::update, super::clients::delete, super::clients::rotate_secret,
        super::users::list, super::users::create, super::users::read, super::users::update, super::users::delete,
        super::users::factors, super::users::reset_factors,
        super::roles::list, super::roles::create, super::roles::read, super::roles::update, super::roles::delete,
        super::roles::add_member, super::roles::remove_member, super::keys::rotate,
        super::operations::audit, super::operations::export, super::operations::import,
        super::providers::list, super::providers::create, super::providers::read, super::providers::update, super::providers::remove,
        super::providers::links, super::providers::unlink,
        super::settings::read, super::settings::update, super::settings::set_logo, super::settings::remove_logo,
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
                } else if path == "/api/v1/apps" && method == HttpMethod::Post {
                    add("404", "a role named in user_access_roles does not exist");
                }
                if path == "/api/v1/audit" {
                    add("422", "since or until is not a time");
                }
                if method != HttpMethod::Get {
                    add("409", "a duplicate or a conflicting change");
                    add("422", "a field breaks a rule (field names it)");
                }
            }
        }
    }
}

/// The document, built once: utoipa's output with every rule the API enforces on a body.
pub async fn document() -> impl IntoResponse {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    Json(DOC.get_or_init(constrained).clone())
}

/// Unicode White_Space, the characters Rust's `trim` strips from both ends of a value.
const WS: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (Unicode Cc), which `char::is_control` refuses.
const CC: &str = r"\x00-\x1f\x7f-\x9f";

/// `core`, with any whitespace around it (the API trims it away).
fn trimmed(core: &str) -> String {
    format!("^[{WS}]*{core}[{WS}]*$")
}

/// A trimmed text of `min..=max` characters without control characters except tab and line
/// breaks (an app's name, description, category).
fn text(min: usize, max: usize) -> Value {
    let edge = format!("[^{WS}{CC}]");
    let core = format!(
        "{edge}(?:[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]{{0,{}}}{edge})?",
        max - 2
    );
    let core = if min == 0 {
        format!("(?:{core})?")
    } else {
        core
    };
    json!({"type": "string", "pattern": trimmed(&core)})
}

/// Any other URI scheme than `http` and `https` (case-insensitively): those two need a host.
fn other_scheme() -> String {
    let r = "[A-Za-z0-9+.-]*";
    format!(
        "(?:[A-GI-Za-gi-z]{r}|[Hh](?:[A-SU-Za-su-z0-9+.-]{r}|[Tt](?:[A-SU-Za-su-z0-9+.-]{r}|\
         [Tt](?:[A-OQ-Za-oq-z0-9+.-]{r}|[Pp](?:[A-RT-Za-rt-z0-9+.-]{r}|[Ss][A-Za-z0-9+.-]+))?)?)?)"
    )
}

/// Every rule of SPEC §2 and §5 the API checks on a request body, as JSON Schema: lengths,
/// patterns, enums, ranges and required fields, so that a body valid by the document is taken
/// and one that breaks it is refused (the fuzzer checks both ways). Values are trimmed by the
/// API, so the patterns allow surrounding whitespace. What no schema can say: a scope name used
/// twice in one body or an issuer another app has is 422, a role in `user_access_roles` that does
/// not exist is 404, a regex must compile with Rust's `regex` (`format: regex`).
fn constrained() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    let login = json!({"type": "string",
        "pattern": trimmed(&format!("[^{WS}{CC}]{{1,128}}"))});
    let email = json!({"type": "string", "maxLength": 254,
        "pattern": trimmed(&format!("[^@{WS}{CC}]+@[^@{WS}{CC}]+"))});
    let password = json!({"type": "string", "minLength": 8, "maxLength": 1024});
    let role_name = json!({"type": "string", "pattern": trimmed(&format!(
        "[^{WS}{CC}](?:[^{CC}]{{0,126}}[^{WS}{CC}])?"))});
    let role_description = json!({"type": "string", "maxLength": 1024});
    let rights = json!({"type": "array",
        "items": {"type": "string", "enum": ["apps", "users", "roles"]}});
    let lifetime = |max: i64| json!({"type": "integer", "minimum": domain::apps::MIN_LIFETIME, "maximum": max});
    let scope_input = json!({
        "type": "object", "required": ["name"], "additionalProperties": false,
        "properties": {
            "name": {"type": "string", "pattern": trimmed("[A-Za-z0-9._:-]{1,64}")},
            "description": {"type": "string", "maxLength": 1024},
            "rest_regexes": {"type": "array", "items": {"type": "string", "format": "regex",
                "minLength": 1, "maxLength": 1024, "pattern": format!("[^{WS}]")}},
        },
    });
    let redirect = json!({"type": "string", "maxLength": 2048, "pattern": trimmed(&format!(
        "(?:[Hh][Tt][Tt][Pp][Ss]?://[^/?#{WS}{CC}][^#{WS}{CC}]*|{}:[^#{WS}{CC}]+)",
        other_scheme()))});
    let app = |creating: bool| {
        let mut props = json!({
            "name": text(1, 128),
            "description": text(0, 4096),
            "category": text(0, 64),
            "client_id_type": {"type": "string", "enum": ["anything", "list", "confidential", "registered"]},
            "client_registration": {"type": "string", "enum": ["off", "token", "open"]},
            "client_id_metadata_documents": {"type": "boolean", "description":
                "Take an https client_id as a client ID metadata document (Client ID Type registered only)."},
            "allowed_clients": {"type": "array", "items": {"type": "string",
                "pattern": trimmed(&format!("[^{WS}]{{1,128}}"))}},
            "issuer": {"type": "string", "maxLength": 1024, "description":
                "An absolute http(s) URL without query or fragment; empty resets to the default issuer.",
                "pattern": trimmed(&format!(
                    "(?:/*|https?://[^#?{WS}{CC}]*[^#?/{WS}{CC}][^#?{WS}{CC}]*)"))},
            "redirect_uris": {"type": "array", "maxItems": 100, "items": redirect},
            "post_logout_redirect_uris": {"type": "array", "maxItems": 100, "items": redirect},
            "resources": {"type": "array", "maxItems": 100, "items": redirect},
            "token_type": {"type": "string", "enum": ["jwt_rs256", "jwt_es256", "jwt_eddsa", "opaque"]},
            "auth_methods": {"type": "array", "items": {"type": "string",
                "enum": ["client_credentials", "authorization_code", "implicit", "password"]}},
            "token_lifetime_secs": lifetime(domain::apps::MAX_LIFETIME),
            "issue_refresh_tokens": {"type": "boolean"},
            "refresh_token_lifetime_secs": lifetime(domain::apps::MAX_REFRESH_LIFETIME),
            "user_must_confirm": {"type": "boolean"},
            "require_mfa": {"type": "boolean", "description": "People need a second factor to use the app."},
            "require_par": {"type": "boolean", "description": "Authorization requests must be pushed first (RFC 9126)."},
            "require_dpop": {"type": "boolean", "description": "Token requests must carry a DPoP proof (RFC 9449): every token is bound to the client's key."},
            "scopes": {"type": "array", "maxItems": 200, "items": scope_input},
            "user_access_roles": {"type": "array", "items": {"type": "string"},
                "description": "Role names; one that does not exist is 404 with its field."},
            "issuer_is_default": {"type": "boolean", "description": "Read-only; ignored."},
            "created_at": {"type": "string", "description": "Read-only; ignored."},
            "updated_at": {"type": "string", "description": "Read-only; ignored."},
        });
        if creating {
            props["app_id"] = json!({"type": "string",
                "pattern": trimmed("[A-Za-z0-9._-]{1,64}")});
            input(props, &["app_id", "name"], true)
        } else {
            // `app_id` may be echoed back unchanged; any other value is 422.
            input(props, &[], true)
        }
    };
    // A JWK set as `check_jwks` takes it: public RSA, EC or OKP keys whose members decode as
    // canonical unpadded base64url (the trailing bits of a partial group are zero).
    let b64 = |max: usize| {
        json!({"type": "string", "maxLength": max,
        "pattern": "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$"})
    };
    let common = |kty: &str, algs: &[&str]| {
        json!({
        "kty": {"type": "string", "enum": [kty]}, "kid": {"type": "string", "maxLength": 256},
        "use": {"type": "string", "enum": ["sig"]}, "alg": {"type": "string", "enum": algs}})
    };
    let key = |kty: &str, algs: &[&str], members: Value, required: &[&str]| {
        let mut props = common(kty, algs);
        if let (Some(p), Some(m)) = (props.as_object_mut(), members.as_object()) {
            p.extend(m.clone());
        }
        json!({"type": "object", "additionalProperties": false, "properties": props, "required": required})
    };
    let jwks = json!({"type": ["object", "null"], "additionalProperties": false, "required": ["keys"],
    "description": "Public keys for private_key_jwt client authentication (RFC 7523); null removes them.",
    "properties": {"keys": {"type": "array", "minItems": 1, "maxItems": 10, "items": {"oneOf": [
        key("RSA", &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
            json!({"n": b64(1400), "e": b64(16)}), &["kty", "n", "e"]),
        key("EC", &["ES256", "ES384"], json!({"crv": {"type": "string", "enum": ["P-256", "P-384"]},
            "x": b64(96), "y": b64(96)}), &["kty", "crv", "x", "y"]),
        key("OKP", &["EdDSA", "Ed25519"], json!({"crv": {"type": "string", "enum": ["Ed25519"]}, "x": b64(64)}),
            &["kty", "crv", "x"]),
    ]}}}});
    let user = |creating: bool| {
        let props = json!({
            "login_name": login, "email": email, "password": password,
            "display_name": {"type": "string"},
            "is_oauth_confidential_client": {"type": "boolean"},
            "enabled": {"type": "boolean"},
            "jwks": jwks,
        });
        if creating {
            input(props, &["login_name", "email", "password"], false)
        } else {
            input(props, &[], true)
        }
    };
    let role = |creating: bool| {
        let props = json!({"name": role_name, "description": role_description,
            "admin_rights": rights});
        input(props, if creating { &["name"] } else { &[] }, !creating)
    };
    let schemas = &mut doc["components"]["schemas"];
    schemas["NewApp"] = app(true);
    schemas["AppFields"] = app(false);
    schemas["NewUser"] = user(true);
    schemas["UserPatch"] = user(false);
    schemas["NewRole"] = role(true);
    schemas["RolePatch"] = role(false);
    schemas["ConfigDocument"]["properties"]["gatehouse_config"] =
        json!({"type": "integer", "enum": [domain::config_doc::FORMAT]});
    doc["paths"]["/api/v1/apps"]["post"]["requestBody"]["content"]["application/json"]["schema"] =
        json!({"$ref": "#/components/schemas/NewApp"});
    doc
}

/// An input object: the `required` fields must be there and not null; the others may be left
/// out, and may be null when `null_ok` (an `Option` on the Rust side).
fn input(mut props: Value, required: &[&str], null_ok: bool) -> Value {
    if let Some(m) = props.as_object_mut() {
        let optional = m
            .iter_mut()
            .filter(|(k, _)| null_ok && !required.contains(&k.as_str()));
        for (_, v) in optional {
            if let Some(t) = v["type"].as_str().map(str::to_string) {
                v["type"] = json!([t, "null"]);
            }
            if let Some(e) = v.get_mut("enum").and_then(Value::as_array_mut) {
                e.push(Value::Null);
            }
        }
    }
    json!({"type": "object", "additionalProperties": false, "required": required,
        "properties": props})
}

/// The JSON Schema (2020-12) of the configuration document (`gatehouse export --schema`): the
/// OpenAPI 3.1 schemas utoipa derives from the document's types, with only those the document
/// reaches, under `$defs`.
pub fn config_schema() -> Value {
    let doc = constrained();
    let all = doc["components"]["schemas"].clone();
    let prefix = "#/components/schemas/";
    let mut defs = serde_json::Map::new();
    let mut todo = vec!["ConfigDocument".to_string()];
    while let Some(name) = todo.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        let Some(schema) = all.get(&name) else {
            continue;
        };
        let text = schema.to_string();
        for part in text.split(prefix).skip(1) {
            if let Some(end) = part.find('"') {
                todo.push(part[..end].to_string());
            }
        }
        defs.insert(name, schema.clone());
    }
    let out = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Gatehouse configuration document",
        "$ref": "#/$defs/ConfigDocument",
        "$defs": defs,
    });
    serde_json::from_str(&out.to_string().replace(prefix, "#/$defs/")).unwrap_or(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::names::{
        check_password, AppId, Email, LoginName, RedirectUri, RoleName, ScopeName,
    };
    use proptest::prelude::*;

    /// The pattern the document gives `schema.property` (or its items), compiled once.
    fn pattern(schema: &str, property: &str) -> &'static regex::Regex {
        type Compiled = std::sync::Mutex<std::collections::HashMap<String, &'static regex::Regex>>;
        static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
        static COMPILED: std::sync::OnceLock<Compiled> = std::sync::OnceLock::new();
        let doc = DOC.get_or_init(constrained);
        let key = format!("{schema}.{property}");
        let mut m = COMPILED.get_or_init(Default::default).lock().expect("lock");
        m.entry(key).or_insert_with(|| {
            let mut p = &doc["components"]["schemas"][schema];
            for step in property.split('.') {
                p = &p["properties"][step];
                if p["items"].is_object() {
                    p = &p["items"];
                }
            }
            let p = p["pattern"].as_str().expect("a pattern");
            Box::leak(Box::new(
                regex::Regex::new(p).expect("the pattern compiles"),
            ))
        })
    }

    /// Strings made of what the rules are about: whitespace of every kind, control characters,
    /// separators, letters and a few non-ASCII characters.
    fn hostile() -> impl Strategy<Value = String> {
        "[ \\t\\n\\r\\x0b\\x0c\\x00\\x01\\x1f\\x7f\\u{85}\\u{a0}\\u{2000}\\u{3000}\\u{feff}aAhHtTpPsS09@:/#?._+-é]{0,24}"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// A value matches the document's pattern exactly when the API takes it, so a body
        /// valid by the document is never refused and one that breaks it is never taken.
        #[test]
        fn the_documents_patterns_are_the_apis_rules(s in hostile()) {
            let cases: [(&str, &str, bool); 8] = [
                ("NewUser", "login_name", LoginName::parse(&s).is_ok()),
                ("NewUser", "email", Email::parse(&s).is_ok()),
                ("NewRole", "name", RoleName::parse(&s).is_ok()),
                ("NewApp", "app_id", AppId::parse(s.trim()).is_ok()),
                ("NewApp", "redirect_uris", RedirectUri::parse(&s).is_ok()),
                ("NewApp", "name", s.trim().chars().count() >= 1
                    && !s.trim().chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))),
                ("NewUser", "password", check_password("password", &s).is_ok()),
                ("NewApp", "scopes.name", ScopeName::parse(s.trim()).is_ok()),
            ];
            for (schema, property, takes) in cases {
                let by_doc = if property == "password" {
                    (8..=1024).contains(&s.chars().count())
                } else {
                    pattern(schema, property).is_match(&s)
                };
                prop_assert_eq!(by_doc, takes, "{}.{} for {:?}", schema, property, s);
            }
        }
    }

    #[test]
    fn creating_requires_what_the_api_requires_and_patching_nothing() {
        let doc = constrained();
        let s = &doc["components"]["schemas"];
        assert_eq!(s["NewApp"]["required"], json!(["app_id", "name"]));
        assert_eq!(
            s["NewUser"]["required"],
            json!(["login_name", "email", "password"])
        );
        assert_eq!(s["NewRole"]["required"], json!(["name"]));
        for patch in ["AppFields", "UserPatch", "RolePatch"] {
            assert_eq!(s[patch]["required"], json!([]), "{patch}");
            assert_eq!(s[patch]["additionalProperties"], json!(false), "{patch}");
        }
        assert!(s["AppFields"]["properties"].get("app_id").is_none());
        assert_eq!(
            doc["paths"]["/api/v1/apps"]["post"]["requestBody"]["content"]["application/json"]
                ["schema"]["$ref"],
            "#/components/schemas/NewApp"
        );
    }
}
