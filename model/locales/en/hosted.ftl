# The hosted pages: sign-in, second step, consent, device, self-service, notices, mail.
login-name = Login Name
password = Password
login-passkey = Sign in with a passkey
login-other-ways = Other ways to sign in
login-with = Sign in with { $provider }
login-invalid = Invalid login name or password.
login-locked = Too many failed attempts. Try again in { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }.
login-busy = Gatehouse is busy with other sign-ins right now. Try again in a moment.

forgot-title = Forgot your password?
forgot-intro = Type your e-mail address or login name. We send a link to choose a new password to the address of the account.
forgot-who = E-mail address or login name
forgot-send = Send the link
forgot-not-offered = Password reset by e-mail is not set up here. Ask your administrator.
reset-title = Choose a new password
reset-new = New password
reset-help = At least 8 characters. Every other sign-in of yours ends.
reset-again = New password again
reset-change = Change password
reset-ask-again = Ask for a new link
signup-title = Create an account
signup-email = E-mail address
signup-display-name = Your name
signup-password-again = Password again
signup-create = Create account
signup-not-offered = You cannot create an account here. Ask your administrator for one.
verify-title = Confirm your address
verify-intro = Confirm that this e-mail address is yours to finish creating your account.
verify-confirm = Confirm my address
self-sent = If an account has that address or login name, we have sent a link to its e-mail address. It works once, for 30 minutes.
self-bad-link = This link does not work any more: it was used, it expired, or it is not complete. Ask for a new one.
self-mismatch = The two passwords are not the same.
self-changed = Your password was changed, and you were signed out everywhere. Sign in with the new one.
self-signed-up = Almost done: we have sent a link to your e-mail address. Open it to confirm the address and finish.
self-verified = Your address is confirmed and your account is ready. Sign in.
self-throttled = Too many requests from here. Wait a minute and try again.
self-hint-login-name = That login name cannot be used: it is taken, or it has characters a login name may not have.
self-hint-email = That e-mail address cannot sign up here.
self-hint-password = Choose a longer password (at least 8 characters).
self-hint-form = Check the form and try again.

device-title = Connect a device
device-wants = { $app } wants to use your account
device-check-code = Check that your device shows the code
device-asks-for = It asks for:
device-code-label = Code shown on your device
device-not-found = That code names no waiting device. Check it and try again.
device-throttled = Too many wrong codes. Try again later.
device-approved = Done: the device is signed in. You can close this page.
device-denied = The request was denied: the device gets no access.
device-gone = That code has expired or was used already. Start again on the device.
device-not-allowed = You may not use this application.
form-expired = This form has expired. Try again.

consent-error-title = Authorization error
consent-error-heading = This sign-in request cannot be completed
consent-start-again = Start the sign-in again from the application.
consent-title = Authorize { $app }
consent-heading = Allow { $app } to access your account?
consent-requested-by = Requested by
consent-admin-warning = This grants administrative access to Gatehouse.
consent-admin-detail = { $app } will be able to use Gatehouse's admin API as you: change apps, users and roles with your admin rights. Approve only if you set this application up yourself.
consent-asks-for = { $app } asks for
connected-title = Connected apps
connected-none = You have not approved any application.
connected-app = Application
connected-scopes = Approved scopes
connected-withdraw = Withdraw
connected-withdraw-named = Withdraw access of { $app }

notice-not-found-title = Not found
notice-page-not-found = Page not found
notice-no-page = There is no page at this address.
notice-error-title = Error
notice-error-heading = Something went wrong
notice-error-message = Try again in a moment.
notice-forbidden-title = Forbidden
notice-forbidden-heading = Access denied
notice-forbidden-message = You need the { $right } right to open this page.
notice-forbidden-any-message = You need an admin right to open this page.
notice-back-to-portal = Back to the portal
notice-authorize-more = The application that sent you here may be misconfigured. You can close this window.
notice-our-side = Something went wrong on our side. Try again in a moment.
federation-no-provider = There is no such sign-in provider here.
federation-refused = The sign-in was refused: { $detail }.
federation-unreachable = The sign-in provider could not be reached. Try again later.
federation-our-side = Something went wrong on our side.
notice-signed-out-title = Signed out
notice-signed-out-heading = You are signed out
notice-signed-out-message = You can close this window.
notice-sign-out-failed = Sign-out failed
notice-sign-out-error = Sign-out error
notice-sign-out-error-heading = This sign-out request cannot be completed
notice-sign-out-title = Sign out
notice-sign-out-heading = Sign out of Gatehouse?
notice-sign-out-asks = { $app } asks to end your Gatehouse sign-in.
notice-sign-out-expired = This form has expired
notice-sign-out-again = Start the sign-out again from the application.
notice-sign-in-failed = Sign-in failed

mail-hello = Hello { $name },
mail-once = The link works once, for { $minutes ->
        [one] { $minutes } minute.
       *[other] { $minutes } minutes.
    }
mail-copy = Or copy this address into your browser:
mail-reset-subject = Reset your { $product } password
mail-reset-intro = Someone asked to reset the password of your account. To choose a new password, open this link:
mail-reset-action = Choose a new password
mail-reset-not-you = If it was not you, ignore this message: your password stays as it is.
mail-verify-subject = Confirm your address for { $product }
mail-verify-intro = Thank you for signing up. To confirm that this address is yours and finish, open this link:
mail-verify-action = Confirm my address
mail-verify-not-you = If you did not sign up, ignore this message: no account is made without the link.

authorize-no-app = There is no such application.
authorize-malformed = The request is malformed.
authorize-form-expired = This form has expired. Start the sign-in again from the application.
authorize-signed-out = You are not signed in any more. Start the sign-in again from the application.
authorize-request-uri-gone = The request_uri is unknown, expired or used already: start again from the application.
