-- SPEC §6b. Self-service by e-mail: a password-reset link or an address-verification link,
-- stored as SHA-256 only, single use (`used_at`), with its own lifetime. `users.email_verified`
-- is set when a person proves the address (a verification link, or a reset link sent to it).
CREATE TABLE email_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_links_user ON email_links (user_id, purpose, created_at);
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
