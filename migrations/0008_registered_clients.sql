-- SPEC §3b. Apps whose clients register themselves (RFC 7591) or are added by an
-- administrator: one record per client, with its own redirect URIs, grant types and
-- authentication method. Secrets and registration access tokens are stored as SHA-256 only
-- (both are 256 random bits, generated here: a slow hash protects only guessable secrets).
ALTER TABLE apps ADD COLUMN client_registration TEXT NOT NULL DEFAULT 'off';
CREATE TABLE app_clients (
    client_id TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,
    -- The client's RFC 7591 metadata as accepted (JSON), never a secret.
    metadata TEXT NOT NULL,
    secret_hash TEXT,
    registration_token_hash TEXT,
    -- A user id, or 'registration' for a client that registered itself.
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX app_clients_app ON app_clients(app_id);
-- Initial access tokens (RFC 7591 §3) for apps whose registration needs one.
CREATE TABLE initial_access_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
