# Die gehosteten Seiten: Anmeldung, zweiter Schritt, Zustimmung, Gerät, Selbstbedienung, Hinweise, E-Mail.
login-name = Anmeldename
password = Passwort
login-passkey = Mit einem Passkey anmelden
login-other-ways = Andere Wege, sich anzumelden
login-with = Anmelden mit { $provider }
login-invalid = Anmeldename oder Passwort ist falsch.
login-locked = Zu viele fehlgeschlagene Versuche. Versuchen Sie es in { $minutes ->
        [one] einer Minute
       *[other] { $minutes } Minuten
    } erneut.
login-busy = Gatehouse bearbeitet gerade viele andere Anmeldungen. Versuchen Sie es gleich noch einmal.

forgot-title = Passwort vergessen?
forgot-intro = Geben Sie Ihre E-Mail-Adresse oder Ihren Anmeldenamen ein. Wir senden einen Link zum Festlegen eines neuen Passworts an die Adresse des Kontos.
forgot-who = E-Mail-Adresse oder Anmeldename
forgot-send = Link senden
forgot-not-offered = Das Zurücksetzen des Passworts per E-Mail ist hier nicht eingerichtet. Wenden Sie sich an Ihre Administration.
reset-title = Neues Passwort festlegen
reset-new = Neues Passwort
reset-help = Mindestens 8 Zeichen. Alle anderen Anmeldungen von Ihnen werden beendet.
reset-again = Neues Passwort wiederholen
reset-change = Passwort ändern
reset-ask-again = Einen neuen Link anfordern
signup-title = Konto erstellen
signup-email = E-Mail-Adresse
signup-display-name = Ihr Name
signup-password-again = Passwort wiederholen
signup-create = Konto erstellen
signup-not-offered = Hier können Sie kein Konto erstellen. Bitten Sie Ihre Administration um eines.
verify-title = Adresse bestätigen
verify-intro = Bestätigen Sie, dass diese E-Mail-Adresse Ihnen gehört, um die Erstellung Ihres Kontos abzuschließen.
verify-confirm = Meine Adresse bestätigen
self-sent = Wenn ein Konto diese Adresse oder diesen Anmeldenamen hat, haben wir einen Link an seine E-Mail-Adresse gesendet. Er funktioniert einmal, 30 Minuten lang.
self-bad-link = Dieser Link funktioniert nicht mehr: Er wurde benutzt, ist abgelaufen oder unvollständig. Fordern Sie einen neuen an.
self-mismatch = Die beiden Passwörter stimmen nicht überein.
self-changed = Ihr Passwort wurde geändert, und Sie wurden überall abgemeldet. Melden Sie sich mit dem neuen an.
self-signed-up = Fast geschafft: Wir haben einen Link an Ihre E-Mail-Adresse gesendet. Öffnen Sie ihn, um die Adresse zu bestätigen und abzuschließen.
self-verified = Ihre Adresse ist bestätigt und Ihr Konto ist bereit. Melden Sie sich an.
self-throttled = Zu viele Anfragen von hier. Warten Sie eine Minute und versuchen Sie es erneut.
self-hint-login-name = Dieser Anmeldename kann nicht verwendet werden: Er ist vergeben oder enthält Zeichen, die ein Anmeldename nicht haben darf.
self-hint-email = Mit dieser E-Mail-Adresse ist hier keine Registrierung möglich.
self-hint-password = Wählen Sie ein längeres Passwort (mindestens 8 Zeichen).
self-hint-form = Prüfen Sie das Formular und versuchen Sie es erneut.

device-title = Gerät verbinden
device-wants = { $app } möchte Ihr Konto verwenden
device-check-code = Prüfen Sie, ob Ihr Gerät diesen Code anzeigt:
device-asks-for = Angefragt wird:
device-code-label = Code, den Ihr Gerät anzeigt
device-not-found = Zu diesem Code wartet kein Gerät. Prüfen Sie ihn und versuchen Sie es erneut.
device-throttled = Zu viele falsche Codes. Versuchen Sie es später erneut.
device-approved = Fertig: Das Gerät ist angemeldet. Sie können diese Seite schließen.
device-denied = Die Anfrage wurde abgelehnt: Das Gerät erhält keinen Zugriff.
device-gone = Dieser Code ist abgelaufen oder wurde schon benutzt. Beginnen Sie auf dem Gerät von vorn.
device-not-allowed = Sie dürfen diese Anwendung nicht verwenden.
form-expired = Dieses Formular ist abgelaufen. Versuchen Sie es erneut.

consent-error-title = Autorisierungsfehler
consent-error-heading = Diese Anmeldeanfrage kann nicht abgeschlossen werden
consent-start-again = Beginnen Sie die Anmeldung erneut in der Anwendung.
consent-title = { $app } autorisieren
consent-heading = { $app } Zugriff auf Ihr Konto erlauben?
consent-requested-by = Angefragt von
consent-admin-warning = Dies gewährt administrativen Zugriff auf Gatehouse.
consent-admin-detail = { $app } kann dann die Admin-API von Gatehouse in Ihrem Namen verwenden: Apps, Benutzer und Rollen mit Ihren Admin-Rechten ändern. Erlauben Sie das nur, wenn Sie diese Anwendung selbst eingerichtet haben.
consent-asks-for = { $app } bittet um
connected-title = Verbundene Apps
connected-none = Sie haben noch keiner Anwendung zugestimmt.
connected-app = Anwendung
connected-scopes = Erlaubte Scopes
connected-withdraw = Widerrufen
connected-withdraw-named = Zugriff von { $app } widerrufen

notice-not-found-title = Nicht gefunden
notice-page-not-found = Seite nicht gefunden
notice-no-page = Unter dieser Adresse gibt es keine Seite.
notice-error-title = Fehler
notice-error-heading = Etwas ist schiefgegangen
notice-error-message = Versuchen Sie es gleich noch einmal.
notice-forbidden-title = Verboten
notice-forbidden-heading = Zugriff verweigert
notice-forbidden-message = Sie brauchen das Recht { $right }, um diese Seite zu öffnen.
notice-forbidden-any-message = Sie brauchen ein Admin-Recht, um diese Seite zu öffnen.
notice-back-to-portal = Zurück zum Portal
notice-authorize-more = Die Anwendung, die Sie hierher geschickt hat, ist womöglich falsch eingerichtet. Sie können dieses Fenster schließen.
notice-our-side = Bei uns ist etwas schiefgegangen. Versuchen Sie es gleich noch einmal.
federation-no-provider = Diesen Anmeldeanbieter gibt es hier nicht.
federation-refused = Die Anmeldung wurde abgelehnt: { $detail }.
federation-unreachable = Der Anmeldeanbieter ist nicht erreichbar. Versuchen Sie es später erneut.
federation-our-side = Bei uns ist etwas schiefgegangen.
notice-signed-out-title = Abgemeldet
notice-signed-out-heading = Sie sind abgemeldet
notice-signed-out-message = Sie können dieses Fenster schließen.
notice-sign-out-failed = Abmeldung fehlgeschlagen
notice-sign-out-error = Abmeldefehler
notice-sign-out-error-heading = Diese Abmeldeanfrage kann nicht abgeschlossen werden
notice-sign-out-title = Abmelden
notice-sign-out-heading = Von Gatehouse abmelden?
notice-sign-out-asks = { $app } bittet darum, Ihre Anmeldung bei Gatehouse zu beenden.
notice-sign-out-expired = Dieses Formular ist abgelaufen
notice-sign-out-again = Beginnen Sie die Abmeldung erneut in der Anwendung.
notice-sign-in-failed = Anmeldung fehlgeschlagen

mail-hello = Hallo { $name },
mail-once = Der Link funktioniert einmal, { $minutes ->
        [one] eine Minute
       *[other] { $minutes } Minuten
    } lang.
mail-copy = Oder kopieren Sie diese Adresse in Ihren Browser:
mail-reset-subject = Ihr Passwort für { $product } zurücksetzen
mail-reset-intro = Jemand hat darum gebeten, das Passwort Ihres Kontos zurückzusetzen. Um ein neues Passwort festzulegen, öffnen Sie diesen Link:
mail-reset-action = Neues Passwort festlegen
mail-reset-not-you = Wenn Sie das nicht waren, ignorieren Sie diese Nachricht: Ihr Passwort bleibt, wie es ist.
mail-verify-subject = Bestätigen Sie Ihre Adresse für { $product }
mail-verify-intro = Danke für Ihre Registrierung. Um zu bestätigen, dass diese Adresse Ihnen gehört, und abzuschließen, öffnen Sie diesen Link:
mail-verify-action = Meine Adresse bestätigen
mail-verify-not-you = Wenn Sie sich nicht registriert haben, ignorieren Sie diese Nachricht: Ohne den Link wird kein Konto angelegt.

authorize-no-app = Diese Anwendung gibt es nicht.
authorize-malformed = Die Anfrage ist fehlerhaft.
authorize-form-expired = Dieses Formular ist abgelaufen. Beginnen Sie die Anmeldung erneut in der Anwendung.
authorize-signed-out = Sie sind nicht mehr angemeldet. Beginnen Sie die Anmeldung erneut in der Anwendung.
authorize-request-uri-gone = Die request_uri ist unbekannt, abgelaufen oder schon benutzt: Beginnen Sie erneut in der Anwendung.
