/**
 * Snapshot delivery end to end: new versions swap routing at once and are ACKed, invalid ones are
 * NACKed while the old one keeps serving, traffic survives the control plane going away, a restarted
 * sidecar serves from its on-disk snapshot, and everything converges when the control plane returns.
 * The steps build on each other, so they run in order in one suite.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProxySnapshot } from '../snapshot/types.js';
import type { EchoReply } from './test-support/apps.js';
import { startMesh, type Mesh } from './test-support/mesh.js';
import { send, until } from './test-support/net.js';
import { compileFor, startSidecar, worldResources, type RunningSidecar } from './test-support/world.js';

let mesh: Mesh;
/** the client sidecar now running (replaced by the restart step) */
let client: RunningSidecar;
let freshVersion = '';

const viaClient = (url: string) => send(client.outbound, 'GET', url, { timeoutMs: 3000 });
const status = async (s: RunningSidecar) => (await send(s.admin, 'GET', '/status')).json<{ version: string | null; connected: boolean }>();

describe('snapshot delivery', () => {
  before(async () => {
    mesh = await startMesh();
    client = mesh.client;
  });
  after(async () => {
    await mesh?.close();
  });

  it('acknowledged the first snapshots and reports itself connected', async () => {
    for (const p of [mesh.a.client, mesh.a.echoA, mesh.a.echoB]) {
      const acks = mesh.cp.acks.filter((x) => x.uuid === p.uuid);
      assert.equal(acks.length, 1, `${p.name}: ${JSON.stringify(acks)}`);
      assert.equal(acks[0]!.ok, true);
    }
    const s = await status(client);
    assert.equal(s.connected, true);
    assert.equal(s.version, client.sidecar.current?.version);
    assert.equal(mesh.cp.unauthorized, 0);
  });

  it('swaps routing as soon as a new version is acknowledged', async () => {
    const before = await viaClient('http://fresh.demo/x');
    assert.equal(before.status, 403, before.text);
    const versions = await mesh.publish(worldResources(mesh.a, { fresh: true }));
    freshVersion = versions.client;
    for (const a of mesh.cp.acks.filter((x) => Object.values(versions).includes(x.version))) assert.equal(a.ok, true, JSON.stringify(a));
    // the ACK means applied: the new service and its new inbound listener work right away
    const r = await viaClient('http://fresh.demo/x');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-app'], 'fresh-a');
    assert.equal(client.sidecar.current?.version, freshVersion);
  });

  it('NACKs an invalid snapshot with the error and keeps serving the old one', async () => {
    const good = client.sidecar.current!.snapshot;
    const bad = JSON.parse(JSON.stringify(good)) as ProxySnapshot;
    bad.Chains['outbound-http'] = [...bad.Chains['outbound-http'], 'modules/no-such-module.js'];
    mesh.cp.publish(mesh.a.client.uuid, 'bad-version-1', bad);
    const nack = await mesh.cp.waitAck(mesh.a.client.uuid, 'bad-version-1');
    assert.equal(nack.ok, false);
    assert.match(nack.error ?? '', /modules\/no-such-module\.js/);

    mesh.cp.publish(mesh.a.client.uuid, 'bad-version-2', { Spec: 'not a snapshot' });
    const nack2 = await mesh.cp.waitAck(mesh.a.client.uuid, 'bad-version-2');
    assert.equal(nack2.ok, false);
    assert.match(nack2.error ?? '', /snapshot/);

    assert.equal(client.sidecar.current?.version, freshVersion);
    const r = await viaClient('http://fresh.demo/still');
    assert.equal(r.status, 200, r.text);
    const dump = (await send(client.admin, 'GET', '/config_dump')).json<{ Version: string }>();
    assert.equal(dump.Version, freshVersion);
    // the good version goes back out so the control plane's newest is valid again
    const good2 = await compileFor(worldResources(mesh.a, { fresh: true }), mesh.a.client);
    assert.equal(good2.version, freshVersion);
    mesh.cp.publish(mesh.a.client.uuid, good2.version, good2.snapshot);
    const ack = await mesh.cp.waitAck(mesh.a.client.uuid, freshVersion);
    assert.equal(ack.ok, true);
  });

  it('keeps traffic flowing while the control plane is down', async () => {
    await mesh.cp.stop();
    await until(async () => !(await status(client)).connected, 'the client to notice the control plane is gone');
    for (const url of ['http://echo.demo/cp-down', 'http://fresh.demo/cp-down', 'http://other.demo/cp-down']) {
      const r = await viaClient(url);
      assert.equal(r.status, 200, `${url}: ${r.text}`);
    }
  });

  it('serves from the on-disk snapshot when restarted while the control plane is down', async () => {
    const dataDir = client.dataDir;
    await client.stop();
    client = await startSidecar(mesh.tracker, mesh.cp, mesh.a.client, dataDir);
    assert.equal(client.sidecar.current?.version, freshVersion, 'the last good snapshot, not a NACKed one');
    assert.ok(client.lines.some((l) => l.msg === 'serving the last good snapshot from disk'));
    const r = await viaClient('http://fresh.demo/from-disk');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-app'], 'fresh-a');
    assert.equal((await status(client)).connected, false);
  });

  it('reconnects when the control plane returns and converges to the newest version', async () => {
    // while it is away, the world changes: echo-b leaves Service echo, fresh goes away
    const next = worldResources(mesh.a, { echoBLabels: { app: 'retired', role: 'server', member: 'b' } });
    const versions: Record<string, string> = {};
    for (const p of [mesh.a.client, mesh.a.echoA, mesh.a.echoB]) {
      const v = await compileFor(next, p);
      mesh.cp.publish(p.uuid, v.version, v.snapshot);
      versions[p.uuid] = v.version;
    }
    await mesh.cp.start();
    for (const [uuid, version] of Object.entries(versions)) {
      const ack = await mesh.cp.waitAck(uuid, version, 20_000);
      assert.equal(ack.ok, true, JSON.stringify(ack));
    }
    assert.equal(client.sidecar.current?.version, versions[mesh.a.client.uuid]);
    assert.equal((await status(client)).connected, true);
    const apps = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await viaClient('http://echo.demo/converged');
      assert.equal(r.status, 200, r.text);
      apps.add(r.json<EchoReply>().app);
    }
    assert.deepEqual([...apps], ['echo-a']);
    assert.equal((await viaClient('http://fresh.demo/gone')).status, 403);
    assert.equal(mesh.cp.unauthorized, 0);
  });

  it('does not resend (or re-ACK) an unchanged version on reconnect', async () => {
    const uuid = mesh.a.client.uuid;
    const version = client.sidecar.current!.version;
    const connects = mesh.cp.connects.get(uuid) ?? 0;
    const acks = mesh.cp.acks.filter((a) => a.uuid === uuid && a.version === version).length;
    await mesh.cp.stop();
    await mesh.cp.start();
    await until(() => (mesh.cp.connects.get(uuid) ?? 0) > connects && mesh.cp.connected(uuid) > 0, 'the client to reconnect', 10_000);
    await until(async () => (await status(client)).connected, 'the client to report itself connected');
    assert.equal(mesh.cp.acks.filter((a) => a.uuid === uuid && a.version === version).length, acks);
  });
});
