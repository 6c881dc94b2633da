-- SPEC §6a. Second factors: an authenticator app (TOTP), recovery codes and passkeys, each a
-- person's own; and the app setting that requires one.
--
-- The TOTP secret is sealed like the signing keys (XChaCha20-Poly1305 under the system
-- secret, bound to the row). `enabled` turns on after one correct code. `last_step` is the
-- replay store: a code is taken only for a time step above it, by one conditional UPDATE, so
-- every instance agrees that each code works once.
CREATE TABLE user_totp (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 0,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
-- Recovery codes, stored as a hash keyed by the system secret (a stolen database alone
-- cannot try the 50-bit codes offline); each usable once.
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
-- Passkeys (WebAuthn): the credential as webauthn-rs keeps it (public key, counter, flags; no
-- secret), with what a person and an administrator are shown.
CREATE TABLE passkeys (
    credential_id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    sign_count BIGINT NOT NULL DEFAULT 0,
    backup_eligible INTEGER NOT NULL DEFAULT 0,
    backup_state INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_user ON passkeys(user_id);
-- A WebAuthn ceremony between its two steps, so any instance can finish what another began:
-- its id is stored as SHA-256, its state sealed; single use, two minutes.
CREATE TABLE webauthn_ceremonies (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
ALTER TABLE apps ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;
-- How a person's tokens were signed in for (`amr`, space-separated): ID tokens say it.
ALTER TABLE auth_codes ADD COLUMN amr TEXT;
ALTER TABLE tokens ADD COLUMN amr TEXT;
