-- Each instance proves now and then that it can write (readiness, recovery from a read-only or
-- full database): one row per instance, overwritten.
CREATE TABLE write_probes (
    instance TEXT PRIMARY KEY NOT NULL,
    at BIGINT NOT NULL
);
