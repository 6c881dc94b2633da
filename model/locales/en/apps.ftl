# The Apps screens: the list and the app screen (app/src/pages/apps.rs, app/src/api/apps.rs).

## The list
apps-title = Apps
apps-add = Add app
apps-search = Search apps
apps-category = Category
apps-all-categories = All categories
apps-filter = Filter
apps-name = Name
apps-application-id = Application ID
apps-token-type = Token Type
apps-auth-methods = Auth Methods
apps-count = { $count } app(s)
apps-previous = Previous
apps-next = Next

## The app screen
apps-app-title = App
apps-all = All apps
apps-created = App created.
apps-deleted = App deleted.
apps-sections = App sections
apps-description = Description
apps-general-usage = General Usage
apps-tokens = Tokens
apps-scope = Scope
apps-user-access = User Access
apps-activity = Activity
apps-changelog = Changelog
apps-application-name = Application Name

## General Usage
apps-client-id-type = Client ID Type
apps-client-id-anything = Anything
apps-client-id-list = List
apps-client-id-confidential = Confidential
apps-client-id-registered = Registered clients
apps-allowed-clients = Allowed clients (one client id per line)
apps-client-registration = Client registration (RFC 7591)
apps-registration-off = Off
apps-registration-token = With an initial access token
apps-registration-open = Open to anyone
# Around the code /oauth2/register/{app}.
apps-registration-help-before = Clients such as MCP clients and AI tools register themselves at
apps-registration-help-after = and get their own client id, redirect URIs and grant types.
apps-cimd = Accept client ID metadata documents
apps-cimd-help = A client may use the https URL of a JSON document as its client id; Gatehouse fetches the document and takes the client's name and redirect URIs from it. The sign-in consent shows the document's host.
apps-clients-link = Clients of this app
apps-confidential-help = Confidential clients are users with the OAuth confidential client switch on.
apps-create-confidential-user = Create a confidential client user
apps-issuer = Issuer
apps-allow-redirects = Allow Redirects
apps-redirect-uri = Redirect URI
apps-add-redirect-uri = Add redirect URI
apps-post-logout-redirects = Post-logout redirects
apps-post-logout-redirect-uri = Post-logout redirect URI
apps-add-post-logout-redirect-uri = Add post-logout redirect URI
apps-resources = Resources
apps-resource = Resource
apps-add-resource = Add resource
# Around the code `resource`.
apps-resources-help-before = Resources are the APIs (for example an MCP server's URL) a client may ask a token for with
apps-resources-help-after = (RFC 8707); such a token's audience is the resource.
# A row's remove button: "Remove Redirect URI 2", "Remove Scope 1".
apps-remove-named = Remove { $name }

## Endpoints
apps-endpoints = Endpoints
apps-endpoint-token = Token
apps-endpoint-authorize = Authorize
apps-endpoint-introspect = Introspect
apps-endpoint-revoke = Revoke
apps-endpoint-keys = Keys (JWKS)
apps-endpoint-metadata = Metadata
apps-curl-title = Client credentials request

## Tokens
apps-auth-method-password = Resource Owner (password)
apps-auth-method-device-code = Device Code (TVs, CLIs)
apps-token-lifetime = Token Lifetime
apps-refresh-token-lifetime = Refresh token lifetime
# The unit selector's label beside a lifetime.
apps-lifetime-unit = { $label } unit
apps-unit-seconds = seconds
apps-unit-minutes = minutes
apps-unit-hours = hours
apps-unit-days = days
apps-token-lifetime-whole = Token Lifetime must be a whole number
apps-refresh-lifetime-whole = Refresh token lifetime must be a whole number
apps-require-dpop = Require DPoP-bound tokens
apps-require-dpop-help = Every token request carries a DPoP proof (RFC 9449) signed by a key the client holds; its tokens are bound to that key, so a stolen token is useless without it. Clients that send a proof get bound tokens whether or not this is on.
apps-issue-refresh-tokens = Issue refresh tokens

## Scope
apps-user-must-confirm = User must confirm authorization request
apps-require-mfa = Require a second factor
apps-require-mfa-help = People sign in with an authenticator app or a passkey as well as their password; one who has neither is led to set one up before continuing to the app. ID tokens say how they signed in (amr, acr).
apps-require-par = Require pushed authorization requests (PAR)
apps-require-par-help = Clients post their authorization parameters to /oauth2/par/{"{"}app{"}"} first (RFC 9126) and send the browser with only the request_uri they get back; plain authorization requests are refused. FAPI 2.0 asks for it.
apps-scope-definitions = Scope Definitions
apps-scope-numbered = Scope { $n }
apps-rest-regex-numbered = REST regex { $n }
apps-add-rest-regex = Add REST regex
apps-add-scope = Add scope

## User Access
apps-roles-legend = Roles whose members may use this app

## Changelog
apps-changelog-when = When
apps-changelog-who = Who
apps-changelog-field = Field
apps-changelog-old = Old
apps-changelog-new = New

## Delete
apps-delete = Delete app
apps-delete-help = Deleting the app removes its scopes and grants and revokes every token it issued.
