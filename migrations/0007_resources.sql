-- SPEC §3b. The resources an app's tokens may be for (RFC 8707), and what a code or a token
-- was issued for (NULL: the app itself, as before).
ALTER TABLE apps ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE auth_codes ADD COLUMN resources TEXT;
ALTER TABLE tokens ADD COLUMN resources TEXT;
