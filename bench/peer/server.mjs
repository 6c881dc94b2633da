// The peer of `make bench`: node-oidc-provider (the OpenID-certified reference implementation)
// configured like a Gatehouse app — client credentials with client_secret_basic, opaque and JWT
// (RS256, RSA-2048) access tokens, introspection, DPoP-bound tokens and device-code polling. It keeps tokens in memory (its default
// adapter); Gatehouse persists every token in its database.
//   node server.mjs PORT
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 3999);
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'bench' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench-client',
    client_secret: 'bench-client-secret-123',
    grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [key] },
  scopes: ['api'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // DPoP (RFC 9449) and the device flow (RFC 8628), for the cases Gatehouse has too.
    dPoP: { enabled: true },
    deviceFlow: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // `resource=urn:bench:jwt` asks for a JWT, `urn:bench:opaque` for an opaque token.
      getResourceServerInfo: (ctx, resource) => ({
        scope: 'api',
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: resource === 'urn:bench:jwt' ? 'jwt' : 'opaque',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`peer listening on ${port}`));
