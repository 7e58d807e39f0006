/**
 * Authenticated control channels: a process that binds the controller's or the injector's address
 * first never receives a proxy token or the API token, and probes tell it from the real server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureClusterPki, issueServingCertificate } from '../local/pki/index.js';
import { proxyToken } from '../local/layout.js';
import { httpInjectorClient } from '../local/controllers/injector-client.js';
import { createInjectorServer } from '../injector/server.js';
import { whoAnswers, httpsOk } from '../local/runtime/readiness.js';
import { ControlPlaneChannel } from '../sidecar/config/control-plane-fetch.js';
import { createDeliveryEndpoint } from './delivery.js';
import type { Controller } from './controller.js';
import type { MeshIdentity } from './identity.js';
import type { ProxyRegistry } from './registry.js';

const KEY = 'ab'.repeat(32);
const UUID = '11111111-2222-3333-4444-555555555555';

async function pki(t: { after(fn: () => void): void }, name: string): Promise<{ ca: string; caFile: string; cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), `tessera-tls-${name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await ensureClusterPki(dir, name, ['127.0.0.1']);
  const files = await issueServingCertificate(dir, 'controller', ['127.0.0.1']);
  return { ca: readFileSync(files.caFile, 'utf8'), caFile: files.caFile, cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') };
}

/** An impostor: TLS with a certificate for the right address from another CA; records every Authorization it receives. */
async function impostor(t: { after(fn: () => void): void }, cert: { cert: string; key: string }): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    seen.push(req.headers.authorization ?? '(none)');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"pod":{"kind":"Pod"},"injected":false}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => (server.closeAllConnections(), server.close()));
  return { port: (server.address() as AddressInfo).port, seen };
}

async function listen(t: { after(fn: () => void): void }, server: NetServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return (server.address() as AddressInfo).port;
}

test('a sidecar refuses an impostor at the controller address: the proxy token is never sent', async (t) => {
  const mesh = await pki(t, 'mesh');
  const other = await pki(t, 'other');
  const imp = await impostor(t, other);
  const token = proxyToken(KEY, UUID);
  for (const url of [`https://127.0.0.1:${imp.port}`, `http://127.0.0.1:${imp.port}`]) {
    const channel = new ControlPlaneChannel({ controllerUrl: url, uuid: UUID, token, caPem: mesh.ca });
    assert.equal(channel.baseUrl.startsWith('https://'), true, 'with a CA, http:// is upgraded');
    await assert.rejects(channel.fetch(`/v1/proxies/${UUID}/config`));
  }
  assert.deepEqual(imp.seen, [], 'the impostor received no request at all');
  assert.throws(() => new ControlPlaneChannel({ controllerUrl: 'https://127.0.0.1:1', uuid: UUID, token, caPem: undefined as unknown as string }), /no CA/);
});

test('the delivery endpoint: TLS for proxy routes, plain HTTP only for health; expired tokens refused; tokens renewed', async (t) => {
  const mesh = await pki(t, 'mesh');
  const controller = { ready: true, proxyPod: () => undefined } as unknown as Controller;
  const endpoint = createDeliveryEndpoint({
    controller, registry: {} as ProxyRegistry, meshKey: KEY, identity: () => undefined as MeshIdentity | undefined,
    log: { info: () => undefined, warn: () => undefined },
  }, mesh);
  t.after(() => endpoint.closeAll());
  const port = await listen(t, endpoint.server);
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'the API server pod proxy still reads health over plain HTTP');
  const plain = await fetch(`http://127.0.0.1:${port}/v1/proxies/${UUID}/config`, { headers: { authorization: `Bearer ${proxyToken(KEY, UUID)}` } });
  assert.equal(plain.status, 403, 'a proxy route over plain HTTP is refused');

  const fresh = new ControlPlaneChannel({ controllerUrl: `https://127.0.0.1:${port}`, uuid: UUID, token: proxyToken(KEY, UUID), caPem: mesh.ca });
  assert.equal((await fresh.fetch(`/v1/proxies/${UUID}/config`)).status, 404, 'token accepted (no pod carries it in this stub)');
  const expired = new ControlPlaneChannel({ controllerUrl: `https://127.0.0.1:${port}`, uuid: UUID, token: proxyToken(KEY, UUID, { now: Date.now() - 2 * 3_600_000 }), caPem: mesh.ca });
  const refused = await expired.fetch(`/v1/proxies/${UUID}/config`);
  assert.equal(refused.status, 401);
  assert.match(await refused.text(), /expired/);
  assert.equal(expired.tokenExpired(), true);
  expired.renewToken(proxyToken(KEY, UUID));
  assert.equal(expired.tokenExpired(), false, 'a renewed token replaces the old one');
  expired.renewToken(proxyToken(KEY, UUID, { now: Date.now() - 2 * 3_600_000 }));
  assert.equal(expired.tokenExpired(), false, 'an older token never replaces a newer one');

  assert.deepEqual(await whoAnswers('127.0.0.1', port, mesh.ca), { kind: 'ours' });
  assert.equal(await httpsOk(`https://127.0.0.1:${port}/healthz`, mesh.caFile), true);
});

test('probes tell the real server from an impostor, a silent listener and nobody', async (t) => {
  const mesh = await pki(t, 'mesh');
  const other = await pki(t, 'other');
  const imp = await impostor(t, other);
  const verdict = await whoAnswers('127.0.0.1', imp.port, mesh.ca);
  assert.equal(verdict.kind, 'impostor');
  assert.equal(await httpsOk(`https://127.0.0.1:${imp.port}/healthz`, mesh.caFile), false, 'readiness fails against the impostor');
  const silent = createNetServer(() => undefined);
  const silentPort = await listen(t, silent);
  assert.equal((await whoAnswers('127.0.0.1', silentPort, mesh.ca, 300)).kind, 'not-tls');
  silent.close();
  // a port nobody listens on
  const free = createNetServer();
  const freePort = await listen(t, free);
  await new Promise((r) => free.close(r));
  assert.deepEqual(await whoAnswers('127.0.0.1', freePort, mesh.ca), { kind: 'nobody' });
  assert.deepEqual(imp.seen, [], 'probes send nothing to whoever answers');
});

test('the daemon never sends its API token to an impostor injector; the real one answers over TLS', async (t) => {
  const mesh = await pki(t, 'mesh');
  const other = await pki(t, 'other');
  const imp = await impostor(t, other);
  const request = { pod: { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] } }, namespace: { name: 'ns' }, meshName: 'm' } as never;
  const toImpostor = httpInjectorClient({ baseUrl: `https://127.0.0.1:${imp.port}`, token: 'api-token-secret', ca: mesh.ca });
  t.after(() => toImpostor.close());
  await assert.rejects(toImpostor.mutate(request), /certificate|self.signed|unable to verify|issuer/i);
  assert.deepEqual(imp.seen, [], 'the impostor never saw the token');
  assert.throws(() => httpInjectorClient({ baseUrl: 'https://127.0.0.1:1', token: 't' }), /needs the CA/);

  const real = createInjectorServer({ meshName: 'other-mesh', token: 'api-token-secret', tls: mesh });
  const port = await listen(t, real as unknown as NetServer);
  t.after(() => real.closeAllConnections());
  const client = httpInjectorClient({ baseUrl: `https://127.0.0.1:${port}`, token: 'api-token-secret', ca: mesh.ca });
  t.after(() => client.close());
  // It answered (over verified TLS, token accepted): this injector serves another mesh name.
  await assert.rejects(client.mutate(request), /serves mesh "other-mesh"/);
});
