/**
 * Outbound mTLS from the sidecar's upstream client against real TLS servers: the server must prove
 * one of the destination service's identities with a certificate from the mesh CA; a server with a
 * certificate for another identity, or from another CA, is refused before any request is sent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { AddressInfo } from 'node:net';
import {
  TrustBundle,
  createRootCa,
  createWorkloadKeyAndCsr,
  parseServiceIdentity,
  signWorkloadCsr,
  type CertificateAuthority,
} from '../identity/index.js';
import { EMPTY_BODY } from './http/body.js';
import { UpstreamClient } from './upstream/index.js';

async function workloadTls(ca: CertificateAuthority, identity: string): Promise<{ key: string; cert: string }> {
  const { csrPem, privateKeyPem } = await createWorkloadKeyAndCsr(parseServiceIdentity(identity));
  const issued = await signWorkloadCsr(ca, csrPem, { identity: parseServiceIdentity(identity), ttlMs: 3600_000 });
  return { key: privateKeyPem.reveal(), cert: issued.chainPem };
}

describe('outbound mTLS checks the server identity', () => {
  let ca: CertificateAuthority;
  let other: CertificateAuthority;
  const servers: Server[] = [];
  let client: UpstreamClient;

  const serve = async (tls: { key: string; cert: string }, roots: string[]): Promise<string> => {
    const s = createServer({ ...tls, ca: roots, requestCert: true, rejectUnauthorized: true }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('secret');
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `127.0.0.1:${(s.address() as AddressInfo).port}`;
  };

  before(async () => {
    ca = await createRootCa({ meshName: 'test', keyAlgorithm: 'ECDSA-P256' });
    other = await createRootCa({ meshName: 'other', keyAlgorithm: 'ECDSA-P256' });
    const mine = await workloadTls(ca, 'client.demo');
    const context = createSecureContext({ ...mine, ca: TrustBundle.fromPem(ca.certificatePem).pems(), minVersion: 'TLSv1.2' });
    client = new UpstreamClient({ timeoutMs: 5000, tls: () => context });
  });
  after(async () => {
    await client.close();
    for (const s of servers) s.close();
  });

  const get = (endpoint: string, identities: string[]) =>
    client.request(endpoint, { method: 'GET', path: '/', authority: 'echo.demo', headers: {}, httpVersion: '1.1' }, EMPTY_BODY, identities);

  it('accepts a server holding one of the expected identities', async () => {
    const ep = await serve(await workloadTls(ca, 'echo.demo'), [ca.certificatePem]);
    const r = await get(ep, ['echo.demo', 'echo-v2.demo']);
    assert.equal(r.status, 200);
    assert.equal(await r.body.text(), 'secret');
  });

  it('refuses a mesh server that proves a different identity', async () => {
    const ep = await serve(await workloadTls(ca, 'evil.demo'), [ca.certificatePem]);
    await assert.rejects(get(ep, ['echo.demo']), /evil|identity|certificate/i);
  });

  it('refuses a server whose certificate comes from another CA', async () => {
    const ep = await serve(await workloadTls(other, 'echo.demo'), [ca.certificatePem]);
    await assert.rejects(get(ep, ['echo.demo']), /certificate|self|verify|unable/i);
  });

  it('resumes the TLS session on a new pooled connection to the same server', async () => {
    const reused: boolean[] = [];
    const s = createServer({ ...(await workloadTls(ca, 'echo.demo')), ca: [ca.certificatePem], requestCert: true, rejectUnauthorized: true }, (_req, res) => {
      res.writeHead(200, { connection: 'close' }).end('ok');
    });
    s.on('request', (req) => reused.push((req.socket as import('node:tls').TLSSocket).isSessionReused()));
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const ep = `127.0.0.1:${(s.address() as AddressInfo).port}`;
    for (let i = 0; i < 3; i++) {
      const r = await get(ep, ['echo.demo']);
      await r.body.text();
      // the server closes each connection, so every request needs a new one
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(reused.length, 3);
    assert.equal(reused[0], false);
    assert.ok(reused.slice(1).some(Boolean), `later connections resume the session: ${JSON.stringify(reused)}`);
  });

  it('refuses to connect without a workload certificate of its own', async () => {
    const bare = new UpstreamClient({ timeoutMs: 5000, tls: () => undefined });
    await assert.rejects(
      bare.request('127.0.0.1:9', { method: 'GET', path: '/', authority: 'x', headers: {}, httpVersion: '1.1' }, EMPTY_BODY, ['echo.demo']),
      /no workload certificate/,
    );
    await bare.close();
  });
});
