-- SPEC §3c. Token exchange (RFC 8693): a token issued by exchange names the client that acted
-- (`act`, RFC 8693 §4.1); opaque tokens keep it here, JWTs in their claims.
ALTER TABLE tokens ADD COLUMN act TEXT;
