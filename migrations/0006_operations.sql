-- The audit log (SPEC §7a): one record per admin change, sign-in, sign-out and consent, with who
-- (a person, or a client through its token), from which address, and the fields that changed
-- with old and new values (never secrets). Records outlive what they describe.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    client_id TEXT,
    address TEXT,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    object_name TEXT
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
CREATE INDEX audit_log_action ON audit_log (action, at);

CREATE TABLE audit_changes (
    audit_id TEXT NOT NULL REFERENCES audit_log(id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    PRIMARY KEY (audit_id, field)
);

-- The per-app changelog becomes a view of the audit log: its history moves over, one record per
-- saved version.
INSERT INTO audit_log (id, at, actor, actor_kind, client_id, address, action, object_type, object_id, object_name)
    SELECT 'changelog.' || app_id || '.' || CAST(seq AS TEXT), MIN(at), MIN(actor), 'user', NULL, NULL,
           CASE WHEN seq = 1 THEN 'app.create' ELSE 'app.update' END, 'app', app_id, app_id
    FROM app_changelog GROUP BY app_id, seq;
INSERT INTO audit_changes (audit_id, field, old_value, new_value)
    SELECT 'changelog.' || app_id || '.' || CAST(seq AS TEXT), field, old_value, new_value
    FROM app_changelog WHERE field <> 'app';
DROP TABLE app_changelog;

-- Activity counters for the dashboard: summed in memory and added here every few seconds by each
-- instance (its own rows, so instances never contend), one row per minute, app, kind (issued,
-- refused, sign_in) and detail (grant type, error code or sign-in outcome). Kept 90 days.
CREATE TABLE activity (
    bucket BIGINT NOT NULL,
    instance TEXT NOT NULL,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (bucket, instance, app_id, kind, detail)
);
CREATE INDEX activity_app ON activity (app_id, bucket);
