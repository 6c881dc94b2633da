-- SPEC §3c. The device authorization grant (RFC 8628): a device asks, a person approves on
-- /device with the user code, the device polls the token endpoint. The device code is stored
-- as SHA-256 only; the user code (8 consonants) is what a person types, unique while pending.
CREATE TABLE device_codes (
    device_code_hash TEXT PRIMARY KEY NOT NULL,
    user_code TEXT NOT NULL UNIQUE,
    app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    resources TEXT,
    -- pending, approved or denied
    status TEXT NOT NULL,
    user_id TEXT,
    auth_time BIGINT,
    amr TEXT,
    poll_interval BIGINT NOT NULL,
    last_polled_at BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX device_codes_expiry ON device_codes(expires_at);
