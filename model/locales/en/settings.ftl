# The Settings page (settings-) and the sign-in providers' pages (providers-).

## Settings page
settings-title = Settings
settings-branding = Branding of the hosted pages
settings-branding-intro = The sign-in, consent, device and self-service pages show this name, logo and colour.
settings-product-name = Product name
settings-accent-color = Accent colour
settings-accent-help = Buttons and links. It must have a contrast of at least 4.5:1 with white and with the page background (WCAG AA); a lighter colour is refused.
settings-default-color = Use the default colour
settings-language = Language
settings-default-language = Default language
settings-default-language-help = Used when neither the application (ui_locales) nor the browser (Accept-Language) asks for a language Gatehouse speaks.
settings-language-unknown = Choose one of the languages offered.
settings-saved = Saved. The hosted pages show it now.
settings-logo = Logo
settings-logo-saved = Logo saved.
settings-logo-too-large = The logo is too large: at most 100 KB.
settings-logo-not-an-image = Choose a PNG, JPEG, WebP or GIF image.
settings-logo-current = The current logo
settings-logo-remove = Remove the logo
settings-logo-removed = Logo removed.
settings-logo-new = New logo (PNG, JPEG, WebP or GIF, at most 100 KB)
settings-logo-upload = Upload logo

## Sign-in providers
providers-title = Sign-in providers
providers-title-one = Sign-in provider
providers-add = Add a provider
providers-intro = People may sign in through these OpenID providers: a button on the login page for each enabled one.
providers-none = None yet.
providers-name = Name
providers-issuer = Issuer
providers-button = Button
providers-enabled = Enabled
providers-sign-in-with = Sign in with { $provider }
providers-yes = Yes
providers-no = No
providers-add-title = Add a sign-in provider
providers-all = All providers
providers-saved = Provider saved.
providers-added = Provider added.
providers-deleted = Provider deleted.
# Followed by ": " and the URI.
providers-register-redirect-uri = Register this redirect URI with the provider
providers-client-id = Client ID
providers-client-secret = Client secret
providers-client-secret-keep = Client secret (leave empty to keep the stored one)
providers-scopes = Scopes (space-separated)
providers-button-label = Button label (Sign in with …)
providers-match-by = A first sign-in is this local person
providers-match-email = The same verified e-mail address
providers-match-preferred-username = The same login name (preferred_username)
providers-match-none = Only people who signed in through it before
providers-create-users = Create a user for a person no local user matches
providers-default-role = Role of created users (a role name; empty: none)
providers-delete = Delete provider
providers-delete-help = People linked to it can no longer sign in through it; their accounts here stay.
