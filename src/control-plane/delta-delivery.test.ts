/**
 * Delta delivery over real sockets: the real Controller and TLS delivery endpoint, a real sidecar
 * StreamClient. After its first whole snapshot the client gets deltas, applies them onto what it
 * holds and ACKs the version the controller computed; a delta it cannot verify makes it fetch the
 * whole snapshot; a client that does not ask for deltas keeps getting whole snapshots.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Resource, Service } from '../api/types.js';
import { SIDECAR_ENV, proxyToken } from '../local/layout.js';
import { ensureClusterPki, issueServingCertificate } from '../local/pki/index.js';
import { resetControlPlaneChannels } from '../sidecar/config/control-plane-fetch.js';
import { StreamClient } from '../sidecar/config/index.js';
import { SidecarLog } from '../sidecar/observability/log.js';
import { snapshotJson, snapshotVersion, type ProxySnapshot } from '../snapshot/index.js';
import { meshConfig, meshedNamespace, pod, service } from '../snapshot/testdata/builders.js';
import { Controller } from './controller.js';
import { createDeliveryEndpoint } from './delivery.js';
import { ProxyRegistry } from './registry.js';

const KEY = 'cd'.repeat(32);
const UUID = '11111111-2222-3333-4444-555555555555';

function world(): { resources: Resource[]; svc: Service } {
  const resources: Resource[] = [meshConfig({ traffic: { enablePermissiveTrafficPolicyMode: true } }), meshedNamespace('a')];
  let svc: Service | undefined;
  for (const i of [0, 1, 2]) {
    const name = `svc-${i}`;
    const s = service('a', name, [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], { app: name });
    const p = pod('a', `${name}-0`, { labels: { app: name }, ip: `127.8.0.${i + 1}`, serviceAccount: name, ports: [{ name: 'http', containerPort: 8080 }] });
    if (i === 0) p.metadata.labels!['fsm-proxy-uuid'] = UUID;
    if (i === 1) svc = s;
    resources.push(s, p);
  }
  return { resources, svc: svc! };
}

interface Harness {
  controller: Controller;
  registry: ProxyRegistry;
  url: string;
  /** the events pushed to the proxy's stream, by kind */
  pushed: () => string[];
}

async function harness(t: { after(fn: () => void | Promise<void>): void }, resources: Resource[]): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-delta-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await ensureClusterPki(dir, 'fsm', ['127.0.0.1']);
  const files = await issueServingCertificate(dir, 'controller', ['127.0.0.1']);
  const previousCa = process.env[SIDECAR_ENV.controllerCa];
  process.env[SIDECAR_ENV.controllerCa] = files.caFile;
  resetControlPlaneChannels();
  t.after(() => {
    if (previousCa === undefined) delete process.env[SIDECAR_ENV.controllerCa];
    else process.env[SIDECAR_ENV.controllerCa] = previousCa;
    resetControlPlaneChannels();
  });
  const registry = new ProxyRegistry();
  const log = { info: () => undefined, warn: () => undefined };
  const controller = new Controller('fsm', registry, log);
  controller.sync(resources);
  await controller.recompute();
  const endpoint = createDeliveryEndpoint({ controller, registry, identity: () => undefined, meshKey: KEY, log }, { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') });
  await new Promise<void>((r) => endpoint.server.listen(0, '127.0.0.1', r));
  t.after(() => endpoint.closeAll());
  const kinds: string[] = [];
  // the kinds of events pushed to the proxy (the registry's push is wrapped once the stream is open)
  const wrap = (): void => {
    const record = registry.get(UUID);
    if (!record?.push || (record.push as { wrapped?: boolean }).wrapped) return;
    const push = record.push;
    const wrapped = Object.assign((event: string) => {
      kinds.push(/^event: (\w+)/m.exec(event)?.[1] ?? '?');
      push(event);
    }, { wrapped: true });
    record.push = wrapped;
  };
  return { controller, registry, url: `https://127.0.0.1:${(endpoint.server.address() as AddressInfo).port}`, pushed: () => (wrap(), kinds) };
}

function client(t: { after(fn: () => void): void }, url: string): { client: StreamClient; applied: { version: string; snapshot: ProxySnapshot }[] } {
  const applied: { version: string; snapshot: ProxySnapshot }[] = [];
  const c = new StreamClient({
    controllerUrl: url,
    uuid: UUID,
    token: proxyToken(KEY, UUID),
    log: new SidecarLog('error', 2),
    currentVersion: () => applied.at(-1)?.version,
    apply: async (version, snapshot) => {
      applied.push({ version, snapshot });
      return undefined;
    },
  });
  t.after(() => c.stop());
  c.start();
  return { client: c, applied };
}

async function waitFor(done: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 15_000;
  while (!done()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const acked = (h: Harness): boolean => {
  const r = h.registry.get(UUID);
  return r?.appliedVersion !== undefined && r.appliedVersion === h.controller.snapshotFor(UUID)?.version;
};

async function changeAndRecompute(h: Harness, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Resource): Promise<void> {
  h.pushed();
  h.controller.change(type, object);
  await h.controller.recompute();
}

test('a sidecar gets deltas after its first snapshot, applies them, and runs exactly what the controller computed', async (t) => {
  const w = world();
  const h = await harness(t, w.resources);
  const { client: c, applied } = client(t, h.url);
  await waitFor(() => acked(h), 'the first snapshot to be ACKed');
  assert.equal(h.registry.get(UUID)?.deltas, true, 'the stream asked for deltas');

  await changeAndRecompute(h, 'MODIFIED', { ...w.svc, spec: { ...w.svc.spec, ports: [...w.svc.spec!.ports!, { name: 'admin', port: 9090, targetPort: 9090, protocol: 'TCP' }] } } as Service);
  await waitFor(() => acked(h), 'the delta to be ACKed');
  await changeAndRecompute(h, 'ADDED', pod('a', 'svc-1-1', { labels: { app: 'svc-1' }, ip: '127.8.0.9', unmeshed: true }));
  await waitFor(() => acked(h), 'the second delta to be ACKed');

  assert.deepEqual(h.pushed(), ['delta', 'delta']);
  assert.deepEqual(c.deltaCounts, { applied: 2, refetched: 0 });
  const last = applied.at(-1)!;
  const want = h.controller.snapshotFor(UUID)!;
  assert.equal(last.version, want.version);
  assert.equal(snapshotVersion(last.snapshot), want.version, 'the patched snapshot hashes to its version');
  assert.equal(snapshotJson(last.snapshot), snapshotJson(want.snapshot), 'byte for byte the whole snapshot');
});

test('a delta that does not apply to what the sidecar holds makes it fetch the whole snapshot', async (t) => {
  const w = world();
  const h = await harness(t, w.resources);
  const { client: c, applied } = client(t, h.url);
  await waitFor(() => acked(h), 'the first snapshot to be ACKed');
  // the next delta names a base the sidecar does not hold
  const record = h.registry.get(UUID)!;
  const push = record.push!;
  record.push = (event) => push(event.replace(/"base":"[0-9a-f]+"/, `"base":"${'0'.repeat(64)}"`));
  await changeAndRecompute(h, 'DELETED', w.svc);
  await waitFor(() => acked(h), 'the whole snapshot fetched instead to be ACKed');
  assert.deepEqual(c.deltaCounts, { applied: 0, refetched: 1 });
  assert.equal(snapshotJson(applied.at(-1)!.snapshot), snapshotJson(h.controller.snapshotFor(UUID)!.snapshot));
});

test('a stream that does not ask for deltas gets whole snapshots (a sidecar from before deltas)', async (t) => {
  const w = world();
  const h = await harness(t, w.resources);
  const events: string[] = [];
  const req = request(`${h.url}/v1/proxies/${UUID}/stream`, { ca: readFileSync(process.env[SIDECAR_ENV.controllerCa]!, 'utf8'), headers: { authorization: `Bearer ${proxyToken(KEY, UUID)}`, accept: 'text/event-stream' } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      for (const m of chunk.matchAll(/^event: (\w+)$/gm)) events.push(m[1]!);
    });
  });
  req.end();
  t.after(() => req.destroy());
  await waitFor(() => events.includes('snapshot'), 'the first snapshot');
  assert.equal(h.registry.get(UUID)?.deltas, false);
  await changeAndRecompute(h, 'DELETED', w.svc);
  await waitFor(() => events.filter((e) => e === 'snapshot').length === 2, 'the second whole snapshot');
  assert.ok(!events.includes('delta'));
});
