-- SPEC §6b. The language a person chose for the pages and mail they get (`en`, `de`); NULL: the
-- language their browser asks for.
ALTER TABLE users ADD COLUMN language TEXT;
