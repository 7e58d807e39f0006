/** Workload CSR → certificate: contents as openssl prints them, chain verification, CSR refusals, renewal timing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshError } from '../lib/errors.js';
import { BuiltinCertificateProvider } from './builtin-provider.js';
import { createRootCa } from './certificate-authority.js';
import { generateKeyPair, signingAlgorithmFor } from './keys.js';
import { renewAt } from './renewal.js';
import { serviceIdentity } from './service-identity.js';
import { signWorkloadCsr } from './sign-workload.js';
import { issueWorkload, openssl, opensslText, tempFile } from './test-support/fixtures.js';
import { createWorkloadKeyAndCsr } from './workload-csr.js';
import { x509 } from './x509-runtime.js';

const ca = await createRootCa({ meshName: 'fsm' });
const bookstore = serviceIdentity('bookstore-v2', 'bookstore');
const mismatch = (e: unknown) => isMeshError(e) && e.code === 'MESH_ERR_CSR_IDENTITY_MISMATCH';

test('workload certificate: CN, SPIFFE URI SAN, DNS SANs, EKU, 24h validity, as openssl prints it; openssl verify accepts', async () => {
  const now = new Date();
  const w = await issueWorkload(ca, bookstore, { ttlMs: 24 * 3_600_000, now, sans: ['bookstore-v2', 'bookstore-v2.bookstore.svc.cluster.local', 'bad:8080'] });
  const text = opensslText(w.issued.certificatePem);
  assert.match(text, /Subject: CN = bookstore-v2\.bookstore\.cluster\.local/);
  assert.match(text, /Issuer: O = Tessera Service Mesh, CN = fsm-ca\.cluster\.local/);
  assert.match(text, /URI:spiffe:\/\/cluster\.local\/ns\/bookstore\/sa\/bookstore-v2/);
  assert.match(text, /DNS:bookstore-v2, DNS:bookstore-v2\.bookstore\.svc\.cluster\.local/);
  assert.doesNotMatch(text, /bad:8080/);
  assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.match(text, /CA:FALSE/);
  assert.match(text, /ASN1 OID: prime256v1/);
  assert.match(text, /Authority Key Identifier/);
  // 24h from issue, plus the one-minute notBefore backdate for clock skew.
  assert.equal(w.issued.notAfter.getTime() - w.issued.notBefore.getTime(), 24 * 3_600_000 + 60_000);
  assert.ok(Math.abs(w.issued.notAfter.getTime() - (now.getTime() + 24 * 3_600_000)) < 1000);
  const serial = openssl(['x509', '-noout', '-serial'], w.issued.certificatePem).trim();
  assert.equal(serial.replace('serial=', '').toLowerCase().replace(/^0+/, ''), w.issued.serialNumber.toLowerCase().replace(/^0+/, ''));
  assert.ok(w.issued.serialNumber.replace(/^00/, '').length >= 28, 'about 128 random bits');

  const out = openssl(['verify', '-CAfile', tempFile(ca.certificatePem, 'ca.pem'), tempFile(w.issued.chainPem, 'leaf.pem')]);
  assert.match(out, /: OK/);
});

test('openssl verify refuses a workload certificate from another CA', async () => {
  const other = await createRootCa({ meshName: 'fsm' });
  const w = await issueWorkload(other, bookstore);
  assert.throws(() => openssl(['verify', '-CAfile', tempFile(ca.certificatePem), tempFile(w.issued.chainPem)]));
});

test('CSR for another identity is refused; so are foreign URI or DNS SANs and a bad signature', async () => {
  const { csrPem } = await createWorkloadKeyAndCsr(serviceIdentity('payments', 'shop'));
  await assert.rejects(signWorkloadCsr(ca, csrPem, { identity: bookstore, ttlMs: 60_000 }), mismatch);

  const keys = await generateKeyPair('ECDSA-P256');
  const sneaky = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: ['bookstore-v2.bookstore.cluster.local'] }],
    keys,
    signingAlgorithm: signingAlgorithmFor(keys.privateKey),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'spiffe://cluster.local/ns/kube-system/sa/admin' }])],
  });
  await assert.rejects(signWorkloadCsr(ca, sneaky.toString('pem'), { identity: bookstore, ttlMs: 60_000 }), mismatch);

  const dns = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: ['bookstore-v2.bookstore.cluster.local'] }],
    keys,
    signingAlgorithm: signingAlgorithmFor(keys.privateKey),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'www.bank.example' }])],
  });
  await assert.rejects(signWorkloadCsr(ca, dns.toString('pem'), { identity: bookstore, ttlMs: 60_000 }), mismatch);
  // The same DNS SAN is fine when the control plane grants it.
  await signWorkloadCsr(ca, dns.toString('pem'), { identity: bookstore, ttlMs: 60_000, sans: ['www.bank.example'] });

  // Flip a byte inside the signature: the proof of possession fails.
  const der = Buffer.from((await createWorkloadKeyAndCsr(bookstore)).csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 5]! ^= 0xff;
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(signWorkloadCsr(ca, tampered, { identity: bookstore, ttlMs: 60_000 }), (e) => isMeshError(e) && e.code === 'MESH_ERR_CERT_INVALID');
  await assert.rejects(signWorkloadCsr(ca, 'not a csr', { identity: bookstore, ttlMs: 60_000 }), (e) => isMeshError(e) && e.code === 'MESH_ERR_CERT_INVALID');
});

test('provider: issue, renew keeps the identity, trust bundle holds the active root', async () => {
  const provider = new BuiltinCertificateProvider(ca);
  const first = await createWorkloadKeyAndCsr(bookstore);
  const issued = await provider.issue({ csrPem: first.csrPem, identity: bookstore, ttlMs: 60_000 });
  const next = await createWorkloadKeyAndCsr(bookstore);
  const renewed = await provider.renew(issued, { csrPem: next.csrPem, identity: bookstore, ttlMs: 60_000 });
  assert.notEqual(renewed.serialNumber, issued.serialNumber);
  const other = serviceIdentity('payments', 'shop');
  const stolen = await createWorkloadKeyAndCsr(other);
  await assert.rejects(provider.renew(issued, { csrPem: stolen.csrPem, identity: other, ttlMs: 60_000 }), mismatch);
  assert.equal(provider.trustBundle().toPem(), ca.certificatePem);
});

test('renewAt: about two thirds of the lifetime, jittered, never before now', () => {
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const notAfter = new Date('2026-01-02T00:00:00Z');
  const life = notAfter.getTime() - notBefore.getTime();
  const at = (r: number) => (renewAt({ notBefore, notAfter }, notBefore, r) - notBefore.getTime()) / life;
  assert.ok(Math.abs(at(0.5) - 2 / 3) < 1e-6);
  assert.ok(at(0) >= 0.6 - 1e-6 && at(0) < 2 / 3);
  assert.ok(at(0.999999) <= 0.7334 && at(0.999999) > 2 / 3);
  for (let i = 0; i < 100; i++) {
    const f = at(Math.random());
    assert.ok(f >= 0.6 - 1e-6 && f <= 0.7334, String(f));
  }
  const late = new Date('2026-01-01T23:00:00Z');
  assert.equal(renewAt({ notBefore, notAfter }, late, 0.5), late.getTime());
});

test('timing: key + CSR in the sidecar, signing in the CA', async () => {
  const n = 50;
  let csrMs = 0;
  let signMs = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const { csrPem } = await createWorkloadKeyAndCsr(bookstore);
    const t1 = performance.now();
    await signWorkloadCsr(ca, csrPem, { identity: bookstore, ttlMs: 60_000, sans: ['bookstore-v2.bookstore.svc.cluster.local'] });
    const t2 = performance.now();
    csrMs += t1 - t0;
    signMs += t2 - t1;
  }
  console.log(`# per workload certificate: key+CSR ${(csrMs / n).toFixed(2)} ms (sidecar), verify+sign ${(signMs / n).toFixed(2)} ms (CA, RSA-2048 root)`);
  assert.ok(signMs / n < 500);
});
