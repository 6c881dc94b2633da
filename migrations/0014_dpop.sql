-- SPEC §3c. DPoP (RFC 9449): a token bound to a client's key carries the key's thumbprint
-- (`cnf.jkt`); an opaque token keeps it here, and so does a public client's refresh token (the
-- next refresh must prove the same key). App field `require_dpop` refuses unbound token
-- requests. Proofs' `jti`s are remembered in `client_assertions` (one store of used JWT ids).
ALTER TABLE tokens ADD COLUMN jkt TEXT;
ALTER TABLE apps ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0;
