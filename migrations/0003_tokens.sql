-- Signing keys, issued tokens, authorization codes, revocations and consent (SPEC §3).
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    private_pem TEXT NOT NULL,
    n TEXT NOT NULL,
    e TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    publish_until BIGINT
);

-- Opaque access tokens and refresh tokens, by the SHA-256 of the token.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    app_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT,
    scope TEXT NOT NULL,
    jti TEXT NOT NULL,
    family_id TEXT,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used BIGINT NOT NULL DEFAULT 0,
    revoked BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tokens_family ON tokens(family_id);
CREATE INDEX tokens_user ON tokens(user_id);
CREATE INDEX tokens_app ON tokens(app_id);
CREATE INDEX tokens_expiry ON tokens(expires_at);

-- Revoked JWT ids (kept until the token would have expired).
CREATE TABLE revoked_jtis (
    jti TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Everything issued for a user, an app or a refresh family before `before` is revoked.
CREATE TABLE revocations (
    subject TEXT PRIMARY KEY NOT NULL,
    revoked_before BIGINT NOT NULL
);

CREATE TABLE auth_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT,
    nonce TEXT,
    family_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id)
);
