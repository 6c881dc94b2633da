// DPoP proofs for `make bench`, made ahead of the run by a separate process (the load generator
// cannot sign): one ES256 key pair, COUNT proofs for `POST HTU`, each with its own jti and an
// iat spread over the next SPREAD seconds (the server takes iat within 60 s either way), one
// per line in OUT. Prints the key's RFC 7638 thumbprint.
//   node dpop_proofs.mjs HTU COUNT SPREAD OUT
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const [htu, count, spread, out] = process.argv.slice(2);
const n = Number(count);
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const { crv, kty, x, y } = publicKey.export({ format: 'jwk' });
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const header = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { crv, kty, x, y } });
const start = Math.floor(Date.now() / 1000);
const lines = new Array(n);
for (let i = 0; i < n; i++) {
  const iat = start + Math.floor((i * Number(spread)) / n);
  const input = `${header}.${b64({ htm: 'POST', htu, iat, jti: randomBytes(12).toString('base64url') })}`;
  const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  lines[i] = `${input}.${sig.toString('base64url')}`;
}
writeFileSync(out, lines.join('\n') + '\n');
const thumbprint = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
console.log(thumbprint);
