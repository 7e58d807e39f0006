/**
 * HTTP/2 between sidecars over the mesh's mTLS, on real sockets: the upstream client asks for ALPN
 * `h2`, the inbound listener (InboundTls + the engine) serves it as HTTP/2 on the same chain as
 * HTTP/1.1, the caller's identity comes from its verified certificate as for HTTP/1.1, trailers
 * cross the hop, a server proving the wrong identity is refused before any request, and cleartext
 * h2c is refused while mTLS is strict.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as h2Connect } from 'node:http2';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { TrustBundle, createRootCa, createWorkloadKeyAndCsr, parseServiceIdentity, signWorkloadCsr, type CertificateAuthority } from '../identity/index.js';
import type { HttpContext } from './chain/types.js';
import { createHttpEngine } from './engine/index.js';
import { InboundTls } from './engine/mtls.js';
import { EMPTY_BODY } from './http/body.js';
import { PushBody } from './http/push-body.js';
import type { RequestHead } from './http/types.js';
import { SidecarLog } from './observability/log.js';
import { UpstreamClient } from './upstream/index.js';

async function workloadTls(ca: CertificateAuthority, identity: string): Promise<{ key: string; cert: string }> {
  const { csrPem, privateKeyPem } = await createWorkloadKeyAndCsr(parseServiceIdentity(identity));
  const issued = await signWorkloadCsr(ca, csrPem, { identity: parseServiceIdentity(identity), ttlMs: 3600_000 });
  return { key: privateKeyPem.reveal(), cert: issued.chainPem };
}

const noFlow = { pause: () => undefined, resume: () => undefined };

describe('HTTP/2 between sidecars over mTLS (ALPN h2)', () => {
  const log = new SidecarLog('error');
  let server: Server;
  const sockets = new Set<Socket>();
  let endpoint: string;
  let client: UpstreamClient;

  /** The inbound chain: says who called and how; `/trailers` answers a streamed body ending in trailers. */
  const chain = async (ctx: HttpContext): Promise<void> => {
    if (ctx.request.path === '/trailers') {
      const body = new PushBody(undefined, noFlow);
      ctx.response = { status: 200, headers: { 'content-type': 'application/grpc' }, body };
      setImmediate(() => {
        body.push(Buffer.from('payload'));
        body.setTrailers({ 'grpc-status': '0', 'grpc-message': 'fine' });
        body.end();
      });
      return;
    }
    ctx.respond(200, { identity: ctx.source.identity ?? null, version: ctx.request.httpVersion, sni: ctx.source.sni ?? null });
  };

  const head = (path: string, httpVersion: string): RequestHead => ({ method: 'GET', path, authority: 'echo.demo', headers: {}, httpVersion });

  before(async () => {
    const ca = await createRootCa({ meshName: 'test', keyAlgorithm: 'ECDSA-P256' });
    const roots = TrustBundle.fromPem(ca.certificatePem).pems();
    const terminator = new InboundTls({ ...(await workloadTls(ca, 'echo.demo')), ca: roots, minVersion: 'TLSv1.2' }, log);
    server = createHttpEngine({
      direction: 'inbound',
      mountPoint: 'inbound-http',
      chain: () => chain,
      proxy: false,
      upstream: {} as UpstreamClient,
      log,
      timeoutMs: 5000,
      security: { enabled: () => true, terminator: () => terminator, admitPlaintext: () => false },
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const mine = createSecureContext({ ...(await workloadTls(ca, 'client.demo')), ca: roots, minVersion: 'TLSv1.2' });
    client = new UpstreamClient({ timeoutMs: 5000, tls: () => mine });
  });
  after(async () => {
    await client.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('h2 over mTLS: served as HTTP/2, the identity from the peer certificate', async () => {
    const r = await client.request(endpoint, head('/who', '2.0'), EMPTY_BODY, ['echo.demo'], { http2: true });
    assert.equal(r.status, 200);
    const seen = JSON.parse((await r.body.text()) || 'null') as { identity: string; version: string };
    assert.deepEqual({ identity: seen.identity, version: seen.version }, { identity: 'client.demo', version: '2.0' });
  });

  it('HTTP/1.1 over mTLS on the same listener still works (no ALPN h2 asked)', async () => {
    const r = await client.request(endpoint, head('/who', '1.1'), EMPTY_BODY, ['echo.demo']);
    assert.equal(r.status, 200);
    const seen = JSON.parse(await r.body.text()) as { identity: string; version: string };
    assert.deepEqual({ identity: seen.identity, version: seen.version }, { identity: 'client.demo', version: '1.1' });
  });

  it('trailers cross the mTLS hop', async () => {
    const r = await client.request(endpoint, head('/trailers', '2.0'), EMPTY_BODY, ['echo.demo'], { http2: true });
    assert.equal(r.status, 200);
    assert.ok(r.body instanceof PushBody);
    assert.equal((await r.body.bytes()).toString(), 'payload');
    assert.deepEqual(await r.body.finished(), { 'grpc-status': '0', 'grpc-message': 'fine' });
  });

  it('a server proving another identity is refused before any request', async () => {
    await assert.rejects(client.request(endpoint, head('/who', '2.0'), EMPTY_BODY, ['other.demo'], { http2: true }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'MESH_ERR_UPSTREAM', err.message);
      return true;
    });
  });

  it('cleartext h2c is refused while mTLS is strict', async () => {
    const session = h2Connect(`http://${endpoint}`);
    const outcome = await new Promise<string>((resolve) => {
      session.on('error', () => resolve('error'));
      session.on('close', () => resolve('closed'));
      const req = session.request({ ':path': '/who' });
      req.on('error', () => undefined);
      req.on('response', () => resolve('answered'));
      req.end();
    });
    session.destroy();
    assert.notEqual(outcome, 'answered');
  });
});
