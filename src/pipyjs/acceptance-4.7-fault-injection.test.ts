/**
 * Reference §4.7: http-fault-injection (FSM sample) on pipy-ok's inbound-http chain at 165. The
 * delay is 1 s instead of the doc's 5 s to keep the suite fast; the logic is the same.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { delaySeconds } from './index.js';
import { SEED_002, samplePluginScript, seedPluginConfig } from './test-support/scripts.js';
import { recordingApp, send, startWorld, type RecordingApp, type World } from './test-support/sidecar-harness.js';

describe('4.7 http-fault-injection', () => {
  let world: World;
  let app: RecordingApp;
  const sample = samplePluginScript('plugins-fault-injection.yaml');
  const plugin = () => ({ ...sample, chain: 'inbound-http' as const, apps: ['pipy-ok'] });
  const inbound = (method = 'GET', body?: string) => ({ method, path: '/', authority: 'pipy-ok.pipy:8080', local: { address: world.pods.v1.podIP, port: 8080 }, ...(body ? { body } : {}) });
  const runtimeWith = async (config: unknown) =>
    (await world.runtime('v1', world.resources([plugin()], config === undefined ? [] : [{ plugin: 'http-fault-injection', service: 'pipy/pipy-ok', config }]))).rt;
  const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const t0 = Date.now();
    const v = await f();
    return [v, (Date.now() - t0) / 1000];
  };

  before(async () => {
    world = await startWorld();
    app = await recordingApp(world.tracker, 'pipy-ok-v1', world.pods.v1.app, 8080);
  });
  after(() => world?.close());

  test('4.7.1 the seed config with a 1 s delay: each request is either 200 at once or 400 (content-length 0) after the delay', async () => {
    const seed = seedPluginConfig(SEED_002, 'http-fault-injection-config') as { delay: { fixedDelay: string } };
    assert.equal(seed.delay.fixedDelay, '5s');
    const rt = await runtimeWith({ ...seed, delay: { ...seed.delay, fixedDelay: '1s' } });
    const results = await Promise.all(Array.from({ length: 16 }, () => timed(() => send(rt, 'inbound', inbound()))));
    for (const [r, s] of results) {
      if (r.status === 200) assert.ok(s < 0.8, `a 200 was delayed ${s}s`);
      else {
        assert.equal(r.status, 400);
        assert.equal(r.headers['content-length'], '0');
        assert.ok(s >= 0.95, `a 400 came after ${s}s`);
      }
    }
    const statuses = new Set(results.map(([r]) => r.status));
    assert.deepEqual([...statuses].sort(), [200, 400], 'both outcomes occur over 16 requests');
  });

  test('4.7.1 percentage 1.0: every request is 400 after the delay', async () => {
    const rt = await runtimeWith({ delay: { percentage: { value: 1.0 }, fixedDelay: '1s' }, abort: { percentage: { value: 1.0 }, httpStatus: 400 } });
    const results = await Promise.all(Array.from({ length: 4 }, () => timed(() => send(rt, 'inbound', inbound()))));
    for (const [r, s] of results) {
      assert.equal(r.status, 400);
      assert.ok(s >= 0.95);
    }
  });

  test('4.7.2 delay 100%, no abort: a POST body reaches the upstream intact after the delay', async () => {
    const rt = await runtimeWith({ delay: { percentage: { value: 1 }, fixedDelay: '1s' } });
    const [r, s] = await timed(() => send(rt, 'inbound', inbound('POST', 'payload-123')));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'app pipy-ok-v1');
    assert.ok(s >= 0.95);
    assert.equal(app.requests.at(-1)!.body, 'payload-123');
  });

  test('4.7.3 abort 100% with 503: an immediate 503, the upstream is not contacted', async () => {
    const rt = await runtimeWith({ abort: { percentage: { value: 1 }, httpStatus: 503 } });
    const before = app.requests.length;
    const [r, s] = await timed(() => send(rt, 'inbound', inbound()));
    assert.equal(r.status, 503);
    assert.ok(s < 0.5);
    assert.equal(app.requests.length, before);
  });

  test('4.7.4 both percentages 0, or no PluginConfig: pass-through', async () => {
    for (const config of [{ delay: { percentage: { value: 0 }, fixedDelay: '1s' }, abort: { percentage: { value: 0 }, httpStatus: 400 } }, undefined]) {
      const [r, s] = await timed(async () => send(await runtimeWith(config), 'inbound', inbound()));
      assert.equal(r.status, 200);
      assert.ok(s < 0.8);
    }
  });

  test('4.7.5 delay strings parse as Pipy does: "5" is 5 s, 60 stays 60, "500ms" is 500 minutes', () => {
    assert.equal(delaySeconds('5'), 5);
    assert.equal(delaySeconds(60), 60);
    assert.equal(delaySeconds('1m'), 60);
    assert.equal(delaySeconds('500ms'), 30000);
    assert.equal(delaySeconds('2h'), 7200);
    assert.equal(delaySeconds('nonsense'), 0);
  });
});
