# Die Apps-Seiten: die Liste und die Seite einer App (app/src/pages/apps.rs, app/src/api/apps.rs).

## Die Liste
apps-title = Apps
apps-add = App hinzufügen
apps-search = Apps suchen
apps-category = Kategorie
apps-all-categories = Alle Kategorien
apps-filter = Filtern
apps-name = Name
apps-application-id = App-ID
apps-token-type = Token-Typ
apps-auth-methods = Authentifizierungsmethoden
apps-count = { $count ->
    [one] { $count } App
   *[other] { $count } Apps
}
apps-previous = Zurück
apps-next = Weiter

## Die Seite einer App
apps-app-title = App
apps-all = Alle Apps
apps-created = App erstellt.
apps-deleted = App gelöscht.
apps-sections = Abschnitte der App
apps-description = Beschreibung
apps-general-usage = Allgemeine Verwendung
apps-tokens = Tokens
apps-scope = Scope
apps-user-access = Benutzerzugriff
apps-activity = Aktivität
apps-changelog = Änderungsprotokoll
apps-application-name = App-Name

## Allgemeine Verwendung
apps-client-id-type = Client-ID-Typ
apps-client-id-anything = Beliebig
apps-client-id-list = Liste
apps-client-id-confidential = Vertraulich
apps-client-id-registered = Registrierte Clients
apps-allowed-clients = Erlaubte Clients (eine Client-ID pro Zeile)
apps-client-registration = Client-Registrierung (RFC 7591)
apps-registration-off = Aus
apps-registration-token = Mit einem Initial Access Token
apps-registration-open = Für alle offen
# Vor und nach dem Code /oauth2/register/{app}.
apps-registration-help-before = Clients wie MCP-Clients und KI-Werkzeuge registrieren sich selbst unter
apps-registration-help-after = und erhalten ihre eigene Client-ID, Weiterleitungs-URIs und Grant-Typen.
apps-cimd = Client-ID-Metadatendokumente akzeptieren
apps-cimd-help = Ein Client kann die https-URL eines JSON-Dokuments als Client-ID verwenden; Gatehouse ruft das Dokument ab und übernimmt daraus den Namen und die Weiterleitungs-URIs des Clients. Die Zustimmung bei der Anmeldung zeigt den Host des Dokuments.
apps-clients-link = Clients dieser App
apps-confidential-help = Vertrauliche Clients sind Benutzer, bei denen die Einstellung „vertraulicher OAuth-Client“ eingeschaltet ist.
apps-create-confidential-user = Benutzer als vertraulichen Client anlegen
apps-issuer = Aussteller (Issuer)
apps-allow-redirects = Erlaubte Weiterleitungen
apps-redirect-uri = Weiterleitungs-URI
apps-add-redirect-uri = Weiterleitungs-URI hinzufügen
apps-post-logout-redirects = Weiterleitungen nach dem Abmelden
apps-post-logout-redirect-uri = Weiterleitungs-URI nach dem Abmelden
apps-add-post-logout-redirect-uri = Weiterleitungs-URI nach dem Abmelden hinzufügen
apps-resources = Ressourcen
apps-resource = Ressource
apps-add-resource = Ressource hinzufügen
# Vor und nach dem Code `resource`.
apps-resources-help-before = Ressourcen sind die APIs (zum Beispiel die URL eines MCP-Servers), für die ein Client mit
apps-resources-help-after = (RFC 8707) ein Token anfordern kann; die Audience eines solchen Tokens ist die Ressource.
# Die Schaltfläche zum Entfernen einer Zeile: „Weiterleitungs-URI 2 entfernen“, „Scope 1 entfernen“.
apps-remove-named = { $name } entfernen

## Endpunkte
apps-endpoints = Endpunkte
apps-endpoint-token = Token
apps-endpoint-authorize = Autorisierung
apps-endpoint-introspect = Introspektion
apps-endpoint-revoke = Widerruf
apps-endpoint-keys = Schlüssel (JWKS)
apps-endpoint-metadata = Metadaten
apps-curl-title = Client-Credentials-Anfrage

## Tokens
apps-auth-method-password = Resource Owner (Passwort)
apps-auth-method-device-code = Device Code (Fernseher, Kommandozeilenprogramme)
apps-token-lifetime = Token-Gültigkeitsdauer
apps-refresh-token-lifetime = Gültigkeitsdauer der Refresh-Tokens
# Die Beschriftung der Einheit neben einer Gültigkeitsdauer.
apps-lifetime-unit = { $label } (Einheit)
apps-unit-seconds = Sekunden
apps-unit-minutes = Minuten
apps-unit-hours = Stunden
apps-unit-days = Tage
apps-token-lifetime-whole = Die Token-Gültigkeitsdauer muss eine ganze Zahl sein
apps-refresh-lifetime-whole = Die Gültigkeitsdauer der Refresh-Tokens muss eine ganze Zahl sein
apps-require-dpop = DPoP-gebundene Tokens verlangen
apps-require-dpop-help = Jede Token-Anfrage enthält einen DPoP-Nachweis (RFC 9449), signiert mit einem Schlüssel, den der Client besitzt; seine Tokens sind an diesen Schlüssel gebunden, sodass ein gestohlenes Token ohne ihn nutzlos ist. Clients, die einen Nachweis senden, erhalten gebundene Tokens, unabhängig davon, ob diese Einstellung eingeschaltet ist.
apps-issue-refresh-tokens = Refresh-Tokens ausstellen

## Scope
apps-user-must-confirm = Benutzer müssen die Autorisierungsanfrage bestätigen
apps-require-mfa = Einen zweiten Faktor verlangen
apps-require-mfa-help = Personen melden sich zusätzlich zu ihrem Passwort mit einer Authenticator-App oder einem Passkey an; wer keins von beiden hat, wird angeleitet, eines einzurichten, bevor es zur App weitergeht. ID-Tokens geben an, wie sich die Person angemeldet hat (amr, acr).
apps-require-par = Pushed Authorization Requests (PAR) verlangen
apps-require-par-help = Clients senden ihre Autorisierungsparameter zuerst an /oauth2/par/{"{"}app{"}"} (RFC 9126) und schicken den Browser nur mit der request_uri weiter, die sie zurückbekommen; einfache Autorisierungsanfragen werden abgelehnt. FAPI 2.0 verlangt dies.
apps-scope-definitions = Scope-Definitionen
apps-scope-numbered = Scope { $n }
apps-rest-regex-numbered = REST-Regex { $n }
apps-add-rest-regex = REST-Regex hinzufügen
apps-add-scope = Scope hinzufügen

## Benutzerzugriff
apps-roles-legend = Rollen, deren Mitglieder diese App verwenden dürfen

## Änderungsprotokoll
apps-changelog-when = Wann
apps-changelog-who = Wer
apps-changelog-field = Feld
apps-changelog-old = Alt
apps-changelog-new = Neu

## Löschen
apps-delete = App löschen
apps-delete-help = Das Löschen der App entfernt ihre Scopes und erteilten Zustimmungen und widerruft jedes Token, das sie ausgestellt hat.
