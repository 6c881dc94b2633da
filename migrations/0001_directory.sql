-- Users, roles and membership (SPEC §2). Booleans are BIGINT 0/1 and times unix seconds so that
-- the same SQL runs on SQLite and PostgreSQL through sqlx's Any driver.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    login_name TEXT NOT NULL,
    login_name_lower TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    is_oauth_confidential_client BIGINT NOT NULL DEFAULT 0,
    enabled BIGINT NOT NULL DEFAULT 1,
    secret_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE roles (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    admin_rights TEXT NOT NULL DEFAULT '',
    builtin TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE role_members (
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, user_id)
);
CREATE INDEX role_members_user ON role_members(user_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE auth_failures (
    key TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL DEFAULT 0
);
