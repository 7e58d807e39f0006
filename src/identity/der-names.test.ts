/**
 * der-names reads what @peculiar/x509 read before it (the sidecar's peer names): the two readers run
 * side by side on certificates made by @peculiar/x509 and by OpenSSL, and must agree field by field.
 */
import assert from 'node:assert/strict';
import { X509Certificate, webcrypto } from 'node:crypto';
import { test } from 'node:test';
import { createRootCa } from './certificate-authority.js';
import { CertificateShapeError, derNames, formatIp } from './der-names.js';
import { certificateNames } from './peer-certificate.js';
import { serviceIdentity } from './service-identity.js';
import { issueWorkload } from './test-support/fixtures.js';
import { x509 } from './x509-runtime.js';

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

async function selfSigned(name: string, sans: x509.JsonGeneralName[], ca = false): Promise<x509.X509Certificate> {
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a', name, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000), keys, signingAlgorithm: alg,
    extensions: [
      ...(sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
      new x509.BasicConstraintsExtension(ca, undefined, true),
    ],
  });
}

/** What @peculiar/x509 reads, in der-names' shape. */
function peculiarNames(c: x509.X509Certificate): ReturnType<typeof derNames> {
  const san = c.getExtension(x509.SubjectAlternativeNameExtension);
  const of = (type: string): string[] => san?.names.items.filter((i) => i.type === type).map((i) => i.value) ?? [];
  return {
    commonNames: c.subjectName.getField('CN'), dnsNames: of('dns'), uris: of('url'), ipAddresses: of('ip'),
    isCa: c.getExtension(x509.BasicConstraintsExtension)?.ca === true,
  };
}

test('der-names agrees with @peculiar/x509: CNs, DNS, URI, IPv4 and IPv6 names, the CA flag', async () => {
  const cases: [string, x509.JsonGeneralName[], boolean][] = [
    ['CN=bookstore.bookstore.cluster.local', [{ type: 'dns', value: 'bookstore.bookstore.cluster.local' }, { type: 'url', value: 'spiffe://cluster.local/ns/bookstore/sa/bookstore' }], false],
    ['CN=a, CN=b, O=Tessera', [{ type: 'ip', value: '10.0.0.1' }, { type: 'ip', value: '2001:db8::1' }, { type: 'dns', value: 'x.y' }], false],
    ['CN=root', [], true],
    ['O=no common name', [{ type: 'ip', value: '2001:db8:0:0:1:0:0:1' }, { type: 'ip', value: '::' }, { type: 'ip', value: '::1' }, { type: 'ip', value: 'fe80::' }, { type: 'ip', value: '2001:db8:0:1:1:1:1:1' }], false],
    // a DNS name holding what a printed SAN list would use as separators: read as one name of its type
    ['CN=tricky', [{ type: 'dns', value: 'a.example, URI:spiffe://evil' }, { type: 'email', value: 'x@y.z' }], false],
  ];
  for (const [name, sans, ca] of cases) {
    const c = await selfSigned(name, sans, ca);
    const der = new Uint8Array(c.rawData);
    assert.deepEqual(derNames(der), peculiarNames(c), name);
    // Node's certificate objects go through the same reader
    const viaNode = certificateNames(new X509Certificate(der));
    assert.deepEqual(viaNode.dnsNames, peculiarNames(c).dnsNames);
    assert.equal(viaNode.isCa, ca);
  }
});

test('der-names on the mesh\'s own certificates: a workload certificate and the root CA', async () => {
  const ca = await createRootCa({ meshName: 'fsm' });
  const workload = await issueWorkload(ca, serviceIdentity('bookstore', 'bookstore'));
  for (const pem of [workload.issued.certificatePem, ca.certificatePem]) {
    const node = new X509Certificate(pem);
    assert.deepEqual(derNames(new Uint8Array(node.raw)), peculiarNames(new x509.X509Certificate(node.raw)));
  }
  assert.equal(certificateNames(new X509Certificate(ca.certificatePem)).isCa, true);
});

test('bytes that are not a certificate: a typed error, never a partial answer', () => {
  assert.throws(() => derNames(new Uint8Array([0x30, 0x03, 0x02, 0x01])), CertificateShapeError);
  assert.throws(() => derNames(new Uint8Array([0x04, 0x01, 0x00])), CertificateShapeError);
  assert.throws(() => certificateNames({ raw: Buffer.alloc(0) } as never), /peer presented no certificate/);
  assert.throws(() => certificateNames({ raw: Buffer.from([0x30, 0x00]) } as never), (e: Error & { code?: string }) => e.code === 'MESH_ERR_CERT_INVALID');
  assert.throws(() => formatIp(new Uint8Array(5)), /5 bytes/);
});
