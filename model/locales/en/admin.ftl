# The admin portal's frame and home page (admin-), the activity charts (activity-) and the
# Audit page (audit-).

## The frame and the home page
admin-title = Admin
admin-nav = Admin
admin-nav-apps = Apps
admin-nav-users = Users
admin-nav-roles = Roles
admin-nav-audit = Audit
admin-nav-providers = Sign-in providers
admin-nav-settings = Settings
admin-home-title = Administration
admin-home-intro = Manage OAuth2 client apps, the users who sign in and the roles that give them access.
# After "Apps — ".
admin-home-apps = OAuth2 clients, their scopes, tokens and user access.
# After "Users — ".
admin-home-users = people and OAuth confidential clients.
# After "Roles — ".
admin-home-roles = members and admin rights.
# After "Audit — ".
admin-home-audit = who changed what, sign-ins and consents.

## Activity charts
activity-title = Activity
activity-time-window = Time window
activity-window-hour = Last hour
activity-window-day = Last day
activity-window-month = Last 30 days
# The window as a chart's caption names it.
activity-window-hour-lower = last hour
activity-window-day-lower = last day
activity-window-month-lower = last 30 days
activity-tokens-issued = Tokens issued
activity-tokens-refused = Tokens refused
activity-sign-ins = Sign-ins
activity-grant-type = Grant type
activity-error = Error
activity-outcome = Outcome
# A chart's caption: "Tokens issued, last hour: 3".
activity-caption = { $what }, { $when }: { $total }
activity-nothing = Nothing in this window.
activity-count = Count
activity-the-numbers = { $what }: the numbers
activity-from-utc = From (UTC)
activity-total = Total
activity-no-app = no app

## Audit page
audit-title = Audit
audit-intro = Every change to apps, users, roles and keys, every sign-in and sign-out, every consent given or withdrawn. Times are UTC.
audit-actor = Actor
audit-actor-placeholder = login name
audit-object = Object
audit-object-placeholder = app:billing, a login name…
audit-action = Action
audit-action-any = Any
audit-action-app-any = Apps: any
audit-action-app-create = App created
audit-action-app-update = App changed
audit-action-app-delete = App deleted
audit-action-user-any = Users: any
audit-action-user-create = User created
audit-action-user-update = User changed
audit-action-user-delete = User deleted
audit-action-role-any = Roles: any
audit-action-role-create = Role created
audit-action-role-update = Role changed
audit-action-role-delete = Role deleted
audit-action-role-member-add = Member added
audit-action-role-member-remove = Member removed
audit-action-keys-rotate = Keys rotated
audit-action-session-any = Sessions: any
audit-action-session-sign-in = Signed in
audit-action-session-sign-in-failed = Sign-in failed
audit-action-session-sign-out = Signed out
audit-action-consent-any = Consents: any
audit-action-consent-grant = Consent given
audit-action-consent-withdraw = Consent withdrawn
audit-since = Since (UTC)
audit-until = Until (UTC)
audit-filter = Filter
audit-when = When
# The column of the address a change came from.
audit-from = From
audit-changes = Changes
# An actor acting through an OAuth client: "alice (client billing)".
audit-actor-client = { $name } (client { $id })
audit-actor-system = { $name } (command line)
audit-records = { $count } record(s)
audit-previous = Previous
audit-next = Next
