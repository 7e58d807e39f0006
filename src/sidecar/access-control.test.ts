/** AccessControl decisions in the sidecar: source ranges from the socket address, plaintext vs mTLS, principals by CN or SAN. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { createRootCa, issueAccessCertSecret } from '../identity/index.js';
import { fromBase64 } from '../identity/pem.js';
import type { InboundTrafficMatch, SourceIPRanges } from '../snapshot/types.js';
import { AccessPolicy } from './access-control.js';

function policy(ranges: SourceIPRanges | undefined, port = 14001): AccessPolicy {
  const match: InboundTrafficMatch = { Port: port, Protocol: 'http', ...(ranges ? { SourceIPRanges: ranges } : {}) };
  return new AccessPolicy(() => ({ [String(port)]: match }));
}

/** What `TLSSocket.getPeerCertificate()` gives, as far as the policy reads it. */
async function accessCert(sans: string[]): Promise<PeerCertificate> {
  const ca = await createRootCa({ meshName: 'fsm' });
  const { secret } = await issueAccessCertSecret(ca, { subjectAltNames: sans, secret: { name: 's', namespace: 'n' }, ttlMs: 3_600_000 });
  return { raw: new X509Certificate(fromBase64(secret.data!['tls.crt']!, 'tls.crt')).raw } as PeerCertificate;
}

describe('plaintext', () => {
  const p = policy({ '127.0.0.9/32': null, '10.1.0.0/16': null, '127.0.0.20/32': { mTLS: true, SkipClientCertValidation: false, AuthenticatedPrincipals: ['x'] } });
  const cases: [string, string, number, boolean][] = [
    ['an address inside a plaintext range', '127.0.0.9', 14001, true],
    ['an IPv4-mapped socket address inside a range', '::ffff:10.1.200.3', 14001, true],
    ['the neighbouring address', '127.0.0.10', 14001, false],
    ['an address in an mTLS-only range', '127.0.0.20', 14001, false],
    ['another port', '127.0.0.9', 8080, false],
  ];
  for (const [name, address, port, want] of cases) it(`${name}: ${want ? 'admitted' : 'refused'}`, () => assert.equal(p.admitPlaintext(address, port), want));

  it('no SourceIPRanges, a missing snapshot and malformed entries admit nobody', () => {
    assert.equal(policy(undefined).admitPlaintext('127.0.0.9', 14001), false);
    assert.equal(new AccessPolicy(() => undefined).admitPlaintext('127.0.0.9', 14001), false);
    assert.equal(policy({ 'not-a-cidr': null }).admitPlaintext('127.0.0.9', 14001), false);
    const bad = { '127.0.0.9/32': { mTLS: true } } as unknown as SourceIPRanges;
    assert.equal(policy(bad).admitPlaintext('127.0.0.9', 14001), false);
  });
});

describe('AccessCert clients over mTLS', () => {
  let curl: PeerCertificate;
  before(async () => {
    curl = await accessCert(['curl.curl.cluster.local', 'curl.example.com']);
  });
  const spec = (principals: string[], skip = false) => ({ mTLS: true, SkipClientCertValidation: skip, AuthenticatedPrincipals: principals });

  it('admitted when the CN matches a principal, from an address in the range', () => {
    assert.equal(policy({ '127.0.0.0/24': spec(['curl.curl.cluster.local']) }).admitCertificate('127.0.0.9', 14001, curl), true);
  });
  it('admitted when another SAN matches', () => {
    assert.equal(policy({ '0.0.0.0/0': spec(['curl.example.com']) }).admitCertificate('127.0.0.9', 14001, curl), true);
  });
  it('refused for another principal', () => {
    assert.equal(policy({ '0.0.0.0/0': spec(['other.example.com']) }).admitCertificate('127.0.0.9', 14001, curl), false);
  });
  it('refused from an address outside the range, and from a plaintext range', () => {
    assert.equal(policy({ '10.0.0.0/8': spec(['curl.curl.cluster.local']) }).admitCertificate('127.0.0.9', 14001, curl), false);
    assert.equal(policy({ '127.0.0.0/8': null }).admitCertificate('127.0.0.9', 14001, curl), false);
  });
  it('`*` (skipClientCertValidation) admits any certificate the handshake verified', () => {
    assert.equal(policy({ '127.0.0.0/8': spec(['*'], true) }).admitCertificate('127.0.0.9', 14001, curl), true);
  });
  it('a CA certificate is never a client', async () => {
    const ca = await createRootCa({ meshName: 'fsm' });
    const raw = { raw: new X509Certificate(ca.certificatePem).raw } as PeerCertificate;
    assert.equal(policy({ '0.0.0.0/0': spec(['*'], true) }).admitCertificate('127.0.0.9', 14001, raw), false);
  });
});
