-- OAuth2 client apps (SPEC §2). List-valued settings are JSON text; role access is relational so
-- deleting a role removes it from every app.
CREATE TABLE apps (
    app_id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT 'Other',
    client_id_type TEXT NOT NULL DEFAULT 'confidential',
    allowed_clients TEXT NOT NULL DEFAULT '[]',
    issuer TEXT,
    redirect_uris TEXT NOT NULL DEFAULT '[]',
    token_type TEXT NOT NULL DEFAULT 'jwt_rs256',
    auth_methods TEXT NOT NULL DEFAULT '[]',
    token_lifetime_secs BIGINT NOT NULL DEFAULT 18000,
    issue_refresh_tokens BIGINT NOT NULL DEFAULT 0,
    refresh_token_lifetime_secs BIGINT NOT NULL DEFAULT 2592000,
    user_must_confirm BIGINT NOT NULL DEFAULT 0,
    scopes TEXT NOT NULL DEFAULT '[]',
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX apps_category ON apps(category);

CREATE TABLE app_roles (
    app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (app_id, role_id)
);
CREATE INDEX app_roles_role ON app_roles(role_id);

CREATE TABLE app_changelog (
    id TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL REFERENCES apps(app_id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX app_changelog_app ON app_changelog(app_id, seq);
