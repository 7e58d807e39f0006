/** peerIdentity: SPIFFE URI SAN only, exactly one URI, our trust domain, never a CA, never the CN. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { isMeshError } from '../lib/errors.js';
import { issueAccessCertSecret } from './access-cert.js';
import { createRootCa } from './certificate-authority.js';
import { generateKeyPair, signingAlgorithmFor } from './keys.js';
import { peerIdentity } from './peer-identity.js';
import { fromBase64 } from './pem.js';
import { serviceIdentity, trustDomain } from './service-identity.js';
import { issueWorkload } from './test-support/fixtures.js';
import { x509 } from './x509-runtime.js';

const ca = await createRootCa({ meshName: 'fsm', keyAlgorithm: 'ECDSA-P256' });
const rejected = (e: unknown) => isMeshError(e) && (e.code === 'MESH_ERR_PEER_IDENTITY_REJECTED' || e.code === 'MESH_ERR_IDENTITY_INVALID');

async function leaf(sans: x509.JsonGeneralNames, cn = 'api-service.default.cluster.local'): Promise<X509Certificate> {
  const keys = await generateKeyPair('ECDSA-P256');
  const cert = await x509.X509CertificateGenerator.create({
    subject: [{ CN: [cn] }],
    issuer: ca.certificate.subjectName,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: signingAlgorithmFor(ca.signingKey),
    extensions: [new x509.SubjectAlternativeNameExtension(sans)],
  });
  return new X509Certificate(cert.toString('pem'));
}

test('identity from the SPIFFE URI SAN of a workload certificate (node X509Certificate and peculiar)', async () => {
  const w = await issueWorkload(ca, serviceIdentity('api-service', 'default'));
  assert.equal(peerIdentity(new X509Certificate(w.issued.certificatePem)), 'api-service.default');
  assert.equal(peerIdentity(new x509.X509Certificate(w.issued.certificatePem)), 'api-service.default');
});

test('no fall-back to the CN; more than one URI SAN, another trust domain or a CA certificate is refused', async () => {
  assert.throws(() => peerIdentity(ca.certificate), rejected);
  assert.throws(() => peerIdentity(ca.certificate), /CA certificate/);
  // A CN that looks like an identity, but no SPIFFE ID.
  const cnOnly = await leaf([{ type: 'dns', value: 'api-service.default.cluster.local' }]);
  assert.throws(() => peerIdentity(cnOnly), /no SPIFFE URI SAN/);
  // A DNS SAN spelled like a SPIFFE ID is still a DNS name (SANs compare by type).
  const dnsSpiffe = await leaf([{ type: 'dns', value: 'spiffe://cluster.local/ns/default/sa/api-service' }]);
  assert.throws(() => peerIdentity(dnsSpiffe), rejected);
  const two = await leaf([
    { type: 'url', value: 'spiffe://cluster.local/ns/default/sa/api-service' },
    { type: 'url', value: 'spiffe://cluster.local/ns/kube-system/sa/admin' },
  ]);
  assert.throws(() => peerIdentity(two), /exactly one/);
  const foreign = await leaf([{ type: 'url', value: 'spiffe://other.mesh/ns/default/sa/api-service' }]);
  assert.throws(() => peerIdentity(foreign), rejected);
  assert.equal(peerIdentity(foreign, trustDomain('other.mesh')), 'api-service.default');
});

test('an AccessCert client certificate carries no mesh identity', async () => {
  const { secret } = await issueAccessCertSecret(ca, { subjectAltNames: ['api-service.default.cluster.local'], secret: { name: 's', namespace: 'n' }, ttlMs: 60_000 });
  assert.throws(() => peerIdentity(new X509Certificate(fromBase64(secret.data!['tls.crt']!, 'tls.crt'))), rejected);
});
