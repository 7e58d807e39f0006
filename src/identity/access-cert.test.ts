/** AccessCert: a kubernetes.io/tls Secret with a client certificate whose CN is the first SAN. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issueAccessCertSecret } from './access-cert.js';
import { createRootCa } from './certificate-authority.js';
import { certificateNames } from './peer-certificate.js';
import { fromBase64 } from './pem.js';
import { PrivateKeyPem } from './redacted.js';
import { serviceIdentity } from './service-identity.js';
import { handshake, issueWorkload, openssl, opensslText, tempFile } from './test-support/fixtures.js';
import { meshPermissiveServerTlsOptions, meshSecureContextOptions } from './tls-options.js';
import { TrustBundle } from './trust-bundle.js';
import { X509Certificate } from 'node:crypto';

test('AccessCert Secret: ca.crt, tls.crt, tls.key; CN = first SAN; client auth only; verifies against the root', async () => {
  const ca = await createRootCa({ meshName: 'fsm' });
  const { secret } = await issueAccessCertSecret(ca, {
    subjectAltNames: ['curl.curl.cluster.local', 'curl.example.com'],
    secret: { name: 'curl-mtls-secret', namespace: 'curl' },
    ttlMs: 24 * 3_600_000,
  });
  assert.equal(secret.type, 'kubernetes.io/tls');
  assert.deepEqual(secret.metadata, { name: 'curl-mtls-secret', namespace: 'curl' });
  const crt = fromBase64(secret.data!['tls.crt']!, 'tls.crt');
  const text = opensslText(crt);
  assert.match(text, /Subject: CN = curl\.curl\.cluster\.local/);
  assert.match(text, /DNS:curl\.curl\.cluster\.local, DNS:curl\.example\.com/);
  assert.match(text, /TLS Web Client Authentication/);
  assert.doesNotMatch(text, /TLS Web Server Authentication/);
  assert.equal(fromBase64(secret.data!['ca.crt']!, 'ca.crt'), ca.certificatePem);
  assert.match(openssl(['verify', '-CAfile', tempFile(ca.certificatePem), tempFile(crt)]), /: OK/);
  assert.equal(new X509Certificate(crt).checkPrivateKey((await import('node:crypto')).createPrivateKey(fromBase64(secret.data!['tls.key']!, 'tls.key'))), true);

  // The holder authenticates into a mesh listener that admits AccessControl clients: verified, but no mesh identity.
  const server = await issueWorkload(ca, serviceIdentity('api-service', 'default'));
  const bundle = TrustBundle.fromPem(ca.certificatePem);
  const r = await handshake(meshPermissiveServerTlsOptions({ privateKeyPem: server.privateKeyPem, chainPem: server.issued.chainPem, trustBundle: bundle }), {
    ...meshSecureContextOptions({ privateKeyPem: new PrivateKeyPem(fromBase64(secret.data!['tls.key']!, 'tls.key')), chainPem: crt, trustBundle: bundle }),
    checkServerIdentity: () => undefined,
  });
  assert.equal(r.ok, true);
  assert.equal(r.serverSawAuthorized, true);
  assert.equal(r.serverSawIdentity, undefined);
  assert.deepEqual(certificateNames(new X509Certificate(crt)).dnsNames, ['curl.curl.cluster.local', 'curl.example.com']);
});
