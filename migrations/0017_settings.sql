-- SPEC §6b. Deployment-wide settings an administrator changes in the portal: the branding of
-- the hosted pages (product name and accent colour as JSON under `branding`; the logo, its
-- content type and content hash as JSON under `logo`, the image base64-encoded).
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
