-- SPEC §3b. An app of Client ID Type `registered` may also take clients that name themselves
-- by an https URL: the client ID metadata document found there says who they are. Nothing of
-- such a client is stored; its document is fetched (and cached) when it is used.
ALTER TABLE apps ADD COLUMN client_id_metadata_documents INTEGER NOT NULL DEFAULT 0;
