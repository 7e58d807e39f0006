/**
 * Reference §4.8: traffic-mirror (FSM sample) on the caller's outbound-http chain at 115; the
 * mirror cluster `pipy/pipy-ok-v2|8080` is read from `pipy.solve('config.js')`.Outbound.ClustersConfigs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../sidecar/test-support/net.js';
import { Codebase, Context, Message, compileScript, type Link, type Run } from './index.js';
import { SEED_002, samplePluginScript, seedPluginConfig } from './test-support/scripts.js';
import { recordingApp, send, startWorld, type RecordingApp, type World } from './test-support/sidecar-harness.js';

describe('4.8 traffic-mirror', () => {
  let world: World;
  let v1: RecordingApp;
  let v2: RecordingApp;
  const sample = samplePluginScript('plugins-traffic-mirror.yaml');
  const plugin = () => ({ ...sample, chain: 'outbound-http' as const, apps: ['curl'] });
  const runtimeWith = async (config: unknown) => (await world.runtime('curl', world.resources([plugin()], [{ plugin: 'traffic-mirror', service: 'pipy/pipy-ok-v1', config }]))).rt;
  const post = { method: 'POST', path: '/some/path?q=1', authority: 'pipy-ok-v1.pipy:8080', body: 'mirror-body' };

  before(async () => {
    world = await startWorld();
    // the caller's sidecar forwards to the pods' addresses (their sidecars); recorders stand there
    v1 = await recordingApp(world.tracker, 'v1', world.pods.v1.podIP, 8080, () => ({ status: 200, body: 'Hi, I am PIPY-OK v1!' }));
    v2 = await recordingApp(world.tracker, 'v2', world.pods.v2.podIP, 8080, () => ({ status: 200, body: 'Hi, I am PIPY-OK v2!' }));
  });
  after(() => world?.close());

  test('4.8.1 + 4.8.4 the client gets v1; v2 gets a copy with the host first label replaced', async () => {
    const config = seedPluginConfig(SEED_002, 'traffic-mirror-config');
    assert.deepEqual(config, { namespace: 'pipy', service: 'pipy-ok-v2', port: 8080, percentage: { value: 1 } });
    const rt = await runtimeWith(config);
    assert.ok(rt.snapshot.Outbound.ClustersConfigs['pipy/pipy-ok-v2|8080'], 'the mirror cluster is in ClustersConfigs');
    const before = v2.requests.length;
    const r = await send(rt, 'outbound', post);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'Hi, I am PIPY-OK v1!');
    const main = v1.requests.at(-1)!;
    assert.equal(main.headers['host'], 'pipy-ok-v1.pipy:8080');
    await until(() => v2.requests.length > before, 'the mirrored request');
    const copy = v2.requests.at(-1)!;
    assert.equal(copy.method, 'POST');
    assert.equal(copy.path, '/some/path?q=1');
    assert.equal(copy.body, 'mirror-body');
    assert.equal(copy.headers['host'], 'pipy-ok-v2.pipy:8080');
    assert.equal(copy.headers['serviceidentity'], 'curl.curl');
    assert.equal(copy.headers['user-agent'], main.headers['user-agent']);
  });

  test('4.8.2 mirror endpoint down: the main response is unchanged and not delayed', async () => {
    // Service curl/curl port 80 has an endpoint where nothing listens
    const rt = await runtimeWith({ namespace: 'curl', service: 'curl', port: 80, percentage: { value: 1 } });
    const t0 = Date.now();
    const r = await send(rt, 'outbound', post);
    assert.equal(r.body, 'Hi, I am PIPY-OK v1!');
    assert.ok(Date.now() - t0 < 1000);
  });

  test('4.8.3 percentage 0, or a mirror cluster missing from ClustersConfigs: no mirror request', async () => {
    for (const config of [
      { namespace: 'pipy', service: 'pipy-ok-v2', port: 8080, percentage: { value: 0 } },
      { namespace: 'pipy', service: 'nope', port: 8080, percentage: { value: 1 } },
    ]) {
      const rt = await runtimeWith(config);
      const before = v2.requests.length;
      assert.equal((await send(rt, 'outbound', post)).body, 'Hi, I am PIPY-OK v1!');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(v2.requests.length, before);
    }
  });

  test('4.8.5 a host without a dot is replaced whole (the port is lost)', async () => {
    // the mirror pipeline on its own: a codebase whose chain([...]) modules record what reaches them
    const seen: Message[] = [];
    const recordLink: Link = { call: (msg) => (seen.push(msg), new Message({ status: 200 })) };
    const cb = new Codebase({
      log: () => undefined,
      transport: { request: () => Promise.resolve(new Message({ status: 200 })) },
      idleTimeoutMs: 1000,
      solve: () => ({ Outbound: { ClustersConfigs: { 'pipy/pipy-ok-v2|8080': { Endpoints: {} } } } }),
      chainModule: () => recordLink,
    });
    const routing = cb.defineNative('modules/outbound-http-routing.js', { 'outbound-http-routing': { __service: null, __cluster: null, __route: null } });
    const m = cb.load('plugins/traffic-mirror.js', compileScript('plugins/traffic-mirror.js', sample.script));
    cb.bind();
    const ctx = new Context();
    ctx.slots(routing)['__service'] = { Plugins: { 'traffic-mirror': { namespace: 'pipy', service: 'pipy-ok-v2', port: 8080, percentage: { value: 1 } } } };
    const end: Link = { call: () => new Message({ status: 200 }, 'main') };
    const msg = new Message({ method: 'GET', path: '/', headers: { host: 'svc:8080' }, headerNames: {} }, '');
    const out = await cb.runEntry(m, msg, ctx, end);
    assert.equal((out as Message).body!.toString(), 'main');
    await until(() => seen.length > 0, 'the mirror message');
    assert.equal(seen[0]!.head.headers.host, 'pipy-ok-v2');
    void ({} as Run);
  });
});
