//! OAuth2 client apps as the doors and the portal hold them (SPEC §2): the app, its enums and
//! its changelog rows. The rules that check a change live in the domain; the ones a browser
//! can run (names, redirect URIs, REST regexes) are in `names` and `scopes`.

use serde::{Deserialize, Serialize};

use crate::scopes::Scope;

pub const MIN_LIFETIME: i64 = 60;
pub const MAX_LIFETIME: i64 = 31_536_000;
pub const DEFAULT_LIFETIME: i64 = 18_000;
pub const DEFAULT_REFRESH_LIFETIME: i64 = 30 * 24 * 3600;
/// Refresh tokens may live up to ten years.
pub const MAX_REFRESH_LIFETIME: i64 = 10 * MAX_LIFETIME;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClientIdType {
    Anything,
    List,
    Confidential,
    /// Only the clients registered with the app (by an administrator or RFC 7591 registration),
    /// each with its own redirect URIs, grant types and authentication method.
    Registered,
}

/// Whether clients may register themselves at `/oauth2/register/{app}` (RFC 7591).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClientRegistration {
    #[default]
    Off,
    /// With an initial access token an administrator issued.
    Token,
    /// By anyone (rate-limited per address, capped per app).
    Open,
}

impl ClientRegistration {
    pub const ALL: [ClientRegistration; 3] = [
        ClientRegistration::Off,
        ClientRegistration::Token,
        ClientRegistration::Open,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ClientRegistration::Off => "off",
            ClientRegistration::Token => "token",
            ClientRegistration::Open => "open",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ClientRegistration::Off => "Off",
            ClientRegistration::Token => "With an initial access token",
            ClientRegistration::Open => "Open to anyone",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TokenType {
    #[serde(rename = "jwt_rs256")]
    JwtRs256,
    #[serde(rename = "jwt_es256")]
    JwtEs256,
    #[serde(rename = "jwt_eddsa")]
    JwtEdDsa,
    #[serde(rename = "opaque")]
    Opaque,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuthMethod {
    ClientCredentials,
    AuthorizationCode,
    Implicit,
    Password,
    /// RFC 8628: a device shows a code; a person approves it on /device.
    DeviceCode,
    /// RFC 8693: a client exchanges a token of the app for another (narrower) one.
    TokenExchange,
}

impl ClientIdType {
    pub const ALL: [ClientIdType; 4] = [
        ClientIdType::Anything,
        ClientIdType::List,
        ClientIdType::Confidential,
        ClientIdType::Registered,
    ];
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientIdType::Anything => "anything",
            ClientIdType::List => "list",
            ClientIdType::Confidential => "confidential",
            ClientIdType::Registered => "registered",
        }
    }
    /// As the portal labels it.
    pub fn label(self) -> &'static str {
        match self {
            ClientIdType::Anything => "Anything",
            ClientIdType::List => "List",
            ClientIdType::Confidential => "Confidential",
            ClientIdType::Registered => "Registered clients",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }
}

impl TokenType {
    pub const ALL: [TokenType; 4] = [
        TokenType::JwtRs256,
        TokenType::JwtEs256,
        TokenType::JwtEdDsa,
        TokenType::Opaque,
    ];
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::JwtRs256 => "jwt_rs256",
            TokenType::JwtEs256 => "jwt_es256",
            TokenType::JwtEdDsa => "jwt_eddsa",
            TokenType::Opaque => "opaque",
        }
    }
    /// As the portal labels it (the documents' name for RS256, then the same pattern).
    pub fn label(self) -> &'static str {
        match self {
            TokenType::JwtRs256 => "JwtRS256",
            TokenType::JwtEs256 => "JwtES256 (ECDSA P-256)",
            TokenType::JwtEdDsa => "JwtEdDSA (Ed25519)",
            TokenType::Opaque => "Opaque",
        }
    }
    /// Whether access tokens are self-contained signed JWTs.
    pub fn is_jwt(self) -> bool {
        self != TokenType::Opaque
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 6] = [
        AuthMethod::ClientCredentials,
        AuthMethod::AuthorizationCode,
        AuthMethod::Implicit,
        AuthMethod::Password,
        AuthMethod::DeviceCode,
        AuthMethod::TokenExchange,
    ];
    /// As the portal labels it.
    pub fn label(self) -> &'static str {
        match self {
            AuthMethod::ClientCredentials => "Client Credentials",
            AuthMethod::AuthorizationCode => "Authorization Code",
            AuthMethod::Implicit => "Implicit",
            AuthMethod::Password => "Resource Owner (password)",
            AuthMethod::DeviceCode => "Device Code (TVs, CLIs)",
            AuthMethod::TokenExchange => "Token Exchange",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientCredentials => "client_credentials",
            AuthMethod::AuthorizationCode => "authorization_code",
            AuthMethod::Implicit => "implicit",
            AuthMethod::Password => "password",
            AuthMethod::DeviceCode => "device_code",
            AuthMethod::TokenExchange => "token_exchange",
        }
    }
}

/// An app as the doors show it. `issuer` is the effective issuer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct App {
    pub app_id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub client_id_type: ClientIdType,
    pub allowed_clients: Vec<String>,
    pub issuer: String,
    /// True when `issuer` is the default `{public_url}/oauth2/{app_id}`.
    pub issuer_is_default: bool,
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the person afterwards (OpenID RP-Initiated Logout),
    /// matched exactly like `redirect_uris`.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// The resources (RFC 8707) a token may be asked for with `resource`: absolute URIs, such as
    /// an MCP server's URL. A token for them has them as its audience.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Dynamic client registration (RFC 7591); only for Client ID Type `registered`.
    #[serde(default)]
    pub client_registration: ClientRegistration,
    /// Clients may name themselves by an https URL whose client ID metadata document says who
    /// they are (redirect URIs, name); only for Client ID Type `registered`.
    #[serde(default)]
    pub client_id_metadata_documents: bool,
    pub token_type: TokenType,
    pub auth_methods: Vec<AuthMethod>,
    pub token_lifetime_secs: i64,
    pub issue_refresh_tokens: bool,
    pub refresh_token_lifetime_secs: i64,
    pub user_must_confirm: bool,
    /// People need a second factor to use the app: one without is led to set one up first
    /// (SPEC §6a).
    #[serde(default)]
    pub require_mfa: bool,
    /// Authorization requests must be pushed first (RFC 9126): a plain one is refused.
    #[serde(default)]
    pub require_par: bool,
    /// Token requests must carry a DPoP proof (RFC 9449): every token is bound to a key.
    #[serde(default)]
    pub require_dpop: bool,
    pub scopes: Vec<Scope>,
    pub user_access_roles: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl App {
    /// A new app as the portal starts it: every setting at its default.
    pub fn new_app() -> Self {
        App {
            app_id: String::new(),
            name: String::new(),
            description: String::new(),
            category: "Other".into(),
            client_id_type: ClientIdType::Confidential,
            allowed_clients: vec![],
            issuer: String::new(),
            issuer_is_default: true,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            resources: vec![],
            client_registration: ClientRegistration::Off,
            client_id_metadata_documents: false,
            token_type: TokenType::JwtRs256,
            auth_methods: vec![AuthMethod::ClientCredentials],
            token_lifetime_secs: DEFAULT_LIFETIME,
            issue_refresh_tokens: false,
            refresh_token_lifetime_secs: DEFAULT_REFRESH_LIFETIME,
            user_must_confirm: false,
            require_mfa: false,
            require_par: false,
            require_dpop: false,
            scopes: vec![],
            user_access_roles: vec![],
            created_at: String::new(),
            updated_at: String::new(),
        }
    }
    pub fn allows(&self, m: AuthMethod) -> bool {
        self.auth_methods.contains(&m)
    }
    pub fn scope(&self, name: &str) -> Option<&Scope> {
        self.scopes.iter().find(|s| s.name == name)
    }
}

pub fn default_issuer(public_url: &str, app_id: &str) -> String {
    format!("{public_url}/oauth2/{app_id}")
}

/// One changelog row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub at: String,
    pub actor: String,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}
