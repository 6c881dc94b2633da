# Die Einstellungen (settings-) und die Seiten der Identitätsanbieter (providers-).

## Einstellungen
settings-title = Einstellungen
settings-branding = Erscheinungsbild der gehosteten Seiten
settings-branding-intro = Die Seiten für Anmeldung, Zustimmung, Geräte und Selbstbedienung zeigen diesen Namen, dieses Logo und diese Farbe.
settings-product-name = Produktname
settings-accent-color = Akzentfarbe
settings-accent-help = Für Schaltflächen und Links. Sie muss zu Weiß und zum Seitenhintergrund einen Kontrast von mindestens 4,5:1 haben (WCAG AA); eine hellere Farbe wird abgelehnt.
settings-default-color = Standardfarbe verwenden
settings-language = Sprache
settings-default-language = Standardsprache
settings-default-language-help = Gilt, wenn weder die Anwendung (ui_locales) noch der Browser (Accept-Language) eine Sprache verlangt, die Gatehouse spricht.
settings-language-unknown = Wählen Sie eine der angebotenen Sprachen.
settings-saved = Gespeichert. Die gehosteten Seiten zeigen es jetzt.
settings-logo = Logo
settings-logo-saved = Logo gespeichert.
settings-logo-too-large = Das Logo ist zu groß: höchstens 100 KB.
settings-logo-not-an-image = Wählen Sie ein PNG-, JPEG-, WebP- oder GIF-Bild.
settings-logo-current = Das aktuelle Logo
settings-logo-remove = Logo entfernen
settings-logo-removed = Logo entfernt.
settings-logo-new = Neues Logo (PNG, JPEG, WebP oder GIF, höchstens 100 KB)
settings-logo-upload = Logo hochladen

## Identitätsanbieter
providers-title = Identitätsanbieter
providers-title-one = Identitätsanbieter
providers-add = Anbieter hinzufügen
providers-intro = Personen können sich über diese OpenID-Anbieter anmelden: für jeden aktivierten eine Schaltfläche auf der Anmeldeseite.
providers-none = Noch keine.
providers-name = Name
providers-issuer = Aussteller (Issuer)
providers-button = Schaltfläche
providers-enabled = Aktiviert
providers-sign-in-with = Anmelden mit { $provider }
providers-yes = Ja
providers-no = Nein
providers-add-title = Identitätsanbieter hinzufügen
providers-all = Alle Anbieter
providers-saved = Anbieter gespeichert.
providers-added = Anbieter hinzugefügt.
providers-deleted = Anbieter gelöscht.
# Gefolgt von „: “ und der URI.
providers-register-redirect-uri = Hinterlegen Sie diese Weiterleitungs-URI beim Anbieter
providers-client-id = Client-ID
providers-client-secret = Client-Geheimnis
providers-client-secret-keep = Client-Geheimnis (leer lassen, um das gespeicherte zu behalten)
providers-scopes = Scopes (durch Leerzeichen getrennt)
providers-button-label = Beschriftung der Schaltfläche (Anmelden mit …)
providers-match-by = Eine erste Anmeldung gehört zu dieser lokalen Person
providers-match-email = Dieselbe bestätigte E-Mail-Adresse
providers-match-preferred-username = Derselbe Anmeldename (preferred_username)
providers-match-none = Nur Personen, die sich schon früher darüber angemeldet haben
providers-create-users = Einen Benutzer für eine Person anlegen, zu der kein lokaler Benutzer passt
providers-default-role = Rolle angelegter Benutzer (ein Rollenname; leer: keine)
providers-delete = Anbieter löschen
providers-delete-help = Damit verknüpfte Personen können sich nicht mehr darüber anmelden; ihre Konten hier bleiben bestehen.
