/**
 * AccessControl decisions in the sidecar: source ranges from the socket address, plaintext vs mTLS,
 * principals by CN or SAN; and routing: an admitted client outside the mesh takes the port's
 * AccessControlRoute (HTTP and TCP) under SMI, while mesh identities stay under SMI's routes.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import type { Resource } from '../api/types.js';
import { createRootCa, issueAccessCertSecret } from '../identity/index.js';
import { fromBase64 } from '../identity/pem.js';
import { buildCatalog, compileProxySnapshot } from '../snapshot/index.js';
import { input, meshConfig, meshedNamespace, namespace, pod, service } from '../snapshot/testdata/builders.js';
import type { InboundTrafficMatch, SourceIPRanges } from '../snapshot/types.js';
import { AccessPolicy } from './access-control.js';
import { RequestContext } from './chain/context.js';
import type { Peer, RouteMiss, TcpContext } from './chain/types.js';
import { EMPTY_BODY } from './http/body.js';
import type { ModuleEnv } from './modules/env.js';
import { inboundHttpRouting } from './modules/http-routing.js';
import { inboundTcpRouting } from './modules/tcp.js';
import { buildTables } from './routing/index.js';

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

describe('routing of admitted clients outside the mesh (permissive mode off)', () => {
  const POD_IP = '10.0.0.10';
  /** httpbin: http 14001 and tcp 5432; SMI lets curl.curl reach everything; AccessControl admits 192.168.7.0/24 in plaintext on both and 127.0.0.20 by certificate on 14001. */
  function env(mtls: boolean): ModuleEnv {
    const resources: Resource[] = [
      meshConfig({ traffic: { enablePermissiveTrafficPolicyMode: false }, sidecar: { sidecarDisabledMTLS: !mtls } }),
      meshedNamespace('httpbin'),
      namespace('legacy'),
      pod('httpbin', 'httpbin-1', { labels: { app: 'httpbin' }, ip: POD_IP }),
      service('httpbin', 'httpbin', [{ name: 'http', port: 14001 }, { name: 'tcp-db', port: 5432 }], { app: 'httpbin' }),
      {
        apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'TCPRoute', metadata: { name: 'all', namespace: 'httpbin' }, spec: {},
      },
      {
        apiVersion: 'access.smi-spec.io/v1alpha3', kind: 'TrafficTarget', metadata: { name: 'curl', namespace: 'httpbin' },
        spec: {
          destination: { kind: 'ServiceAccount', name: 'default', namespace: 'httpbin' },
          sources: [{ kind: 'ServiceAccount', name: 'curl', namespace: 'curl' }],
          rules: [{ kind: 'TCPRoute', name: 'all' }],
        },
      },
      {
        apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'AccessControl', metadata: { name: 'plain', namespace: 'httpbin' },
        spec: {
          backends: [{ name: 'httpbin', port: { number: 5432, protocol: 'tcp' } }],
          sources: [{ kind: 'IPRange', name: '192.168.7.0/24' }],
        },
      },
      {
        apiVersion: 'policy.flomesh.io/v1alpha1', kind: 'AccessControl', metadata: { name: 'web', namespace: 'httpbin' },
        spec: {
          backends: [{ name: 'httpbin', port: { number: 14001, protocol: 'http' }, tls: { skipClientCertValidation: true } }],
          sources: [{ kind: 'IPRange', name: '127.0.0.20/32' }],
        },
      },
    ];
    const snapshot = compileProxySnapshot(buildCatalog(input(resources)), { namespace: 'httpbin', name: 'httpbin-1' });
    assert.ok(snapshot);
    // the HTTP port also admits 192.168.7.0/24 in plaintext (as a separate AccessControl would)
    snapshot.Inbound.TrafficMatches['14001']!.SourceIPRanges!['192.168.7.0/24'] = null;
    return { snapshot, tables: buildTables(snapshot), mtls, namespaces: new Set(['httpbin']) } as unknown as ModuleEnv;
  }

  const peer = (address: string, identity?: string): Peer => ({ address, port: 40000, identity });

  async function http(e: ModuleEnv, source: Peer): Promise<{ cluster?: string; miss?: RouteMiss }> {
    const request = { method: 'GET', path: '/get', authority: `${POD_IP}:14001`, headers: {}, body: EMPTY_BODY } as unknown as ConstructorParameters<typeof RequestContext>[2];
    const ctx = new RequestContext('inbound', 'inbound-http', request, source, { address: POD_IP, port: 14001 }, false);
    await inboundHttpRouting(e)(ctx, async () => undefined);
    return { ...(ctx.cluster ? { cluster: ctx.cluster.name } : {}), ...(ctx.routeMiss ? { miss: ctx.routeMiss } : {}) };
  }

  async function tcp(e: ModuleEnv, source: Peer): Promise<{ cluster?: string; miss?: RouteMiss }> {
    const ctx = { direction: 'inbound', source, local: { address: POD_IP, port: 5432 }, target: { host: POD_IP, port: 5432 } } as Partial<TcpContext> as TcpContext;
    await inboundTcpRouting(e)(ctx, async () => undefined);
    return { ...(ctx.cluster ? { cluster: ctx.cluster.name } : {}), ...(ctx.routeMiss ? { miss: ctx.routeMiss } : {}) };
  }

  const WEB = { cluster: 'httpbin/httpbin|14001|local' };
  const DB = { cluster: 'httpbin/httpbin|5432|local' };

  it('mTLS on: an admitted plaintext client reaches both backends whatever its Host; SMI grants it nothing', async () => {
    const e = env(true);
    assert.deepEqual(await http(e, peer('192.168.7.9')), WEB);
    assert.deepEqual(await http(e, peer('::ffff:192.168.7.9')), WEB);
    assert.deepEqual(await tcp(e, peer('192.168.7.9')), DB);
  });

  it('mTLS on: an AccessCert client (admitted at the handshake from its mTLS range) reaches the backend', async () => {
    assert.deepEqual(await http(env(true), peer('127.0.0.20')), WEB);
  });

  it('mesh identities stay under SMI, even from an admitted address', async () => {
    const e = env(true);
    assert.deepEqual(await http(e, peer('192.168.7.9', 'other.curl')), { miss: 'denied' });
    assert.deepEqual(await tcp(e, peer('192.168.7.9', 'other.curl')), { miss: 'denied' });
    assert.deepEqual(await tcp(e, peer('10.0.1.1', 'curl.curl')), DB, 'the TrafficTarget still lets curl in');
  });

  it('a peer without identity outside every range (admitted under an older snapshot) meets SMI and is refused', async () => {
    const e = env(true);
    assert.deepEqual(await http(e, peer('192.168.8.1')), { miss: 'denied' });
    assert.deepEqual(await tcp(e, peer('192.168.8.1')), { miss: 'denied' });
  });

  it('mTLS off: only plaintext ranges count, since nothing checked a certificate', async () => {
    const e = env(false);
    assert.deepEqual(await http(e, peer('192.168.7.9')), WEB);
    assert.deepEqual(await tcp(e, peer('192.168.7.9')), DB);
    assert.deepEqual(await http(e, peer('127.0.0.20')), { miss: 'denied' });
  });
});
