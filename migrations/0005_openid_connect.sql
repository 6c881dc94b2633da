-- Signing keys of every algorithm Gatehouse signs with (RS256, ES256, EdDSA): the algorithm, the
-- sealed private key (PKCS#1 PEM for RSA, base64 PKCS#8 DER otherwise) and the public half as a
-- JWK without kid/alg/use. Existing RSA keys keep their kid, so tokens they signed still verify.
CREATE TABLE signing_keys_v2 (
    kid TEXT PRIMARY KEY NOT NULL,
    alg TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    publish_until BIGINT
);
INSERT INTO signing_keys_v2 (kid, alg, private_key, public_jwk, created_at, retired_at, publish_until)
    SELECT kid, 'RS256', private_pem, '{"kty":"RSA","n":"' || n || '","e":"' || e || '"}',
           created_at, retired_at, publish_until
    FROM signing_keys;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_v2 RENAME TO signing_keys;
CREATE INDEX signing_keys_alg ON signing_keys (alg, retired_at);

-- OpenID Connect (SPEC §3a): when the person signed in, carried from the code (and the refresh
-- token) into every ID token; where an app may send people after logout; a confidential
-- client's public keys for private_key_jwt, and the assertion ids already used (replay store
-- shared by every instance).
ALTER TABLE auth_codes ADD COLUMN auth_time BIGINT;
ALTER TABLE tokens ADD COLUMN auth_time BIGINT;
ALTER TABLE apps ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN jwks TEXT;
CREATE TABLE client_assertions (
    jti_hash TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);
