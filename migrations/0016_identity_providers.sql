-- SPEC §6b. Upstream OpenID providers (Keycloak's identity brokering): a person signs in there
-- and Gatehouse signs them in here. The client secret is sealed with the system secret. A link
-- ties a local user to their account at a provider (its issuer and `sub`). A started sign-in
-- keeps its state (stored hashed), nonce and PKCE verifier for 10 minutes, used once, so any
-- instance can finish what another began.
CREATE TABLE identity_providers (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret TEXT NOT NULL DEFAULT '',
    scopes TEXT NOT NULL DEFAULT 'openid email profile',
    button_label TEXT NOT NULL,
    match_by TEXT NOT NULL DEFAULT 'email',
    create_users INTEGER NOT NULL DEFAULT 0,
    default_role TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE user_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    provider_id TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_links_user ON user_links (user_id);
CREATE TABLE federation_states (
    state_hash TEXT PRIMARY KEY NOT NULL,
    provider_id TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    return_to TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
