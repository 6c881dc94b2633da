-- SPEC §3c. Pushed authorization requests (RFC 9126): a client posts its authorize parameters
-- first and sends the browser with only a request_uri (stored as SHA-256; 60 s; used once,
-- when the authorization ends). App field `require_par` refuses plain authorize requests.
CREATE TABLE pushed_requests (
    request_uri_hash TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    params TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
ALTER TABLE apps ADD COLUMN require_par INTEGER NOT NULL DEFAULT 0;
