# Rahmen und Startseite des Verwaltungsportals (admin-), die Aktivitätsdiagramme (activity-) und
# das Audit-Protokoll (audit-).

## Rahmen und Startseite
admin-title = Verwaltung
admin-nav = Verwaltung
admin-nav-apps = Apps
admin-nav-users = Benutzer
admin-nav-roles = Rollen
admin-nav-audit = Audit-Protokoll
admin-nav-providers = Identitätsanbieter
admin-nav-settings = Einstellungen
admin-home-title = Verwaltung
admin-home-intro = Verwalten Sie OAuth2-Client-Apps, die Benutzer, die sich anmelden, und die Rollen, die ihnen Zugriff geben.
# Nach „Apps — “.
admin-home-apps = OAuth2-Clients, ihre Scopes, Token und der Zugriff der Benutzer.
# Nach „Benutzer — “.
admin-home-users = Personen und vertrauliche OAuth-Clients.
# Nach „Rollen — “.
admin-home-roles = Mitglieder und Verwaltungsrechte.
# Nach „Audit-Protokoll — “.
admin-home-audit = wer was geändert hat, Anmeldungen und Zustimmungen.

## Aktivitätsdiagramme
activity-title = Aktivität
activity-time-window = Zeitraum
activity-window-hour = Letzte Stunde
activity-window-day = Letzter Tag
activity-window-month = Letzte 30 Tage
# Der Zeitraum, wie ihn die Beschriftung eines Diagramms nennt.
activity-window-hour-lower = letzte Stunde
activity-window-day-lower = letzter Tag
activity-window-month-lower = letzte 30 Tage
activity-tokens-issued = Ausgestellte Token
activity-tokens-refused = Verweigerte Token
activity-sign-ins = Anmeldungen
activity-grant-type = Grant-Typ
activity-error = Fehler
activity-outcome = Ergebnis
# Beschriftung eines Diagramms: „Ausgestellte Token, letzte Stunde: 3“.
activity-caption = { $what }, { $when }: { $total }
activity-nothing = In diesem Zeitraum nichts.
activity-count = Anzahl
activity-the-numbers = { $what }: die Zahlen
activity-from-utc = Ab (UTC)
activity-total = Summe
activity-no-app = keine App

## Audit-Protokoll
audit-title = Audit-Protokoll
audit-intro = Jede Änderung an Apps, Benutzern, Rollen und Schlüsseln, jede An- und Abmeldung, jede erteilte oder widerrufene Zustimmung. Alle Zeiten in UTC.
audit-actor = Akteur
audit-actor-placeholder = Anmeldename
audit-object = Objekt
audit-object-placeholder = app:billing, ein Anmeldename …
audit-action = Aktion
audit-action-any = Alle
audit-action-app-any = Apps: alle
audit-action-app-create = App angelegt
audit-action-app-update = App geändert
audit-action-app-delete = App gelöscht
audit-action-user-any = Benutzer: alle
audit-action-user-create = Benutzer angelegt
audit-action-user-update = Benutzer geändert
audit-action-user-delete = Benutzer gelöscht
audit-action-role-any = Rollen: alle
audit-action-role-create = Rolle angelegt
audit-action-role-update = Rolle geändert
audit-action-role-delete = Rolle gelöscht
audit-action-role-member-add = Mitglied hinzugefügt
audit-action-role-member-remove = Mitglied entfernt
audit-action-keys-rotate = Schlüssel gewechselt
audit-action-session-any = Sitzungen: alle
audit-action-session-sign-in = Angemeldet
audit-action-session-sign-in-failed = Anmeldung fehlgeschlagen
audit-action-session-sign-out = Abgemeldet
audit-action-consent-any = Zustimmungen: alle
audit-action-consent-grant = Zustimmung erteilt
audit-action-consent-withdraw = Zustimmung widerrufen
audit-since = Von (UTC)
audit-until = Bis (UTC)
audit-filter = Filtern
audit-when = Wann
# Die Spalte der Adresse, von der eine Änderung kam.
audit-from = Herkunft
audit-changes = Änderungen
# Ein Akteur, der über einen OAuth-Client handelt: „alice (Client billing)“.
audit-actor-client = { $name } (Client { $id })
audit-actor-system = { $name } (Kommandozeile)
audit-records =
    { $count ->
        [one] { $count } Eintrag
       *[other] { $count } Einträge
    }
audit-previous = Zurück
audit-next = Weiter
