# Zweite Faktoren: der zweite Schritt einer Anmeldung und die Sicherheitsseite einer Person.
security-title = Sicherheit
second-title = Zweiter Schritt
second-heading = Bestätigen Sie, dass Sie es sind
second-signing-in-as = Anmeldung als
second-code-or-recovery = Code aus Ihrer Authenticator-App oder ein Wiederherstellungscode
second-recovery-only = Ein Wiederherstellungscode
second-verify = Bestätigen
second-use-passkey = Einen Passkey verwenden
second-someone-else = Als jemand anderes anmelden
second-invalid = Dieser Code ist nicht richtig.
second-throttled = Zu viele fehlgeschlagene Versuche. Versuchen Sie es später erneut.
second-passkey-refused = Der Passkey wurde nicht akzeptiert.
security-qr-title = QR-Code des Authenticator-Links unten
security-totp-on = Eine Authenticator-App ist aktiv: Bei der Anmeldung wird nach Ihrem Passwort ihr Code abgefragt.
security-totp-remove = Authenticator-App entfernen
security-totp-step-scan = Scannen Sie diesen QR-Code mit Ihrer Authenticator-App, öffnen Sie den Link auf diesem Gerät oder geben Sie das Geheimnis ein.
security-totp-step-code = Geben Sie den 6-stelligen Code ein, den die App anzeigt.
security-totp-open = In einer Authenticator-App öffnen
security-totp-secret = Geheimnis:
security-totp-code = Code aus der App
security-totp-turn-on = Einschalten
security-totp-intro = Verwenden Sie eine App wie einen Passwortmanager oder einen Authenticator, die bei jeder Anmeldung einen Code erzeugt.
security-totp-set-up = Authenticator-App einrichten
security-totp-heading = Authenticator-App
security-recovery-heading = Wiederherstellungscodes
security-recovery-save = Speichern Sie diese Codes jetzt: Sie werden nur dieses eine Mal angezeigt.
security-recovery-each = Jeder meldet Sie einmal an, falls Sie Ihren zweiten Faktor verlieren.
security-recovery-left = { $count ->
        [one] Ein unbenutzter Wiederherstellungscode.
       *[other] { $count } unbenutzte Wiederherstellungscodes.
    }
security-recovery-make = Neue Wiederherstellungscodes erzeugen
security-passkeys-heading = Passkeys
security-passkeys-none = Sie haben keinen Passkey.
security-passkey-name = Name
security-passkey-added = Hinzugefügt
security-passkey-last-used = Zuletzt verwendet
security-passkey-synced = (synchronisiert)
security-passkey-remove-named = Passkey { $name } entfernen
security-passkey-new-name = Name des neuen Passkeys
security-passkey-default-name = Passkey
security-passkey-add = Passkey hinzufügen
security-passkeys-need-host = Passkeys brauchen Gatehouse unter einem Hostnamen (GATEHOUSE_PUBLIC_URL), nicht unter einer Adresse.
security-required = Zum Fortfahren ist ein zweiter Faktor nötig: Richten Sie unten einen ein.
security-note-totp-on = Ihre Authenticator-App ist aktiv. Bewahren Sie die Wiederherstellungscodes unten sicher auf.
security-note-totp-off = Ihre Authenticator-App wurde entfernt.
security-note-wrong-code = Dieser Code ist nicht richtig. Prüfen Sie die Uhr Ihrer Authenticator-App und versuchen Sie es erneut.
security-note-throttled = Zu viele falsche Codes. Versuchen Sie es später erneut.
security-note-no-setup = Beginnen Sie die Einrichtung erneut.
security-note-codes-made = Neue Wiederherstellungscodes wurden erzeugt; die alten funktionieren nicht mehr.
security-note-passkey-added = Ihr Passkey wurde hinzugefügt.
security-note-passkey-removed = Der Passkey wurde entfernt.
passkey-unsupported = Dieser Browser kann keine Passkeys verwenden.
passkey-checking = Wird geprüft …
passkey-cancelled = Die Passkey-Anfrage wurde abgebrochen oder ist abgelaufen.
passkey-follow-prompt = Folgen Sie der Aufforderung Ihres Browsers …
passkey-saving = Wird gespeichert …
passkey-give-password = Geben Sie zuerst Ihr Passwort ein.

## Die Sprache der Person
security-language-heading = Sprache
security-language-intro = Die Sprache Ihrer Seiten und der E-Mails an Sie. Eine über den Sprachlink einer Seite gewählte Sprache gilt für diesen Besuch.
security-language-label = Sprache
security-language-browser = Die Sprache Ihres Browsers
security-language-save = Sprache speichern
security-note-language-saved = Ihre Sprache ist gespeichert.
